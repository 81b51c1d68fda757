"""Embeddings cached by content hash, so each distinct text is embedded once per model.

The key is ``sha256(model \\0 role \\0 text)`` over the exact text handed to the encoder (the encoder adds its
own ``passage: `` prompt, the same for every call).  The cache is a folder per model of append-only *shards*:
``shard-NNNNNN.keys.npy`` (``uint8`` rows of raw 32-byte digests) and ``shard-NNNNNN.vectors.npy`` (float32),
plus ``meta.json``; plain ``.npy`` arrays read with ``allow_pickle=False``.  A shard is written to temporary
names and renamed into place (keys last), so a crash never leaves a shard that loads half-written.

:class:`CachedEncoder` wraps any :class:`~index.encoder.Encoder`: ``encode_documents`` embeds only the texts
whose key is not cached yet (each distinct text once, even when it repeats inside one call) and counts what it
did, which the index builder and the benchmarks report; ``encode_queries`` remembers each question's vector,
which the evaluation's baselines use (``prime`` embeds a question set ahead in batches).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.encoder import Encoder
from index.progress import progress_bar

log = logging.getLogger("index.embed_cache")

CACHE_FORMAT = 1
DOCUMENT_ROLE = "passage"
KEY_BYTES = 32


def text_key(model: str, text: str, role: str = DOCUMENT_ROLE) -> bytes:
    """32-byte sha256 digest of the model name, the role and the exact text embedded."""
    return hashlib.sha256(f"{model}\x00{role}\x00{text}".encode()).digest()


def _safe_name(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("._") or "model"


class EmbeddingCache:
    """In-memory map key → row of a vector matrix, persisted as append-only ``.npy`` shards."""

    def __init__(self, model: str, dim: int, directory: Path | None = None) -> None:
        self.model, self.dim = model, int(dim)
        self.directory = Path(directory) / _safe_name(model) if directory is not None else None
        self._rows: dict[bytes, int] = {}
        self._data = np.zeros((0, self.dim), np.float32)  # grown by doubling; rows [0, _n) are used
        self._n = 0
        self._pending_keys: list[bytes] = []
        self._pending_vecs: list[np.ndarray] = []
        if self.directory is not None:
            self._load()

    # ---- lookup -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._n

    def __contains__(self, key: bytes) -> bool:
        return key in self._rows

    def key(self, text: str) -> bytes:
        return text_key(self.model, text)

    def get(self, keys: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """(vectors of the cached keys, boolean mask of which ``keys`` were found)."""
        found = np.fromiter((k in self._rows for k in keys), dtype=bool, count=len(keys))
        rows = np.fromiter((self._rows[k] for k, f in zip(keys, found, strict=True) if f), dtype=np.int64)
        return self._data[rows], found

    def _append(self, keys: list[bytes], vecs: np.ndarray) -> None:
        if self._n + len(vecs) > len(self._data):
            grown = np.zeros((max(2 * len(self._data), self._n + len(vecs), 1024), self.dim), np.float32)
            grown[: self._n] = self._data[: self._n]
            self._data = grown
        self._data[self._n: self._n + len(vecs)] = vecs
        for i, k in enumerate(keys):
            self._rows.setdefault(k, self._n + i)
        self._n += len(vecs)

    # ---- insertion --------------------------------------------------------------------------
    def put(self, keys: list[bytes], vectors: np.ndarray) -> int:
        """Add the new ``keys`` (existing ones are kept); returns how many were new."""
        if vectors.shape != (len(keys), self.dim):
            raise ValueError(f"expected vectors of shape ({len(keys)}, {self.dim}), got {vectors.shape}")
        new = [i for i, k in enumerate(keys) if k not in self._rows]
        if not new:
            return 0
        vecs = np.ascontiguousarray(vectors[new], dtype=np.float32)
        new_keys = [keys[i] for i in new]
        if len(set(new_keys)) != len(new_keys):  # a key repeated inside one call: keep its first vector
            first = {k: j for j, k in reversed(list(enumerate(new_keys)))}
            sel = sorted(first.values())
            new_keys, vecs = [new_keys[j] for j in sel], vecs[sel]
        self._append(new_keys, vecs)
        self._pending_keys.extend(new_keys)
        self._pending_vecs.append(vecs)
        return len(new_keys)

    # ---- persistence ------------------------------------------------------------------------
    def flush(self) -> Path | None:
        """Write what was added since the last flush as one new shard; no-op without a directory."""
        if self.directory is None or not self._pending_keys:
            return None
        self.directory.mkdir(parents=True, exist_ok=True)
        self._write_meta()
        n = 1 + max((int(p.name.split("-")[1].split(".")[0]) for p in self.directory.glob("shard-*.keys.npy")),
                    default=0)
        base = self.directory / f"shard-{n:06d}"
        keys = np.frombuffer(b"".join(self._pending_keys), dtype=np.uint8).reshape(-1, KEY_BYTES)
        vecs = np.concatenate(self._pending_vecs)
        _atomic_save(base.with_name(base.name + ".vectors.npy"), vecs)
        _atomic_save(base.with_name(base.name + ".keys.npy"), keys)  # last: its presence marks the shard whole
        log.info("cache shard written", extra={"shard": str(base), "vectors": len(keys), "total": self._n})
        self._pending_keys, self._pending_vecs = [], []
        return base

    def _write_meta(self) -> None:
        assert self.directory is not None
        meta = {"format": CACHE_FORMAT, "model": self.model, "dim": self.dim,
                "key": "sha256(model \\0 role \\0 text)", "role": DOCUMENT_ROLE}
        path = self.directory / "meta.json"
        if not path.exists():
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(meta, indent=2), "utf-8")
            os.replace(tmp, path)

    def _load(self) -> None:
        assert self.directory is not None
        meta_path = self.directory / "meta.json"
        if not meta_path.exists():
            return
        meta = json.loads(meta_path.read_text("utf-8"))
        if meta.get("format") != CACHE_FORMAT or meta.get("model") != self.model or meta.get("dim") != self.dim:
            raise ValueError(f"embedding cache {self.directory} holds {meta.get('model')} (dim {meta.get('dim')}, "
                             f"format {meta.get('format')}), not {self.model} (dim {self.dim}); delete the folder")
        for keys_path in sorted(self.directory.glob("shard-*.keys.npy")):
            vec_path = keys_path.with_name(keys_path.name.replace(".keys.npy", ".vectors.npy"))
            keys = np.load(keys_path, allow_pickle=False)
            vecs = np.load(vec_path, allow_pickle=False)
            if keys.shape[1:] != (KEY_BYTES,) or len(keys) != len(vecs) or vecs.shape[1:] != (self.dim,):
                log.warning("skipping inconsistent cache shard", extra={"shard": str(keys_path)})
                continue
            raw = keys.tobytes()
            self._append([raw[i: i + KEY_BYTES] for i in range(0, len(raw), KEY_BYTES)],
                         np.asarray(vecs, dtype=np.float32))
        log.info("loaded embedding cache", extra={"dir": str(self.directory), "vectors": self._n})


def _atomic_save(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        np.save(f, array, allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@dataclass
class CacheStats:
    requested: int = 0  # texts asked for
    cache_hits: int = 0  # served from the cache (including repeats inside one call)
    embedded: int = 0  # distinct texts actually run through the model

    def to_json(self) -> dict[str, int]:
        return {"requested": self.requested, "cache_hits": self.cache_hits, "embedded": self.embedded}


class CachedEncoder:
    """An :class:`Encoder` that embeds each distinct document text once through ``cache`` (an
    :class:`EmbeddingCache`, on disk or in memory; without one, documents pass straight through), and answers
    ``encode_queries`` from vectors :meth:`prime` computed ahead in batches (several times faster on CPU than
    one call per question); a query not primed is encoded on demand and not kept, so timing a retriever
    through this encoder measures the model."""

    def __init__(self, encoder: Encoder, cache: EmbeddingCache | None = None) -> None:
        self.encoder = encoder
        self.name, self.dim = encoder.name, encoder.dim
        self.cache = cache
        if cache is not None and (cache.model != encoder.name or cache.dim != encoder.dim):
            raise ValueError(f"cache is for {cache.model} (dim {cache.dim}), encoder is {encoder.name}")
        self.stats = CacheStats()
        self.queries: dict[str, np.ndarray] = {}

    def encode_documents(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        if self.cache is None:
            self.stats.requested += len(texts)
            self.stats.embedded += len(texts)
            return self.encoder.encode_documents(texts, batch_size=batch_size, progress=progress)
        return self._cached_documents(self.cache, texts, batch_size, progress)

    def _cached_documents(self, cache: EmbeddingCache, texts: list[str], batch_size: int, progress: bool
                          ) -> np.ndarray:
        keys = [cache.key(t) for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        cached, found = cache.get(keys)
        out[found] = cached
        todo: dict[bytes, list[int]] = {}
        for i in np.flatnonzero(~found):
            todo.setdefault(keys[i], []).append(int(i))
        if todo:
            first = [idx[0] for idx in todo.values()]
            vecs = self.encoder.encode_documents([texts[i] for i in first], batch_size=batch_size,
                                                 progress=progress)
            cache.put(list(todo), vecs)
            for vec, idx in zip(vecs, todo.values(), strict=True):
                out[idx] = vec
        self.stats.requested += len(texts)
        self.stats.embedded += len(todo)
        self.stats.cache_hits += len(texts) - len(todo)
        return out

    def prime(self, texts: Sequence[str], batch_size: int = 64, progress: bool = False, desc: str = "embed") -> None:
        """Embed the queries not seen yet, in batches of ``batch_size``."""
        todo = list(dict.fromkeys(t for t in texts if t not in self.queries))
        starts = range(0, len(todo), batch_size)
        for i in progress_bar(starts, desc, "batch", progress and bool(todo)):
            batch = todo[i:i + batch_size]
            self.queries.update(zip(batch, self.encoder.encode_queries(batch), strict=True))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.queries))
        fresh = dict(zip(missing, self.encoder.encode_queries(missing), strict=True)) if missing else {}
        return np.stack([self.queries[t] if t in self.queries else fresh[t] for t in texts]).astype(np.float32)

    def seed(self, texts: Iterable[str], vectors: np.ndarray) -> int:
        """Make already-known vectors (e.g. an existing index's) available without embedding them."""
        if self.cache is None:
            raise ValueError("seed needs an EmbeddingCache")
        return self.cache.put([self.cache.key(t) for t in texts], vectors)

    def flush(self) -> None:
        if self.cache is not None:
            self.cache.flush()
