"""Gradio web UI (Vietnamese): ask with cited passages, session history, copy-ready citations, plan reader.

The HTML helpers here (passage highlighting, citation cards, the document reader) are plain functions so the
API's ``/doc/{doc_id}`` page and the tests can use them without a browser.
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote, urlencode

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from app import briefing  # noqa: E402
from app.export import ASSIGNMENT_COLUMNS, TARGET_COLUMNS, assignment_rows, target_rows, to_csv  # noqa: E402
from index.store import StoredDocument  # noqa: E402
from ingest.metadata import repaired  # noqa: E402
from ingest.records import Section  # noqa: E402
from ingest.textnorm import nfc  # noqa: E402
from retriever.answer import Answer, Citation  # noqa: E402
from retriever.facts import target_label  # noqa: E402
from retriever.service import Retriever  # noqa: E402

TITLE = "Hỏi đáp Kế hoạch thực hiện Nghị quyết 72-NQ/TW"
SUBTITLE = ("Trả lời dựa trên các kế hoạch, chương trình hành động đã được lập chỉ mục; "
            "mỗi câu trả lời đều kèm đoạn văn bản gốc được trích dẫn.")
EXAMPLES = (
    "Cơ quan nào chủ trì tổ chức Ngày Sức khỏe toàn dân ở Điện Biên?",
    "o xa Ha Dong ai quan triet, tuyen truyen chuong trinh hanh dong cua ban thuong vu dang uy",
    "Tuổi thọ trung bình đến năm 2030 của xã Mường La là bao nhiêu?",
    "Kế hoạch 07-KH/TU do ai ký?",
)
ALL = "*"  # dropdown value meaning "no filter"
NO_NUMBER = "(chưa ghi số)"
OUT_OF_SCOPE_TEXT = "Không tìm thấy thông tin này trong các văn bản thuộc phạm vi đã lọc."
MAX_CHARS = 1000

RetrieverGetter = Callable[[], Retriever]


# ---- text helpers --------------------------------------------------------------------------------------
_WORD = re.compile(r"[a-z0-9]+")
_DOC_NUMBER = re.compile(r"\d+\s*-\s*[^\W\d_]+\s*/\s*[^\W\d_]+")
# a line break inside a paragraph: not before a blank line, a bullet, "1." / "1.2." or "IV." item
_SOFT_BREAK = re.compile(r"[ \t]*\n(?![ \t]*(?:\n|[-+*•]\s|\d{1,2}(?:\.\d{1,2})*\s*[.)\-]\s"
                         r"|[IVX]{1,4}\s*[.\-]\s))[ \t]*")


def esc(text: str | None) -> str:
    return html.escape(text or "", quote=True)


# question words and plan boilerplate never worth highlighting
_HL_STOP = frozenset("""
co quan nao gi bao nhieu the ai la cua o trong ve va cac nhung duoc khong theo cho biet hay nhu sau nay do voi
tai den tu de mot so khi thi phai can se da dang ke hoach chuong trinh xa tinh phuong huyen
""".split())


@dataclass(frozen=True)
class QueryTerms:
    """What to highlight: folded words long enough to stand alone, and adjacent word pairs of the question."""

    words: frozenset[str] = frozenset()
    pairs: frozenset[tuple[str, str]] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.words or self.pairs)


def query_terms(question: str | None) -> QueryTerms:
    """Folded, OCR-repaired topic words of a question (document numbers and question words left out).

    Syllables of a multi-syllable word of the question ("chủ trì", "Hà Đông") are highlighted only next to
    each other, so single common syllables ("trì", "động") do not light up the whole passage; a syllable
    standing alone in the question ("ký") is highlighted on its own.
    """
    toks = _WORD.findall(repaired(_DOC_NUMBER.sub(" ", nfc(question or ""))))
    keep = [t not in _HL_STOP for t in toks]
    pairs = {(toks[i], toks[i + 1]) for i in range(len(toks) - 1) if keep[i] and keep[i + 1]}
    alone = {t for i, t in enumerate(toks) if keep[i] and not (i > 0 and keep[i - 1])
             and not (i + 1 < len(toks) and keep[i + 1]) and (len(t) >= 2)}
    return QueryTerms(frozenset(alone), frozenset(pairs))


def _is_hit(toks: list[str], i: int, terms: QueryTerms) -> bool:
    t = toks[i]
    return (t in terms.words or (i > 0 and (toks[i - 1], t) in terms.pairs)
            or (i + 1 < len(toks) and (t, toks[i + 1]) in terms.pairs))


def _term_spans(text: str, terms: QueryTerms) -> list[tuple[int, int]]:
    folded = repaired(text)
    if not terms or len(folded) != len(text):
        return []
    found = list(_WORD.finditer(folded))
    toks = [m.group(0) for m in found]
    spans: list[tuple[int, int]] = []
    for i, m in enumerate(found):
        if not _is_hit(toks, i, terms):
            continue
        if spans and not text[spans[-1][1]:m.start()].strip():
            spans[-1] = (spans[-1][0], m.end())  # join neighbouring words into one mark
        else:
            spans.append((m.start(), m.end()))
    return spans


def highlight(text: str, terms: QueryTerms) -> str:
    """HTML-escaped ``text`` with the question's words wrapped in <mark> (matched accent-insensitively)."""
    out, pos = [], 0
    for a, b in _term_spans(text, terms):
        out += [esc(text[pos:a]), f'<mark class="kh-hl">{esc(text[a:b])}</mark>']
        pos = b
    out.append(esc(text[pos:]))
    return "".join(out)


def reflow(text: str) -> str:
    """Join the hard line breaks of scanned text; keep paragraph breaks and list items on their own lines."""
    return _SOFT_BREAK.sub(" ", text.strip())


def date_phrase(date: str | None) -> str | None:
    """ "21/11/2025" → "ngày 21/11/2025"; "01/2026" → "tháng 01/2026"; "2025" → "năm 2025"."""
    if not date:
        return None
    parts = date.count("/")
    return f"{('năm', 'tháng', 'ngày')[min(parts, 2)]} {date}"


