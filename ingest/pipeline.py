"""Files → Documents (metadata + sections) → Chunks."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from ingest.chunking import ChunkSettings, chunk_document
from ingest.metadata import extract_metadata
from ingest.reader import MAX_PLAN_BYTES, discover, read_document, sha256_text
from ingest.records import Chunk, Document
from ingest.sections import build_sections, find_headings

log = logging.getLogger("ingest")


def load_document(path: Path, max_bytes: int = MAX_PLAN_BYTES) -> Document:
    """Read one plan and parse its metadata and section tree."""
    got = read_document(path, max_bytes)
    text = got.text
    doc_id = path.stem
    sections = tuple(build_sections(doc_id, text, find_headings(text)))
    meta = extract_metadata(text)
    if got.pages or got.ocr:  # PDF / scan: where each page starts, line boxes, and OCR marks the search path
        meta = replace(meta, pages=got.pages, boxes=got.boxes, ocr_pages=got.ocr_pages, ocr=meta.ocr or got.ocr)
    return Document(doc_id=doc_id, source_file=path.name, text=text, meta=meta,
                    sections=sections, sha256=sha256_text(text))


def ingest_paths(
    paths: list[Path], settings: ChunkSettings | None = None, progress: bool = True,
    max_bytes: int = MAX_PLAN_BYTES,
) -> tuple[list[Document], list[Chunk]]:
    """Documents and their chunks for every plan file under ``paths``."""
    settings = settings or ChunkSettings()
    files = discover(paths)
    docs: list[Document] = []
    chunks: list[Chunk] = []
    for f in tqdm(files, desc="ingest", unit="plan", disable=not progress):
        doc = load_document(f, max_bytes)
        doc_chunks = chunk_document(doc, settings)
        log.info("parsed plan", extra={"file": f.name, "number": doc.meta.number, "sections": len(doc.sections),
                                       "chunks": len(doc_chunks), "ocr": doc.meta.ocr})
        docs.append(doc)
        chunks.extend(doc_chunks)
    return docs, chunks
