"""One benchmark run: the project and its baselines measured side by side on the same machine, same model.

Measured: ingest + index throughput, embedding throughput on its own, warm question latency through the library
(``Retriever.ask``), the HTTP API under load at several concurrency levels, index size on disk, peak memory and
cold start (process start → first answer).  Baselines: BM25-only (the project's ``LexicalIndex`` alone) and the
default dense pipeline (langchain 1000/200 + same model + FAISS flat, top passage).  Ratios are computed in the
same run, so a busy machine slows both sides alike.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from app.settings import Settings
from bench import DEFAULT_GOLD, REPO_ROOT
from bench.baselines import BM25Only, DefaultDense
from bench.http_load import load_test, start_process_server, start_thread_server, wait_first_answer
from bench.measure import dir_size, machine, peak_rss_mb, ratio
from evals.timing import latency_stats, time_calls, timed
from index.encoder import Encoder
from index.store import build_index, index_text, load_index
from ingest.chunking import ChunkSettings
from ingest.pipeline import ingest_paths
from ingest.reader import discover

log = logging.getLogger("bench")


@dataclass
class BenchConfig:
    corpus_dir: Path = REPO_ROOT / "corpus"
    questions_file: Path = DEFAULT_GOLD
    work_dir: Path | None = None  # where indexes are built (default: a temporary folder)
    smoke: bool = False
    max_plans: int | None = None
    max_chunks: int | None = None  # index only the first chunks (and as many default-pipeline passages)
    n_questions: int = 179
    latency_budget_s: float = 180.0  # per system
    embed_sample: int = 64
    http: bool = True
    http_mode: str = "process"  # "process" (kehoach serve) or "thread" (in-process uvicorn)
    http_levels: tuple[int, ...] = (1, 8, 32, 50)  # 50: the app issue's concurrent-users check
    http_requests: int = 240  # per level, at most
    http_seconds: float = 40.0  # per level, at most
    cold_start_cli: bool = True
    # also measure the other torch thread setting: the library call limited to one thread, and a second
    # `kehoach serve` with torch's own choice (KEHOACH_TORCH_THREADS=0, a thread per core) beside the served
    # default of one thread: with N threads per request and several requests in flight on N cores, torch's
    # OpenMP workers oversubscribe the cores
    one_thread_variant: bool = True
    extra_questions: list[str] = field(default_factory=list)

    @classmethod
    def smoke_config(cls, **overrides: Any) -> BenchConfig:
        """A tiny run for CI: one plan, a dozen questions, in-process HTTP, no CLI cold start."""
        base = cls(smoke=True, max_plans=1, max_chunks=12, n_questions=8, latency_budget_s=10.0, embed_sample=8,
                   http_mode="thread", http_levels=(1, 8), http_requests=16, http_seconds=8.0,
                   cold_start_cli=False, one_thread_variant=False)
        return replace(base, **overrides)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in d.items() if k != "extra_questions"}


def load_questions(path: Path) -> list[str]:
    """The ``question`` field of each JSONL line (the gold set by default)."""
    out = []
    for line in Path(path).read_text("utf-8").splitlines():
        if line.strip():
            q = json.loads(line).get("question")
            if isinstance(q, str) and q.strip():
                out.append(q)
    if not out:
        raise ValueError(f"{path}: no questions")
    return out


def _server_env(settings: Settings) -> dict[str, str]:
    env = {"KEHOACH_MODEL_CACHE": str(Path(settings.model_cache).resolve()), "KEHOACH_FUSION": settings.fusion}
    if settings.model:
        env["KEHOACH_MODEL"] = settings.model
    return env


def run_bench(cfg: BenchConfig, settings: Settings | None = None, encoder: Encoder | None = None) -> dict[str, Any]:
    """Run every measurement of ``cfg``; returns the result object (see ``bench/report.py`` for its table)."""
    settings = settings or Settings()
    t_all = time.perf_counter()
    res: dict[str, Any] = {"kind": "bench", "smoke": cfg.smoke, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                        time.gmtime()),
                           "machine": machine(), "config": cfg.to_json()}
    with tempfile.TemporaryDirectory(prefix="kehoach-bench-", dir=cfg.work_dir) as tmp:
        work = Path(tmp)
        model: dict[str, Any] = {}
        if encoder is None:
            from app.runtime import load_encoder

            with timed(model, "load_s"):
                encoder = load_encoder(settings)
        model.update(name=encoder.name, dim=encoder.dim)
        res["model"] = model
        files = discover([cfg.corpus_dir])[: cfg.max_plans]
        questions = (cfg.extra_questions + load_questions(cfg.questions_file))[: cfg.n_questions]
        index_dir = work / "index"
        log.info("bench: ingest and index", extra={"plans": len(files)})
        ingest, texts, bm25, dense = _ingest_section(files, encoder, index_dir, cfg.max_chunks)
        res["corpus"] = {"dir": str(cfg.corpus_dir), "plans": len(files), "chunks": ingest["ours"]["chunks"],
                         "questions": len(questions)}
        res["ingest"] = ingest
        log.info("bench: embedding throughput")
        res["embedding"] = _embedding_section(encoder, texts[: cfg.embed_sample], questions)
        res["index_size"] = _size_section(index_dir, bm25, dense, work)
        log.info("bench: library latency", extra={"questions": len(questions)})
        retriever, res["latency"] = _latency_section(index_dir, encoder, settings, questions, bm25, dense, cfg)
        if cfg.http:
            log.info("bench: http", extra={"mode": cfg.http_mode, "levels": list(cfg.http_levels)})
            res["http"] = _http_section(cfg, settings, index_dir, retriever, questions)
        if cfg.cold_start_cli:
            log.info("bench: cold start (CLI)")
            res["cold_start_cli"] = _cli_cold_start(index_dir, settings, questions[0])
        res["memory"] = {"bench_process_peak_rss_mb": peak_rss_mb(),
                         "children_peak_rss_mb": peak_rss_mb(children=True),
                         "server_peak_rss_mb": (res.get("http") or {}).get("server_peak_rss_mb")}
    res["seconds"] = round(time.perf_counter() - t_all, 1)
    return res


# ---- sections ------------------------------------------------------------------------------------
def _ingest_section(files: list[Path], encoder: Encoder, index_dir: Path, max_chunks: int | None
                    ) -> tuple[dict[str, Any], list[str], BM25Only, DefaultDense]:
    cs = ChunkSettings()
    ours: dict[str, Any] = {}
    with timed(ours, "parse_s"):
        docs, chunks = ingest_paths(files, cs, progress=False)
    if max_chunks:
        chunks = chunks[:max_chunks]
        docs = [d for d in docs if any(c.doc_id == d.doc_id for c in chunks)]
    with timed(ours, "index_s"):
        bundle = build_index(docs, chunks, encoder, index_dir, cs, progress=False)
    ours["embed_s"] = bundle.manifest["build"].get("embed_seconds")
    ours["total_s"] = round(ours["parse_s"] + ours["index_s"], 3)
    ours["chunks"] = len(chunks)
    ours["chunks_per_s"] = round(len(chunks) / ours["total_s"], 2)
    texts = [index_text(bundle.documents[c.doc_id].meta, c) for c in chunks]
    bm25 = BM25Only.build(texts)
    bm = {"parse_s": ours["parse_s"], "index_s": bm25.timings["index_s"], "chunks": len(texts)}
    bm["total_s"] = round(bm["parse_s"] + bm["index_s"], 3)
    bm["chunks_per_s"] = round(len(texts) / bm["total_s"], 2)
    dense = DefaultDense.build(files, encoder, max_passages=max_chunks)
    dd = {**dense.timings, "chunks": len(dense.passages)}
    dd["total_s"] = round(sum(dense.timings.values()), 3)
    dd["chunks_per_s"] = round(len(dense.passages) / dd["total_s"], 2)
    ratios = {"ours_vs_dense_seconds": ratio(ours["total_s"], dd["total_s"]),
              "ours_vs_dense_chunks_per_s": ratio(ours["chunks_per_s"], dd["chunks_per_s"]),
              "ours_vs_bm25_seconds": ratio(ours["total_s"], bm["total_s"]),
              "embed_share_of_ours": ratio(ours["embed_s"], ours["total_s"])}
    return {"ours": ours, "bm25_only": bm, "dense_default": dd, "ratios": ratios}, texts, bm25, dense


def _embedding_section(encoder: Encoder, sample: list[str], questions: list[str]) -> dict[str, Any]:
    encoder.encode_documents(sample[:2])  # warm
    t0 = time.perf_counter()
    encoder.encode_documents(sample, batch_size=32)
    secs = time.perf_counter() - t0
    q = time_calls(lambda x: encoder.encode_queries([x]), questions[:40], warmup=2)
    chars = sum(len(s) for s in sample)
    return {"texts": len(sample), "mean_chars": round(chars / max(len(sample), 1)), "seconds": round(secs, 3),
            "texts_per_s": round(len(sample) / secs, 2), "query_encode": latency_stats(q)}


def _size_section(index_dir: Path, bm25: BM25Only, dense: DefaultDense, work: Path) -> dict[str, Any]:
    bdir = work / "bm25"
    bdir.mkdir()
    bm25.save(bdir)
    ddir = work / "dense"
    ddir.mkdir()
    dense.save(ddir / "dense.faiss")
    (ddir / "passages.jsonl").write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in dense.passages),
                                         "utf-8")
    ours, b, d = dir_size(index_dir), dir_size(bdir), dir_size(ddir)
    return {"ours": ours, "bm25_only": b, "dense_default": d,
            "ratios": {"ours_vs_dense": ratio(ours["bytes"], d["bytes"]),
                       "ours_vs_bm25": ratio(ours["bytes"], b["bytes"])}}


def _latency_section(index_dir: Path, encoder: Encoder, settings: Settings, questions: list[str], bm25: BM25Only,
                     dense: DefaultDense, cfg: BenchConfig) -> tuple[Any, dict[str, Any]]:
    from retriever.search import HybridSettings
    from retriever.service import Retriever

    load: dict[str, float] = {}
    with timed(load, "load_index_s"):
        bundle = load_index(index_dir)
    with timed(load, "retriever_init_s"):
        r = Retriever(bundle, encoder, HybridSettings(fusion=settings.fusion))
    with timed(load, "first_answer_s"):
        r.ask(questions[0])
    ours = latency_stats(time_calls(r.ask, questions, warmup=3, budget_s=cfg.latency_budget_s))
    one = _one_thread(lambda: latency_stats(time_calls(r.ask, questions, warmup=3, budget_s=cfg.latency_budget_s))
                      ) if cfg.one_thread_variant else None
    bm = latency_stats(time_calls(lambda q: bm25.search(q, 10), questions, warmup=3, budget_s=cfg.latency_budget_s))
    dd = latency_stats(time_calls(dense.ask, questions, warmup=3, budget_s=cfg.latency_budget_s))
    return r, {"warm": True, "ours": ours, "ours_one_thread": one, "bm25_only": bm, "dense_default": dd, "load": load,
               "ratios": {"ours_vs_dense_p50": ratio(ours["p50_ms"], dd["p50_ms"]),
                          "ours_vs_dense_p95": ratio(ours["p95_ms"], dd["p95_ms"]),
                          "ours_vs_bm25_p50": ratio(ours["p50_ms"], bm["p50_ms"])}}


def _one_thread(fn: Any) -> Any:
    """``fn()`` with torch's intra-op threads set to 1, restored afterwards."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fn()
    finally:
        torch.set_num_threads(before)