def doc_title(doc_type: str | None, number: str | None) -> str:
    return f"{doc_type or 'Văn bản'} " + (f"số {number}" if number else NO_NUMBER)


def reference(c: Citation) -> str:
    """ "Kế hoạch số 07-KH/TU của Ban Thường vụ Tỉnh ủy Điện Biên, ngày 21/11/2025, mục IV. … › 4"."""
    head = doc_title(c.doc_type, c.doc_number) + (f" của {c.issuer}" if c.issuer else "")
    parts = [head, date_phrase(c.date), f"mục {c.section}" if c.section else None]
    return ", ".join(p for p in parts if p)


def doc_link(doc_id: str, start: int | None = None, end: int | None = None,
             question: str | None = None) -> str:
    """Relative link to the HTML reader (works when the app is served under a path prefix)."""
    params = {k: v for k, v in (("start", start), ("end", end), ("q", question)) if v not in (None, "")}
    query = f"?{urlencode(params)}" if params else ""
    anchor = f"#c-{start}" if start is not None else ""
    return f"doc/{quote(doc_id)}{query}{anchor}"


# ---- a conversation turn -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Turn:
    question: str  # as the user typed it
    answer: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    scope: str | None = None  # "Phạm vi lọc: …" when filters were applied


@dataclass(frozen=True)
class Filters:
    doc_id: str = ALL
    locality: str = ALL
    doc_type: str = ALL

    @property
    def active(self) -> bool:
        return any(v not in (ALL, None, "") for v in (self.doc_id, self.locality, self.doc_type))

    def match(self, d: StoredDocument) -> bool:
        return (self.doc_id in (ALL, None, "", d.doc_id) and self.locality in (ALL, None, "", d.meta.locality)
                and self.doc_type in (ALL, None, "", d.meta.doc_type))


def scoped_question(question: str, allowed: Sequence[StoredDocument]) -> str:
    """Name the allowed plans' localities in the question so the retriever scopes its search to them.

    ``Retriever.ask`` has no filter argument; it restricts the search to the plans whose place or number a
    question names, so naming the places is how the UI's filters reach it.  Citations are still filtered
    afterwards (see :func:`apply_filters`) in case the question itself names another place.
    """
    places = sorted({d.meta.locality for d in allowed if d.meta.locality})
    return f"{question} ({'; '.join(places)})" if places else question


def apply_filters(answer: Answer, question: str, allowed: set[str] | None, scope: str | None) -> Turn:
    """The turn shown for ``answer``, keeping only citations from ``allowed`` plans (None = all)."""
    cits = answer.citations
    if allowed is not None and not answer.abstained:
        kept = [c for c in cits if c.doc_id in allowed]
        if not kept or kept[0] is not cits[0]:  # the answer quotes cits[0]: out of scope → refuse
            return Turn(question, OUT_OF_SCOPE_TEXT, True, (), scope)
        cits = tuple(replace(c, rank=i + 1) for i, c in enumerate(kept))
    return Turn(question, answer.answer, answer.abstained, () if answer.abstained else cits, scope)


def ask_turn(r: Retriever, question: str, filters: Filters, k: int = 5) -> Turn:
    docs = list(r.bundle.documents.values())
    allowed = [d for d in docs if filters.match(d)] if filters.active else docs
    if not allowed:
        return Turn(question, "Không có văn bản nào khớp với bộ lọc đã chọn.", True)
    scope = None
    if len(allowed) < len(docs):
        scope = "Phạm vi lọc: " + "; ".join(doc_title(d.meta.doc_type, d.meta.number) + f" – {d.meta.issuer}"
                                           for d in allowed)
        ans = r.ask(scoped_question(question, allowed), k=k)
        return apply_filters(ans, question, {d.doc_id for d in allowed}, scope)
    return apply_filters(r.ask(question, k=k), question, None, None)


def copy_text(turn: Turn) -> str:
    """Plain text for an official note: the answer, then numbered references."""
    if turn.abstained or not turn.citations:
        return turn.answer
    refs: list[str] = []
    for c in turn.citations:
        ref = reference(c)
        if ref not in refs:
            refs.append(ref)
    numbered = [f"{i}. {ref}" + ("" if ref.endswith(("…", ".")) else ".")
                for i, ref in enumerate(refs, start=1)]
    lines = [turn.answer, "", "Nguồn trích dẫn:", *numbered]
    return "\n".join(lines)


# ---- HTML: answer and citation cards ------------------------------------------------------------------
# "… Phối hợp: …" starts a new field of a composed answer (never inside the quoted passage)
_FIELDS = ("Phối hợp", "Thời hạn", "Nhiệm vụ", "Người ký", "Trích yếu", "Chỉ tiêu", "Kết quả")
_FIELD_SPLIT = re.compile(rf"(?<=[.;…])\s+(?=(?:{'|'.join(_FIELDS)}):\s)")
_LABEL = re.compile(r"^([^\W\d_][^:“\"\n\d]{0,29}):\s+(.*)$", re.S)


def answer_lines(text: str) -> list[str]:
    """The answer split into its lines and "Label: value" fields, the quoted passage left whole."""
    out: list[str] = []
    for line in text.split("\n"):
        head, sep, quote = line.partition("“")
        parts = _FIELD_SPLIT.split(head)
        parts[-1] += sep + quote
        out += [p.strip() for p in parts if p.strip()]
    return out


def _answer_body(text: str) -> str:
    rows = []
    for line in answer_lines(text):
        bullet = line.startswith("- ")
        line = line[2:] if bullet else line
        m = _LABEL.match(line)
        label = m is not None and m.group(1)[0].isupper()
        inner = f"<strong>{esc(m.group(1))}:</strong> {esc(m.group(2))}" if m and label else esc(line)
        rows.append(f'<p class="{"kh-line kh-bullet" if bullet else "kh-line"}">{inner}</p>')
    return "".join(rows)


