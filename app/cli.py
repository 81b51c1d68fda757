"""`kehoach` command line: thin wrappers that parse arguments and call one library function each."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from app.logs import setup_logging
from app.settings import Settings

log = logging.getLogger("app.cli")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index-dir", type=Path, default=None,
                   help="index directory (default: $KEHOACH_INDEX_DIR or var/index)")
    p.add_argument("--model", default=None,
                   help="sentence-transformers model name or folder (default: offline multilingual-e5-small)")
    p.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default: $KEHOACH_LOG_LEVEL)")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="kehoach", description="Hỏi đáp kế hoạch thực hiện Nghị quyết 72-NQ/TW "
                                 "(question answering over Vietnamese government plans).")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("model", help="build the offline embedding model folder (once) and print its path")
    p.add_argument("--cache", type=Path, default=None, help="cache folder (default: .cache/models)")
    p.add_argument("--force", action="store_true", help="rebuild even if a complete build exists")
    p.add_argument("--log-level", default=None)

    p = sub.add_parser("ingest", help="parse plans, embed and index them into --index-dir")
    p.add_argument("paths", nargs="*", type=Path, help="plan files or folders (default: corpus/)")
    p.add_argument("--chunk-size", type=int, default=1000, help="max characters per chunk (default 1000)")
    p.add_argument("--chunk-overlap", type=int, default=150, help="overlap of split chunks (default 150)")
    p.add_argument("--batch-size", type=int, default=32, help="embedding batch size (default 32)")
    _common(p)

    p = sub.add_parser("ask", help="answer a question with cited passages")
    p.add_argument("question", nargs="?", help="the question (Vietnamese, with or without diacritics)")
    p.add_argument("--k", type=int, default=5, help="number of cited passages (1-50, default 5)")
    p.add_argument("--json", action="store_true", help="print the answer object as JSON")
    p.add_argument("--batch", type=Path, help="JSONL file of {\"id\", \"question\"} lines to answer")
    p.add_argument("--out", type=Path, help="with --batch: write answers here (default: stdout)")
    _common(p)

    p = sub.add_parser("serve", help="serve the JSON API and the web UI")
    p.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000)")
    _common(p)

    p = sub.add_parser("eval", help="evaluate on the gold questions and print metrics")
    p.add_argument("--gold", type=Path, default=None, help="gold JSONL (default: evals/gold/gold.jsonl)")
    p.add_argument("--predictions", type=Path, default=None, help="write per-question predictions (JSONL)")
    p.add_argument("--fusion", choices=["rrf", "weighted"], default=None, help="override the fusion method")
    p.add_argument("--corpus-dir", type=Path, default=None, help="folder of the gold documents (default corpus/)")
    _common(p)
    return ap


def _settings(args: argparse.Namespace) -> Settings:
    s = Settings()
    updates = {}
    if getattr(args, "index_dir", None):
        updates["index_dir"] = args.index_dir
    if getattr(args, "model", None):
        updates["model"] = args.model
    if getattr(args, "fusion", None):
        updates["fusion"] = args.fusion
    if getattr(args, "corpus_dir", None):
        updates["corpus_dir"] = args.corpus_dir
    return s.model_copy(update=updates)


def cmd_model(args: argparse.Namespace, s: Settings) -> int:
    from index.e5_build import build_e5_small, ensure_e5_small

    cache = args.cache or s.model_cache
    path = build_e5_small(Path(cache) / "multilingual-e5-small", force=True) if args.force else ensure_e5_small(cache)
    print(path)
    return 0


def cmd_ingest(args: argparse.Namespace, s: Settings) -> int:
    from app.runtime import load_encoder
    from index.store import build_index
    from ingest.chunking import ChunkSettings
    from ingest.pipeline import ingest_paths

    if args.chunk_size < 200 or not 0 <= args.chunk_overlap < args.chunk_size:
        raise ValueError("--chunk-size must be ≥ 200 and 0 ≤ --chunk-overlap < --chunk-size")
    paths = args.paths or [s.corpus_dir]
    t0 = time.perf_counter()
    cs = ChunkSettings(chunk_size=args.chunk_size, chunk_overlap=args.chunk_overlap)
    docs, chunks = ingest_paths(paths, cs)
    encoder = load_encoder(s)
    bundle = build_index(docs, chunks, encoder, Path(s.index_dir), cs, batch_size=args.batch_size)
    print(f"indexed {len(docs)} plans, {len(chunks)} chunks into {bundle.directory} "
          f"in {time.perf_counter() - t0:.1f}s")
    for d in docs:
        print(f"  {d.source_file}: {d.meta.doc_type} {d.meta.number or '(không số)'} · {d.meta.issuer} · "
              f"{d.meta.date} · {len(d.sections)} mục")
    return 0


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
                out.write(json.dumps(r.ask(question, k=args.k, qid=qid).to_json(), ensure_ascii=False) + "\n")
        finally:
            if args.out:
                out.close()
        return 0
    ans = r.ask(args.question, k=args.k)
    if args.json:
        print(json.dumps(ans.to_json(), ensure_ascii=False, indent=2))
    else:
        print(format_answer(ans))
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


def format_answer(ans) -> str:
    lines = [ans.answer, ""]
    if ans.abstained:
        return ans.answer
    lines.append("Nguồn:")
    for c in ans.citations:
        num = c.doc_number or "(chưa ghi số)"
        lines.append(f"[{c.rank}] {c.doc_type} số {num} · {c.issuer} · {c.date} · {c.source_file}")
        lines.append(f"    Mục: {c.section}")
        snippet = " ".join(c.text.split())
        lines.append(f"    “{snippet[:300]}{'…' if len(snippet) > 300 else ''}”")
    return "\n".join(lines)


def cmd_serve(args: argparse.Namespace, s: Settings) -> int:
    import uvicorn

    from app.api import create_app

    host = args.host or s.host
    port = args.port or s.port
    uvicorn.run(create_app(s), host=host, port=port, log_level="info")
    return 0


def cmd_eval(args: argparse.Namespace, s: Settings) -> int:
    from app.runtime import load_retriever
    from evals.runner import default_gold_path, print_report, run_eval

    gold = args.gold or default_gold_path()
    r = load_retriever(s)
    report = run_eval(r, gold, Path(s.corpus_dir), predictions=args.predictions)
    print_report(report)
    return 0


COMMANDS = {"model": cmd_model, "ingest": cmd_ingest, "ask": cmd_ask, "serve": cmd_serve, "eval": cmd_eval}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    s = _settings(args)
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
