"""Pages of paged plans (PDF, scans) for citations: the page a cited passage starts on, and that page rendered
as an image with the cited lines' boxes highlighted (``/doc/{doc_id}/page/{n}.png``)."""

from __future__ import annotations

import io
from collections.abc import Callable
from html import escape as esc
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, HTTPException
from fastapi.responses import Response

from app.schemas import AnswerOut
from index.store import StoredDocument
from ingest import filetype
from retriever.service import Retriever

RENDER_SCALE = 1.5  # 108 dpi: readable on screen, small enough to send
HIGHLIGHT = (255, 214, 0, 90)  # translucent yellow over each cited line


def page_field(doc: StoredDocument, start: int) -> dict[str, int]:
    """``{"page": n}`` for a passage of a paged plan starting at ``start``; ``{}`` for a plain-text plan."""
    page = doc.meta.page_of(start) if doc.meta.pages else None
    return {} if page is None else {"page": page}


def with_pages(r: Retriever, answer: AnswerOut) -> AnswerOut:
    """``answer`` with ``page`` set on each citation of a paged plan (left out for plain-text plans)."""
    for c in answer.citations:
        chunk = r.corpus.by_id.get(c.chunk_id)
        d = r.documents.get(c.doc_id)
        if chunk is not None and d is not None and d.meta.pages:
            c.page = d.meta.page_of(chunk.start)
    return answer


def source_path(source_file: str, folders: list[Path]) -> Path | None:
    """The original file of a plan in the first of ``folders`` holding it (no folder parts accepted)."""
    if Path(source_file).name != source_file:
        return None
    for folder in folders:
        p = Path(folder) / source_file
        if p.is_file():
            return p
    return None


def render_page(pdf: Path, page: int, boxes: list[tuple[float, float, float, float]]) -> bytes:
    """PNG of page ``page`` (1-based) of ``pdf`` with ``boxes`` (fractions of the page) highlighted.
    ValueError when the page does not exist or the file cannot be rendered."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    try:
        doc = pdfium.PdfDocument(str(pdf))
    except pdfium.PdfiumError as exc:
        raise ValueError(f"{pdf.name}: cannot be rendered ({exc})") from exc
    try:
        if not 1 <= page <= len(doc):
            raise ValueError(f"{pdf.name} has no page {page} (1–{len(doc)})")
        image = doc[page - 1].render(scale=RENDER_SCALE).to_pil().convert("RGBA")
    finally:
        doc.close()
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    w, h = image.size
    for x0, y0, x1, y1 in boxes:
        draw.rectangle([x0 * w - 2, y0 * h - 2, x1 * w + 2, y1 * h + 2], fill=HIGHLIGHT)
    out = io.BytesIO()
    Image.alpha_composite(image, overlay).convert("RGB").save(out, "PNG", optimize=True)
    return out.getvalue()


def cited_page(doc: StoredDocument, cite: tuple[int, int] | None) -> tuple[int, list] | None:
    """The page a cited span starts on and the boxes of its lines on that page (None: no page to show)."""
    if cite is None or not doc.meta.pages or not 0 <= cite[0] < cite[1] <= len(doc.text):
        return None
    page = doc.meta.page_of(cite[0])
    if page is None:
        return None
    return page, [b[3:] for b in doc.meta.boxes_in(*cite) if b[2] == page]


def page_figure_html(doc: StoredDocument, cite: tuple[int, int] | None, folders: list[Path]) -> str:
    """A figure with the cited page as an image (the cited lines highlighted), or "" when there is none."""
    found = cited_page(doc, cite)
    path = source_path(doc.source_file, folders)
    if found is None or cite is None or path is None or filetype.sniff(path) != filetype.PDF:
        return ""
    src = f"{quote(doc.doc_id)}/page/{found[0]}?start={cite[0]}&end={cite[1]}"
    return (f'<figure class="kh-page-image" id="kh-page-image"><img src="{esc(src)}" loading="lazy" '
            f'alt="Trang {found[0]} của văn bản gốc, các dòng được trích dẫn được tô vàng" style="max-width:100%;'
            f'border:1px solid #ccc"><figcaption>Trang {found[0]} (bản gốc), dòng được trích dẫn tô vàng'
            f"</figcaption></figure>")


def add_page_route(app: FastAPI, folders: Callable[[], list[Path]], get: Callable[[], Retriever]) -> None:
    """``GET /doc/{doc_id}/page/{page}?start=&end=``: the PDF page as PNG, the span's lines highlighted."""

    @app.get("/doc/{doc_id}/page/{page}", include_in_schema=False, response_class=Response)
    def page_image(doc_id: str, page: int, start: int | None = None, end: int | None = None) -> Response:
        try:
            d = get().documents.get(doc_id)
        except RuntimeError as exc:
            raise HTTPException(status_code=503, detail=str(exc)) from exc
        path = source_path(d.source_file, folders()) if d is not None else None
        if d is None or path is None or filetype.sniff(path) != filetype.PDF:
            raise HTTPException(status_code=404, detail=f"Không có trang ảnh của văn bản '{doc_id}' (chỉ có với "
                                                        "PDF còn giữ bản gốc).")
        cite = (start, end) if start is not None and end is not None else None
        found = cited_page(d, cite)
        boxes = found[1] if found is not None and found[0] == page else []
        try:
            png = render_page(path, page, boxes)
        except ValueError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=300"})
