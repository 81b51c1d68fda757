"""The PostgreSQL schema of an index, as ordered, versioned migrations (``schema_migrations`` records each).

Tables (all prefixed ``kehoach_`` so the index can share a database):

- ``kehoach_manifest``   one row: the manifest (JSON) and ``content_version``, bumped by every write;
- ``kehoach_documents``  one row per plan in index order (``ord``): the stored document as JSON;
- ``kehoach_chunks``     one row per chunk in index order (``ord``): the chunk as JSON and its embedding
                         (``vector``, cast to the model's dimension by the HNSW index made at first write);
- ``kehoach_facts``, ``kehoach_restorations``  one row per plan (JSON), deleted with their plan;
- ``kehoach_blobs``      whole-index arrays kept as they are on disk: the BM25 matrix and vocabulary, the
                         term counts, the FAISS index when it is not flat (a flat one is rebuilt from vectors).

:func:`migrate` applies what is missing in one transaction under an advisory lock, so several servers
starting at once migrate once; it is idempotent.
"""

from __future__ import annotations

import logging

import psycopg

log = logging.getLogger("index.pg_schema")

LOCK_KEY = 727_072  # advisory lock of migrations and writes
MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "index tables", """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE kehoach_manifest (
    id int PRIMARY KEY CHECK (id = 1),
    content_version bigint NOT NULL,
    body jsonb NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE kehoach_documents (
    doc_id text PRIMARY KEY,
    ord bigint NOT NULL UNIQUE,
    body jsonb NOT NULL);
CREATE TABLE kehoach_chunks (
    chunk_id text PRIMARY KEY,
    ord bigint NOT NULL UNIQUE,
    doc_id text NOT NULL REFERENCES kehoach_documents (doc_id) ON DELETE CASCADE,
    body jsonb NOT NULL,
    embedding vector NOT NULL);
CREATE TABLE kehoach_facts (
    doc_id text PRIMARY KEY REFERENCES kehoach_documents (doc_id) ON DELETE CASCADE,
    body jsonb NOT NULL);
CREATE TABLE kehoach_restorations (
    doc_id text PRIMARY KEY REFERENCES kehoach_documents (doc_id) ON DELETE CASCADE,
    body jsonb NOT NULL);
CREATE TABLE kehoach_blobs (
    name text PRIMARY KEY,
    data bytea NOT NULL);
"""),
    (2, "chunks by plan", "CREATE INDEX kehoach_chunks_doc ON kehoach_chunks (doc_id);"),
]
LATEST = MIGRATIONS[-1][0]


class SchemaError(ValueError):
    """The database cannot hold an index: no pgvector, or a schema older or newer than this code."""


def has_vector(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone()
    return row is not None


def applied(conn: psycopg.Connection) -> list[int]:
    """The migration versions recorded in the database ([] before the first)."""
    if conn.execute("SELECT to_regclass('schema_migrations')").fetchone()[0] is None:
        return []
    return [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def migrate(conn: psycopg.Connection) -> list[int]:
    """Apply the missing migrations in order, in one transaction; returns the versions applied now."""
    if not has_vector(conn):
        raise SchemaError("the database server has no pgvector extension: install it (the `vector` extension, "
                          "0.5 or later) or use a managed PostgreSQL that offers it")
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text NOT NULL,"
                     " applied_at timestamptz NOT NULL DEFAULT now())")
        done = set(applied(conn))
        if done and max(done) > LATEST:
            raise SchemaError(f"the database schema is at version {max(done)}, newer than this code ({LATEST}): "
                              "upgrade kehoach-qa")
        now = []
        for number, name, sql in MIGRATIONS:
            if number in done:
                continue
            conn.execute(sql)
            conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (number, name))
            now.append(number)
    if now:
        log.info("migrated the index schema", extra={"applied": now, "version": LATEST})
    return now


def check_schema(conn: psycopg.Connection, where: str) -> None:
    """Raise :class:`SchemaError` naming the fix unless the schema is exactly the one this code reads."""
    done = applied(conn)
    if not done:
        raise SchemaError(f"no index schema in {where}: run `kehoach db migrate` (or `kehoach ingest`, which "
                          "migrates first)")
    if max(done) < LATEST:
        raise SchemaError(f"the index schema in {where} is at version {max(done)}, this code needs {LATEST}: "
                          "run `kehoach db migrate`")
    if max(done) > LATEST:
        raise SchemaError(f"the index schema in {where} is at version {max(done)}, newer than this code "
                          f"({LATEST}): upgrade kehoach-qa")


def ensure_dense_index(conn: psycopg.Connection, dim: int) -> None:
    """The HNSW index (inner product) of the chunks' embeddings at the model's dimension (made once)."""
    conn.execute(f"CREATE INDEX IF NOT EXISTS kehoach_chunks_hnsw_{int(dim)} ON kehoach_chunks "
                 f"USING hnsw ((embedding::vector({int(dim)})) vector_ip_ops)")
