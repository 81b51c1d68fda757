"""Question analysis: normalised forms, intent, and the documents a question names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.metadata import known_places
from ingest.textnorm import fold, has_diacritics, nfc, repaired, search_tokens

INTENTS = ("lead", "coordination", "deadline", "amount", "meta", "target", "general")

_INTENT_PATTERNS = [
    ("meta", r"\b(so hieu|so van ban|ky hieu|ngay ban hanh|ban hanh ngay|ban hanh khi nao|ai ky|nguoi ky|ky ban hanh"
             r"|co quan ban hanh|ai ban hanh|do ai ban hanh|loai van ban|so bao nhieu|mang so|la so|ky ngay|do ai ky"
             r"|ky khi nao|ban hanh vao ngay|ngay ky|so va ngay|co so khong)\b"),
    ("amount", r"\b(bao nhieu tien|kinh phi bao nhieu|bao nhieu ty|ty dong|trieu dong|tong kinh phi|du toan"
               r"|phu cap|muc luong|tien luong|muc ho tro bao nhieu|muc chi)\b"),
    ("coordination", r"\b(phoi hop|phoi hop voi|co quan phoi hop|don vi phoi hop)\b"),
    ("lead", r"\b(chu tri|co quan nao|don vi nao|ai chiu trach nhiem|ai phu trach|giao cho ai|ai thuc hien"
             r"|phong nao|(?<!van )ban nao|chiu trach nhiem chinh|tham muu)\b"),
    ("deadline", r"\b(khi nao|thoi han|thoi gian hoan thanh|hoan thanh truoc|truoc ngay|den bao gio|han chot"
                 r"|bao gio|nam nao|thoi gian thuc hien|hoan thanh khi nao)\b"),
    ("target", r"\b(bao nhieu|ty le|chi tieu|dat muc|muc tieu .* dat|tuoi tho|bac si|phan tram)\b"),
]
_NUMBER_RE = re.compile(r"(\d{1,3})\s*-?\s*(ctr|kh|nq|ct)\s*/\s*([a-z]{1,4})")


_PERSON_RE = re.compile(r"\bai (?:la|dang la|giu chuc) (giam doc|chu tich|pho chu tich|bi thu|pho bi thu|truong phong"
                        r"|truong ban|truong tram|chanh van phong)\b")
_CURRENT_RE = re.compile(r"(?<!thuc )\b(hien nay|hien tai|hien co|dang co|dang lam viec)\b")
_YEAR_RE = re.compile(r"(?<![\d/.-])(20[2-9]\d)(?![\d/])")


@dataclass
class Query:
    text: str  # NFC
    folded: str  # fold(NFC), for pattern matching
    search: str  # OCR-repaired search tokens joined (abbreviations expanded), for lexical search
    accented: bool
    intents: tuple[str, ...]
    places: tuple[str, ...] = field(default_factory=tuple)  # folded place names named in the question
    numbers: tuple[str, ...] = field(default_factory=tuple)  # folded doc numbers ("07-kh/tu")
    years: tuple[str, ...] = field(default_factory=tuple)  # years named ("2030"), not inside a number/date
    person_title: str | None = None  # "giam doc" in "Ai là Giám đốc …?"
    asks_current: bool = False  # "hiện nay …" (plans state targets, not the current situation)
    asks_exact_date: bool = False  # "ngày tháng năm nào", "ngày nào"
    expanded: str = ""  # the question with abbreviations replaced by their long forms


def normalise_number(number: str) -> str:
    """Folded canonical form of a document number: "07-KH/TU" → "07-kh/tu"; "10-CTr/ĐU" → "10-ctr/du"."""
    m = _NUMBER_RE.search(fold(number))
    if not m:
        return fold(number)
    return f"{int(m.group(1)):02d}-{m.group(2)}/{m.group(3)}"


ABBREVIATIONS = {
    "bhyt": "bảo hiểm y tế", "bhxh": "bảo hiểm xã hội", "ubnd": "ủy ban nhân dân", "hdnd": "hội đồng nhân dân",
    "mttq": "mặt trận tổ quốc", "vhxh": "văn hóa xã hội", "tyt": "trạm y tế",
    "cssk": "chăm sóc sức khỏe", "csskbd": "chăm sóc sức khỏe ban đầu",
}


def expand_abbreviations(text: str) -> str:
    """Replace abbreviations by their long forms ("BHYT" → "bảo hiểm y tế"); length may change."""
    out = text
    for short, long in ABBREVIATIONS.items():
        out = re.sub(rf"(?i)\b{short}\b", long, out)
    return out


_TOKEN_RE = re.compile(r"[a-z]+|[0-9]+")


class PlaceMatcher:
    """Finds the known places (folded names) a folded question names.

    Trying one regex per place costs a few microseconds × every place: negligible for the gazetteer, but a
    corpus of thousands of communes makes it the slowest step of a question.  Places are indexed by their
    token sequence; a question's token n-grams select the few candidates, and the same boundary regex as
    before confirms each one (so "ba ria - vung tau" still needs its hyphen).
    """

    def __init__(self, places: dict[str, str]) -> None:
        self.places = dict(places)
        self._by_tokens: dict[tuple[str, ...], list[str]] = {}
        for p in self.places:
            toks = tuple(_TOKEN_RE.findall(p))
            if toks:
                self._by_tokens.setdefault(toks, []).append(p)
        self._longest = max((len(k) for k in self._by_tokens), default=1)

    def __len__(self) -> int:
        return len(self.places)

    def find(self, folded: str) -> tuple[str, ...]:
        """Places named in ``folded`` (longest first), without those inside a longer one found."""
        toks = _TOKEN_RE.findall(folded)
        candidates = {p for n in range(1, self._longest + 1) for i in range(len(toks) - n + 1)
                      for p in self._by_tokens.get(tuple(toks[i:i + n]), ())}
        found = sorted((p for p in candidates if re.search(rf"(?<![a-z]){re.escape(p)}(?![a-z])", folded)),
                       key=lambda p: (-len(p), p))
        # drop a place that is part of a longer one found ("thanh mien" inside "nam thanh mien")
        return tuple(p for p in found if not any(p != q and p in q for q in found))


_GAZETTEER: PlaceMatcher | None = None


def place_matcher(extra_places: dict[str, str] | None = None) -> PlaceMatcher:
    """The gazetteer's places plus ``extra_places`` (e.g. the localities of the indexed plans)."""
    global _GAZETTEER
    if extra_places:
        return PlaceMatcher({**known_places(), **extra_places})
    if _GAZETTEER is None:
        _GAZETTEER = PlaceMatcher(known_places())
    return _GAZETTEER


