"""Goals and the Markdown report (``docs/BENCHMARKS.md``) from benchmark result objects.

The section between ``<!-- analysis -->`` and ``<!-- /analysis -->`` of an existing report is written by hand
and kept when the report is regenerated.
"""

from __future__ import annotations

import re
from typing import Any

ANALYSIS_RE = re.compile(r"<!-- analysis -->.*?<!-- /analysis -->", re.DOTALL)
ADD_PLAN_SECONDS = 60.0  # "adding one plan takes seconds": we hold it to under a minute, all writes included


def _get(d: dict | None, *path: Any) -> Any:
    for p in path:
        if d is None:
            return None
        if isinstance(p, int):
            d = d[p] if isinstance(d, list) and len(d) > p else None
        else:
            d = d.get(p) if isinstance(d, dict) else None
    return d


def _level(bench: dict | None, c: int) -> dict | None:
    for lv in _get(bench, "http", "levels") or []:
        if lv["concurrency"] == c:
            return lv
    return None


def default_ivf_point(scale: dict | None) -> dict | None:
    """The IVF sweep point at the nprobe the index is built with."""
    nprobe = _get(scale, "build", "faiss", "params", "nprobe")
    for p in _get(scale, "dense", "ivf", "sweep") or []:
        if p.get("nprobe") == nprobe:
            return p
    return None


def goals(bench: dict | None, scale: dict | None) -> list[dict[str, Any]]:
    def row(goal: str, target: float, measured: float | None, better: str, unit: str) -> dict[str, Any]:
        met = None if measured is None else (measured <= target if better == "low" else measured >= target)
        return {"goal": goal, "target": target, "unit": unit, "measured": measured, "met": met,
                "off_by": None if measured is None or met or not target else round(measured / target, 2)}

    lv8 = _level(bench, 8)
    lv50 = _level(bench, 50)
    ivf = default_ivf_point(scale)
    add = _get(scale, "incremental", "add", "seconds", "total")
    return [
        row("warm question latency p50, real corpus (Retriever.ask)", 60, _get(bench, "latency", "ours", "p50_ms"),
            "low", "ms"),
        row("warm question latency p95, real corpus (Retriever.ask)", 150, _get(bench, "latency", "ours", "p95_ms"),
            "low", "ms"),
        row("warm question latency p50 at 200k chunks", 150, _get(scale, "probe", "ask", "p50_ms"), "low", "ms"),
        row("HTTP throughput at concurrency 8, real corpus", 20, _get(lv8, "questions_per_s"), "high", "q/s"),
        row("errors among 50 concurrent POST /api/ask, real corpus", 0, _get(lv50, "errors"), "low", ""),
        row("recall@10 of the approximate index vs flat (200k)", 0.95, _get(ivf, "recall_at_10"), "high", ""),
        row("add one plan to the 200k index (all writes included)", ADD_PLAN_SECONDS, add, "low", "s"),
    ]


def _fmt(x: Any, unit: str = "") -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        x = f"{x:,.3f}".rstrip("0").rstrip(".") if abs(x) < 10 else f"{x:,.1f}"
    elif isinstance(x, int):
        x = f"{x:,}"
    return f"{x} {unit}".strip()


def _table(head: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(_fmt(c) if not isinstance(c, str) else c for c in r) + " |" for r in rows]
    return out + [""]


def _machine(m: dict | None) -> list[str]:
    if not m:
        return []
    return _table(["nproc", "CPU", "RAM", "Python", "torch (threads)", "faiss (threads)", "load at start"],
                  [[m.get("nproc"), m.get("cpu") or "—", f"{m.get('ram_gib')} GiB", m.get("python"),
                    f"{m.get('torch')} ({m.get('torch_threads')})", f"{m.get('faiss')} ({m.get('faiss_threads')})",
                    " / ".join(str(x) for x in m.get("loadavg_at_start") or [])]])


def _goal_lines(gs: list[dict[str, Any]]) -> list[str]:
    rows = []
    for g in gs:
        cmp_ = "≤" if g["goal"].startswith(("warm", "add", "errors")) else "≥"
        missed = "missed" + (f" (×{g['off_by']})" if g["off_by"] else "")
        status = "—" if g["met"] is None else ("met" if g["met"] else missed)
        rows.append([g["goal"], f"{cmp_} {_fmt(g['target'], g['unit'])}", _fmt(g["measured"], g["unit"]), status])
    return _table(["goal", "target", "measured", "status"], rows)


