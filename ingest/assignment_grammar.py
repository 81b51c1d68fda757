"""Assignments of any agency, read by the grammar of assignment on the reading view of a clean plan.

Four forms, whatever the plan, province or agency (names by :mod:`ingest.agency_names`):

* **labelled fields** — a task followed by "- Cơ quan thực hiện: …", "- Cơ quan chủ trì: …", "- Đơn vị
  phối hợp: …", "- Thời gian thực hiện: …" lines; "Cơ quan thực hiện: Sở X chủ trì, phối hợp với Y";
  several "+" lines under one label are one assignment each;
* **agency headings** — "1. Sở Y tế" (alone on its line) followed by "a) Chủ trì, phối hợp …" items,
  bullets or paragraphs: each item is an assignment of the heading's agencies;
* **sentences** — "X chủ trì …", "Giao X (chủ trì) …", "X có trách nhiệm …", "X là cơ quan đầu mối …",
  coordinators after "phối hợp (với)";
* **flattened tables** — cells between lines holding only "|"; the columns are found by their header
  ("chủ trì" → lead, "phối hợp" → coordinating, "thời gian/thời hạn/tiến độ" → deadline, "nhiệm vụ/nội
  dung" → task, "sản phẩm/kết quả" → expected result), whatever the exact wording; a row without its own
  number continues the row above (merged lead cells).

Nothing is stamped: a field that cannot be read is left empty and the assignment gets confidence "low".
Only clean (non-OCR) documents are read here; OCR plans keep the OCR-aware readers of
:mod:`ingest.assignments`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.agency_names import agencies_at, opens_agency, starts_predicate
from ingest.assignment_record import APPENDIX_TABLE, HIGH, LOW, MEDIUM, PROSE, Assignment
from ingest.reading import View, reading_view
from ingest.records import Document
from ingest.textnorm import collapse_ws

Block = tuple[int, int]  # (start, end) in the view

_MARK_RE = re.compile(r"^(?:[-+•–*]\s*|\(?\d{1,2}(?:\.\d{1,2})*\s*[.)/-]\s*|\(?[a-zđ]\)\s*|[IVXLC]{1,6}\s*[.\-–]\s*"
                      r"|[A-ZĐ]\.\s*)")
_ITEM_RE = re.compile(r"^(?:\(?\d{1,2}(?:\.\d{1,2})*\s*[.)/-]|\(?[a-zđ]\)|[IVXLC]{1,6}\s*[.\-–]|[A-ZĐ]\.)\s*\S")
_PART_RE = re.compile(r"^[IVXLC]{1,6}\s*[.\-–]\s*\S")
_LETTER_RE = re.compile(r"^\(?[a-zđ]\)\s*")
_FIELD_RE = re.compile(
    r"^[-+•–]?\s*(?P<label>(?:cơ quan|đơn vị)(?:\s+(?:thực hiện|chủ trì|phối hợp|đầu mối|tham mưu))+"
    r"|thời gian(?:\s+(?:thực hiện|hoàn thành))?|thời hạn(?:\s+hoàn thành)?|tiến độ(?:\s+thực hiện)?"
    r"|nội dung(?:\s+thực hiện)?|sản phẩm(?:\s+dự kiến)?|kết quả(?:\s+dự kiến)?)\s*:\s*",
    re.IGNORECASE,
)
_CHU_TRI_RE = re.compile(r"\s*,?\s*(?:là cơ quan (?:thường trực|đầu mối)[^,;]*?,?\s*)?chủ trì\b[\s,;:]*",
                         re.IGNORECASE)
_PHOI_HOP_RE = re.compile(r"\bphối hợp(?:\s+chặt chẽ)?(?:\s+với)?\s+", re.IGNORECASE)
_SUBJECT_PREFIX_RE = re.compile(r"(?:giao|đề nghị|yêu cầu)\s+", re.IGNORECASE)
_RESPONSIBLE_RE = re.compile(r"\s*,?\s*(?:chủ trì|có trách nhiệm|chịu trách nhiệm|là cơ quan (?:thường trực|đầu"
                             r" mối)|là đầu mối)\b", re.IGNORECASE)
_SENTENCE_RE = re.compile(r"(?<=[.;])\s+(?=[A-ZĐÀ-Ỹ])")


@dataclass(frozen=True)
class _Ctx:
    doc: Document
    view: View
    blocks: tuple[Block, ...]

    def text(self, b: Block) -> str:
        return self.view.text[b[0]:b[1]]

    def body(self, b: Block) -> tuple[int, str]:
        """(offset in the view, text) of a block without its bullet or item mark."""
        t = self.text(b)
        m = _MARK_RE.match(t)
        k = m.end() if m else 0
        return b[0] + k, t[k:]


def _assignment(ctx: _Ctx, span: tuple[int, int], fields: dict[str, object], form: str = PROSE,
                row: str | None = None, path: tuple[str, ...] = ()) -> Assignment:
    start, end = ctx.view.span(*span)
    lead = tuple(fields.get("lead", ()))  # type: ignore[arg-type]
    conf = HIGH if lead and fields.get("task") else MEDIUM if lead else LOW
    return Assignment(
        ctx.doc.doc_id, collapse_ws(str(fields.get("task") or "")).strip(" ;,.:-"), lead,
        tuple(fields.get("coord", ())), fields.get("deadline") or None,  # type: ignore[arg-type]
        fields.get("result") or None, (), path or ctx.doc.section_path_at(start), start, end, form, row,
        conf,  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------- agencies in a clause


def _lead_clause(text: str, pos: int = 0) -> tuple[tuple[str, ...], tuple[str, ...], int]:
    """(leads, coordinators, end) of "X [chủ trì][, phối hợp với Y]" at ``text[pos:]``."""
    pre = _SUBJECT_PREFIX_RE.match(text, pos)
    pos = pre.end() if pre else pos
    leads, end = agencies_at(text, pos)
    coord: tuple[str, ...] = ()
    m = _CHU_TRI_RE.match(text, end)
    after = m.end() if m else end
    c = _PHOI_HOP_RE.match(text, after)
    if c:
        coord, after = agencies_at(text, c.end())
        after = max(after, c.end())
    return leads, coord, after


def coordinators(text: str) -> tuple[str, ...]:
    """Agencies named after every "phối hợp (với)" of ``text``."""
    out: list[str] = []
    for m in _PHOI_HOP_RE.finditer(text):
        out.extend(agencies_at(text, m.end())[0])
    return tuple(dict.fromkeys(out))


def _deadline(text: str) -> str | None:
    from ingest.assignments import prose_deadline  # one deadline grammar for every form

    return prose_deadline(text)


# ---------------------------------------------------------------- labelled fields


def _label(ctx: _Ctx, b: Block) -> tuple[str, int] | None:
    m = _FIELD_RE.match(ctx.text(b))
    if not m:
        return None
    label = m.group("label").lower()
    kind = ("coord" if "phối hợp" in label else "lead" if label.startswith(("cơ quan", "đơn vị"))
            else "task" if label.startswith("nội dung") else "result" if label.startswith(("sản phẩm", "kết quả"))
            else "deadline")
    return kind, b[0] + m.end()


def _task_before(ctx: _Ctx, k: int, floor: int) -> tuple[int, str]:
    """(block index, text) of the item a group of fields belongs to: the nearest item block above."""
    for j in range(k - 1, floor - 1, -1):
        t = ctx.text(ctx.blocks[j])
        if _label(ctx, ctx.blocks[j]) is None and t != "|" and not t.startswith(("+", "-", "•")):
            return j, ctx.body(ctx.blocks[j])[1]
    return k, ""


def _fill_lead(ctx: _Ctx, value_at: int, b: Block, fields: dict[str, object]) -> None:
    text = ctx.view.text[:b[1]]
    leads, coord, _ = _lead_clause(text, value_at)
    fields["lead"] = leads
    fields["coord"] = tuple(dict.fromkeys((*fields.get("coord", ()), *coord)))  # type: ignore[misc]


def _field_group(ctx: _Ctx, k: int, floor: int) -> tuple[list[Assignment], int]:
    """The assignments of the fields starting at block ``k``; and the index after them."""
    j0, task = _task_before(ctx, k, floor)
    fields: dict[str, object] = {"task": task}
    subs: list[Block] = []
    j = k
    while j < len(ctx.blocks):
        found = _label(ctx, ctx.blocks[j])
        if found is None:
            if subs is not None and ctx.text(ctx.blocks[j]).startswith("+") and j > k:
                subs.append(ctx.blocks[j])
                j += 1
                continue
            break
        kind, at = found
        b = ctx.blocks[j]
        value = ctx.view.text[at:b[1]]
        if kind == "lead":
            _fill_lead(ctx, at, b, fields)
        elif kind == "coord":
            fields["coord"] = agencies_at(ctx.view.text[:b[1]], at)[0]
        elif kind == "task" and value.strip():
            fields["task"] = value
        elif value.strip():
            fields[kind] = collapse_ws(value).strip(" .;")
        j += 1
    start, end = ctx.blocks[j0][0], ctx.blocks[j - 1][1]
    if subs and not fields.get("lead"):
        return [_sub_assignment(ctx, s, fields) for s in subs], j
    return [_assignment(ctx, (start, end), fields)], j


def _sub_assignment(ctx: _Ctx, b: Block, fields: dict[str, object]) -> Assignment:
    """One "+ Sở X chủ trì, phối hợp với …" line under a "Cơ quan thực hiện:" label."""
    at, body = ctx.body(b)
    leads, coord, end = _lead_clause(ctx.view.text[:b[1]], at)
    task = fields.get("task") or ctx.view.text[end:b[1]]
    return _assignment(ctx, b, {**fields, "lead": leads, "coord": coord, "task": task})


def _labelled(ctx: _Ctx) -> list[Assignment]:
    out: list[Assignment] = []
    k, floor = 0, 0
    while k < len(ctx.blocks):
        found = _label(ctx, ctx.blocks[k])
        if found and found[0] in ("lead", "coord"):
            got, k2 = _field_group(ctx, k, floor)
            out += [a for a in got if a.lead or a.coordinating]
            k, floor = k2, k2
            continue
        if found is None and _ITEM_RE.match(ctx.text(ctx.blocks[k])):
            floor = k
        k += 1
    return out


# ---------------------------------------------------------------- agency headings


def _heading_agencies(ctx: _Ctx, b: Block) -> tuple[str, ...]:
    """The agencies a heading line names ("1. Sở Y tế", "3. Đề nghị Ủy ban MTTQ tỉnh:"), else ()."""
    t = ctx.text(b)
    if not re.match(r"^(?:\d{1,2}|[A-ZĐ])\s*[.)]\s*", t):
        return ()
    at, body = ctx.body(b)
    pre = _SUBJECT_PREFIX_RE.match(body)
    off = pre.end() if pre else 0
    if opens_agency(body, off) is None or len(body) > 200:
        return ()
    leads, end = agencies_at(ctx.view.text[:b[1]], at + off)
    rest = re.sub(r"\([^)]*\)", "", ctx.view.text[end:b[1]]).strip(" :.-–")
    return leads if leads and not rest else ()


def _headed(ctx: _Ctx) -> list[Assignment]:
    out: list[Assignment] = []
    k = 0
    while k < len(ctx.blocks):
        leads = _heading_agencies(ctx, ctx.blocks[k])
        if not leads:
            k += 1
            continue
        j = k + 1
        while j < len(ctx.blocks) and not _ends_heading_scope(ctx, ctx.blocks[j]):
            j += 1
        out += _items_under(ctx, leads, ctx.blocks[k], list(ctx.blocks[k + 1:j]))
        k = j
    return out


def _ends_heading_scope(ctx: _Ctx, b: Block) -> bool:
    t = ctx.text(b)
    return bool(_PART_RE.match(t) or re.match(r"^\d{1,2}\s*\.\s*\S", t) or t == "|"
                or re.match(r"^(?:nơi nhận|tm\.|kt\.)", t, re.IGNORECASE))


def _items_under(ctx: _Ctx, leads: tuple[str, ...], head: Block, body: list[Block]) -> list[Assignment]:
    """One assignment per lettered item (with its bullets), else per bullet or paragraph."""
    if not body:
        return []
    lettered = [k for k, b in enumerate(body) if _LETTER_RE.match(ctx.text(b))]
    groups: list[list[Block]]
    if lettered:
        starts = lettered
        groups = [body[s:(starts[n + 1] if n + 1 < len(starts) else len(body))] for n, s in enumerate(starts)]
        if lettered[0] > 0:
            groups.insert(0, body[:lettered[0]])
    else:
        groups = [[b] for b in body]
    out = []
    for g in groups:
        text = " ".join(ctx.body(b)[1] for b in g)
        fields = {"lead": leads, "task": text, "coord": coordinators(text), "deadline": _deadline(text)}
        out.append(_assignment(ctx, (g[0][0], g[-1][1]), fields))
    return out


# ---------------------------------------------------------------- sentences


def _sentences(ctx: _Ctx, taken: list[tuple[int, int]]) -> list[Assignment]:
    out: list[Assignment] = []
    for b in ctx.blocks:
        at, body = ctx.body(b)
        if any(a < b[1] and b[0] < e for a, e in taken) or _label(ctx, b) or len(body) < 20:
            continue
        starts = [0] + [m.end() for m in _SENTENCE_RE.finditer(body)]
        item = _ITEM_RE.match(ctx.text(b)) is not None
        last: tuple[int, Assignment] | None = None  # (view start, assignment) of this block's last sentence
        for n, s in enumerate(starts):
            e = starts[n + 1] if n + 1 < len(starts) else len(body)
            got = _sentence(ctx, at + s, at + e, item and n == 0)
            if got is None and last is not None and _CHU_TRI_RE.match(body, s):
                out.pop()  # ``last`` is the block's latest record, out[-1]
                got = _continued(ctx, last, at + s, at + e)
                last = (last[0], got)
            elif got is not None:
                last = (at + s, got)
            if got:
                out.append(got)
    return out


def _continued(ctx: _Ctx, last: tuple[int, Assignment], a: int, b: int) -> Assignment:
    """The subject's assignment carried on by a sentence without a subject ("Chủ trì, phối hợp với Y …"):
    one assignment over both sentences, with the second one's coordinators."""
    start, prev = last
    text = ctx.view.text[:b]
    after = _CHU_TRI_RE.match(text, a).end()  # type: ignore[union-attr]
    fields = {"lead": prev.lead, "coord": tuple(dict.fromkeys(prev.coordinating + coordinators(text[after:b]))),
              "task": prev.task, "deadline": prev.deadline or _deadline(text[after:b])}
    return _assignment(ctx, (start, b), fields)


