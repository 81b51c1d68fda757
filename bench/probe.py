"""A fresh process that loads an index, answers questions and reports timings, memory and a profile as JSON.

Used by the scale benchmark so that serving memory and cold start are measured apart from the process that
built the index:

    python -m bench.probe --index-dir var/bench/scale/index --questions evals/gold/gold.jsonl --n 100
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path
from typing import Any

T_IMPORT = time.perf_counter()


def _profile_rows(prof: cProfile.Profile, top: int = 25) -> list[dict[str, Any]]:
    stats = pstats.Stats(prof, stream=io.StringIO())
    rows = []
    for (file, line, name), (_, ncalls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append({"function": f"{Path(file).parent.name}/{Path(file).name}:{line}({name})", "calls": ncalls,
                     "tottime_s": round(tottime, 4), "cumtime_s": round(cumtime, 4)})
    rows.sort(key=lambda r: -r["cumtime_s"])
    ours = [r for r in rows if r["function"].split("/")[0] in ("retriever", "index", "ingest")]
    return ours[:top]


def probe(index_dir: Path, questions: list[str], n: int, budget_s: float, profile_n: int, t_start: float | None
          ) -> dict[str, Any]:
    from app.runtime import load_encoder
    from app.settings import Settings
    from bench.measure import proc_rss_mb
    from evals.timing import latency_stats, time_calls
    from index.store import load_index
    from retriever.search import HybridSettings
    from retriever.service import Retriever

    out: dict[str, Any] = {"import_s": round(time.perf_counter() - T_IMPORT, 3)}
    settings = Settings()
    t0 = time.perf_counter()
    encoder = load_encoder(settings)
    out["model_load_s"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    bundle = load_index(index_dir)
    out["index_load_s"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    r = Retriever(bundle, encoder, HybridSettings(fusion=settings.fusion))
    out["retriever_init_s"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    r.ask(questions[0])
    out["first_answer_s"] = round(time.perf_counter() - t0, 3)
    if t_start is not None:
        out["process_to_first_answer_s"] = round(time.time() - t_start, 3)
    out["memory_after_load"] = proc_rss_mb(os.getpid())
    qs = questions[:n]
    per_q: list[tuple[float, str]] = []

    def timed_ask(q: str) -> None:
        t = time.perf_counter()
        r.ask(q)
        per_q.append((time.perf_counter() - t, q))

    secs = time_calls(timed_ask, qs, warmup=3, budget_s=budget_s)
    out["ask"] = latency_stats(secs)
    out["search_only"] = latency_stats(time_calls(lambda q: r.search(q, 10), qs, warmup=2, budget_s=budget_s / 3))
    out["encode_query"] = latency_stats(time_calls(lambda q: encoder.encode_queries([q]), qs[:40], warmup=2))
    out["slowest"] = [{"ms": round(s * 1000, 1), "question": q} for s, q in sorted(per_q, reverse=True)[:6]]
    if profile_n:
        prof = cProfile.Profile()
        prof.enable()
        for q in qs[:profile_n]:
            r.ask(q)
        prof.disable()
        out["profile"] = {"questions": min(profile_n, len(qs)), "top": _profile_rows(prof)}
    out["memory"] = proc_rss_mb(os.getpid())
    out["chunks"] = len(bundle.chunks)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.probe")
    ap.add_argument("--index-dir", type=Path, required=True)
    ap.add_argument("--questions", type=Path, required=True, help="JSONL with a question field per line")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--budget", type=float, default=300.0)
    ap.add_argument("--profile", type=int, default=0, help="profile this many questions (0 = no profile)")
    ap.add_argument("--t-start", type=float, default=None, help="epoch seconds when the parent spawned us")
    args = ap.parse_args(argv)
    from bench.harness import load_questions

    res = probe(args.index_dir, load_questions(args.questions), args.n, args.budget, args.profile, args.t_start)
    sys.stdout.write(json.dumps(res, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