def _bench_lines(b: dict) -> list[str]:
    out = [f"Run {b['started']}{' (smoke)' if b.get('smoke') else ''}, {b['seconds']} s in all; corpus "
           f"`{b['corpus']['dir']}`: {b['corpus']['plans']} plans, {b['corpus']['chunks']} chunks; "
           f"{b['corpus']['questions']} questions (gold set); model {b['model']['name']} "
           f"(load {_fmt(b['model'].get('load_s'), 's')}).", ""]
    out += _ingest_lines(b["ingest"]) + _embedding_lines(b["embedding"]) + _latency_lines(b)
    if b.get("http"):
        out += _http_lines(b)
    return out + _size_lines(b)


def _ingest_lines(ing: dict) -> list[str]:
    out = ["### Ingest + index", ""]
    out += _table(["system", "chunks", "parse/split s", "embed s", "total s", "chunks/s"], [
        ["**project** (sections, metadata, BM25 + FAISS)", ing["ours"]["chunks"], ing["ours"]["parse_s"],
         ing["ours"]["embed_s"], ing["ours"]["total_s"], ing["ours"]["chunks_per_s"]],
        ["BM25-only (project LexicalIndex)", ing["bm25_only"]["chunks"], ing["bm25_only"]["parse_s"], None,
         ing["bm25_only"]["total_s"], ing["bm25_only"]["chunks_per_s"]],
        ["default dense (langchain 1000/200 + e5 + flat)", ing["dense_default"]["chunks"],
         ing["dense_default"]["split_s"], ing["dense_default"]["embed_s"], ing["dense_default"]["total_s"],
         ing["dense_default"]["chunks_per_s"]]])
    r = ing["ratios"]
    out += [f"Ratios: project/dense time for the same plans **×{_fmt(r['ours_vs_dense_seconds'])}**, "
            f"chunks/s ×{_fmt(r['ours_vs_dense_chunks_per_s'])}; embedding is "
            f"{_fmt(100 * (r['embed_share_of_ours'] or 0))} % of the project's build.", ""]
    return out


def _embedding_lines(e: dict) -> list[str]:
    return ["### Embedding alone", "",
            f"{e['texts']} chunk texts (mean {e['mean_chars']} chars): **{_fmt(e['texts_per_s'])} texts/s**; one "
            f"query embedding p50 {_fmt(e['query_encode']['p50_ms'], 'ms')}, p95 "
            f"{_fmt(e['query_encode']['p95_ms'], 'ms')}.", ""]


def _latency_lines(b: dict) -> list[str]:
    e = b["embedding"]
    lat = b["latency"]
    out = ["### Question latency, library, warm", ""]
    systems = [("**project** `Retriever.ask`", "ours"), ("project, torch limited to 1 thread", "ours_one_thread"),
               ("BM25-only (scores + top 10)", "bm25_only"), ("default dense (embed + flat top 1)", "dense_default")]
    out += _table(["system", "n", "p50 ms", "p95 ms", "mean ms", "max ms"], [
        [name, lat[k]["n"], lat[k]["p50_ms"], lat[k]["p95_ms"], lat[k]["mean_ms"], lat[k]["max_ms"]]
        for name, k in systems if lat.get(k)])
    lr = lat["ratios"]
    out += [f"Ratios: project/dense p50 **×{_fmt(lr['ours_vs_dense_p50'])}**, p95 ×{_fmt(lr['ours_vs_dense_p95'])}; "
            f"project/BM25-only p50 ×{_fmt(lr['ours_vs_bm25_p50'])}.  Query embedding alone is "
            f"{_fmt(_share(e['query_encode']['p50_ms'], lat['ours']['p50_ms']))} % of the project's p50.  Load: index "
            f"{_fmt(lat['load']['load_index_s'], 's')}, retriever {_fmt(lat['load']['retriever_init_s'], 's')}, "
            f"first answer {_fmt(lat['load']['first_answer_s'], 's')}.", ""]
    return out