def citation_card(c: Citation, terms: QueryTerms, question: str, ocr: bool) -> str:
    meta = " · ".join(esc(x) for x in (c.issuer, c.date) if x)
    ocr_note = ('<span class="kh-badge" title="Văn bản scan được nhận dạng chữ tự động; chữ có thể sai dấu">'
                "Bản scan (OCR)</span>") if ocr else ""
    link = doc_link(c.doc_id, c.start, c.end, question)
    return (
        f'<article class="kh-card" data-doc-number="{esc(c.doc_number or "")}">'
        f'<div class="kh-card-head"><span class="kh-rank">{c.rank}</span>'
        f'<span class="kh-doc">{esc(doc_title(c.doc_type, c.doc_number))}</span>'
        f'<span class="kh-meta">{meta}</span>{ocr_note}</div>'
        f'<div class="kh-section">Mục: {esc(c.section)}</div>'
        f'<div class="kh-passage">{highlight(reflow(c.text), terms)}</div>'
        f'<div class="kh-card-foot"><a href="{esc(link)}" target="_blank" rel="noopener">'
        f"Mở văn bản tại đoạn này ↗</a><span class=\"kh-file\">{esc(c.source_file)}</span></div>"
        "</article>"
    )


def render_turn(turn: Turn, ocr_docs: Iterable[str] = ()) -> str:
    ocr = set(ocr_docs)
    cls = "kh-answer kh-refusal" if turn.abstained else "kh-answer"
    scope = f'<div class="kh-scope">{esc(turn.scope)}</div>' if turn.scope else ""
    parts = [f'<section class="{cls}"><div class="kh-q"><span>Câu hỏi</span>{esc(turn.question)}</div>',
             f'<div class="kh-a">{_answer_body(turn.answer)}</div>{scope}</section>']
    if turn.citations:
        terms = query_terms(turn.question)
        parts.append(f'<h3 class="kh-sources-title">Nguồn trích dẫn ({len(turn.citations)})</h3>'
                     '<div class="kh-sources">')
        parts += [citation_card(c, terms, turn.question, c.doc_id in ocr) for c in turn.citations]
        parts.append("</div>")
    return "".join(parts)


def render_history(turns: Sequence[Turn]) -> str:
    """Earlier turns of this session, newest first, collapsed."""
    if not turns:
        return ""
    items = []
    for t in turns:
        refs = "".join(f"<li>{esc(reference(c))}</li>" for c in t.citations)
        items.append(f'<details class="kh-past"><summary>{esc(t.question)}</summary>'
                     f'<div class="kh-a">{_answer_body(t.answer)}</div>'
                     + (f'<ol class="kh-refs">{refs}</ol>' if refs else "") + "</details>")
    head = f"<h3>Các câu hỏi trước trong phiên ({len(turns)})</h3>"
    return f'<div class="kh-history">{head}{"".join(items)}</div>'


def placeholder_html() -> str:
    return ('<div class="kh-empty">Nhập câu hỏi hoặc chọn một câu hỏi gợi ý. Có thể gõ tiếng Việt có dấu '
            "hoặc không dấu.</div>")


def notice_html(message: str) -> str:
    return f'<div class="kh-answer kh-refusal"><div class="kh-a"><p>{esc(message)}</p></div></div>'


# ---- HTML: document reader -----------------------------------------------------------------------------
def _section_label(s: Section, width: int = 90) -> str:
    last = s.path[-1] if s.path else s.title
    label = f"{last}. {s.title}" if re.fullmatch(r"\d{1,2}", last) else last
    return label if len(label) <= width else label[: width - 1] + "…"


def section_tree_html(doc_id: str, sections: Sequence[Section], href_prefix: str = "") -> str:
    items = [f'<li class="kh-lvl-{min(len(s.path) - 1, 3)}"><a href="{href_prefix}#s-{s.start}" '
             f'title="{esc(s.label)}">{esc(_section_label(s))}</a></li>' for s in sections]
    return f'<nav class="kh-tree" aria-label="Mục lục"><ol>{"".join(items)}</ol></nav>'


def document_text_html(doc: StoredDocument, cite: tuple[int, int] | None = None,
                       terms: QueryTerms | None = None) -> str:
    """The full text with an anchor at every section start and the cited span in <mark id="c-START">."""
    text = doc.text
    if cite and not 0 <= cite[0] < cite[1] <= len(text):
        cite = None
    anchors: dict[int, str] = {}
    for s in doc.sections:
        anchors[s.start] = f'<span class="kh-anchor" id="s-{s.start}"></span>'
    cuts = sorted(set(anchors) | {0, len(text)} | (set(cite) if cite else set()))
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        if cite and a == cite[1]:
            out.append("</mark>")
        out.append(anchors.get(a, ""))
        if cite and a == cite[0]:
            out.append(f'<mark class="kh-cite" id="c-{cite[0]}">')
        inside = cite is not None and terms is not None and cite[0] <= a < cite[1]
        out.append(highlight(text[a:b], terms) if inside else esc(text[a:b]))
    if cite and cite[1] == len(text):
        out.append("</mark>")
    return f'<div class="kh-doctext">{"".join(out)}</div>'


def document_header_html(doc: StoredDocument, chunks: int, link: bool = True) -> str:
    m = doc.meta
    rows = [("Cơ quan ban hành", m.issuer), ("Địa bàn", m.locality), ("Ngày", m.date), ("Người ký", m.signer),
            ("Tệp gốc", doc.source_file), ("Số mục / đoạn", f"{len(doc.sections)} / {chunks}")]
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows if v)
    ocr = ('<p class="kh-ocr-note">Bản scan được nhận dạng chữ tự động (OCR): chữ trong văn bản có thể '
           "sai dấu; đối chiếu bản gốc khi trích dẫn.</p>") if m.ocr else ""
    open_link = (f'<a class="kh-open" href="{esc(doc_link(doc.doc_id))}" target="_blank" rel="noopener">'
                 "Mở toàn văn trong thẻ mới ↗</a>") if link else ""
    return (f'<header class="kh-dochead"><h2>{esc(doc_title(m.doc_type, m.number))}</h2>'
            f'<p class="kh-doctitle">{esc(m.title)}</p><dl>{dl}</dl>{ocr}{open_link}</header>')


