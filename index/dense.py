"""FAISS inner-product search over L2-normalised vectors; the index type is chosen by size.

Below ``flat_threshold`` vectors the index is exact (``IndexFlatIP``).  Above it, ``kind="auto"`` picks an
inverted file (``IndexIVFFlat``, inner product, spherical k-means, ``nprobe`` lists searched), which also takes
incremental additions *and removals* in seconds; ``kind="hnsw"`` gives ``IndexHNSWFlat`` (inner product), which
searches fastest but must be rebuilt when rows are removed.  The parameters are written in FAISS's own file and
reported by :attr:`DenseIndex.params` for the manifest.  Rows are chunk positions (ids ``0..ntotal-1``, kept
contiguous across updates), never leaked past the index.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np
from tqdm import tqdm

log = logging.getLogger("index.dense")

KINDS = ("auto", "flat", "ivf", "hnsw")
FLAT_THRESHOLD = 50_000  # exact search below this many vectors (~8 ms a query at 50k × 384 on 2 cores)
ADD_BLOCK = 16_384


@dataclass(frozen=True)
class DenseSettings:
    """How to build the dense index; ``kind="auto"`` = flat below ``flat_threshold`` vectors, IVF above."""

    kind: str = "auto"
    flat_threshold: int = FLAT_THRESHOLD
    ivf_nlist: int | None = None  # None: 4·√n, at most n/39 (FAISS wants ≥ 39 training points a list)
    # lists searched; None: a seventh of them, which gave recall@10 0.98 of flat at 200k chunks in ~5 ms
    # (docs/BENCHMARKS.md; the synthetic corpus is full of near-duplicates, which makes recall hard)
    ivf_nprobe: int | None = None
    ivf_train_max: int = 131_072  # k-means sample size
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 128
    seed: int = 1234

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown dense index kind {self.kind!r}; choose one of {KINDS}")

    def kind_for(self, n: int) -> str:
        if self.kind != "auto":
            return self.kind
        return "flat" if n < self.flat_threshold else "ivf"

    def nlist_for(self, n: int) -> int:
        if self.ivf_nlist:
            return max(1, min(self.ivf_nlist, n))
        return max(1, min(int(4 * math.sqrt(n)), n // 39))

    def nprobe_for(self, nlist: int) -> int:
        return max(1, min(self.ivf_nprobe or -(-nlist // 7), nlist))

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict | None) -> DenseSettings:
        if not d:
            return cls()
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in known})


class DenseIndex:
    """A FAISS index whose ids are row positions; ``search`` returns (scores, rows) best first."""

    def __init__(self, index: faiss.Index) -> None:
        self.index = index

    # ---- construction -----------------------------------------------------------------------
    @classmethod
    def build(cls, vectors: np.ndarray, settings: DenseSettings | None = None, progress: bool = False) -> DenseIndex:
        if vectors.ndim != 2:
            raise ValueError(f"vectors must be 2-D, got shape {vectors.shape}")
        settings = settings or DenseSettings()
        n, d = int(vectors.shape[0]), int(vectors.shape[1])
        kind = settings.kind_for(n)
        if kind != "flat" and n < 2:
            kind = "flat"  # nothing to train on
        t0 = time.perf_counter()
        if kind == "flat":
            index: faiss.Index = faiss.IndexFlatIP(d)
        elif kind == "ivf":
            index = _train_ivf(vectors, settings)
        else:
            index = faiss.IndexHNSWFlat(d, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = settings.hnsw_ef_construction
            index.hnsw.efSearch = settings.hnsw_ef_search
        out = cls(index)
        out.add(vectors, progress=progress)
        log.info("built dense index", extra={"type": type(index).__name__, "ntotal": n, **out.params,
                                             "seconds": round(time.perf_counter() - t0, 2)})
        return out

    def add(self, vectors: np.ndarray, progress: bool = False) -> None:
        """Append rows ``ntotal .. ntotal+len(vectors)-1``."""
        if not len(vectors):
            return
        bar = tqdm(total=len(vectors), desc="dense index", unit="vec", disable=not progress or len(vectors) < ADD_BLOCK)
        for a in range(0, len(vectors), ADD_BLOCK):
            block = np.ascontiguousarray(vectors[a: a + ADD_BLOCK], dtype=np.float32)
            self.index.add(block)
            bar.update(len(block))
        bar.close()

    def updated(self, keep: np.ndarray, added: np.ndarray, vectors: np.ndarray,
                settings: DenseSettings | None = None) -> DenseIndex:
        """The index after dropping the rows where ``keep`` is False and appending ``added``.

        ``vectors`` is the full matrix afterwards (kept rows in order, then ``added``).  IVF removes and
        renumbers in place; flat is rebuilt (it is small); HNSW cannot remove, so removals rebuild it; a size
        that crosses the threshold rebuilds with the other type.
        """
        settings = settings or DenseSettings()
        n_after = int(keep.sum()) + len(added)
        if n_after != len(vectors):
            raise ValueError(f"{len(vectors)} vectors given for {n_after} rows")
        target = settings.kind_for(n_after)
        removing = not bool(keep.all())
        if target != self.kind or self.kind == "flat" or (removing and self.kind == "hnsw"):
            if self.kind == "hnsw" and target == "hnsw":
                log.warning("HNSW cannot remove rows: rebuilding the graph", extra={"ntotal": n_after})
            return DenseIndex.build(vectors, settings)
        if removing:
            _ivf_remove_rows(self.index, keep)
        self.add(added)
        return self

    # ---- properties -------------------------------------------------------------------------
    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    @property
    def kind(self) -> str:
        if isinstance(self.index, faiss.IndexHNSW):
            return "hnsw"
        if isinstance(self.index, faiss.IndexIVF):
            return "ivf"
        return "flat"

    @property
    def params(self) -> dict:
        """The search-relevant parameters, for the manifest."""
        if self.kind == "ivf":
            return {"kind": "ivf", "nlist": int(self.index.nlist), "nprobe": int(self.index.nprobe)}
        if self.kind == "hnsw":
            h = self.index.hnsw
            return {"kind": "hnsw", "M": int(h.nb_neighbors(1)), "efConstruction": int(h.efConstruction),
                    "efSearch": int(h.efSearch)}
        return {"kind": "flat"}

    # ---- search -----------------------------------------------------------------------------
    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the ``k`` nearest rows, best first; FAISS's -1 padding removed."""
        if query.ndim == 1:
            query = query[None, :]
        k = min(k, self.ntotal)
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        scores, rows = self.index.search(np.ascontiguousarray(query, dtype=np.float32), k)
        keep = rows[0] >= 0
        return scores[0][keep], rows[0][keep]

    def set_search_params(self, nprobe: int | None = None, ef_search: int | None = None) -> None:
        """Trade recall for speed at search time (benchmarks sweep these)."""
        if nprobe is not None and self.kind == "ivf":
            self.index.nprobe = int(nprobe)
        if ef_search is not None and self.kind == "hnsw":
            self.index.hnsw.efSearch = int(ef_search)

    # ---- persistence ------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path) -> DenseIndex:
        return cls(faiss.read_index(str(path)))


