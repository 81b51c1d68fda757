"""What a file is, judged by its content (magic bytes), never by its extension."""

from __future__ import annotations

import zipfile
from pathlib import Path

PDF, DOCX, TEXT, IMAGE = "pdf", "docx", "text", "image"
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")


def sniff(path: Path) -> str:
    """``pdf`` | ``docx`` | ``image`` | ``text`` (anything else; the text reader judges it).

    Raises ValueError for a ZIP that is not a Word document (e.g. .xlsx, .odt) or a legacy binary .doc.
    """
    with open(path, "rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" in head:  # the header may sit anywhere in the first 1,024 bytes
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise ValueError(f"{path.name}: a legacy Word .doc (binary) file; open it in Word or LibreOffice and "
                         "save it as .docx")
    if head.startswith(_IMAGE_MAGIC):
        return IMAGE
    return TEXT


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{path.name}: a broken ZIP/Word package ({exc}); re-save the file as .docx") from exc
    if "word/document.xml" in names:
        return DOCX
    raise ValueError(f"{path.name}: a ZIP package that is not a Word document; give .docx, .pdf or UTF-8 text")
