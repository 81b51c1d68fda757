"""Fusion of ranked hit lists: pure functions, tested on hand-written lists."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    score: float


def _ranked(hits: list[Hit]) -> list[Hit]:
    return sorted(hits, key=lambda h: (-h.score, h.chunk_id))


def rrf(lists: list[list[Hit]], k: int = 60, weights: list[float] | None = None) -> list[Hit]:
    """Reciprocal rank fusion: score = Σ w_i / (k + rank_i); ties broken by chunk id."""
    weights = weights or [1.0] * len(lists)
    if len(weights) != len(lists):
        raise ValueError(f"{len(lists)} hit lists but {len(weights)} weights")
    scores: dict[str, float] = {}
    for w, hits in zip(weights, lists, strict=True):
        for rank, h in enumerate(_ranked(hits), start=1):
            scores[h.chunk_id] = scores.get(h.chunk_id, 0.0) + w / (k + rank)
    return _ranked([Hit(c, s) for c, s in scores.items()])


def _minmax(hits: list[Hit]) -> dict[str, float]:
    if not hits:
        return {}
    lo = min(h.score for h in hits)
    hi = max(h.score for h in hits)
    span = hi - lo
    return {h.chunk_id: (h.score - lo) / span if span > 0 else 1.0 for h in hits}


def weighted(lists: list[list[Hit]], weights: list[float]) -> list[Hit]:
    """Convex combination of min-max normalised scores; a chunk absent from a list scores 0 there."""
    if len(weights) != len(lists):
        raise ValueError(f"{len(lists)} hit lists but {len(weights)} weights")
    scores: dict[str, float] = {}
    for w, hits in zip(weights, lists, strict=True):
        for cid, s in _minmax(hits).items():
            scores[cid] = scores.get(cid, 0.0) + w * s
    return _ranked([Hit(c, s) for c, s in scores.items()])


FUSIONS = {"rrf": rrf, "weighted": weighted}
