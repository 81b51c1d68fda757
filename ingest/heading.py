"""The identity line of a document that is not a plan: a statute article's heading ("Luật Cư trú – Điều 32")."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A named act (Hiến pháp, Bộ luật …, Luật …, Pháp lệnh …) followed by a dash and its article number.
_ACT = r"(?:Hiến pháp|Bộ luật|Luật|Pháp lệnh)"
_HEADING_RE = re.compile(rf"^\s*({_ACT}(?:\s+[^\n–—]+?)?)\s+[–—-]\s+Điều\s+(\d+[a-zđ]?)\s*$", re.IGNORECASE)
_NAMED_ACT_RE = re.compile(rf"^{_ACT}\b", re.IGNORECASE)


@dataclass(frozen=True)
class ArticleHeading:
    act: str  # "Luật Cư trú", as printed
    article: str  # "32"

    @property
    def line(self) -> str:
        return f"{self.act} – Điều {self.article}"


def article_heading(text: str) -> ArticleHeading | None:
    """The heading of a statute article when the text's first non-blank line is one, else None."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    m = _HEADING_RE.match(first)
    if not m:
        return None
    return ArticleHeading(re.sub(r"\s+", " ", m.group(1)).strip(), m.group(2))


def is_named_act(doc_type: str | None) -> bool:
    """Whether a document type is the name of an act ("Luật Cư trú"), not a plain type word ("Kế hoạch")."""
    return bool(doc_type and _NAMED_ACT_RE.match(doc_type) and " " in doc_type.strip())
