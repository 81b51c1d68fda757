"""Admin uploads: token checks, background indexing of real PDF/TXT files, the running server answering from the
new plans without a restart, bad files reported by name with the previous index still serving, deletion.

Each test module works on its own copy of the session index (the shared one is never written)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.api import create_app
from app.jobs import Job
from app.runtime import load_retriever
from app.settings import Settings

TOKEN = "kiem-thu-bi-mat"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
TXT_PLAN = """KẾ HOẠCH
Triển khai chương trình nước sạch nông thôn năm 2026
Ủy ban nhân dân xã Khe Mây ban hành như sau:
I. MỤC TIÊU
1. Đến năm 2027, 98% hộ dân được dùng nước sạch đạt quy chuẩn.
II. TỔ CHỨC THỰC HIỆN
1. Hợp tác xã Nước sạch Khe Mây chủ trì lắp đặt đồng hồ đo nước cho từng hộ gia đình.
2. Đoàn Thanh niên xã phối hợp tuyên truyền tiết kiệm nước.
"""
PDF_LINES = ["KẾ HOẠCH", "Phát triển vườn dược liệu quý năm 2026", "Ủy ban nhân dân xã Pà Cò ban hành như sau:",
             "I. MỤC TIÊU", "1. Trồng mới 40 héc-ta cây sâm và cây đương quy dưới tán rừng.",
             "II. TỔ CHỨC THỰC HIỆN", "1. Hội Nông dân xã chủ trì hướng dẫn kỹ thuật trồng cây sâm dưới tán rừng."]


def _pdf_bytes(lines: list[str]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format=(148, 210))
    pdf.add_font("dv", fname=str(FONT))
    pdf.set_font("dv", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, "\n".join(lines))
    return bytes(pdf.output())


def _wait(c: TestClient, job: dict, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while job["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.3)
        r = c.get(f"/api/jobs/{job['id']}", headers=AUTH)
        assert r.status_code == 200, r.text
        job = r.json()
    return job


def _app(settings: Settings, tmp: Path, encoder, token: str) -> TestClient:
    index = tmp / "index"
    if not index.exists():
        shutil.copytree(settings.index_dir, index)
    s = settings.model_copy(update={"index_dir": index, "upload_dir": tmp / "uploads", "admin_token": token})
    return TestClient(create_app(s, retriever=load_retriever(s, encoder=encoder)))


@pytest.fixture(scope="module")
def admin(settings: Settings, index_dir: Path, encoder, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[TestClient]:
    s = settings.model_copy(update={"index_dir": index_dir})
    with _app(s, tmp_path_factory.mktemp("upload"), encoder, TOKEN) as c:
        yield c


def _doc_ids(c: TestClient) -> set[str]:
    return {d["doc_id"] for d in c.get("/api/documents").json()}


# ---- tokens -------------------------------------------------------------------------------------------------
def test_without_a_configured_token_every_admin_route_is_403(settings, index_dir, encoder, tmp_path) -> None:
    with _app(settings.model_copy(update={"index_dir": index_dir}), tmp_path, encoder, "") as c:
        for r in (c.post("/api/documents", files={"files": ("a.txt", TXT_PLAN.encode())}, headers=AUTH),
                  c.post("/api/documents", files={"files": ("a.txt", TXT_PLAN.encode())}),
                  c.delete("/api/documents/abc", headers=AUTH), c.get("/api/jobs/abc")):
            assert r.status_code == 403, r.text
            assert "KEHOACH_ADMIN_TOKEN" in r.json()["detail"] and "đang tắt" in r.json()["detail"]
        assert "kh-admin-off" in c.get("/config").text and "kh-admin-upload" not in c.get("/config").text


def test_missing_or_wrong_token_is_401(admin: TestClient) -> None:
    before = _doc_ids(admin)
    for headers in ({}, {"Authorization": "Bearer sai-ma"}, {"Authorization": TOKEN}):
        r = admin.post("/api/documents", files={"files": ("a.txt", TXT_PLAN.encode())}, headers=headers)
        assert r.status_code == 401, r.text
        assert r.headers["www-authenticate"] == "Bearer" and "Authorization: Bearer" in r.json()["detail"]
    assert admin.delete(f"/api/documents/{sorted(before)[0]}", headers={"Authorization": "Bearer x"}).status_code == 401
    assert admin.get("/api/jobs/abc").status_code == 401
    assert _doc_ids(admin) == before


def test_multipart_stays_refused_elsewhere(admin: TestClient) -> None:
    r = admin.post("/gradio_api/upload", files={"files": ("x.pdf", _pdf_bytes(PDF_LINES))}, headers=AUTH)
    assert r.status_code == 403
    r = admin.post("/api/ask", files={"files": ("x.txt", b"KE HOACH")}, headers=AUTH)
    assert r.status_code == 403


# ---- upload, answer, bad files, delete ---------------------------------------------------------------------
def test_uploaded_pdf_and_txt_are_answered_without_restart(admin: TestClient) -> None:
    files = [("files", ("Kế hoạch dược liệu.pdf", _pdf_bytes(PDF_LINES), "application/pdf")),
             ("files", ("nuoc-sach.txt", TXT_PLAN.encode(), "text/plain"))]
    r = admin.post("/api/documents", files=files, headers=AUTH)
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/api/jobs/{r.json()['id']}"
    job = _wait(admin, r.json())
    assert job["status"] == "done", job
    by_name = {f["name"]: f for f in job["files"]}
    assert by_name["Kế hoạch dược liệu.pdf"]["status"] == "ok" and by_name["Kế hoạch dược liệu.pdf"]["pages"] == 1
    assert by_name["nuoc-sach.txt"]["doc_id"] == "nuoc-sach" and by_name["nuoc-sach.txt"]["chunks"] >= 1
    pdf_id = by_name["Kế hoạch dược liệu.pdf"]["doc_id"]
    assert {pdf_id, "nuoc-sach"} <= _doc_ids(admin)
    assert job["index"]["documents"] == len(_doc_ids(admin))
    out = admin.post("/api/ask", json={"question": "Ai chủ trì lắp đặt đồng hồ đo nước cho các hộ gia đình?"}).json()
    assert not out["abstained"] and out["citations"][0]["doc_id"] == "nuoc-sach", out
    question = "Cơ quan nào hướng dẫn kỹ thuật trồng cây sâm dưới tán rừng?"
    out = admin.post("/api/ask", json={"question": question}).json()
    assert not out["abstained"] and out["citations"][0]["doc_id"] == pdf_id, out
    assert "Hội Nông dân" in out["answer"]
    kept = Path(admin.app.state.kehoach.settings.upload_dir)
    assert sorted(p.name for p in kept.iterdir() if p.is_file()) == sorted([f"{pdf_id}.pdf", "nuoc-sach.txt"])


def test_pdf_citations_carry_their_page_and_the_reader_shows_it_highlighted(admin: TestClient) -> None:
    from io import BytesIO

    from PIL import Image

    question = "Cơ quan nào hướng dẫn kỹ thuật trồng cây sâm dưới tán rừng?"
    top = admin.post("/api/ask", json={"question": question}).json()["citations"][0]
    assert top["page"] == 1
    text_cite = admin.post("/api/ask", json={"question": "Ai chủ trì lắp đặt đồng hồ đo nước?"}).json()["citations"][0]
    assert text_cite["doc_id"] == "nuoc-sach" and "page" not in text_cite  # plain text: no page
    hits = admin.get("/api/search", params={"q": question, "k": 1}).json()["hits"]
    assert hits[0]["page"] == 1
    plain = admin.get("/api/search", params={"q": "đồng hồ đo nước", "k": 1}).json()["hits"][0]
    assert plain["doc_id"] == "nuoc-sach" and "page" not in plain
    chunk = admin.app.state.kehoach.retriever.corpus.by_id[top["chunk_id"]]
    span = {"start": chunk.start, "end": chunk.end}
    page = admin.get(f"/doc/{top['doc_id']}", params=span).text
    assert 'id="kh-page-image"' in page and "Trang 1" in page
    png = admin.get(f"/doc/{top['doc_id']}/page/1", params=span)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    plain = admin.get(f"/doc/{top['doc_id']}/page/1")
    img, base = Image.open(BytesIO(png.content)).convert("RGB"), Image.open(BytesIO(plain.content)).convert("RGB")
    yellow = sum(1 for r, g, b in img.get_flattened_data() if r > 200 and g > 180 and b < 150)
    assert yellow > 1000 and sum(1 for r, g, b in base.get_flattened_data() if r > 200 and g > 180 and b < 150) == 0
    assert admin.get(f"/doc/{top['doc_id']}/page/9").status_code == 404
    assert admin.get("/doc/nuoc-sach/page/1").status_code == 404  # no PDF original


def test_corrupt_file_is_named_and_the_previous_index_keeps_serving(admin: TestClient) -> None:
    before, serving = _doc_ids(admin), admin.app.state.kehoach.retriever
    broken = _pdf_bytes(PDF_LINES)[:300]
    r = admin.post("/api/documents", files=[("files", ("hong.pdf", broken)),
                                            ("files", ("hong-word.docx", b"PK\x03\x04broken"))], headers=AUTH)
    assert r.status_code == 202, r.text
    job = _wait(admin, r.json())
    assert job["status"] == "failed"
    by_name = {f["name"]: f for f in job["files"]}
    word = by_name["hong-word.docx"]
    assert word["status"] == "rejected" and word["detail"].startswith("hong-word.docx:") and "re-save" in word["detail"]
    assert by_name["hong.pdf"]["status"] == "error"
    assert by_name["hong.pdf"]["detail"].startswith("hong.pdf: not a readable PDF")
    assert "re-export" in by_name["hong.pdf"]["detail"]
    assert admin.app.state.kehoach.retriever is serving and _doc_ids(admin) == before
    assert admin.post("/api/ask", json={"question": "Ai chủ trì lắp đặt đồng hồ đo nước?"}).status_code == 200


def test_files_refused_before_reading_answer_422(admin: TestClient) -> None:
    r = admin.post("/api/documents", files=[("files", ("cu.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64)),
                                            ("files", ("rong.txt", b""))], headers=AUTH)
    assert r.status_code == 422, r.text
    details = {f["name"]: f["detail"] for f in r.json()["files"]}
    assert "save it as .docx" in details["cu.doc"] and details["rong.txt"] == "rong.txt: the file is empty"
    r = admin.post("/api/documents", data={"note": "x"}, headers=AUTH)
    assert r.status_code == 422 and "files" in r.json()["detail"]


def test_a_failed_validation_leaves_the_previous_version_current(admin: TestClient, monkeypatch) -> None:
    import index.store

    state = admin.app.state.kehoach
    serving, manifest = state.retriever, (Path(state.settings.index_dir) / "manifest.json").read_text("utf-8")

    def broken(*args, **kwargs):
        raise index.store.IndexError_("simulated: the new version does not load")

    monkeypatch.setattr(index.store, "load_index", broken)
    r = admin.post("/api/documents", files={"files": ("moi.txt", TXT_PLAN.replace("Khe Mây", "Nà Hẩu").encode())},
                   headers=AUTH)
    job = _wait(admin, r.json())
    assert job["status"] == "failed" and "simulated" in job["detail"]
    assert state.retriever is serving
    assert (Path(state.settings.index_dir) / "manifest.json").read_text("utf-8") == manifest
    assert "moi" not in _doc_ids(admin)


def test_one_job_at_a_time(admin: TestClient) -> None:
    release = threading.Event()
    running = admin.app.state.kehoach_jobs.submit(Job("upload", []), lambda job: release.wait(30))
    try:
        r = admin.post("/api/documents", files={"files": ("a.txt", TXT_PLAN.encode())}, headers=AUTH)
        assert r.status_code == 409 and running.id in r.json()["detail"]
    finally:
        release.set()
    _wait(admin, running.to_json())


def test_delete_removes_a_plan(admin: TestClient) -> None:
    assert "nuoc-sach" in _doc_ids(admin)
    assert admin.delete("/api/documents/khong-co", headers=AUTH).status_code == 404
    r = admin.delete("/api/documents/nuoc-sach", headers=AUTH)
    assert r.status_code == 202, r.text
    assert _wait(admin, r.json())["status"] == "done"
    assert "nuoc-sach" not in _doc_ids(admin)
    assert admin.get("/api/documents/nuoc-sach").status_code == 404
    out = admin.post("/api/ask", json={"question": "Ai chủ trì lắp đặt đồng hồ đo nước cho các hộ gia đình?"}).json()
    assert all(c["doc_id"] != "nuoc-sach" for c in out["citations"])
    assert not (Path(admin.app.state.kehoach.settings.upload_dir) / "nuoc-sach.txt").exists()


def test_upload_body_limit_and_unread_body_without_token() -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from app.guards import HttpGuards

    async def endpoint(request: Request) -> JSONResponse:
        if "authorization" not in request.headers:
            return JSONResponse({"read": False}, status_code=401)
        return JSONResponse({"read": len(await request.body())})

    inner = Starlette(routes=[Route("/api/documents", endpoint, methods=["POST"]),
                              Route("/api/ask", endpoint, methods=["POST"])])
    c = TestClient(HttpGuards(inner, api_limit=100, ui_limit=100, uploads={"/api/documents": 5000}))
    small, big = {"files": ("a.txt", b"x" * 1000)}, {"files": ("a.txt", b"x" * 6000)}
    assert c.post("/api/documents", files=small, headers=AUTH).json()["read"] > 1000  # over api_limit, under 5000
    r = c.post("/api/documents", files=big, headers=AUTH)
    assert r.status_code == 413 and "KB" in r.json()["detail"]
    assert c.post("/api/documents", files=big).status_code == 401  # no token header: refused unread
    assert c.post("/api/ask", files=small, headers=AUTH).status_code == 403  # multipart elsewhere
