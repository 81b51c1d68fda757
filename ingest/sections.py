"""Section hierarchy of a plan: Roman parts, "Điều" articles, numbered items, sub-items, a)/b) points,
"* Phân công thực hiện" assignments, PHỤ LỤC appendices, a plan issued after its Quyết định, and the
closing block.

Lines are read as real files carry them: Markdown/HTML emphasis is ignored ("**I. MỤC\nĐÍCH, YÊU CẦU**"
is one heading, wrapped over two lines; "**1.****" then "**Trên cơ sở…" is item 1), lone "|" cells
and rules are skipped, and only the document itself is parsed (:func:`ingest.layout.document_span`
leaves out a site's banner and trailing lists).  Headings are recognised on the folded form of each
line, OCR-repaired for OCR documents, so "II1. NHIEM VU, GIAI PHAP" and "IV- TO CHUC THU'C HIEN" parse
like their clean counterparts, and the canonical part titles are restored ("IV. TỔ CHỨC THỰC HIỆN").
Bullets ("-", "+") are list items inside a section, not sections (the chunker splits on them).
Every offset is an offset into the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ingest import layout
from ingest.metadata import TYPE_NAMES
from ingest.records import Section
from ingest.textnorm import is_ocr_text, repaired

PREAMBLE = "Phần mở đầu"
ASSIGNMENT = "Phân công thực hiện"
CLOSING = "Phần kết"
RECIPIENTS = "Nơi nhận"
LABEL_MAX = 60

_CANONICAL_PARTS = {
    "muc dich, yeu cau": "MỤC ĐÍCH, YÊU CẦU",
    "muc dich yeu cau": "MỤC ĐÍCH, YÊU CẦU",
    "muc tieu": "MỤC TIÊU",
    "nhiem vu, giai phap": "NHIỆM VỤ, GIẢI PHÁP",
    "nhiem vu va giai phap": "NHIỆM VỤ VÀ GIẢI PHÁP",
    "nhiem vu, giai phap chu yeu": "NHIỆM VỤ, GIẢI PHÁP CHỦ YẾU",
    "to chuc thuc hien": "TỔ CHỨC THỰC HIỆN",
    "kinh phi thuc hien": "KINH PHÍ THỰC HIỆN",
    "kinh phi": "KINH PHÍ",
}
_ROMAN_RE = re.compile(r"^(I{1,3}|IV|VI{0,3}|IX|X|II1|IIl|Il1|I1I|Il|I1)\s*[.\-–]\s*([^\W\d_].*)$")
_ITEM_RE = re.compile(r"^(\d{1,2})\s*\.\s*([^\W\d_\s].*)$")
_APPX_PART_RE = re.compile(r"^(\d{1,2})\s*-\s+([^\W\d_].*)$")
_SUBITEM_RE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.?\s+(\S.*)$")
_ASSIGN_RE = re.compile(r"^\*\s*ph\w{0,3}n\s+c\w{0,3}ng\b")
_APPENDIX_RE = re.compile(r"^\W{0,3}(?:phu l\w{1,2}c|phu lye)\b\s*(\d+|[ivx]{1,4}\b)?")
_ARTICLE_RE = re.compile(r"^(?:Điều|ĐIỀU|Dieu|DIEU)\s+(\d{1,3})\s*[.:]?\s*(.*)$")
_POINT_RE = re.compile(r"^([a-zđ])\s*\)\s*(\S.*)$")
_NUMBER_ONLY_RE = re.compile(r"^(\d{1,2}(?:\.\d{1,2})?)\s*\.$")
_PLAIN_ASSIGN_RE = re.compile(r"^ph\w{0,3}n\s+c\w{0,3}ng(?:\s+th\w{1,3}c\s+hi\w{1,3}n|\s+nhi\w{1,3}m\s+v\w)?\s*:?$")
_BULLET_RE = re.compile(r"^\s*[-+*•–]")


@dataclass(frozen=True)
class Heading:
    start: int  # offset of the heading line
    level: int
    label: str
    kind: str
    title: str


@dataclass
class _Line:
    start: int  # offset of the line's first non-blank character
    raw: str  # as printed (stripped)
    text: str  # emphasis removed, wrapped bold heading joined
    rep: str  # folded (OCR-repaired for OCR documents) form of ``text``
    bold: bool  # the line opened with emphasis


def _lines(text: str, start: int, end: int, ocr: bool) -> list[_Line]:
    """The document's non-filler lines with their marks removed and wrapped bold headings joined."""
    return [_Line(pos, raw, clean, repaired(clean, ocr), bold)
            for pos, raw, clean, bold in layout.logical_lines(text, start, end)]


