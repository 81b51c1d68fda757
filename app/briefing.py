"""Briefing for trainers: who does what (assignments) and which targets each plan sets, side by side.

Pure functions shared by the API (``/api/assignments``, ``/api/targets``, ``/api/briefing.docx``) and the
UI's "Tóm tắt" tab: filtering with Vietnamese error messages, the targets matrix (rows = indicators,
columns = plans), the bars of one indicator across plans, and the Word briefing note (python-docx).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from docx import Document as new_docx
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from ingest.agencies import agency_key
from ingest.assignments import Assignment
from ingest.reader import xml_safe
from ingest.records import NO_NUMBER, UNKNOWN_TYPE, plan_reference
from ingest.targets import BY_KEY, INDICATORS, Target
from ingest.textnorm import fold, nfc
from retriever.facts import filter_targets, resolve_docs, target_label

BRIEFING_TITLE = "Tài liệu tóm tắt phân công nhiệm vụ và chỉ tiêu thực hiện Nghị quyết 72-NQ/TW"
DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ASSIGNMENTS_CSV = "phan-cong-nhiem-vu.csv"
TARGETS_CSV = "chi-tieu-cac-ke-hoach.csv"
BRIEFING_DOCX = "tom-tat-phan-cong-chi-tieu-NQ72.docx"
TASK_CLIP = 220  # characters of a task shown in the UI table (the CSV and the Word note keep it whole)

_WORDS = re.compile(r"[a-z0-9]+")
_NUMBER = re.compile(r"\d+(?:,\d+)?")
_YEAR = re.compile(r"(?:19|20)\d\d")
_SUB_LABEL = re.compile(r"^\s*([0-9IVX]{1,4}(?:\.[0-9]{1,2})*)\b")
_OPERATORS = ((">=", "≥ "), ("<=", "≤ "), (">", "> "), ("<", "< "))


class FilterError(ValueError):
    """A filter value that matches nothing; ``param`` names the query parameter, the message is Vietnamese."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


# ---- plans ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanColumn:
    """One plan as a column of the targets matrix."""

    doc_id: str
    label: str  # "07-KH/TU", or "Kế hoạch xã Mường La" for a plan printed without a number
    place: str  # "tỉnh Điện Biên" ("" when unknown)


def plan_short_label(doc: Any) -> str:
    """Short name of a plan for a column or a table cell: its number, else "Kế hoạch xã Mường La"."""
    m = doc.meta
    if m.number:
        return m.number
    where = m.locality or m.issuer or doc.source_file
    return f"{m.doc_type or UNKNOWN_TYPE} {where}"


def plan_column(doc: Any) -> PlanColumn:
    place = (doc.meta.locality or "") if doc.meta.number else ""
    return PlanColumn(doc.doc_id, plan_short_label(doc), place)


def covered_plans(documents: Mapping[str, Any], assignments: Iterable[Assignment],
                  targets: Iterable[Target]) -> list[Any]:
    """The plans the records come from, in index order."""
    ids = {a.doc_id for a in assignments} | {t.doc_id for t in targets}
    return [d for d_id, d in documents.items() if d_id in ids]


# ---- filters -------------------------------------------------------------------------------------------
def _words(text: str) -> list[str]:
    return _WORDS.findall(fold(nfc(text)))


def _contains(words: list[str], part: list[str]) -> bool:
    n = len(part)
    return n > 0 and any(words[i:i + n] == part for i in range(len(words) - n + 1))


def agency_matcher(query: str) -> Callable[[Iterable[str]], bool]:
    """A test of an assignment's lead agencies: true when one's name contains the words of ``query``, with or
    without diacritics ("so y te", "trạm y tế"), or of the agency the query abbreviates ("UBND xã")."""
    wanted = [w for w in (_words(query), agency_key(query).split()) if w]

    def matches(leads: Iterable[str]) -> bool:
        return any(_contains(_words(lead), w) for lead in leads for w in wanted)

    return matches


