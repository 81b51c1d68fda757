"""Admin API: add plans by upload (``POST /api/documents``), remove them (``DELETE /api/documents/{doc_id}``)
and follow the background job (``GET /api/jobs/{job_id}``), behind the bearer token ``KEHOACH_ADMIN_TOKEN``.

- no token configured → 403 (uploads disabled, with how to enable them); a missing or wrong token → 401;
- each file is checked before anything is indexed: a safe name, its size (the reader's limits), its kind by
  content (:func:`ingest.filetype.sniff`); refused files are listed with the reason, the rest go on;
- a job (one at a time, 409 while one runs) reads the files with the CLI's reader, updates the index
  incrementally (:func:`index.store.update_index`), loads and checks the new version *before* it is made
  current, then swaps the server's retriever: questions are answered from the new plans without a restart,
  and a file that cannot be read, or a job that fails midway, leaves the previous index serving.
"""

from __future__ import annotations

import hmac
import logging
import re
import shutil
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.jobs import Busy, FileResult, Job, JobRunner
from app.schemas import ErrorOut, JobOut, UploadRefusedOut
from ingest import filetype
from ingest.pdf import PdfLimits

if TYPE_CHECKING:
    from app.api import AppState
    from index.store import IndexBundle
    from ingest.chunking import ChunkSettings
    from retriever.service import Retriever

log = logging.getLogger("app.admin")

UPLOAD_PATH = "/api/documents"
DISABLED = ("Chức năng tải văn bản lên đang tắt. Để bật: đặt biến môi trường KEHOACH_ADMIN_TOKEN=<mã bí mật> "
            "rồi khởi động lại dịch vụ, và gửi kèm tiêu đề `Authorization: Bearer <mã bí mật>`.")
WRONG_TOKEN = "Sai hoặc thiếu mã quản trị: gửi tiêu đề `Authorization: Bearer <KEHOACH_ADMIN_TOKEN>`."
_UNSAFE = re.compile(r"[^\w.\-]+")


def _state(request: Request) -> AppState:
    return request.app.state.kehoach


def require_admin(request: Request) -> None:
    """403 while no admin token is configured, 401 for a missing or wrong one (compared in constant time).

    The header is read here rather than declared as an OpenAPI security scheme: with uploads disabled every
    request is answered 403 (with how to enable them), which a declared scheme would promise to be a 401."""
    token = _state(request).settings.admin_token
    if not token:
        raise HTTPException(status_code=403, detail=DISABLED)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        given = ""
    if not hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8")):
        raise HTTPException(status_code=401, detail=WRONG_TOKEN, headers={"WWW-Authenticate": "Bearer"})


Admin = Annotated[None, Depends(require_admin)]
_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Thiếu hoặc sai mã quản trị (`Authorization: Bearer <mã>`)"},
    403: {"model": ErrorOut, "description": "Chưa bật tải lên: đặt KEHOACH_ADMIN_TOKEN"},
}


# ---- checking one uploaded file ---------------------------------------------------------------------------
def safe_name(name: str) -> str:
    """A file name that is safe on disk and as a document id: no folders, only letters, digits, ``._-``."""
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    stem, dot, suffix = base.rpartition(".")
    stem, suffix = (stem, suffix) if dot and stem else (base, "")
    stem = _UNSAFE.sub("_", stem).strip("._")[:80]
    suffix = _UNSAFE.sub("", suffix)[:8].lower()
    return f"{stem}.{suffix}" if stem and suffix else stem


def file_limit(kind: str, max_plan_bytes: int) -> tuple[int, str]:
    """The size limit of one file of ``kind`` and the setting that raises it (the reader's own limits)."""
    if kind == filetype.PDF:
        return PdfLimits().max_bytes, "KEHOACH_PDF_MAX_MB"
    return max_plan_bytes, "KEHOACH_MAX_PLAN_MB"


