"""Approximate token matching for OCR text (one edit away)."""

from __future__ import annotations


def edit1(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by at most one substitution, insertion or deletion."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


def near_any(token: str, vocab: set[str], min_len: int = 3) -> bool:
    """``token`` is in ``vocab``, or (tokens of ``min_len``+ letters) within one edit of a word in it."""
    if token in vocab:
        return True
    if len(token) < min_len:
        return False
    return any(abs(len(v) - len(token)) <= 1 and edit1(token, v) for v in vocab)
