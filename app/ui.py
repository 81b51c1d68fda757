"""Gradio web UI (Vietnamese): ask with cited passages, session history, copy-ready citations, plan reader,
briefing for trainers.

Only the Gradio wiring lives here: the HTML comes from :mod:`app.ui_render`, one question's logic from
:mod:`app.ui_chat`, the styles from ``app/static/ui.css``.  Every event handler is guarded: an unexpected error
is logged with its traceback and the user sees a readable Vietnamese message, never the exception text.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from app import briefing  # noqa: E402
from app.examples import GENERIC, example_questions  # noqa: E402
from app.export import ASSIGNMENT_COLUMNS, TARGET_COLUMNS, assignment_rows, target_rows, to_csv  # noqa: E402
from app.ui_admin import admin_panel  # noqa: E402
from app.ui_chat import ALL, Filters, ask_turn  # noqa: E402
from app.ui_render import (  # noqa: E402
    TITLE,
    UI_CSS,
    Turn,
    chart_html,
    copy_text,
    count_html,
    document_page,
    error_page,
    header_html,
    matrix_html,
    notice_html,
    placeholder_html,
    reader_html,
    render_history,
    render_turn,
)
from index.store import StoredDocument  # noqa: E402
from ingest.records import NO_NUMBER, plan_label  # noqa: E402
from ingest.textnorm import nfc  # noqa: E402
from retriever.service import Retriever  # noqa: E402

# used by app/api.py (the Gradio mount and the /doc page)
__all__ = ["UI_CSS", "build_ui", "document_page", "error_page", "ui_theme"]

log = logging.getLogger("app.ui")

EXAMPLES = GENERIC  # shown until the index is loaded; then derived from it (app.examples)
MAX_CHARS = 1000
ERROR_TEXT = "Đã xảy ra lỗi khi xử lý yêu cầu. Vui lòng thử lại; nếu lỗi còn lặp lại, hãy báo quản trị viên."
PICK_TEXT = '<div class="kh-empty">Chọn một văn bản để đọc.</div>'
BRIEF_HEADERS = ["Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời hạn", "Văn bản"]
DEFAULT_INDICATOR = "life_expectancy"

RetrieverGetter = Callable[[], Retriever]


def guarded(on_error: Callable[[], Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap an event handler: an unexpected exception is logged (with traceback), a Vietnamese toast is shown
    and ``on_error()`` is returned as the handler's outputs.  ``gr.Error`` / ``gr.Warning`` pass through."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def handler(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except gr.Error:
                raise
            except Exception:
                log.exception("ui handler failed", extra={"handler": fn.__name__})
                gr.Warning(ERROR_TEXT)
                return on_error()
        return handler
    return wrap


def ui_theme() -> gr.themes.Base:
    """System fonts only (the app runs offline; they carry the Vietnamese diacritics)."""
    fonts = ("Segoe UI", "Roboto", "Noto Sans", "Liberation Sans", "DejaVu Sans", "Arial", "sans-serif")
    mono = ("Consolas", "Liberation Mono", "Noto Sans Mono", "monospace")
    return gr.themes.Soft(primary_hue="red", secondary_hue="slate", neutral_hue="slate", font=fonts,
                          font_mono=mono)


# ---- small views of the index ---------------------------------------------------------------------------
def _doc_choice(d: StoredDocument) -> tuple[str, str]:
    return f"{plan_label(d.meta.doc_type, d.meta.number)} – {d.meta.issuer or d.source_file}", d.doc_id


def _chunk_count(r: Retriever, doc_id: str) -> int:
    return r.chunk_count(doc_id)


def _table_rows(r: Retriever) -> list[list[str | int]]:
    return [[d.meta.number or NO_NUMBER, d.meta.doc_type or "", d.meta.issuer or "", d.meta.date or "",
             len(d.sections), _chunk_count(r, d.doc_id)] for d in r.bundle.documents.values()]


def _ocr_docs(r: Retriever) -> set[str]:
    return {d.doc_id for d in r.bundle.documents.values() if d.meta.ocr}


def status_text(r: Retriever) -> str:
    """What the answers are drawn from: "Đã lập chỉ mục 5 văn bản · 218 đoạn · cập nhật 23/11/2025"."""
    created = str(r.bundle.manifest.get("created", ""))[:10]
    day = "/".join(reversed(created.split("-"))) if created else ""
    text = f"Đã lập chỉ mục {len(r.bundle.documents)} văn bản · {len(r.bundle.chunks)} đoạn"
    return text + (f" · cập nhật {day}" if day else "")


# ---- the "Hỏi đáp" tab ----------------------------------------------------------------------------------
@dataclass
class _Chat:
    question: gr.Textbox
    ask: gr.Button
    chips: list[gr.Button]
    f_doc: gr.Dropdown
    f_loc: gr.Dropdown
    f_type: gr.Dropdown
    answer: gr.HTML
    copy_btn: gr.Button
    clear_btn: gr.Button
    copy_box: gr.Textbox
    history: gr.HTML
    turns: gr.State


def _chat_filters() -> tuple[gr.Dropdown, gr.Dropdown, gr.Dropdown]:
    with gr.Accordion("Bộ lọc phạm vi (văn bản, địa phương, loại văn bản)", open=False, elem_id="kh-filters"):
        with gr.Row():
            f_doc = gr.Dropdown([("Tất cả văn bản", ALL)], value=ALL, label="Văn bản", elem_id="kh-f-doc")
            f_loc = gr.Dropdown([("Tất cả địa phương", ALL)], value=ALL, label="Địa phương",
                                elem_id="kh-f-loc")
            f_type = gr.Dropdown([("Tất cả loại", ALL)], value=ALL, label="Loại văn bản",
                                 elem_id="kh-f-type")
    return f_doc, f_loc, f_type


def _chat_layout() -> _Chat:
    turns = gr.State([])
    with gr.Row(equal_height=True, elem_id="kh-askrow"):
        question = gr.Textbox(show_label=False, placeholder="Nhập câu hỏi, có dấu hoặc không dấu…",
                              lines=1, max_lines=4, max_length=MAX_CHARS, scale=8, autofocus=True,
                              elem_id="kh-question")
        ask = gr.Button("Hỏi", variant="primary", scale=1, min_width=110, elem_id="kh-ask")
    with gr.Row(elem_id="kh-chips"):
        chips = [gr.Button(q, size="sm", scale=0, elem_classes="kh-chip") for q in EXAMPLES]
    f_doc, f_loc, f_type = _chat_filters()
    answer = gr.HTML(placeholder_html(), elem_id="kh-answer-panel")
    with gr.Row(elem_id="kh-actions"):
        copy_btn = gr.Button("Sao chép câu trả lời kèm trích dẫn", size="sm", scale=0, min_width=300,
                             elem_id="kh-copy")
        clear_btn = gr.Button("Xóa lịch sử phiên", size="sm", scale=0, min_width=160, elem_id="kh-clear")
    copy_box = gr.Textbox(label="Nội dung để dán vào văn bản (đã chép vào bộ nhớ tạm)", lines=6, max_lines=14,
                          buttons=["copy"], visible=False, interactive=False, elem_id="kh-copy-text")
    history = gr.HTML("", elem_id="kh-history-panel")
    return _Chat(question, ask, chips, f_doc, f_loc, f_type, answer, copy_btn, clear_btn, copy_box, history,
                 turns)


def _ask_handler(get_retriever: RetrieverGetter) -> Callable[..., tuple]:
    @guarded(lambda: (notice_html(ERROR_TEXT), gr.skip(), gr.skip(), gr.update(visible=False)))
    def on_ask(q: str, doc: str, loc: str, typ: str, past: list[Turn]) -> tuple:
        q = nfc(q or "").strip()
        if not q:
            gr.Warning("Vui lòng nhập câu hỏi.")
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            r = get_retriever()
        except RuntimeError as exc:  # the index is not built yet: the app's own Vietnamese instructions
            return notice_html(str(exc)), gr.skip(), gr.skip(), gr.update(visible=False)
        turn = ask_turn(r, q[:MAX_CHARS], Filters(doc, loc, typ))
        now = [turn, *past]
        hidden = gr.update(value="", visible=False)
        return render_turn(turn, _ocr_docs(r), r.display), render_history(now[1:]), now, hidden
    return on_ask


def _copy_handler(get_retriever: RetrieverGetter) -> Callable[[list[Turn]], dict]:
    @guarded(lambda: gr.update(visible=False))
    def on_copy(past: list[Turn]) -> dict:
        if not past:
            gr.Warning("Chưa có câu trả lời để sao chép.")
            return gr.update(visible=False)
        try:
            display = get_retriever().display  # the words as the answer card shows them
        except RuntimeError:
            display = None
        return gr.update(value=copy_text(past[0], display), visible=True)
    return on_copy


def _on_clear() -> tuple:
    return placeholder_html(), "", [], gr.update(value="", visible=False)


def _chat_tab(get_retriever: RetrieverGetter) -> _Chat:
    c = _chat_layout()
    on_ask = _ask_handler(get_retriever)
    outputs = [c.answer, c.history, c.turns, c.copy_box]
    inputs = [c.question, c.f_doc, c.f_loc, c.f_type, c.turns]
    c.ask.click(on_ask, inputs, outputs, api_visibility="private")
    c.question.submit(on_ask, inputs, outputs, api_visibility="private")
    for chip in c.chips:
        chip.click(lambda text: text, chip, c.question, api_visibility="private").then(
            on_ask, inputs, outputs, api_visibility="private")
    c.copy_btn.click(_copy_handler(get_retriever), c.turns, c.copy_box, api_visibility="private").then(
        None, c.copy_box, None, js="(t) => { try { if (t) navigator.clipboard.writeText(t); } catch (e) {} }")
    c.clear_btn.click(_on_clear, None, outputs, api_visibility="private")
    return c


# ---- the "Văn bản" tab ----------------------------------------------------------------------------------
@dataclass
class _Docs:
    table: gr.Dataframe
    pick: gr.Dropdown
    reader: gr.HTML
    refresh: gr.Button


def _pick_handler(get_retriever: RetrieverGetter) -> Callable[[str | None], str]:
    @guarded(lambda: notice_html(ERROR_TEXT))
    def on_pick(doc_id: str | None) -> str:
        try:
            r = get_retriever()
        except RuntimeError as exc:
            return notice_html(str(exc))
        doc = r.bundle.documents.get(doc_id or "")
        if doc is None:
            return PICK_TEXT
        return reader_html(doc, _chunk_count(r, doc.doc_id), r.display)
    return on_pick


def _row_handler(get_retriever: RetrieverGetter) -> Callable[[gr.SelectData], str | dict]:
    @guarded(gr.skip)
    def on_row(evt: gr.SelectData) -> str | dict:
        try:
            docs = list(get_retriever().bundle.documents)
        except RuntimeError:
            return gr.skip()
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        return docs[row] if isinstance(row, int) and 0 <= row < len(docs) else gr.skip()
    return on_row


def _docs_tab(get_retriever: RetrieverGetter, uploads_enabled: bool = False) -> _Docs:
    gr.Markdown("Danh sách các kế hoạch, chương trình đã được lập chỉ mục. Chọn một văn bản để xem mục lục "
                "và toàn văn.", elem_id="kh-docs-intro")
    table = gr.Dataframe(headers=["Số hiệu", "Loại văn bản", "Cơ quan ban hành", "Ngày", "Số mục", "Số đoạn"],
                         datatype=["str", "str", "str", "str", "number", "number"], interactive=False,
                         wrap=True, elem_id="kh-doc-table",
                         column_widths=["14%", "18%", "34%", "12%", "10%", "12%"])
    pick = gr.Dropdown([], label="Đọc văn bản", elem_id="kh-doc-pick")
    reader = gr.HTML(PICK_TEXT, elem_id="kh-reader-panel")
    pick.change(_pick_handler(get_retriever), pick, reader, api_visibility="private")
    table.select(_row_handler(get_retriever), None, pick, api_visibility="private")
    refresh = admin_panel(uploads_enabled)
    return _Docs(table, pick, reader, refresh)


# ---- the "Tóm tắt" tab ----------------------------------------------------------------------------------
def _download(name: str, content: str | bytes) -> str:
    """Write a download to a temporary folder named after its content; Gradio serves it from there."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    folder = Path(tempfile.gettempdir()) / "kehoach-briefing" / hashlib.sha256(data).hexdigest()[:20]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if not path.exists():
        path.write_bytes(data)
    return str(path)


