"""OCR accuracy on page images with human transcriptions: our pipeline vs plain Tesseract, in one run.

    python -m evals.ocr --groundtruth ../shared/external/vn-docs/groundtruth/nom-vn [--out var/eval/ocr.json]

Each ``<id>_p1.png`` (or .jpg) with a ``<id>.gt.txt`` beside it is OCR'd twice: by :func:`ingest.ocr.ocr_text`
(300 dpi, colour fade, OSD, deskew over 1°, binarisation, ruled tables, vie model) and by plain
``tesseract img - -l vie+eng``.
CER = character edit distance / reference length, WER = word edit distance / reference words, both on
NFC text with every run of whitespace collapsed to one space (the upstream baseline's normalisation).
Variants of the pipeline (``--variant psm=6`` …) can be added to the same run to measure what helps.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from PIL import Image

from ingest.ocr import OcrSettings, image_dpi, ocr_text
from ingest.restore_channel import edit_distance
from ingest.textnorm import collapse_ws, nfc

log = logging.getLogger("evals.ocr")
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_GT = REPO_ROOT.parent / "shared" / "external" / "vn-docs" / "groundtruth" / "nom-vn"


def norm(text: str) -> str:
    return collapse_ws(nfc(text))


def scores(hyp: str, ref: str) -> dict[str, float]:
    h, r = norm(hyp), norm(ref)
    cer = edit_distance(h, r) / max(1, len(r))
    return {"cer": cer, "wer": edit_distance(h.split(), r.split()) / max(1, len(r.split()))}


def plain_tesseract(path: Path, langs: str = "vie+eng") -> str:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    return subprocess.run(["tesseract", str(path), "-", "-l", langs], capture_output=True, text=True,
                          check=True, env=env).stdout


def samples(gt_dir: Path) -> list[tuple[str, Path, Path]]:
    """(id, image, transcription) for every image with a ``.gt.txt`` beside it."""
    out = []
    for txt in sorted(gt_dir.glob("*.gt.txt")):
        sid = txt.name[: -len(".gt.txt")]
        for img in (gt_dir / f"{sid}_p1.png", gt_dir / f"{sid}.png", gt_dir / f"{sid}_p1.jpg", gt_dir / f"{sid}.jpg"):
            if img.exists():
                out.append((sid, img, txt))
                break
    return out


def parse_variant(spec: str) -> tuple[str, OcrSettings]:
    """``psm=6,osd=0`` → a named OcrSettings differing from the default in those fields."""
    kw: dict[str, object] = {}
    for part in spec.split(","):
        k, v = part.split("=", 1)
        kw[k] = v if k == "langs" else (float(v) if k.startswith("min_") else int(v))
    return spec, replace(OcrSettings(), **kw)


def run(gt_dir: Path, variants: list[tuple[str, OcrSettings]]) -> dict[str, object]:
    systems = ["tesseract-plain", *[name for name, _ in variants]]
    per: list[dict[str, object]] = []
    secs = dict.fromkeys(systems, 0.0)
    for sid, img_path, txt in samples(gt_dir):
        ref = txt.read_text("utf-8")
        row: dict[str, object] = {"id": sid, "ref_chars": len(norm(ref))}
        t = time.perf_counter()
        row["tesseract-plain"] = scores(plain_tesseract(img_path), ref)
        secs["tesseract-plain"] += time.perf_counter() - t
        for name, st in variants:
            image = Image.open(img_path)
            t = time.perf_counter()
            row[name] = scores(ocr_text(image, image_dpi(image), st), ref)
            secs[name] += time.perf_counter() - t
        print(json.dumps(row, ensure_ascii=False), file=sys.stderr)
        per.append(row)
    return {"groundtruth": str(gt_dir), "pages": len(per), "summary": _summary(per, systems, secs), "per_page": per}


def _summary(per: list[dict], systems: list[str], secs: dict[str, float]) -> dict[str, dict[str, float]]:
    out = {}
    total = sum(int(r["ref_chars"]) for r in per) or 1
    for s in systems:
        cer = [r[s]["cer"] for r in per]
        out[s] = {"cer_mean": round(sum(cer) / max(1, len(cer)), 4),
                  "cer_weighted": round(sum(r[s]["cer"] * r["ref_chars"] for r in per) / total, 4),
                  "wer_mean": round(sum(r[s]["wer"] for r in per) / max(1, len(per)), 4),
                  "sec_per_page": round(secs[s] / max(1, len(per)), 2)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--groundtruth", type=Path, default=DEFAULT_GT, help="folder of <id>_p1.png + <id>.gt.txt")
    ap.add_argument("--variant", action="append", default=[], help="extra pipeline settings, e.g. psm=6,osd=0")
    ap.add_argument("--out", type=Path, default=None, help="write the JSON report here")
    args = ap.parse_args(argv)
    if not args.groundtruth.is_dir():
        print(f"error: {args.groundtruth}: no such folder; pass --groundtruth", file=sys.stderr)
        return 2
    if not samples(args.groundtruth):
        print(f"error: {args.groundtruth}: no <id>_p1.png with <id>.gt.txt inside", file=sys.stderr)
        return 2
    variants = [("pipeline", OcrSettings()), *[parse_variant(v) for v in args.variant]]
    report = run(args.groundtruth, variants)
    text = json.dumps(report, ensure_ascii=False, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", "utf-8")
    print(json.dumps(report["summary"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
