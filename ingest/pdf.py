"""PDF files → pages of lines: the text layer where it is good Vietnamese, OCR where it is not.

Per page: the text layer is read with pdfplumber (words in reading order, ruled tables as rows whose cells are
joined by :data:`ingest.pages.CELL_SEP`).  The layer is kept only when it measures as readable Vietnamese
(:mod:`ingest.textquality`) and is not a mere scrap over a page-sized scan (an e-signature stamp's few words
over a scanned page); otherwise the page is rendered at 300 dpi and OCR'd (:mod:`ingest.ocr`).  Bad files —
encrypted, corrupt, no pages, over the limits, a scan while OCR is not installed — raise ValueError naming the
file and the fix.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.pages import Line, PageText, table_row
from ingest.textquality import is_readable, measure

log = logging.getLogger("ingest.pdf")

SCRAP_LETTERS = 200  # fewer letters than this over a page-sized image: a stamp's text, not the page's body
PAGE_IMAGE_SHARE = 0.5  # an image covering at least this share of the page makes it a scan


@dataclass(frozen=True)
class PdfLimits:
    max_pages: int = int(os.environ.get("KEHOACH_PDF_MAX_PAGES", "300"))
    max_bytes: int = int(os.environ.get("KEHOACH_PDF_MAX_MB", "60")) * 1024 * 1024
    max_ocr_pages: int = int(os.environ.get("KEHOACH_OCR_MAX_PAGES", "100"))


def _encrypted(exc: BaseException, path: Path) -> bool:
    """True when opening failed because the PDF is password protected."""
    chain: BaseException | None = exc
    while chain is not None:
        if "password" in repr(chain).lower() or "encrypt" in type(chain).__name__.lower():
            return True
        chain = chain.__cause__ or chain.__context__
    return b"/Encrypt" in path.read_bytes()


def _open(path: Path, limits: PdfLimits) -> Any:
    import pdfplumber

    size = path.stat().st_size
    if size > limits.max_bytes:
        raise ValueError(f"{path.name}: {size / 2**20:.1f} MB is over the {limits.max_bytes // 2**20} MB limit for "
                         "a PDF; split it or raise KEHOACH_PDF_MAX_MB")
    try:
        pdf = pdfplumber.open(path)
        n = len(pdf.pages)
    except Exception as exc:  # pdfminer raises many types for broken or protected files
        if _encrypted(exc, path):
            raise ValueError(f"{path.name}: the PDF is encrypted (password protected); remove the password "
                             "(print it to a new PDF, or qpdf --decrypt) and ingest it again") from exc
        raise ValueError(f"{path.name}: not a readable PDF ({type(exc).__name__}: {exc}); re-export or "
                         "re-download the file") from exc
    if n == 0:
        pdf.close()
        raise ValueError(f"{path.name}: the PDF has no pages; re-export the file")
    if n > limits.max_pages:
        pdf.close()
        raise ValueError(f"{path.name}: {n} pages is over the {limits.max_pages}-page limit; split the file or "
                         "raise KEHOACH_PDF_MAX_PAGES")
    return pdf


def _box(bbox: tuple[float, float, float, float], page: Any) -> tuple[float, float, float, float]:
    x0, top, x1, bottom = bbox
    w, h = float(page.width) or 1.0, float(page.height) or 1.0
    return (max(0.0, x0 / w), max(0.0, top / h), min(1.0, x1 / w), min(1.0, bottom / h))


def _inside(obj: dict[str, Any], boxes: list[tuple[float, float, float, float]]) -> bool:
    cx, cy = (obj["x0"] + obj["x1"]) / 2, (obj["top"] + obj["bottom"]) / 2
    return any(x0 <= cx <= x1 and t <= cy <= b for x0, t, x1, b in boxes)


def layer_lines(page: Any) -> list[Line]:
    """The page's text layer as lines in reading order (top to bottom), ruled tables as one line per row."""
    tables = page.find_tables()
    tboxes = [t.bbox for t in tables]
    items: list[tuple[float, float, Line]] = []
    for t in tables:
        for row, cells in zip(t.rows, t.extract(), strict=False):
            if any(c and c.strip() for c in cells):
                items.append((row.bbox[1], row.bbox[0], Line(table_row(cells), _box(row.bbox, page), True)))
    rest = page.filter(lambda o: o.get("object_type") != "char" or not _inside(o, tboxes)) if tboxes else page
    for ln in rest.extract_text_lines(layout=False, strip=True, return_chars=False):
        items.append((ln["top"], ln["x0"], Line(ln["text"], _box((ln["x0"], ln["top"], ln["x1"], ln["bottom"]),
                                                                     page))))
    items.sort(key=lambda it: (round(it[0], 0), it[1]))
    return [it[2] for it in items]


def _image_share(page: Any) -> float:
    area = float(page.width * page.height) or 1.0
    best = 0.0
    for im in page.images:
        w = max(0.0, min(im["x1"], page.width) - max(im["x0"], 0))
        h = max(0.0, min(im["bottom"], page.height) - max(im["top"], 0))
        best = max(best, w * h / area)
    return best


def needs_ocr(lines: list[Line], image_share: float) -> str:
    """Why the page must be OCR'd ("" when its text layer is kept): empty, a scrap over a scan, or garbage."""
    text = "\n".join(ln.text for ln in lines)
    q = measure(text)
    if q.words == 0:
        return "no text layer"
    if image_share >= PAGE_IMAGE_SHARE and q.letters < SCRAP_LETTERS:
        return f"text layer is a {q.letters}-letter scrap over a scanned page"
    if not is_readable(q):
        return (f"text layer is not readable Vietnamese (valid syllables {q.valid_share:.0%}, "
                f"marked {q.marked_share:.0%})")
    return ""


def read_pdf(path: Path, limits: PdfLimits | None = None) -> list[PageText]:
    """Every page of the PDF as lines, from the text layer or OCR (decided per page by measured quality)."""
    limits = limits or PdfLimits()
    pdf = _open(path, limits)
    try:
        pages: list[PageText] = []
        for i, page in enumerate(pdf.pages, start=1):
            lines = layer_lines(page)
            reason = needs_ocr(lines, _image_share(page))
            pages.append(PageText(i, lines, "text", reason))
            page.flush_cache()
    finally:
        pdf.close()
    todo = [p for p in pages if p.note]
    if todo:
        _ocr_pages(path, todo, limits)
    return pages


def _ocr_pages(path: Path, todo: list[PageText], limits: PdfLimits) -> None:
    from ingest import ocr

    if len(todo) > limits.max_ocr_pages:
        raise ValueError(f"{path.name}: {len(todo)} pages need OCR, over the {limits.max_ocr_pages}-page limit; "
                         "split the file or raise KEHOACH_OCR_MAX_PAGES")
    ocr.require(path.name)
    for page in todo:
        log.info("ocr page", extra={"file": path.name, "page": page.number, "reason": page.note})
        settings = ocr.OcrSettings()
        image = ocr.render_pdf_page(path, page.number - 1, settings.dpi)
        page.lines = ocr.ocr_page(image, settings.dpi, settings).lines
        page.source = "ocr"
