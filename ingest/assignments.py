"""Who does what by when: the assignments of a plan, read from its three forms.

* ``prose`` — sections III/IV: "Phòng Văn hóa- Xã hội chủ trì, phối hợp với các cơ
  quan liên quan hướng dẫn …" (lead before "chủ trì", coordinators after "phối hợp
  với"); IV items whose subject is the agency ("1. Các chi, đảng bộ trực thuộc Đảng ủy
  tổ chức …") or whose heading is the agency ("1. Phòng Văn hoá - Xã hội" + bullets);
  "* Phân công thực hiện: Giao …" blocks and their "+" bullets, which assign the
  whole subsection above them (task = that subsection's title); and sentences of
  section III whose subject is a named agency ("UBND xã chủ động xây dựng …").
* ``appendix_table`` — clean tables flattened one cell per line (a row starts at a
  line holding only its STT; then task, lead, coordinating and deadline cells; a page
  break can put task lines after the deadline, marked by a leading space).
* ``ocr_table`` — the OCR'd table of a scanned plan: rows are cut at their printed
  numbers (missing numbers inferred), the lead cell is isolated between the
  "Cấp ủy chỉ đạo" and "Cơ quan phối hợp" columns and read with the agency lexicon's
  fuzzy matching; what cannot be read is left empty with confidence "low".

Every assignment keeps ``start``/``end``: offsets into ``Document.text`` of the exact
source text (the item, sentence, bullet or table row) for citation and highlighting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.agencies import (
    EXACT,
    AgencyMatch,
    canonical_agency,
    lexicon,
    match_agencies,
    read_glued_word,
    token_similarity,
)
from ingest.assignment_grammar import grammar_assignments
from ingest.assignment_record import APPENDIX_TABLE, HIGH, LOW, MEDIUM, OCR_TABLE, PROSE, Assignment
from ingest.lines import Line, text_lines
from ingest.records import Document, Section
from ingest.textnorm import collapse_ws, repaired

SUBJECT_WINDOW = 400  # characters read for the subject of an item or sentence
FALLBACK_MAX_TOKENS = 25  # longest subject taken "up to the first verb" when the lexicon has no name
LEAD_LINE_MAX = 22  # longest line of a clean table's narrow lead column


def extract_assignments(doc: Document) -> list[Assignment]:
    """All assignments of a plan, in document order."""
    tables = _appendix_tables(doc) + _ocr_tables(doc)
    if _marked_up(doc.text):  # Markdown/HTML copies: the grammar reads the layout (marks dropped, wraps joined)
        grammar = [a for a in grammar_assignments(doc) if not _overlaps(a, tables)]
        prose = [a for a in _prose(doc) if not _overlaps(a, tables + grammar)]
    else:
        prose = _prose(doc)
        grammar = [a for a in grammar_assignments(doc) if not _overlaps(a, prose + tables)]
    return sorted(prose + tables + grammar, key=lambda a: (a.start, a.end))


_MARKUP_RE = re.compile(r"\*\*\S|\S\*\*|<(?:b|i|strong|em)>|^\|\s*$", re.M)


def _marked_up(text: str) -> bool:
    """Whether the file carries Markdown/HTML emphasis or one-cell-per-line table bars (a web copy)."""
    return len(_MARKUP_RE.findall(text[:200000])) >= 3


def _overlaps(a: Assignment, others: list[Assignment]) -> bool:
    return any(o.start < a.end and a.start < o.end for o in others)


# ---------------------------------------------------------------- subjects and verbs

# Verbs that open the predicate after a subject.  "Strong" ones are never part of an agency
# name; "weak" ones also serve as nouns ("Các đồng chí lãnh đạo các cơ quan" = the leaders).
_STRONG_VERBS = (
    "chu tri", "phoi hop", "trien khai", "thuc hien", "xay dung", "quan triet", "tuyen truyen", "tham muu",
    "huong dan", "tang cuong", "long ghep", "phat huy", "co trach nhiem", "truc tiep", "chu dong", "theo doi",
    "ban hanh", "nghien cuu", "van dong", "day manh", "thuc day", "phat dong", "duy tri", "hoan thanh",
    "can", "phai",
)
_WEAK_VERBS = ("to chuc", "lanh dao", "chi dao", "kiem tra", "giam sat", "bao dam", "dam bao", "cham soc")
_VERB_TOKENS = tuple(tuple(v.split()) for v in _STRONG_VERBS + _WEAK_VERBS)
_PREFIX_RE = re.compile(r"(?:de nghi|giao)\s+")
_CONNECTOR_RE = re.compile(r"\s*(?:,|;|va\b|v[a-z0-9]\b)\s*")
_CHU_TRI_RE = re.compile(r"[ \t,]*ch[a-z]{0,2}\s+tr[a-z]?\b[ \t,;:]*")  # "chủ trì" right after the subject
_PHOI_HOP_VOI_RE = re.compile(r"\bph[a-z0-9]{1,2}i\s+h[a-z]{0,2}p\s+v[a-z]{0,3}i\b")
_WORD_RE = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Subject:
    leads: tuple[str, ...]
    end: int  # offset (in the document) just after the subject
    exact: bool  # read as printed, without approximate (OCR) matching
    specific: bool = False  # a named body among them, not only collective addressees


def _starts_with_verb(rep: str, fuzzy: bool) -> bool:
    words = _WORD_RE.findall(rep[:60])
    for verb in _VERB_TOKENS:
        if len(words) < len(verb):
            continue
        if all(token_similarity(w, v) >= (0.6 if fuzzy else 1.0) for w, v in zip(words, verb, strict=False)):
            return True
    return False


def _first_verb(rep: str) -> int | None:
    """Offset of the first strong verb of ``rep`` (exact spelling), else of the first weak one."""
    for verbs in (_STRONG_VERBS, _WEAK_VERBS):
        found = [m.start() for v in verbs if (m := re.search(rf"\b{v}\b", rep))]
        if found:
            return min(found)
    return None


def _names_at(rep: str, pos: int, matches: list[AgencyMatch]) -> tuple[list[AgencyMatch], int]:
    """Agency names joined by "và"/","/";" starting at ``pos``; (names, end)."""
    names: list[AgencyMatch] = []
    while True:
        gap = rep[pos:]
        skip = len(gap) - len(gap.lstrip(" \t\r\n-+*•:"))
        nxt = next((m for m in matches if m.start == pos + skip), None)
        if nxt is None:
            break
        names.append(nxt)
        pos = nxt.end
        conn = _CONNECTOR_RE.match(rep, pos)
        if conn is None or not any(m.start == conn.end() for m in matches):
            break
        pos = conn.end()
    return names, pos


def _share_level(names: list[AgencyMatch]) -> list[str]:
    """"Ủy ban MTTQ và các đoàn thể chính trị - xã hội xã": a level printed once, after the
    last name, belongs to every name of the list that takes one."""
    level = names[-1].level if names else ""
    return [f"{m.name} {level}" if level and m.takes_level and not m.level else m.name for m in names]


def _opens_predicate(rest: str) -> bool:
    """What follows a subject: a verb, "chủ trì", or (heading style) a new line or bullet."""
    return (_starts_with_verb(rest.lstrip(" ,;:-"), False) or rest.lstrip(" ,;").startswith(("\n", "-"))
            or _CHU_TRI_RE.match(rest) is not None)


def parse_subject(text: str, start: int, end: int, fuzzy: bool, fallback: bool = True) -> Subject | None:
    """The agencies named at ``text[start:]`` before the verb, e.g. "Giao Đảng ủy UBND xã chủ trì …"."""
    seg = text[start:min(end, start + SUBJECT_WINDOW)]
    rep = repaired(seg)
    pos = len(rep) - len(rep.lstrip(" \t\r\n-+*•:0123456789."))
    pre = _PREFIX_RE.match(rep, pos)
    pos = pre.end() if pre else pos
    matches = match_agencies(seg, fuzzy=fuzzy)
    names, after = _names_at(rep, pos, matches)
    rest = rep[after:]
    if names and (fuzzy or not fallback or _opens_predicate(rest)):
        exact = all(m.score >= EXACT for m in names)
        specific = any(not m.generic for m in names)
        return Subject(tuple(_share_level(names)), start + after, exact, specific)
    if not fallback:
        return None
    verb = _first_verb(rep[pos:pos + 250])
    if verb is None or not 0 < len(_WORD_RE.findall(rep[pos:pos + verb])) <= FALLBACK_MAX_TOKENS:
        return None
    if names and names[-1].end > pos + verb:
        return Subject(tuple(_share_level(names)), start + after, False)
    return Subject((canonical_agency(seg[pos:pos + verb]),), start + pos + verb, not fuzzy)


def _coordinators(text: str, start: int, end: int, fuzzy: bool) -> tuple[str, ...]:
    """Agencies named after every "phối hợp với" of ``text[start:end]``."""
    rep = repaired(text[start:end])
    out: list[str] = []
    for m in _PHOI_HOP_VOI_RE.finditer(rep):
        sub = parse_subject(text, start + m.end(), end, fuzzy, fallback=not fuzzy)
        if sub is not None:
            out.extend(sub.leads)
    return tuple(dict.fromkeys(out))


_BEFORE_DATE_RE = re.compile(
    r"(hoan thanh\s+)?tr[a-z]{1,4}\s+ngay\s+(\d{1,2})\s*/\s*(\d{1,2})(?:\s*/\s*(\d{4}))?"
    r"(\s+h[a-z]{1,2}ng\s+n[a-z]{1,2}m)?"
)
_YEARLY_RE = re.compile(r"\bh[a-z]{1,2}ng\s+n[a-z]{1,2}m\b")


def prose_deadline(text: str) -> str | None:
    """A deadline printed in an assignment ("trước ngày 15/12/2025", "hằng năm"), in proper spelling."""
    rep = repaired(text)
    m = _BEFORE_DATE_RE.search(rep)
    if m:
        date = f"{int(m.group(2)):02d}/{int(m.group(3)):02d}" + (f"/{m.group(4)}" if m.group(4) else "")
        head = "Hoàn thành trước ngày" if m.group(1) else "Trước ngày"
        return f"{head} {date}" + (" hằng năm" if m.group(5) else "")
    return "Hằng năm" if _YEARLY_RE.search(rep) else None


# ---------------------------------------------------------------- prose

_ASSIGN_HEAD_RE = re.compile(r"\W*\*?\s*ph[a-z]{0,3}n\s+c[a-z]{0,3}ng\s+th[a-z]{0,4}\s+h[a-z]{0,4}n\s*:?")
_ITEM_NO_RE = re.compile(r"\s*(\d{1,2})\s*[.\-]\s*")
_STOP_RE = re.compile(r"(?m)^\s*(?:noi nh|tren day la|t/?m\.? ban)")
_BULLET_RE = re.compile(r"(?m)^[ \t]*[-+•*][ \t]*")
_SENTENCE_RE = re.compile(r"(?:^|\n)[ \t]*[-+•][ \t]*|[.;:][ \t\r\n]+(?=[A-ZĐÀ-Ỹ])")


def _in_part(sec: Section, key: str) -> bool:
    return bool(sec.path) and key in repaired(sec.path[0]) and not sec.path[0].startswith("PHỤ LỤC")


def _trim(text: str, a: int, b: int) -> int:
    """End of ``text[a:b]`` without the signature block and trailing blanks."""
    stop = _STOP_RE.search(repaired(text[a:b]))
    b = a + stop.start() if stop else b
    return a + len(text[a:b].rstrip())


def _task_text(raw: str) -> str:
    """Collapsed task text; bullets joined by "; "."""
    parts = [collapse_ws(p).strip(" ,;:-.") for p in _BULLET_RE.split(raw)]
    return "; ".join(p for p in parts if p)


def _after_subject(text: str, pos: int, end: int, fuzzy: bool) -> int:
    """Skip "chủ trì, phối hợp với <agencies>" after a subject: the task starts there."""
    rep = repaired(text[pos:end])
    m = _CHU_TRI_RE.match(rep)
    skip = m.end() if m else 0
    coop = _PHOI_HOP_VOI_RE.match(rep, skip)
    if coop is not None:
        sub = parse_subject(text, pos + coop.end(), end, fuzzy)
        return sub.end if sub else pos + coop.end()
    return pos + skip


def _prose_assignment(doc: Document, span: tuple[int, int, int], path: tuple[str, ...],
                      row: str | None, task: str | None = None) -> Assignment:
    """One prose assignment from ``text[body:end]`` (``start`` is where its source text begins)."""
    start, body, end = span
    fuzzy, text = doc.meta.ocr, doc.text
    sub = parse_subject(text, body, end, fuzzy)
    lead = sub.leads if sub else ()
    if task is None:
        task = _task_text(text[_after_subject(text, sub.end, end, fuzzy):end] if sub else text[body:end])
    confidence = LOW if not lead else HIGH if sub and sub.exact else MEDIUM
    return Assignment(
        doc.doc_id, task, lead, _coordinators(text, body, end, fuzzy), prose_deadline(text[start:end]), None,
        (), path, start, end, PROSE, row, confidence,
    )


def _item_numbers(doc: Document, items: list[Section]) -> list[str]:
    """Printed item numbers; an out-of-sequence OCR misreading ("3." between 4. and 6.) is corrected."""
    printed = []
    for sec in items:
        m = _ITEM_NO_RE.match(doc.text, sec.start)
        printed.append(int(m.group(1)) if m else 0)
    out = []
    for k, n in enumerate(printed):
        prev = int(out[-1]) if out else 0
        nxt = printed[k + 1] if k + 1 < len(printed) else None
        out.append(str(prev + 1 if n != prev + 1 and (nxt is None or nxt == prev + 2) else n))
    return out


def _iv_items(doc: Document) -> list[Assignment]:
    items = [s for s in doc.sections
             if s.kind == "item" and len(s.path) == 2 and _in_part(s, "to chuc thuc hien")]
    out = []
    for sec, row in zip(items, _item_numbers(doc, items), strict=True):
        m = _ITEM_NO_RE.match(doc.text, sec.start)
        body = m.end() if m else sec.start
        end = _trim(doc.text, sec.start, sec.end)
        out.append(_prose_assignment(doc, (sec.start, body, end), sec.path, row))
    return out


def _bullet_spans(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """"+" bullets of ``text[a:b]`` as spans, or the whole span when there are none."""
    starts = [a + m.start() for m in re.finditer(r"(?m)^[ \t]*\+", text[a:b])]
    if not starts:
        return [(a, b)]
    ends = starts[1:] + [b]
    return [(s, s + len(text[s:e].rstrip())) for s, e in zip(starts, ends, strict=True)]


def _assignment_blocks(doc: Document) -> list[Assignment]:
    """"* Phân công thực hiện: Giao …" blocks: each assignee takes the whole subsection above."""
    by_path = {s.path: s for s in doc.sections}
    out = []
    for sec in (s for s in doc.sections if s.kind == "assignment"):
        parent = by_path.get(sec.path[:-1])
        task = collapse_ws(parent.title) if parent else ""
        end = _trim(doc.text, sec.start, sec.end)
        head = _ASSIGN_HEAD_RE.match(repaired(doc.text[sec.start:end]))
        body = sec.start + (head.end() if head else 0)
        spans = _bullet_spans(doc.text, body, end)
        for k, (a, b) in enumerate(spans):
            path = sec.path + ((f"({k + 1})",) if len(spans) > 1 else ())
            start = sec.start if len(spans) == 1 else a
            out.append(_prose_assignment(doc, (start, a, b), path, None, task))
    return out


def _leaf_spans(doc: Document, key: str) -> list[tuple[Section, int, int]]:
    """(section, start, end) of the text each section of a part holds before its first child."""
    secs = sorted(doc.sections, key=lambda s: s.start)
    out = []
    for k, sec in enumerate(secs):
        if sec.kind in ("item", "subitem") and _in_part(sec, key):
            end = min([s.start for s in secs[k + 1:] if s.start > sec.start] + [sec.end])
            out.append((sec, sec.start, end))
    return out


def _embedded(doc: Document) -> list[Assignment]:
    """Sentences of section III whose subject is a named agency: "UBND xã chủ động xây dựng …"."""
    out = []
    for sec, a, b in _leaf_spans(doc, "nhiem vu"):
        starts = sorted({a} | {a + m.end() for m in _SENTENCE_RE.finditer(doc.text[a:b])})
        for s, e in zip(starts, starts[1:] + [b], strict=True):
            sub = parse_subject(doc.text, s, e, False, fallback=False)  # exact names only
            if sub is None or not sub.specific:
                continue
            if not _starts_with_verb(repaired(doc.text[sub.end:e]).lstrip(" ,"), False):
                continue
            end = s + len(doc.text[s:e].rstrip())
            out.append(_prose_assignment(doc, (s, s, end), sec.path, None))
    return out


def _prose(doc: Document) -> list[Assignment]:
    return _iv_items(doc) + _assignment_blocks(doc) + _embedded(doc)


# ---------------------------------------------------------------- clean appendix tables

_STT_RE = re.compile(r"^\s*(\d{1,2}(?:\.\d{1,2})?)\s*$")
_TABLE_HEAD_RE = re.compile(r"\bchu\s+tri\b")
_COORD_START_RE = re.compile(r"^(?:cac co\b|cac don vi\b|cac so\b|cac phong\b|cac ban\b|cac nganh\b)")
_DEADLINE_START_RE = re.compile(
    r"^(?:thuong xuyen|den (?:thang|nam|het)|tu (?:nam|thang|quy)|nam \d{4}|h[a-z]ng (?:nam|quy|thang)"
    r"|\d{4}\s*-\s*\d{4}|sau khi|truoc ngay|trong (?:nam|quy|thang)|quy [ivx]+)"
)


@dataclass
class _Row:
    """A table row being read: the lines of each cell so far, and the cell being read."""

    stt: str
    start: int
    end: int
    state: str = "task"
    cells: dict[str, list[str]] = field(default_factory=dict)

    def add(self, cell: str, line: Line) -> None:
        self.cells.setdefault(cell, []).append(line[2])
        self.end = line[1]


def _parts(doc: Document, app: Section) -> list[Section]:
    """The parts ("I. …", "1- …") of an appendix."""
    return [s for s in doc.sections
            if s.kind == "part" and s.path[:1] == app.path and app.start <= s.start < app.end]


def _agency_head(words: list[str]) -> bool:
    """The words open a (specific) agency name of the lexicon: "Phòng Văn", "Trạm Y Tế", "BHXH cơ"."""
    for entry in lexicon().entries:
        if entry.generic:
            continue
        for key in entry.keys:
            n = min(len(key), len(words))
            if (n >= 2 or len(key) == 1 or len(words) == 1) and tuple(words[:n]) == key[:n]:
                return True
    return False


def _next_state(row: _Row, line: str) -> str:
    """The cell a line of a flattened table row belongs to, given the row so far."""
    s = line.strip()
    rep = repaired(s)
    opens = s[:1].isupper() or s[:1].isdigit()  # a cell starts with a capital or a year
    if row.state == "task" and row.cells and opens and len(s) <= LEAD_LINE_MAX:
        return "lead" if _agency_head(_WORD_RE.findall(rep)) else "task"
    if row.state == "lead" and opens and _COORD_START_RE.match(rep):
        return "coord"
    if row.state in ("lead", "coord") and opens and _DEADLINE_START_RE.match(rep):
        return "deadline"
    if row.state == "deadline" and line.startswith(" "):
        return "more"  # a page break put the rest of the task after the deadline
    return row.state


def _table_rows(text: str, a: int, b: int) -> list[_Row]:
    rows: list[_Row] = []
    for line in text_lines(text, a, b):
        m = _STT_RE.match(line[2])
        if m:
            rows.append(_Row(m.group(1), line[0] + len(line[2]) - len(line[2].lstrip()), line[1]))
            continue
        if not rows:
            continue
        row = rows[-1]
        row.state = _next_state(row, line[2])
        row.add("task" if row.state == "more" else row.state, line)
    return rows


def _join_cell(lines: list[str]) -> str:
    out = ""
    for line in lines:
        s = line.strip()
        out = out + s if out.endswith("-") and not out.endswith(" -") else f"{out} {s}"
    return collapse_ws(out)


def _names(cell: str) -> tuple[str, ...]:
    return tuple(n for n in (canonical_agency(p) for p in cell.split(";")) if n)


def _table_assignment(doc: Document, part: Section, row: _Row) -> Assignment:
    cells = row.cells
    lead = _names(_join_cell(cells.get("lead", [])))
    deadline = _join_cell(cells.get("deadline", [])) or None
    return Assignment(
        doc.doc_id, _join_cell(cells.get("task", [])), lead, _names(_join_cell(cells.get("coord", []))),
        deadline, None, (), part.path + (row.stt,), row.start, row.end, APPENDIX_TABLE, row.stt,
        HIGH if lead else LOW,
    )


def _appendix_tables(doc: Document) -> list[Assignment]:
    """Rows of the clean appendix tables that have a "Cơ quan chủ trì" column."""
    if doc.meta.ocr:
        return []
    out = []
    for app in (s for s in doc.sections if s.kind == "appendix"):
        if not _TABLE_HEAD_RE.search(repaired(doc.text[app.start:app.start + 800])):
            continue
        for part in _parts(doc, app):
            rows = _table_rows(doc.text, part.start, part.end)
            out.extend(_table_assignment(doc, part, row) for row in rows)
    return out


# ---------------------------------------------------------------- OCR table
#
# The OCR'd table "STT | Tên nhiệm vụ | Cấp ủy chỉ đạo | Chủ trì tham mưu | Cơ quan phối hợp |
# Kết quả | Thời gian" comes out with each visual line of the page as one text line, cells
# side by side and garbled.  The "Cấp ủy chỉ đạo" cell reads "Đảng ủy / UBND / tỉnh" on three
# lines and the "Cơ quan phối hợp" cell "Các Sở, ban, / ngành, địa / phương liên quan": the
# lead cell is what lies between the two on each line.

_OCR_NUM_RE = re.compile(r"^\s*(?:(\d{1,2})|[Il1](\d))\s*[|;:]?\s")
_UBND_RE = re.compile(r"\bub[a-z]{0,3}\b")
_DIRECTING_RES = (
    _UBND_RE,
    re.compile(r"\b[dbp](?:i?a|e|o|i)ng\s?(?:[a-z]{0,2}[yi]|0|uy)\b"),  # Đảng ủy: "Ding ity", "Pangiy"
    re.compile(r"\b[dbp](?:i?a|e|i)ng\b"),  # Đảng alone, ủy lost
    re.compile(r"(?<=[^\sa-z0-9])(?:[gtl]y|[gi]ty)\b"),  # ủy alone, glued to OCR junk ("?;gﬁgy")
)
_TINH_RE = re.compile(r"\b(?:tinh|tioh|tnh|tih|tlnh)\b")  # "tỉnh", third line of the directing cell
# First line of the "Cơ quan phối hợp" cell: "Các Sở, ban," ("Cac‘So; ban,", "CacSo;ld)an,", "Choseban").
_COORD1_RE = re.compile(
    r"\bc[a-z]{1,2}c?\s?\W{0,2}\s?[a-z0-9]{1,3}\W{0,3}\s?(?:b|l?d\)?)an\b|\bc[a-z]{1,3}s[a-z0-9]{0,2}(?:ban|bm)\b"
)
_COORD_RE = re.compile(  # any line of it: also "ngành, địa" and "phương liên quan"
    _COORD1_RE.pattern + r"|\bng[a-z]{1,4}\S{0,4}\s?d[ij]?a\b|\bng[a-z]{1,4}hdia\b"
    r"|\bph[a-z]{0,4}ng\s?l[a-z]{0,3}\W?n|\bhu[a-z]{1,3}[ng]\w?\s+l[a-z]{1,3}n\b"
)
LEAD_TOKENS = 4  # widest lead cell, in words per line
_TABLE_HEAD_WORDS_RE = re.compile(  # "chủ trì", "phối hợp", "cơ quan" as OCR reads them ("Chii tritham", "Co' quan")
    r"\bch[a-z]{0,2}\s?tr[ia]|\bph[a-z0-9]{1,2}i\s+h[a-z]{0,2}p\b|\bc[o0]\W?\s?quan\b")
HEADER_CHARS = 1500  # where a table's column headers are looked for
MIN_NUMBERED_ROWS = 3


def _is_ocr_assignment_table(text: str) -> bool:
    """General signals of an assignment table in OCR text: its header names a lead ("chủ trì") or
    coordinating ("phối hợp") column, and rows open with their numbers."""
    head = repaired(text[:HEADER_CHARS])
    numbered = sum(1 for line in text.splitlines() if _OCR_NUM_RE.match(line))
    return _TABLE_HEAD_WORDS_RE.search(head) is not None and numbered >= MIN_NUMBERED_ROWS


def _drop_headers(lines: list[Line]) -> list[Line]:
    """Lines without the table header repeated on every page ("Thời gian / STT | Tên nhiệm vụ … / hợp")."""
    out: list[Line] = []
    skip = -1
    for k, line in enumerate(lines):
        if k <= skip:
            continue
        if not repaired(line[2]).lstrip().startswith("stt"):
            out.append(line)
            continue
        page = [j for j in range(len(out) - 1, max(len(out) - 4, -1), -1) if out[j][2].startswith(" ")]
        if page:
            del out[page[0]:]
        ends = [q for q in range(k, min(k + 4, len(lines))) if repaired(lines[q][2]).rstrip().endswith("hop")]
        skip = ends[0] if ends else k
    return out


def _opens_row(line: str) -> bool:
    """A line that can open a row: a capitalised word of three letters or more ("Trién khai")."""
    s = line.lstrip()
    word = re.sub(r"[^a-z]", "", repaired(s.split()[0])) if s else ""
    return len(s) > 1 and s[0].isupper() and (s[1].islower() or s[1] == "&") and len(word) >= 3


def _numbered(lines: list[Line], prev: int, prev_printed: int) -> list[tuple[int, int]]:
    """(line index, number) of the lines that start with a plausible row number."""
    nums: list[tuple[int, int]] = []
    for k, line in enumerate(lines):
        m = _OCR_NUM_RE.match(line[2])
        if not m:
            continue
        n = int(m.group(1) or "1" + m.group(2))
        last = nums[-1][1] if nums else prev_printed
        if last < n <= max(last, prev) + 3:
            nums.append((k, n))
    return nums


def _split(chosen: list[int], k: int, n: int, need: int) -> list[tuple[int, int | None]]:
    """Starts of ``need`` rows, the last being row ``n`` (number printed on line ``k``), from the
    opening lines ``chosen``; rows whose opening line was not found start at their number."""
    if len(chosen) == need:
        return [(c, None) for c in chosen[:-1]] + [(chosen[-1], n)]
    return [(c, None) for c in chosen] + [(k, n)]


def _row_starts(lines: list[Line], prev: int, prev_printed: int) -> list[tuple[int, int | None]]:
    """(first line, printed number or None) of every row of one part of the table."""
    cands = [k for k, line in enumerate(lines) if _opens_row(line[2])]
    nums = _numbered(lines, prev, prev_printed)
    if not nums:
        return [(cands[0] if cands else 0, None)]
    k0, n0 = nums[0]
    before = [c for c in cands if c < k0]
    need = max(n0 - prev, 1)  # rows up to the first numbered one: the first opens the part
    starts = _split(before[:1] + (before[1:][-(need - 1):] if need > 1 else []), k0, n0, need)
    if not before:
        starts = [(0, n0)]
    for (ka, na), (kb, nb) in zip(nums, nums[1:], strict=False):
        starts += _split([c for c in cands if ka < c < kb][-(nb - na):], kb, nb, nb - na)
    starts += [(c, None) for c in cands if c > nums[-1][0] and lines[c][2].startswith(" ")]
    return sorted(starts)


def _directing_end(rep: str, limit: int) -> int | None:
    """End of the "Cấp ủy chỉ đạo" fragment of an OCR'd line, before offset ``limit``."""
    for pattern in _DIRECTING_RES:
        found = [m for m in pattern.finditer(rep) if m.end() <= limit]
        if found:
            return found[-1].end()
    tinh = [m for m in _TINH_RE.finditer(rep) if m.end() <= limit][:1]
    return tinh[0].end() if tinh else None


