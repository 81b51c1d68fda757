"""Size-doubling check of the parser: ingesting a file twice as long must take about twice as long.

A long plan is built from a real one by repeating its body (from its first part heading to its
closing), so headings, tables and wrapped lines grow with the size.  CPU time (``process_time``,
best of ``--repeat``) of :func:`ingest.pipeline.load_document` + :func:`ingest.chunking.chunk_document`
is measured at ``--mb`` and ``2 × --mb`` megabytes; the run fails when the ratio exceeds
``--max-ratio`` (linear parsing gives ~2.0).

    python -m bench.parse_scaling                      # corpus/001_*.txt, 1 MB vs 2 MB
    python -m bench.parse_scaling --plan ../shared/external/plans-dev/d6_sonla_xuatkhau.txt
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

from ingest import layout, sections, textnorm
from ingest.chunking import chunk_document
from ingest.pipeline import load_document

DEFAULT_PLAN = Path(__file__).resolve().parent.parent / "corpus" / "001_bcf331abe4d07966.txt"
_BODY_START = re.compile(r"(?m)^[\s*]*I\s*[.\-–]\s*\S")
_BODY_END = re.compile(r"(?im)^[\s*]*(?:trên đây là|nơi nhận)")


def long_plan(text: str, size: int) -> str:
    """``text`` with its body repeated until the whole is at least ``size`` characters."""
    a = _BODY_START.search(text)
    b = _BODY_END.search(text, a.end() if a else 0)
    start, end = (a.start() if a else 0), (b.start() if b else len(text))
    body = text[start:end]
    if not body.strip():
        raise ValueError("the plan has no body to repeat (no 'I.' part heading)")
    n = max(1, -(-(size - len(text)) // len(body)) + 1)
    return text[:start] + body * n + text[end:]


def cpu_seconds(path: Path, repeat: int) -> float:
    """Best CPU time of parsing and chunking ``path``."""
    best = float("inf")
    for _ in range(repeat):
        for cached in (sections._headings, layout.document_span, textnorm.is_ocr_text):
            cached.cache_clear()  # per-text caches would make the second run free
        t = time.process_time()
        chunk_document(load_document(path))
        best = min(best, time.process_time() - t)
    return best


def measure(plan: Path, mb: float, repeat: int) -> dict:
    text = plan.read_text("utf-8")
    out: dict = {"plan": plan.name, "repeat": repeat, "sizes": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i, factor in enumerate((1, 2)):
            p = Path(tmp) / f"long_{i}.txt"  # a new name each time: the parser caches by text, not by name
            p.write_text(long_plan(text, int(mb * factor * 1_000_000)), "utf-8")
            out["sizes"].append({"chars": len(p.read_text("utf-8")), "cpu_s": round(cpu_seconds(p, repeat), 3)})
    small, big = out["sizes"]
    out["ratio"] = round(big["cpu_s"] / max(small["cpu_s"], 1e-9) / (big["chars"] / small["chars"]) * 2, 2)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.parse_scaling", description=__doc__.split("\n")[0])
    ap.add_argument("--plan", type=Path, default=DEFAULT_PLAN, help="plan file whose body is repeated")
    ap.add_argument("--mb", type=float, default=1.0, help="size of the smaller file in MB (default 1)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per size, best kept (default 3)")
    ap.add_argument("--max-ratio", type=float, default=2.6, help="fail above this time ratio for 2× size")
    args = ap.parse_args(argv)
    if not args.plan.is_file():
        print(f"error: plan file not found: {args.plan}", file=sys.stderr)
        return 2
    res = measure(args.plan, args.mb, args.repeat)
    print(json.dumps(res, ensure_ascii=False))
    if res["ratio"] > args.max_ratio:
        print(f"error: parsing is superlinear: ratio {res['ratio']} > {args.max_ratio}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
