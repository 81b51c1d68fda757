"""`kehoach` command line: thin wrappers that parse arguments and call one library function each."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from app.cli_db import add_db, cmd_db
from app.logs import setup_logging
from app.settings import Settings
from ingest.records import plan_label

log = logging.getLogger("app.cli")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index-dir", type=Path, default=None,
                   help="index directory (default: $KEHOACH_INDEX_DIR or var/index)")
    p.add_argument("--model", default=None,
                   help="sentence-transformers model name or folder (default: offline multilingual-e5-small)")
    p.add_argument("--encoder-precision", choices=["fp32", "int8", "int8-mixed"], default=None,
                   help="fp32, int8 (linear layers quantized at load, faster on CPU) or int8-mixed (down "
                        "projections kept fp32); an index holds one precision: re-ingest after a change "
                        "(default: $KEHOACH_ENCODER_PRECISION or fp32)")
    p.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default: $KEHOACH_LOG_LEVEL)")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="kehoach", description="Hỏi đáp kế hoạch thực hiện Nghị quyết 72-NQ/TW "
                                 "(question answering over Vietnamese government plans).")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _add_model(sub)
    _add_ingest(sub)
    _add_bench(sub)
    _add_ask(sub)
    _add_assignments(sub)
    _add_targets(sub)
    _add_serve(sub)
    _add_eval(sub)
    add_db(sub)
    return ap


def _add_model(sub: Any) -> None:
    p = sub.add_parser("model", help="build the offline embedding model folder (once) and print its path")
    p.add_argument("--cache", type=Path, default=None, help="cache folder (default: .cache/models)")
    p.add_argument("--force", action="store_true", help="rebuild even if a complete build exists")
    p.add_argument("--log-level", default=None)


def _add_ingest(sub: Any) -> None:
    p = sub.add_parser("ingest", help="parse plans, embed and index them into --index-dir (or the database "
                                      "$KEHOACH_DATABASE_URL when set)")
    p.add_argument("paths", nargs="*", type=Path, help="plan files or folders (default: corpus/)")
    p.add_argument("--chunk-size", type=int, default=1000, help="max characters per chunk (default 1000)")
    p.add_argument("--chunk-overlap", type=int, default=150, help="overlap of split chunks (default 150)")
    p.add_argument("--batch-size", type=int, default=32, help="embedding batch size (default 32)")
    p.add_argument("--max-file-mb", type=float, default=None,
                   help="refuse plan files larger than this (default $KEHOACH_MAX_PLAN_MB or 10)")
    p.add_argument("--incremental", action="store_true",
                   help="update --index-dir in place: add new plans, replace changed ones (only text the index "
                        "has not embedded is embedded), keep the rest; paths default to corpus/")
    p.add_argument("--remove", action="append", default=[], metavar="DOC_ID",
                   help="remove this plan from --index-dir (doc id = file name without extension; repeatable; "
                        "implies --incremental)")
    _common(p)


def _add_bench(sub: Any) -> None:
    sub.add_parser("bench", help="moved: the benchmarks are `kehoach-bench` (or `python -m bench`)")


def _add_ask(sub: Any) -> None:
    p = sub.add_parser("ask", help="answer a question with cited passages")
    p.add_argument("question", nargs="?", help="the question (Vietnamese, with or without diacritics)")
    p.add_argument("--k", type=int, default=5, help="number of cited passages (1-50, default 5)")
    p.add_argument("--json", action="store_true", help="print the answer object as JSON (with --batch too: "
                                                       "the restored reading in answer/text, as printed in printed)")
    p.add_argument("--printed", action="store_true",
                   help="show OCR plans' words as printed (default: their diacritics restored, as in the app)")
    p.add_argument("--batch", type=Path, help="JSONL file of {\"id\", \"question\"} lines to answer")
    p.add_argument("--out", type=Path, help="with --batch: write answers here (default: stdout)")
    _common(p)


def _add_assignments(sub: Any) -> None:
    p = sub.add_parser("assignments", help="list who leads / coordinates which task, by plan or agency")
    p.add_argument("--doc", help="plan: doc id, file name, number as printed (NN/KH-UBND, NN-KH/TU) or place "
                                 "(commune, province)")
    p.add_argument("--agency", help="lead agency, with or without diacritics (\"Sở Y tế\", \"so y te\")")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table", help="output format")
    p.add_argument("--out", type=Path, help="write to this file instead of stdout")
    _common(p)


def _add_targets(sub: Any) -> None:
    p = sub.add_parser("targets", help="list the numeric targets (chỉ tiêu) of the plans, comparable across plans")
    p.add_argument("--indicator", help="indicator key (life_expectancy) or words (\"tuổi thọ\")")
    p.add_argument("--doc", help="plan: doc id, file name, number or place")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table", help="output format")
    p.add_argument("--out", type=Path, help="write to this file instead of stdout")
    _common(p)


def _add_serve(sub: Any) -> None:
    p = sub.add_parser("serve", help="serve the JSON API and the web UI")
    p.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default KEHOACH_TORCH_THREADS or 1, fastest under concurrent "
                        "questions; 0 = torch's choice)")
    _common(p)


def _add_eval(sub: Any) -> None:
    p = sub.add_parser("eval", help="evaluate (gold set, baselines, XQuAD-vi), report, and gate regressions")
    p.add_argument("--gold", type=Path, default=None, help="gold JSONL (default: evals/gold/gold.jsonl)")
    p.add_argument("--suite", choices=["gold", "unseen", "xquad", "alqac", "all"], default="gold",
                   help="gold: bundled gold set with baselines and its dev/test halves; unseen: questions about "
                        "plans-dev plans the project was not built on; xquad: XQuAD-vi; alqac: ALQAC 2024 statute "
                        "article retrieval; all: every one (default gold)")
    p.add_argument("--alqac", type=Path, default=None,
                   help="ALQAC 2024 folder (default: ../shared/external/alqac2024 from the repo root)")
    p.add_argument("--alqac-index", type=Path, default=Path("var/eval/alqac-index"),
                   help="where the ALQAC article indexes and their embeddings are cached "
                        "(default var/eval/alqac-index)")
    p.add_argument("--alqac-full", action="store_true",
                   help="alqac: all 728 questions against all 2,249 articles (default: the CI subset, the 204 "
                        "public-test questions against every article of the laws they cite)")
    p.add_argument("--plans-dev", type=Path, default=None,
                   help="folder of the unseen plans (default: ../shared/external/plans-dev from the repo root)")
    p.add_argument("--unseen-index", type=Path, default=Path("var/eval/unseen-index"),
                   help="where the index of corpus/ + plans-dev is cached (default var/eval/unseen-index)")
    p.add_argument("--predictions", type=Path, default=None,
                   help="write per-question predictions (JSONL; default with --report: predictions.jsonl beside it)")
    p.add_argument("--report", type=Path, default=None, help="write a readable report: out.md or out.html")
    p.add_argument("--baseline", type=Path, default=None,
                   help="compare with stored metrics (e.g. evals/baseline.json); exit 1 on a regression")
    p.add_argument("--tolerance", type=float, default=None,
                   help="absolute drop allowed before a metric counts as regressed (default: the baseline's, 0.02)")
    p.add_argument("--write-baseline", type=Path, default=None, help="store this run as the new baseline")
    p.add_argument("--update-baseline", type=Path, default=None,
                   help="add this run's metrics and questions that the baseline lacks (existing rows are kept)")
    p.add_argument("--xquad", type=Path, default=None,
                   help="XQuAD-vi JSON (default: ../shared/external/xquad-vi/xquad.vi.json from the repo root)")
    p.add_argument("--xquad-index", type=Path, default=Path("var/eval/xquad-index"),
                   help="where the XQuAD paragraph index is cached (default var/eval/xquad-index)")
    p.add_argument("--xquad-limit", type=int, default=None, help="ask only the first N XQuAD questions")
    p.add_argument("--no-baselines", action="store_true", help="gold suite: skip the baseline systems")
    p.add_argument("--compare-fusion", action="store_true", help="gold suite: also run the other fusion method")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: scores are identical across thread counts, and one thread "
                        "avoids the slowdown of oversubscribed cores on a shared machine; 0 = torch's choice)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--fusion", choices=["rrf", "weighted"], default=None, help="override the fusion method")
    p.add_argument("--corpus-dir", type=Path, default=None, help="folder of the gold documents (default corpus/)")
    _common(p)


def _settings(args: argparse.Namespace) -> Settings:
    s = Settings()
    updates = {}
    if getattr(args, "index_dir", None):
        updates["index_dir"] = args.index_dir
    if getattr(args, "model", None):
        updates["model"] = args.model
    if getattr(args, "encoder_precision", None):
        updates["encoder_precision"] = args.encoder_precision
    if getattr(args, "fusion", None):
        updates["fusion"] = args.fusion
    if getattr(args, "corpus_dir", None):
        updates["corpus_dir"] = args.corpus_dir
    return s.model_copy(update=updates)


def cmd_model(args: argparse.Namespace, s: Settings) -> int:
    from app.model_build import build_e5_small, ensure_e5_small

    cache = args.cache or s.model_cache
    path = build_e5_small(Path(cache) / "multilingual-e5-small", force=True) if args.force else ensure_e5_small(cache)
    print(path)
    return 0


def cmd_ingest(args: argparse.Namespace, s: Settings) -> int:
    from app.runtime import index_store, load_encoder
    from index.store import build_index
    from ingest.chunking import ChunkSettings
    from ingest.pipeline import ingest_paths
    from ingest.records import plan_label

    if args.chunk_size < 200 or not 0 <= args.chunk_overlap < args.chunk_size:
        raise ValueError("--chunk-size must be ≥ 200 and 0 ≤ --chunk-overlap < --chunk-size")
    if args.incremental or args.remove:
        return _ingest_incremental(args, s)
    files = _scan_plans(args.paths or [s.corpus_dir])
    t0 = time.perf_counter()
    cs = ChunkSettings(chunk_size=args.chunk_size, chunk_overlap=args.chunk_overlap)
    docs, chunks = ingest_paths(files, cs, max_bytes=_max_bytes(args, s))
    encoder = load_encoder(s)
    store = index_store(s)
    build_index(docs, chunks, encoder, Path(s.index_dir), cs, batch_size=args.batch_size, writer=store.write)
    print(f"indexed {len(docs)} plans, {len(chunks)} chunks into {store.where} "
          f"in {time.perf_counter() - t0:.1f}s")
    for d in docs:
        facts = [plan_label(d.meta.doc_type, d.meta.number), d.meta.issuer, d.meta.date, f"{len(d.sections)} mục"]
        print(f"  {d.source_file}: " + " · ".join(x for x in facts if x))
    return 0


def _max_bytes(args: argparse.Namespace, s: Settings) -> int:
    mb = args.max_file_mb if args.max_file_mb is not None else s.max_plan_mb
    if mb <= 0:
        raise ValueError("--max-file-mb must be more than 0")
    return int(mb * 1024 * 1024)


def _scan_plans(paths: list[Path]) -> list[Path]:
    """The plan files under ``paths``; every file left out is printed with its reason."""
    from ingest.reader import scan

    found = scan(paths)
    if found.skipped:
        print(f"skipped {len(found.skipped)} file(s):", file=sys.stderr)
        for path, reason in found.skipped:
            print(f"  {path}: {reason}", file=sys.stderr)
    return found.files


def _ingest_incremental(args: argparse.Namespace, s: Settings) -> int:
    """``ingest --incremental`` / ``--remove``: update the index in place with the index's own chunking."""
    from app.runtime import index_store, load_encoder
    from index.backend import update_from_paths

    paths = args.paths or ([] if args.remove else [s.corpus_dir])
    files = _scan_plans(paths) if paths else []
    store = index_store(s)
    res = update_from_paths(store, files, args.remove, load_encoder(s), batch_size=args.batch_size,
                            max_bytes=_max_bytes(args, s))
    print(f"updated {store.where}: added {len(res.added)}, changed {len(res.changed)}, removed "
          f"{len(res.removed)}, unchanged {len(res.unchanged)}; embedded {res.embedded} chunk texts, reused "
          f"{res.reused}; now {len(res.bundle.chunks)} chunks in {len(res.bundle.documents)} plans "
          f"({res.seconds['total']:.1f}s)")
    for name, ids in (("added", res.added), ("changed", res.changed), ("removed", res.removed)):
        if ids:
            print(f"  {name}: {', '.join(ids)}")
    return 0


