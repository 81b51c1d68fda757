"""Question analysis: normalised forms, intent, and the documents a question names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest import docnumber
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
# a number right after these words is what the asked plan implements ("chương trình … thực hiện Nghị quyết số
# 72-NQ/TW"), not the asked document itself
_IMPLEMENTS_RE = re.compile(r"\b(thuc hien|trien khai|quan triet|cu the hoa|thi hanh|can cu)\b[^.?!;]{0,30}$")


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
    numbers: tuple[str, ...] = field(default_factory=tuple)  # keys of document numbers named ("7-kh/tu")
    cited: tuple[str, ...] = field(default_factory=tuple)  # keys of numbers named as what a plan implements
    partial: tuple[docnumber.Mention, ...] = field(default_factory=tuple)  # "kế hoạch 165": type + serial only
    typed: dict[str, str] = field(default_factory=dict)  # number key → as the user typed it
    years: tuple[str, ...] = field(default_factory=tuple)  # years named ("2030"), not inside a number/date
    person_title: str | None = None  # "giam doc" in "Ai là Giám đốc …?"
    asks_current: bool = False  # "hiện nay …" (plans state targets, not the current situation)
    asks_exact_date: bool = False  # "ngày tháng năm nào", "ngày nào"
    expanded: str = ""  # the question with abbreviations replaced by their long forms


def normalise_number(number: str) -> str:
    """Key of a document number, to compare: "07-KH/TU" → "7-kh/tu"; "0130/KH-UBND" → "130/kh-ubnd"."""
    n = docnumber.parse(number)
    return n.key if n else fold(number)


@dataclass(frozen=True)
class _Numbers:
    numbers: tuple[str, ...]
    cited: tuple[str, ...]
    partial: tuple[docnumber.Mention, ...]
    typed: dict[str, str]
    spans: tuple[tuple[int, int], ...]


def _numbers(text: str) -> _Numbers:
    """Document numbers in a question (one grammar: :mod:`ingest.docnumber`), split into the documents asked
    about and those named as what a plan implements."""
    folded = fold(text)
    asked, cited, partial, typed, spans = set(), set(), [], {}, []
    for m in docnumber.find_mentions(text):
        spans.append((m.start, m.end))
        implements = bool(_IMPLEMENTS_RE.search(folded[max(0, m.start - 60):m.start]))
        if m.number is None:
            if not implements:
                partial.append(m)
            continue
        (cited if implements else asked).add(m.number.key)
        typed.setdefault(m.number.key, text[m.start:m.end])
    return _Numbers(tuple(sorted(asked)), tuple(sorted(cited - asked)), tuple(partial), typed, tuple(spans))


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
    nums = _numbers(text)
    person = _PERSON_RE.search(folded)
    years = tuple(sorted(set(_YEAR_RE.findall(_blank(fold(text), nums.spans)))))
    expanded = expand_abbreviations(text)
    return Query(text=text, folded=folded, search=" ".join(search_tokens(expanded)), expanded=expanded,
                 accented=has_diacritics(text),
                 intents=intents, places=found, numbers=nums.numbers, cited=nums.cited, partial=nums.partial,
                 typed=nums.typed, years=years,
                 person_title=person.group(1) if person else None,
                 asks_current=bool(_CURRENT_RE.search(folded)),
                 asks_exact_date=bool(re.search(r"\bngay (thang nam )?nao\b", folded)) and "meta" not in intents)


def _blank(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    """``text`` with the characters of ``spans`` replaced by spaces (a number's year is not an asked year)."""
    chars = list(text)
    for a, b in spans:
        chars[a:b] = " " * (b - a)
    return "".join(chars)
