"""fp32 vs int8 embedding model, in one run: chunk texts/s, the ratio, how close the vectors are, query latency.

The same chunk texts (``index_text`` of the chunks of corpus/ and ``--plans``, ingested here, a deterministic
spread of ``--texts`` of them) are embedded by the fp32 encoder and by each quantized one of ``--precisions``
(``SentenceTransformerEncoder(precision="int8")``: dynamic int8 quantization of every linear layer;
``"int8-mixed"``: the same with the down projections kept fp32).  Each
torch thread setting of ``--threads`` runs ``--repeat`` rounds; the order of the encoders alternates from
round to round (fp32 first, then last) so a load change on a shared machine hits all.  Texts/s is
taken from the best round (the least disturbed), the median round is reported too.  Closeness: the cosine
between the fp32 and the quantized vector of each text, and how often the nearest text of a question is the same.
Query latency: one question at a time, the encoders interleaved question by question.

    python -m bench.encoder_precision                            # 600 texts, threads 1 and torch's default
    python -m bench.encoder_precision --texts 300 --threads 1 --out var/bench/encoder_precision.json
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import DEFAULT_GOLD, REPO_ROOT, RESULTS_DIR
from index.encoder import PRECISIONS

log = logging.getLogger("bench.encoder_precision")
DEFAULT_PLANS = REPO_ROOT.parent / "shared" / "external" / "plans-dev"


def chunk_texts(corpus: Path, plans: Path | None, n: int) -> list[str]:
    """``n`` distinct chunk texts, as the index embeds them, spread evenly over the ingested plans' chunks."""
    from index.store import index_text
    from ingest.pipeline import ingest_paths
    from ingest.reader import discover

    paths = [corpus, *(discover([plans]) if plans is not None and plans.is_dir() else [])]
    docs, chunks = ingest_paths(paths, progress=False)
    meta = {d.doc_id: d.meta for d in docs}
    texts = list(dict.fromkeys(index_text(meta[c.doc_id], c) for c in chunks))
    if n < len(texts):
        texts = [texts[i] for i in np.linspace(0, len(texts) - 1, n).round().astype(int)]
    return texts


def questions(path: Path, n: int) -> list[str]:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows][:n]