def _http_lines(b: dict) -> list[str]:
    lat = b["latency"]
    h = b["http"]
    out = [f"### HTTP (`POST /api/ask`, server mode: {h['mode']})", ""]
    main = "`kehoach serve` (1 torch thread)" if h["mode"] == "process" else "in-process uvicorn"
    runs = [(main, h)] + (
        [("torch's default threads", h["torch_default_threads"])] if h.get("torch_default_threads") else [])
    out += _table(["server", "concurrency", "answered", "errors", "seconds", "questions/s", "p50 ms", "p95 ms"],
                  [[name, lv["concurrency"], lv["ok"], lv["errors"], lv["seconds"], lv["questions_per_s"],
                    lv["p50_ms"], lv["p95_ms"]] for name, run in runs for lv in run["levels"]])
    c1 = _level(b, 1)
    if c1 and lat["ours"]["p50_ms"]:
        out += [f"HTTP overhead at concurrency 1: p50 ×{_fmt(c1['p50_ms'] / lat['ours']['p50_ms'])} of the "
                "library call.", ""]
    return out


def _size_lines(b: dict) -> list[str]:
    out = ["### Size, memory, cold start", ""]
    s = b["index_size"]
    rows = [["index on disk (MB)", s["ours"]["mb"], s["bm25_only"]["mb"], s["dense_default"]["mb"]]]
    out += _table(["", "project", "BM25-only", "default dense"], rows)
    mem = b.get("memory", {})
    cold = b.get("cold_start_cli") or {}
    out += [f"Peak RSS: server {_fmt(mem.get('server_peak_rss_mb'), 'MB')}, bench process "
            f"{_fmt(mem.get('bench_process_peak_rss_mb'), 'MB')} (model + every index built), largest child "
            f"process {_fmt(mem.get('children_peak_rss_mb'), 'MB')}.  Cold start (process start → first answer): "
            f"`kehoach ask` {_fmt(cold.get('seconds'), 's')}, `kehoach serve` "
            f"{_fmt(_get(b, 'http', 'cold_start_first_answer_s'), 's')}.", ""]
    return out


def _share(part: float | None, whole: float | None) -> float | None:
    return None if not part or not whole else round(100 * part / whole, 1)


def _scale_lines(s: dict) -> list[str]:
    g, v, dst = s["generate"], s["vectors"], s["distinct"]
    out = [f"Run {s['started']}, {s['seconds']} s in all (peak RSS of the building process "
           f"{_fmt(s.get('peak_rss_mb'), 'MB')}).", "",
           f"**Corpus.** {g['plans']:,} synthetic plans, {g['chunks']:,} chunks ({g['chunks_per_plan']} a plan, "
           f"{g['ocr_plans']:,} OCR-style, {g['localities']:,} localities), generated and parsed by the real pipeline "
           f"in {g['seconds']} s.  Distinct texts to embed: {dst['distinct_index_texts']:,} of "
           f"{dst['chunk_texts']:,} (distinct passages without the plan header: {dst['distinct_passages']:,}): the "
           "plan header is part of what is embedded, so a full run through the cache would embed "
           f"{dst['distinct_index_texts']:,} texts.", "",
           f"**Vectors (not all real).** {v['real_sample']:,} randomly chosen synthetic chunks were embedded for real "
           f"({v['embedded_this_run']:,} by the model in this run, {v['cache_hits_this_run']:,} from the cache"
           + (f", {v['texts_per_s']} texts/s" if v.get("texts_per_s") else "") + "); every other chunk has the "
           "vector of the real chunk it was copied from plus Gaussian noise (σ = "
           f"{v['noise_sigma']}), renormalised, so that its cosine to the source (median "
           f"{v['median_cos_perturbed_vs_source']}) matches the real sample's (median "
           f"{v['median_cos_true_vs_source']}, p10 {v['p10_cos_true_vs_source']}).  Search cost, memory and "
           "recall are measured on these vectors; answer quality at this scale is not.", ""]
    b = s["build"]
    facts = b.get("facts") or {}
    emb = s.get("embedding") or {}
    if emb:
        out += [f"**Embedding rate in this run** (bare model, {emb['texts']} synthetic chunk texts): "
                f"{emb['texts_per_s']} texts/s.", ""]
    out += [f"**Build** (vectors given; BM25 + FAISS + facts of {g['plans']:,} "
            f"plans ({facts.get('assignments', 0):,} assignments, {facts.get('targets', 0):,} targets) + atomic "
            f"write): {b['seconds']} s; FAISS "
            f"`{b['faiss']['type']}` {b['faiss']['params']}; BM25 {b['lexical_terms']:,} terms, "
            f"{b['lexical_nnz']:,} weights.  Index on disk {s['size']['mb']:,} MB.", ""]
    out += _dense_lines(s)
    lx = s["lexical"]
    out += ["### Lexical (BM25 column gather + top 50)", "",
            f"p50 {_fmt(lx['scale']['p50_ms'], 'ms')}, p95 {_fmt(lx['scale']['p95_ms'], 'ms')} at "
            f"{g['chunks']:,} chunks ({lx['nnz']:,} weights, {lx['n_terms']:,} terms) vs p50 "
            f"{_fmt(lx['real_corpus']['p50_ms'], 'ms')} on the real corpus (×{_fmt(lx['slowdown_p50'])}).", ""]
    out += _probe_lines(s.get("probe") or {})
    out += _incremental_lines(s.get("incremental") or {})
    return out