def _sentence(ctx: _Ctx, a: int, b: int, item: bool) -> Assignment | None:
    """An assignment when the sentence ``view[a:b]`` opens with "(Giao) X chủ trì / có trách nhiệm …", or
    (``item``: the sentence opens a numbered or lettered item) with a named body and its verb
    ("b) Bộ Xây dựng tổ chức triển khai …")."""
    text = ctx.view.text[:b]
    pre = _SUBJECT_PREFIX_RE.match(text, a)
    leads, end = agencies_at(text, pre.end() if pre else a)
    if not leads:
        return None
    resp = _RESPONSIBLE_RE.match(text, end)
    named = item and text[a:a + 1].isupper() and not text[a:a + 4].lower().startswith("các") \
        and starts_predicate(text, end)
    if resp is None and not named and not (pre and pre.group(0).lower().startswith("giao")):
        return None
    _, coord, after = _lead_clause(text, a)
    rest = text[after:b]
    fields = {"lead": leads, "coord": coord or coordinators(rest), "task": rest, "deadline": _deadline(rest)}
    return _assignment(ctx, (a, b), fields)


# ---------------------------------------------------------------- flattened tables

_COLUMNS = (
    ("lead", re.compile(r"chủ trì|thực hiện chính|cơ quan thực hiện|đơn vị thực hiện", re.IGNORECASE)),
    ("coord", re.compile(r"phối hợp", re.IGNORECASE)),
    ("deadline", re.compile(r"thời gian|thời hạn|tiến độ|hoàn thành", re.IGNORECASE)),
    ("result", re.compile(r"sản phẩm|kết quả|chỉ tiêu", re.IGNORECASE)),
    ("stt", re.compile(r"^\s*(?:stt|tt|số tt)\s*$", re.IGNORECASE)),
    ("task", re.compile(r"nhiệm vụ|nội dung|hoạt động|tên|giải pháp|công việc", re.IGNORECASE)),
)
_STT_RE = re.compile(r"^\s*\d{1,3}(?:\.\d{1,2})*\.?\s*$")
_GROUP_RE = re.compile(r"^\s*(?:[IVXLC]{1,6}|[A-ZĐ])\s*\.?\s*$")
Cell = tuple[int, int, str]