@dataclass
class _Brief:
    tab: gr.Tab
    agency: gr.Textbox
    doc: gr.Dropdown
    downloads: tuple[gr.DownloadButton, gr.DownloadButton, gr.DownloadButton]
    count: gr.HTML
    table: gr.Dataframe
    matrix: gr.HTML
    indicator: gr.Dropdown
    chart: gr.HTML
    printed: gr.Checkbox  # show OCR plans as printed instead of their restored reading


def _doc_filter(doc: str | None) -> str | None:
    return None if doc in (ALL, None, "") else doc


def _brief_data(r: Retriever, agency: str, doc: str, printed: bool = False) -> tuple[list, list]:
    doc_id = _doc_filter(doc)
    docs = r.bundle.documents
    tasks = briefing.select_assignments(r.facts, docs, doc_id, nfc(agency or ""))
    goals = briefing.select_targets(r.facts, docs, None, doc_id)
    if printed:
        return tasks, goals
    return [r.display.record(a) for a in tasks], [r.display.record(t) for t in goals]  # OCR plans restored


def _chosen_indicator(choices: list[tuple[str, str]], indicator: str | None) -> str | None:
    """The indicator asked for when present, else life expectancy, else the first one."""
    keys = [k for _, k in choices]
    if indicator in keys:
        return indicator
    return DEFAULT_INDICATOR if DEFAULT_INDICATOR in keys else (keys[0] if keys else None)


