"""HTTP API against the real index and model (fixtures from conftest.py), served from both index stores: the
directory and PostgreSQL (the session index written once into a real embedded server, ``pg_client``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.settings import Settings
from retriever.service import Retriever

CITATION_KEYS = {"rank", "chunk_id", "doc_id", "doc_number", "doc_type", "issuer", "date", "source_file",
                 "section", "text", "score", "printed", "restored", "low_confidence"}
DIEN_BIEN = "Tỉnh Điện Biên phấn đấu tuổi thọ trung bình đến năm 2030 là bao nhiêu?"
ACCENT_FREE = "ai chu tri day manh cai cach tai chinh y te va bao hiem y te o xa Ha Dong"
UNANSWERABLE = "Tỉnh Lào Cai giao cơ quan nào chủ trì?"
DIEN_BIEN_DOC = "002_2e9b76a3db659b23"


@pytest.fixture(scope="module", params=["directory", "postgres"])
def client(request: pytest.FixtureRequest, client: TestClient) -> TestClient:
    """Every test of this module runs against the directory store and against the PostgreSQL store."""
    return client if request.param == "directory" else request.getfixturevalue("pg_client")


def _ask(client: TestClient, question: str, k: int | None = None) -> dict:
    body: dict = {"question": question} if k is None else {"question": question, "k": k}
    r = client.post("/api/ask", json=body)
    assert r.status_code == 200, r.text
    return r.json()


# ---- /api/ask ----------------------------------------------------------------------------------------
def test_ask_returns_contract_with_cited_plan(client: TestClient) -> None:
    out = _ask(client, DIEN_BIEN)
    assert set(out) == {"question", "answer", "abstained", "citations", "printed", "restored"}
    assert out["abstained"] is False
    assert out["answer"].strip()
    assert 1 <= len(out["citations"]) <= 5
    assert [c["rank"] for c in out["citations"]] == list(range(1, len(out["citations"]) + 1))
    for c in out["citations"]:
        assert set(c) == CITATION_KEYS
        assert isinstance(c["score"], float)
    top = out["citations"][0]
    assert top["doc_number"] == "07-KH/TU"
    assert top["issuer"] == "Ban Thường vụ Tỉnh ủy Điện Biên"
    assert top["text"] and top["section"]


def test_ask_respects_k(client: TestClient) -> None:
    assert len(_ask(client, DIEN_BIEN, k=2)["citations"]) == 2


def test_ask_accent_free_question(client: TestClient) -> None:
    out = _ask(client, ACCENT_FREE)
    assert out["abstained"] is False
    assert out["citations"][0]["doc_number"] == "10-CTr/ĐU"


def test_ask_unanswerable_abstains_without_citations(client: TestClient) -> None:
    out = _ask(client, UNANSWERABLE)
    assert out["abstained"] is True
    assert out["citations"] == []
    assert out["answer"].startswith("Không tìm thấy")


def test_ask_accepts_1000_chars_after_strip(client: TestClient) -> None:
    question = "  " + ("Điện Biên " * 100)[:1000] + "  "
    assert len(question.strip()) <= 1000
    assert "abstained" in _ask(client, question)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"question": ""}, "không được để trống"),
        ({"question": "   \n "}, "không được để trống"),
        ({"question": "a" * 1001}, "1000"),
        ({"question": "Ai ký?", "k": 0}, "từ 1 đến 50"),
        ({"question": "Ai ký?", "k": 51}, "từ 1 đến 50"),
        ({"question": "Ai ký?", "k": "năm"}, "từ 1 đến 50"),
        ({"k": 5}, "thiếu câu hỏi"),
        (None, "thiếu nội dung"),
    ],
    ids=["empty", "blank", "1001-chars", "k0", "k51", "k-text", "no-question", "no-body"],
)
def test_ask_validation_errors_are_readable(client: TestClient, body: dict | None, needle: str) -> None:
    r = client.post("/api/ask", json=body) if body is not None else client.post("/api/ask")
    assert r.status_code == 422
    out = r.json()
    assert isinstance(out["detail"], str) and out["detail"].startswith("Yêu cầu không hợp lệ")
    assert needle in out["detail"]
    assert out["errors"] and all({"loc", "type", "msg"} <= set(e) for e in out["errors"])


def test_ask_invalid_json(client: TestClient) -> None:
    r = client.post("/api/ask", content=b"{question", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert "JSON" in r.json()["detail"]


# ---- /api/search -------------------------------------------------------------------------------------
def test_search_returns_ranked_hits(client: TestClient) -> None:
    r = client.get("/api/search", params={"q": "ngày sức khỏe toàn dân", "k": 3})
    assert r.status_code == 200
    out = r.json()
    assert out["query"] == "ngày sức khỏe toàn dân"
    assert len(out["hits"]) == 3
    assert [h["rank"] for h in out["hits"]] == [1, 2, 3]
    assert set(out["hits"][0]) == {"rank", "chunk_id", "doc_id", "doc_number", "section", "text", "score",
                                   "printed", "restored", "low_confidence"}


@pytest.mark.parametrize("params", [{"q": ""}, {"q": "  "}, {"q": "x" * 1001}, {"q": "y tế", "k": 0},
                                    {"q": "y tế", "k": 51}, {}])
def test_search_validation(client: TestClient, params: dict) -> None:
    r = client.get("/api/search", params=params)
    assert r.status_code == 422
    assert r.json()["detail"].startswith("Yêu cầu không hợp lệ")


# ---- /api/documents ------------------------------------------------------------------------------------
def test_documents_list(client: TestClient) -> None:
    r = client.get("/api/documents")
    assert r.status_code == 200
    docs = r.json()
    assert len(docs) == 5
    numbers = [d["number"] for d in docs]
    assert sorted(n for n in numbers if n) == ["07-KH/TU", "10-CTr/ĐU", "12-CTr/ĐU"]
    assert numbers.count(None) == 2
    keys = {"doc_id", "source_file", "number", "doc_type", "issuer", "locality", "date", "signer", "ocr",
            "sections", "chunks"}
    for d in docs:
        assert set(d) == keys
        assert d["sections"] > 0 and d["chunks"] > 0


def test_document_detail(client: TestClient, retriever: Retriever) -> None:
    r = client.get(f"/api/documents/{DIEN_BIEN_DOC}")
    assert r.status_code == 200
    d = r.json()
    assert d["meta"]["number"] == "07-KH/TU"
    printed = retriever.bundle.documents[DIEN_BIEN_DOC].text
    assert d["printed"] == printed  # an OCR plan: `text` is the restored reading, offsets are on `printed`
    assert d["restored"] is True and d["text"] != printed
    assert d["sections"] and set(d["sections"][0]) == {"path", "label", "title", "kind", "start", "end"}
    assert any(s["path"][0].startswith("IV.") for s in d["sections"])
    for s in d["sections"]:
        assert s["label"] == " › ".join(s["path"])
        assert 0 <= s["start"] <= s["end"] <= len(d["printed"])
    clean = next(x for x in retriever.bundle.documents.values() if not x.meta.ocr)
    c = client.get(f"/api/documents/{clean.doc_id}").json()
    assert c["text"] == c["printed"] == clean.text and c["restored"] is False


def test_ocr_answer_carries_restored_text_and_the_print(client: TestClient, retriever: Retriever) -> None:
    out = _ask(client, "Kế hoạch của Điện Biên muốn tỷ lệ tiêm vắc-xin thiết yếu đạt mức nào?")
    ocr_cits = [c for c in out["citations"] if retriever.bundle.documents[c["doc_id"]].meta.ocr]
    assert ocr_cits, "expected a passage of the OCR plan"
    for c in ocr_cits:
        doc = retriever.bundle.documents[c["doc_id"]].text
        assert c["printed"] in doc  # as printed: verbatim, where the offsets point
        assert c["restored"] is True and c["text"] != c["printed"]
        for low in c["low_confidence"]:
            assert c["printed"][low["start"]:low["end"]] == low["printed"] and low["confidence"] < 0.9
    assert out["printed"] and out["restored"] is True and out["answer"] != out["printed"]
    hits = client.get("/api/search", params={"q": "tiêm chủng vắc-xin thiết yếu Điện Biên", "k": 3}).json()["hits"]
    assert any(h["restored"] and h["printed"] in retriever.bundle.documents[h["doc_id"]].text for h in hits)


def test_ocr_briefing_rows_are_restored_with_printed_columns(client: TestClient, retriever: Retriever) -> None:
    rows = client.get("/api/assignments", params={"doc": DIEN_BIEN_DOC}).json()
    changed = [r for r in rows if r["printed"]]
    assert changed, "expected restored tasks in an OCR plan"
    for r in changed:
        for col, printed in r["printed"].items():
            assert r[col] != printed
    csv = client.get("/api/assignments", params={"doc": DIEN_BIEN_DOC, "format": "csv"}).text
    assert changed[0]["task"][:40] in csv
    page = client.get(f"/doc/{DIEN_BIEN_DOC}").text
    printed_page = client.get(f"/doc/{DIEN_BIEN_DOC}", params={"printed": "1"}).text
    assert "Xem như bản in" in page and "Xem bản đã khôi phục dấu" in printed_page


def test_unknown_document_is_404(client: TestClient) -> None:
    r = client.get("/api/documents/khong-co")
    assert r.status_code == 404
    assert r.json()["detail"].startswith("Không tìm thấy văn bản")


def test_document_reader_page_marks_the_cited_span(client: TestClient, retriever: Retriever) -> None:
    chunk = next(c for c in retriever.bundle.chunks if c.doc_id == DIEN_BIEN_DOC and c.start > 0)
    r = client.get(f"/doc/{DIEN_BIEN_DOC}", params={"start": chunk.start, "end": chunk.end, "q": "kiểm tra"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert f'id="c-{chunk.start}"' in r.text
    assert "Kế hoạch số 07-KH/TU" in r.text
    assert client.get("/doc/khong-co").status_code == 404


# ---- health, docs, UI ------------------------------------------------------------------------------------
def test_health(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    h = r.json()
    assert h["status"] == "ok"
    assert h["model"]
    idx = h["index"]
    assert idx["chunk_count"] > 0 and idx["documents"] == 5
    assert len(idx["corpus_hash"]) == 64
    assert idx["embedding_model"] == h["model"] and idx["embedding_dim"] > 0
    assert idx["created"]


def test_openapi_docs_and_ui_are_served(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/ask", "/api/search", "/api/documents", "/api/documents/{doc_id}", "/health"} <= set(paths)
    assert client.get("/docs").status_code == 200
    ui = client.get("/")
    assert ui.status_code == 200 and "text/html" in ui.headers["content-type"]


# ---- no index ----------------------------------------------------------------------------------------------
def test_missing_index_answers_503_naming_the_fix(tmp_path: Path, settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"index_dir": tmp_path / "none"}))
    with TestClient(app) as c:
        calls = [c.post("/api/ask", json={"question": "Ai ký Kế hoạch 07-KH/TU?"}),
                 c.get("/api/search", params={"q": "y tế"}), c.get("/api/documents"),
                 c.get(f"/api/documents/{DIEN_BIEN_DOC}")]
        for r in calls:
            assert r.status_code == 503, r.text
            assert "kehoach ingest" in r.json()["detail"]
            assert "lập chỉ mục" in r.json()["detail"]
        h = c.get("/health").json()
        assert h["status"] == "no_index" and h["index"] is None and "kehoach ingest" in h["detail"]
        assert c.get("/").status_code == 200  # the UI still starts
        assert c.get(f"/doc/{DIEN_BIEN_DOC}").status_code == 503


def test_an_empty_database_answers_503_then_serves_once_written(pg_url: str, settings: Settings,
                                                                 retriever: Retriever) -> None:
    from app.runtime import index_store

    s = settings.model_copy(update={"database_url": pg_url, "reload_poll_s": 0.0})
    with TestClient(create_app(s)) as c:
        r = c.get("/api/documents")
        assert r.status_code == 503 and "kehoach ingest" in r.json()["detail"]
        assert "kehoach db migrate" in r.json()["detail"] and "***" not in r.json()["detail"]
        index_store(s).write(retriever.bundle)  # `kehoach ingest` elsewhere: picked up without a restart
        r = c.get("/api/documents")
        assert r.status_code == 200 and len(r.json()) == len(retriever.documents)


# ---- helpers shared by the UI and the /doc reader -------------------------------------------------------
def test_copy_text_numbers_references_for_an_official_note(retriever: Retriever) -> None:
    from app import ui_chat as ui
    from app.ui_render import copy_text

    turn = ui.ask_turn(retriever, "Cơ quan nào chủ trì kiểm tra trong Kế hoạch 07-KH/TU?", ui.Filters())
    text = copy_text(turn)
    assert text.startswith(turn.answer + "\n\nNguồn trích dẫn:\n")
    assert ("\n1. Kế hoạch số 07-KH/TU của Ban Thường vụ Tỉnh ủy Điện Biên, ngày 21/11/2025, "
            "mục IV. TỔ CHỨC THỰC HIỆN › 4.") in text
    refusal = ui.ask_turn(retriever, UNANSWERABLE, ui.Filters())
    assert copy_text(refusal) == refusal.answer and "Nguồn" not in copy_text(refusal)


def test_reference_of_an_unnumbered_plan() -> None:
    from app import ui_render as ui
    from retriever.answer import Citation

    c = Citation(rank=1, chunk_id="x#0001", doc_id="x", doc_number=None, doc_type="Kế hoạch",
                 issuer="Ủy ban nhân dân xã Mường La", date="01/2026", source_file="x.txt",
                 section="I. MỤC TIÊU › 2. Mục tiêu cụ thể", text="…", score=1.0)
    assert ui.reference(c) == ("Kế hoạch (chưa ghi số) của Ủy ban nhân dân xã Mường La, tháng 01/2026, "
                               "mục I. MỤC TIÊU › 2. Mục tiêu cụ thể")


def test_highlight_is_accent_insensitive_and_escapes_html() -> None:
    from app import ui_render as ui

    terms = ui.query_terms("co quan nao chu tri to chuc ngay suc khoe toan dan o xa Ha Dong?")
    out = ui.highlight("Phòng Văn hóa <b> chủ trì tổ chức Ngày Sức khỏe; Hà Đông; trì hoãn", terms)
    assert "&lt;b&gt;" in out and "<b>" not in out
    assert '<mark class="kh-hl">chủ trì tổ chức Ngày Sức khỏe</mark>' in out
    assert '<mark class="kh-hl">Hà Đông</mark>' in out
    assert "trì hoãn" in out  # a lone short syllable is not highlighted


def test_ui_filters_scope_the_answer(retriever: Retriever) -> None:
    from app import ui_chat as ui

    question = "Cơ quan nào chủ trì tổ chức Ngày Sức khỏe toàn dân?"
    turn = ui.ask_turn(retriever, question, ui.Filters(locality="xã Định Hóa"))
    assert not turn.abstained and turn.citations
    assert {c.doc_number for c in turn.citations} == {"12-CTr/ĐU"}
    assert turn.scope and "12-CTr/ĐU" in turn.scope


def test_ui_filter_refuses_an_answer_drawn_from_outside_the_scope(retriever: Retriever) -> None:
    from app import ui_chat as ui

    ans = retriever.ask("Cơ quan nào chủ trì kiểm tra trong Kế hoạch 07-KH/TU?")
    assert ans.citations[0].doc_id == DIEN_BIEN_DOC
    others = {d for d in retriever.bundle.documents if d != DIEN_BIEN_DOC}
    turn = ui.apply_filters(ans, ans.question, others, "Phạm vi lọc: …")
    assert turn.abstained and turn.citations == () and turn.answer == ui.OUT_OF_SCOPE_TEXT
    kept = ui.apply_filters(ans, ans.question, {DIEN_BIEN_DOC}, None)
    assert not kept.abstained and [c.rank for c in kept.citations] == list(range(1, len(kept.citations) + 1))