def _words_span(line: str, a: int, b: int, first: bool) -> str:
    """The first (or last) LEAD_TOKENS words of ``line[a:b]``."""
    words = list(re.finditer(r"\S+", line[a:b]))
    if len(words) <= LEAD_TOKENS:
        return line[a:b]
    return line[a:a + words[LEAD_TOKENS - 1].end()] if first else line[a + words[-LEAD_TOKENS].start():b]


def _columns(line: str, near_number: bool) -> tuple[str, str, str]:
    """The parts of one OCR'd line in the directing ("Cấp ủy chỉ đạo"), lead ("Chủ trì") and
    coordinating ("Cơ quan phối hợp", and the columns after it) columns."""
    rep = repaired(line)
    c1 = _COORD1_RE.search(rep)
    d = _directing_end(rep, c1.start() if c1 else len(rep))
    coords = [m.start() for m in _COORD_RE.finditer(rep) if d is None or m.start() >= d]
    c = coords[0] if coords else None
    directing = line[_directing_start(rep, d):d] if d is not None else ""
    coord = line[c:] if c is not None else ""
    if d is None and c is None:
        return "", (line.strip() if near_number else ""), ""
    if d is None:
        return directing, _words_span(line, 0, c, first=False), coord
    return directing, (line[d:c] if c is not None else _words_span(line, d, len(line), first=True)), coord


