"""Named acts a question cites by title ("theo Luật Cư trú", "Bộ luật Dân sự quy định …") → the indexed documents
of that act, for the scope stage.  Titles come from the indexed documents' own headings, never from a list here."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ingest.heading import is_named_act
from ingest.textnorm import fold


def _key(title: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", fold(title))).strip()


class TitleMatcher:
    """Folded act title → documents of that act; finds the titles a folded question names (longest first)."""

    def __init__(self, titled: Iterable[tuple[str, str]]) -> None:
        self.docs: dict[str, set[str]] = {}
        for doc_id, title in titled:
            key = _key(title)
            if key:
                self.docs.setdefault(key, set()).add(doc_id)
        keys = sorted(self.docs, key=len, reverse=True)
        self._re = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, keys)) + r")(?!\w)") if keys else None

    def find(self, question: str) -> list[str]:
        """Titles named in ``question`` (any case and accents), each once, in order of appearance."""
        if self._re is None:
            return []
        found = [m.group(1) for m in self._re.finditer(_key(question))]
        return list(dict.fromkeys(found))

    def named_docs(self, question: str) -> set[str]:
        """Every document of every act the question names."""
        return {d for key in self.find(question) for d in self.docs[key]}


def title_matcher(documents: Iterable) -> TitleMatcher:
    """The matcher over the named acts among ``documents`` (records with ``doc_id`` and ``meta.doc_type``)."""
    return TitleMatcher((d.doc_id, d.meta.doc_type) for d in documents if is_named_act(d.meta.doc_type))