BENCH_MOVED = ("the benchmarks have their own command (they build on the app, so the app does not import them): "
               "run `kehoach-bench{args}` or, from the repository root, `python -m bench{args}`")


def bench_moved(rest: list[str]) -> int:
    """``kehoach bench …`` points to ``kehoach-bench …``: ``bench`` imports ``app``, so ``app`` never imports
    ``bench`` (see docs/ARCHITECTURE.md)."""
    args = " ".join(["", *rest])
    print(f"kehoach bench: {BENCH_MOVED.format(args=args)}", file=sys.stderr)
    return 2


def cmd_ask(args: argparse.Namespace, s: Settings) -> int:
    from app.runtime import load_retriever

    if not 1 <= args.k <= 50:
        raise ValueError("--k must be between 1 and 50")
    if bool(args.batch) == bool(args.question):
        raise ValueError("give either a QUESTION or --batch FILE")
    if args.batch:
        items = _read_batch(args.batch)
    r = load_retriever(s)
    if args.batch:
        out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout
        try:
            for qid, question in items:
                out.write(json.dumps(r.display.answer_json(r.ask(question, k=args.k, qid=qid)), ensure_ascii=False)
                          + "\n")
        finally:
            if args.out:
                out.close()
        return 0
    ans = r.ask(args.question, k=args.k)
    if args.json:
        print(json.dumps(r.display.answer_json(ans), ensure_ascii=False, indent=2))
    else:
        print(format_answer(ans, None if args.printed else r.display))
    return 0


