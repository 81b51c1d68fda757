"""Deterministic dev/test split of the bundled gold set (``evals/gold/gold.jsonl``).

Questions are grouped into strata by (plan, category); inside a stratum they are ordered by the SHA-256 of
their id and dealt alternately to dev and test.  A stratum of odd size gives its extra question to whichever
side the previous odd stratum did not, so the halves stay within one question of each other.  The same gold
file always gives the same two files: ``python -m evals.split`` rewrites them, and a test checks that the files
in the repository are exactly what it writes (and that the frozen test file has not changed).
"""

from __future__ import annotations

import argparse
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from evals.gold import GoldItem, dump_gold, load_gold

GOLD_DIR = Path(__file__).resolve().parent / "gold"
BUNDLED = GOLD_DIR / "gold.jsonl"
BUNDLED_DEV = GOLD_DIR / "bundled-dev.jsonl"
BUNDLED_TEST = GOLD_DIR / "bundled-test.jsonl"
UNSEEN_DEV = GOLD_DIR / "unseen-dev.jsonl"


def stratum(item: GoldItem) -> tuple[str, str]:
    """(plan, category): the one plan the question is about ("(several)" for a cross-plan question, "(none)" for
    an unanswerable one) and its category."""
    plan = item.doc_files[0] if len(item.doc_files) == 1 else "(several)" if item.doc_files else "(none)"
    return plan, item.category


def _id_hash(item: GoldItem) -> str:
    return hashlib.sha256(item.id.encode("utf-8")).hexdigest()


def split_gold(items: Sequence[GoldItem]) -> tuple[list[GoldItem], list[GoldItem]]:
    """``(dev, test)``, each in the gold file's order."""
    strata: dict[tuple[str, str], list[GoldItem]] = defaultdict(list)
    for it in items:
        strata[stratum(it)].append(it)
    to_test: set[str] = set()
    odd_to_test = False
    for key in sorted(strata):
        group = sorted(strata[key], key=_id_hash)
        start = 1 if len(group) % 2 == 0 or not odd_to_test else 0
        to_test.update(it.id for it in group[start::2])
        if len(group) % 2:
            odd_to_test = not odd_to_test
    return [it for it in items if it.id not in to_test], [it for it in items if it.id in to_test]


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_split(gold: Path = BUNDLED, dev: Path = BUNDLED_DEV, test: Path = BUNDLED_TEST) -> tuple[int, int]:
    d, t = split_gold(load_gold(gold))
    dump_gold(d, dev)
    dump_gold(t, test)
    return len(d), len(t)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.split", description=__doc__.splitlines()[0])
    ap.add_argument("--gold", type=Path, default=BUNDLED)
    ap.add_argument("--dev", type=Path, default=BUNDLED_DEV)
    ap.add_argument("--test", type=Path, default=BUNDLED_TEST)
    args = ap.parse_args(argv)
    n_dev, n_test = write_split(args.gold, args.dev, args.test)
    print(f"dev {n_dev} questions -> {args.dev}\ntest {n_test} questions -> {args.test} "
          f"(sha256 {file_sha256(args.test)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
