"""HTTP API (JSON under /api, OpenAPI at /docs), a small HTML reader at /doc/{doc_id}, and the Gradio UI at /.

The model and the index are loaded once, in the lifespan, and handed to endpoints with ``Depends``.  Without a
built index the app still starts: data endpoints answer 503 with a message naming ``kehoach ingest``, and the
index is picked up without a restart once it has been built.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import gradio as gr
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import admin, briefing, ui
from app.export import ASSIGNMENT_COLUMNS, TARGET_COLUMNS, shown_assignment_rows, shown_target_rows, to_csv
from app.guards import HttpGuards
from app.page_view import add_page_route, page_field, page_figure_html, with_pages
from app.reload import ContentWatcher
from app.runtime import index_store, load_retriever
from app.schemas import (
    MAX_K,
    MAX_QUESTION_CHARS,
    AnswerOut,
    AskRequest,
    AssignmentRow,
    DocumentDetail,
    DocumentMeta,
    DocumentSummary,
    ErrorOut,
    HealthOut,
    IndexSummary,
    SearchHitOut,
    SearchOut,
    SearchParams,
    SectionOut,
    TargetRow,
)
from app.settings import Settings
from index.store import StoredDocument
from ingest.records import meta_to_json
from retriever.service import Retriever

log = logging.getLogger("app.api")

DEFAULT_MODEL_NAME = "multilingual-e5-small"


class IndexNotReady(RuntimeError):
    """No usable index (or model): the message says how to build it."""


class AppState:
    """The loaded retriever, or why there is none; retries once the index's store changes."""

    def __init__(self, settings: Settings, retriever: Retriever | None = None) -> None:
        self.settings = settings
        self.store = index_store(settings)
        self.retriever = retriever
        self.error: str | None = None
        self._failed_stamp: str | None = None
        self._lock = threading.Lock()
        self.swap_lock = threading.Lock()  # the retriever is replaced under it (admin jobs, ContentWatcher)
        self._asks = threading.BoundedSemaphore(max(1, settings.ask_workers))
        self._heavy = threading.BoundedSemaphore(1)

    @contextmanager
    def ask_slot(self, heavy: bool) -> Iterator[None]:
        """At most ``ask_workers`` questions at once, and at most one heavy one (long question or large k), so
        one slow client cannot take every worker."""
        with self._heavy if heavy else _NO_LOCK, self._asks:
            yield

    def reload_pending(self) -> bool:
        """True when no index is loaded but the manifest changed since the last failed load."""
        stamp = self._manifest_stamp()
        return self.retriever is None and stamp is not None and stamp != self._failed_stamp

    def load_in_background(self) -> None:
        if self.reload_pending() and not self._lock.locked():
            threading.Thread(target=self._try_get, daemon=True, name="kehoach-index-load").start()

    def _try_get(self) -> None:
        try:
            self.get()
        except IndexNotReady:
            pass

    def _manifest_stamp(self) -> str | None:
        return self.store.version()

    def load(self) -> None:
        t0 = time.perf_counter()
        try:
            self.retriever = load_retriever(self.settings, bundle=self.store.load())
            self.error = None
            log.info("loaded index and model", extra={"index_dir": self.store.where,
                                                       "seconds": round(time.perf_counter() - t0, 2)})
        except (ValueError, OSError) as exc:  # IndexError_ is a ValueError; a missing model folder an OSError
            self.error = str(exc)
            self._failed_stamp = self._manifest_stamp()
            log.warning("no usable index; data endpoints answer 503", extra={"error": self.error})

    def get(self) -> Retriever:
        if self.retriever is None:
            stamp = self._manifest_stamp()
            if stamp is not None and stamp != self._failed_stamp:
                with self._lock:
                    if self.retriever is None:
                        self.load()
        if self.retriever is None:
            raise IndexNotReady(self.not_ready_message())
        return self.retriever

    def not_ready_message(self) -> str:
        return (f"Chưa có chỉ mục văn bản tại {self.store.where}: hãy chạy `kehoach ingest` "
                "để lập chỉ mục rồi thử lại (không cần khởi động lại dịch vụ). "
                f"Chi tiết: {self.error or 'chưa nạp'}")


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_LOCK = _NoLock()
HEAVY_K = 10
HEAVY_QUESTION_CHARS = 300