def _directing_start(rep: str, end: int) -> int:
    """Start of the directing fragment that ends at ``end``: the first directing word before it."""
    starts = [m.start() for pattern in _DIRECTING_RES for m in pattern.finditer(rep) if m.end() <= end]
    return min(starts) if starts else end


def _read_cells(frags: list[str], generic: bool | None) -> tuple[str, ...]:
    """Agencies read in the fragments of one column (``generic``: keep only generic / only specific
    names; None: all).  What cannot be read is not there: nothing is filled in."""
    found = match_agencies(" ".join(f.strip() for f in frags if f.strip()), cell=True)
    names = [m.name for m in found if generic is None or m.generic == generic]
    if generic is False and not names:  # a line of the cell holding one glued word ("Seyie")
        names = [n for f in frags if (n := read_glued_word(f.strip()))]
    return tuple(dict.fromkeys(names))


def _ocr_columns(lines: list[Line]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(directing, lead, coordinating) agencies read from a row's lines."""
    num = next((k for k, line in enumerate(lines) if _OCR_NUM_RE.match(line[2])), None)
    cols = [_columns(line[2], num is not None and k in (num - 1, num)) for k, line in enumerate(lines)]
    lead = _read_cells([c[1] for c in cols], generic=False)
    coord = tuple(n for n in _read_cells([c[2] for c in cols], None) if n not in lead)
    return _read_cells([c[0] for c in cols], None), lead, coord


_OCR_DEADLINES = (
    (re.compile(r"\bt[iu]r?\s+n[a-z]{1,2}m\s+(20\d\d)(?:\s*-\s*(20\d\d))?"), "Từ năm {0}{1}"),
    (re.compile(r"\bt[iu]r?\s+qu[a-z]\s+([ivx]+)\s*/\s*(20\d\d)"), "Từ quý {0}/{1}"),
    (re.compile(r"\b(20\d\d)\s*[-–]\s*(20\d\d)\b"), "{0}-{1}"),
    (re.compile(r"\bth[a-z]{1,4}ng\s+xu[a-z]{0,3}n\b|\bxuyen\b"), "Thường xuyên"),
)


def _ocr_deadline(rep: str) -> str | None:
    """The "Thời gian" of an OCR'd row where it can be read."""
    for pattern, form in _OCR_DEADLINES:
        m = pattern.search(rep)
        if m:
            groups = [g or "" for g in m.groups()]
            if form.startswith("Từ quý"):
                groups[0] = groups[0].upper()
            if form == "Từ năm {0}{1}" and groups[1]:
                groups[1] = "-" + groups[1]
            return form.format(*groups)
    return None


def _ocr_task(lines: list[Line]) -> str:
    """Task column as printed: each line up to the directing column (or its first "|")."""
    parts = []
    for _, _, line in lines:
        rep = repaired(line)
        cut = [m.start() for pattern in _DIRECTING_RES[:2] for m in pattern.finditer(rep)]
        bar = line.find("|", 4)
        ends = [x for x in cut + ([bar] if bar > 0 else []) if x > 0]
        parts.append(line[: min(ends)] if ends else line)
    text = collapse_ws(" ".join(parts))
    return re.sub(r"^(?:\d{1,2}|[Il1]\d)\s*[|;:]?\s+", "", text)


def _ocr_assignment(doc: Document, part: Section, lines: list[Line], number: int) -> Assignment:
    rep = repaired("\n".join(line[2] for line in lines))
    directing, lead, coord = _ocr_columns(lines)
    start = lines[0][0] + len(lines[0][2]) - len(lines[0][2].lstrip())
    return Assignment(
        doc.doc_id, _ocr_task(lines), lead, coord, _ocr_deadline(rep), None, directing,
        part.path + (str(number),), start, lines[-1][1], OCR_TABLE, str(number), MEDIUM if lead else LOW,
    )


def _ocr_tables(doc: Document) -> list[Assignment]:
    """Rows of OCR'd appendix tables with lead ("Chủ trì") and "Cơ quan phối hợp" columns."""
    if not doc.meta.ocr:
        return []
    out: list[Assignment] = []
    for app in (s for s in doc.sections if s.kind == "appendix"):
        if not _is_ocr_assignment_table(doc.text[app.start:app.end]):
            continue
        prev = printed = 0
        for part in _parts(doc, app):
            lines = _drop_headers(text_lines(doc.text, part.start, part.end))[1:]
            starts = _row_starts(lines, prev, printed)
            for k, (first, n) in enumerate(starts):
                last = starts[k + 1][0] if k + 1 < len(starts) else len(lines)
                prev = n if n is not None else prev + 1
                printed = n if n is not None else printed
                if first < last:
                    out.append(_ocr_assignment(doc, part, lines[first:last], prev))
    return out
