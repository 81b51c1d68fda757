"""Measure OCR diacritic restoration: ``python -m evals.restore``.

(a) held-out clean plan text garbled by a noise model fitted to the real OCR plans (the per-character
    confusion counts of ``ingest/data/ocr_confusion.json``, fitted on the dev half of the hand-corrected
    sample), restored, compared with the clean original;
(b) the test half of the hand-corrected sample ``evals/ocr_restore_sample.jsonl`` (lines of the two OCR
    plans, restored in the context of their whole plan), restored vs corrected, and the printed baseline;
plus clean pass-through (share of syllables a clean plan keeps) and speed (syllables/s).

Syllable accuracy: the share of the reference's syllables (tokens that are well-formed Vietnamese
syllables) whose aligned token in the output is the same syllable (case and old/new tone placement
ignored).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ingest.restore import Restorer, get_restorer
from ingest.restore_channel import EPS, align_tokens, load_channel, ocr_words
from ingest.restore_model import ModelError, read_sample
from ingest.syllables import is_syllable, split_tone

log = logging.getLogger(__name__)

DEFAULT_HELD_OUT = "../shared/external/plans-dev/d2_cantho_trogiupxahoi.txt"
DEFAULT_CLEAN = "corpus/003_d8f725de1b77ed97.txt"


@dataclass
class Score:
    correct: int = 0
    total: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def add(self, other: Score) -> None:
        self.correct += other.correct
        self.total += other.total


def canonical(token: str) -> tuple[str, str]:
    """Syllable identity ignoring case and tone-mark placement ("hòa" == "hoà")."""
    return split_tone(unicodedata.normalize("NFC", token.lower()))


def syllable_score(output: str, reference: str) -> Score:
    """Aligned syllable accuracy of ``output`` against ``reference`` (see module doc)."""
    out, ref = ocr_words(output), ocr_words(reference)
    score = Score()
    for i, j in align_tokens(out, ref):
        if j is None or not is_syllable(ref[j].lower()):
            continue
        score.total += 1
        score.correct += i is not None and canonical(out[i]) == canonical(ref[j])
    return score


# ---- (b) hand-corrected sample ---------------------------------------------------------------------

def restored_lines(restorer: Restorer, plan: Path) -> list[str]:
    """Restore a whole plan (context across lines) and return its lines."""
    text = unicodedata.normalize("NFC", plan.read_text(encoding="utf-8"))
    return restorer.restore(text).text.split("\n")


def sample_scores(restorer: Restorer, sample: Path, corpus: Path, split: str) -> dict:
    rows = read_sample(sample, None if split == "all" else split)
    cache: dict[str, list[str]] = {}
    before, after = Score(), Score()
    for row in rows:
        if row["plan"] not in cache:
            cache[row["plan"]] = restored_lines(restorer, corpus / row["plan"])
        restored = cache[row["plan"]][row["line"] - 1].strip()
        before.add(syllable_score(row["printed"], row["corrected"]))
        after.add(syllable_score(restored, row["corrected"]))
    return {"split": split, "lines": len(rows), "syllables": after.total,
            "printed_accuracy": round(before.accuracy, 4), "restored_accuracy": round(after.accuracy, 4)}


# ---- (a) synthetic garbling ------------------------------------------------------------------------

class NoiseModel:
    """Samples printed characters from the fitted true→printed counts (insertions from the EPS row)."""

    def __init__(self, counts: dict[str, dict[str, int]], seed: int = 7) -> None:
        self.rows = {t: (list(r), list(r.values())) for t, r in counts.items() if t != EPS and r}
        ins = counts.get(EPS, {})
        total_true = sum(sum(r.values()) for t, r in counts.items() if t != EPS) or 1
        self.ins_rate = sum(ins.values()) / total_true
        self.ins = (list(ins), list(ins.values())) if ins else None
        self.rng = random.Random(seed)

    def garble_char(self, ch: str) -> str:
        row = self.rows.get(ch.lower())
        out = self.rng.choices(*row)[0] if row else ch
        if ch.isupper():
            out = out.upper()
        if self.ins and self.rng.random() < self.ins_rate:
            out += self.rng.choices(*self.ins)[0]
        return out

    def garble(self, text: str) -> str:
        return "".join(self.garble_char(c) if c.isalpha() else c for c in text)


def synthetic_scores(restorer: Restorer, clean: Path, confusion: Path | None) -> dict:
    text = unicodedata.normalize("NFC", clean.read_text(encoding="utf-8"))
    channel = load_channel(confusion) if confusion else load_channel()
    garbled = NoiseModel(channel.counts).garble(text)
    restored = restorer.restore(garbled).text
    before, after = Score(), Score()
    for g_line, r_line, c_line in zip(garbled.split("\n"), restored.split("\n"), text.split("\n"), strict=True):
        before.add(syllable_score(g_line, c_line))
        after.add(syllable_score(r_line, c_line))
    return {"text": clean.name, "syllables": after.total, "garbled_accuracy": round(before.accuracy, 4),
            "restored_accuracy": round(after.accuracy, 4)}


# ---- pass-through and speed ------------------------------------------------------------------------

def passthrough(restorer: Restorer, clean: Path) -> dict:
    text = unicodedata.normalize("NFC", clean.read_text(encoding="utf-8"))
    result = restorer.restore(text)
    syllables = sum(1 for w in ocr_words(text) if is_syllable(w.lower()))
    changed = sum(1 for sp in result.spans if is_syllable(sp.original.lower()))
    return {"text": clean.name, "syllables": syllables, "changed": changed,
            "unchanged_share": round(1 - changed / max(syllables, 1), 4)}


def speed(restorer_factory, plans: list[Path]) -> dict:
    restorer = restorer_factory()
    texts = [unicodedata.normalize("NFC", p.read_text(encoding="utf-8")) for p in plans]
    words = sum(len(ocr_words(t)) for t in texts)
    start, cpu = time.perf_counter(), time.process_time()
    for t in texts:
        restorer.restore(t)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"plans": [p.name for p in plans], "words": words, "seconds": round(elapsed, 2),
            "cpu_seconds": round(cpu, 2), "syllables_per_s": round(words / elapsed),
            "syllables_per_cpu_s": round(words / cpu)}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m evals.restore", description=__doc__.split("\n")[0])
    p.add_argument("--sample", default="evals/ocr_restore_sample.jsonl")
    p.add_argument("--corpus", default="corpus", help="folder holding the sample's plans")
    p.add_argument("--split", default="test", choices=("test", "dev", "all"))
    p.add_argument("--held-out", default=DEFAULT_HELD_OUT, help="clean plan NOT in the LM's training text")
    p.add_argument("--clean", action="append", help="clean plan(s) for the pass-through check")
    p.add_argument("--model", default=None, help="restore model file (default ingest/data/restore_lm.json.gz)")
    p.add_argument("--confusion", default=None, help="confusion table (default ingest/data/ocr_confusion.json)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return p


def run(args: argparse.Namespace) -> dict:
    factory = lambda: Restorer(get_restorer(args.model, args.confusion).lm,  # noqa: E731 - fresh caches
                               get_restorer(args.model, args.confusion).channel)
    sample_plans = sorted({Path(args.corpus) / r["plan"] for r in read_sample(args.sample)})
    report = {"speed": speed(factory, sample_plans)}
    restorer = factory()
    report["sample"] = sample_scores(restorer, Path(args.sample), Path(args.corpus), args.split)
    report["synthetic"] = synthetic_scores(restorer, Path(args.held_out), args.confusion and Path(args.confusion))
    clean = args.clean or [DEFAULT_CLEAN, args.held_out]
    report["passthrough"] = [passthrough(restorer, Path(c)) for c in clean]
    report["model"] = restorer.info
    return report


def _print_text(r: dict) -> None:
    s, a = r["sample"], r["synthetic"]
    print(f"(b) hand-corrected sample, {s['split']} half: {s['lines']} lines, {s['syllables']} syllables")
    print(f"    printed vs corrected  {s['printed_accuracy']:.4f}")
    print(f"    restored vs corrected {s['restored_accuracy']:.4f}")
    print(f"(a) {a['text']} garbled by the fitted noise model: {a['syllables']} syllables")
    print(f"    garbled vs original   {a['garbled_accuracy']:.4f}")
    print(f"    restored vs original  {a['restored_accuracy']:.4f}")
    for p in r["passthrough"]:
        print(f"clean pass-through {p['text']}: {p['unchanged_share']:.4f} of {p['syllables']} syllables unchanged")
    sp = r["speed"]
    print(f"speed: {sp['words']} words of {len(sp['plans'])} OCR plans in {sp['seconds']} s wall "
          f"({sp['syllables_per_s']} syllables/s), {sp['cpu_seconds']} s CPU "
          f"({sp['syllables_per_cpu_s']} syllables/CPU-s), cold caches, one thread")
    print(f"model: {json.dumps(r['model'])}")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    args = _parser().parse_args(argv)
    try:
        report = run(args)
    except (ModelError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
