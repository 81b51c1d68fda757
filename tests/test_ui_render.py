"""The UI's HTML, from hand-made records: escaping, empty states, citations with and without a number, the
reader page, the briefing matrix and chart; and the one plan label every caller shares."""

from __future__ import annotations

from app import ui_render as r
from app.briefing import PlanColumn
from index.store import StoredDocument
from ingest.records import DocMeta, Section, date_phrase, plan_label, plan_reference
from ingest.targets import Target
from retriever.answer import Citation

EVIL = '<script>alert("x")</script>'


def _meta(number: str | None = "5-KH/UBND", doc_type: str | None = "Kế hoạch", issuer: str | None = "Ủy ban A",
          ocr: bool = False) -> DocMeta:
    return DocMeta(number=number, number_raw=number, doc_type=doc_type, issuer=issuer, locality="xã Bình An",
                   date="03/2026", date_iso=None, signer="Trần B", title="Về việc thử nghiệm", ocr=ocr)


def _citation(number: str | None = "5-KH/UBND", text: str = "Phòng Y tế chủ trì tuyên truyền.",
              rank: int = 1, doc_id: str = "plan-a", issuer: str | None = "Ủy ban A") -> Citation:
    return Citation(rank=rank, chunk_id=f"{doc_id}#0001", doc_id=doc_id, doc_number=number, doc_type="Kế hoạch",
                    issuer=issuer, date="03/2026", source_file="plan a.txt", section="II. NHIỆM VỤ › 1",
                    text=text, score=0.9, start=10, end=40)


def _doc(text: str = "KẾ HOẠCH\nI. MỤC TIÊU\nNâng cao sức khỏe.\n", number: str | None = "5-KH/UBND",
         ocr: bool = False) -> StoredDocument:
    sections = [Section("plan-a", ("I. MỤC TIÊU",), "I. MỤC TIÊU", "part", 9, len(text))]
    return StoredDocument("plan-a", "plan a.txt", "", _meta(number, ocr=ocr), text, sections)


# ---- the shared plan label ------------------------------------------------------------------------------
def test_plan_label_never_prints_none() -> None:
    assert plan_label("Kế hoạch", "5-KH/UBND", "Ủy ban A") == "Kế hoạch số 5-KH/UBND của Ủy ban A"
    assert plan_label("Kế hoạch", None, "Ủy ban A") == "Kế hoạch (chưa ghi số) của Ủy ban A"
    assert plan_label(None, None, None) == "Văn bản (chưa ghi số)"
    assert plan_label("Chương trình hành động", "3-CTr/ĐU") == "Chương trình hành động số 3-CTr/ĐU"
    assert _meta(issuer=None).label == "Kế hoạch số 5-KH/UBND"


def test_date_phrase_and_reference() -> None:
    assert [date_phrase(d) for d in ("21/11/2025", "01/2026", "2025", None, "")] == [
        "ngày 21/11/2025", "tháng 01/2026", "năm 2025", None, None]
    assert plan_reference("Kế hoạch", None, None, "2025", "I › 2") == "Kế hoạch (chưa ghi số), năm 2025, mục I › 2"
    assert r.reference(_citation()) == "Kế hoạch số 5-KH/UBND của Ủy ban A, tháng 03/2026, mục II. NHIỆM VỤ › 1"


# ---- answers and citation cards -------------------------------------------------------------------------
def test_citation_card_escapes_and_links_to_the_passage() -> None:
    card = r.citation_card(_citation(text=f"Phòng Y tế {EVIL} chủ trì."), r.query_terms("ai chu tri"),
                           "ai chủ trì?", ocr=False)
    assert "<script>" not in card and "&lt;script&gt;" in card
    assert '<span class="kh-doc">Kế hoạch số 5-KH/UBND</span>' in card
    assert 'data-doc-number="5-KH/UBND"' in card
    assert 'href="doc/plan-a?start=10&amp;end=40&amp;q=ai+ch%E1%BB%A7+tr%C3%AC%3F#c-10"' in card
    assert '<mark class="kh-hl">chủ trì</mark>' in card
    assert "Bản scan (OCR)" not in card


def test_citation_card_without_a_number_says_so() -> None:
    card = r.citation_card(_citation(number=None), r.QueryTerms(), "q", ocr=True)
    assert "Kế hoạch (chưa ghi số)" in card and 'data-doc-number=""' in card
    assert "Bản scan (OCR)" in card
    assert "None" not in card


def test_render_turn_answer_refusal_and_empty_history() -> None:
    turn = r.Turn(f"hỏi {EVIL}", "- Chủ trì: Phòng Y tế.\nThời hạn: Hằng năm.", False,
                  (_citation(), _citation(rank=2, doc_id="plan-b", number=None)), "Phạm vi lọc: Kế hoạch A")
    out = r.render_turn(turn, ocr_docs={"plan-b"})
    assert "&lt;script&gt;" in out and "<script>" not in out
    assert '<p class="kh-line kh-bullet"><strong>Chủ trì:</strong> Phòng Y tế.</p>' in out
    assert "Nguồn trích dẫn (2)" in out and out.count('<article class="kh-card"') == 2
    assert '<div class="kh-scope">Phạm vi lọc: Kế hoạch A</div>' in out
    refusal = r.render_turn(r.Turn("hỏi", "Không tìm thấy.", True))
    assert "kh-refusal" in refusal and "kh-card" not in refusal and "Nguồn trích dẫn" not in refusal
    assert r.render_history([]) == ""


