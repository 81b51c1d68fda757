"""Issue 13: what a fuzzer, hostile files and a hostile client found — each probe answered as documented.

The hostile-plans fixture is generated here (control characters, formula cells, HTML, NFD, zero-width
characters; a 20 MB file and a NUL byte after 4 KB are refused); the behaviour is documented in
docs/HARDENING.md.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from pathlib import Path

import docx
import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.cli import main as cli_main
from app.export import ASSIGNMENT_COLUMNS, csv_cell, to_csv
from app.settings import Settings
from index.store import build_index
from ingest.chunking import ChunkSettings
from ingest.pipeline import ingest_paths
from ingest.reader import read_plan, scan, xml_safe
from ingest.records import DocMeta, plan_label

BOM = "\ufeff"
FORMULA = '=HYPERLINK("http://evil.example","bấm")'
CMD = "=cmd|'/C calc'!A0"
HOSTILE = {
    # control characters past the first 4 KB (the old reader looked only there), a form feed (page break)
    "ctrl.txt": "KẾ HOẠCH\nĐảng ủy xã Tân Lập ban hành như sau:\n" + "Tuyên truyền sâu rộng.\n" * 250
                + "I. MỤC TIÊU\n1. Tỷ lệ tiêm chủng đạt 95%.\x01\x02\x1b\x7f\ufffe\n\x0cIV. TỔ CHỨC THỰC HIỆN\n"
                  "1. Trạm Y tế xã chủ trì khám sức khỏe\x01 định kỳ.\n",
    # formula cells (task text and a "+10" row), HTML, and no issuer (the ingest summary must not say None)
    "formula.txt": "KẾ HOẠCH\nThực hiện Nghị quyết 72-NQ/TW\nI. MỤC TIÊU\n1. Tuổi thọ trung bình đạt 75,5 tuổi vào năm "
                   f"2030.\nIV. TỔ CHỨC THỰC HIỆN\n1. Sở Y tế\n{FORMULA} tuyên truyền <script>alert(1)</script> "
                   f"Nghị quyết.\n2. Sở Tài chính\n+10 chủ trì bố trí kinh phí; {CMD}\n",
    # decomposed (NFD) text and zero-width characters
    "nfd.txt": unicodedata.normalize("NFD", "KẾ HOẠCH\nỦy ban nhân dân xã Hòa Bình ban hành:\nI. MỤC TIÊU\n"
                                            "1. Tuổi thọ trung bình đạt 76 tuổi.\nIV. TỔ CHỨC THỰC HIỆN\n"
                                            "1. Phòng Văn hóa\u200b - Xã hội chủ trì tuyên\u200d truyền.\n"),
}


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("hostile")
    for name, text in HOSTILE.items():
        (src / name).write_text(text, "utf-8")
    return src


@pytest.fixture(scope="module")
def hostile_client(hostile_dir, encoder, settings: Settings, tmp_path_factory):
    cs = ChunkSettings()
    docs, chunks = ingest_paths([hostile_dir], cs, progress=False)
    out = tmp_path_factory.mktemp("hidx") / "index"
    build_index(docs, chunks, encoder, out, cs, progress=False)
    with TestClient(create_app(settings.model_copy(update={"index_dir": out}))) as c:
        yield c


def _csv_rows(text: str) -> list[dict]:
    assert text.startswith(BOM)
    return list(csv.DictReader(io.StringIO(text[1:])))


# ---- 1. control characters -----------------------------------------------------------------------------
def test_reader_cleans_control_characters_in_the_whole_file(hostile_dir) -> None:
    text = read_plan(hostile_dir / "ctrl.txt")
    assert len(HOSTILE["ctrl.txt"].encode()) > 4096
    assert not any(ch in text for ch in "\x01\x02\x1b\ufffe\x0c")
    assert "khám sức khỏe định kỳ" in text and "\nIV. TỔ CHỨC THỰC HIỆN" in text  # form feed → line break


def test_nul_byte_after_4_kb_refuses_the_file(tmp_path) -> None:
    p = tmp_path / "plan.txt"
    p.write_bytes(("KẾ HOẠCH\n" + "x" * 5000).encode() + b"\x00\x01 tail\n")
    with pytest.raises(ValueError, match="binary"):
        read_plan(p)


@pytest.mark.parametrize("value", ["\x01", "\x00", "\ufffe"])
def test_briefing_docx_with_control_characters_in_a_filter(client: TestClient, value: str) -> None:
    r = client.get("/api/briefing.docx", params={"agency": value})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        docx.Document(io.BytesIO(r.content))
    else:
        assert r.json()["detail"].startswith("Yêu cầu không hợp lệ")


def test_every_export_of_the_hostile_plans_opens(hostile_client: TestClient) -> None:
    r = hostile_client.get("/api/briefing.docx")
    assert r.status_code == 200, r.text
    note = docx.Document(io.BytesIO(r.content))
    text = "\n".join(p.text for p in note.paragraphs) + "".join(
        c.text for t in note.tables for row in t.rows for c in row.cells)
    assert "<script>" in text and "\x01" not in text
    for path in ("/api/assignments", "/api/targets"):
        r = hostile_client.get(path, params={"format": "csv"})
        assert r.status_code == 200
        for row in _csv_rows(r.text):
            for cell in row.values():
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
                assert xml_safe(cell) == cell


# ---- 2. CSV formula injection -------------------------------------------------------------------------------
def test_formula_cells_reach_the_csv_neutralised(hostile_client: TestClient) -> None:
    rows = _csv_rows(hostile_client.get("/api/assignments", params={"format": "csv"}).text)
    tasks = [r["task"] for r in rows]
    assert any(t.startswith("'" + FORMULA) for t in tasks), tasks


@pytest.mark.parametrize("raw", ["=1+1", "+10", "-5", "@SUM(A1)", "\tx", "\rx", "\x01=cmd"])
def test_csv_cell_keeps_the_text_but_not_the_formula(raw: str) -> None:
    cell = csv_cell(raw)
    assert cell.startswith("'") and cell.endswith(raw.lstrip("\x01")[1:])
    assert csv_cell("Sở Y tế") == "Sở Y tế" and csv_cell(12) == 12


def test_to_csv_round_trips_neutralised_cells() -> None:
    text = to_csv([{c: "" for c in ASSIGNMENT_COLUMNS} | {"task": CMD, "start": 3}], ASSIGNMENT_COLUMNS)
    row = _csv_rows(text)[0]
    assert row["task"] == "'" + CMD and row["start"] == "3"


# ---- 7, 8. ingest summary, skipped files, size limit ------------------------------------------------------
def test_plan_label_never_prints_none() -> None:
    bare = DocMeta(None, None, None, None, None, None, None, None, None, False)
    assert bare.label == plan_label(None, None, None) == "Văn bản (chưa ghi số)"
    full = DocMeta("07-KH/TU", None, "Kế hoạch", "Ban Thường vụ", None, "21/11/2025", None, None, None, False)
    assert full.label == "Kế hoạch số 07-KH/TU của Ban Thường vụ"


def test_scan_lists_skipped_files_with_reasons(tmp_path) -> None:
    for name in ("plan.txt", "scan.pdf", "old.doc", "notes.xlsx", ".hidden.txt"):
        (tmp_path / name).write_text("KẾ HOẠCH\n", "utf-8")
    found = scan([tmp_path])
    assert [p.name for p in found.files] == ["plan.txt", "scan.pdf"]  # PDFs are read (their content is judged)
    reasons = {p.name: r for p, r in found.skipped}
    assert set(reasons) == {"old.doc", "notes.xlsx", ".hidden.txt"}
    assert ".docx" in reasons["old.doc"] and "unsupported" in reasons["notes.xlsx"]


def test_ingest_cli_prints_skips_and_no_none(hostile_dir, tmp_path, settings, monkeypatch, capsys) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "formula.txt").write_text(HOSTILE["formula.txt"], "utf-8")
    (src / "notes.xlsx").write_bytes(b"PK\x03\x04")
    (src / "plan.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    monkeypatch.setenv("KEHOACH_MODEL_CACHE", str(settings.model_cache))
    assert cli_main(["ingest", "--index-dir", str(tmp_path / "index"), str(src)]) == 0
    out, err = capsys.readouterr()
    assert "indexed 1 plans" in out and "None" not in out
    assert "skipped 2 file(s)" in err and "notes.xlsx" in err and "plan.doc" in err


def test_file_over_the_size_limit_is_refused_and_the_index_kept(hostile_dir, tmp_path, settings, monkeypatch,
                                                                 capsys) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "big.txt").write_bytes(b"KE HOACH\n" + b"Tuyen truyen nghi quyet. " * (20 * 1024 * 1024 // 25))
    index = tmp_path / "index"
    index.mkdir()
    (index / "keep.me").write_text("old index", "utf-8")
    monkeypatch.setenv("KEHOACH_MODEL_CACHE", str(settings.model_cache))
    assert cli_main(["ingest", "--index-dir", str(index), str(src)]) == 2
    err = capsys.readouterr().err
    assert "big.txt" in err and "10 MB limit" in err and "--max-file-mb" in err
    assert (index / "keep.me").read_text("utf-8") == "old index"
    with pytest.raises(ValueError, match="1 MB limit"):
        read_plan(src / "big.txt", max_bytes=1024 * 1024)


def test_hostile_plans_ingest_as_documented(hostile_client: TestClient) -> None:
    docs = {d["source_file"]: d for d in hostile_client.get("/api/documents").json()}
    assert set(docs) == set(HOSTILE)
    nfd = hostile_client.get(f"/api/documents/{docs['nfd.txt']['doc_id']}").json()
    assert unicodedata.is_normalized("NFC", nfd["text"]) and "Hòa Bình" in nfd["text"]


# ---- 5, 6. uploads and body size ------------------------------------------------------------------------------
def test_upload_route_is_refused(client: TestClient) -> None:
    r = client.post("/gradio_api/upload", files={"files": ("x.bin", b"\0" * 4096)})
    assert r.status_code == 403 and "tải lên" in r.json()["detail"]


def test_large_body_is_413_json(client: TestClient) -> None:
    big = json.dumps({"question": "a" * (70 * 1024)})
    r = client.post("/api/ask", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "quá lớn" in r.json()["detail"] and r.json()["errors"]


def test_large_chunked_body_without_length_is_413(client: TestClient) -> None:
    def chunks():
        yield b'{"question": "'
        for _ in range(100):
            yield b"a" * 1024
        yield b'"}'

    r = client.post("/api/ask", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


# ---- 9. request validation, health, docs, headers -----------------------------------------------------------
@pytest.mark.parametrize("body", [b'{"question": "\xff\xfe"}', b"[" * 5000 + b"]" * 5000])
def test_unparsable_body_is_the_422_shape(client: TestClient, body: bytes) -> None:
    r = client.post("/api/ask", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith("Yêu cầu không hợp lệ") and r.json()["errors"]


def test_length_is_counted_after_nfc(client: TestClient) -> None:
    r = client.post("/api/ask", json={"question": unicodedata.normalize("NFD", "ế") * 500})
    assert r.status_code == 200, r.text
    assert client.post("/api/ask", json={"question": "ế" * 1001}).status_code == 422


@pytest.mark.parametrize("question", ["\u200b\u200b", " \u200d\ufeff ", "   ", "\u2060"])
def test_invisible_question_is_422(client: TestClient, question: str) -> None:
    r = client.post("/api/ask", json={"question": question})
    assert r.status_code == 422 and "không được để trống" in r.json()["detail"]
    assert client.get("/api/search", params={"q": question}).status_code == 422


def test_schema_promises_a_visible_character(client: TestClient) -> None:
    props = client.get("/openapi.json").json()["components"]["schemas"]["AskRequest"]["properties"]
    pattern = re.compile(props["question"]["pattern"])
    assert pattern.search("a") and not pattern.search(" \u200b\t\u3000")


def test_boolean_k_is_refused(client: TestClient) -> None:
    r = client.post("/api/ask", json={"question": "Ai chủ trì?", "k": True})
    assert r.status_code == 422 and "số nguyên" in r.json()["detail"]


def test_health_is_503_without_an_index(tmp_path: Path, settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"index_dir": tmp_path / "none"}))) as c:
        r = c.get("/health")
        assert r.status_code == 503 and r.json()["status"] == "no_index"


def test_health_does_not_run_on_the_thread_pool() -> None:
    import inspect

    from app import api

    app = api.create_app(Settings(index_dir=Path("/nonexistent")), retriever=None)
    route = next(r for r in app.routes if getattr(r, "path", "") == "/health")
    assert inspect.iscoroutinefunction(route.endpoint)


def test_docs_load_their_assets_locally(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert "cdn.jsdelivr" not in html and "/static-offline-docs/" in html
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static-offline-docs/redoc.standalone.js").status_code == 200


def test_security_headers_on_api_and_ui(client: TestClient) -> None:
    for path in ("/health", "/", "/api/documents"):
        h = client.get(path).headers
        assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "SAMEORIGIN"
        assert "default-src 'self'" in h["content-security-policy"]


def test_unexpected_error_is_readable(client: TestClient, monkeypatch) -> None:
    from app import briefing

    def boom(*a, **k):
        raise RuntimeError("All strings must be XML compatible")

    monkeypatch.setattr(briefing, "build_briefing_docx", boom)
    with TestClient(client.app, raise_server_exceptions=False) as c:
        r = c.get("/api/briefing.docx")
    assert r.status_code == 500 and "XML" not in r.text and "Lỗi nội bộ" in r.json()["detail"]


def test_heavy_asks_take_one_slot_at_a_time(tmp_path) -> None:
    import threading

    from app.api import AppState, is_heavy

    state = AppState(Settings(index_dir=tmp_path, ask_workers=4))
    assert is_heavy("x" * 1000, 5) and is_heavy("x", 50) and not is_heavy("Ai chủ trì?", 5)
    inside = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with state.ask_slot(heavy=True):
            inside.set()
            release.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    inside.wait(5)
    assert not state._heavy.acquire(blocking=False)  # a second heavy ask waits
    with state.ask_slot(heavy=False):  # light asks still run
        pass
    release.set()
    t.join()


def test_undeclared_method_on_an_api_path_is_405(client: TestClient) -> None:
    r = client.request("TRACE", "/api/ask")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert client.head("/health").status_code == 405  # said 404 (the UI's catch-all) before
    assert client.get("/").status_code == 200  # the UI is not an API path


def test_k_as_a_float_integer_is_accepted_but_not_a_string(client: TestClient) -> None:
    assert client.post("/api/ask", json={"question": "Ai chủ trì khám sức khỏe?", "k": 3.0}).status_code == 200
    assert client.post("/api/ask", json={"question": "Ai chủ trì?", "k": "3"}).status_code == 422