def check_file(path: Path, original: str, max_plan_bytes: int) -> str | None:
    """Why the stored upload ``path`` is refused before reading (None: it may be read)."""
    try:
        kind = filetype.sniff(path)
    except ValueError as exc:
        return f"{original}: {str(exc).split(': ', 1)[-1]}"
    limit, setting = file_limit(kind, max_plan_bytes)
    size = path.stat().st_size
    if size == 0:
        return f"{original}: the file is empty"
    if size > limit:
        return (f"{original}: {size / 2**20:.1f} MB is over the {limit / 2**20:.0f} MB limit of one {kind} file; "
                f"split the file or raise {setting}")
    return None


def _save(upload: UploadFile, folder: Path, taken: set[str], max_plan_bytes: int) -> tuple[FileResult, Path | None]:
    """Write one upload into ``folder``; the result says ``rejected`` (with why) or ``pending``."""
    original = upload.filename or ""
    name = safe_name(original)
    fr = FileResult(original or "(không tên)", doc_id=Path(name).stem if name else None)
    if not name:
        fr.status, fr.detail = "rejected", "the file has no usable name; give it a name such as ke-hoach.pdf"
        return fr, None
    if fr.doc_id in taken:
        fr.status, fr.detail = "rejected", (f"{original}: another file of this upload has the document id "
                                            f"'{fr.doc_id}'; rename one of them")
        return fr, None
    taken.add(fr.doc_id or "")
    path = folder / name
    with open(path, "wb") as out:
        shutil.copyfileobj(upload.file, out, 1 << 20)
    why = check_file(path, original, max_plan_bytes)
    if why:
        fr.status, fr.detail = "rejected", why
        path.unlink(missing_ok=True)
        return fr, None
    return fr, path


# ---- the job: read, index, validate, swap --------------------------------------------------------------------
def publish(state: AppState, current: Retriever, docs: list, removed: list[str]) -> Retriever:
    """Update the index with ``docs`` (document, chunks) and without ``removed``; the new version is loaded
    and queried before it is made current, then the server's retriever is swapped."""
    from app.runtime import load_retriever

    checked: list[Retriever] = []

    def validate(bundle: IndexBundle) -> None:
        fresh = load_retriever(state.settings, encoder=current.encoder, bundle=bundle)
        fresh.search("kế hoạch", k=1)  # the new version answers before anyone is sent to it
        checked.append(fresh)

    res = state.store.update(docs, removed, current.encoder, bundle=current.bundle, validate=validate)
    if not checked:  # nothing changed (the same plans uploaded again)
        return current
    fresh = checked[0]
    fresh.bundle.content_version = res.bundle.content_version
    with state.swap_lock:
        state.retriever = fresh
    log.info("serving the new index", extra={"documents": len(fresh.documents), "chunks": len(fresh.bundle.chunks)})
    return fresh


def _index_json(r: Retriever) -> dict[str, Any]:
    return {"documents": len(r.documents), "chunks": len(r.bundle.chunks)}


def _read_files(job: Job, staged: list[tuple[FileResult, Path]], cs: ChunkSettings, max_bytes: int) -> list:
    """Each staged file read and chunked like `kehoach ingest` does; a file that fails gets its error."""
    from ingest.chunking import chunk_document
    from ingest.pipeline import load_document

    parsed = []
    for i, (fr, path) in enumerate(staged):
        job.step(f"đọc {fr.name}", 0.05 + 0.6 * i / max(1, len(staged)))
        try:
            doc = load_document(path, max_bytes)
            chunks = chunk_document(doc, cs)
            if not chunks:
                raise ValueError(f"{path.name}: no passage to index (the file holds no text)")
        except ValueError as exc:
            fr.status, fr.detail = "error", f"{fr.name}: {str(exc).split(': ', 1)[-1]}"
            continue
        except Exception as exc:  # an unexpected reader failure fails this file only
            log.exception("reading an upload failed", extra={"file": fr.name})
            fr.status, fr.detail = "error", f"{fr.name}: could not be read ({type(exc).__name__}); re-export it"
            continue
        fr.pages, fr.chunks = (len({p for _, p in doc.meta.pages}) or None), len(chunks)
        parsed.append((fr, path, doc, chunks))
    return parsed