def _short_label(num: str, title: str) -> str:
    title = re.sub(r"\s+", " ", title).strip()
    if len(title) > LABEL_MAX:
        title = title[:LABEL_MAX].rsplit(" ", 1)[0] + "…"
    return f"{num}. {title}"


def _roman(numeral: str) -> str:
    return numeral.replace("1", "I").replace("l", "I")


def _part_label(numeral: str, title: str) -> str:
    key = re.sub(r"[^a-z, ]", "", repaired(title)).strip(" ,")
    key = re.sub(r"\s+", " ", key)
    return f"{_roman(numeral)}. {_CANONICAL_PARTS.get(key, title.strip())}"


def _continues(lines: list[_Line], i: int) -> bool:
    """The heading line is a hard-wrapped paragraph: the next line goes on in lower case."""
    if i + 1 >= len(lines):
        return False
    nxt = lines[i + 1].text
    return nxt[:1].islower() and not _POINT_RE.match(nxt)


def _item_heading(lines: list[_Line], i: int, num: str, first: str) -> tuple[str, str]:
    """Label and title of a numbered item: a short heading keeps its title, a paragraph only its number."""
    title_parts = [first]
    for ln in lines[i + 1: i + 5]:
        s = ln.text
        if (_ROMAN_RE.match(s) or _ITEM_RE.match(s) or ln.rep.startswith(("tren day", "noi nhan", "phu l"))
                or lines[i].bold):
            break
        if (_BULLET_RE.match(ln.raw) or _SUBITEM_RE.match(s) or _POINT_RE.match(s)
                or _ASSIGN_RE.match(repaired(ln.raw))):
            return _short_label(num, " ".join(title_parts)), " ".join(title_parts)
        if len(title_parts) >= 3:
            break
        title_parts.append(s)
    if len(first) <= 45 and not first.rstrip().endswith((".", ";", ",", ":")) and not _continues(lines, i):
        return _short_label(num, first), first
    return num, first


@dataclass
class _State:
    in_appendix: bool = False
    in_closing: bool = False
    seen_closing: bool = False
    depth: int = 1  # level of the last heading
    structural: int = 1  # level of the last part/article/item/subitem


def find_headings(text: str) -> list[Heading]:
    """Every heading of the document, in order, with its level in the hierarchy."""
    return list(_headings(text))


@lru_cache(maxsize=8)
def _headings(text: str) -> tuple[Heading, ...]:
    ocr = is_ocr_text(text)
    start, end = layout.document_span(text)
    lines = _lines(text, start, end, ocr)
    out = [Heading(start, 1, PREAMBLE, "preamble", PREAMBLE)]
    st = _State()
    for i, ln in enumerate(lines):
        h = _classify(lines, i, ln, st)
        if h is None:
            continue
        if h.kind in ("appendix", "document"):
            st.in_appendix, st.in_closing = h.kind == "appendix", False
        elif h.kind == "closing":
            st.in_closing = st.seen_closing = True
        out.append(h)
        st.depth = h.level
        if h.kind in ("part", "article", "item", "subitem", "appendix", "document"):
            st.structural = h.level
    return tuple(out)


def _attached_document(ln: _Line, st: _State) -> Heading | None:
    """After a Quyết định's closing, the type heading of the plan it issues ("KẾ HOẠCH") opens it."""
    key = re.sub(r"\s+", " ", ln.rep).strip(" .")
    if st.seen_closing and key in TYPE_NAMES and ln.text.upper() == ln.text:
        return Heading(ln.start, 1, ln.text.strip(" ."), "document", ln.text)
    return None