def _brief_downloads(r: Retriever, agency: str, doc: str, tasks: list, goals: list) -> tuple[str, str, str]:
    """The CSV of each table and the Word briefing note, as files Gradio serves."""
    docs = r.bundle.documents
    scope = briefing.scope_text(None if doc == ALL else plan_label_of(docs, doc), agency)
    csv_tasks = to_csv(assignment_rows(tasks, docs), ASSIGNMENT_COLUMNS)
    csv_goals = to_csv(target_rows(goals, docs), TARGET_COLUMNS)
    note = briefing.build_briefing_docx(docs, tasks, goals, scope=scope)
    return (_download(briefing.ASSIGNMENTS_CSV, csv_tasks), _download(briefing.TARGETS_CSV, csv_goals),
            _download(briefing.BRIEFING_DOCX, note))


def _brief_refresh(get_retriever: RetrieverGetter) -> Callable[[str, str, str | None], tuple]:
    @guarded(lambda: (gr.skip(), notice_html(ERROR_TEXT), *[gr.skip()] * 7))
    def refresh(agency: str, doc: str, indicator: str | None, printed: bool = False) -> tuple:
        try:
            r = get_retriever()
        except RuntimeError as exc:
            return (gr.skip(), notice_html(str(exc)), *[gr.skip()] * 7)
        docs = r.bundle.documents
        tasks, goals = _brief_data(r, agency, doc, bool(printed))
        choices = briefing.indicator_choices(goals)
        ind = _chosen_indicator(choices, indicator)
        doc_choices = [("Tất cả văn bản", ALL), *[_doc_choice(d) for d in docs.values()]]
        return (gr.update(choices=doc_choices), count_html(len(tasks), len({t.doc_id for t in tasks})),
                briefing.assignment_table(tasks, docs), matrix_html(goals, docs),
                gr.update(choices=choices, value=ind), chart_html(goals, docs, ind),
                *_brief_downloads(r, agency, doc, tasks, goals))
    return refresh


