"""The number grammar of Vietnamese administrative and party documents (one module owns it).

Two layouts exist, both "số / ký hiệu":

* state documents (Nghị định 30/2020/NĐ-CP, Phụ lục I): ``serial[/year]/KIND-ISSUER[-UNIT]`` —
  "165/KH-UBND", "0130/KH-UBND", "2530/QĐ-TTg", "282/NQ-CP", "55/2023/NĐ-CP" (legal normative
  documents carry the year), "55/2014/QH13" (a law), "123/UBND-VX" (a công văn has no kind);
* party documents (Hướng dẫn 36-HD/VPTW): ``serial-KIND/ISSUER`` — "07-KH/TU", "12-CTr/ĐU",
  "15-HD/ĐU", "72-NQ/TW".

Matching is done on the folded text (:func:`ingest.textnorm.fold` is length-preserving, so a match
gives offsets into the printed text).  OCR variants are handled by general confusions, not by the
shape of one header: "Số" read as "S6", "So", "Sé", "$6", "S&" (see :data:`_SO_RE`), a leading "Đ"
read as "P" ("PU" = ĐU), digits read as letters inside the serial ("1O5"), spaces around "-" and "/".

Public API (used by :mod:`ingest.metadata` and by the retriever's query analysis):

* :class:`DocNumber` — parsed number; ``str(n)`` is the canonical form, ``n.key`` the form to compare.
* :func:`parse` — one number from a string ("Số: 165/KH-UBND", "S610 - CTr/TU") or ``None``.
* :func:`find_numbers` — every number printed in a text, with spans.
* :func:`normalise` — canonical string of a printed number (or the input collapsed when it is none).
* :func:`find_mentions` — number mentions in a free question: full numbers ("KH 165/KH-UBND") and a
  type word or abbreviation with a serial ("kế hoạch 165", "ke hoach so 07", "QĐ 2954").
* :func:`type_of_kind` — the document type a kind abbreviation stands for ("KH" → "Kế hoạch").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.textnorm import fold, nfc, repair_token

# Kind abbreviations (tên loại) of NĐ 30/2020 Phụ lục III and HD 36-HD/VPTW, folded → canonical.
KINDS: dict[str, str] = {
    "nq": "NQ", "qd": "QĐ", "ct": "CT", "ctr": "CTr", "kh": "KH", "hd": "HD", "tb": "TB", "bc": "BC",
    "da": "ĐA", "pa": "PA", "nd": "NĐ", "tt": "TT", "kl": "KL", "qc": "QC", "qyd": "QyĐ", "ttr": "TTr",
    "bb": "BB", "cv": "CV", "gm": "GM", "tc": "TC", "cd": "CĐ", "ttlt": "TTLT", "dt": "ĐT",
}
# Document type each kind stands for (what a header's type line prints).
TYPE_OF_KIND: dict[str, str] = {
    "KH": "Kế hoạch", "CTr": "Chương trình hành động", "QĐ": "Quyết định", "NQ": "Nghị quyết",
    "CT": "Chỉ thị", "HD": "Hướng dẫn", "ĐA": "Đề án", "TB": "Thông báo", "BC": "Báo cáo",
    "NĐ": "Nghị định", "TT": "Thông tư", "KL": "Kết luận", "PA": "Phương án", "TTr": "Tờ trình",
    "CV": "Công văn", "QC": "Quy chế", "QyĐ": "Quy định",
}
# Issuer codes whose canonical spelling is not plain upper case.
_CODES: dict[str, str] = {"ttg": "TTg", "du": "ĐU", "hdnd": "HĐND", "dtn": "ĐTN", "bcd": "BCĐ"}
# Words (folded) a question uses for a type, longest first, → kind.
_TYPE_WORDS: tuple[tuple[str, str | None], ...] = (
    ("chuong trinh hanh dong", "CTr"), ("chuong trinh", "CTr"), ("ke hoach", "KH"), ("quyet dinh", "QĐ"),
    ("nghi quyet", "NQ"), ("chi thi", "CT"), ("huong dan", "HD"), ("de an", "ĐA"), ("thong bao", "TB"),
    ("bao cao", "BC"), ("nghi dinh", "NĐ"), ("thong tu", "TT"), ("cong van", "CV"), ("ket luan", "KL"),
    ("van ban", None),
)

TYPE_WORDS = frozenset(w for w, _ in _TYPE_WORDS) | {"luat"}

_DASH = r"\s*[-–—‐~]\s*"
_SERIAL = r"(?P<serial>\d[\dol]{0,5}|[ol]\d[\dol]{0,4})"
_STATE_RE = re.compile(
    r"(?<![\w/.-])" + _SERIAL + r"\s*/\s*(?:(?P<year>(?:19|20)\d\d)\s*/\s*)?"
    r"(?P<a>[a-z]{1,6}\d{0,2})(?:" + _DASH + r"(?P<b>[a-z]{1,8}\d{0,2}))?(?:" + _DASH + r"(?P<c>[a-z]{1,8}\d{0,2}))?"
    r"(?![\w/])"
)
_PARTY_RE = re.compile(
    r"(?<![\w/.-])" + _SERIAL + _DASH + r"(?P<kind>[a-z]{1,5})\s*/\s*(?P<code>[a-z]{1,8}\d{0,2})(?![\w/])"
)
# "Số" and its OCR readings, then an optional colon; the serial may be glued ("S610" = "Số 10").
_SO_RE = re.compile(r"(?<![a-z])s[o0e6]\b\s*:?\s*|(?<![a-z])s[06e](?=\d)")
_TYPE_WORD_RE = re.compile(
    r"(?<![a-z])(?P<type>" + "|".join(w for w, _ in _TYPE_WORDS) + "|" + "|".join(sorted(KINDS, key=len, reverse=True))
    + r")\s*(?P<so>so\b)?\s*:?\s*(?P<serial>\d{1,5})(?![\d,.]?\d)(?!\s*[-/]\s*\w)"
)


@dataclass(frozen=True)
class DocNumber:
    """A document number: serial as printed ("0130"), kind ("KH", None for a công văn), issuer code."""

    serial: str
    kind: str | None
    code: str
    year: str | None = None
    style: str = "state"  # "state" (165/KH-UBND) | "party" (07-KH/TU)

    def __str__(self) -> str:
        if self.style == "party":
            return f"{self.serial}-{self.kind}/{self.code}"
        head = f"{self.serial}/{self.year}" if self.year else self.serial
        return f"{head}/{self.kind}-{self.code}" if self.kind else f"{head}/{self.code}"

    @property
    def key(self) -> str:
        """Folded form with the serial's leading zeros dropped: "0130/KH-UBND" → "130/kh-ubnd"."""
        return fold(str(DocNumber(str(int(self.serial)), self.kind, self.code, self.year, self.style)))

    @property
    def doc_type(self) -> str | None:
        """The type the kind stands for ("Kế hoạch"); a law ("…/QH13") is "Luật"."""
        if self.kind is None and re.fullmatch(r"QH\d+", self.code):
            return "Luật"
        return TYPE_OF_KIND.get(self.kind or "CV")