def analyse(question: str, places: PlaceMatcher | dict[str, str] | None = None) -> Query:
    """Normalise the question, detect intents, named places and document numbers.

    ``places``: a :class:`PlaceMatcher` built once by the caller (the retriever does), or extra places to add
    to the gazetteer for this call."""
    text = nfc(question).strip()
    folded = re.sub(r"\s+", " ", repaired(text))
    intents = tuple(name for name, pat in _INTENT_PATTERNS if re.search(pat, folded)) or ("general",)
    matcher = places if isinstance(places, PlaceMatcher) else place_matcher(places)
    found = matcher.find(folded)
    numbers = tuple(sorted({f"{int(m.group(1)):02d}-{m.group(2)}/{m.group(3)}" for m in _NUMBER_RE.finditer(folded)}))
    person = _PERSON_RE.search(folded)
    years = tuple(sorted(set(_YEAR_RE.findall(_NUMBER_RE.sub(" ", folded)))))
    expanded = expand_abbreviations(text)
    return Query(text=text, folded=folded, search=" ".join(search_tokens(expanded)), expanded=expanded,
                 accented=has_diacritics(text),
                 intents=intents, places=found, numbers=numbers, years=years,
                 person_title=person.group(1) if person else None,
                 asks_current=bool(_CURRENT_RE.search(folded)),
                 asks_exact_date=bool(re.search(r"\bngay (thang nam )?nao\b", folded)) and "meta" not in intents)