def throughput(encoders: dict[str, Any], texts: list[str], threads: int, repeat: int, batch_size: int
               ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Texts/s of each encoder over ``repeat`` alternating rounds at ``threads`` torch threads (0 = default)."""
    import torch

    default = torch.get_num_threads()
    torch.set_num_threads(threads or default)
    seconds: dict[str, list[float]] = {k: [] for k in encoders}
    vectors: dict[str, np.ndarray] = {}
    try:
        for r in range(repeat):
            order = list(encoders) if r % 2 == 0 else list(encoders)[::-1]
            for key in order:
                t0 = time.perf_counter()
                vectors[key] = encoders[key].encode_documents(texts, batch_size=batch_size)
                seconds[key].append(time.perf_counter() - t0)
                log.info("embedded", extra={"precision": key, "threads": threads or default, "round": r,
                                            "seconds": round(seconds[key][-1], 2)})
    finally:
        torch.set_num_threads(default)
    out: dict[str, Any] = {"threads": threads or default}
    for key, xs in seconds.items():
        out[key] = {"seconds": [round(x, 2) for x in xs], "texts_per_s_best": round(len(texts) / min(xs), 2),
                    "texts_per_s_median": round(len(texts) / float(np.median(xs)), 2)}
    for key in list(encoders)[1:]:  # speed-up of each quantized encoder over fp32
        out[key]["ratio_best"] = round(out[key]["texts_per_s_best"] / out["fp32"]["texts_per_s_best"], 2)
        out[key]["ratio_median"] = round(out[key]["texts_per_s_median"] / out["fp32"]["texts_per_s_median"], 2)
    return out, vectors


def closeness(doc_vecs: dict[str, np.ndarray], query_vecs: dict[str, np.ndarray], key: str) -> dict[str, Any]:
    """Cosine between the fp32 and the ``key`` vector of each text and question; nearest-text agreement."""
    cos = np.sum(doc_vecs["fp32"] * doc_vecs[key], axis=1)
    qcos = np.sum(query_vecs["fp32"] * query_vecs[key], axis=1)
    top = {k: np.argmax(query_vecs[k] @ doc_vecs[k].T, axis=1) for k in ("fp32", key)}
    return {"texts_cosine_mean": round(float(cos.mean()), 4), "texts_cosine_min": round(float(cos.min()), 4),
            "texts_cosine_p5": round(float(np.percentile(cos, 5)), 4),
            "queries_cosine_mean": round(float(qcos.mean()), 4), "queries_cosine_min": round(float(qcos.min()), 4),
            "nearest_text_same": round(float(np.mean(top["fp32"] == top[key])), 3)}


def query_latency(encoders: dict[str, Any], qs: list[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """One question per call, the encoders interleaved (order swapped every question), after a warm-up."""
    from evals.timing import latency_stats

    for enc in encoders.values():
        enc.encode_queries(qs[:3])
    seconds: dict[str, list[float]] = {k: [] for k in encoders}
    vecs: dict[str, list[np.ndarray]] = {k: [] for k in encoders}
    for i, q in enumerate(qs):
        for key in (list(encoders) if i % 2 == 0 else list(encoders)[::-1]):
            t0 = time.perf_counter()
            vecs[key].append(encoders[key].encode_queries([q])[0])
            seconds[key].append(time.perf_counter() - t0)
    stats: dict[str, Any] = {k: latency_stats(v) for k, v in seconds.items()}
    for key in list(encoders)[1:]:
        stats[key]["speedup_p50"] = round(stats["fp32"]["p50_ms"] / stats[key]["p50_ms"], 2)
    return stats, {k: np.stack(v) for k, v in vecs.items()}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from app.runtime import model_path
    from app.settings import Settings
    from bench.measure import machine
    from index.encoder import SentenceTransformerEncoder

    texts = chunk_texts(args.corpus, args.plans, args.texts)
    qs = questions(args.questions, args.queries)
    model = model_path(Settings().model_copy(update={"model_cache": REPO_ROOT / ".cache" / "models"}))
    encoders, load = {}, {}
    for precision in ["fp32", *args.precisions]:
        t0 = time.perf_counter()
        encoders[precision] = SentenceTransformerEncoder(model, precision=precision)
        load[precision + "_s"] = round(time.perf_counter() - t0, 2)
    result: dict[str, Any] = {"kind": "encoder_precision", "machine": machine(), "load": load,
                              "names": {k: e.name for k, e in encoders.items()}, "texts": len(texts),
                              "mean_chars": round(float(np.mean([len(t) for t in texts])), 1),
                              "batch_size": args.batch_size, "repeat": args.repeat, "throughput": []}
    doc_vecs: dict[str, np.ndarray] = {}
    for threads in args.threads:
        row, doc_vecs = throughput(encoders, texts, threads, args.repeat, args.batch_size)
        result["throughput"].append(row)
    result["query_latency"], query_vecs = query_latency(encoders, qs)
    result["closeness"] = {k: closeness(doc_vecs, query_vecs, k) for k in args.precisions}
    return result


def render(res: dict[str, Any]) -> str:
    """The Markdown tables of a result (what docs/BENCHMARKS.md quotes)."""
    keys = [k for k in res["names"] if k != "fp32"]
    lines = [f"{res['texts']} chunk texts (mean {res['mean_chars']} chars), batch {res['batch_size']}, "
             f"{res['repeat']} rounds in alternating order; load average at start "
             f"{res['machine']['loadavg_at_start']}", "",
             "| torch threads | fp32 texts/s | " + " | ".join(f"{k} texts/s (×best, ×median)" for k in keys) + " |",
             "|---|---|" + "---|" * len(keys)]
    for r in res["throughput"]:
        cells = [f"{r[k]['texts_per_s_best']} (×{r[k]['ratio_best']}, ×{r[k]['ratio_median']})" for k in keys]
        lines.append(f"| {r['threads']} | {r['fp32']['texts_per_s_best']} | " + " | ".join(cells) + " |")
    q = res["query_latency"]
    lines += ["", "| encoder | query p50 ms | query p95 ms | cosine to fp32, texts mean / min | "
              "questions mean / min | nearest text as fp32 |", "|---|---|---|---|---|---|",
              f"| fp32 | {q['fp32']['p50_ms']} | {q['fp32']['p95_ms']} | – | – | – |"]
    for k in keys:
        c = res["closeness"][k]
        lines.append(f"| {k} | {q[k]['p50_ms']} (×{q[k]['speedup_p50']}) | {q[k]['p95_ms']} | "
                     f"{c['texts_cosine_mean']} / {c['texts_cosine_min']} | {c['queries_cosine_mean']} / "
                     f"{c['queries_cosine_min']} | {c['nearest_text_same']:.1%} |")
    lines.append(f"\nQueries: {q['fp32']['n']} gold questions one at a time, torch threads "
                 f"{res['machine'].get('torch_threads')}, encoders interleaved.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from app.logs import setup_logging

    ap = argparse.ArgumentParser(prog="python -m bench.encoder_precision", description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=REPO_ROOT / "corpus", help="plans to chunk (default corpus/)")
    ap.add_argument("--plans", type=Path, default=DEFAULT_PLANS,
                    help="more plans to chunk (default ../shared/external/plans-dev; skipped if missing)")
    ap.add_argument("--texts", type=int, default=600, help="chunk texts to embed (default 600)")
    ap.add_argument("--questions", type=Path, default=DEFAULT_GOLD, help="JSONL with a question per line")
    ap.add_argument("--queries", type=int, default=100, help="questions timed one at a time (default 100)")
    ap.add_argument("--threads", type=lambda s: [int(x) for x in s.split(",")], default=[1, 0],
                    help="comma-separated torch thread counts, 0 = torch's default (default 1,0)")
    ap.add_argument("--precisions", type=lambda s: [x for x in s.split(",") if x != "fp32"],
                    default=["int8", "int8-mixed"], help="quantized precisions compared with fp32 "
                    "(default int8,int8-mixed)")
    ap.add_argument("--repeat", type=int, default=2, help="rounds per thread setting, order alternated (default 2)")
    ap.add_argument("--batch-size", type=int, default=32, help="encode batch size (default 32, as ingest)")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR / "encoder_precision.json", help="JSON result")
    args = ap.parse_args(argv)
    setup_logging("WARNING")
    if args.texts < 1 or args.repeat < 1 or args.queries < 3:
        print("error: --texts and --repeat must be ≥ 1, --queries ≥ 3", file=sys.stderr)
        return 2
    if not args.precisions or not set(args.precisions) <= set(PRECISIONS):
        print(f"error: --precisions takes some of {', '.join(PRECISIONS[1:])}", file=sys.stderr)
        return 2
    if not args.corpus.is_dir() or not args.questions.is_file():
        print(f"error: {args.corpus} (folder) or {args.questions} (file) not found", file=sys.stderr)
        return 2
    res = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, ensure_ascii=False, indent=2), "utf-8")
    print(render(res))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
