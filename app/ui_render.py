"""HTML of the web UI and of the ``/doc`` reader page: pure functions from records to HTML strings.

Nothing here imports Gradio: the API's ``/doc/{doc_id}`` page, the Gradio wiring (:mod:`app.ui`) and the tests
call these directly.  Every text that comes from a plan or a user is HTML-escaped (:func:`esc`).  The styles are
the static files ``app/static/ui.css`` and ``app/static/page.css``, read once at import.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from urllib.parse import quote, urlencode

from app import briefing
from index.store import StoredDocument
from ingest.records import Section, plan_label, plan_reference
from ingest.textnorm import nfc, repaired
from retriever.answer import Citation
from retriever.display import Display
from retriever.facts import target_label

TITLE = "Hỏi đáp Kế hoạch thực hiện Nghị quyết 72-NQ/TW"
SUBTITLE = ("Trả lời dựa trên các kế hoạch, chương trình hành động đã được lập chỉ mục; "
            "mỗi câu trả lời đều kèm đoạn văn bản gốc được trích dẫn.")
MATRIX_TITLE = "Chỉ tiêu của các kế hoạch (so sánh)"


def stylesheet(name: str) -> str:
    """A CSS file of ``app/static`` (package data)."""
    return resources.files("app").joinpath("static", name).read_text("utf-8")


UI_CSS = stylesheet("ui.css")
PAGE_CSS = stylesheet("page.css")


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


def reference(c: Citation) -> str:
    """ "Kế hoạch số 07-KH/TU của Ban Thường vụ Tỉnh ủy Điện Biên, ngày 21/11/2025, mục IV. … › 4"."""
    return plan_reference(c.doc_type, c.doc_number, c.issuer, c.date, c.section)


def doc_link(doc_id: str, start: int | None = None, end: int | None = None,
             question: str | None = None) -> str:
    """Relative link to the HTML reader (works when the app is served under a path prefix)."""
    params = {k: v for k, v in (("start", start), ("end", end), ("q", question)) if v not in (None, "")}
    query = f"?{urlencode(params)}" if params else ""
    anchor = f"#c-{start}" if start is not None else ""
    return f"doc/{quote(doc_id)}{query}{anchor}"


# ---- a conversation turn --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Turn:
    question: str  # as the user typed it
    answer: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    scope: str | None = None  # "Phạm vi lọc: …" when filters were applied


def copy_text(turn: Turn, display: Display | None = None) -> str:
    """Plain text for an official note: the answer (with ``display``: OCR plans' words restored, as on the
    screen), then numbered references."""
    if turn.abstained or not turn.citations:
        return turn.answer
    answer = display.answer_text(turn.answer, turn.citations).text if display else turn.answer
    refs: list[str] = []
    for c in turn.citations:
        ref = reference(c)
        if ref not in refs:
            refs.append(ref)
    numbered = [f"{i}. {ref}" + ("" if ref.endswith(("…", ".")) else ".")
                for i, ref in enumerate(refs, start=1)]
    lines = [answer, "", "Nguồn trích dẫn:", *numbered]
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


def printed_toggle(printed_html: str) -> str:
    """The text as printed, one click away under a restored reading."""
    return (f'<details class="kh-printed"><summary>Xem như bản in (OCR)</summary>'
            f'<div class="kh-printed-text">{printed_html}</div></details>')


def passage_html(c: Citation, terms: QueryTerms, display: Display | None) -> str:
    """The passage of a card: restored (uncertain words marked) with the printed text a click away, or as printed."""
    printed = highlight(reflow(c.text), terms)
    shown = display.citation(c) if display is not None else None
    if shown is None or not shown.restored:
        return f'<div class="kh-passage">{printed}</div>'
    return f'<div class="kh-passage kh-restored">{reflow(shown.html())}</div>{printed_toggle(printed)}'


def citation_card(c: Citation, terms: QueryTerms, question: str, ocr: bool, display: Display | None = None) -> str:
    meta = " · ".join(esc(x) for x in (c.issuer, c.date) if x)
    ocr_note = ('<span class="kh-badge" title="Văn bản scan được nhận dạng chữ tự động; chữ có thể sai dấu">'
                "Bản scan (OCR)</span>") if ocr else ""
    link = doc_link(c.doc_id, c.start, c.end, question)
    return (
        f'<article class="kh-card" data-doc-number="{esc(c.doc_number or "")}">'
        f'<div class="kh-card-head"><span class="kh-rank">{c.rank}</span>'
        f'<span class="kh-doc">{esc(plan_label(c.doc_type, c.doc_number))}</span>'
        f'<span class="kh-meta">{meta}</span>{ocr_note}</div>'
        f'<div class="kh-section">Mục: {esc(c.section)}</div>'
        f"{passage_html(c, terms, display)}"
        f'<div class="kh-card-foot"><a href="{esc(link)}" target="_blank" rel="noopener">'
        f"Mở văn bản tại đoạn này ↗</a><span class=\"kh-file\">{esc(c.source_file)}</span></div>"
        "</article>"
    )


def _answer_html(turn: Turn, display: Display | None) -> str:
    shown = display.answer_text(turn.answer, turn.citations) if display is not None else None
    if shown is None or not shown.restored:
        return f'<div class="kh-a">{_answer_body(turn.answer)}</div>'
    toggle = printed_toggle(_answer_body(shown.printed))
    return f'<div class="kh-a kh-restored">{_answer_body(shown.text)}{toggle}</div>'


def render_turn(turn: Turn, ocr_docs: Iterable[str] = (), display: Display | None = None) -> str:
    """One answer with its citation cards; with ``display``, OCR plans show their restored reading."""
    ocr = set(ocr_docs)
    cls = "kh-answer kh-refusal" if turn.abstained else "kh-answer"
    scope = f'<div class="kh-scope">{esc(turn.scope)}</div>' if turn.scope else ""
    parts = [f'<section class="{cls}"><div class="kh-q"><span>Câu hỏi</span>{esc(turn.question)}</div>',
             f"{_answer_html(turn, display)}{scope}</section>"]
    if turn.citations:
        terms = query_terms(turn.question)
        parts.append(f'<h3 class="kh-sources-title">Nguồn trích dẫn ({len(turn.citations)})</h3>'
                     '<div class="kh-sources">')
        parts += [citation_card(c, terms, turn.question, c.doc_id in ocr, display) for c in turn.citations]
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


def _segment_html(doc: StoredDocument, a: int, b: int, terms: QueryTerms | None, display: Display | None) -> str:
    if display is not None and display.restoration(doc.doc_id) is not None:
        return display.span(doc.doc_id, a, b).html()
    return highlight(doc.text[a:b], terms) if terms is not None else esc(doc.text[a:b])


def document_text_html(doc: StoredDocument, cite: tuple[int, int] | None = None,
                       terms: QueryTerms | None = None, display: Display | None = None) -> str:
    """The full text with an anchor at every section start and the cited span in <mark id="c-START">; with
    ``display`` an OCR plan shows its restored reading (anchors and the citation stay on the printed offsets)."""
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
        out.append(_segment_html(doc, a, b, terms if inside else None, display))
    if cite and cite[1] == len(text):
        out.append("</mark>")
    return f'<div class="kh-doctext">{"".join(out)}</div>'


RESTORED_NOTE = ("Bản scan được nhận dạng chữ tự động (OCR); dấu tiếng Việt đã được khôi phục tự động. Từ gạch "
                 "chấm là từ chưa chắc chắn (di chuột để xem bản in); tên người chưa chắc chắn giữ như bản in. "
                 "Trích dẫn luôn theo bản in.")


def document_header_html(doc: StoredDocument, chunks: int, link: bool = True, display: Display | None = None,
                         toggle: str = "") -> str:
    m = doc.meta
    signer = display.meta_field(doc.doc_id, m.signer) if display is not None else m.signer
    rows = [("Cơ quan ban hành", m.issuer), ("Địa bàn", m.locality), ("Ngày", m.date), ("Người ký", signer),
            ("Tệp gốc", doc.source_file), ("Số mục / đoạn", f"{len(doc.sections)} / {chunks}")]
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows if v)
    ocr = ('<p class="kh-ocr-note">Bản scan được nhận dạng chữ tự động (OCR): chữ trong văn bản có thể '
           "sai dấu; đối chiếu bản gốc khi trích dẫn.</p>") if m.ocr else ""
    if m.ocr and display is not None:
        ocr = f'<p class="kh-ocr-note">{esc(RESTORED_NOTE)}</p>'
    ocr += toggle
    open_link = (f'<a class="kh-open" href="{esc(doc_link(doc.doc_id))}" target="_blank" rel="noopener">'
                 "Mở toàn văn trong thẻ mới ↗</a>") if link else ""
    return (f'<header class="kh-dochead"><h2>{esc(plan_label(m.doc_type, m.number))}</h2>'
            f'<p class="kh-doctitle">{esc(display.meta_field(doc.doc_id, m.title) if display else m.title)}</p>'
            f"<dl>{dl}</dl>{ocr}{open_link}</header>")


def reader_html(doc: StoredDocument, chunks: int, display: Display | None = None) -> str:
    """The Documents tab's reader: header, table of contents, full text (OCR plans restored with ``display``;
    the page it links to shows them as printed one click away)."""
    toggle = (f'<p class="kh-toggle"><a href="{esc(doc_link(doc.doc_id))}?printed=1" target="_blank" '
              'rel="noopener">Xem như bản in ↗</a></p>') if display is not None and doc.meta.ocr else ""
    return (f'<div class="kh-reader">{document_header_html(doc, chunks, display=display, toggle=toggle)}'
            f'<div class="kh-readgrid">{section_tree_html(doc.doc_id, doc.sections)}'
            f"{document_text_html(doc, display=display)}</div></div>")


def _page_toggle(doc: StoredDocument, cite: tuple[int, int] | None, question: str | None, printed: bool) -> str:
    """The reader page's link between the restored reading and the text as printed (same citation)."""
    if not doc.meta.ocr:
        return ""
    params = {k: v for k, v in (("start", cite[0] if cite else None), ("end", cite[1] if cite else None),
                                ("q", question)) if v not in (None, "")}
    if not printed:
        params["printed"] = "1"
    label = "Xem bản đã khôi phục dấu" if printed else "Xem như bản in"
    href = f"?{urlencode(params)}" + (f"#c-{cite[0]}" if cite else "")
    return f'<p class="kh-toggle"><a href="{esc(href)}">{label}</a></p>'