MAX_CELL_BLOCKS = 15  # a longer run of blocks between bars is text between two tables


def _cells(ctx: _Ctx) -> list[list[Cell]]:
    """Flattened tables: runs of cells, a cell being the blocks between two "|" blocks ("" between two bars)."""
    tables: list[list[Cell]] = []
    cur: list[Cell] = []
    seg: list[Block] = []
    bars = 0
    for b in ctx.blocks:
        if ctx.text(b) != "|":
            seg.append(b)
            continue
        if seg and len(seg) > MAX_CELL_BLOCKS:
            tables, cur = tables + ([cur] if cur else []), []
        elif seg and bars:
            cur.append((seg[0][0], seg[-1][1], "\n".join(ctx.text(x) for x in seg)))
        elif bars:
            cur.append((b[0], b[0], ""))
        seg, bars = [], bars + 1
    if cur:
        tables.append(cur)
    return tables


def _role(text: str) -> str:
    return next((r for r, pat in _COLUMNS if pat.search(text)), "other")


def _header_at(cells: list[Cell], k: int) -> tuple[list[str], int] | None:
    """Column roles of a header opening at cell ``k`` ("STT" / "TT") and the index after it; None when
    the cells from ``k`` are not a header with a lead column."""
    if _role(cells[k][2]) != "stt":
        return None
    roles = ["stt"]
    for j in range(k + 1, min(k + 12, len(cells))):
        t = cells[j][2]
        if not t.strip():
            return (roles, j) if "lead" in roles and len(roles) >= 3 else None
        roles.append(_role(t))
    return None


