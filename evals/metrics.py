"""Deterministic metrics (no LLM judge): retrieval keyed on document + evidence span, answer
containment after accent folding with OCR tolerance, abstention."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from ingest.textnorm import repaired

FUZZY_MIN = 0.8  # similarity a must_include string needs against an OCR-garbled window of the answer


def comparable(text: str) -> list[str]:
    """Folded, OCR-repaired tokens without punctuation (the form answers are compared in)."""
    return re.findall(r"[a-z0-9]+(?:[,.][0-9]+)?", repaired(text))


def contains(answer: str, key: str) -> bool:
    """``key`` appears in ``answer`` after folding; OCR-garbled spellings match at ≥ FUZZY_MIN similarity."""
    a, k = comparable(answer), comparable(key)
    if not k:
        return True
    a_s, k_s = " ".join(a), " ".join(k)
    if re.search(rf"(?<![a-z0-9]){re.escape(k_s)}(?![a-z0-9])", a_s):
        return True
    if any(ch.isdigit() for ch in k_s):  # numbers must match exactly
        return False
    n = len(k)
    for size in {max(1, n - 1), n, n + 1}:
        for i in range(0, max(1, len(a) - size + 1)):
            window = " ".join(a[i:i + size])
            if SequenceMatcher(None, window, k_s).ratio() >= FUZZY_MIN:
                return True
    return False


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def first_hit_rank(citations: list[dict], spans: list[tuple[str, int, int]]) -> int | None:
    """1-based rank of the first citation from the right document whose span overlaps an evidence span."""
    for c in citations:
        for f, s, e in spans:
            if c["source_file"] == f and overlaps(c["start"], c["end"], s, e):
                return int(c["rank"])
    return None


def doc_rank(citations: list[dict], files: tuple[str, ...]) -> int | None:
    for c in citations:
        if c["source_file"] in files:
            return int(c["rank"])
    return None