def reader_html(doc: StoredDocument, chunks: int) -> str:
    """The Documents tab's reader: header, table of contents, full text."""
    return (f'<div class="kh-reader">{document_header_html(doc, chunks)}<div class="kh-readgrid">'
            f"{section_tree_html(doc.doc_id, doc.sections)}{document_text_html(doc)}</div></div>")


def document_page(doc: StoredDocument, chunks: int, cite: tuple[int, int] | None,
                  question: str | None) -> str:
    """Standalone page for ``/doc/{doc_id}``: opened from a citation card, scrolled to the cited span."""
    terms = query_terms(question)
    title = doc_title(doc.meta.doc_type, doc.meta.number)
    jump = (f'<p class="kh-jump"><a href="#c-{cite[0]}">Đến đoạn được trích dẫn ↓</a></p>'
            if cite else "")
    return (f'<!doctype html><html lang="vi"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)} – {esc(TITLE)}</title><style>{PAGE_CSS}{UI_CSS}</style></head>"
            f'<body class="kh-page"><div class="kh-reader">'
            f'<p class="kh-back"><a href="../">← Quay lại trang hỏi đáp</a></p>'
            f"{document_header_html(doc, chunks, link=False)}{jump}"
            f'<div class="kh-readgrid">{section_tree_html(doc.doc_id, doc.sections)}'
            f"{document_text_html(doc, cite, terms)}</div></div></body></html>")


def error_page(status_text: str, message: str) -> str:
    return (f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{esc(status_text)}</title>'
            f"<style>{PAGE_CSS}{UI_CSS}</style></head><body class=\"kh-page\"><div class=\"kh-reader\">"
            f'<p class="kh-back"><a href="../">← Quay lại trang hỏi đáp</a></p>'
            f"{notice_html(message)}</div></body></html>")


# ---- Gradio ---------------------------------------------------------------------------------------------
def ui_theme() -> gr.themes.Base:
    """System fonts only (the app runs offline; they carry the Vietnamese diacritics)."""
    fonts = ("Segoe UI", "Roboto", "Noto Sans", "Liberation Sans", "DejaVu Sans", "Arial", "sans-serif")
    mono = ("Consolas", "Liberation Mono", "Noto Sans Mono", "monospace")
    return gr.themes.Soft(primary_hue="red", secondary_hue="slate", neutral_hue="slate", font=fonts,
                          font_mono=mono)


@dataclass
class _Docs:
    table: gr.Dataframe
    pick: gr.Dropdown
    reader: gr.HTML


@dataclass
class _Chat:
    f_doc: gr.Dropdown
    f_loc: gr.Dropdown
    f_type: gr.Dropdown


def _doc_choice(d: StoredDocument) -> tuple[str, str]:
    return f"{doc_title(d.meta.doc_type, d.meta.number)} – {d.meta.issuer or d.source_file}", d.doc_id


def _chunk_count(r: Retriever, doc_id: str) -> int:
    return len(r.doc_rows.get(doc_id, ()))


def _table_rows(r: Retriever) -> list[list[str | int]]:
    return [[d.meta.number or NO_NUMBER, d.meta.doc_type or "", d.meta.issuer or "", d.meta.date or "",
             len(d.sections), _chunk_count(r, d.doc_id)] for d in r.bundle.documents.values()]


def _ocr_docs(r: Retriever) -> set[str]:
    return {d.doc_id for d in r.bundle.documents.values() if d.meta.ocr}


def _chat_tab(get_retriever: RetrieverGetter) -> _Chat:
    turns = gr.State([])
    with gr.Row(equal_height=True, elem_id="kh-askrow"):
        question = gr.Textbox(show_label=False, placeholder="Nhập câu hỏi, có dấu hoặc không dấu…",
                              lines=1, max_lines=4, max_length=MAX_CHARS, scale=8, autofocus=True,
                              elem_id="kh-question")
        ask = gr.Button("Hỏi", variant="primary", scale=1, min_width=110, elem_id="kh-ask")
    with gr.Row(elem_id="kh-chips"):
        chips = [gr.Button(q, size="sm", scale=0, elem_classes="kh-chip") for q in EXAMPLES]
    with gr.Accordion("Bộ lọc phạm vi (văn bản, địa phương, loại văn bản)", open=False, elem_id="kh-filters"):
        with gr.Row():
            f_doc = gr.Dropdown([("Tất cả văn bản", ALL)], value=ALL, label="Văn bản", elem_id="kh-f-doc")
            f_loc = gr.Dropdown([("Tất cả địa phương", ALL)], value=ALL, label="Địa phương",
                                elem_id="kh-f-loc")
            f_type = gr.Dropdown([("Tất cả loại", ALL)], value=ALL, label="Loại văn bản",
                                 elem_id="kh-f-type")
    answer = gr.HTML(placeholder_html(), elem_id="kh-answer-panel")
    with gr.Row(elem_id="kh-actions"):
        copy_btn = gr.Button("Sao chép câu trả lời kèm trích dẫn", size="sm", scale=0, min_width=300,
                             elem_id="kh-copy")
        clear_btn = gr.Button("Xóa lịch sử phiên", size="sm", scale=0, min_width=160, elem_id="kh-clear")
    copy_box = gr.Textbox(label="Nội dung để dán vào văn bản (đã chép vào bộ nhớ tạm)", lines=6, max_lines=14,
                          buttons=["copy"], visible=False, interactive=False, elem_id="kh-copy-text")
    history = gr.HTML("", elem_id="kh-history-panel")

    def on_ask(q: str, doc: str, loc: str, typ: str, past: list[Turn]) -> tuple:
        q = nfc(q or "").strip()
        if not q:
            gr.Warning("Vui lòng nhập câu hỏi.")
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            r = get_retriever()
        except RuntimeError as exc:
            return notice_html(str(exc)), gr.skip(), gr.skip(), gr.update(visible=False)
        turn = ask_turn(r, q[:MAX_CHARS], Filters(doc, loc, typ))
        now = [turn, *past]
        hidden = gr.update(value="", visible=False)
        return render_turn(turn, _ocr_docs(r)), render_history(now[1:]), now, hidden

    def on_copy(past: list[Turn]) -> dict:
        if not past:
            gr.Warning("Chưa có câu trả lời để sao chép.")
            return gr.update(visible=False)
        return gr.update(value=copy_text(past[0]), visible=True)

    def on_clear() -> tuple:
        return placeholder_html(), "", [], gr.update(value="", visible=False)

    outputs = [answer, history, turns, copy_box]
    inputs = [question, f_doc, f_loc, f_type, turns]
    ask.click(on_ask, inputs, outputs, api_visibility="private")
    question.submit(on_ask, inputs, outputs, api_visibility="private")
    for chip in chips:
        chip.click(lambda text: text, chip, question, api_visibility="private").then(
            on_ask, inputs, outputs, api_visibility="private")
    copy_btn.click(on_copy, turns, copy_box, api_visibility="private").then(
        None, copy_box, None, js="(t) => { try { if (t) navigator.clipboard.writeText(t); } catch (e) {} }")
    clear_btn.click(on_clear, None, outputs, api_visibility="private")
    return _Chat(f_doc, f_loc, f_type)


