"""Read plan files (UTF-8 text, .docx, PDF, scanned images) into NFC text, with clear errors for bad input.

The kind of a file is judged by its content (:func:`ingest.filetype.sniff`); Word, PDF and image files go to
:func:`ingest.formats.read_paged`, which has its own page and size limits.

Every plan is read whole and checked whole: a file larger than ``max_bytes`` is refused before it is read, a
NUL byte anywhere marks it as binary, and the other characters XML cannot hold (C0 controls but tab and line
breaks, U+FFFE/U+FFFF) are removed — vertical tab and form feed (page breaks of converted PDFs) become line
breaks — so every Word and CSV export of the plan opens.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from ingest import filetype
from ingest.formats import BINARY_SUFFIXES, read_paged
from ingest.pages import Extracted
from ingest.textnorm import nfc

log = logging.getLogger("ingest.reader")

SUPPORTED = (".txt", ".md", *BINARY_SUFFIXES)
MAX_PLAN_BYTES = 10 * 1024 * 1024  # default size limit of one plan file (settings: KEHOACH_MAX_PLAN_MB)
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\ufffe\uffff]")
_PAGE_BREAK = re.compile("[\x0b\x0c]")
NOT_A_PLAN = "not a plan: its header names no document type (Kế hoạch, Quyết định, …) and no document number"
_SKIP_REASONS = {".doc": "old Word format; save it as .docx first"}


@dataclass
class Discovery:
    """Plan files to read, and the files of the given folders that were left out, each with its reason."""

    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 (Word, many CSV readers) cannot hold."""
    return _CONTROL.sub("", _PAGE_BREAK.sub("\n", text))


def skip_reason(path: Path) -> str:
    suffix = path.suffix.lower()
    if path.name.startswith("."):
        return "hidden file"
    return _SKIP_REASONS.get(suffix, f"unsupported file type {suffix or '(none)'!r}; give {', '.join(SUPPORTED)}")


def _has_plan_header(path: Path) -> bool:
    """Whether a text file found in a folder is a plan: its header grammar (:func:`ingest.metadata.extract_metadata`)
    finds a document type or a document number.  A folder's README or SOURCES notes have neither.  Binary files
    (Word, PDF, scans) and files that cannot be read are kept: reading them later gives the clear error or text."""
    if path.suffix.lower() not in (".txt", ".md"):
        return True
    from ingest.metadata import extract_metadata  # metadata loads the gazetteer: only when a folder is scanned

    try:
        text = _read_text_file(path)
    except (OSError, ValueError):
        return True
    meta = extract_metadata(nfc(xml_safe(text)))  # as the reader will see it (an NFD header is still a header)
    return bool(meta.doc_type or meta.number)


def scan(paths: list[Path]) -> Discovery:
    """Plan files named directly or found (non-recursively, sorted) in the given folders, and the skipped ones.

    A file named directly is always read; a text file found in a folder is a plan only if its header names a
    document type or number (:func:`_has_plan_header`), so notes beside the plans are listed as skipped."""
    out = Discovery()
    for p in paths:
        if not p.exists():
            raise FileNotFoundError(f"{p}: no such file or folder")
        if not p.is_dir():
            out.files.append(p)
            continue
        entries = sorted(x for x in p.iterdir() if x.is_file())
        inside = [x for x in entries if x.suffix.lower() in SUPPORTED and not x.name.startswith(".")]
        out.skipped.extend((x, skip_reason(x)) for x in entries if x not in inside)
        notes = [x for x in inside if not _has_plan_header(x)]
        out.skipped.extend((x, NOT_A_PLAN) for x in notes)
        inside = [x for x in inside if x not in notes]
        if not inside:
            raise ValueError(f"{p}: folder holds no plan files ({', '.join(SUPPORTED)})")
        out.files.extend(inside)
    for path, reason in out.skipped:
        log.warning("skipped file", extra={"file": str(path), "reason": reason})
    _refuse_duplicate_names(out.files)
    return out


def discover(paths: list[Path]) -> list[Path]:
    """The plan files of :func:`scan` (skipped files are logged)."""
    return scan(paths).files


def _refuse_duplicate_names(found: list[Path]) -> None:
    names = [f.stem for f in found]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"several files share the name {dupes}: document ids come from file names; rename them")


def _check_size(path: Path, max_bytes: int) -> None:
    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(f"{path.name}: {size / 2**20:.1f} MB is over the {max_bytes / 2**20:.0f} MB limit of one "
                         "plan; split the file, or raise the limit (--max-file-mb / KEHOACH_MAX_PLAN_MB)")


def _read_text_file(path: Path) -> str:
    data = path.read_bytes()
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ValueError(f"{path.name}: looks binary (NUL byte at {nul}); expected a UTF-8 text plan")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path.name}: not valid UTF-8 (byte {exc.start}); re-save the file as UTF-8") from exc


def clean_text(text: str, name: str) -> str:
    """NFC text without XML-incompatible characters (their removal is logged)."""
    safe = xml_safe(text)
    removed = len(text) - len(safe)
    if removed:
        log.warning("removed control characters", extra={"file": name, "removed": removed})
    return nfc(safe)


def read_document(path: Path, max_bytes: int = MAX_PLAN_BYTES) -> Extracted:
    """The file's NFC text and, for Word, PDF and image files, its page map, line boxes and OCR'd pages."""
    kind = filetype.sniff(path)  # by content, not by name
    if kind == filetype.TEXT:
        return Extracted(read_plan(path, max_bytes))
    got = read_paged(path, kind)
    # offsets of pages and boxes point into this text: blank control characters out instead of removing them
    return replace(got, text=_CONTROL.sub(" ", _PAGE_BREAK.sub("\n", got.text)))


def read_plan(path: Path, max_bytes: int = MAX_PLAN_BYTES) -> str:
    """The file's text in NFC.  Raises ValueError naming the file and the fix."""
    if filetype.sniff(path) != filetype.TEXT:
        return read_document(path, max_bytes).text
    suffix = path.suffix.lower()
    if suffix in BINARY_SUFFIXES:
        raise ValueError(f"{path.name}: named {suffix} but its content is not a {suffix[1:].upper()} file; "
                         "re-export or re-download it")
    if suffix not in SUPPORTED:
        raise ValueError(f"{path.name}: {skip_reason(path)}")
    _check_size(path, max_bytes)
    text = clean_text(_read_text_file(path), path.name)
    if not text.strip():
        raise ValueError(f"{path.name}: the file is empty")
    return text


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