def _read_batch(path: Path) -> list[tuple[str, str]]:
    items = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("question"), str) or not obj["question"].strip():
            raise ValueError(f"{path}:{n}: each line needs a non-empty \"question\" string")
        items.append((str(obj.get("id", n)), obj["question"]))
    if not items:
        raise ValueError(f"{path}: no questions")
    return items


def format_answer(ans, display=None) -> str:
    """The answer and its sources for a terminal; with ``display`` (a :class:`retriever.display.Display`), OCR
    plans' words restored and a line saying so."""
    if ans.abstained:
        return ans.answer
    shown = display.answer_text(ans.answer, ans.citations) if display else None
    lines = [shown.text if shown else ans.answer, ""]
    lines.append("Nguồn:")
    restored = bool(shown and shown.restored)
    for c in ans.citations:
        head = [plan_label(c.doc_type, c.doc_number), c.issuer, c.date, c.source_file]
        lines.append(f"[{c.rank}] " + " · ".join(x for x in head if x))
        lines.append(f"    Mục: {c.section}")
        passage = display.citation(c) if display else None
        restored |= bool(passage and passage.restored)
        snippet = " ".join((passage.text if passage else c.text).split())
        lines.append(f"    “{snippet[:300]}{'…' if len(snippet) > 300 else ''}”")
    if restored:
        lines.append("(Dấu tiếng Việt của bản OCR đã được khôi phục; xem nguyên văn bản in: --printed.)")
    return "\n".join(lines)


