"""One progress bar for long loops (embedding, evaluation suites)."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from tqdm import tqdm


def progress_bar(items: Iterable, desc: str, unit: str, enabled: bool = True) -> Iterable:
    """A tqdm bar on stderr; redrawn at most every 10 s when stderr is not a terminal (CI logs stay short)."""
    interval = 0.1 if sys.stderr.isatty() else 10.0
    return tqdm(items, desc=desc, unit=unit, disable=not enabled, mininterval=interval)
