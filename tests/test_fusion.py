"""Reciprocal rank fusion (`search.fusion`): known sums, weights, ties, and refused input."""

from __future__ import annotations

import pytest

from llama_index_colret.search.fusion import RRF_K, reciprocal_rank_fusion


def test_scores_are_weighted_reciprocal_rank_sums() -> None:
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"], ["a"]]))
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62 + 1 / 61)
    assert fused["b"] == pytest.approx(1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    weighted = dict(reciprocal_rank_fusion([["a", "b"], ["b", "a"]], weights=[1.0, 3.0], k=0))
    assert weighted == pytest.approx({"a": 1 + 3 / 2, "b": 1 / 2 + 3})
    assert RRF_K == 60


def test_order_and_ties() -> None:
    assert [k for k, _ in reciprocal_rank_fusion([["x", "y"], ["y", "x"]])] == ["x", "y"]  # tie: seen first
    assert [k for k, _ in reciprocal_rank_fusion([["p", "q"], ["r"]])] == ["p", "r", "q"]  # tie p/r: best rank
    assert [k for k, _ in reciprocal_rank_fusion([["a"], ["b"]], weights=[0.0, 1.0])] == ["b", "a"]
    assert reciprocal_rank_fusion([]) == [] and reciprocal_rank_fusion([[], []]) == []


def test_refused_input() -> None:
    with pytest.raises(ValueError, match="2 weights for 1 rankings"):
        reciprocal_rank_fusion([["a"]], weights=[1.0, 1.0])
    with pytest.raises(ValueError, match="twice"):
        reciprocal_rank_fusion([["a", "a"]])
    with pytest.raises(ValueError, match="weights must be >= 0"):
        reciprocal_rank_fusion([["a"]], weights=[-1.0])
    with pytest.raises(ValueError, match="k must be"):
        reciprocal_rank_fusion([["a"]], k=-1)
