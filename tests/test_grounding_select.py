"""Selection of grounded regions: per-page filters, global ranking with explicit ties, token budget."""

from __future__ import annotations

import numpy as np
import pytest

from llama_index_colret.geometry import BBox
from llama_index_colret.grounding import GroundingOptions, PageGrounding, select
from llama_index_colret.grounding.select import page_candidates
from llama_index_colret.grounding.tables import estimate_tokens
from llama_index_colret.ingest.page import Region

ALL_ON = dict(relative_alpha=None, percentile=None, top_k_per_page=None, top_k=None, token_budget=None)


def page(scores: list[float], page_score: float = 0.0, texts: list[str] | None = None, covered=None) -> PageGrounding:
    texts = texts or [f"r{i}" for i in range(len(scores))]
    regions = [Region(t, BBox(0, i / 10, 1, (i + 1) / 10)) for i, t in enumerate(texts)]
    cov = np.ones(len(scores), bool) if covered is None else np.array(covered, bool)
    return PageGrounding(np.zeros((2, 2)), regions, np.array(scores, float), cov, page_score=page_score)


def picked(sel) -> list[tuple[int, int]]:
    return [(s.page_index, s.region_index) for s in sel.regions]


def test_estimate_tokens() -> None:
    assert estimate_tokens(Region("x" * 41, BBox(0, 0, 1, 1))) == 11
    assert estimate_tokens(Region("", BBox(0, 0, 1, 1))) == 1
    assert estimate_tokens(Region("caption", BBox(0, 0, 1, 1), kind="figure"), figure_tokens=300) == 300


def test_relative_alpha_is_measured_from_worst_to_best() -> None:
    g = page([0.2, 0.6, 1.0, 0.79, 0.8])
    opts = GroundingOptions(**{**ALL_ON, "relative_alpha": 0.75})  # cut = 0.2 + 0.75 * 0.8 = 0.8
    assert page_candidates(g, opts) == [2, 4]
    assert page_candidates(g, GroundingOptions(**{**ALL_ON, "relative_alpha": 1.0})) == [2]
    assert page_candidates(g, GroundingOptions(**{**ALL_ON, "relative_alpha": 0.0})) == [2, 4, 3, 1, 0]


def test_percentile_and_top_k_per_page() -> None:
    g = page([0.1, 0.5, 0.3, 0.9, 0.7])
    assert page_candidates(g, GroundingOptions(**{**ALL_ON, "percentile": 60})) == [3, 4, 1]
    assert page_candidates(g, GroundingOptions(**{**ALL_ON, "top_k_per_page": 2})) == [3, 4]


def test_ties_break_by_page_order_then_reading_order() -> None:
    pages = [page([0.5, 0.7, 0.7]), page([0.7, 0.5])]
    sel = select(pages, GroundingOptions(**{**ALL_ON, "page_weight": 0.0}))
    assert picked(sel) == [(0, 1), (0, 2), (1, 0), (0, 0), (1, 1)]
    assert [s.rank for s in sel.regions] == [1, 2, 3, 4, 5]


def test_all_equal_scores_keep_reading_order() -> None:
    sel = select([page([0.3] * 4)], GroundingOptions(**{**ALL_ON, "relative_alpha": 0.5, "top_k": 2}))
    assert picked(sel) == [(0, 0), (0, 1)]


def test_global_top_k_and_combined_score_use_page_weight() -> None:
    pages = [page([0.5, 0.4], page_score=0.2), page([0.45], page_score=0.9)]
    opts = GroundingOptions(**{**ALL_ON, "page_weight": 0.5, "top_k": 2})
    sel = select(pages, opts)
    assert picked(sel) == [(1, 0), (0, 0)]
    assert sel.regions[0].combined == pytest.approx(0.5 * 0.45 + 0.5 * 0.9)
    assert sel.regions[0].relevance == pytest.approx(0.45) and sel.regions[0].page_score == pytest.approx(0.9)


def test_token_budget_skips_what_overflows_but_keeps_the_best() -> None:
    texts = ["x" * 400, "x" * 40, "x" * 200, "x" * 8]  # 100, 10, 50, 2 tokens
    g = page([0.9, 0.8, 0.7, 0.6], texts=texts)
    sel = select([g], GroundingOptions(**{**ALL_ON, "token_budget": 60}))
    assert picked(sel) == [(0, 0)]  # the best alone exceeds the budget: kept, nothing else fits
    g2 = page([0.6, 0.8, 0.9, 0.7], texts=texts)
    sel2 = select([g2], GroundingOptions(**{**ALL_ON, "token_budget": 62}))
    assert picked(sel2) == [(0, 2), (0, 1), (0, 3)]  # 50 + 10 + 2; the 100-token region is skipped
    assert sel2.tokens_kept == 62 and sel2.tokens_total == 162 and sel2.n_candidates == 4


def test_uncovered_regions_are_never_selected_and_empty_pages_select_nothing() -> None:
    g = page([0.0, 0.2, 0.0], covered=[False, True, False])
    sel = select([g, page([])], GroundingOptions(**{**ALL_ON, "relative_alpha": 0.0}))
    assert picked(sel) == [(0, 1)]
    assert sel.n_candidates == 1 and sel.n_kept == 1
    empty = select([], GroundingOptions())
    assert empty.regions == [] and empty.tokens_total == 0 and empty.tokens_kept == 0


def test_default_options_select_at_most_top_k() -> None:
    pages = [page(list(np.linspace(0, 1, 8))) for _ in range(4)]
    sel = select(pages)
    defaults = GroundingOptions()
    assert sel.n_kept == defaults.top_k
    assert all(s.region_index in (7, 6, 5) for s in sel.regions)