def resolve_plan(documents: Mapping[str, Any], ref: str) -> set[str]:
    """Doc ids a plan reference names (doc id, file name, number as printed, or place); FilterError."""
    try:
        return resolve_docs(dict(documents), ref)
    except ValueError as exc:
        raise FilterError("doc", f"không có kế hoạch nào khớp với “{ref}”; dùng mã văn bản, số hiệu "
                                 "như in trên văn bản (dạng SỐ/KH-UBND, SỐ-KH/TU) hoặc tên địa bàn (xã, phường, tỉnh); "
                                 "xem danh sách tại /api/documents") from exc


def select_assignments(facts: Any, documents: Mapping[str, Any], doc: str | None = None,
                       agency: str | None = None) -> list[Assignment]:
    """Assignments of the plans ``doc`` names, led by an agency whose name contains ``agency``."""
    out: list[Assignment] = list(facts.assignments)
    if doc and doc.strip():
        ids = resolve_plan(documents, doc.strip())
        out = [a for a in out if a.doc_id in ids]
    if agency and agency.strip():
        matches = agency_matcher(agency.strip())
        out = [a for a in out if matches(a.lead)]
    return out


def indicator_help() -> str:
    return "; ".join(f"{ind.key} ({ind.label})" for ind in INDICATORS)


def select_targets(facts: Any, documents: Mapping[str, Any], indicator: str | None = None,
                   doc: str | None = None) -> list[Target]:
    """Targets of the plans ``doc`` names for ``indicator`` (key or words such as "tuổi thọ")."""
    doc = doc.strip() if doc and doc.strip() else None
    indicator = indicator.strip() if indicator and indicator.strip() else None
    if doc:
        resolve_plan(documents, doc)  # an unknown plan is reported as such, not as an unknown indicator
    if indicator:
        words = _words(indicator)  # a label copied from a table ("Tuổi thọ trung bình") names its key
        indicator = next((ind.key for ind in INDICATORS if _words(ind.label) == words), indicator)
    try:
        return filter_targets(facts, dict(documents), indicator, doc)
    except ValueError as exc:
        raise FilterError("indicator", f"không có chỉ tiêu “{indicator}”; dùng mã hoặc tên chỉ tiêu, ví dụ "
                                       f"“tuổi thọ”. Các chỉ tiêu: {indicator_help()}") from exc


# ---- formatting ----------------------------------------------------------------------------------------
def clip(text: str, limit: int = TASK_CLIP) -> str:
    """Whitespace collapsed; cut at a word boundary with "…" past ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return cut + "…"


def format_value(t: Target) -> str:
    """ "≥ 75,5 tuổi", "95%", "4-5 bác sĩ", "+10%"."""
    value = t.value
    for op, shown in _OPERATORS:
        if value.startswith(op):
            value = shown + value[len(op):]
            break
    return f"{value}%" if t.unit == "%" else f"{value} {t.unit}".strip()


def format_target(t: Target) -> str:
    """ "75,5 tuổi (2030)"."""
    return f"{format_value(t)} ({t.period})" if t.period else format_value(t)


def _end_year(period: str) -> int:
    years = _YEAR.findall(period)
    return int(years[-1]) if years else 9999


def _cell_order(t: Target) -> tuple[int, int]:
    """The 2030 horizon first (what Resolution 72 sets), then the other milestones by year."""
    end = _end_year(t.period)
    return (0 if end == 2030 else 1, end)


def number_of(value: str) -> float | None:
    """The largest number printed in a value ("4-5" → 5, ">=75,5" → 75.5), None if none."""
    nums = [float(n.replace(",", ".")) for n in _NUMBER.findall(value)]
    return max(nums) if nums else None


# ---- targets across plans ------------------------------------------------------------------------------
@dataclass(frozen=True)
class MatrixRow:
    indicator: str  # key ("life_expectancy")
    label: str  # "Tuổi thọ trung bình"
    cells: tuple[str, ...]  # one per column: its targets, one per line ("" where the plan sets none)


def _by_plan_and_indicator(targets: Iterable[Target]) -> dict[tuple[str, str], list[Target]]:
    out: dict[tuple[str, str], list[Target]] = {}
    for t in targets:
        out.setdefault((t.doc_id, t.indicator), []).append(t)
    return {k: sorted(v, key=_cell_order) for k, v in out.items()}


def _cell(targets: Sequence[Target]) -> str:
    return "\n".join(dict.fromkeys(format_target(t) for t in targets))


def targets_matrix(targets: Sequence[Target], documents: Mapping[str, Any]
                   ) -> tuple[list[PlanColumn], list[MatrixRow]]:
    """Targets side by side: one column per plan (index order), one row per indicator (lexicon order);
    a cell lists the plan's values for that indicator, the 2030 horizon first ("75,5 tuổi (2030)")."""
    columns = [plan_column(d) for d in covered_plans(documents, (), targets)]
    grouped = _by_plan_and_indicator(targets)
    present = {t.indicator for t in targets}
    rows = []
    for ind in INDICATORS:
        if ind.key not in present:
            continue
        label = next((target_label(t) for t in targets if t.indicator == ind.key), ind.label)
        cells = tuple(_cell(grouped.get((c.doc_id, ind.key), ())) for c in columns)
        rows.append(MatrixRow(ind.key, label, cells))
    return columns, rows