def _docs_tab(get_retriever: RetrieverGetter) -> _Docs:
    gr.Markdown("Danh sách các kế hoạch, chương trình đã được lập chỉ mục. Chọn một văn bản để xem mục lục "
                "và toàn văn.", elem_id="kh-docs-intro")
    table = gr.Dataframe(headers=["Số hiệu", "Loại văn bản", "Cơ quan ban hành", "Ngày", "Số mục", "Số đoạn"],
                         datatype=["str", "str", "str", "str", "number", "number"], interactive=False,
                         wrap=True, elem_id="kh-doc-table",
                         column_widths=["14%", "18%", "34%", "12%", "10%", "12%"])
    pick = gr.Dropdown([], label="Đọc văn bản", elem_id="kh-doc-pick")
    reader = gr.HTML('<div class="kh-empty">Chọn một văn bản để đọc.</div>', elem_id="kh-reader-panel")

    def on_pick(doc_id: str | None) -> str:
        try:
            r = get_retriever()
        except RuntimeError as exc:
            return notice_html(str(exc))
        doc = r.bundle.documents.get(doc_id or "")
        if doc is None:
            return '<div class="kh-empty">Chọn một văn bản để đọc.</div>'
        return reader_html(doc, _chunk_count(r, doc.doc_id))

    def on_row(evt: gr.SelectData) -> str | dict:
        try:
            docs = list(get_retriever().bundle.documents)
        except RuntimeError:
            return gr.skip()
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        return docs[row] if isinstance(row, int) and 0 <= row < len(docs) else gr.skip()

    pick.change(on_pick, pick, reader, api_visibility="private")
    table.select(on_row, None, pick, api_visibility="private")
    return _Docs(table, pick, reader)


# ---- briefing tab ---------------------------------------------------------------------------------------
BRIEF_HEADERS = ["Nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời hạn", "Văn bản"]
DEFAULT_INDICATOR = "life_expectancy"
MATRIX_TITLE = "Chỉ tiêu của các kế hoạch (so sánh)"


def count_html(n_tasks: int, n_docs: int) -> str:
    if not n_tasks:
        return '<div class="kh-b-count">Không có nhiệm vụ nào khớp với bộ lọc.</div>'
    return (f'<div class="kh-b-count"><strong>{n_tasks}</strong> nhiệm vụ trong <strong>{n_docs}</strong> văn '
            "bản. Nội dung nhiệm vụ dài được rút gọn (…); tệp CSV và tài liệu Word ghi đầy đủ.</div>")


def _plan_head(c: briefing.PlanColumn) -> str:
    place = f"<small>{esc(c.place)}</small>" if c.place else ""
    return f'<th scope="col"><span>{esc(c.label)}</span>{place}</th>'


def _matrix_cell(text: str) -> str:
    if not text:
        return '<td class="kh-none">—</td>'
    lines = text.split("\n")
    first = f'<div class="kh-main">{esc(lines[0])}</div>'
    return "<td>" + first + "".join(f'<div class="kh-more">{esc(x)}</div>' for x in lines[1:]) + "</td>"


