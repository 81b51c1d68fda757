"""Layout of a document file as copied or converted: where the document starts and ends, and
the line view with Markdown/HTML emphasis removed.

Real files carry more than the document: a legal website's banner before the header, a
metadata pseudo-table, and "related documents" lists after the signature.  The document is
found by its own grammar (Nghị định 30/2020/NĐ-CP and Hướng dẫn 36-HD/VPTW), not by any
site's strings:

* it **starts** at the tên cơ quan block, the upper-case lines just before the quốc hiệu
  ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") or the party's "ĐẢNG CỘNG SẢN VIỆT NAM";
* it **ends**, after its "Nơi nhận" block, at the first Markdown heading ("## …") or the
  first line that opens with a type word and the document's own number (a page title
  repeating the document: "Quyết định 2530/QĐ-TTg năm 2025 …").

Offsets are always offsets into the file's text; nothing here rewrites it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ingest import docnumber
from ingest.lines import text_lines
from ingest.textnorm import fold, repaired

HEADER_SCAN = 20000  # the header lies within the first characters of a file (a site banner included)
_MARKS_RE = re.compile(r"\*+|_{2,}|<\/?(?:b|i|strong|em|u)>", re.I)
MOTTO_RE = re.compile(
    r"cong[\s*]+hoa[\s*]+xa[\s*]+hoi[\s*]+chu[\s*]+nghia[\s*]+viet[\s*]+nam"
    r"|\w{0,2}ang[\s*]+cong[\s*]+san[\s*]+viet[\s*]+nam"
)
RECIPIENTS_RE = re.compile(r"(?m)^[\W_]{0,4}n[o0]i\s+nh\w{1,2}n\b")
_MD_HEADING_RE = re.compile(r"(?m)^#{1,6}\s+\S")
_FILLER_RE = re.compile(r"^[\s|*_\-–—=.]*$")


_HASHES_RE = re.compile(r"^#{1,6}\s+")
_SPACES_RE = re.compile(r"\s{2,}|[\t\r\f\v]")


def strip_marks(line: str) -> str:
    """The line without emphasis markers, a leading "#", table bars and extra spaces."""
    s = _MARKS_RE.sub(" ", line) if ("*" in line or "_" in line or "<" in line) else line
    s = s.strip()
    if s.startswith("#"):
        s = _HASHES_RE.sub("", s)
    s = s.strip("|").strip()
    return _SPACES_RE.sub(" ", s) if ("  " in s or "\t" in s) else s


def is_filler(line: str) -> bool:
    """A line with no words: blank, a lone "|", a rule "-----", empty emphasis "** **"."""
    return bool(_FILLER_RE.match(line))


def lines_with_offsets(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, str]]:
    """(offset, line without its newline) for every line that starts in ``text[start:end]`` (blank ones too)."""
    return [(pos, line) for pos, _, line in text_lines(text, start, end, keep_blank=True)]


BOLD_JOIN_MAX = 4  # a bold heading wraps over at most this many lines


def _joined_bold(lines: list[tuple[int, str]], i: int) -> tuple[str, int]:
    """A bold heading that wraps: the lines up to the closing "**", joined, and how many lines it takes."""
    raw = lines[i][1].strip()
    if raw.count("**") % 2 == 0 or not raw.startswith("**"):
        return raw, 1
    parts = [raw]
    for _, nxt in lines[i + 1: i + BOLD_JOIN_MAX]:
        parts.append(nxt.strip())
        if "**" in nxt:
            return " ".join(parts), len(parts)
    return raw, 1


def logical_lines(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, str, str, bool]]:
    """(offset, line as printed, line without marks, opened with emphasis) for each non-filler line.

    A bold heading wrapped over several lines ("**I. MỤC\nĐÍCH, YÊU CẦU**") is one logical line at the
    offset of its first line; the offset is always valid in ``text``.
    """
    raw_lines = lines_with_offsets(text, start, end)
    out: list[tuple[int, str, str, bool]] = []
    skip_to = 0
    for i, (pos, line) in enumerate(raw_lines):
        if i < skip_to or is_filler(line):
            continue
        joined, taken = _joined_bold(raw_lines, i)
        clean = strip_marks(joined)
        if not clean:
            continue
        skip_to = i + taken
        out.append((pos + len(line) - len(line.lstrip()), line.strip(), clean,
                    line.lstrip().startswith(("*", "<b", "<strong"))))
    return out


def _is_upper_line(line: str) -> bool:
    s = strip_marks(line)
    return bool(re.search(r"[^\W\d_]", s)) and s == s.upper()


def document_start(text: str) -> int:
    """Offset of the document's header (tên cơ quan before the quốc hiệu); 0 when there is none."""
    head = text[:HEADER_SCAN]
    m = MOTTO_RE.search(repaired(head))
    if not m:
        return 0
    line_start = head.rfind("\n", 0, m.start()) + 1
    start, taken = line_start, 0
    pos = line_start
    while pos > 0 and taken < 6:
        prev = head.rfind("\n", 0, pos - 1) + 1
        line = head[prev:pos - 1]
        if is_filler(line):
            pos = prev
            continue
        if not _is_upper_line(line):
            break
        start, taken, pos = prev, taken + 1, prev
    return start


def header_number(text: str, start: int, limit: int = 2500) -> tuple[docnumber.DocNumber, int, int] | None:
    """The "Số: …" number of the header that starts at ``start``, with its span in ``text``."""
    region = text[start:start + limit]
    found = docnumber.header_number(region)
    if not found:
        return None
    n, a, b = found
    return n, start + a, start + b


def _is_own_title(line: str, own: docnumber.DocNumber) -> bool:
    found = docnumber.find_numbers(line[:120])
    if not found or found[0][0].key != own.key:
        return False
    before = re.sub(r"\s+", " ", fold(line[: found[0][1]]).strip(" *#"))
    return before in docnumber.TYPE_WORDS  # "Quyết định 2530/QĐ-TTg …", not "… số 2530/QĐ-TTg"


def document_end(text: str, start: int = 0) -> int:
    """Offset where the document ends: site chrome after its signature is left out."""
    m = RECIPIENTS_RE.search(fold(text), start)
    if not m:
        return len(text)
    found = header_number(text, start)
    own = found[0] if found else None
    for pos, line in lines_with_offsets(text, m.end()):
        if _MD_HEADING_RE.match(line) or (own is not None and _is_own_title(line, own)):
            return pos
    return len(text)


@lru_cache(maxsize=16)
def document_span(text: str) -> tuple[int, int]:
    """(start, end) of the document inside the file's text."""
    start = document_start(text)
    return start, document_end(text, start)