def _table_parts(cells: list[Cell]) -> list[tuple[list[str], list[Cell]]]:
    """(column roles, data cells) of every header of a run of cells and the cells up to the next one."""
    heads = [(k, h) for k in range(len(cells)) if (h := _header_at(cells, k))]
    out = []
    for n, (_, (roles, first)) in enumerate(heads):
        end = heads[n + 1][0] if n + 1 < len(heads) else len(cells)
        out.append((roles, cells[first:end]))
    return out


def _table_rows(cells: list[Cell], roles: list[str]) -> list[list[Cell]]:
    """Rows: a numbered row takes as many cells as there are columns; unnumbered runs continue it."""
    rows: list[list[Cell]] = []
    k = 0
    n = len(roles)
    while k < len(cells):
        if not cells[k][2].strip():
            k += 1
            continue
        width = n if _STT_RE.match(cells[k][2]) else _run(cells, k)
        rows.append(cells[k:k + width])
        k += width
    return rows


def _run(cells: list[Cell], k: int) -> int:
    j = k
    while j < len(cells) and cells[j][2].strip() and not _STT_RE.match(cells[j][2]):
        j += 1
    return max(j - k, 1)


def _tables(ctx: _Ctx) -> list[Assignment]:
    out: list[Assignment] = []
    for cells in _cells(ctx):
        for roles, data in _table_parts(cells):
            out += _table_assignments(ctx, roles, _table_rows(data, roles))
    return out