def test_history_and_copy_text_list_each_reference_once() -> None:
    turn = r.Turn("q", "Trả lời.", False, (_citation(), _citation(rank=2)))
    assert r.copy_text(turn) == ("Trả lời.\n\nNguồn trích dẫn:\n"
                                 "1. Kế hoạch số 5-KH/UBND của Ủy ban A, tháng 03/2026, mục II. NHIỆM VỤ › 1.")
    assert r.copy_text(r.Turn("q", "Không tìm thấy.", True)) == "Không tìm thấy."
    hist = r.render_history([turn])
    assert "Các câu hỏi trước trong phiên (1)" in hist and hist.count("<li>") == 2


def test_notice_and_header_escape_messages() -> None:
    assert "&lt;script&gt;" in r.notice_html(EVIL)
    head = r.header_html(EVIL, False)
    assert "&lt;script&gt;" in head and 'data-ready="0"' in head and "kh-status-error" in head
    assert 'data-ready="1"' in r.header_html("ok", True)


# ---- the reader -----------------------------------------------------------------------------------------
def test_document_page_marks_the_cited_span_and_escapes_the_text() -> None:
    text = f"KẾ HOẠCH\nI. MỤC TIÊU\nNâng cao {EVIL} sức khỏe.\n"
    page = r.document_page(_doc(text), 3, (9, 20), "muc tieu")
    assert page.startswith("<!doctype html>") and r.UI_CSS.strip()[:20] in page
    assert '<mark class="kh-cite" id="c-9">' in page and "</mark>" in page
    assert '<span class="kh-anchor" id="s-9"></span>' in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "Đến đoạn được trích dẫn" in page


def test_document_page_ignores_a_span_outside_the_text() -> None:
    page = r.document_page(_doc(number=None, ocr=True), 1, (5, 10_000), None)
    assert '<mark class="kh-cite"' not in page and "Đến đoạn được trích dẫn" not in page
    assert "<h2>Kế hoạch (chưa ghi số)</h2>" in page and "kh-ocr-note" in page


def test_error_page_is_a_page_with_the_message() -> None:
    page = r.error_page("Không tìm thấy", EVIL)
    assert "<title>Không tìm thấy</title>" in page and "&lt;script&gt;" in page


def test_stylesheets_are_package_data() -> None:
    assert ".kh-card" in r.UI_CSS and "body.kh-page" in r.PAGE_CSS


# ---- the briefing tab -----------------------------------------------------------------------------------
def _target(doc_id: str, value: str, period: str = "2030") -> Target:
    return Target(doc_id=doc_id, indicator="life_expectancy", label="Tuổi thọ trung bình", value=value,
                  unit="tuổi", period=period, section_path=("I. MỤC TIÊU",), start=0, end=10)


def test_matrix_and_chart_empty_states() -> None:
    assert "Không có chỉ tiêu nào khớp với bộ lọc." in r.matrix_html([], {})
    assert "Chọn một chỉ tiêu để xem biểu đồ" in r.chart_html([], {}, None)
    assert "Không có nhiệm vụ nào" in r.count_html(0, 0)
    assert "<strong>3</strong> nhiệm vụ trong <strong>2</strong>" in r.count_html(3, 2)


def test_matrix_and_chart_of_two_plans() -> None:
    docs = {"plan-a": _doc(), "plan-b": StoredDocument("plan-b", "b.txt", "", _meta(None), "x", [])}
    targets = [_target("plan-a", ">=75,5"), _target("plan-a", "74", "2025"), _target("plan-b", "73")]
    matrix = r.matrix_html(targets, docs)
    assert '<tr data-indicator="life_expectancy">' in matrix
    assert '<div class="kh-main">≥ 75,5 tuổi (2030)</div><div class="kh-more">74 tuổi (2025)</div>' in matrix
    assert "<span>5-KH/UBND</span>" in matrix and "<span>Kế hoạch xã Bình An</span>" in matrix
    chart = r.chart_html(targets, docs, "life_expectancy")
    assert chart.count('class="kh-bar-row"') == 2 and 'style="width:100.0%"' in chart
    assert r._plan_head(PlanColumn("d", EVIL, "")) == '<th scope="col"><span>&lt;script&gt;alert(&quot;x&quot;)' \
        '&lt;/script&gt;</span></th>'


# ---- the Gradio wiring's error guard --------------------------------------------------------------------
def test_guarded_handler_logs_the_exception_and_never_shows_its_text(caplog) -> None:
    import warnings

    from app import ui

    @ui.guarded(lambda: r.notice_html(ui.ERROR_TEXT))
    def boom(question: str) -> str:
        raise KeyError("internal detail /srv/index")

    with caplog.at_level("ERROR", logger="app.ui"), warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        out = boom("hỏi")
    assert "Đã xảy ra lỗi" in out and "internal detail" not in out
    assert "ui handler failed" in caplog.text and "internal detail" in caplog.text  # logged with traceback
    assert all("internal detail" not in str(w.message) for w in shown)
    assert boom.__wrapped__.__name__ == "boom"  # Gradio reads the wrapped signature
