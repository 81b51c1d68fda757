"""The scale run: ~200,000 chunks of synthetic plans, FAISS types compared, incremental updates timed.

Embedding 200k distinct chunk texts with e5-small on 2 CPU cores takes hours, so vectors are made as follows
(and the report says so):

* the real corpus is embedded for real (through the content-hash cache);
* a random sample of ``real_embed`` synthetic chunk texts is embedded for real; these rows keep their true
  vectors, and they calibrate the rest;
* every other synthetic chunk gets the vector of the real chunk its text was copied from (the generator records
  provenance) plus Gaussian noise, renormalised, with the noise set so that the median cosine to the source
  matches what the real sample shows.

Search cost, memory, recall of the approximate index against flat, lexical speed, ``Retriever.ask`` latency and
incremental-update time are measured on that index; the retriever runs in a fresh process (``bench.probe``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.settings import Settings
from bench import DEFAULT_GOLD, REPO_ROOT
from bench.harness import load_questions
from bench.measure import dir_size, machine, peak_rss_mb, ratio
from bench.synthetic import SyntheticPlan, commune_names, generate_plan, load_templates, synthetic_corpus
from evals.timing import latency_stats, time_calls
from index.dense import DenseIndex, DenseSettings
from index.embed_cache import CachedEncoder, EmbeddingCache
from index.encoder import Encoder
from index.lexical import LexicalIndex
from index.store import build_index, embed_texts, index_text, update_index
from ingest.chunking import ChunkSettings, chunk_document
from ingest.pipeline import ingest_paths, load_document
from ingest.records import Chunk, Document

log = logging.getLogger("bench.scale")


@dataclass
class ScaleConfig:
    target_chunks: int = 200_000
    seed: int = 0
    work_dir: Path = REPO_ROOT / "var" / "bench" / "scale"
    cache_dir: Path = REPO_ROOT / ".cache" / "embeddings"
    corpus_dir: Path = REPO_ROOT / "corpus"
    questions_file: Path = DEFAULT_GOLD
    real_embed: int = 2000
    kinds: tuple[str, ...] = ("flat", "ivf", "hnsw")
    nprobes: tuple[int, ...] = (32, 64, 128, 256, 512)
    ef_searches: tuple[int, ...] = (128, 512, 1024, 2048)
    embed_probe: int = 64  # synthetic texts embedded by the bare model to measure its throughput in this run
    ask_questions: int = 179
    ask_budget_s: float = 400.0
    profile_questions: int = 40

    def to_json(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}


def run_scale(cfg: ScaleConfig, settings: Settings | None = None, encoder: Encoder | None = None) -> dict[str, Any]:
    settings = settings or Settings()
    t_all = time.perf_counter()
    res: dict[str, Any] = {"kind": "scale", "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                           "machine": machine(), "config": cfg.to_json()}
    if encoder is None:
        from app.runtime import load_encoder

        encoder = load_encoder(settings)
    cached = CachedEncoder(encoder, EmbeddingCache(encoder.name, encoder.dim, cfg.cache_dir))
    cfg.work_dir.mkdir(parents=True, exist_ok=True)
    questions = load_questions(cfg.questions_file)
    cs = ChunkSettings()

    real_vecs, real_rows, real_lex = _real_corpus(cfg, cached, cs)
    docs, chunks, base, gen = _synthetic(cfg, cs, real_rows)
    res["generate"] = gen
    texts = [index_text(d.meta, c) for d, c in _with_docs(docs, chunks)]
    res["distinct"] = _distinct(texts, chunks)
    vectors, res["vectors"] = _vectors(cfg, cached, texts, real_vecs, base)
    res["embedding"] = _embed_rate(encoder, texts, cfg)
    del base
    res["build"], index_dir = _build(cfg, docs, chunks, encoder, cs, vectors)
    res["rss_after_build_mb"] = peak_rss_mb()
    qvecs = encoder.encode_queries(questions)
    res["dense"] = _dense_section(cfg, vectors, qvecs)
    res["lexical"] = _lexical_section(index_dir, real_lex, questions)
    res["size"] = dir_size(index_dir)
    del vectors, docs, chunks, texts
    res["probe"] = _probe(cfg, index_dir)
    res["incremental"] = _incremental(cfg, index_dir, encoder, cs, res)
    res["peak_rss_mb"] = peak_rss_mb()
    res["seconds"] = round(time.perf_counter() - t_all, 1)
    return res


# ---- corpus and vectors ---------------------------------------------------------------------------
def _with_docs(docs: list[Document], chunks: list[Chunk]):
    by_id = {d.doc_id: d for d in docs}
    return ((by_id[c.doc_id], c) for c in chunks)


def _real_corpus(cfg: ScaleConfig, cached: CachedEncoder, cs: ChunkSettings
                 ) -> tuple[np.ndarray, dict[str, tuple[list[int], list[int]]], LexicalIndex]:
    docs, chunks = ingest_paths([cfg.corpus_dir], cs, progress=False)
    texts = [index_text(d.meta, c) for d, c in _with_docs(docs, chunks)]
    vecs = embed_texts(texts, cached, progress=True)
    rows: dict[str, tuple[list[int], list[int]]] = {}
    for i, c in enumerate(chunks):
        starts, idx = rows.setdefault(c.doc_id, ([], []))
        starts.append(c.start)
        idx.append(i)
    return vecs, rows, LexicalIndex.build(texts)


def _source_row(plan: SyntheticPlan, chunk: Chunk, real_rows: dict[str, tuple[list[int], list[int]]]) -> int:
    import bisect

    src, off = plan.source_of((chunk.start + chunk.end) // 2)
    starts, idx = real_rows[src]
    return idx[max(0, bisect.bisect_right(starts, off) - 1)]


def _synthetic(cfg: ScaleConfig, cs: ChunkSettings, real_rows: dict[str, tuple[list[int], list[int]]]
               ) -> tuple[list[Document], list[Chunk], np.ndarray, dict[str, Any]]:
    plans_dir = cfg.work_dir / "plans"
    shutil.rmtree(plans_dir, ignore_errors=True)
    docs: list[Document] = []
    chunks: list[Chunk] = []
    base: list[int] = []
    t0 = time.perf_counter()
    for plan, doc, doc_chunks in synthetic_corpus(plans_dir, target_chunks=cfg.target_chunks, seed=cfg.seed,
                                                  corpus_dir=cfg.corpus_dir, settings=cs):
        docs.append(doc)
        chunks.extend(doc_chunks)
        base.extend(_source_row(plan, c, real_rows) for c in doc_chunks)
    secs = time.perf_counter() - t0
    gen = {"plans": len(docs), "chunks": len(chunks), "seconds": round(secs, 1),
           "plans_per_s": round(len(docs) / secs, 1), "chunks_per_plan": round(len(chunks) / len(docs), 1),
           "chars": sum(len(d.text) for d in docs), "ocr_plans": sum(d.meta.ocr for d in docs),
           "localities": len({d.meta.locality for d in docs})}
    log.info("synthetic corpus", extra=gen)
    return docs, chunks, np.asarray(base, dtype=np.int64), gen


def _distinct(texts: list[str], chunks: list[Chunk]) -> dict[str, int]:
    keys = {hashlib.sha256(t.encode()).digest() for t in texts}
    return {"chunk_texts": len(texts), "distinct_index_texts": len(keys),
            "distinct_passages": len({c.text for c in chunks})}


def _vectors(cfg: ScaleConfig, cached: CachedEncoder, texts: list[str], real_vecs: np.ndarray, base: np.ndarray
             ) -> tuple[np.ndarray, dict[str, Any]]:
    rng = np.random.default_rng(cfg.seed)
    n, dim = len(texts), real_vecs.shape[1]
    sample = np.sort(rng.choice(n, min(cfg.real_embed, n), replace=False))
    before = dict(cached.stats.to_json())
    t0 = time.perf_counter()
    true = embed_texts([texts[i] for i in sample], cached, progress=True)
    secs = time.perf_counter() - t0
    embedded = cached.stats.embedded - before["embedded"]
    cos = np.sum(true * real_vecs[base[sample]], axis=1)
    c_med = float(np.median(cos))
    sigma = math.sqrt(max(1 / c_med**2 - 1, 0.0) / dim)
    out = np.empty((n, dim), dtype=np.float32)
    for a in range(0, n, 50_000):
        block = real_vecs[base[a: a + 50_000]] + rng.normal(0, sigma, (min(50_000, n - a), dim)).astype(np.float32)
        out[a: a + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    perturbed_cos = float(np.median(np.sum(out[:5000] * real_vecs[base[:5000]], axis=1)))
    out[sample] = true
    info = {"method": "real sample + perturbed real vectors", "real_sample": int(len(sample)),
            "embedded_this_run": int(embedded), "cache_hits_this_run": int(len(sample) - embedded),
            "embed_seconds": round(secs, 1), "texts_per_s": round(embedded / secs, 2) if embedded else None,
            "median_cos_true_vs_source": round(c_med, 4),
            "p10_cos_true_vs_source": round(float(np.percentile(cos, 10)), 4),
            "noise_sigma": round(sigma, 5), "median_cos_perturbed_vs_source": round(perturbed_cos, 4)}
    log.info("vectors", extra=info)
    return out, info


def _embed_rate(encoder: Encoder, texts: list[str], cfg: ScaleConfig) -> dict[str, Any]:
    """Throughput of the bare model on synthetic chunk texts (no cache), measured in this run."""
    rng = np.random.default_rng(cfg.seed + 1)
    sample = [texts[i] for i in rng.choice(len(texts), min(cfg.embed_probe, len(texts)), replace=False)]
    encoder.encode_documents(sample[:2])
    t0 = time.perf_counter()
    encoder.encode_documents(sample, batch_size=32)
    secs = time.perf_counter() - t0
    return {"texts": len(sample), "seconds": round(secs, 2), "texts_per_s": round(len(sample) / secs, 2)}


def _build(cfg: ScaleConfig, docs: list[Document], chunks: list[Chunk], encoder: Encoder, cs: ChunkSettings,
           vectors: np.ndarray) -> tuple[dict[str, Any], Path]:
    index_dir = cfg.work_dir / "index"
    t0 = time.perf_counter()
    bundle = build_index(docs, chunks, encoder, index_dir, cs, progress=True, vectors=vectors)
    secs = time.perf_counter() - t0
    info = {"seconds": round(secs, 1), "faiss": bundle.manifest["faiss"], "chunks": len(chunks),
            "lexical_terms": len(bundle.lexical.vocab), "lexical_nnz": int(bundle.lexical.weights.nnz),
            "facts": bundle.manifest.get("facts")}
    return info, index_dir


# ---- dense: flat vs IVF vs HNSW -------------------------------------------------------------------
def _recall(truth: np.ndarray, got: np.ndarray) -> float:
    return float(np.mean([len(set(t) & set(g[g >= 0])) / len(t) for t, g in zip(truth, got, strict=True)]))


def _recall_ties(vectors: np.ndarray, qvecs: np.ndarray, kth: np.ndarray, got: np.ndarray, k: int = 10,
                 eps: float = 1e-3) -> float:
    """Recall counting a returned row whose exact score is within ``eps`` of the k-th best (ann-benchmarks'
    convention): among near-duplicate passages the exact top 10 is decided by noise."""
    out = []
    for q, s_k, g in zip(qvecs, kth, got, strict=True):
        g = g[g >= 0]
        out.append(min(k, int(np.sum(vectors[g] @ q >= s_k - eps))) / k)
    return float(np.mean(out))


def _search_all(index: DenseIndex, qvecs: np.ndarray, k: int = 10) -> tuple[np.ndarray, list[float]]:
    rows, secs = [], []
    for q in qvecs:
        t0 = time.perf_counter()
        _, r = index.index.search(q[None, :], k)
        secs.append(time.perf_counter() - t0)
        rows.append(r[0])
    return np.asarray(rows), secs


def _dense_section(cfg: ScaleConfig, vectors: np.ndarray, qvecs: np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {"queries": len(qvecs), "k": 10}
    t0 = time.perf_counter()
    flat = DenseIndex.build(vectors, DenseSettings(kind="flat"))
    build_s = round(time.perf_counter() - t0, 1)
    _search_all(flat, qvecs[:5])
    truth, secs = _search_all(flat, qvecs)
    kth = np.asarray([vectors[t[-1]] @ q for t, q in zip(truth, qvecs, strict=True)])
    out["flat"] = {"build_s": build_s, "params": flat.params, **latency_stats(secs), "recall_at_10": 1.0}
    flat_p50 = out["flat"]["p50_ms"]
    del flat
    for kind in cfg.kinds:
        if kind == "flat":
            continue
        t0 = time.perf_counter()
        idx = DenseIndex.build(vectors, DenseSettings(kind=kind), progress=True)
        entry: dict[str, Any] = {"build_s": round(time.perf_counter() - t0, 1), "params": idx.params, "sweep": []}
        grid = cfg.nprobes if kind == "ivf" else cfg.ef_searches
        for value in grid:
            idx.set_search_params(nprobe=value, ef_search=value)
            _search_all(idx, qvecs[:5])
            got, secs = _search_all(idx, qvecs)
            entry["sweep"].append({"nprobe" if kind == "ivf" else "efSearch": value, **latency_stats(secs),
                                   "recall_at_10": round(_recall(truth, got), 4),
                                   "recall_at_10_ties": round(_recall_ties(vectors, qvecs, kth, got), 4),
                                   "speedup_vs_flat_p50": ratio(flat_p50, latency_stats(secs)["p50_ms"])})
        out[kind] = entry
        log.info("dense kind", extra={"kind": kind, "build_s": entry["build_s"]})
        del idx
    return out


# ---- lexical --------------------------------------------------------------------------------------
def _lexical_section(index_dir: Path, real_lex: LexicalIndex, questions: list[str]) -> dict[str, Any]:
    big = LexicalIndex.load(index_dir)

    def top(lex: LexicalIndex, q: str) -> None:
        s = lex.scores(q)
        rows = np.flatnonzero(s > 0)
        if len(rows) > 50:
            np.argpartition(-s[rows], 49)

    small = latency_stats(time_calls(lambda q: top(real_lex, q), questions))
    large = latency_stats(time_calls(lambda q: top(big, q), questions))
    return {"real_corpus": small, "scale": large, "n_terms": len(big.vocab), "nnz": int(big.weights.nnz),
            "slowdown_p50": ratio(large["p50_ms"], small["p50_ms"])}


def reprobe(cfg: ScaleConfig, previous: dict[str, Any]) -> dict[str, Any]:
    """Measure the retriever again on the index a previous scale run left in ``cfg.work_dir`` (after a change
    to ``retriever/``): only the ``probe`` section is replaced, and the result says so."""
    index_dir = cfg.work_dir / "index"
    if not (index_dir / "manifest.json").exists():
        raise FileNotFoundError(f"no scale index in {index_dir}; run `kehoach-bench --scale` first")
    res = dict(previous)
    res["probe"] = _probe(cfg, index_dir)
    res["probe"]["remeasured"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    res["probe"]["machine"] = machine()
    return res


# ---- retriever in a fresh process -----------------------------------------------------------------
def _probe(cfg: ScaleConfig, index_dir: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.probe", "--index-dir", str(index_dir), "--questions",
           str(cfg.questions_file), "--n", str(cfg.ask_questions), "--budget", str(cfg.ask_budget_s),
           "--profile", str(cfg.profile_questions), "--t-start", str(time.time())]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, timeout=3600)
    if done.returncode != 0:
        log.error("probe failed", extra={"stderr": done.stderr[-2000:]})
        return {"error": done.stderr[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- incremental ----------------------------------------------------------------------------------
def _incremental(cfg: ScaleConfig, index_dir: Path, encoder: Encoder, cs: ChunkSettings, res: dict[str, Any]
                 ) -> dict[str, Any]:
    """Add a new plan, change one, remove one; each re-embeds with a fresh in-memory cache (true model cost)."""
    plans_dir = cfg.work_dir / "plans"
    templates = load_templates(cfg.corpus_dir)
    n_plans = res["generate"]["plans"]
    new = generate_plan(n_plans, templates, cfg.seed, commune_names(seed=cfg.seed))
    path = plans_dir / new.source_file
    path.write_text(new.text, "utf-8")
    out: dict[str, Any] = {}
    doc = load_document(path)
    out["add"] = update_index(index_dir, [(doc, chunk_document(doc, cs))], [], encoder).to_json()
    victim = plans_dir / f"syn{n_plans // 3:06d}.txt"
    text = victim.read_text("utf-8")
    cut = text.find("\n", len(text) // 2)
    changed_text = text[:cut] + " Bổ sung: rà soát, báo cáo kết quả thực hiện hằng quý." + text[cut:]
    victim.write_text(changed_text, "utf-8")
    vdoc = load_document(victim)
    out["change"] = update_index(index_dir, [(vdoc, chunk_document(vdoc, cs))], [], encoder).to_json()
    out["remove"] = update_index(index_dir, [], [f"syn{n_plans // 2:06d}"], encoder).to_json()
    tps = res["embedding"]["texts_per_s"]
    distinct = res["distinct"]["distinct_index_texts"]
    if tps:
        rebuild = distinct / tps + res["build"]["seconds"]
        out["full_rebuild_estimate_s"] = round(rebuild, 0)
        out["add_vs_rebuild"] = ratio(out["add"]["seconds"]["total"], rebuild, 5)
    for k in ("add", "change", "remove"):
        log.info("incremental", extra={"op": k, **out[k]["seconds"], "embedded": out[k]["embedded"]})
    return out