@dataclass(frozen=True)
class Mention:
    """A document number named in a question: a full number, or a type/kind with a serial."""

    serial: str
    kind: str | None  # "KH" from "kế hoạch 165"; None for "văn bản số 165"
    number: DocNumber | None  # set when the question prints the whole number
    start: int
    end: int

    def matches(self, number: DocNumber | None, kinds: tuple[str, ...] = ()) -> bool:
        """True when ``number`` (a document's, whose types' kinds are ``kinds``) is the one meant."""
        if number is None:
            return False
        if self.number is not None:
            return self.number.key == number.key
        if int(self.serial) != int(number.serial):
            return False
        return self.kind is None or self.kind == number.kind or self.kind in kinds


def _serial(raw: str) -> str:
    return raw.replace("o", "0").replace("l", "1")


def _kind(folded: str) -> str | None:
    return KINDS.get(repair_token(folded))


def _code(folded: str, printed: str) -> str:
    if re.fullmatch(r"[a-z]+\d+", folded):
        return printed.upper()  # "QH13": a legislature's term, not OCR digits
    rep = repair_token(folded)
    if rep in _CODES:
        return _CODES[rep]
    if rep == folded and printed.upper() == printed and fold(printed) == folded:
        return printed  # keep "Đ" where it was printed
    return rep.upper()


