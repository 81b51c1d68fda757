"""Dispatch of binary plan files by detected content type: Word → text, PDF and images → pages of lines."""

from __future__ import annotations

from pathlib import Path

from ingest import filetype
from ingest.pages import Extracted, PageText, from_pages
from ingest.textnorm import nfc

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
BINARY_SUFFIXES = (".docx", ".pdf", *IMAGE_SUFFIXES)


def read_paged(path: Path, kind: str) -> Extracted:
    """Read a Word, PDF or image file (``kind`` from :func:`ingest.filetype.sniff`).  ValueError on bad input."""
    if kind == filetype.DOCX:
        from ingest.docx_reader import read_docx

        out = Extracted(nfc(read_docx(path)), kind)
    elif kind == filetype.PDF:
        from ingest.pdf import read_pdf

        out = from_pages(read_pdf(path), kind)
    elif kind == filetype.IMAGE:
        out = from_pages([read_image(path)], kind)
    else:
        raise ValueError(f"{path.name}: not a Word, PDF or image file")
    if not out.text.strip():
        raise ValueError(f"{path.name}: no text could be read from the file (empty document, or a scan OCR "
                         "found no text on); check the file opens and shows text")
    return out


def read_image(path: Path) -> PageText:
    """A scanned page image (PNG, JPEG, TIFF) OCR'd as page 1."""
    from PIL import Image, UnidentifiedImageError

    from ingest import ocr

    ocr.require(path.name)
    try:
        image = Image.open(path)
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{path.name}: not a readable image ({exc}); re-save it as PNG or JPEG") from exc
    return PageText(1, ocr.ocr_page(image, ocr.image_dpi(image)).lines, "ocr")
