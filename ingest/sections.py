"""Section hierarchy of a plan: Roman parts, numbered items, sub-items,
"* Phân công thực hiện" assignments, PHỤ LỤC appendices and the closing block.

Headings are recognised on the OCR-repaired folded form of each line, so
"II1. NHIEM VU, GIAI PHAP" and "IV- TO CHUC THU'C HIEN" parse like their clean
counterparts, and the canonical part titles are restored ("IV. TỔ CHỨC THỰC HIỆN").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.records import Section
from ingest.textnorm import repaired

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
_APPENDIX_RE = re.compile(r"^\W{0,3}(?:phu l\w{1,2}c|phu lye)\b\s*(\d*)")
_BULLET_RE = re.compile(r"^\s*[-+*•–]")


@dataclass(frozen=True)
class Heading:
    start: int  # offset of the heading line
    level: int
    label: str
    kind: str
    title: str


def _lines(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        out.append((pos, line.rstrip("\r\n")))
        pos += len(line)
    return out


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


def _item_heading(lines: list[tuple[int, str]], i: int, num: str, first: str) -> tuple[str, str]:
    """Label and title of a numbered item: a short heading keeps its title, a paragraph only its number."""
    title_parts = [first]
    following = [ln.strip() for _, ln in lines[i + 1: i + 12] if ln.strip()][:4]
    for s in following:
        if _ROMAN_RE.match(s) or _ITEM_RE.match(s) or repaired(s).startswith(("tren day", "noi nhan", "phu l")):
            break
        if _BULLET_RE.match(s) or _SUBITEM_RE.match(s) or _ASSIGN_RE.match(repaired(s)):
            return _short_label(num, " ".join(title_parts)), " ".join(title_parts)
        if len(title_parts) >= 3:
            break
        title_parts.append(s)
    if len(first) <= 45 and not first.rstrip().endswith((".", ";", ",", ":")):
        return _short_label(num, first), first
    return num, first


def find_headings(text: str) -> list[Heading]:
    """Every heading of the plan, in order, with its level in the hierarchy."""
    lines = _lines(text)
    out = [Heading(0, 1, PREAMBLE, "preamble", PREAMBLE)]
    in_appendix = in_closing = False
    depth = 1
    for i, (pos, line) in enumerate(lines):
        s = line.strip()
        if not s:
            continue
        rep = repaired(s)
        start = pos + (len(line) - len(line.lstrip()))
        h = _classify(lines, i, s, rep, start, in_appendix, in_closing, depth)
        if h is None:
            continue
        if h.kind == "appendix":
            in_appendix, in_closing = True, False
        elif h.kind == "closing":
            in_closing = True
        out.append(h)
        depth = h.level
    return out


def _classify(lines, i, s, rep, start, in_appendix, in_closing, depth) -> Heading | None:
    m = _APPENDIX_RE.match(rep)
    if m and len(s) < 80:
        label = f"PHỤ LỤC {m.group(1)}".strip()
        return Heading(start, 1, label, "appendix", s)
    if not in_appendix and rep.startswith(("noi nhan",)):
        return Heading(start, 1, RECIPIENTS, "closing", s)
    if not in_appendix and rep.startswith("tren day la") and not in_closing:
        return Heading(start, 1, CLOSING, "closing", s)
    if in_closing:
        return None
    m = _ROMAN_RE.match(s)
    if m:
        if in_appendix:
            return Heading(start, 2, _short_label(_roman(m.group(1)), m.group(2)), "part", s)
        return Heading(start, 1, _part_label(m.group(1), m.group(2)), "part", s)
    if _ASSIGN_RE.match(rep):
        return Heading(start, min(depth + 1, 4), ASSIGNMENT, "assignment", s)
    m = _SUBITEM_RE.match(s)
    if m and not in_appendix:
        label = _short_label(f"{m.group(1)}.{m.group(2)}", m.group(3))
        return Heading(start, 3, label, "subitem", s)
    m = _ITEM_RE.match(s) or (_APPX_PART_RE.match(s) if in_appendix else None)
    if m:
        if in_appendix:
            return Heading(start, 2, _short_label(m.group(1), m.group(2)), "part", s)
        label, title = _item_heading(lines, i, m.group(1), m.group(2))
        return Heading(start, 2, label, "item", title)
    return None


def build_sections(doc_id: str, text: str, headings: list[Heading]) -> list[Section]:
    """Sections with their breadcrumb path and the span each governs (children included)."""
    sections: list[Section] = []
    stack: list[Heading] = []
    for idx, h in enumerate(headings):
        while stack and stack[-1].level >= h.level:
            stack.pop()
        stack.append(h)
        end = len(text)
        for later in headings[idx + 1:]:
            if later.level <= h.level:
                end = later.start
                break
        path = tuple(x.label for x in stack)
        sections.append(Section(doc_id, path, h.title.strip(), h.kind, h.start, end))
    return sections


def leaf_segments(text: str, headings: list[Heading], sections: list[Section]) -> list[tuple[Section, int, int]]:
    """Contiguous spans from one heading to the next, each owned by the deepest section."""
    out = []
    for idx, sec in enumerate(sections):
        end = headings[idx + 1].start if idx + 1 < len(headings) else len(text)
        out.append((sec, sec.start, end))
    return out
