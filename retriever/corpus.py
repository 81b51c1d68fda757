"""Read-only look-ups over an index that every stage shares: chunks by id, plans' rows, folded texts, facts."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from index.store import IndexBundle, StoredDocument
from ingest.records import Chunk
from ingest.textnorm import repaired
from retriever.answer import Citation
from retriever.facts import FactIndex, facts_of
from retriever.fusion import Hit


class FoldedTexts(dict):
    """doc_id → ``repaired(text)`` of the plan, folded on first use (folding thousands of plans at start-up
    took most of a minute at 200k chunks)."""

    def __init__(self, documents: dict[str, StoredDocument]) -> None:
        super().__init__()
        self._docs = documents

    def __missing__(self, doc_id: str) -> str:
        value = repaired(self._docs[doc_id].text)
        self[doc_id] = value
        return value


class Corpus:
    """The indexed plans as the stages see them; built once per retriever, never changed by a question."""

    def __init__(self, bundle: IndexBundle) -> None:
        self.bundle = bundle
        self.documents = bundle.documents
        self.chunks = bundle.chunks
        self.by_id: dict[str, Chunk] = {c.chunk_id: c for c in bundle.chunks}
        self.row: dict[str, int] = {c.chunk_id: i for i, c in enumerate(bundle.chunks)}
        rows: dict[str, list[int]] = {}
        for i, c in enumerate(bundle.chunks):
            rows.setdefault(c.doc_id, []).append(i)
        self.doc_rows = {d: np.asarray(r, dtype=np.int64) for d, r in rows.items()}
        vocab, idf = bundle.lexical.vocab, bundle.lexical.idf
        self.idf = {t: float(idf[i]) for t, i in vocab.items() if "_" not in t}
        self.folded_texts = FoldedTexts(bundle.documents)
        self.facts = FactIndex({d: doc.text for d, doc in bundle.documents.items()}, *facts_of(bundle), self.idf)
        self._parts: dict[tuple[str, tuple[str, ...]], str] = {}
        self._signatures: dict[str, str] = {}

    def doc_of(self, chunk_id: str) -> StoredDocument:
        return self.documents[self.by_id[chunk_id].doc_id]

    def vector(self, chunk_id: str) -> np.ndarray:
        return self.bundle.vectors[self.row[chunk_id]]

    def rows_of(self, docs: Collection[str] | None) -> np.ndarray | None:
        """Index rows of the plans ``docs`` (None: every row)."""
        return np.concatenate([self.doc_rows[d] for d in docs]) if docs else None

    def chunk_at(self, doc_id: str, offset: int) -> Chunk | None:
        """The first chunk of ``doc_id`` that holds character ``offset``."""
        chunks = self.chunks
        return next((chunks[i] for i in self.doc_rows.get(doc_id, ()) if chunks[i].start <= offset < chunks[i].end),
                    None)

    def hit_at(self, doc_id: str, offset: int) -> list[Hit]:
        """``[Hit]`` of the chunk holding ``offset`` (empty when none does), to cite it first."""
        c = self.chunk_at(doc_id, offset)
        return [Hit(c.chunk_id, 1.0)] if c else []

    def part_text(self, chunk: Chunk) -> str:
        """Folded text of the top-level part (e.g. "II. MỤC TIÊU", "PHỤ LỤC") holding the chunk."""
        key = (chunk.doc_id, chunk.section_path[:1])
        if key not in self._parts:
            doc = self.documents[chunk.doc_id]
            spans = [(s.start, s.end) for s in doc.sections if s.path == chunk.section_path[:1]]
            a, b = spans[0] if spans else (chunk.start, chunk.end)
            self._parts[key] = repaired(doc.text[a:b])
        return self._parts[key]

    def signature_block(self, doc_id: str, window: int) -> str:
        """Folded text just above the plan's signer (where the signer's title is printed); "" without one."""
        if doc_id not in self._signatures:
            d = self.documents[doc_id]
            at = d.text.rfind(d.meta.signer) if d.meta.signer else -1
            self._signatures[doc_id] = repaired(d.text[max(0, at - window): at]) if at >= 0 else ""
        return self._signatures[doc_id]

    def citation(self, rank: int, hit: Hit) -> Citation:
        c = self.by_id[hit.chunk_id]
        d = self.documents[c.doc_id]
        m = d.meta
        return Citation(rank=rank, chunk_id=c.chunk_id, doc_id=c.doc_id, doc_number=m.number, doc_type=m.doc_type,
                        issuer=m.issuer, date=m.date, source_file=d.source_file, section=c.section, text=c.text,
                        score=round(hit.score, 6), start=c.start, end=c.end)

    def cite(self, first: list[Hit], hits: list[Hit], k: int) -> tuple[Citation, ...]:
        """Citations of ``first`` then ``hits``, each chunk once, ranked from 1, at most ``k``."""
        seen, ordered = set(), []
        for h in first + hits:
            if h.chunk_id not in seen:
                seen.add(h.chunk_id)
                ordered.append(h)
        return tuple(self.citation(i + 1, h) for i, h in enumerate(ordered[:k]))