def document_page(doc: StoredDocument, chunks: int, cite: tuple[int, int] | None,
                  question: str | None, display: Display | None = None) -> str:
    """Standalone page for ``/doc/{doc_id}``: opened from a citation card, scrolled to the cited span; an OCR
    plan restored when ``display`` is given (else as printed), with a link to the other reading."""
    if cite and not 0 <= cite[0] < cite[1] <= len(doc.text):
        cite = None  # no jump link to a span the page does not mark
    terms = query_terms(question)
    title = plan_label(doc.meta.doc_type, doc.meta.number)
    jump = (f'<p class="kh-jump"><a href="#c-{cite[0]}">Đến đoạn được trích dẫn ↓</a></p>'
            if cite else "")
    return (f'<!doctype html><html lang="vi"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)} – {esc(TITLE)}</title><style>{PAGE_CSS}{UI_CSS}</style></head>"
            f'<body class="kh-page"><div class="kh-reader">'
            f'<p class="kh-back"><a href="../">← Quay lại trang hỏi đáp</a></p>'
            f"{document_header_html(doc, chunks, False, display, _page_toggle(doc, cite, question, display is None))}"
            f'{jump}<div class="kh-readgrid">{section_tree_html(doc.doc_id, doc.sections)}'
            f"{document_text_html(doc, cite, terms, display)}</div></div></body></html>")


def error_page(status_text: str, message: str) -> str:
    return (f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{esc(status_text)}</title>'
            f"<style>{PAGE_CSS}{UI_CSS}</style></head><body class=\"kh-page\"><div class=\"kh-reader\">"
            f'<p class="kh-back"><a href="../">← Quay lại trang hỏi đáp</a></p>'
            f"{notice_html(message)}</div></body></html>")


# ---- page header and the briefing tab -------------------------------------------------------------------
def header_html(status: str = "Đang tải…", ready: bool | None = None) -> str:
    """Title, subtitle and a status line (``data-ready`` is "1" once the page's load event has run)."""
    flag = "" if ready is None else f' data-ready="{int(ready)}"'
    cls = "kh-status" if ready is not False else "kh-status kh-status-error"
    return (f'<div class="kh-header"><h1>{esc(TITLE)}</h1><p>{esc(SUBTITLE)}</p>'
            f'<div class="{cls}"{flag}>{esc(status)}</div></div>')


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