def is_heavy(question: str, k: int) -> bool:
    return k > HEAVY_K or len(question) > HEAVY_QUESTION_CHARS


def app_state(request: Request) -> AppState:
    return request.app.state.kehoach


def get_retriever(state: Annotated[AppState, Depends(app_state)]) -> Retriever:
    """The shared retriever; 503 when the index is not built.  Tests may override this dependency."""
    try:
        return state.get()
    except IndexNotReady as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from exc


RetrieverDep = Annotated[Retriever, Depends(get_retriever)]

_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorOut, "description": "Yêu cầu không hợp lệ (câu hỏi rỗng/quá dài, k ngoài 1–50)"},
    503: {"model": ErrorOut, "description": "Chưa có chỉ mục: chạy `kehoach ingest`"},
}


# ---- validation errors -----------------------------------------------------------------------------
_FIELDS = {"question": "câu hỏi (question)", "q": "câu hỏi (q)", "k": "số đoạn trích dẫn (k)",
           "doc": "văn bản (doc)", "agency": "cơ quan chủ trì (agency)", "indicator": "chỉ tiêu (indicator)",
           "format": "định dạng (format)"}


def _describe(err: dict[str, Any]) -> str:
    loc = [str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path")]
    field = _FIELDS.get(loc[-1], loc[-1]) if loc else None
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "missing":
        return f"thiếu {field}" if field else 'thiếu nội dung yêu cầu: gửi JSON {"question": "...", "k": 5}'
    if kind == "json_invalid":
        return "nội dung gửi lên không phải JSON hợp lệ"
    if kind in ("model_attributes_type", "dict_type", "model_type"):
        return 'nội dung yêu cầu phải là đối tượng JSON {"question": "...", "k": 5}'
    if kind in ("string_too_short", "string_pattern_mismatch"):
        return f"{field} không được để trống"
    if kind == "string_too_long":
        return f"{field} dài quá {ctx.get('max_length', MAX_QUESTION_CHARS)} ký tự"
    if kind == "string_type":
        return f"{field} phải là chuỗi ký tự"
    if kind == "literal_error":
        return f"{field} phải là {str(ctx.get('expected', '')).replace(' or ', ' hoặc ')}"
    out_of_range = kind in ("greater_than_equal", "less_than_equal")
    if loc and loc[-1] == "k" and (kind.startswith("int_") or out_of_range):
        return f"{field} phải là số nguyên từ 1 đến {MAX_K}"
    return f"{field}: {err.get('msg')}" if field else str(err.get("msg"))


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """FastAPI answers a body it cannot parse (invalid UTF-8, JSON nested too deep) with an English 400: answer
    it like every other invalid request, 422 with a Vietnamese ``detail`` and ``errors``."""
    if exc.status_code == 400:
        return JSONResponse(status_code=422, content={
            "detail": "Yêu cầu không hợp lệ: nội dung gửi lên không phải JSON hợp lệ (UTF-8, lồng nhau vừa phải).",
            "errors": [{"loc": ["body"], "type": "json_invalid", "msg": str(exc.detail)}]})
    return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail}, headers=exc.headers)


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """An unexpected failure: logged with its traceback, answered with a readable message (no raw text)."""
    log.exception("request failed", extra={"path": request.url.path})
    return JSONResponse(status_code=500, content={
        "detail": "Lỗi nội bộ khi xử lý yêu cầu; lỗi đã được ghi vào nhật ký dịch vụ. Hãy thử lại hoặc báo quản trị."})


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [{"loc": list(e.get("loc", ())), "type": e.get("type"), "msg": e.get("msg")}
              for e in exc.errors()]
    messages = list(dict.fromkeys(_describe(e) for e in exc.errors()))
    detail = "Yêu cầu không hợp lệ: " + "; ".join(messages) + "."
    return JSONResponse(status_code=422, content={"detail": detail, "errors": errors})


# ---- converters -------------------------------------------------------------------------------------
def _summary(r: Retriever, d: StoredDocument) -> DocumentSummary:
    m = d.meta
    return DocumentSummary(doc_id=d.doc_id, source_file=d.source_file, number=m.number, doc_type=m.doc_type,
                           issuer=m.issuer, locality=m.locality, date=m.date,
                           signer=r.display.meta_field(d.doc_id, m.signer), ocr=m.ocr,
                           sections=len(d.sections), chunks=r.chunk_count(d.doc_id))


