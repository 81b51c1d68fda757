"""What a reader sees of an OCR plan: restored reading, the print one click away, offsets on the print, marks."""

from __future__ import annotations

from dataclasses import replace

from app.ui_render import document_page, document_text_html
from index.restored import DocRestoration, chunk_restored_texts, extra_terms
from index.store import StoredDocument
from ingest.assignment_record import Assignment
from ingest.records import DocMeta
from ingest.restore import Span
from retriever.display import KEPT_CLASS, LOWCONF_CLASS, Display, Shown, shown_range

GARBLED = ("Sé Y té t6 chirc kiém tra céc co s& kinh doanh trén dia ban huyén.\n\n"
           "Tang cudng cong tac tuyén truyén vé phong chéng dich bénh cho ngudi dan.\n")
CLEAN = "Sở Y tế tổ chức kiểm tra các cơ sở kinh doanh trên địa bàn huyện.\n"


def _doc(doc_id: str, text: str, ocr: bool) -> StoredDocument:
    meta = DocMeta(None, None, "Kế hoạch", None, None, None, None, "Nguyen Van An", None, ocr)
    return StoredDocument(doc_id, f"{doc_id}.txt", "0" * 64, meta, text)


def _display() -> Display:
    return Display({"ocr": _doc("ocr", GARBLED, True), "clean": _doc("clean", CLEAN, False)})


def test_ocr_span_is_restored_and_printed_is_the_exact_print() -> None:
    d = _display()
    start = GARBLED.index("Tang")
    end = GARBLED.index("dan.") + 3
    shown = d.span("ocr", start, end)
    assert shown.printed == GARBLED[start:end]
    assert shown.restored
    assert shown.text == "Tăng cường công tác tuyên truyền về phòng chống dịch bệnh cho người dân"
    for s in shown.spans:  # offsets are on the printed passage
        assert shown.printed[s.start:s.end] == s.original


def test_clean_plan_is_shown_unchanged() -> None:
    d = _display()
    shown = d.document("clean")
    assert shown.text == shown.printed == CLEAN
    assert not shown.restored and shown.spans == ()
    assert d.restoration("clean") is None


def test_string_from_a_plan_uses_its_context_and_passes_clean_plans() -> None:
    d = _display()
    line = GARBLED.split("\n")[0]
    assert d.string(line, ["ocr"]).text == d.span("ocr", 0, len(line)).text
    assert d.string(line, ["clean"]).text == line  # not an OCR plan: never restored
    two = d.string(GARBLED.split("\n\n")[0] + "\nUBND xa bdo cao két qua", ["ocr"])
    assert two.text.endswith("UBND xã báo cáo kết quả")
    for s in two.spans:
        assert two.printed[s.start:s.end] == s.original


def test_low_confidence_words_and_kept_names_are_marked_in_html() -> None:
    printed = "Cac x4 <b> Nguyen Vin Ly"
    low = Span(4, 6, "x4", "xã", 0.61, True)
    sure = Span(0, 3, "Cac", "Các", 0.99, False)
    kept = Span(15, 18, "Vin", "Vĩnh", 0.7, True)
    shown = Shown("Các xã <b> Nguyen Vin Ly", printed, (sure, low), (kept,))
    out = shown.html()
    assert out.startswith("Các ")
    assert f'<span class="{LOWCONF_CLASS}" title="Bản in: “x4” · độ tin cậy 0.61">xã</span>' in out
    assert f'<span class="{KEPT_CLASS}"' in out and ">Vin</span>" in out
    assert "&lt;b&gt;" in out and "<b>" not in out  # plan text is escaped
    assert shown.html(printed=True) == "Cac x4 &lt;b&gt; Nguyen Vin Ly"
    assert [s.original for s in shown.low_confidence] == ["x4"]
    assert shown.to_json()["low_confidence"][0] == {"start": 4, "end": 6, "printed": "x4", "restored": "xã",
                                                     "confidence": 0.61}


