"""Pages of lines → one document text with a page map and line boxes.

PDF and OCR readers produce :class:`PageText` (lines in reading order, a table row being one line whose
cells are joined by :data:`CELL_SEP`); :func:`assemble` joins them into the NFC text every offset refers to,
plus ``pages`` ((start_offset, page_no), ...) and ``boxes`` ((start, end, page_no, x0, y0, x1, y1), ...)
for :class:`ingest.records.DocMeta`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.textnorm import collapse_ws, nfc

CELL_SEP = " | "  # between the cells of one table row (the same for PDF, OCR and DOCX tables)
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the page (origin top left)


@dataclass(frozen=True)
class Line:
    text: str
    box: Box | None = None
    table_row: bool = False


@dataclass
class PageText:
    number: int  # 1-based page number in the file
    lines: list[Line] = field(default_factory=list)
    source: str = "text"  # text (PDF text layer) | ocr
    note: str = ""  # why the page was OCR'd, or what failed


@dataclass(frozen=True)
class Assembled:
    text: str
    pages: tuple[tuple[int, int], ...]
    boxes: tuple[tuple[int, int, int, float, float, float, float], ...]


def table_row(cells: list[str | None]) -> str:
    """One table row: every cell on one line (inner whitespace collapsed), cells joined by CELL_SEP."""
    return CELL_SEP.join(collapse_ws(c.replace("|", "/")) if c else "" for c in cells)


def assemble(pages: list[PageText]) -> Assembled:
    """The document text (pages separated by a blank line), its page map and line boxes."""
    parts: list[str] = []
    page_map: list[tuple[int, int]] = []
    boxes: list[tuple[int, int, int, float, float, float, float]] = []
    pos = 0
    for page in pages:
        lines = [(nfc(ln.text).strip(), ln.box) for ln in page.lines]
        lines = [(t, b) for t, b in lines if t]
        if not lines:
            continue
        if parts:
            parts.append("\n\n")
            pos += 2
        page_map.append((pos, page.number))
        for i, (t, b) in enumerate(lines):
            if i:
                parts.append("\n")
                pos += 1
            parts.append(t)
            if b is not None:
                boxes.append((pos, pos + len(t), page.number, *(round(v, 4) for v in b)))
            pos += len(t)
    return Assembled("".join(parts), tuple(page_map), tuple(boxes))


@dataclass(frozen=True)
class Extracted:
    """What a reader hands to the pipeline: the NFC text and, for paged files, where its pages and lines are."""

    text: str
    kind: str = "text"  # text | docx | pdf | image
    pages: tuple[tuple[int, int], ...] = ()
    boxes: tuple[tuple[int, int, int, float, float, float, float], ...] = ()
    ocr_pages: tuple[int, ...] = ()  # page numbers read by OCR

    @property
    def ocr(self) -> bool:
        return bool(self.ocr_pages)


def from_pages(pages: list[PageText], kind: str) -> Extracted:
    """An :class:`Extracted` of paged input (PDF or image)."""
    a = assemble(pages)
    ocr_pages = tuple(p.number for p in pages if p.source == "ocr" and any(ln.text.strip() for ln in p.lines))
    return Extracted(a.text, kind, a.pages, a.boxes, ocr_pages)  # a blank page OCR'd to nothing is no OCR text