def _table_assignments(ctx: _Ctx, roles: list[str], rows: list[list[Cell]]) -> list[Assignment]:
    out: list[Assignment] = []
    group: tuple[str, ...] = ()
    last: dict[str, object] = {}
    for row in rows:
        if len(row) <= 2 and _GROUP_RE.match(row[0][2]):
            group = (collapse_ws(" ".join(c[2] for c in row)),)
            last = {}
            continue
        numbered = bool(_STT_RE.match(row[0][2]))
        rest = [r for r in roles if r not in ("stt", "lead", "coord")]  # merged lead cells: the row holds the rest
        cols = roles if numbered else rest[max(len(rest) - len(row), 0):]
        fields = _row_fields(dict(zip(cols, (c[2] for c in row), strict=False)))
        if not numbered:
            if not last or not fields.get("task"):
                continue
            fields = {**last, **{k: v for k, v in fields.items() if v}}
        else:
            last = {k: v for k, v in fields.items() if k in ("lead", "coord")}
        stt = row[0][2].strip(" .") if numbered else None
        out.append(_assignment(ctx, (row[0][0], row[-1][1]), fields, APPENDIX_TABLE, stt, group))
    return out


def _row_fields(cells: dict[str, str]) -> dict[str, object]:
    fields: dict[str, object] = {}
    for role, text in cells.items():
        text = text.strip()
        if role == "lead":
            fields["lead"] = _cell_agencies(text)
        elif role == "coord":
            fields["coord"] = _cell_agencies(text)
        elif role in ("task", "deadline", "result") and text:
            fields[role] = collapse_ws(text)
    return fields


