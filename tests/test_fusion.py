"""Fusion is a pure function: checked on hand-written hit lists."""

from __future__ import annotations

import pytest

from retriever.fusion import Hit, rrf, weighted


def H(*pairs):
    return [Hit(c, s) for c, s in pairs]


def test_rrf_rewards_agreement():
    lex = H(("a", 9.0), ("b", 5.0), ("c", 1.0))
    dense = H(("b", 0.9), ("a", 0.8), ("d", 0.7))
    out = rrf([lex, dense], k=60)
    assert [h.chunk_id for h in out][:2] in (["a", "b"], ["b", "a"])
    assert {h.chunk_id for h in out} == {"a", "b", "c", "d"}
    assert out[0].score == pytest.approx(1 / 61 + 1 / 62)


def test_rrf_ties_broken_by_chunk_id():
    out = rrf([H(("z", 1.0)), H(("y", 1.0))])
    assert [h.chunk_id for h in out] == ["y", "z"]


def test_weighted_keeps_score_gaps():
    lex = H(("a", 60.0), ("b", 30.0), ("c", 29.0))  # a far ahead lexically
    dense = H(("c", 0.81), ("b", 0.80), ("a", 0.79))  # dense nearly flat
    out = weighted([lex, dense], weights=[0.6, 0.4])
    assert out[0].chunk_id == "a"
    assert out[0].score == pytest.approx(0.6 * 1.0 + 0.4 * 0.0)


def test_weighted_missing_from_one_list_scores_zero_there():
    out = weighted([H(("a", 2.0), ("b", 1.0)), H(("c", 1.0))], weights=[0.5, 0.5])
    scores = {h.chunk_id: h.score for h in out}
    assert scores == {"a": 0.5, "b": 0.0, "c": 0.5}


def test_weights_must_match_lists():
    with pytest.raises(ValueError):
        rrf([H(("a", 1.0))], weights=[1.0, 2.0])
    with pytest.raises(ValueError):
        weighted([H(("a", 1.0))], weights=[1.0, 2.0])


def test_empty_lists():
    assert rrf([[], []]) == []
    assert weighted([[], []], weights=[0.5, 0.5]) == []
