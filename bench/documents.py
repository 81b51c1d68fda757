"""Ingest real PDF / scan / Word files one by one: metadata read, pages OCR'd, time and OCR pages per second.

    python -m bench.documents --dir ../shared/external/vn-docs [--out var/bench/documents.json]

Every PDF, DOCX and image under ``--dir`` (recursively; the ``groundtruth`` folder is skipped) goes through
:func:`ingest.pipeline.load_document`; one JSON line per file is printed (kind, pages, OCR'd pages, seconds,
number / type / issuer / date as :mod:`ingest.metadata` reads them, table rows, characters), then a summary.
A file that is refused is reported with its error, as the CLI would print it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ingest.formats import BINARY_SUFFIXES
from ingest.pages import CELL_SEP
from ingest.pipeline import load_document

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = REPO_ROOT.parent / "shared" / "external" / "vn-docs"


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in BINARY_SUFFIXES
                  and "groundtruth" not in p.relative_to(root).parts)


def measure_file(path: Path, root: Path) -> dict[str, object]:
    t = time.perf_counter()
    try:
        doc = load_document(path)
    except ValueError as exc:
        return {"file": str(path.relative_to(root)), "error": str(exc), "sec": round(time.perf_counter() - t, 2)}
    sec = time.perf_counter() - t
    m = doc.meta
    return {"file": str(path.relative_to(root)), "chars": len(doc.text), "pages": len(m.pages),
            "ocr": m.ocr, "ocr_pages": len(m.ocr_pages), "sec": round(sec, 2),
            "number": m.number, "type": m.doc_type, "issuer": m.issuer, "date": m.date,
            "table_rows": sum(CELL_SEP in ln for ln in doc.text.split("\n")), "sections": len(doc.sections)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="folder of PDF / DOCX / image files")
    ap.add_argument("--out", type=Path, default=None, help="write the JSON report here")
    args = ap.parse_args(argv)
    if not args.dir.is_dir():
        print(f"error: {args.dir}: no such folder; pass --dir", file=sys.stderr)
        return 2
    rows = []
    for f in files_under(args.dir):
        row = measure_file(f, args.dir)
        print(json.dumps(row, ensure_ascii=False), flush=True)
        rows.append(row)
    report = {"dir": str(args.dir), "files": rows, "summary": summary(rows)}
    print(json.dumps(report["summary"], ensure_ascii=False))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return 0


def summary(rows: list[dict[str, object]]) -> dict[str, object]:
    ok = [r for r in rows if "error" not in r]
    scans = [r for r in ok if r["ocr_pages"]]
    ocr_pages = sum(int(r["ocr_pages"]) for r in scans)
    ocr_sec = sum(float(r["sec"]) for r in scans)
    return {"files": len(rows), "read": len(ok), "refused": len(rows) - len(ok),
            "total_sec": round(sum(float(r["sec"]) for r in rows), 1), "ocr_pages": ocr_pages,
            "ocr_pages_per_sec": round(ocr_pages / ocr_sec, 3) if ocr_sec else None,
            "with_number": sum(1 for r in ok if r["number"]), "with_date": sum(1 for r in ok if r["date"])}


if __name__ == "__main__":
    raise SystemExit(main())