def _detail(r: Retriever, d: StoredDocument) -> DocumentDetail:
    sections = [SectionOut(path=list(s.path), label=s.label, title=s.title, kind=s.kind, start=s.start,
                           end=s.end) for s in d.sections]
    shown = r.display.document(d.doc_id)
    meta = {**meta_to_json(d.meta), "signer": r.display.meta_field(d.doc_id, d.meta.signer),
            "title": r.display.meta_field(d.doc_id, d.meta.title)}
    return DocumentDetail(doc_id=d.doc_id, source_file=d.source_file, sha256=d.sha256,
                          meta=DocumentMeta(**meta), chunks=r.chunk_count(d.doc_id),
                          sections=sections, text=shown.text, printed=shown.printed, restored=shown.restored)


def _index_summary(manifest: dict[str, Any]) -> IndexSummary:
    emb = manifest.get("embedding") or {}
    return IndexSummary(chunk_count=manifest.get("chunk_count"), corpus_hash=manifest.get("corpus_hash"),
                        created=manifest.get("created"), embedding_model=emb.get("model"),
                        embedding_dim=emb.get("dim"), documents=len(manifest.get("documents") or []))


def _not_found(doc_id: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"Không tìm thấy văn bản có mã '{doc_id}'. "
                                                 "Xem danh sách mã văn bản tại /api/documents.")


# ---- routes -----------------------------------------------------------------------------------------
def _add_routes(app: FastAPI) -> None:
    @app.post("/api/ask", response_model=AnswerOut, response_model_exclude_unset=True, tags=["hỏi đáp"],
              summary="Trả lời câu hỏi kèm trích dẫn", responses=_ERRORS)
    def ask(body: AskRequest, r: RetrieverDep, state: Annotated[AppState, Depends(app_state)]) -> AnswerOut:
        """Câu trả lời trích nguyên văn từ kế hoạch, kèm các đoạn trích dẫn; `abstained` = true và
        `citations` rỗng khi không tìm thấy thông tin trong các kế hoạch đã lập chỉ mục."""
        with state.ask_slot(is_heavy(body.question, body.k)):
            return with_pages(r, AnswerOut.model_validate(r.display.answer_json(r.ask(body.question, k=body.k))))

    @app.get("/api/search", response_model=SearchOut, response_model_exclude_unset=True, tags=["hỏi đáp"],
             summary="Tìm đoạn văn liên quan", responses=_ERRORS)
    def search(params: Annotated[SearchParams, Query()], r: RetrieverDep,
               state: Annotated[AppState, Depends(app_state)]) -> SearchOut:
        with state.ask_slot(is_heavy(params.q, params.k)):
            found = r.search(params.q, k=params.k)
        shown = [r.display.chunk(h.chunk) for h in found]
        hits = [SearchHitOut(rank=h.rank, chunk_id=h.chunk_id, doc_id=h.doc_id, doc_number=h.document.meta.number,
                             section=h.chunk.section, text=s.text, score=round(float(h.score), 6), **s.to_json(),
                             **page_field(h.document, h.chunk.start))
                for h, s in zip(found, shown, strict=True)]
        return SearchOut(query=params.q, hits=hits)



def _add_document_routes(app: FastAPI) -> None:
    @app.get("/api/documents", response_model=list[DocumentSummary], tags=["văn bản"],
             summary="Danh sách văn bản đã lập chỉ mục", responses={503: _ERRORS[503]})
    def documents(r: RetrieverDep) -> list[DocumentSummary]:
        return [_summary(r, d) for d in r.documents.values()]

    @app.get("/api/documents/{doc_id}", response_model=DocumentDetail, tags=["văn bản"],
             summary="Một văn bản: thông tin, mục lục, toàn văn",
             responses={404: {"model": ErrorOut, "description": "Không có văn bản này"}, 503: _ERRORS[503]})
    def document(doc_id: str, r: RetrieverDep) -> DocumentDetail:
        d = r.documents.get(doc_id)
        if d is None:
            raise _not_found(doc_id)
        return _detail(r, d)

    @app.get("/doc/{doc_id}", response_class=HTMLResponse, include_in_schema=False)
    def read_document(doc_id: str, state: Annotated[AppState, Depends(app_state)], start: int | None = None,
                      end: int | None = None, q: Annotated[str | None, Query(max_length=1000)] = None,
                      printed: bool = False) -> HTMLResponse:
        try:
            r = state.get()
        except IndexNotReady as exc:
            return HTMLResponse(ui.error_page("Chưa có chỉ mục", str(exc)), status_code=503)
        d = r.documents.get(doc_id)
        if d is None:
            page = ui.error_page("Không tìm thấy", str(_not_found(doc_id).detail))
            return HTMLResponse(page, status_code=404)
        cite = (start, end) if start is not None and end is not None else None
        page = ui.document_page(d, r.chunk_count(doc_id), cite, q, None if printed else r.display)
        figure = page_figure_html(d, cite, _source_folders(state.settings))
        return HTMLResponse(page.replace('<div class="kh-readgrid">', figure + '<div class="kh-readgrid">', 1))