def _train_ivf(vectors: np.ndarray, s: DenseSettings) -> faiss.Index:
    n, d = vectors.shape
    nlist = s.nlist_for(n)
    quantizer = faiss.IndexFlatIP(d)
    index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.spherical = True  # centroids on the unit sphere: the right k-means for cosine
    index.cp.seed = s.seed
    rng = np.random.default_rng(s.seed)
    sample = vectors if n <= s.ivf_train_max else vectors[np.sort(rng.choice(n, s.ivf_train_max, replace=False))]
    t0 = time.perf_counter()
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    index.nprobe = s.nprobe_for(nlist)
    log.info("trained IVF", extra={"nlist": nlist, "sample": len(sample),
                                   "seconds": round(time.perf_counter() - t0, 2)})
    return index


def _ivf_remove_rows(index: faiss.Index, keep: np.ndarray) -> None:
    """Remove the rows where ``keep`` is False and renumber the rest to stay ``0..n-1`` in order."""
    gone = np.flatnonzero(~keep).astype(np.int64)
    removed = index.remove_ids(faiss.IDSelectorBatch(gone))
    if removed != len(gone):
        raise RuntimeError(f"IVF removed {removed} of {len(gone)} rows")
    new_row = np.full(len(keep), -1, dtype=np.int64)
    new_row[keep] = np.arange(int(keep.sum()), dtype=np.int64)
    inv = index.invlists
    for lst in range(index.nlist):
        size = inv.list_size(lst)
        if not size:
            continue
        ids = faiss.rev_swig_ptr(inv.get_ids(lst), size).copy()
        renumbered = np.ascontiguousarray(new_row[ids])
        inv.update_entries(lst, 0, size, faiss.swig_ptr(renumbered), inv.get_codes(lst))
