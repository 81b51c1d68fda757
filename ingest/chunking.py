"""Section-by-section chunks; over-long sections split on Vietnamese-aware separators."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.heading import is_named_act
from ingest.records import Chunk, Document, Section
from ingest.sections import find_headings, leaf_segments

# Paragraph, bullet ("- ", "+ ", "* "), line, sentence, clause, word.  No "" separator:
# a split never falls inside a word.
SEPARATORS = ("\n\n", "\n- ", "\n+ ", "\n* ", "\n", ". ", "; ", ", ", " ")


@dataclass(frozen=True)
class ChunkSettings:
    chunk_size: int = 1000  # characters (~230 e5 tokens of Vietnamese), well under the 512-token limit
    chunk_overlap: int = 150
    min_chars: int = 60  # a segment shorter than this (a bare heading) joins the next one

    def to_json(self) -> dict:
        return {**asdict(self), "separators": list(SEPARATORS), "splitter": "RecursiveCharacterTextSplitter"}


def _splitter(settings: ChunkSettings) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        separators=list(SEPARATORS),
        keep_separator="start",
        strip_whitespace=True,
    )


def _merged_segments(text: str, doc: Document, settings: ChunkSettings) -> list[tuple[Section, int, int]]:
    headings = find_headings(text)
    segs = leaf_segments(text, headings, list(doc.sections))
    out: list[tuple[Section, int, int]] = []
    carry_start: int | None = None
    for i, (sec, start, end) in enumerate(segs):
        start = carry_start if carry_start is not None else start
        carry_start = None
        nxt = segs[i + 1][0].path if i + 1 < len(segs) else ()
        if len(text[start:end].strip()) < settings.min_chars and nxt[: len(sec.path)] == sec.path:
            carry_start = start  # a bare heading: prepend it to its first child's segment
            continue
        out.append((sec, start, end))
    return out


def _whole_chunks(doc: Document, splitter: RecursiveCharacterTextSplitter, settings: ChunkSettings) -> list[Chunk]:
    """The document's text as one chunk when it fits, else split by size only (not by its clauses)."""
    path, kind = (doc.sections[0].path, doc.sections[0].kind) if doc.sections else ((), "preamble")
    whole = doc.text.strip()
    pieces = [whole] if len(whole) <= settings.chunk_size else splitter.split_text(doc.text)
    chunks, cursor = [], 0
    for piece in pieces:
        a = doc.text.find(piece, cursor)
        if a < 0:
            raise RuntimeError(f"splitter returned text not found in {doc.source_file}")
        cursor = a + 1
        chunks.append(Chunk(f"{doc.doc_id}#{len(chunks):04d}", doc.doc_id, piece, a, a + len(piece), path, kind))
    return chunks


def chunk_document(doc: Document, settings: ChunkSettings | None = None) -> list[Chunk]:
    """Chunks of one document; each chunk's text is exactly ``doc.text[start:end]``."""
    settings = settings or ChunkSettings()
    splitter = _splitter(settings)
    chunks: list[Chunk] = []
    if is_named_act(doc.meta.doc_type):  # a statute article: one chunk when it fits, else by size, not clause
        return _whole_chunks(doc, splitter, settings)  # (a plan keeps its sections, whatever its length)
    for sec, start, end in _merged_segments(doc.text, doc, settings):
        seg = doc.text[start:end]
        if not seg.strip():
            continue
        pieces = [seg.strip()] if len(seg.strip()) <= settings.chunk_size else splitter.split_text(seg)
        cursor = 0
        for piece in pieces:
            pos = seg.find(piece, cursor)
            if pos < 0:
                raise RuntimeError(f"splitter returned text not found in {doc.source_file} at {start}")
            cursor = pos + 1
            a, b = start + pos, start + pos + len(piece)
            chunks.append(Chunk(f"{doc.doc_id}#{len(chunks):04d}", doc.doc_id, doc.text[a:b], a, b,
                                sec.path, sec.kind))
    return chunks