def _cell_agencies(text: str) -> tuple[str, ...]:
    """Agencies of a table cell: its lines or "-" items, each a list of names."""
    out: list[str] = []
    for part in re.split(r"(?:^|\s)[-+•]\s+|\n", text):
        part = part.strip(" ;,.")
        if part:
            names = agencies_at(part[:1].upper() + part[1:], 0)[0]
            out.extend(names)
    return tuple(dict.fromkeys(out))


# ---------------------------------------------------------------- entry point


def grammar_assignments(doc: Document) -> list[Assignment]:
    """Assignments of the four forms above in a clean document (none for OCR documents)."""
    if doc.meta.ocr:
        return []
    view = reading_view(doc.text)
    ctx = _Ctx(doc, view, tuple(view.blocks()))
    tables = _tables(ctx)
    found = tables + _non_overlapping(_labelled(ctx), tables)
    found += _non_overlapping(_headed(ctx), found)
    spans = [ctx_span for a in found for ctx_span in [(_view_pos(view, a.start), _view_pos(view, a.end))]]
    found += _non_overlapping(_sentences(ctx, spans), found)
    return [a for a in found if a.lead or a.coordinating]


def _view_pos(view: View, orig: int) -> int:
    """Index in the view of the first character at or after ``orig`` in the original."""
    import bisect

    return bisect.bisect_left(view.offsets, orig)


def _non_overlapping(new: list[Assignment], old: list[Assignment]) -> list[Assignment]:
    return [a for a in new if not any(o.start < a.end and a.start < o.end for o in old)]