@dataclass(frozen=True)
class Bar:
    column: PlanColumn
    value: float
    text: str  # "75,5 tuổi (2030)"


def indicator_bars(targets: Sequence[Target], documents: Mapping[str, Any], indicator: str) -> list[Bar]:
    """One bar per plan for ``indicator``: the plan's 2030-horizon value (else its first milestone)."""
    grouped = _by_plan_and_indicator(t for t in targets if t.indicator == indicator)
    bars = []
    for d in covered_plans(documents, (), targets):
        found = grouped.get((d.doc_id, indicator))
        value = number_of(found[0].value) if found else None
        if found and value is not None:
            bars.append(Bar(plan_column(d), value, format_target(found[0])))
    return bars


def indicator_choices(targets: Iterable[Target]) -> list[tuple[str, str]]:
    """(label, key) of the indicators present, in lexicon order."""
    present = {t.indicator for t in targets}
    return [(ind.label, ind.key) for ind in INDICATORS if ind.key in present]


# ---- assignments as table rows -------------------------------------------------------------------------
def assignment_table(assignments: Iterable[Assignment], documents: Mapping[str, Any],
                     limit: int | None = TASK_CLIP) -> list[list[str]]:
    """[task, lead, coordinating, deadline, plan] per assignment; the task clipped to ``limit`` characters."""
    rows = []
    for a in assignments:
        task = clip(a.task, limit) if limit else " ".join(a.task.split())
        rows.append([task, "; ".join(a.lead), "; ".join(a.coordinating), a.deadline or "",
                     plan_short_label(documents[a.doc_id])])
    return rows


# ---- sources -------------------------------------------------------------------------------------------
def source_references(documents: Mapping[str, Any], assignments: Iterable[Assignment],
                      targets: Iterable[Target]) -> list[str]:
    """One reference per plan and top-level section (in reading order), naming the sub-items drawn from:
    "Kế hoạch số 07-KH/TU của …, ngày 21/11/2025, mục IV. TỔ CHỨC THỰC HIỆN (tiểu mục 1, 2, 3)"."""
    subs: dict[tuple[str, str], list[str]] = {}
    first: dict[tuple[str, str], int] = {}
    for rec in [*assignments, *targets]:
        path = rec.section_path or ("Phần mở đầu",)
        key = (rec.doc_id, path[0])
        first[key] = min(first.get(key, rec.start), rec.start)
        items = subs.setdefault(key, [])
        m = _SUB_LABEL.match(path[1]) if len(path) > 1 else None
        if m and m.group(1) not in items:
            items.append(m.group(1))
    order = {d: i for i, d in enumerate(documents)}
    refs = []
    for doc_id, head in sorted(subs, key=lambda k: (order.get(k[0], 0), first[k])):
        items = sorted(subs[(doc_id, head)], key=_sub_order)
        m = documents[doc_id].meta
        ref = plan_reference(m.doc_type, m.number, m.issuer, m.date, head.strip(" .:"))
        refs.append(ref + (f" (tiểu mục {', '.join(items)})" if items else ""))
    return refs