def _source_folders(settings: Settings) -> list[Path]:
    """Where the original files of indexed plans are kept (for page images of PDFs); an upload replacing a
    bundled plan of the same name comes first."""
    return [Path(settings.upload_dir), Path(settings.corpus_dir)]


def _add_health_route(app: FastAPI) -> None:
    @app.get("/health", response_model=HealthOut, tags=["hệ thống"], summary="Tình trạng dịch vụ",
             responses={503: {"model": HealthOut, "description": "Chưa sẵn sàng: chưa có chỉ mục"}})
    async def health(state: Annotated[AppState, Depends(app_state)]) -> Any:
        """Answered on the event loop, never behind questions; 503 until an index is loaded (a new index is
        then loaded in the background)."""
        r = state.retriever
        if r is None:
            state.load_in_background()
            out = HealthOut(status="no_index", model=state.settings.model or DEFAULT_MODEL_NAME, index=None,
                            detail=state.not_ready_message())
            return JSONResponse(status_code=503, content=out.model_dump())
        return HealthOut(status="ok", model=r.encoder.name, index=_index_summary(r.manifest))


# ---- assignments, targets and the Word briefing ------------------------------------------------------------
_FILTER_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorOut, "description": "Bộ lọc không hợp lệ (không có kế hoạch / chỉ tiêu này, định dạng sai)"},
    503: _ERRORS[503],
}
Filter = Annotated[str | None, Query(max_length=200)]
Format = Annotated[Literal["json", "csv"], Query(alias="format", description="json (mặc định) hoặc csv")]


def _invalid_filter(exc: briefing.FilterError) -> RequestValidationError:
    """A filter matching nothing is answered like the other invalid requests: 422 with a readable detail."""
    return RequestValidationError([{"loc": ("query", exc.param), "type": "value_error", "msg": exc.message}])