def _http_section(cfg: BenchConfig, settings: Settings, index_dir: Path, retriever: Any, questions: list[str]
                  ) -> dict[str, Any]:
    out = _http_run(cfg, settings, index_dir, retriever, questions, None)
    if cfg.one_thread_variant and cfg.http_mode == "process":
        log.info("bench: http with torch's default threads (KEHOACH_TORCH_THREADS=0)")
        out["torch_default_threads"] = _http_run(cfg, settings, index_dir, retriever, questions, 0)
    return out


def _http_run(cfg: BenchConfig, settings: Settings, index_dir: Path, retriever: Any, questions: list[str],
              threads: int | None) -> dict[str, Any]:
    if cfg.http_mode == "process":
        env = _server_env(settings)
        if threads is not None:
            env["KEHOACH_TORCH_THREADS"] = str(threads)
        server = start_process_server(index_dir, env)
    else:
        server = start_thread_server(retriever, settings.model_copy(update={"index_dir": index_dir}))
    try:
        first = wait_first_answer(server, questions[0])
        levels = load_test(server.url, questions, cfg.http_levels, cfg.http_requests, cfg.http_seconds)
        mem = server.memory()
    finally:
        server.stop()
    return {"mode": cfg.http_mode, "cold_start_first_answer_s": first if cfg.http_mode == "process" else None,
            "levels": levels, "server_peak_rss_mb": mem["peak_rss_mb"]}


def _cli_cold_start(index_dir: Path, settings: Settings, question: str) -> dict[str, Any]:
    """``kehoach ask`` from process start to the printed answer (model and index loaded from disk)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **_server_env(settings)}
    cmd = [sys.executable, "-m", "app.cli", "ask", question, "--index-dir", str(index_dir), "--json"]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO_ROOT, timeout=600)
    secs = time.perf_counter() - t0
    ok = done.returncode == 0 and '"answer"' in done.stdout
    return {"seconds": round(secs, 3), "ok": ok, "children_peak_rss_mb": peak_rss_mb(children=True)}