_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}


def _sub_order(label: str) -> tuple[int, ...]:
    return tuple(_ROMAN.get(p, int(p) if p.isdigit() else 99) for p in label.split("."))


# ---- the Word briefing note ----------------------------------------------------------------------------
_FONT = "Times New Roman"
_HEAD_FILL = "F2DCDB"
_ASSIGNMENT_HEADERS = ("STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời hạn", "Văn bản", "Mục")
_ASSIGNMENT_WIDTHS = (1.0, 9.2, 3.6, 3.6, 2.5, 2.8, 4.0)  # cm, landscape A4 with 1.5 cm margins
_PLAN_HEADERS = ("Số hiệu", "Loại văn bản", "Cơ quan ban hành", "Địa bàn", "Ngày ban hành")
_PLAN_WIDTHS = (3.2, 4.5, 9.0, 5.5, 4.5)
_USABLE_CM = 26.7


def _setup(doc: Any) -> None:
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.LANDSCAPE
    sec.page_width, sec.page_height = Cm(29.7), Cm(21.0)
    sec.left_margin = sec.right_margin = Cm(1.5)
    sec.top_margin = sec.bottom_margin = Cm(1.8)
    normal = doc.styles["Normal"]
    normal.font.name = _FONT
    normal.font.size = Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), _FONT)
    for name in ("Title", "Heading 1", "Heading 2"):
        style = doc.styles[name]
        style.font.name = _FONT
        style.font.color.rgb = RGBColor(0x99, 0x1B, 0x1B)
    doc.styles["Title"].font.size = Pt(18)
    doc.styles["Heading 1"].font.size = Pt(14)
    doc.core_properties.title = BRIEFING_TITLE
    doc.core_properties.language = "vi-VN"


def _shade(cell: Any, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def _repeat_header(row: Any) -> None:
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(flag)


def _write(cell: Any, text: str, bold: bool = False, size: float = 10.5) -> None:
    lines = xml_safe(text).split("\n") if text else [""]
    para = cell.paragraphs[0]
    for i, line in enumerate(lines):
        run = para.add_run(line)
        run.bold = bold
        run.font.size = Pt(size)
        if i < len(lines) - 1:
            run.add_break()


def _table(doc: Any, headers: Sequence[str], rows: Sequence[Sequence[str]], widths_cm: Sequence[float]) -> Any:
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        _write(cell, text, bold=True)
        _shade(cell, _HEAD_FILL)
    _repeat_header(table.rows[0])
    for values in rows:
        for cell, text in zip(table.add_row().cells, values, strict=True):
            _write(cell, text)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm, strict=True):
            cell.width = Cm(width)
    return table


def _plans_section(doc: Any, plans: Sequence[Any]) -> None:
    doc.add_heading("1. Các kế hoạch được tổng hợp", level=1)
    if not plans:
        doc.add_paragraph("Không có kế hoạch nào khớp với bộ lọc.")
        return
    rows = [[p.meta.number or NO_NUMBER, p.meta.doc_type or "", p.meta.issuer or "", p.meta.locality or "",
             p.meta.date or ""] for p in plans]
    _table(doc, _PLAN_HEADERS, rows, _PLAN_WIDTHS)


