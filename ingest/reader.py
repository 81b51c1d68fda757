"""Read plan files (UTF-8 text, or .docx) into NFC text, with clear errors for bad input."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ingest.textnorm import nfc

SUPPORTED = (".txt", ".md", ".docx")


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


def read_plan(path: Path) -> str:
    """The file's text in NFC.  Raises ValueError naming the file and the fix."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        raise ValueError(f"{path.name}: PDF is not read directly; convert it to UTF-8 text (pdftotext) first")
    if suffix not in SUPPORTED:
        raise ValueError(f"{path.name}: unsupported file type {suffix!r}; give {', '.join(SUPPORTED)}")
    if suffix == ".docx":
        text = _read_docx(path)
    else:
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


def _read_docx(path: Path) -> str:
    try:
        import docx  # python-docx
    except ImportError as exc:  # pragma: no cover - dependency is declared
        raise ValueError("reading .docx needs python-docx: pip install python-docx") from exc
    try:
        d = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several types for a broken package
        raise ValueError(f"{path.name}: not a readable .docx file ({exc})") from exc
    lines = [p.text for p in d.paragraphs]
    for table in d.tables:  # tables flattened one cell per line, as in the bundled corpus
        for row in table.rows:
            lines.extend(cell.text for cell in row.cells)
    return "\n".join(lines)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