def _dense_lines(s: dict) -> list[str]:
    b = s["build"]
    d = s["dense"]
    out = [f"### Dense search, {d['queries']} gold questions, k = {d['k']}, one query at a time", ""]
    rows = [["flat (exact)", "—", d["flat"]["build_s"], d["flat"]["p50_ms"], d["flat"]["p95_ms"], 1.0, 1.0, 1.0]]
    for kind, key in (("ivf", "nprobe"), ("hnsw", "efSearch")):
        if kind in d:
            params = ", ".join(f"{k}={v}" for k, v in d[kind]["params"].items() if k not in ("kind", key, "nprobe",
                                                                                              "efSearch"))
            for p in d[kind]["sweep"]:
                rows.append([f"{kind.upper()} ({params})", f"{key}={p[key]}", d[kind]["build_s"], p["p50_ms"],
                             p["p95_ms"], p["recall_at_10"], p.get("recall_at_10_ties"), p["speedup_vs_flat_p50"]])
    out += _table(["index", "search param", "build s", "p50 ms", "p95 ms", "recall@10 vs flat",
                   "recall@10, ties ±0.001", "speed-up p50"], rows)
    out += ["The index is built with the default (`kind=\"auto\"`: IVF above 50,000 vectors, nprobe = nlist/7): "
            f"`{b['faiss']['params']}`.  Ties: a returned passage whose exact score is within 0.001 of the 10th "
            "best also counts (ann-benchmarks' convention; the synthetic plans hold many near-identical passages "
            "whose order inside the exact top 10 is noise).", ""]
    return out


def _probe_lines(p: dict) -> list[str]:
    if not p or "error" in p:
        return ["### Retriever at scale", "", f"probe failed: {p.get('error', 'not run')}", ""]
    out = ["### Retriever at scale (fresh process)", ""]
    if p.get("remeasured"):
        out += [f"Re-measured {p['remeasured']} on the same index after a change to `retriever/` "
                "(`kehoach-bench --scale --probe-only`); the corpus, build, dense, lexical and incremental figures "
                "are from the full run above.", ""]
    out += _table(["model load s", "index load s", "retriever init s", "first answer s", "process → first answer s",
                   "RSS after load MB", "peak RSS MB"],
                  [[p["model_load_s"], p["index_load_s"], p["retriever_init_s"], p["first_answer_s"],
                    p.get("process_to_first_answer_s"), _get(p, "memory_after_load", "rss_mb"),
                    _get(p, "memory", "peak_rss_mb")]])
    out += _table(["call", "n", "p50 ms", "p95 ms", "mean ms", "max ms"],
                  [[name, p[k]["n"], p[k]["p50_ms"], p[k]["p95_ms"], p[k]["mean_ms"], p[k]["max_ms"]]
                   for name, k in (("`Retriever.ask`", "ask"), ("`Retriever.search` (k=10)", "search_only"),
                                   ("query embedding", "encode_query"))])
    if p.get("profile"):
        out += [f"Profile of {p['profile']['questions']} questions (project functions by cumulative time):", ""]
        out += _table(["function", "calls", "own s", "cumulative s"],
                      [[f"`{r['function']}`", r["calls"], r["tottime_s"], r["cumtime_s"]]
                       for r in p["profile"]["top"][:15]])
    if p.get("slowest"):
        out += ["Slowest questions: " + "; ".join(f"{x['ms']} ms “{x['question']}”" for x in p["slowest"][:4]), ""]
    return out


