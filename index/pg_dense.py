"""Dense search run by pgvector (HNSW, inner product) instead of FAISS in memory: the next step of
docs/DEPLOY.md, behind the same interface as :class:`index.dense.DenseIndex` (``search(query, k)`` →
``(scores, rows)`` best first, ``ntotal``, ``dim``, ``kind``, ``params``, ``set_search_params``).

Off by default (``KEHOACH_DB_DENSE_SEARCH``): the in-memory index answers identically by construction, this one
approximately (``python -m bench.pg_store`` measures its recall against exact search).  Rows are the bundle's
row positions; chunks the database holds but the bundle does not (another process wrote after the load) are
skipped until the server reloads.
"""

from __future__ import annotations

import threading

import numpy as np
import psycopg
from pgvector.psycopg import register_vector

from index.pg_schema import ensure_dense_index

EF_SEARCH = 100  # pgvector's default is 40; 100 keeps recall@10 at 1.0 on the bundled and unseen indexes


class PgDenseIndex:
    """Top-k by ``embedding <#> query`` (negative inner product) over ``kehoach_chunks`` through its HNSW index."""

    def __init__(self, url: str, chunk_ids: list[str], dim: int, ef_search: int = EF_SEARCH,
                 force_index: bool = False) -> None:
        """``force_index``: always walk the HNSW graph (the planner reads a small table exactly instead), to
        measure the approximate search on a small corpus."""
        self.url, self._dim, self.ef_search, self.force_index = url, int(dim), int(ef_search), force_index
        self.row = {cid: i for i, cid in enumerate(chunk_ids)}
        self._conn: psycopg.Connection | None = None
        self._lock = threading.Lock()

    @property
    def ntotal(self) -> int:
        return len(self.row)

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def kind(self) -> str:
        return "pgvector-hnsw"

    @property
    def params(self) -> dict:
        return {"kind": self.kind, "ef_search": self.ef_search}

    def set_search_params(self, nprobe: int | None = None, ef_search: int | None = None) -> None:
        if ef_search is not None:
            self.ef_search = int(ef_search)

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, autocommit=True)
            register_vector(self._conn)
            ensure_dense_index(self._conn, self._dim)  # present after any write; made here for older databases
        return self._conn

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        q = np.ascontiguousarray(np.asarray(query, dtype=np.float32).reshape(-1))
        k = min(int(k), self.ntotal)
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        cast = f"embedding::vector({self._dim})"
        with self._lock:
            conn = self._connection()
            with conn.transaction():
                conn.execute(f"SET LOCAL hnsw.ef_search = {max(self.ef_search, k)}")
                if self.force_index:
                    conn.execute("SET LOCAL enable_seqscan = off")
                rows = conn.execute(f"SELECT chunk_id, -({cast} <#> %s) FROM kehoach_chunks "
                                    f"ORDER BY {cast} <#> %s LIMIT %s", (q, q, k)).fetchall()
        found = [(self.row[cid], score) for cid, score in rows if cid in self.row]
        return (np.asarray([s for _, s in found], dtype=np.float32),
                np.asarray([r for r, _ in found], dtype=np.int64))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    def __del__(self) -> None:  # a replaced retriever's connection goes with it
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