def test_stored_restoration_renders_a_range_and_round_trips() -> None:
    r = DocRestoration([Span(0, 3, "Cac", "Các", 0.95, False), Span(4, 6, "x4", "xã", 0.5, True)])
    text = "Cac x4 tham gia"
    again = DocRestoration.from_json(r.to_json("d"), text)
    assert again.spans == r.spans
    assert shown_range(text, again, 4, 15).text == "xã tham gia"
    assert shown_range(text, again, 4, 15).spans[0].start == 0  # moved onto the range
    assert shown_range(text, None, 0, 6).text == "Cac x4"


def test_lexical_extra_terms_are_only_what_restoration_changed() -> None:
    printed = ["cac", "xa", "tham", "cac_xa", "xa_tham"]
    extra = extra_terms(printed, "Các xã tham gia")
    assert sorted(extra) == ["gia", "tham_gia"]


def test_lexical_index_of_restored_readings_is_a_switch() -> None:
    from types import SimpleNamespace
    text = "Cac x4 tham gia"
    chunks = [SimpleNamespace(doc_id="ocr", start=0, end=15), SimpleNamespace(doc_id="clean", start=0, end=5)]
    stored = {"ocr": DocRestoration([Span(0, 3, "Cac", "Các", 0.95, False)])}
    texts = {"ocr": text, "clean": "Sở Y tế"}
    assert chunk_restored_texts(chunks, texts, stored, enabled=True) == ["Các x4 tham gia", None]
    assert chunk_restored_texts(chunks, texts, stored) == [None, None]  # off by default (measured: gold regressed)


def test_briefing_record_is_restored_with_doc_context() -> None:
    d = _display()
    task = GARBLED.split("\n")[2]
    a = Assignment("ocr", task, ("Sở Y tế",), (), None, None, (), ("1",), 0, 10, "prose", "1", "high")
    shown = d.record(a)
    assert shown.task.startswith("Tăng cường công tác")
    assert shown.lead == ("Sở Y tế",)
    assert d.record(replace(a, doc_id="clean")).task == task


def test_reader_shows_restored_text_with_citation_on_printed_offsets() -> None:
    d = _display()
    doc = d.documents["ocr"]
    start = GARBLED.index("Tang")
    cite = (start, GARBLED.index("dan.") + 4)
    restored = document_text_html(doc, cite, None, d)
    assert f'<mark class="kh-cite" id="c-{start}">' in restored
    assert "Tăng cường công tác" in restored
    assert "Tang cudng" in document_text_html(doc, cite)
    page = document_page(doc, 1, cite, None, d)
    assert "printed=1" in page and "Xem như bản in" in page
    printed_page = document_page(doc, 1, cite, None, None)
    assert "Tang cudng" in printed_page and "Xem bản đã khôi phục dấu" in printed_page


def _answer_quoting_ocr():
    from retriever.answer import Answer, Citation

    start, end = GARBLED.index("Tang"), GARBLED.index("dan.") + 4
    cite = Citation(rank=1, chunk_id="ocr#0001", doc_id="ocr", doc_number="12/KH-UBND", doc_type="Kế hoạch",
                    issuer="Ủy ban nhân dân xã", date="01/01/2026", source_file="ocr.txt", section="II. NHIỆM VỤ",
                    text=GARBLED[start:end], score=1.0, start=start, end=end)
    return Answer(question="q", answer=f"Theo Kế hoạch số 12/KH-UBND: “{GARBLED[start:end]}”", abstained=False,
                  citations=(cite,))


def test_copy_text_and_terminal_answer_show_the_restored_words_unless_asked_for_the_print() -> None:
    from app.cli import format_answer
    from app.ui_render import Turn, copy_text

    d, ans = _display(), _answer_quoting_ocr()
    turn = Turn("q", ans.answer, False, ans.citations)
    assert "Tăng cường công tác tuyên truyền" in copy_text(turn, d) and "Nguồn trích dẫn:" in copy_text(turn, d)
    assert "Tang cudng" in copy_text(turn)  # no display: as printed
    shown = format_answer(ans, d)
    assert shown.count("Tăng cường công tác") == 2 and "Tang cudng" not in shown and "--printed" in shown
    printed = format_answer(ans)
    assert "Tang cudng" in printed and "Tăng cường" not in printed and "--printed" not in printed
