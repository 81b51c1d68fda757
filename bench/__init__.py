"""Benchmarks of kehoach-qa against its baselines, on the real corpus and at 200,000 synthetic chunks.

``python -m bench`` / ``kehoach-bench`` (see :mod:`bench.cli`); the results land in ``docs/BENCHMARKS.md``.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_GOLD = REPO_ROOT / "evals" / "gold" / "gold.jsonl"
RESULTS_DIR = REPO_ROOT / "var" / "bench"