def _set_torch_threads(threads: int) -> None:
    """torch's CPU threads for this process (0 leaves torch's own choice: one per core)."""
    if threads < 0:
        raise ValueError(f"--threads must be 0 (torch's choice) or more, got {threads}")
    if threads:
        import torch

        torch.set_num_threads(threads)


def cmd_serve(args: argparse.Namespace, s: Settings) -> int:
    import uvicorn

    from app.api import create_app

    host = args.host or s.host
    port = args.port or s.port
    _set_torch_threads(s.torch_threads if args.threads is None else args.threads)
    uvicorn.run(create_app(s), host=host, port=port, log_level="info")
    return 0


def _check_eval_inputs(args: argparse.Namespace) -> None:
    """Refuse a bad report name or a missing data folder before any model is loaded."""
    if args.report and args.report.suffix.lower() not in (".md", ".markdown", ".html", ".htm"):
        raise ValueError(f"--report {args.report}: use a .md or .html file name")
    if args.suite in ("xquad", "all"):
        from evals.xquad import check_xquad_path

        check_xquad_path(args.xquad)
    if args.suite in ("alqac", "all"):
        from evals.alqac import check_alqac_path

        check_alqac_path(args.alqac)
    if args.suite in ("unseen", "all"):
        from evals.suites import check_plans_dev

        check_plans_dev(args.plans_dev)


