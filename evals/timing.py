"""Timing helpers shared by the evaluation (``evals/``) and the benchmarks (``bench/``): timers, latency
percentiles, the CPU's name.  Lives in ``evals`` because ``bench`` may import ``evals``, never the reverse."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np


@contextmanager
def timed(out: dict[str, float], key: str):
    """``with timed(d, "embed_s"): ...`` stores the elapsed seconds (rounded) in ``d[key]``."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        out[key] = round(time.perf_counter() - t0, 4)


def latency_stats(seconds: Iterable[float]) -> dict[str, float | int | None]:
    """p50/p95/mean/max in milliseconds of per-call durations given in seconds."""
    xs = np.asarray(list(seconds), dtype=np.float64) * 1000
    if not len(xs):
        return {"n": 0, "p50_ms": None, "p95_ms": None, "mean_ms": None, "max_ms": None}
    return {"n": int(len(xs)), "p50_ms": round(float(np.percentile(xs, 50)), 2),
            "p95_ms": round(float(np.percentile(xs, 95)), 2), "mean_ms": round(float(xs.mean()), 2),
            "max_ms": round(float(xs.max()), 2)}


def time_calls(fn: Callable[[Any], object], items: list, warmup: int = 3, budget_s: float | None = None
               ) -> list[float]:
    """Per-call seconds of ``fn(item)`` for each item after ``warmup`` untimed calls, within ``budget_s``."""
    for item in items[:warmup]:
        fn(item)
    out: list[float] = []
    start = time.perf_counter()
    for item in items:
        t0 = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - t0)
        if budget_s is not None and time.perf_counter() - start > budget_s:
            break
    return out


def cpu_name() -> str | None:
    """The CPU's model name from /proc/cpuinfo (None where there is none to read)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None