def upload_work(state: AppState, staged: list[tuple[FileResult, Path]], incoming: Path) -> Any:
    def work(job: Job) -> None:
        try:
            current = state.get()
            settings = state.settings
            parsed = _read_files(job, staged, state.store.chunk_settings(), int(settings.max_plan_mb * 2**20))
            if not parsed:
                job.detail = "Không tệp nào đọc được; chỉ mục không thay đổi."
                return
            job.step("lập chỉ mục", 0.7)
            fresh = publish(state, current, [(d, c) for _, _, d, c in parsed], [])
            keep = Path(settings.upload_dir)
            keep.mkdir(parents=True, exist_ok=True)
            for fr, path, doc, _ in parsed:
                fr.status, fr.doc_id = "ok", doc.doc_id
                shutil.move(str(path), keep / path.name)  # the original, for a full rebuild and page images
            job.index = _index_json(fresh)
        finally:
            shutil.rmtree(incoming, ignore_errors=True)
    return work


def delete_work(state: AppState, doc_id: str) -> Any:
    def work(job: Job) -> None:
        current = state.get()
        source = current.documents[doc_id].source_file
        job.step("xóa khỏi chỉ mục", 0.3)
        fresh = publish(state, current, [], [doc_id])
        kept = Path(state.settings.upload_dir) / source
        if kept.is_file():
            kept.unlink()
        job.files[0].status = "ok"
        job.index = _index_json(fresh)
    return work


# ---- routes ---------------------------------------------------------------------------------------------------
MULTIPART_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["files"],
    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"},
                             "description": "một hoặc nhiều tệp: PDF, DOCX, TXT/MD (kiểu tệp xét theo nội dung)"}}}}}}}
_BUSY = {"model": ErrorOut, "description": "Đang có một job khác chạy (mỗi lần một job)"}
_NO_INDEX = {"model": ErrorOut, "description": "Chưa có chỉ mục: chạy `kehoach ingest`"}


def _runner(request: Request) -> JobRunner:
    return request.app.state.kehoach_jobs


def _busy(job_id: str) -> HTTPException:
    return HTTPException(status_code=409, detail=f"Đang chạy job {job_id}; chờ job đó xong (GET /api/jobs/{job_id}) "
                                                 "rồi gửi lại.")


def _current(state: AppState) -> Retriever:
    try:
        return state.get()
    except RuntimeError as exc:  # IndexNotReady: build the first index with the CLI
        raise HTTPException(status_code=503, detail=str(exc)) from exc


def _accepted(job: Job) -> JSONResponse:
    return JSONResponse(status_code=202, content=job.to_json(), headers={"Location": f"/api/jobs/{job.id}"})


def _refused(detail: str, files: list[FileResult] | None = None) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": detail, "files": [f.to_json() for f in files or []]})


async def _uploads(request: Request, max_files: int) -> list[UploadFile]:
    try:
        form = await request.form(max_files=max_files, max_fields=max_files)
    except StarletteHTTPException as exc:  # a malformed multipart body, or too many parts
        raise HTTPException(status_code=422, detail=f"Nội dung tải lên không hợp lệ ({exc.detail}); gửi "
                                                    f"multipart/form-data, tối đa {max_files} tệp.") from exc
    return [v for _, v in form.multi_items() if isinstance(v, UploadFile)]


def _save_all(uploads: list[UploadFile], folder: Path, max_plan_bytes: int) -> list[tuple[FileResult, Path | None]]:
    folder.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    return [_save(u, folder, taken, max_plan_bytes) for u in uploads]


