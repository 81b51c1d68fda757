"""Read plan files (UTF-8 text, .docx, PDF, scanned images) into NFC text, with clear errors for bad input.

The kind of a file is judged by its content (:func:`ingest.filetype.sniff`); Word, PDF and image files go to
:func:`ingest.formats.read_paged`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ingest import filetype
from ingest.formats import BINARY_SUFFIXES, read_paged
from ingest.pages import Extracted
from ingest.textnorm import nfc

SUPPORTED = (".txt", ".md", *BINARY_SUFFIXES)


def discover(paths: list[Path]) -> list[Path]:
    """Plan files named directly or found (non-recursively, sorted) in the given folders."""
    found: list[Path] = []
    for p in paths:
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such file or folder")
        if p.is_dir():
            inside = sorted(x for x in p.iterdir() if x.is_file() and x.suffix.lower() in SUPPORTED)
            if not inside:
                raise ValueError(f"{p}: folder holds no plan files ({', '.join(SUPPORTED)})")
            found.extend(inside)
        else:
            found.append(p)
    names = [f.stem for f in found]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"several files share the name {dupes}: document ids come from file names; rename them")
    return found


def read_document(path: Path) -> Extracted:
    """The file's NFC text and, for PDFs and images, its page map, line boxes and OCR'd pages."""
    kind = filetype.sniff(path)
    return Extracted(read_plan(path)) if kind == filetype.TEXT else read_paged(path, kind)


def read_plan(path: Path) -> str:
    """The file's text in NFC.  Raises ValueError naming the file and the fix."""
    kind = filetype.sniff(path)  # by content, not by name
    if kind != filetype.TEXT:
        return read_paged(path, kind).text
    suffix = path.suffix.lower()
    if suffix in BINARY_SUFFIXES:
        raise ValueError(f"{path.name}: named {suffix} but its content is not a {suffix[1:].upper()} file; "
                         "re-export or re-download it")
    if suffix not in SUPPORTED:
        raise ValueError(f"{path.name}: unsupported file type {suffix!r}; give {', '.join(SUPPORTED)}")
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise ValueError(f"{path.name}: looks binary (NUL bytes); expected a UTF-8 text plan")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path.name}: not valid UTF-8 (byte {exc.start}); re-save the file as UTF-8"
        ) from exc
    text = nfc(text)
    if not text.strip():
        raise ValueError(f"{path.name}: the file is empty")
    return text


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