def _attachment(content: str | bytes, media_type: str, filename: str) -> Response:
    return Response(content=content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _add_briefing_routes(app: FastAPI) -> None:
    @app.get("/api/assignments", response_model=list[AssignmentRow], tags=["tóm tắt"],
             summary="Phân công nhiệm vụ: cơ quan chủ trì, phối hợp, thời hạn", responses={
                 **_FILTER_ERRORS, 200: {"content": {"text/csv": {}}, "description": "JSON hoặc CSV (UTF-8 BOM)"}})
    def assignments(r: RetrieverDep, doc: Filter = None, agency: Filter = None, fmt: Format = "json") -> Any:
        """`doc`: mã văn bản, số hiệu (07-KH/TU) hoặc địa bàn (Mường La); `agency`: tên (một phần tên) cơ quan
        chủ trì, có dấu hoặc không dấu ("so y te"); `format=csv` để tải tệp CSV mở được bằng Excel."""
        try:
            found = briefing.select_assignments(r.facts, r.documents, doc, agency)
        except briefing.FilterError as exc:
            raise _invalid_filter(exc) from exc
        rows = shown_assignment_rows(found, r.documents, r.display)
        if fmt == "csv":
            return _attachment(to_csv(rows, ASSIGNMENT_COLUMNS), "text/csv; charset=utf-8", briefing.ASSIGNMENTS_CSV)
        return rows

    @app.get("/api/targets", response_model=list[TargetRow], tags=["tóm tắt"],
             summary="Chỉ tiêu của các kế hoạch (so sánh giữa các kế hoạch)", responses={
                 **_FILTER_ERRORS, 200: {"content": {"text/csv": {}}, "description": "JSON hoặc CSV (UTF-8 BOM)"}})
    def targets(r: RetrieverDep, indicator: Filter = None, doc: Filter = None, fmt: Format = "json") -> Any:
        """`indicator`: mã ("life_expectancy") hoặc tên chỉ tiêu ("tuổi thọ"); `doc` như ở /api/assignments."""
        try:
            found = briefing.select_targets(r.facts, r.documents, indicator, doc)
        except briefing.FilterError as exc:
            raise _invalid_filter(exc) from exc
        rows = shown_target_rows(found, r.documents, r.display)
        if fmt == "csv":
            return _attachment(to_csv(rows, TARGET_COLUMNS), "text/csv; charset=utf-8", briefing.TARGETS_CSV)
        return rows

    @app.get("/api/briefing.docx", tags=["tóm tắt"], summary="Tài liệu tóm tắt (Word) phân công và chỉ tiêu",
             response_class=Response, responses={
                 **_FILTER_ERRORS, 200: {"content": {briefing.DOCX_MEDIA_TYPE: {}}, "description": "Tệp .docx"}})
    def briefing_docx(r: RetrieverDep, doc: Filter = None, agency: Filter = None,
                      indicator: Filter = None) -> Response:
        """Danh sách kế hoạch, bảng phân công nhiệm vụ, bảng so sánh chỉ tiêu giữa các kế hoạch và nguồn
        trích dẫn; các bộ lọc như ở /api/assignments và /api/targets."""
        docs = r.documents
        try:
            found = briefing.select_assignments(r.facts, docs, doc, agency)
            goals = briefing.select_targets(r.facts, docs, indicator, doc)
        except briefing.FilterError as exc:
            raise _invalid_filter(exc) from exc
        found, goals = [r.display.record(a) for a in found], [r.display.record(t) for t in goals]  # as read
        content = briefing.build_briefing_docx(docs, found, goals, scope=briefing.scope_text(doc, agency, indicator))
        return _attachment(content, briefing.DOCX_MEDIA_TYPE, briefing.BRIEFING_DOCX)


def _route_methods(app: FastAPI) -> Callable[[dict], set[str] | None]:
    """The methods of the API route whose path matches a request (None: not an API path)."""
    from fastapi.routing import APIRoute

    def methods_of(scope: dict) -> set[str] | None:
        found = [set(route.methods) for route in app.router.routes
                 if isinstance(route, APIRoute) and route.path_regex.match(scope["path"])]
        return set().union(*found) if found else None

    return methods_of


def create_app(settings: Settings | None = None, retriever: Retriever | None = None) -> FastAPI:
    """The FastAPI app with the Gradio UI mounted at "/" (after the API routes, so they take precedence)."""
    settings = settings or Settings()
    state = AppState(settings, retriever)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if state.retriever is None:
            state.load()
        watcher = ContentWatcher.for_state(state)
        yield
        if watcher is not None:
            watcher.stop()

    app = FastAPIOffline(title="Hỏi đáp Kế hoạch thực hiện Nghị quyết 72-NQ/TW", version="0.1.0", lifespan=lifespan,
                  description="Trả lời câu hỏi về các kế hoạch, chương trình hành động thực hiện Nghị quyết "
                              "72-NQ/TW, kèm trích dẫn đoạn văn bản gốc. Giao diện web ở `/`.")
    app.state.kehoach = state
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, internal_error)
    uploads = {admin.UPLOAD_PATH: int(settings.max_upload_mb * 2**20)}  # the one path taking multipart bodies
    app.add_middleware(HttpGuards, api_limit=settings.max_api_body, ui_limit=settings.max_ui_body,
                       methods_of=_route_methods(app), uploads=uploads)
    _add_routes(app)
    admin.add_admin_routes(app)
    add_page_route(app, lambda: _source_folders(state.settings), state.get)
    _add_document_routes(app)
    _add_health_route(app)
    _add_briefing_routes(app)
    demo = ui.build_ui(state.get, uploads_enabled=bool(settings.admin_token))
    return gr.mount_gradio_app(app, demo, path="/", theme=ui.ui_theme(), css=ui.UI_CSS, footer_links=[],
                               run_history=False, show_error=True, max_file_size=0)
