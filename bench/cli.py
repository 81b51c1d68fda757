"""Command line of the benchmarks: ``kehoach-bench`` (console script) and ``python -m bench``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from bench import DEFAULT_GOLD, REPO_ROOT, RESULTS_DIR

log = logging.getLogger("bench")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--smoke", action="store_true", help="tiny run for CI (one plan, in-process HTTP), < 1 min")
    p.add_argument("--scale", action="store_true", help="the 200k-chunk synthetic run instead (~30-40 min)")
    p.add_argument("--probe-only", action="store_true",
                   help="with --scale: re-measure only the retriever on the saved 200k index")
    p.add_argument("--render", action="store_true", help="only re-render --out from the saved JSON results")
    p.add_argument("--out", type=Path, default=None,
                   help="write the report here: .md (Markdown, with the other saved run) or .json (this run)")
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where raw JSON results are kept")
    p.add_argument("--corpus", type=Path, default=REPO_ROOT / "corpus", help="plans to index (default corpus/)")
    p.add_argument("--questions", type=Path, default=DEFAULT_GOLD, help="JSONL with a question per line")
    p.add_argument("--questions-n", type=int, default=None, help="number of questions to time")
    p.add_argument("--no-http", action="store_true", help="skip the HTTP load test")
    p.add_argument("--http-mode", choices=["process", "thread"], default=None)
    p.add_argument("--http-levels", default=None, help="comma-separated concurrency levels (default 1,8,32)")
    p.add_argument("--http-requests", type=int, default=None, help="max requests per level")
    p.add_argument("--http-seconds", type=float, default=None, help="max seconds per level")
    p.add_argument("--chunks", type=int, default=200_000, help="with --scale: synthetic chunks to index")
    p.add_argument("--real-embed", type=int, default=2000, help="with --scale: chunk texts embedded for real")


def _bench_config(args: argparse.Namespace) -> Any:
    from bench.harness import BenchConfig

    over: dict[str, Any] = {"corpus_dir": args.corpus, "questions_file": args.questions}
    if args.questions_n:
        over["n_questions"] = args.questions_n
    if args.no_http:
        over["http"] = False
    if args.http_mode:
        over["http_mode"] = args.http_mode
    if args.http_levels:
        over["http_levels"] = tuple(int(x) for x in args.http_levels.split(","))
    if args.http_requests:
        over["http_requests"] = args.http_requests
    if args.http_seconds:
        over["http_seconds"] = args.http_seconds
    return BenchConfig.smoke_config(**over) if args.smoke else BenchConfig(**over)


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text("utf-8")) if path.exists() else None


def _save(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), "utf-8")
    os.replace(tmp, path)


def run(args: argparse.Namespace, settings: Any = None) -> int:
    """Run what ``args`` ask for (a bench run, the scale run or only a re-render) and write ``--out``."""
    from app.settings import Settings
    from bench.harness import run_bench
    from bench.report import goals, render

    settings = settings or Settings()
    results: Path = args.results_dir
    if args.probe_only and not args.scale:
        raise ValueError("--probe-only goes with --scale")
    result: dict | None = None
    if args.render:
        pass
    elif args.scale:
        from bench.scale import ScaleConfig, reprobe, run_scale

        cfg = ScaleConfig(target_chunks=args.chunks, real_embed=args.real_embed, corpus_dir=args.corpus,
                          questions_file=args.questions)
        if args.probe_only:
            previous = _load(results / "scale.json")
            if previous is None:
                raise FileNotFoundError(f"no {results / 'scale.json'}; run `kehoach-bench --scale` first")
            result = reprobe(cfg, previous)
        else:
            result = run_scale(cfg, settings)
        _save(results / "scale.json", result)
    else:
        result = run_bench(_bench_config(args), settings)
        _save(results / ("smoke.json" if args.smoke else "bench.json"), result)
    bench = result if result and result["kind"] == "bench" and not result.get("smoke") else _load(
        results / "bench.json")
    scale = result if result and result["kind"] == "scale" else _load(results / "scale.json")
    if args.smoke and result:
        bench = result
    if args.out:
        if args.out.suffix == ".json":
            _save(args.out, result or {"bench": bench, "scale": scale})
        else:
            previous = args.out.read_text("utf-8") if args.out.exists() else None
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(render(bench, scale, previous), "utf-8")
        print(f"wrote {args.out}")
    for g in goals(bench, scale):
        if g["measured"] is not None:
            status = "met" if g["met"] else "MISSED" + (f" ×{g['off_by']}" if g["off_by"] else "")
            print(f"{g['goal']}: {g['measured']} {g['unit']} (target {g['target']} {g['unit']}) {status}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from app.logs import setup_logging

    ap = argparse.ArgumentParser(prog="kehoach-bench", description="Benchmark kehoach-qa against its baselines.")
    add_arguments(ap)
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    setup_logging("INFO", True)
    try:
        return run(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"kehoach-bench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