def _from_state(m: re.Match[str], text: str) -> DocNumber | None:
    a, b, c = m.group("a"), m.group("b"), m.group("c")
    pa = text[m.start("a"):m.end("a")]
    if b is None and m.group("year") is None and not re.fullmatch(r"[a-z]+\d+", a):
        return None
    kind = _kind(a) if b is not None else None
    parts = [x for x in ((a, m.start("a"), m.end("a")), (b, m.start("b"), m.end("b")),
                         (c, m.start("c"), m.end("c"))) if x[0]]
    if kind:
        parts = parts[1:]
    elif b is not None and not re.fullmatch(r"[a-z]+", a):
        return None
    code = "-".join(_code(p, text[s:e]) for p, s, e in parts) if parts else _code(a, pa)
    return DocNumber(_serial(m.group("serial")), kind, code, m.group("year"), "state")


def _from_party(m: re.Match[str], text: str) -> DocNumber | None:
    kind = _kind(m.group("kind"))
    if kind is None:
        return None
    code = _code(m.group("code"), text[m.start("code"):m.end("code")])
    return DocNumber(_serial(m.group("serial")), kind, code, None, "party")


def find_numbers(text: str) -> list[tuple[DocNumber, int, int]]:
    """Every document number printed in ``text``, in order, with its span (valid in ``text``)."""
    folded = fold(text)
    found: list[tuple[DocNumber, int, int]] = []
    taken: list[tuple[int, int]] = []
    for regex, build in ((_PARTY_RE, _from_party), (_STATE_RE, _from_state)):
        for m in regex.finditer(folded):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            n = build(m, text)
            if n is not None:
                found.append((n, m.start(), m.end()))
                taken.append((m.start(), m.end()))
    return sorted(found, key=lambda x: x[1])


def parse(text: str) -> DocNumber | None:
    """The first number in ``text`` ("Số: 165/KH-UBND" → 165/KH-UBND), or ``None``."""
    found = find_numbers(text)
    return found[0][0] if found else None


def header_number(line: str) -> tuple[DocNumber, int, int] | None:
    """The number after "Số" (or an OCR reading of it) on a header line, with the span from "Số"."""
    folded = fold(line)
    for so in _SO_RE.finditer(folded):
        rest = line[so.end():]
        found = find_numbers(rest)
        if found and not rest[: found[0][1]].strip():
            n, _, e = found[0]
            return n, so.start(), so.end() + e
    return None


def normalise(number: str) -> str:
    """Canonical form of a printed number ("07 -KH/TU" → "07-KH/TU"); the input collapsed if none."""
    n = parse(number)
    return str(n) if n else re.sub(r"\s+", " ", number).strip()


def type_of_kind(kind: str | None) -> str | None:
    """Document type of a kind abbreviation: "KH" → "Kế hoạch", "CTr" → "Chương trình hành động"."""
    return TYPE_OF_KIND.get(kind) if kind else None


def _type_word_kind(word: str) -> str | None:
    for w, kind in _TYPE_WORDS:
        if w == word:
            return kind
    return KINDS.get(word)


def find_mentions(question: str) -> list[Mention]:
    """Document numbers a question names: "KH 165/KH-UBND", "kế hoạch 165", "ke hoach so 07", "QĐ 2954".

    A bare type word followed by a year ("kế hoạch 2026") is not a mention unless "số" is written.
    """
    q = nfc(question or "")
    out: list[Mention] = []
    for n, s, e in find_numbers(q):
        out.append(Mention(n.serial, n.kind, n, s, e))
    folded = fold(q)
    for m in _TYPE_WORD_RE.finditer(folded):
        if any(x.start <= m.start("serial") < x.end for x in out):
            continue
        serial, word = m.group("serial"), q[m.start("type"):m.end("type")]
        if m.group("type") in KINDS and not word.isupper():
            continue  # an abbreviation counts only as printed ("QĐ 2954"), not the word "đã"
        if not m.group("so") and re.fullmatch(r"(19|20)\d\d", serial):
            continue
        out.append(Mention(serial, _type_word_kind(m.group("type")), None, m.start(), m.end()))
    return sorted(out, key=lambda x: x.start)