def _assignments_section(doc: Any, documents: Mapping[str, Any], assignments: Sequence[Assignment]) -> None:
    doc.add_heading("2. Phân công nhiệm vụ", level=1)
    if not assignments:
        doc.add_paragraph("Không có nhiệm vụ nào khớp với bộ lọc.")
        return
    doc.add_paragraph(f"{len(assignments)} nhiệm vụ, theo thứ tự trong từng kế hoạch.")
    rows = [[str(i), *cells[:4], cells[4], " › ".join(a.section_path)]
            for i, (a, cells) in enumerate(zip(assignments, assignment_table(assignments, documents, None),
                                               strict=True), start=1)]
    _table(doc, _ASSIGNMENT_HEADERS, rows, _ASSIGNMENT_WIDTHS)


def _targets_section(doc: Any, documents: Mapping[str, Any], targets: Sequence[Target]) -> None:
    doc.add_heading("3. Chỉ tiêu của các kế hoạch (so sánh)", level=1)
    if not targets:
        doc.add_paragraph("Không có chỉ tiêu nào khớp với bộ lọc.")
        return
    doc.add_paragraph("Mỗi ô ghi giá trị, đơn vị và mốc thời gian (năm hoặc giai đoạn) của chỉ tiêu; "
                      "mốc năm 2030 ghi trước.")
    columns, rows = targets_matrix(targets, documents)
    first = 6.0
    rest = (_USABLE_CM - first) / max(len(columns), 1)
    headers = ["Chỉ tiêu", *[c.label + (f"\n({c.place})" if c.place else "") for c in columns]]
    _table(doc, headers, [[r.label, *r.cells] for r in rows], [first, *[rest] * len(columns)])


def _sources_section(doc: Any, refs: Sequence[str]) -> None:
    doc.add_heading("Nguồn trích dẫn", level=1)
    for i, ref in enumerate(refs, start=1):
        doc.add_paragraph(xml_safe(f"{i}. {ref}" + ("" if ref.endswith((".", "…", ")")) else ".")))


def build_briefing_docx(documents: Mapping[str, Any], assignments: Sequence[Assignment],
                        targets: Sequence[Target], *, scope: str | None = None,
                        today: date | None = None) -> bytes:
    """The Word briefing note: title, plans covered, assignments table, targets across plans, sources."""
    doc = new_docx()
    _setup(doc)
    doc.add_heading(BRIEFING_TITLE, level=0)
    plans = covered_plans(documents, assignments, targets)
    intro = (f"Tổng hợp ngày {(today or date.today()):%d/%m/%Y} từ {len(plans)} kế hoạch, chương trình đã "
             f"lập chỉ mục: {len(assignments)} nhiệm vụ được phân công, {len(targets)} chỉ tiêu.")
    doc.add_paragraph(intro)
    if scope:
        doc.add_paragraph(xml_safe(scope)).runs[0].italic = True
    _plans_section(doc, plans)
    _assignments_section(doc, documents, assignments)
    _targets_section(doc, documents, targets)
    _sources_section(doc, source_references(documents, assignments, targets))
    note = doc.add_paragraph("Nội dung được trích tự động từ văn bản gốc (một số văn bản là bản scan nhận dạng "
                             "chữ tự động); hãy đối chiếu văn bản gốc trước khi sử dụng.")
    note.runs[0].italic = True
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def scope_text(doc: str | None = None, agency: str | None = None, indicator: str | None = None) -> str | None:
    """ "Phạm vi lọc: văn bản 07-KH/TU; cơ quan chủ trì “so y te”" (None without filters)."""
    label = BY_KEY[indicator].label if indicator in BY_KEY else indicator
    parts = [f"{name} “{value.strip()}”" for name, value in
             (("văn bản", doc), ("cơ quan chủ trì", agency), ("chỉ tiêu", label)) if value and value.strip()]
    return "Phạm vi lọc: " + "; ".join(parts) + "." if parts else None