def _brief_chart(get_retriever: RetrieverGetter) -> Callable[[str, str | None], str | dict]:
    @guarded(gr.skip)
    def chart(doc: str, indicator: str | None) -> str | dict:
        try:
            r = get_retriever()
        except RuntimeError:
            return gr.skip()
        return chart_html(briefing.select_targets(r.facts, r.bundle.documents, None, _doc_filter(doc)),
                          r.bundle.documents, indicator)
    return chart


def plan_label_of(documents: dict, doc_id: str) -> str:
    d = documents.get(doc_id)
    return briefing.plan_short_label(d) if d is not None else doc_id


def _brief_layout() -> _Brief:
    with gr.Tab("Tóm tắt", id="briefing", elem_id="kh-tab-briefing") as tab:
        gr.Markdown("Tổng hợp **phân công nhiệm vụ** và **chỉ tiêu** của các kế hoạch để phục vụ tập huấn, báo "
                    "cáo. Lọc theo cơ quan chủ trì (gõ có dấu hoặc không dấu) hoặc theo văn bản, rồi tải bảng "
                    "tính hoặc tài liệu Word.", elem_id="kh-brief-intro")
        with gr.Row(equal_height=True, elem_id="kh-b-filters"):
            agency = gr.Textbox(label="Cơ quan chủ trì", placeholder="Ví dụ: Sở Y tế, so y te, Trạm Y tế xã",
                                max_length=200, scale=1, elem_id="kh-b-agency")
            doc = gr.Dropdown([("Tất cả văn bản", ALL)], value=ALL, label="Văn bản", scale=1,
                              elem_id="kh-b-doc")
            printed = gr.Checkbox(False, label="Hiện văn bản scan (OCR) như bản in", scale=0, min_width=200,
                                  info="Mặc định: đã khôi phục dấu tự động", elem_id="kh-b-printed")
        with gr.Row(elem_id="kh-b-downloads"):
            dl_tasks = gr.DownloadButton("Tải bảng phân công (CSV)", size="sm", scale=0, min_width=230,
                                         elem_id="kh-dl-assignments")
            dl_goals = gr.DownloadButton("Tải bảng chỉ tiêu (CSV)", size="sm", scale=0, min_width=210,
                                         elem_id="kh-dl-targets")
            dl_note = gr.DownloadButton("Tải tài liệu tóm tắt (Word)", size="sm", scale=0, min_width=240,
                                        variant="primary", elem_id="kh-dl-docx")
        count = gr.HTML('<div class="kh-b-count">Đang tải…</div>', elem_id="kh-b-count")
        table = gr.Dataframe(headers=BRIEF_HEADERS, datatype=["str"] * 5, interactive=False, wrap=True,
                             max_height=560, elem_id="kh-b-table", column_widths=["46%", "15%", "17%", "10%", "12%"])
        matrix = gr.HTML("", elem_id="kh-b-matrix")
        indicator = gr.Dropdown([], label="Biểu đồ: chọn chỉ tiêu để so sánh giữa các kế hoạch",
                                elem_id="kh-b-indicator")
        chart = gr.HTML("", elem_id="kh-b-chart")
    return _Brief(tab, agency, doc, (dl_tasks, dl_goals, dl_note), count, table, matrix, indicator, chart, printed)


