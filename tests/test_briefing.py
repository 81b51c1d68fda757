"""Briefing: /api/assignments, /api/targets, /api/briefing.docx and the pure helpers of app/briefing.py."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from types import SimpleNamespace

import docx
import pytest
from fastapi.testclient import TestClient

from app import briefing
from app.api import create_app
from app.export import ASSIGNMENT_COLUMNS, TARGET_COLUMNS
from app.settings import Settings
from ingest.targets import Target
from retriever.service import Retriever

BOM = "\ufeff"
LIFE = "Tuổi thọ trung bình"
DIEN_BIEN_REF = "Kế hoạch số 07-KH/TU của Ban Thường vụ Tỉnh ủy Điện Biên, ngày 21/11/2025, mục "


def _json(client: TestClient, path: str, **params: str) -> list[dict]:
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def _csv(text: str) -> list[dict]:
    assert text.startswith(BOM)
    return list(csv.DictReader(io.StringIO(text[1:])))


# ---- /api/assignments -------------------------------------------------------------------------------------
def test_assignments_by_agency_without_diacritics(client: TestClient) -> None:
    rows = _json(client, "/api/assignments", agency="so y te")
    assert len(rows) >= 10
    assert all("Sở Y tế" in r["lead"] for r in rows)
    assert set(rows[0]) == {*ASSIGNMENT_COLUMNS, "printed"}  # printed: columns of an OCR plan as printed
    assert _json(client, "/api/assignments", agency="Sở Y tế") == rows


def test_assignments_by_place(client: TestClient) -> None:
    rows = _json(client, "/api/assignments", doc="Mường La")
    assert len(rows) == 48
    assert {r["issuer"] for r in rows} == {"Ủy ban nhân dân xã Mường La"}
    row = next(r for r in rows if r["row"] == "6.1")
    assert row["lead"] == "Công an xã"
    both = _json(client, "/api/assignments", doc="Mường La", agency="cong an xa")
    assert row in both and all("Công an xã" in r["lead"] for r in both)


def test_assignments_csv_download(client: TestClient) -> None:
    r = client.get("/api/assignments", params={"doc": "07-KH/TU", "format": "csv"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == f'attachment; filename="{briefing.ASSIGNMENTS_CSV}"'
    assert r.content.startswith(b"\xef\xbb\xbf")
    text = r.content.decode("utf-8")
    assert text[1:].splitlines()[0] == ",".join(ASSIGNMENT_COLUMNS)
    rows = _csv(text)
    assert len(rows) == len(_json(client, "/api/assignments", doc="07-KH/TU")) > 0
    assert {row["doc_number"] for row in rows} == {"07-KH/TU"}


def test_empty_filters_mean_no_filter(client: TestClient) -> None:
    everything = _json(client, "/api/assignments")
    assert _json(client, "/api/assignments", doc="", agency=" ") == everything
    assert len({r["source_file"] for r in everything}) == 5


# ---- /api/targets -----------------------------------------------------------------------------------------
def test_targets_for_life_expectancy(client: TestClient) -> None:
    rows = _json(client, "/api/targets", indicator="tuổi thọ")
    assert rows and {r["indicator"] for r in rows} == {"life_expectancy"}
    assert set(rows[0]) == {*TARGET_COLUMNS, "printed"}
    assert any(r["doc_number"] == "07-KH/TU" and r["period"] == "2030" and r["value"] == "73" for r in rows)
    assert _json(client, "/api/targets", indicator="tuoi tho") == rows
    assert _json(client, "/api/targets", indicator="life_expectancy") == rows


def test_targets_csv(client: TestClient) -> None:
    r = client.get("/api/targets", params={"indicator": "Tỷ lệ bao phủ bảo hiểm y tế", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert f'filename="{briefing.TARGETS_CSV}"' in r.headers["content-disposition"]
    rows = _csv(r.content.decode("utf-8"))
    assert rows and {row["indicator"] for row in rows} == {"insurance_coverage"}


@pytest.mark.parametrize(
    ("path", "params", "needles"),
    [("/api/targets", {"indicator": "xyz"}, ["chỉ tiêu (indicator)", "“xyz”", "life_expectancy (Tuổi thọ"]),
     ("/api/targets", {"doc": "Lào Cai", "indicator": "xyz"}, ["văn bản (doc)", "“Lào Cai”", "/api/documents"]),
     ("/api/assignments", {"doc": "99-KH/XX"}, ["không có kế hoạch nào khớp với “99-KH/XX”"]),
     ("/api/assignments", {"format": "xml"}, ["định dạng (format) phải là 'json' hoặc 'csv'"]),
     ("/api/briefing.docx", {"indicator": "xyz"}, ["không có chỉ tiêu “xyz”"]),
     ("/api/briefing.docx", {"doc": "Lào Cai"}, ["không có kế hoạch nào"])],
    ids=["indicator", "plan-before-indicator", "plan", "format", "docx-indicator", "docx-plan"],
)
def test_unknown_filters_are_readable_422(client: TestClient, path: str, params: dict, needles: list[str]) -> None:
    r = client.get(path, params=params)
    assert r.status_code == 422
    out = r.json()
    assert out["detail"].startswith("Yêu cầu không hợp lệ: ")
    for needle in needles:
        assert needle in out["detail"]
    assert out["errors"] and all({"loc", "type", "msg"} <= set(e) for e in out["errors"])


# ---- /api/briefing.docx -----------------------------------------------------------------------------------
def _docx(client: TestClient, **params: str) -> docx.document.Document:
    r = client.get("/api/briefing.docx", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == briefing.DOCX_MEDIA_TYPE
    assert r.headers["content-disposition"] == f'attachment; filename="{briefing.BRIEFING_DOCX}"'
    return docx.Document(io.BytesIO(r.content))


def _table(note: docx.document.Document, first_header: str) -> list[list[str]]:
    for t in note.tables:
        rows = [[c.text for c in row.cells] for row in t.rows]
        if rows[0][0] == first_header:
            return rows
    raise AssertionError(f"no table headed {first_header!r}")


def test_briefing_docx_has_plans_assignments_targets_and_sources(client: TestClient) -> None:
    note = _docx(client)
    texts = [p.text for p in note.paragraphs]
    assert texts[0] == briefing.BRIEFING_TITLE
    assert note.paragraphs[0].style.name == "Title"
    plans = _table(note, "Số hiệu")
    assert len(plans) == 6 and ["07-KH/TU", "Kế hoạch", "Ban Thường vụ Tỉnh ủy Điện Biên", "tỉnh Điện Biên",
                                "21/11/2025"] in plans
    tasks = _table(note, "STT")
    assert tasks[0] == ["STT", "Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời hạn", "Văn bản", "Mục"]
    assert len(tasks) == 1 + len(_json(client, "/api/assignments"))
    assert any(row[2] == "Công an xã" and row[5] == "Kế hoạch xã Mường La" for row in tasks)
    matrix = _table(note, "Chỉ tiêu")
    head = [h.split("\n")[0] for h in matrix[0]]
    life = next(row for row in matrix if row[0] == LIFE)
    by_plan = dict(zip(head, life, strict=True))
    assert by_plan["Kế hoạch xã Nam Thanh Miện"].startswith("75,5 tuổi (2030)")
    assert by_plan["07-KH/TU"].startswith("73 tuổi (2030)")
    assert by_plan["Kế hoạch xã Mường La"].startswith("75 tuổi (2030)")
    sources = texts[texts.index("Nguồn trích dẫn") + 1:]
    assert any(t.startswith("1. ") for t in sources)
    assert any(DIEN_BIEN_REF + "IV. TỔ CHỨC THỰC HIỆN" in t for t in sources)
    assert any(DIEN_BIEN_REF + "II. MỤC TIÊU" in t for t in sources)


def test_briefing_docx_follows_the_filters(client: TestClient) -> None:
    note = _docx(client, agency="so y te", indicator="tuổi thọ")
    tasks = _table(note, "STT")
    assert len(tasks) == 1 + len(_json(client, "/api/assignments", agency="so y te"))
    assert all("Sở Y tế" in row[2] for row in tasks[1:])
    matrix = _table(note, "Chỉ tiêu")
    assert [row[0] for row in matrix[1:]] == [LIFE]
    assert any("Phạm vi lọc" in p.text and "so y te" in p.text for p in note.paragraphs)


def test_new_endpoints_answer_503_without_index(tmp_path: Path, settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"index_dir": tmp_path / "none"}))
    with TestClient(app) as c:
        for path in ("/api/assignments", "/api/targets", "/api/briefing.docx"):
            r = c.get(path)
            assert r.status_code == 503 and "kehoach ingest" in r.json()["detail"]


def test_openapi_lists_the_briefing_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/assignments", "/api/targets", "/api/briefing.docx"} <= set(paths)
    params = {p["name"] for p in paths["/api/assignments"]["get"]["parameters"]}
    assert params == {"doc", "agency", "format"}


# ---- pure helpers -------------------------------------------------------------------------------------------
def _doc(doc_id: str, number: str | None, locality: str) -> SimpleNamespace:
    meta = SimpleNamespace(number=number, doc_type="Kế hoạch", issuer=f"Ủy ban nhân dân {locality}",
                           locality=locality, date="01/2026")
    return SimpleNamespace(doc_id=doc_id, meta=meta, source_file=f"{doc_id}.txt")


def _target(doc_id: str, indicator: str, value: str, unit: str, period: str) -> Target:
    return Target(doc_id=doc_id, indicator=indicator, value=value, unit=unit, period=period,
                  section_path=("II. MỤC TIÊU", "1. Mục tiêu đến năm 2030"), start=0, end=10)


def test_targets_matrix_rows_are_indicators_and_columns_plans() -> None:
    documents = {"a": _doc("a", "07-KH/TU", "tỉnh Điện Biên"), "b": _doc("b", None, "xã Mường La"),
                 "c": _doc("c", "12-CTr/ĐU", "xã Định Hóa")}
    targets = [_target("b", "insurance_coverage", ">95", "%", "2026"),
               _target("a", "life_expectancy", ">80", "tuổi", "2045"),
               _target("a", "life_expectancy", "73", "tuổi", "2030"),
               _target("b", "life_expectancy", "75", "tuổi", "2030"),
               _target("b", "life_expectancy", "75", "tuổi", "2030")]  # a duplicate reading is shown once
    columns, rows = briefing.targets_matrix(targets, documents)
    assert [(c.doc_id, c.label, c.place) for c in columns] == [("a", "07-KH/TU", "tỉnh Điện Biên"),
                                                               ("b", "Kế hoạch xã Mường La", "")]
    assert [r.indicator for r in rows] == ["life_expectancy", "insurance_coverage"]  # lexicon order
    assert rows[0].label == LIFE
    assert rows[0].cells == ("73 tuổi (2030)\n> 80 tuổi (2045)", "75 tuổi (2030)")
    assert rows[1].cells == ("", "> 95% (2026)")
    bars = briefing.indicator_bars(targets, documents, "life_expectancy")
    assert [(b.column.label, b.value, b.text) for b in bars] == [("07-KH/TU", 73.0, "73 tuổi (2030)"),
                                                                  ("Kế hoạch xã Mường La", 75.0, "75 tuổi (2030)")]
    assert briefing.targets_matrix([], documents) == ([], [])


def test_value_formatting_and_numbers() -> None:
    assert briefing.format_target(_target("a", "life_expectancy", ">=75,5", "tuổi", "2030")) == "≥ 75,5 tuổi (2030)"
    assert briefing.format_value(_target("a", "physical_activity", "+10", "%", "2030")) == "+10%"
    assert briefing.number_of("4-5") == 5.0 and briefing.number_of(">=75,5") == 75.5
    assert briefing.number_of("không") is None
    long = "Tuyên truyền " * 40
    clipped = briefing.clip(long, 60)
    assert len(clipped) <= 60 and clipped.endswith("…") and " " not in clipped[-2:]


def test_agency_matcher_is_accent_insensitive_and_word_based() -> None:
    health = briefing.agency_matcher("so y te")
    assert health(("Sở Y tế",)) and health(("Công an tỉnh", "Sở Y tế"))
    assert not health(("Sở Tài chính",)) and not health(("Sở Xây dựng",))
    assert briefing.agency_matcher("UBND xã")(("Ủy ban nhân dân xã",))
    assert briefing.agency_matcher("trạm y tế")(("Trạm Y tế xã",))
    assert not briefing.agency_matcher("y")(("Ủy ban nhân dân xã",))


def test_source_references_cite_plan_and_section(retriever: Retriever) -> None:
    docs = retriever.bundle.documents
    facts = retriever.facts
    refs = briefing.source_references(docs, facts.assignments, facts.targets)
    assert any(r.startswith(DIEN_BIEN_REF + "IV. TỔ CHỨC THỰC HIỆN (tiểu mục 1, 2, 3") for r in refs)
    assert any(r.startswith("Kế hoạch (chưa ghi số) của Ủy ban nhân dân xã Mường La, tháng 01/2026, mục ")
               for r in refs)


def test_ui_briefing_html_is_escaped_and_complete(retriever: Retriever) -> None:
    from app import ui_render as ui

    docs = retriever.bundle.documents
    html = ui.matrix_html(retriever.facts.targets, docs)
    assert html.count("<th scope=\"col\">") == 1 + len(docs)
    assert "73 tuổi (2030)" in html and "<script" not in html
    chart = ui.chart_html(retriever.facts.targets, docs, "life_expectancy")
    assert chart.count('class="kh-bar-row"') == len(docs)
    assert "07-KH/TU" in chart and "73 tuổi (2030)" in chart
    rows = briefing.assignment_table(retriever.facts.assignments, docs)
    assert max(len(r[0]) for r in rows) <= briefing.TASK_CLIP
