"""Numeric targets ("chỉ tiêu") of a plan, keyed by a small indicator lexicon so that
plans can be compared ("tuổi thọ trung bình": 75,5 in one commune, 73 in the province).

What is extracted — "all" targets means:

* every numeric indicator of the objectives part ("II. MỤC TIÊU"; "I. MỤC TIÊU" in plans
  that have no purpose part), both the 2030 objectives and the 2045 vision: life
  expectancy, healthy years, height gain of children, vaccination rate, physical
  activity increase, free check-ups (at least once a year, from 2026/2027), doctors per
  commune clinic (4-5 / 4-6 by 2027), share of insured treatment at commune clinics,
  insurance coverage, clinics invested / handed over, stunting of children under five;
* every row of the indicator appendices — tables with a "Đến năm 2030" column (one
  target per row, period "2030") or with "2021-2025" and "2026-2030" columns (one
  target per row and period): the indicators above plus doctors and hospital beds per
  10,000 people, insured share of the labour force, clinics meeting the national
  standard, clean water.

Indicators that are not numbers ("bao phủ bảo hiểm y tế toàn dân", "miễn viện phí ở mức
cơ bản") are not targets here.  ``value`` is kept as printed: "75,5", "4-5", with
">" for "trên", ">=" for "từ … trở lên", "<" for "dưới", "+" for "tăng thêm".  An OCR
value outside an indicator's plausible range is repaired only in one case: ">175,5"
for life expectancy, where "≥" was read as ">1", becomes ">=75,5".
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from ingest.records import Document, Section
from ingest.textnorm import repaired


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    unit: str
    prose: tuple[str, ...]  # patterns over the repaired objectives text; group "v" = value
    row: str | None  # pattern for the indicator's label in an appendix table
    low: float = 0.0  # plausible range of the value
    high: float = 100.0


# Pattern pieces over the folded, OCR-repaired text ("tuổi" may read "tudi", "tubi").
_V = r"(?P<v>\d+(?:,\d+)?)"
_N = r"(?P<op>tren\s+|hon\s+|tu\s+)?" + _V
_OR_MORE = r"(?P<post>\s*%?\s*(?:tuoi\s+)?tr\w{1,2}\s+l\w{1,2}n)?"  # "… trở lên"
_LIFE = r"t\w{1,3}i\s+th\w\s+tr\w{2,4}\s+b\w{2,3}"
_HEALTHY = r"s\w\s+n\w{1,2}m\s+s\w{2,3}g\s+kh\w{1,2}e\s+m\w{2,3}h"
_HEIGHT = r"chi\w{1,2}u\s+cao\s+tr\w{2,4}\s+b\w{2,3}"
_VACCINE = r"ti\w{1,2}m\s+ch\w{1,3}g\s+c\w{1,2}c\s+v\w{1,2}c"
_CHECKUP = r"kh\w{1,2}m\s+s\w{1,3}c?\s+kh\w{1,2}e\s+d\w{1,2}nh"
_TREATMENT = r"kh\w{1,2}m\s+b\w{2,3}h,?\s+ch\w{1,3}\s+b\w{2,3}h"
_INSURANCE = r"b\w{1,2}o\s+hi\w{1,2}m\s+\w{1,2}\s+t\w"
_CLINIC = r"tr\w{1,2}m\s+y\s+t\w?"
_RAISE_RATE = r"t\w{1,2}ng\s+t\w\s+l\w{0,2}\s+"  # "Tăng tỷ lệ …"
_RISE = r"(?:t\w{1,2}ng\s+l\w{1,2}n\s+)?"  # "tăng lên"
_AT_LEAST = r"\w{1,2}t\s+nh\w{1,2}t\s+"  # "ít nhất"
_AT_LEAST_YEARLY = _AT_LEAST + r"m\w{1,2}i\s+n\w{1,2}m\s+(?P<v>\d+)\s+l\w{1,2}n"  # "… mỗi năm 1 lần"
_ACTIVITY = r"ho\w{1,2}t\s+d\w{1,2}ng\s+th\w\s+ch\w{1,2}t"

INDICATORS: tuple[Indicator, ...] = (
    Indicator("life_expectancy", "Tuổi thọ trung bình", "tuổi",
              (_LIFE + r"\s+(?:dat\s+)?" + _N + _OR_MORE,), _LIFE, 40, 100),
    Indicator("healthy_years", "Số năm sống khỏe mạnh", "năm",
              (_HEALTHY + r"\s+(?:dat\s+)?(?:t\w{1,2}i\s+thi\w{1,2}u\s+)?" + _RISE + _N,),
              _HEALTHY, 40, 100),
    Indicator("height_gain", "Tăng chiều cao trung bình trẻ em và thanh thiếu niên (1-18 tuổi)", "cm",
              (_HEIGHT + r"\s+c\w{1,3}\s+tr\w\s+em.{0,90}?(?P<v>\d+(?:,\d+)?)\s*cm",),
              r"t\w{1,2}ng\s+" + _HEIGHT, 0, 10),
    Indicator("vaccination", "Tỷ lệ tiêm chủng vắc-xin trong Chương trình tiêm chủng", "%",
              (_VACCINE + r".{0,90}?dat\s+" + _N + r"\s*%",), _VACCINE),
    Indicator("physical_activity", "Tỷ lệ người dân thường xuyên hoạt động thể chất (tăng thêm)", "%",
              (_ACTIVITY + r".{0,20}?t\w{1,2}ng\s+th\w{1,2}m\s+(?P<v>\d+)\s*%",), None),
    Indicator("free_checkup", "Khám sức khỏe định kỳ hoặc sàng lọc miễn phí (ít nhất mỗi năm)", "lần/năm",
              (_CHECKUP + r"\s+k\w.{0,90}?" + _AT_LEAST_YEARLY,), _CHECKUP),
    Indicator("doctors_per_commune_clinic", "Số bác sĩ tại trạm y tế xã", "bác sĩ",
              (_AT_LEAST + r"t\w{1,2}\s+(?P<v>\d+\s*(?:-|den)\s*\d+)\s+b\w{1,3}c\s+s",),
              None, 1, 20),
    Indicator("clinic_insured_treatment_share", "Tỷ lệ khám, chữa bệnh bảo hiểm y tế tại trạm y tế xã", "%",
              (_TREATMENT + r"\s+b\w{1,2}o\s+hi\w{1,2}m.{0,50}?(?P<op>tr\w{1,2}n\s+)" + _V + r"\s*%",),
              _RAISE_RATE + _TREATMENT),
    Indicator("insurance_coverage", "Tỷ lệ bao phủ bảo hiểm y tế", "%",
              (r"bao\s+ph\w\s+" + _INSURANCE + r".{0,12}?dat\s+" + _N + r"\s*%",
               r"b\w{1,2}o\s+hi\w{1,2}m\s+y\s+t\w\s+dat\s+" + _N + r"\s*%" + _OR_MORE),
              r"bao\s+ph\w\s+b\w{1,2}o\s+hi\w{1,2}m\s+y\s+t"),
    Indicator("clinic_investment", "Trạm y tế xã được đầu tư cơ sở vật chất, thiết bị, nhân lực", "%",
              (r"(?P<v>\d+)\s*%\s+tr\w{1,2}m\s+y\s+\w{1,2}\s+c\w{1,2}p\s+x\w?\s+d\w{1,3}c\s+d\w{1,3}u\s+t",),
              _CLINIC + r"\s+c\w{1,2}p\s+xa\s+d\w{1,3}c\s+d\w{1,3}u"),
    Indicator("clinic_handover", "Trạm y tế chuyển giao về UBND xã quản lý", "%",
              (r"chuy\w{1,2}n\s+giao\s+(?P<v>\d+)\s*%\s+" + _CLINIC,), None),
    Indicator("child_stunting", "Suy dinh dưỡng thể thấp còi ở trẻ em dưới 5 tuổi", "%",
              (r"suy\s+dinh\s+d\w{1,4}ng.{0,80}?(?P<op><|duoi\s+)\s*(?P<v>\d+(?:,\d+)?)\s*%",), None),
    Indicator("doctors_per_10k", "Số bác sĩ trên 10.000 dân", "bác sĩ/vạn dân", (),
              r"so\s+bac\s+s\w{1,2}\s*/\s*van\s+dan", 0, 50),
    Indicator("beds_per_10k", "Số giường bệnh trên 10.000 dân", "giường/vạn dân", (),
              r"so\s+giuong\s+benh\s*/\s*van\s+dan", 0, 100),
    Indicator("labour_social_insurance", "Tỷ lệ lực lượng lao động tham gia bảo hiểm xã hội", "%", (),
              _RAISE_RATE + r"ngu\w{1,2}i\s+tham\s+gia\s+b\w{1,2}o\s+hi\w{1,2}m\s+xa"),
    Indicator("standard_commune_clinics", "Tỷ lệ trạm y tế xã đạt chuẩn quốc gia", "%", (),
              _CLINIC + r"\s+xa\s+dat\s+chuan"),
    Indicator("clean_water", "Tỷ lệ dân số được sử dụng nước sạch", "%", (),
              r"d\w{1,2}n\s+s\w\s+d\w{1,3}c\s+s\w?\s+d\w{1,2}ng\s+nu\w{1,2}c\s+sach"),
)
BY_KEY = {ind.key: ind for ind in INDICATORS}


@dataclass(frozen=True)
class Target:
    doc_id: str
    indicator: str  # key in INDICATORS ("life_expectancy")
    value: str  # as printed: "75,5", ">95", "4-5", "+10"
    unit: str
    period: str  # "2030", "2045", "từ 2026", "2026-2030"
    section_path: tuple[str, ...]
    start: int  # span of the source text in Document.text
    end: int
    label: str = ""  # the indicator's label ("Tuổi thọ trung bình")

    @property
    def source_span(self) -> tuple[int, int]:
        return self.start, self.end

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["section_path"] = list(self.section_path)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Target:
        return cls(d["doc_id"], d["indicator"], d["value"], d["unit"], d["period"], tuple(d["section_path"]),
                   int(d["start"]), int(d["end"]), d.get("label", ""))


def extract_targets(doc: Document) -> list[Target]:
    """Objectives-part and indicator-appendix targets of a plan, in document order."""
    out = _objectives(doc) + _appendices(doc)
    return sorted(out, key=lambda t: (t.start, t.indicator, t.period))


# ---------------------------------------------------------------- values


def _number(v: str) -> float:
    return float(v.replace(",", ".").split("-")[0])


def _op(op: str | None, post: str | None) -> str:
    """"trên" → ">", "dưới" → "<", "từ … trở lên" / "… trở lên" → ">=", as printed otherwise."""
    op = (op or "").strip()
    if op.startswith(("tr", "hon", ">")):
        return ">"
    if op.startswith(("duoi", "<")):
        return "<"
    return ">=" if post else ""


def _value(ind: Indicator, op: str | None, v: str, post: str | None = None) -> str | None:
    """The value as printed with its comparison, or None when OCR made it implausible."""
    v = re.sub(r"\s*(?:-|den)\s*", "-", v.strip())
    prefix = "+" if ind.key == "physical_activity" else _op(op, post)
    if not ind.low <= _number(v) <= ind.high:
        if prefix == ">" and v.startswith("1") and ind.low <= _number(v[1:] or "0") <= ind.high:
            return ">=" + v[1:]  # "≥" read by OCR as ">1"
        return None
    return prefix + v


# ---------------------------------------------------------------- objectives part

_UNTIL_RE = re.compile(r"\b(d\w{1,2}n|t\w{0,2})\s+n\w{1,2}m\s+(20\d\d)\b")
_YEAR_RE = re.compile(r"\b(20\d\d)\b")
_CLAUSE_RE = re.compile(r"[.;]\s|\s-\s")


def _period(secs: list[Section], rep: str, pos: int, offset: int) -> str:
    """"đến năm 2026"/"từ năm 2026" in the clause before ``rep[pos]``, else the year in the title
    of the subsection holding it ("Tầm nhìn đến năm 2045"); ``offset`` maps ``rep`` to the document."""
    clause_start = max([m.end() for m in _CLAUSE_RE.finditer(rep, 0, pos)] + [0])
    until = list(_UNTIL_RE.finditer(rep, clause_start, pos))
    if until:
        kind, year = until[-1].group(1), until[-1].group(2)
        return f"từ {year}" if kind.startswith("t") else year
    for sec in sorted((s for s in secs if s.start <= pos + offset < s.end), key=lambda s: -len(s.path)):
        years = _YEAR_RE.findall(repaired(sec.title))
        if years:
            return years[-1]
    return "2030"


def _objectives(doc: Document) -> list[Target]:
    part = next((s for s in doc.sections if s.kind == "part" and "muc tieu" in repaired(s.path[0])), None)
    if part is None:
        return []
    secs = [s for s in doc.sections if s.path[:1] == part.path and part.start <= s.start < part.end]
    rep = re.sub(r"\s", " ", repaired(doc.text[part.start:part.end]))
    out = []
    for ind in INDICATORS:
        for m in (m for pattern in ind.prose for m in re.finditer(pattern, rep)):
            g = m.groupdict()
            value = _value(ind, g.get("op"), g["v"], g.get("post"))
            if value is not None:
                start = part.start + m.start()
                holding = (s for s in secs if s.start <= start < s.end)
                sec = max(holding, key=lambda s: len(s.path), default=part)
                period = _period(secs, rep, m.start(), part.start)
                out.append(Target(doc.doc_id, ind.key, value, ind.unit, period, sec.path, start,
                                  part.start + m.end(), ind.label))
    return _dedupe(out)


def _dedupe(targets: list[Target]) -> list[Target]:
    """One target per indicator and period in a section (a second pattern may read the same words)."""
    seen: dict[tuple[str, str, str], Target] = {}
    for t in sorted(targets, key=lambda t: t.start):
        key = (t.indicator, t.period, t.value)
        if key not in seen or not (seen[key].start <= t.start < seen[key].end):
            seen.setdefault(key, t)
    return list(seen.values())


# ---------------------------------------------------------------- indicator appendices

# The unit column, then the value column(s).  OCR reads "%" as "%0" or as a lone "o" (then
# the value must follow on the same line: a lone "o" ending a line is a garbled word).
_UNIT = r"(?P<unit>%0?|\bcm\b|\bn\w?m\b|\btuoi\b|\bgiuong\b|\bbac\s+s\w\b|\bo\b(?=[ \t,.-]*[<>\d]))"
_VAL = r"(?P<op{n}>[<>][ \t]?)?(?!20\d\d\b)(?P<v{n}>\d+(?:,\d+)?)(?![\d/,-])"
_ONE_RE = re.compile(_UNIT + r"\s*[,.]?\s*-?\s*" + _VAL.format(n=1))
_TWO_RE = re.compile(_UNIT + r"\s+" + _VAL.format(n=1) + r"\s+" + _VAL.format(n=2))
_TWO_PERIODS_RE = re.compile(r"(20\d\d)\s*-\s*(20\d\d)\s+(20\d\d)\s*-\s*(20\d\d)")
_BY_YEAR_RE = re.compile(r"\bd\w{1,2}n\s+n\w{1,2}m\b")
_PERCENT_UNITS = ("%", "%0", "o")


def _periods(head: str) -> tuple[str, ...]:
    """Value columns of an indicator table, from its header: ("2021-2025", "2026-2030") or ("2030",)."""
    m = _TWO_PERIODS_RE.search(head)
    if m:
        return f"{m.group(1)}-{m.group(2)}", f"{m.group(3)}-{m.group(4)}"
    by = _BY_YEAR_RE.search(head)
    year = re.search(r"(?<![/\d])(20\d\d)(?![\d/-])", head[by.end():by.end() + 120]) if by else None
    return (year.group(1),) if year else ()


def _row_labels(rep: str) -> list[tuple[int, int, Indicator]]:
    """Indicator labels of an appendix table, in order: each opens a row."""
    found = [(m.start(), m.end(), ind) for ind in INDICATORS if ind.row for m in re.finditer(ind.row, rep)]
    return sorted(found, key=lambda x: x[0])


Label = tuple[int, int, Indicator]  # span of an indicator's label in an appendix, and the indicator


def _row_value(rep: str, labels: list[Label], k: int, two: bool) -> tuple[re.Match[str] | None, int]:
    """The value(s) of the row opened by label ``k``, and the index of the next row's label.
    A label whose row shows no value shares the next label's row ("… trong đó số năm …")."""
    nxt = k + 1
    while True:
        stop = labels[nxt][0] if nxt < len(labels) else len(rep)
        m = (_TWO_RE if two else _ONE_RE).search(rep, labels[k][1], stop)
        if m or nxt >= len(labels):
            return m, nxt + (0 if m else 1)
        nxt += 1


def _appendix_targets(doc: Document, sec: Section, periods: tuple[str, ...], rep: str) -> list[Target]:
    labels = _row_labels(rep)
    out: list[Target] = []
    k = 0
    while k < len(labels):
        m, nxt = _row_value(rep, labels, k, len(periods) == 2)
        ind = labels[k][2]
        if m:
            unit = "%" if m.group("unit") in _PERCENT_UNITS else ind.unit
            for n, period in enumerate(periods, start=1):
                value = _value(ind, m.group(f"op{n}"), m.group(f"v{n}"))
                if value is not None:
                    out.append(Target(doc.doc_id, ind.key, value, unit, period, sec.path,
                                      sec.start + labels[k][0], sec.start + m.end(), ind.label))
        k = nxt
    return out


def _appendices(doc: Document) -> list[Target]:
    out = []
    for sec in (s for s in doc.sections if s.kind == "appendix"):
        rep = repaired(doc.text[sec.start:sec.end])
        labels = _row_labels(rep)
        head = re.sub(r"\s+", " ", rep[: labels[0][0]]) if labels else ""
        periods = _periods(head)
        if periods and not re.search(r"chu\s+tri", head):
            out.extend(_appendix_targets(doc, sec, periods, rep))
    return out