def cmd_eval(args: argparse.Namespace, s: Settings) -> int:
    """Run the suites, write predictions/report/baseline, and exit 1 when --baseline finds a regression."""
    from app.runtime import load_encoder, load_retriever
    from evals.gate import (
        DEFAULT_TOLERANCE,
        compare,
        format_gate,
        load_baseline,
        update_baseline,
        write_baseline,
    )
    from evals.report import write_report
    from evals.runner import prediction_rows, print_run, run_suites, write_predictions

    _check_eval_inputs(args)
    baseline = load_baseline(args.baseline) if args.baseline else None
    tolerance = args.tolerance if args.tolerance is not None else (baseline or {}).get("tolerance", DEFAULT_TOLERANCE)
    _set_torch_threads(args.threads)
    encoder = load_encoder(s)
    retriever = load_retriever(s, encoder=encoder) if args.suite in ("gold", "unseen", "all") else None
    run = run_suites(args.suite, encoder, retriever, gold_path=args.gold, corpus_dir=Path(s.corpus_dir),
                     xquad_path=args.xquad, xquad_index=args.xquad_index, baselines=not args.no_baselines,
                     compare_fusion=args.compare_fusion, xquad_limit=args.xquad_limit,
                     progress=not args.no_progress, command="kehoach " + " ".join(sys.argv[1:]),
                     plans_dev=args.plans_dev, unseen_index=args.unseen_index, alqac_path=args.alqac,
                     alqac_index=args.alqac_index, alqac_full=args.alqac_full)
    predictions = args.predictions or (args.report.parent / "predictions.jsonl" if args.report else None)
    if predictions:
        write_predictions(predictions, prediction_rows(run))
    result = compare(run, baseline, tolerance) if baseline else None
    if args.report:
        for f in write_report(run, args.report, result, str(args.baseline or "")):
            print(f"wrote {f}", file=sys.stderr)
    if args.write_baseline:
        write_baseline(run, args.write_baseline, tolerance)
        print(f"wrote baseline {args.write_baseline}", file=sys.stderr)
    if args.update_baseline:
        added = update_baseline(run, args.update_baseline)
        print(f"added {added} metrics to baseline {args.update_baseline}", file=sys.stderr)
    print_run(run)
    if result is not None:
        print(format_gate(result))
        return 0 if result.ok else 1
    return 0


COMMANDS = {"model": cmd_model, "ingest": cmd_ingest, "ask": cmd_ask, "serve": cmd_serve, "eval": cmd_eval}


def _facts(s: Settings):
    """Assignments and targets of the index, without loading the embedding model."""
    from app.runtime import index_store
    from retriever.facts import FactIndex, facts_of

    bundle = index_store(s).load()
    assignments, targets = facts_of(bundle)
    return bundle, FactIndex({d: doc.text for d, doc in bundle.documents.items()}, assignments, targets, {})


def _emit(text: str, out: Path | None) -> None:
    if out:
        out.write_text(text, "utf-8")
        print(f"wrote {out}", file=sys.stderr)
    else:
        print(text)


def _emit_rows(rows: list[dict], args: argparse.Namespace, all_columns: tuple[str, ...],
               table_columns: tuple[str, ...], noun: str) -> None:
    """Rows as CSV (every column), JSON, or a terminal table of the main columns."""
    from app.export import to_csv, to_json, to_table

    if args.format == "csv":
        _emit(to_csv(rows, all_columns), args.out)
    elif args.format == "json":
        _emit(to_json(rows), args.out)
    else:
        _emit(to_table(rows, table_columns) + f"\n({len(rows)} {noun})", args.out)


def cmd_assignments(args: argparse.Namespace, s: Settings) -> int:
    from app.export import ASSIGNMENT_COLUMNS, assignment_rows
    from retriever.facts import filter_assignments

    bundle, facts = _facts(s)
    rows = assignment_rows(filter_assignments(facts, bundle.documents, args.doc, args.agency), bundle.documents)
    cols = ("doc_number", "issuer", "row", "task", "lead", "coordinating", "deadline")
    _emit_rows(rows, args, ASSIGNMENT_COLUMNS, cols, "assignments")
    return 0


def cmd_targets(args: argparse.Namespace, s: Settings) -> int:
    from app.export import TARGET_COLUMNS, target_rows
    from retriever.facts import filter_targets

    bundle, facts = _facts(s)
    rows = target_rows(filter_targets(facts, bundle.documents, args.indicator, args.doc), bundle.documents)
    cols = ("doc_number", "issuer", "label", "value", "unit", "period", "section")
    _emit_rows(rows, args, TARGET_COLUMNS, cols, "targets")
    return 0


COMMANDS["assignments"] = cmd_assignments
COMMANDS["targets"] = cmd_targets
COMMANDS["db"] = cmd_db


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:
        return bench_moved(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        s = _settings(args)
    except ValueError as exc:  # a KEHOACH_* variable that does not parse (pydantic's ValidationError)
        print(f"kehoach {args.command}: error: bad setting: {exc}", file=sys.stderr)
        return 2
    default_level = "WARNING" if args.command in ("ask", "eval") else s.log_level
    setup_logging(getattr(args, "log_level", None) or default_level, s.log_json)
    try:
        return COMMANDS[args.command](args, s)
    except (ValueError, FileNotFoundError) as exc:
        print(f"kehoach {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