def matrix_html(targets: Sequence, documents: dict) -> str:
    """Targets side by side: a row per indicator, a column per plan; the 2030 value first in each cell."""
    columns, rows = briefing.targets_matrix(targets, documents)
    if not rows:
        return (f'<h3 class="kh-b-h">{MATRIX_TITLE}</h3>'
                '<div class="kh-empty">Không có chỉ tiêu nào khớp với bộ lọc.</div>')
    head = '<th scope="col">Chỉ tiêu</th>' + "".join(_plan_head(c) for c in columns)
    body = "".join(f'<tr data-indicator="{esc(r.indicator)}"><th scope="row">{esc(r.label)}</th>'
                   + "".join(_matrix_cell(c) for c in r.cells) + "</tr>" for r in rows)
    return (f'<h3 class="kh-b-h">{MATRIX_TITLE}</h3><div class="kh-matrix-wrap"><table class="kh-matrix">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def chart_html(targets: Sequence, documents: dict, indicator: str | None) -> str:
    """A bar per plan for one indicator (plain HTML/CSS: renders offline, no chart library)."""
    bars = briefing.indicator_bars(targets, documents, indicator or "")
    if not bars:
        return '<div class="kh-empty">Chọn một chỉ tiêu để xem biểu đồ so sánh.</div>'
    label = next((target_label(t) for t in targets if t.indicator == indicator), indicator or "")
    top = max(b.value for b in bars) or 1.0
    rows = []
    for b in bars:
        width = max(b.value / top * 100, 1.5)
        place = f"<small>{esc(b.column.place)}</small>" if b.column.place else ""
        rows.append(f'<div class="kh-bar-row" data-doc-id="{esc(b.column.doc_id)}">'
                    f'<span class="kh-bar-label">{esc(b.column.label)}{place}</span>'
                    f'<span class="kh-bar-track"><span class="kh-bar" style="width:{width:.1f}%"></span></span>'
                    f'<span class="kh-bar-value">{esc(b.text)}</span></div>')
    caption = (f"{esc(label)}: giá trị mốc năm 2030 của từng kế hoạch (hoặc mốc đầu tiên nếu không đặt mốc "
               "2030); thang đo tính từ 0.")
    return f'<figure class="kh-chart"><figcaption>{caption}</figcaption>{"".join(rows)}</figure>'


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
    indicator: gr.Dropdown


def _brief_data(r: Retriever, agency: str, doc: str) -> tuple[list, list]:
    doc_id = None if doc in (ALL, None, "") else doc
    docs = r.bundle.documents
    return (briefing.select_assignments(r.facts, docs, doc_id, nfc(agency or "")),
            briefing.select_targets(r.facts, docs, None, doc_id))


def _brief_refresh(get_retriever: RetrieverGetter) -> Callable[[str, str, str | None], tuple]:
    def refresh(agency: str, doc: str, indicator: str | None) -> tuple:
        try:
            r = get_retriever()
        except RuntimeError as exc:
            return (gr.skip(), notice_html(str(exc)), *[gr.skip()] * 7)
        docs = r.bundle.documents
        tasks, goals = _brief_data(r, agency, doc)
        choices = briefing.indicator_choices(goals)
        keys = [k for _, k in choices]
        ind = indicator if indicator in keys else (DEFAULT_INDICATOR if DEFAULT_INDICATOR in keys
                                                   else (keys[0] if keys else None))
        scope = briefing.scope_text(None if doc == ALL else plan_label_of(docs, doc), agency)
        csv_tasks = to_csv(assignment_rows(tasks, docs), ASSIGNMENT_COLUMNS)
        csv_goals = to_csv(target_rows(goals, docs), TARGET_COLUMNS)
        note = briefing.build_briefing_docx(docs, tasks, goals, scope=scope)
        doc_choices = [("Tất cả văn bản", ALL), *[_doc_choice(d) for d in docs.values()]]
        return (gr.update(choices=doc_choices), count_html(len(tasks), len({t.doc_id for t in tasks})),
                briefing.assignment_table(tasks, docs), matrix_html(goals, docs),
                gr.update(choices=choices, value=ind), chart_html(goals, docs, ind),
                _download(briefing.ASSIGNMENTS_CSV, csv_tasks), _download(briefing.TARGETS_CSV, csv_goals),
                _download(briefing.BRIEFING_DOCX, note))
    return refresh


def _brief_chart(get_retriever: RetrieverGetter) -> Callable[[str, str | None], str | dict]:
    def chart(doc: str, indicator: str | None) -> str | dict:
        try:
            r = get_retriever()
        except RuntimeError:
            return gr.skip()
        doc_id = None if doc in (ALL, None, "") else doc
        return chart_html(briefing.select_targets(r.facts, r.bundle.documents, None, doc_id), r.bundle.documents,
                          indicator)
    return chart


def plan_label_of(documents: dict, doc_id: str) -> str:
    d = documents.get(doc_id)
    return briefing.plan_label(d) if d is not None else doc_id


def briefing_tab(get_retriever: RetrieverGetter) -> _Brief:
    """The "Tóm tắt" tab for trainers: assignments filtered by agency and plan, targets side by side with a
    bar chart of one indicator, and downloads (CSV of each table, Word briefing note).  Filled when the tab
    is opened and whenever a filter changes."""
    with gr.Tab("Tóm tắt", id="briefing", elem_id="kh-tab-briefing") as tab:
        gr.Markdown("Tổng hợp **phân công nhiệm vụ** và **chỉ tiêu** của các kế hoạch để phục vụ tập huấn, báo "
                    "cáo. Lọc theo cơ quan chủ trì (gõ có dấu hoặc không dấu) hoặc theo văn bản, rồi tải bảng "
                    "tính hoặc tài liệu Word.", elem_id="kh-brief-intro")
        with gr.Row(equal_height=True, elem_id="kh-b-filters"):
            agency = gr.Textbox(label="Cơ quan chủ trì", placeholder="Ví dụ: Sở Y tế, so y te, Trạm Y tế xã",
                                max_length=200, scale=1, elem_id="kh-b-agency")
            doc = gr.Dropdown([("Tất cả văn bản", ALL)], value=ALL, label="Văn bản", scale=1,
                              elem_id="kh-b-doc")
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

    outputs = [doc, count, table, matrix, indicator, chart, dl_tasks, dl_goals, dl_note]
    refresh = _brief_refresh(get_retriever)
    tab.select(refresh, [agency, doc, indicator], outputs, api_visibility="private")
    agency.change(refresh, [agency, doc, indicator], outputs, api_visibility="private",
                  trigger_mode="always_last", show_progress="hidden")
    doc.input(refresh, [agency, doc, indicator], outputs, api_visibility="private")
    indicator.input(_brief_chart(get_retriever), [doc, indicator], chart, api_visibility="private")
    return _Brief(tab, agency, doc, indicator)


def header_html(status: str = "Đang tải…", ready: bool | None = None) -> str:
    """Title, subtitle and a status line (``data-ready`` is "1" once the page's load event has run)."""
    flag = "" if ready is None else f' data-ready="{int(ready)}"'
    cls = "kh-status" if ready is not False else "kh-status kh-status-error"
    return (f'<div class="kh-header"><h1>{esc(TITLE)}</h1><p>{esc(SUBTITLE)}</p>'
            f'<div class="{cls}"{flag}>{esc(status)}</div></div>')


def status_text(r: Retriever) -> str:
    """What the answers are drawn from: "Đã lập chỉ mục 5 văn bản · 218 đoạn · cập nhật 23/11/2025"."""
    created = str(r.bundle.manifest.get("created", ""))[:10]
    day = "/".join(reversed(created.split("-"))) if created else ""
    text = f"Đã lập chỉ mục {len(r.bundle.documents)} văn bản · {len(r.bundle.chunks)} đoạn"
    return text + (f" · cập nhật {day}" if day else "")


def _on_load(get_retriever: RetrieverGetter) -> Callable[[], tuple]:
    def load() -> tuple:
        try:
            r = get_retriever()
        except RuntimeError as exc:
            return header_html(str(exc), False), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        docs = list(r.bundle.documents.values())
        doc_choices = [_doc_choice(d) for d in docs]
        locs = sorted({d.meta.locality for d in docs if d.meta.locality})
        types = sorted({d.meta.doc_type for d in docs if d.meta.doc_type})
        return (header_html(status_text(r), True),
                gr.update(choices=[("Tất cả văn bản", ALL), *doc_choices], value=ALL),
                gr.update(choices=[("Tất cả địa phương", ALL), *[(x, x) for x in locs]], value=ALL),
                gr.update(choices=[("Tất cả loại", ALL), *[(x, x) for x in types]], value=ALL),
                _table_rows(r), gr.update(choices=doc_choices, value=None))
    return load


def build_ui(get_retriever: RetrieverGetter) -> gr.Blocks:
    """The Blocks app; ``get_retriever()`` returns the loaded retriever or raises RuntimeError (no index)."""
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        header = gr.HTML(header_html(), elem_id="kh-top")
        with gr.Tabs(elem_id="kh-tabs"):
            with gr.Tab("Hỏi đáp", id="chat", elem_id="kh-tab-chat"):
                chat = _chat_tab(get_retriever)
            with gr.Tab("Văn bản", id="documents", elem_id="kh-tab-docs"):
                docs = _docs_tab(get_retriever)
            briefing_tab(get_retriever)
        gr.HTML('<div class="kh-footer">Câu trả lời được trích nguyên văn từ văn bản; hãy đối chiếu văn bản '
                'gốc trước khi sử dụng. <a href="docs" target="_blank" rel="noopener">Tài liệu API</a></div>')
        loaded = [header, chat.f_doc, chat.f_loc, chat.f_type, docs.table, docs.pick]
        demo.load(_on_load(get_retriever), None, loaded, api_visibility="private")
    return demo


# ---- styles ---------------------------------------------------------------------------------------------
UI_CSS = """
.gradio-container { max-width: 1180px !important; margin: 0 auto !important; }
.kh-header { padding: 6px 2px 2px; }
.kh-header h1 { font-size: 1.65rem; line-height: 1.25; margin: 0 0 4px; color: var(--primary-700, #b91c1c); }
.kh-header p { margin: 0; color: var(--body-text-color-subdued, #475569); font-size: 0.95rem; }
.kh-status { font-size: 0.82rem; color: var(--body-text-color-subdued, #64748b); margin-top: 6px; }
.kh-status-error { color: #b45309; font-size: 0.95rem; font-weight: 600; }
#kh-ask { background: #b91c1c !important; color: #fff !important; border: none !important;
  font-size: 1.05rem; }
#kh-ask:hover { background: #991b1b !important; }
#kh-doc-table, #kh-doc-table * { font-family: var(--font) !important; }
#kh-chips { gap: 8px; flex-wrap: wrap; }
#kh-chips .kh-chip { flex: 0 1 auto !important; min-width: 0 !important; white-space: normal;
  text-align: left; border-radius: 999px; font-weight: 400; }
.kh-empty { padding: 18px; color: var(--body-text-color-subdued, #64748b); border: 1px dashed
  var(--border-color-primary, #cbd5e1); border-radius: 10px; text-align: center; }
.kh-answer { border: 1px solid var(--border-color-primary, #e2e8f0); border-left: 5px solid #b91c1c;
  border-radius: 10px; padding: 14px 18px; background: var(--block-background-fill, #fff); }
.kh-answer.kh-refusal { border-left-color: #d97706; }
.kh-q { font-size: 0.92rem; color: var(--body-text-color-subdued, #475569); margin-bottom: 8px; }
.kh-q span { display: inline-block; font-weight: 600; margin-right: 8px; text-transform: uppercase;
  font-size: 0.75rem; letter-spacing: .04em; }
.kh-a p { margin: 0 0 6px; font-size: 1.05rem; line-height: 1.6; overflow-wrap: anywhere; }
.kh-a p.kh-bullet { padding-left: 18px; position: relative; }
.kh-a p.kh-bullet::before { content: "•"; position: absolute; left: 4px; }
.kh-a strong { font-weight: 700; }
.kh-scope { margin-top: 8px; font-size: 0.85rem; color: var(--body-text-color-subdued, #475569); }
.kh-sources-title { font-size: 1.05rem; margin: 18px 0 8px; }
.kh-sources { display: flex; flex-direction: column; gap: 10px; }
.kh-card { border: 1px solid var(--border-color-primary, #e2e8f0); border-radius: 10px; padding: 12px 16px;
  background: var(--block-background-fill, #fff); }
.kh-card-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 10px; }
.kh-rank { display: inline-flex; align-items: center; justify-content: center; min-width: 24px; height: 24px;
  border-radius: 999px; background: #b91c1c; color: #fff; font-size: 0.8rem; font-weight: 700; }
.kh-doc { font-weight: 700; }
.kh-meta { color: var(--body-text-color-subdued, #475569); font-size: 0.9rem; }
.kh-badge { font-size: 0.72rem; padding: 1px 8px; border-radius: 999px; background: #fef3c7; color: #92400e;
  border: 1px solid #fcd34d; }
.kh-section { margin: 6px 0; font-size: 0.88rem; color: var(--body-text-color-subdued, #334155);
  overflow-wrap: anywhere; }
.kh-passage { white-space: pre-line; line-height: 1.6; font-size: 0.95rem; padding: 8px 12px;
  border-left: 3px solid var(--border-color-primary, #cbd5e1); background: var(--background-fill-secondary,
  #f8fafc); border-radius: 4px; overflow-wrap: anywhere; }
mark.kh-hl { background: #fde68a; color: #111827; padding: 0 1px; border-radius: 2px; }
.kh-card-foot { display: flex; justify-content: space-between; flex-wrap: wrap; gap: 6px; margin-top: 8px;
  font-size: 0.85rem; }
.kh-card-foot a, .kh-open, .kh-back a, .kh-jump a, .kh-footer a { color: #1d4ed8; text-decoration: none; }
.kh-card-foot a:hover, .kh-open:hover { text-decoration: underline; }
.kh-file { color: var(--body-text-color-subdued, #94a3b8); font-size: 0.8rem; }
.kh-history h3 { font-size: 1rem; margin: 12px 0 6px; }
.kh-past { border: 1px solid var(--border-color-primary, #e2e8f0); border-radius: 8px; padding: 8px 12px;
  margin-bottom: 6px; }
.kh-past summary { cursor: pointer; font-weight: 600; }
.kh-refs { margin: 4px 0 0 18px; font-size: 0.85rem; color: var(--body-text-color-subdued, #475569); }
.kh-footer { font-size: 0.82rem; color: var(--body-text-color-subdued, #64748b); text-align: center;
  padding: 8px; }
.kh-dochead h2 { margin: 0 0 4px; font-size: 1.3rem; }
.kh-doctitle { margin: 0 0 8px; color: var(--body-text-color-subdued, #475569); }
.kh-dochead dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0 0 8px;
  font-size: 0.9rem; }
.kh-dochead dt { font-weight: 600; }
.kh-dochead dd { margin: 0; }
.kh-ocr-note { font-size: 0.85rem; background: #fef3c7; color: #92400e; padding: 6px 10px;
  border-radius: 6px; }
.kh-readgrid { display: grid; grid-template-columns: minmax(220px, 300px) 1fr; gap: 16px; margin-top: 10px; }
.kh-tree { max-height: 70vh; overflow: auto; font-size: 0.85rem; border-right: 1px solid
  var(--border-color-primary, #e2e8f0); padding-right: 8px; }
.kh-tree ol { list-style: none; margin: 0; padding: 0; }
.kh-tree li { margin: 2px 0; }
.kh-tree a { color: inherit; text-decoration: none; }
.kh-tree a:hover { color: #1d4ed8; text-decoration: underline; }
.kh-tree .kh-lvl-0 { font-weight: 600; margin-top: 6px; }
.kh-tree .kh-lvl-1 { padding-left: 12px; }
.kh-tree .kh-lvl-2 { padding-left: 24px; }
.kh-tree .kh-lvl-3 { padding-left: 36px; }
.kh-doctext { max-height: 70vh; overflow: auto; white-space: pre-wrap; line-height: 1.6; font-size: 0.95rem;
  overflow-wrap: anywhere; padding-right: 6px; }
mark.kh-cite { background: #dbeafe; color: inherit; box-shadow: 0 0 0 2px #93c5fd; border-radius: 2px;
  scroll-margin-top: 96px; -webkit-box-decoration-break: clone; box-decoration-break: clone; }
.kh-anchor { scroll-margin-top: 12px; }
@media (max-width: 720px) { .kh-readgrid { grid-template-columns: 1fr; } .kh-tree { max-height: 30vh;
  border-right: none; } }
#kh-b-table, #kh-b-table * { font-family: var(--font) !important; }
#kh-b-downloads { gap: 10px; flex-wrap: wrap; }
.kh-b-count { font-size: 0.9rem; color: var(--body-text-color-subdued, #475569); }
.kh-b-h { font-size: 1.1rem; margin: 8px 0 8px; }
.kh-matrix-wrap { max-width: 100%; overflow-x: auto; border: 1px solid var(--border-color-primary, #e2e8f0);
  border-radius: 10px; }
table.kh-matrix { width: 100%; border-collapse: collapse; font-size: 0.9rem; table-layout: fixed;
  border: none !important; margin: 0 !important; }
.kh-matrix th, .kh-matrix td { border: none !important; border-bottom: 1px solid
  var(--border-color-primary, #e2e8f0) !important; padding: 7px 10px !important; text-align: left;
  vertical-align: top; overflow-wrap: anywhere; }
.kh-matrix tr, .kh-matrix thead, .kh-matrix tbody { border: none !important; }
.kh-matrix td, .kh-matrix thead th + th { border-left: 1px solid var(--border-color-primary, #e2e8f0) !important; }
.kh-matrix tbody tr:last-child th, .kh-matrix tbody tr:last-child td { border-bottom: none !important; }
.kh-matrix thead th { background: var(--background-fill-secondary, #f8fafc); font-weight: 700; }
.kh-matrix thead th:first-child, .kh-matrix tbody th { width: 24%; }
.kh-matrix thead th small { display: block; font-weight: 400; color: var(--body-text-color-subdued, #64748b); }
.kh-matrix tbody th { font-weight: 600; }
.kh-matrix tbody tr:nth-child(even) { background: var(--background-fill-secondary, #f8fafc); }
.kh-matrix .kh-main { font-weight: 600; }
.kh-matrix .kh-more { font-size: 0.8rem; color: var(--body-text-color-subdued, #64748b); }
.kh-matrix .kh-none { color: var(--body-text-color-subdued, #94a3b8); }
.kh-chart { margin: 0; padding: 12px 16px; border: 1px solid var(--border-color-primary, #e2e8f0);
  border-radius: 10px; background: var(--block-background-fill, #fff); }
.kh-chart figcaption { font-size: 0.88rem; color: var(--body-text-color-subdued, #475569); margin-bottom: 8px; }
.kh-bar-row { display: grid; grid-template-columns: minmax(120px, 220px) 1fr minmax(110px, 170px);
  align-items: center; gap: 10px; margin: 6px 0; font-size: 0.9rem; }
.kh-bar-label { font-weight: 600; overflow-wrap: anywhere; }
.kh-bar-label small { display: block; font-weight: 400; color: var(--body-text-color-subdued, #64748b); }
.kh-bar-track { height: 18px; background: var(--background-fill-secondary, #f1f5f9); border-radius: 4px;
  overflow: hidden; }
.kh-bar { display: block; height: 100%; background: #b91c1c; border-radius: 4px; }
.kh-bar-value { font-variant-numeric: tabular-nums; }
"""

PAGE_CSS = """
body.kh-page { margin: 0; font-family: "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", "DejaVu Sans",
  Arial, sans-serif; color: #0f172a; background: #f8fafc; }
.kh-page .kh-reader { max-width: 1180px; margin: 0 auto; padding: 16px 20px 40px; background: #fff; }
.kh-page .kh-doctext, .kh-page .kh-tree { max-height: none; }
.kh-page .kh-tree { position: sticky; top: 0; align-self: start; max-height: 100vh; }
"""
