"""Question analysis: normalised forms, intent, and the documents a question names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.metadata import known_places, repaired
from ingest.textnorm import fold, has_diacritics, nfc, search_tokens

INTENTS = ("lead", "coordination", "deadline", "amount", "meta", "target", "general")

_INTENT_PATTERNS = [
    ("meta", r"\b(so hieu|so van ban|ky hieu|ngay ban hanh|ban hanh ngay|ban hanh khi nao|ai ky|nguoi ky|ky ban hanh"
             r"|co quan ban hanh|ai ban hanh|do ai ban hanh|loai van ban|so bao nhieu|mang so|la so)\b"),
    ("amount", r"\b(bao nhieu tien|kinh phi bao nhieu|bao nhieu ty|ty dong|trieu dong|tong kinh phi|du toan)\b"),
    ("coordination", r"\b(phoi hop|phoi hop voi|co quan phoi hop|don vi phoi hop)\b"),
    ("lead", r"\b(chu tri|co quan nao|don vi nao|ai chiu trach nhiem|ai phu trach|giao cho ai|ai thuc hien"
             r"|phong nao|ban nao|chiu trach nhiem chinh|tham muu)\b"),
    ("deadline", r"\b(khi nao|thoi han|thoi gian hoan thanh|hoan thanh truoc|truoc ngay|den bao gio|han chot"
                 r"|bao gio|nam nao|thoi gian thuc hien|hoan thanh khi nao)\b"),
    ("target", r"\b(bao nhieu|ty le|chi tieu|dat muc|muc tieu .* dat|tuoi tho|bac si|phan tram)\b"),
]
_NUMBER_RE = re.compile(r"(\d{1,3})\s*-?\s*(ctr|kh|nq|ct)\s*/\s*([a-z]{1,4})")


@dataclass
class Query:
    text: str  # NFC
    folded: str  # fold(NFC), for pattern matching
    search: str  # OCR-repaired search tokens joined, for lexical search
    accented: bool
    intents: tuple[str, ...]
    places: tuple[str, ...] = field(default_factory=tuple)  # folded place names named in the question
    numbers: tuple[str, ...] = field(default_factory=tuple)  # folded doc numbers ("07-kh/tu")


def normalise_number(number: str) -> str:
    """Folded canonical form of a document number: "07-KH/TU" → "07-kh/tu"; "10-CTr/ĐU" → "10-ctr/du"."""
    m = _NUMBER_RE.search(fold(number))
    if not m:
        return fold(number)
    return f"{int(m.group(1)):02d}-{m.group(2)}/{m.group(3)}"


def analyse(question: str, extra_places: dict[str, str] | None = None) -> Query:
    """Normalise the question, detect intents, named places and document numbers."""
    text = nfc(question).strip()
    folded = re.sub(r"\s+", " ", repaired(text))
    intents = tuple(name for name, pat in _INTENT_PATTERNS if re.search(pat, folded)) or ("general",)
    places = {**known_places(), **(extra_places or {})}
    found = tuple(sorted({p for p in places if re.search(rf"(?<![a-z]){re.escape(p)}(?![a-z])", folded)},
                         key=len, reverse=True))
    # drop a place that is part of a longer one found ("thanh mien" inside "nam thanh mien")
    found = tuple(p for p in found if not any(p != q and p in q for q in found))
    numbers = tuple(sorted({f"{int(m.group(1)):02d}-{m.group(2)}/{m.group(3)}" for m in _NUMBER_RE.finditer(folded)}))
    return Query(text=text, folded=folded, search=" ".join(search_tokens(text)), accented=has_diacritics(text),
                 intents=intents, places=found, numbers=numbers)