def briefing_tab(get_retriever: RetrieverGetter) -> _Brief:
    """The "Tóm tắt" tab for trainers: assignments filtered by agency and plan, targets side by side with a
    bar chart of one indicator, and downloads (CSV of each table, Word briefing note).  Filled when the tab
    is opened and whenever a filter changes."""
    b = _brief_layout()
    outputs = [b.doc, b.count, b.table, b.matrix, b.indicator, b.chart, *b.downloads]
    inputs = [b.agency, b.doc, b.indicator, b.printed]
    refresh = _brief_refresh(get_retriever)
    b.tab.select(refresh, inputs, outputs, api_visibility="private")
    b.agency.change(refresh, inputs, outputs, api_visibility="private", trigger_mode="always_last",
                    show_progress="hidden")
    b.doc.input(refresh, inputs, outputs, api_visibility="private")
    b.printed.input(refresh, inputs, outputs, api_visibility="private")
    b.indicator.input(_brief_chart(get_retriever), [b.doc, b.indicator], b.chart, api_visibility="private")
    return b


# ---- the page -------------------------------------------------------------------------------------------
def _on_load(get_retriever: RetrieverGetter) -> Callable[[], tuple]:
    skips = [gr.skip()] * (5 + len(EXAMPLES))

    @guarded(lambda: (header_html(ERROR_TEXT, False), *skips))
    def load() -> tuple:
        try:
            r = get_retriever()
        except RuntimeError as exc:
            return header_html(str(exc), False), *skips
        docs = list(r.bundle.documents.values())
        doc_choices = [_doc_choice(d) for d in docs]
        locs = sorted({d.meta.locality for d in docs if d.meta.locality})
        types = sorted({d.meta.doc_type for d in docs if d.meta.doc_type})
        return (header_html(status_text(r), True),
                gr.update(choices=[("Tất cả văn bản", ALL), *doc_choices], value=ALL),
                gr.update(choices=[("Tất cả địa phương", ALL), *[(x, x) for x in locs]], value=ALL),
                gr.update(choices=[("Tất cả loại", ALL), *[(x, x) for x in types]], value=ALL),
                _table_rows(r), gr.update(choices=doc_choices, value=None),
                *[gr.update(value=e.text) for e in example_questions(r.documents, r.facts)])
    return load


def build_ui(get_retriever: RetrieverGetter, uploads_enabled: bool = False) -> gr.Blocks:
    """The Blocks app; ``get_retriever()`` returns the loaded retriever or raises RuntimeError (no index).
    ``uploads_enabled``: an admin token is configured (the documents tab then offers upload and delete)."""
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        header = gr.HTML(header_html(), elem_id="kh-top")
        with gr.Tabs(elem_id="kh-tabs"):
            with gr.Tab("Hỏi đáp", id="chat", elem_id="kh-tab-chat"):
                chat = _chat_tab(get_retriever)
            with gr.Tab("Văn bản", id="documents", elem_id="kh-tab-docs"):
                docs = _docs_tab(get_retriever, uploads_enabled)
            briefing_tab(get_retriever)
        gr.HTML('<div class="kh-footer">Câu trả lời được trích nguyên văn từ văn bản; hãy đối chiếu văn bản '
                'gốc trước khi sử dụng. <a href="docs" target="_blank" rel="noopener">Tài liệu API</a></div>')
        loaded = [header, chat.f_doc, chat.f_loc, chat.f_type, docs.table, docs.pick, *chat.chips]
        demo.load(_on_load(get_retriever), None, loaded, api_visibility="private")
        docs.refresh.click(_on_load(get_retriever), None, loaded, api_visibility="private")
    return demo
