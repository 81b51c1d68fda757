"""The two baselines measured beside the project in the same run.

* **BM25-only**: the project's own :class:`~index.lexical.LexicalIndex` over the project's chunks, nothing else
  (no model, no dense search, no answer composition): top passages by BM25.
* **Default dense pipeline**: what a RAG tutorial builds — langchain ``RecursiveCharacterTextSplitter`` at
  1000/200 characters with its default separators over each plan's text, the same e5 model, ``faiss.IndexFlatIP``,
  the top passage as the answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np
from langchain_text_splitters import RecursiveCharacterTextSplitter

from index.encoder import Encoder
from index.lexical import LexicalIndex
from ingest.reader import discover, read_plan

DEFAULT_CHUNK_SIZE = 1000
DEFAULT_CHUNK_OVERLAP = 200


@dataclass
class BM25Only:
    lexical: LexicalIndex
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def build(cls, texts: list[str]) -> BM25Only:
        t0 = time.perf_counter()
        lex = LexicalIndex.build(texts)
        return cls(lex, {"index_s": round(time.perf_counter() - t0, 4)})

    def search(self, question: str, k: int = 10) -> list[int]:
        scores = self.lexical.scores(question)
        rows = np.flatnonzero(scores > 0)
        if len(rows) > k:
            rows = rows[np.argpartition(-scores[rows], k - 1)[:k]]
        return rows[np.argsort(-scores[rows], kind="stable")].tolist()

    def save(self, directory: Path) -> None:
        self.lexical.save(directory)


@dataclass
class DefaultDense:
    passages: list[str]
    index: faiss.Index
    encoder: Encoder
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def build(cls, paths: list[Path], encoder: Encoder, batch_size: int = 32, max_passages: int | None = None
              ) -> DefaultDense:
        t = {}
        t0 = time.perf_counter()
        files = discover(paths)
        splitter = RecursiveCharacterTextSplitter(chunk_size=DEFAULT_CHUNK_SIZE, chunk_overlap=DEFAULT_CHUNK_OVERLAP)
        passages = [p for f in files for p in splitter.split_text(read_plan(f))][:max_passages]
        t["split_s"] = round(time.perf_counter() - t0, 4)
        t1 = time.perf_counter()
        vecs = encoder.encode_documents(passages, batch_size=batch_size)
        t["embed_s"] = round(time.perf_counter() - t1, 4)
        t2 = time.perf_counter()
        index = faiss.IndexFlatIP(int(vecs.shape[1]))
        index.add(np.ascontiguousarray(vecs, dtype=np.float32))
        t["index_s"] = round(time.perf_counter() - t2, 4)
        return cls(passages, index, encoder, t)

    def ask(self, question: str) -> str:
        """The top passage, verbatim (what the default pipeline shows as the answer)."""
        q = self.encoder.encode_queries([question])
        _, rows = self.index.search(np.ascontiguousarray(q, dtype=np.float32), 1)
        return self.passages[int(rows[0][0])] if rows[0][0] >= 0 else ""

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))