def _classify(lines: list[_Line], i: int, ln: _Line, st: _State) -> Heading | None:
    s, rep, start = ln.text, ln.rep, ln.start
    m = _APPENDIX_RE.match(rep)
    if m and len(s) < 80 and (s.upper() == s or ln.bold or not re.sub(r"[\W_]", "", rep[m.end():])):
        label = f"PHỤ LỤC {(m.group(1) or '').upper()}".strip()
        return Heading(start, 1, label, "appendix", s)
    doc = _attached_document(ln, st)
    if doc is not None:
        return doc
    if not st.in_appendix and rep.startswith(("noi nhan",)):
        return Heading(start, 1, RECIPIENTS, "closing", s)
    if not st.in_appendix and rep.startswith("tren day la") and not st.in_closing:
        return Heading(start, 1, CLOSING, "closing", s)
    if st.in_closing:
        return None
    return _numbered(lines, i, ln, st)


def _numbered(lines: list[_Line], i: int, ln: _Line, st: _State) -> Heading | None:
    s, start = ln.text, ln.start
    m = _ROMAN_RE.match(s)
    if m:
        if st.in_appendix:
            return Heading(start, 2, _short_label(_roman(m.group(1)), m.group(2)), "part", s)
        return Heading(start, 1, _part_label(m.group(1), m.group(2)), "part", s)
    m = _ARTICLE_RE.match(s)
    if m and not st.in_appendix:
        return Heading(start, 1, f"Điều {m.group(1)}", "article", s)
    if _ASSIGN_RE.match(repaired(ln.raw)) or (len(s) <= 30 and _PLAIN_ASSIGN_RE.match(ln.rep)):
        return Heading(start, min(st.depth + 1, 4), ASSIGNMENT, "assignment", s)
    m = _NUMBER_ONLY_RE.match(s)
    if m and ln.bold and i + 1 < len(lines):  # "**1.****" then "**Trên cơ sở…": the title is on the next line
        s = f"{m.group(1)}. {lines[i + 1].text}"
    m = _SUBITEM_RE.match(s)
    if m and not st.in_appendix:
        label = _short_label(f"{m.group(1)}.{m.group(2)}", m.group(3))
        return Heading(start, 3, label, "subitem", s)
    m = _ITEM_RE.match(s) or (_APPX_PART_RE.match(s) if st.in_appendix else None)
    if m:
        if st.in_appendix:
            return Heading(start, 2, _short_label(m.group(1), m.group(2)), "part", s)
        label, title = _item_heading(lines, i, m.group(1), m.group(2))
        return Heading(start, 2, label, "item", title)
    m = _POINT_RE.match(s)
    if m and not st.in_appendix and st.structural >= 2:
        label = f"{m.group(1)})" if _continues(lines, i) else _point_label(m.group(1), m.group(2))
        return Heading(start, min(st.structural + 1, 4), label, "point", s)
    return None


def _point_label(letter: str, title: str) -> str:
    title = re.sub(r"\s+", " ", title).strip()
    if len(title) <= 45 and not title.endswith((".", ";", ",", ":")):
        return f"{letter}) {title}"
    return f"{letter})"


def build_sections(doc_id: str, text: str, headings: list[Heading]) -> list[Section]:
    """Sections with their breadcrumb path and the span each governs (children included).

    One pass with a stack: a section ends where the next heading of its level or higher starts,
    or at the end of the document (site chrome after it is left out).  Linear in the headings.
    """
    doc_end = layout.document_span(text)[1]
    ends = [doc_end] * len(headings)
    open_: list[int] = []
    for idx, h in enumerate(headings):
        while open_ and headings[open_[-1]].level >= h.level:
            ends[open_.pop()] = h.start
        open_.append(idx)
    sections: list[Section] = []
    stack: list[Heading] = []
    for idx, h in enumerate(headings):
        while stack and stack[-1].level >= h.level:
            stack.pop()
        stack.append(h)
        path = tuple(x.label for x in stack)
        sections.append(Section(doc_id, path, h.title.strip(), h.kind, h.start, max(ends[idx], h.start)))
    return sections


def leaf_segments(text: str, headings: list[Heading], sections: list[Section]) -> list[tuple[Section, int, int]]:
    """Contiguous spans from one heading to the next, each owned by the deepest section."""
    doc_end = max((s.end for s in sections), default=len(text))
    out = []
    for idx, sec in enumerate(sections):
        end = headings[idx + 1].start if idx + 1 < len(headings) else doc_end
        out.append((sec, sec.start, end))
    return out
