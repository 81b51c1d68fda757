"""An index kept in PostgreSQL with pgvector (:class:`PostgresStore`), chosen by ``KEHOACH_DATABASE_URL``.

Schema and migrations: :mod:`index.pg_schema`.  Every write is one transaction under an advisory lock that bumps
``content_version``: a full :meth:`~PostgresStore.write` replaces every row, an :meth:`~PostgresStore.update`
deletes the removed and changed plans (their chunks, facts and restorations go with them) and appends the new
ones after the last ``ord``, so the rows read back in the order :func:`index.store.updated_bundle` gives.  The new
content is read back *inside* the transaction and validated before the commit; a failure rolls everything back.

:meth:`~PostgresStore.load` reads one snapshot (``REPEATABLE READ``) and rebuilds the same
:class:`~index.store.IndexBundle` the directory gives, checked like :func:`index.store.load_index` checks.  In
this increment every server still holds the whole bundle in memory (see docs/DEPLOY.md); the last bundle is kept
per store, keyed by ``content_version``, so an unchanged database is not read twice.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import faiss
import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg.types.json import Jsonb
from scipy import sparse

from index import atomic
from index.backend import Plans, Validate
from index.dense import DenseIndex, DenseSettings
from index.embed_cache import EmbeddingCache
from index.encoder import Encoder
from index.lexical import LexicalCounts, LexicalIndex
from index.manifest_schema import manifest_problem
from index.pg_schema import (
    LATEST,
    LOCK_KEY,
    SchemaError,
    applied,
    check_schema,
    ensure_dense_index,
    has_vector,
    migrate,
)
from index.restored import DocRestoration, restorer_info
from index.store import (
    IndexBundle,
    IndexError_,
    StoredDocument,
    UpdateResult,
    _check_consistent,
    _check_manifest,
    chunk_settings_in,
    facts_current,
    facts_from_json,
    facts_json,
    updated_bundle,
)
from ingest.chunking import ChunkSettings
from ingest.records import Chunk

log = logging.getLogger("index.pg_store")

FIX = "build it with `kehoach ingest corpus/` while KEHOACH_DATABASE_URL is set"


def _named_errors(method: Callable) -> Callable:
    """A database error (lost connection, permissions, a read-only replica) becomes an :class:`IndexError_` naming
    the database and the step, like every other index defect."""
    @functools.wraps(method)
    def wrapper(self: PostgresStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except psycopg.Error as exc:
            raise IndexError_(f"the index database {self.where} failed during {method.__name__} "
                              f"({type(exc).__name__}: {str(exc).strip()})") from exc
    return wrapper


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


class PostgresStore:
    """An :class:`index.backend.IndexStore` in one PostgreSQL database."""

    def __init__(self, url: str, connect_timeout: float = 5.0) -> None:
        if not url.startswith(("postgresql://", "postgres://")) and "=" not in url:
            raise ValueError(f"KEHOACH_DATABASE_URL must be a postgresql:// URL or a libpq string, got {url!r}")
        self.url, self.connect_timeout = url, connect_timeout
        self._cache: IndexBundle | None = None
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        return redact(self.url)

    # ---- connections and schema -----------------------------------------------------------------------
    def connect(self) -> psycopg.Connection:
        try:
            conn = psycopg.connect(self.url, connect_timeout=int(self.connect_timeout), autocommit=True)
        except psycopg.OperationalError as exc:
            raise IndexError_(f"cannot connect to the index database {self.where}: {exc}".strip()) from exc
        return conn

    @_named_errors
    def migrate(self) -> list[int]:
        with self.connect() as conn:
            return migrate(conn)

    @_named_errors
    def status(self) -> dict:
        """Schema and content of the database, for `kehoach db status`."""
        with self.connect() as conn:
            done = applied(conn)
            out = {"database": self.where, "pgvector": has_vector(conn), "schema_version": max(done, default=0),
                   "schema_latest": LATEST, "content_version": None, "documents": 0, "chunks": 0}
            if done and conn.execute("SELECT to_regclass('kehoach_manifest')").fetchone()[0] is not None:
                row = conn.execute("SELECT content_version, written_at::text FROM kehoach_manifest").fetchone()
                if row is not None:
                    out["content_version"], out["written_at"] = str(row[0]), row[1]
                out["documents"] = conn.execute("SELECT count(*) FROM kehoach_documents").fetchone()[0]
                out["chunks"] = conn.execute("SELECT count(*) FROM kehoach_chunks").fetchone()[0]
        return out

    def _vector_conn(self) -> psycopg.Connection:
        """A connection whose schema is checked, with the vector type registered."""
        conn = self.connect()
        try:
            check_schema(conn, self.where)
            register_vector(conn)
        except SchemaError as exc:
            conn.close()
            raise IndexError_(str(exc)) from exc
        except psycopg.ProgrammingError as exc:  # register_vector: no vector type in this database
            conn.close()
            raise IndexError_(f"the pgvector extension is missing in {self.where} ({exc}): run "
                              "`CREATE EXTENSION vector` as the database owner, then `kehoach db migrate`") from exc
        return conn

    # ---- reading ------------------------------------------------------------------------------------
    def version(self) -> str | None:
        """``content_version`` of the database (None: no schema or no index yet, or no connection)."""
        try:
            with self.connect() as conn:
                if conn.execute("SELECT to_regclass('kehoach_manifest')").fetchone()[0] is None:
                    return None
                row = conn.execute("SELECT content_version FROM kehoach_manifest WHERE id = 1").fetchone()
        except (IndexError_, psycopg.Error) as exc:
            log.warning("cannot read the index version", extra={"db": self.where, "error": str(exc)})
            return None
        return None if row is None else str(row[0])

    @_named_errors
    def load(self) -> IndexBundle:
        """The current content (the cached bundle when ``content_version`` is unchanged)."""
        with self._lock:
            t0 = time.perf_counter()
            with self._vector_conn() as conn, conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cached = self._cache
                if cached is not None and cached.content_version == _version_in(conn):
                    return cached
                bundle = self._read(conn)
            self._cache = bundle
            log.info("loaded index from the database", extra={"db": self.where, "chunks": len(bundle.chunks),
                                                               "version": bundle.content_version,
                                                               "seconds": round(time.perf_counter() - t0, 3)})
            return bundle

    def _read(self, conn: psycopg.Connection) -> IndexBundle:
        version = _version_in(conn)
        if version is None:
            raise IndexError_(f"no index in the database {self.where}; {FIX}")
        manifest = conn.execute("SELECT body FROM kehoach_manifest WHERE id = 1").fetchone()[0]
        problem = manifest_problem(manifest)
        if problem:
            raise IndexError_(f"the manifest in {self.where} is malformed ({problem}); {FIX}")
        _check_manifest(manifest, Path(self.where), FIX, verify_checksums=False)
        try:
            bundle = _read_rows(conn, manifest, Path(self.where))
        except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as exc:
            if isinstance(exc, IndexError_):
                raise
            raise IndexError_(f"the index in {self.where} cannot be read ({type(exc).__name__}: {exc}); "
                              f"{FIX}") from exc
        bundle.content_version = version
        _check_consistent(bundle, FIX)
        return bundle

    @_named_errors
    def chunk_settings(self) -> ChunkSettings:
        with self._vector_conn() as conn:
            row = conn.execute("SELECT body FROM kehoach_manifest WHERE id = 1").fetchone()
        if row is None:
            raise IndexError_(f"no index in the database {self.where} to update; {FIX}")
        return chunk_settings_in(row[0])

    # ---- writing ------------------------------------------------------------------------------------
    @_named_errors
    def write(self, bundle: IndexBundle, validate: Validate | None = None) -> None:
        """Replace every row with ``bundle`` in one transaction (migrating first)."""
        t0 = time.perf_counter()
        self.migrate()
        with self._vector_conn() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            ensure_dense_index(conn, bundle.vectors.shape[1])
            for table in ("kehoach_chunks", "kehoach_documents", "kehoach_blobs"):
                conn.execute(f"DELETE FROM {table}")  # facts and restorations go with their documents
            _insert_plans(conn, bundle, list(bundle.documents), 0, 0)
            atomic.checkpoint("pg-rows-written")
            self._finish(conn, bundle, validate)
        log.info("wrote index to the database", extra={"db": self.where, "chunks": len(bundle.chunks),
                                                        "version": bundle.content_version,
                                                        "seconds": round(time.perf_counter() - t0, 3)})

    @_named_errors
    def update(self, plans: Plans, removed: list[str], encoder: Encoder, *, bundle: IndexBundle | None = None,
               cache: EmbeddingCache | None = None, batch_size: int = 32, progress: bool = False,
               validate: Validate | None = None) -> UpdateResult:
        """One transaction: the plans of ``removed`` and the changed ones deleted, the new ones appended."""
        with self._vector_conn() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            if not self._current(bundle, conn):
                bundle = self._read(conn)  # another process wrote meanwhile: update what is there now
            res = updated_bundle(bundle, list(plans), removed, encoder, cache=cache, batch_size=batch_size,
                                 progress=progress)
            if res.bundle is bundle:
                return res
            t0 = time.perf_counter()
            _apply_delta(conn, bundle, res)
            atomic.checkpoint("pg-rows-written")
            self._finish(conn, res.bundle, validate)
            res.seconds["write"] = round(time.perf_counter() - t0, 3)
        log.info("updated index in the database", extra={"db": self.where, **{k: v for k, v in res.to_json().items()
                                                                               if k != "unchanged"}})
        return res

    def _current(self, bundle: IndexBundle | None, conn: psycopg.Connection) -> bool:
        """True when ``bundle`` was loaded from this database at its current version."""
        return bundle is not None and bundle.directory == Path(self.where) and \
            bundle.content_version == _version_in(conn)

    def _finish(self, conn: psycopg.Connection, bundle: IndexBundle, validate: Validate | None) -> None:
        """Blobs and manifest written, the version bumped, the content read back and validated (inside the
        transaction: raising rolls everything back)."""
        _write_blobs(conn, bundle)
        partial = bundle.facts is None or not set(bundle.facts) >= set(bundle.documents)
        if partial and (bundle.manifest.get("facts") or {}).get("file"):
            bundle.manifest = {**bundle.manifest, "facts": None}  # like the directory: none rather than some
        row = conn.execute(
            "INSERT INTO kehoach_manifest (id, content_version, body) VALUES (1, 1, %s) ON CONFLICT (id) DO UPDATE "
            "SET content_version = kehoach_manifest.content_version + 1, body = EXCLUDED.body, written_at = now() "
            "RETURNING content_version", (Jsonb(bundle.manifest),)).fetchone()
        atomic.checkpoint("pg-before-commit")
        check = self._read(conn)
        if validate is not None:
            validate(check)
        bundle.content_version = str(row[0])
        self._cache = None


def _version_in(conn: psycopg.Connection) -> str | None:
    row = conn.execute("SELECT content_version FROM kehoach_manifest WHERE id = 1").fetchone()
    return None if row is None else str(row[0])


# ---- rows ---------------------------------------------------------------------------------------------
def _insert_plans(conn: psycopg.Connection, b: IndexBundle, doc_ids: list[str], doc_ord: int, chunk_ord: int
                  ) -> None:
    """``doc_ids`` of ``b`` (with their chunks, vectors, facts, restorations) appended from the given ords."""
    wanted = set(doc_ids)
    facts = b.facts if b.facts is not None and set(b.facts) >= set(b.documents) else None
    with conn.cursor() as cur:
        with cur.copy("COPY kehoach_documents (doc_id, ord, body) FROM STDIN") as cp:
            for i, doc_id in enumerate(doc_ids):
                cp.write_row((doc_id, doc_ord + i, json.dumps(b.documents[doc_id].to_json(), ensure_ascii=False)))
        rows = [i for i, c in enumerate(b.chunks) if c.doc_id in wanted]
        with cur.copy("COPY kehoach_chunks (chunk_id, ord, doc_id, body, embedding) FROM STDIN") as cp:
            for n, i in enumerate(rows):
                c = b.chunks[i]
                cp.write_row((c.chunk_id, chunk_ord + n, c.doc_id, json.dumps(c.to_json(), ensure_ascii=False),
                              b.vectors[i]))
        if facts is not None:
            cur.executemany("INSERT INTO kehoach_facts (doc_id, body) VALUES (%s, %s)",
                            [(d, Jsonb(facts_json(facts, d))) for d in doc_ids])
        _insert_restorations(cur, b, [d for d in doc_ids if b.restorations and d in b.restorations])


def _insert_restorations(cur: psycopg.Cursor, b: IndexBundle, doc_ids: list[str]) -> None:
    cur.executemany("INSERT INTO kehoach_restorations (doc_id, body) VALUES (%s, %s)",
                    [(d, Jsonb(b.restorations[d].to_json(d))) for d in doc_ids])


def _apply_delta(conn: psycopg.Connection, before: IndexBundle, res: UpdateResult) -> None:
    """Rows of the removed and changed plans deleted, the added and changed ones appended after the last ord."""
    out, new_ids = res.bundle, res.added + res.changed
    conn.execute("DELETE FROM kehoach_documents WHERE doc_id = ANY(%s)", (res.removed + res.changed,))
    doc_ord, chunk_ord = conn.execute("SELECT (SELECT coalesce(max(ord), -1) + 1 FROM kehoach_documents), "
                                      "(SELECT coalesce(max(ord), -1) + 1 FROM kehoach_chunks)").fetchone()
    kept = [d for d in out.documents if d not in set(new_ids)]
    if out.facts is None or not set(out.facts) >= set(out.documents):
        conn.execute("DELETE FROM kehoach_facts")  # facts for some plans only: store none (like the directory)
    if before.restorations is None and out.restorations is not None:  # restored anew for every plan
        conn.execute("DELETE FROM kehoach_restorations")
        with conn.cursor() as cur:
            _insert_restorations(cur, out, [d for d in kept if d in out.restorations])
    _insert_plans(conn, out, new_ids, doc_ord, chunk_ord)


def _write_blobs(conn: psycopg.Connection, b: IndexBundle) -> None:
    blobs = {"lexical.npz": _npz(data=b.lexical.weights.data, indices=b.lexical.weights.indices,
                                 indptr=b.lexical.weights.indptr, shape=np.asarray(b.lexical.weights.shape),
                                 idf=b.lexical.idf),
             "lexical_vocab.json": json.dumps(_terms(b.lexical), ensure_ascii=False).encode()}
    counts = b.lexical_counts if b.lexical_counts is not None else b.counts()
    blobs["lexical_counts.npz"] = _npz(counts=counts.counts, lengths=counts.lengths)
    if b.dense.kind != "flat":  # IVF / HNSW: kept as trained (a flat index is rebuilt exactly from the vectors)
        blobs["dense.faiss"] = faiss.serialize_index(b.dense.index).tobytes()
    conn.execute("DELETE FROM kehoach_blobs")
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO kehoach_blobs (name, data) VALUES (%s, %s)", list(blobs.items()))


def _npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _terms(lex: LexicalIndex) -> list[str]:
    out: list[str] = [""] * len(lex.vocab)
    for t, i in lex.vocab.items():
        out[i] = t
    return out


def _read_rows(conn: psycopg.Connection, manifest: dict, where: Path) -> IndexBundle:
    docs = {d: StoredDocument.from_json(body) for d, body in
            conn.execute("SELECT doc_id, body FROM kehoach_documents ORDER BY ord")}
    with conn.cursor(binary=True) as cur:
        rows = cur.execute("SELECT body, embedding FROM kehoach_chunks ORDER BY ord").fetchall()
    dim = int(manifest["embedding"]["dim"])
    chunks = [Chunk.from_json(body) for body, _ in rows]
    vectors = np.zeros((len(rows), dim), dtype=np.float32)
    for i, (_, vec) in enumerate(rows):
        if vec.dimensions() != dim:
            raise IndexError_(f"chunk {chunks[i].chunk_id} in {where} has a {vec.dimensions()}-dim embedding, the "
                              f"manifest says {dim}; {FIX}")
        vectors[i] = vec.to_numpy()
    blobs = {name: bytes(data) for name, data in conn.execute("SELECT name, data FROM kehoach_blobs")}
    lexical, counts = _lexical(blobs, where)
    return IndexBundle(where, manifest, docs, chunks, vectors, _dense(blobs, vectors, manifest), lexical, counts,
                       _facts(conn, manifest, docs), _restorations(conn, manifest, docs))


def _lexical(blobs: dict[str, bytes], where: Path) -> tuple[LexicalIndex, LexicalCounts | None]:
    missing = [n for n in ("lexical.npz", "lexical_vocab.json") if n not in blobs]
    if missing:
        raise IndexError_(f"the index in {where} is incomplete (missing {', '.join(missing)}); {FIX}")
    with np.load(io.BytesIO(blobs["lexical.npz"]), allow_pickle=False) as z:
        shape = tuple(int(x) for x in z["shape"])
        weights = sparse.csc_matrix((z["data"], z["indices"], z["indptr"]), shape=shape)
        idf = z["idf"]
    terms = json.loads(blobs["lexical_vocab.json"].decode("utf-8"))
    if len(terms) != shape[1]:
        raise IndexError_(f"lexical vocabulary ({len(terms)}) does not match the matrix ({shape[1]}) in {where}; {FIX}")
    counts = None
    if "lexical_counts.npz" in blobs:
        with np.load(io.BytesIO(blobs["lexical_counts.npz"]), allow_pickle=False) as z:
            counts = LexicalCounts(z["counts"], z["lengths"])
    return LexicalIndex({t: i for i, t in enumerate(terms)}, weights, idf), counts


def _dense(blobs: dict[str, bytes], vectors: np.ndarray, manifest: dict) -> DenseIndex:
    if "dense.faiss" in blobs:
        return DenseIndex(faiss.deserialize_index(np.frombuffer(blobs["dense.faiss"], dtype=np.uint8)))
    return DenseIndex.build(vectors, DenseSettings(kind="flat"))


def _facts(conn: psycopg.Connection, manifest: dict, docs: dict) -> dict | None:
    if not facts_current(manifest):
        return None
    rows = dict(conn.execute("SELECT doc_id, body FROM kehoach_facts"))
    if not rows or set(rows) < set(docs):
        return None
    return {d: facts_from_json(rows[d]) for d in docs}


def _restorations(conn: psycopg.Connection, manifest: dict, docs: dict) -> dict | None:
    info = manifest.get("restorer") or {}
    if not info or info.get("model_sha256") != restorer_info()["model_sha256"]:
        return None
    rows = conn.execute("SELECT r.doc_id, r.body FROM kehoach_restorations r JOIN kehoach_documents d USING (doc_id) "
                        "ORDER BY d.ord").fetchall()
    return {d: DocRestoration.from_json(body, docs[d].text) for d, body in rows if d in docs}