def _add_upload_route(app: FastAPI) -> None:
    @app.post(UPLOAD_PATH, status_code=202, response_model=JobOut, tags=["quản trị"], openapi_extra=MULTIPART_BODY,
              summary="Tải lên kế hoạch (PDF, DOCX, TXT/MD) để lập chỉ mục nền", responses={
                  **_AUTH_ERRORS, 409: _BUSY, 413: {"model": ErrorOut, "description": "Nội dung quá lớn"},
                  422: {"model": UploadRefusedOut, "description": "Không có tệp hợp lệ"}, 503: _NO_INDEX})
    async def upload_documents(request: Request, _: Admin) -> Any:
        """Cần tiêu đề `Authorization: Bearer <KEHOACH_ADMIN_TOKEN>` (chưa đặt mã: 403; sai mã: 401).  Trả 202
        kèm job; theo dõi ở `GET /api/jobs/{id}`.  Tệp cùng tên (cùng mã văn bản) thay bản cũ."""
        state, runner = _state(request), _runner(request)
        if runner.running is not None:
            raise _busy(runner.running.id)
        _current(state)
        settings = state.settings
        uploads = await _uploads(request, settings.max_upload_files)
        if not uploads:
            return _refused("Chưa có tệp nào: gửi các tệp trong trường `files` (multipart/form-data).")
        incoming = Path(settings.upload_dir) / ".incoming" / Job("upload", []).id
        results = await run_in_threadpool(_save_all, uploads, incoming, int(settings.max_plan_mb * 2**20))
        staged = [(fr, p) for fr, p in results if p is not None]
        if not staged:
            shutil.rmtree(incoming, ignore_errors=True)
            return _refused("Không tệp nào hợp lệ; xem lý do của từng tệp.", [fr for fr, _ in results])
        try:
            job = runner.submit(Job("upload", [fr for fr, _ in results]), upload_work(state, staged, incoming))
        except Busy as exc:
            shutil.rmtree(incoming, ignore_errors=True)
            raise _busy(exc.job_id) from exc
        return _accepted(job)


def _add_delete_and_job_routes(app: FastAPI) -> None:
    @app.delete(UPLOAD_PATH + "/{doc_id}", status_code=202, response_model=JobOut, tags=["quản trị"],
                summary="Xóa một văn bản khỏi chỉ mục (job nền)", responses={
                    **_AUTH_ERRORS, 404: {"model": ErrorOut, "description": "Không có văn bản này"}, 409: _BUSY,
                    503: _NO_INDEX})
    def delete_document(doc_id: str, request: Request, _: Admin) -> Any:
        state, runner = _state(request), _runner(request)
        r = _current(state)
        if doc_id not in r.documents:
            raise HTTPException(status_code=404, detail=f"Không tìm thấy văn bản có mã '{doc_id}'. Xem danh sách "
                                                        "mã văn bản tại /api/documents.")
        if len(r.documents) == 1:
            raise HTTPException(status_code=409, detail="Không thể xóa văn bản duy nhất của chỉ mục; tải văn bản "
                                                        "khác lên trước.")
        try:
            job = runner.submit(Job("delete", [FileResult(r.documents[doc_id].source_file, doc_id=doc_id)]),
                                delete_work(state, doc_id))
        except Busy as exc:
            raise _busy(exc.job_id) from exc
        return _accepted(job)

    @app.get("/api/jobs/{job_id}", response_model=JobOut, tags=["quản trị"], summary="Tiến độ và kết quả một job",
             responses={**_AUTH_ERRORS, 404: {"model": ErrorOut, "description": "Không có job này"}})
    def job_status(job_id: str, request: Request, _: Admin) -> Any:
        job = _runner(request).get(job_id)
        if job is None:
            raise HTTPException(status_code=404, detail=f"Không có job '{job_id}' (các job cũ được giữ đến "
                                                        "khi dịch vụ khởi động lại).")
        return job.to_json()


def add_admin_routes(app: FastAPI) -> None:
    """The admin routes and their job runner (``app.state.kehoach_jobs``)."""
    app.state.kehoach_jobs = JobRunner()
    _add_upload_route(app)
    _add_delete_and_job_routes(app)
