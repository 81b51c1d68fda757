"""Dense, lexical and hybrid searchers sharing one interface: ``search(query, k) -> list[Hit]``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.encoder import Encoder
from index.store import IndexBundle
from retriever.fusion import FUSIONS, Hit


def _top(scores: np.ndarray, rows: np.ndarray, ids: list[str], k: int) -> list[Hit]:
    if len(rows) == 0:
        return []
    k = min(k, len(rows))
    sub = scores[rows]
    part = np.argpartition(-sub, k - 1)[:k] if k < len(rows) else np.arange(len(rows))
    hits = [Hit(ids[rows[i]], float(sub[i])) for i in part]
    return sorted(hits, key=lambda h: (-h.score, h.chunk_id))


class DenseSearcher:
    def __init__(self, bundle: IndexBundle, encoder: Encoder) -> None:
        self.bundle, self.encoder = bundle, encoder
        self.ids = [c.chunk_id for c in bundle.chunks]
        self.index = bundle.dense  # unscoped top-k; anything with DenseIndex.search (index/pg_dense.py)

    def embed(self, text: str) -> np.ndarray:
        return self.encoder.encode_queries([text])[0]

    def search(self, query: str, k: int, rows: np.ndarray | None = None, qvec: np.ndarray | None = None) -> list[Hit]:
        q = self.embed(query) if qvec is None else qvec
        if rows is None:
            scores, found = self.index.search(q, k)
            return sorted((Hit(self.ids[r], float(s)) for s, r in zip(scores, found, strict=True)),
                          key=lambda h: (-h.score, h.chunk_id))
        scores = np.zeros(len(self.ids), dtype=np.float32)
        scores[rows] = self.bundle.vectors[rows] @ q  # exact scores inside a document scope
        return _top(scores, rows, self.ids, k)


class LexicalSearcher:
    def __init__(self, bundle: IndexBundle) -> None:
        self.bundle = bundle
        self.ids = [c.chunk_id for c in bundle.chunks]

    def search(self, query: str, k: int, rows: np.ndarray | None = None) -> list[Hit]:
        scores = self.bundle.lexical.scores(query)
        rows = np.flatnonzero(scores > 0) if rows is None else rows[scores[rows] > 0]
        return _top(scores, rows, self.ids, k)


@dataclass
class HybridSettings:
    fusion: str = "weighted"  # "weighted" or "rrf"; weighted won on the gold set (docs/EVALUATION.md)
    lexical_weight: float = 0.6
    dense_weight: float = 0.4
    depth: int = 50  # candidates taken from each searcher before fusion
    rrf_k: int = 60


class HybridSearcher:
    def __init__(self, bundle: IndexBundle, encoder: Encoder, settings: HybridSettings | None = None) -> None:
        self.settings = settings or HybridSettings()
        if self.settings.fusion not in FUSIONS:
            raise ValueError(f"unknown fusion {self.settings.fusion!r}; choose one of {sorted(FUSIONS)}")
        self.dense = DenseSearcher(bundle, encoder)
        self.lexical = LexicalSearcher(bundle)

    def search(self, query: str, k: int, rows: np.ndarray | None = None, lexical_query: str | None = None,
               qvec: np.ndarray | None = None) -> list[Hit]:
        s = self.settings
        d = self.dense.search(query, s.depth, rows=rows, qvec=qvec)
        lx = self.lexical.search(lexical_query or query, s.depth, rows=rows)
        if s.fusion == "rrf":
            fused = FUSIONS["rrf"]([lx, d], k=s.rrf_k, weights=[s.lexical_weight, s.dense_weight])
        else:
            fused = FUSIONS["weighted"]([lx, d], weights=[s.lexical_weight, s.dense_weight])
        return fused[:k]