def _incremental_lines(inc: dict) -> list[str]:
    if not inc:
        return []
    out = ["### Incremental update of the 200k index", ""]
    rows = []
    for op in ("add", "change", "remove"):
        r = inc.get(op)
        if r:
            t = r["seconds"]
            rows.append([op, r["chunks_added"], r["chunks_removed"], r["embedded"], r["reused"], t.get("load"),
                         t.get("embed"), t.get("lexical"), t.get("dense"), t.get("facts"), t.get("write"),
                         t["total"]])
    out += _table(["operation", "chunks added", "chunks removed", "embedded", "reused", "load s", "embed s",
                   "BM25 s", "FAISS s", "facts s", "write s", "total s"], rows)
    if inc.get("full_rebuild_estimate_s"):
        out += [f"A full rebuild would embed every distinct text again: about "
                f"{_fmt(inc['full_rebuild_estimate_s'] / 3600, 'h')} at the measured embedding rate; adding one plan "
                f"took ×{_fmt(inc['add_vs_rebuild'])} of that.", ""]
    return out


REPRODUCE = """## Reproduce

From the repository root (`python -m bench` needs it as the working directory; `kehoach-bench` runs anywhere):

```bash
make index                                          # or: .venv/bin/kehoach ingest (var/index)
.venv/bin/kehoach-bench --out docs/BENCHMARKS.md    # real corpus + baselines + HTTP (~3 min idle)
.venv/bin/kehoach-bench --scale --out docs/BENCHMARKS.md   # 200k synthetic chunks (~20 min idle, ~5 GB RAM)
.venv/bin/kehoach-bench --smoke                     # CI-sized check (~30 s idle)
.venv/bin/kehoach-bench --scale --probe-only --out docs/BENCHMARKS.md  # retriever only, on the saved 200k index
.venv/bin/kehoach-bench --render --out docs/BENCHMARKS.md  # re-render from var/bench/*.json
.venv/bin/python -m bench.http_load --url http://127.0.0.1:8000 --concurrency 50 --requests 50  # a running server
.venv/bin/python -m bench.pg_store --index var/index --index var/eval/unseen-index  # PG store vs directory
.venv/bin/python -m bench.synthetic --chunks 200000 --out var/synth   # only the synthetic plans
```

Raw results are kept as JSON in `var/bench/` (`bench.json`, `scale.json`); the scale run's index stays in
`var/bench/scale/index` and the real embeddings it made in `.cache/embeddings/`.  Timings are wall-clock on a
shared 2-core machine and vary from run to run (the load average at the start is in the machine table); compare
the ratios, which are measured in the same run.
"""


def render(bench: dict | None, scale: dict | None, previous: str | None = None) -> str:
    machine_info = (bench or scale or {}).get("machine")
    out = ["# Benchmarks", "",
           "Speed, memory and scale of kehoach-qa, measured beside two baselines in the same run: **BM25-only** "
           "(the project's lexical index alone) and the **default dense pipeline** (langchain "
           "`RecursiveCharacterTextSplitter` 1000/200, the same e5-small model, FAISS flat, top passage).", "",
           "## Machine", ""]
    out += _machine(machine_info)
    out += ["## Goals", ""]
    out += _goal_lines(goals(bench, scale))
    kept = ANALYSIS_RE.search(previous or "")
    out += [kept.group(0) if kept else "<!-- analysis -->\n<!-- /analysis -->", ""]
    if bench:
        out += ["## Real corpus", ""] + _bench_lines(bench)
    if scale:
        out += ["## Scale: 200,000 chunks", ""] + _scale_lines(scale)
    out += [REPRODUCE]
    return "\n".join(out).rstrip() + "\n"
