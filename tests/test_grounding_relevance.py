"""Pure grounding math: patch relevance map, region relevance, hot spots, options validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llama_index_colret.embed.types import PageEmbedding, QueryEmbedding
from llama_index_colret.errors import GroundingError
from llama_index_colret.geometry import BBox, PatchGrid
from llama_index_colret.grounding import GroundingOptions, ground_page, ground_vectors
from llama_index_colret.grounding.hotspots import connected_components, hotspots
from llama_index_colret.grounding.relevance import patch_relevance, region_relevance
from llama_index_colret.ingest.page import Region


def unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def region(x0: float, y0: float, x1: float, y1: float, text: str = "t", **kw) -> Region:
    return Region(text, BBox(x0, y0, x1, y1), **kw)


# -- patch relevance ---------------------------------------------------------------------------------


def test_patch_relevance_max_equals_loop_reference_on_non_square_grid() -> None:
    rng = np.random.default_rng(0)
    grid = PatchGrid(3, 5)
    q, d = unit(rng, 4, 16), unit(rng, 15, 16)
    rmap = patch_relevance(q, d, grid)
    assert rmap.shape == (3, 5)
    for r in range(3):
        for c in range(5):
            ref = max(float(q[i] @ d[r * 5 + c]) for i in range(4))  # raster: cell (r, c) is vector r*n_cols+c
            assert rmap[r, c] == pytest.approx(ref, abs=1e-6)


def test_patch_relevance_puts_a_matching_vector_at_its_raster_cell() -> None:
    rng = np.random.default_rng(1)
    grid = PatchGrid(4, 7)
    d = unit(rng, 28, 32)
    q = d[2 * 7 + 5][None]  # the query is patch (row 2, col 5)
    rmap = patch_relevance(q, d, grid)
    assert np.unravel_index(np.argmax(rmap), rmap.shape) == (2, 5)


def test_patch_relevance_mean_and_votes() -> None:
    rng = np.random.default_rng(2)
    grid = PatchGrid(2, 3)
    q, d = unit(rng, 5, 8), unit(rng, 6, 8)
    s = q @ d.T  # (5, 6)
    mean = patch_relevance(q, d, grid, options=GroundingOptions(patch_reduce="mean"))
    np.testing.assert_allclose(mean.reshape(-1), s.mean(axis=0), atol=1e-6)
    votes = patch_relevance(q, d, grid, options=GroundingOptions(patch_reduce="votes"))
    expected = np.bincount(s.argmax(axis=1), minlength=6) / 5
    np.testing.assert_allclose(votes.reshape(-1), expected)
    assert votes.sum() == pytest.approx(1.0)


def test_votes_split_on_ties() -> None:
    d = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], dtype=np.float32)  # two equal pairs
    q = np.array([[1.0, 0.0]], dtype=np.float32)
    votes = patch_relevance(q, d, PatchGrid(2, 2), options=GroundingOptions(patch_reduce="votes"))
    np.testing.assert_allclose(votes, [[0.5, 0.5], [0.0, 0.0]])


def test_augmentation_tokens_are_left_out_by_default_and_in_on_request() -> None:
    d = np.eye(4, dtype=np.float32)  # 2x2 grid, one axis per cell
    q = np.array([[1, 0, 0, 0], [0, 0, 0, 1]], dtype=np.float32)  # token 1 is augmentation, matches cell (1, 1)
    aug = np.array([False, True])
    grid = PatchGrid(2, 2)
    np.testing.assert_allclose(patch_relevance(q, d, grid, aug), [[1, 0], [0, 0]])
    with_aug = patch_relevance(q, d, grid, aug, GroundingOptions(use_augmentation=True))
    np.testing.assert_allclose(with_aug, [[1, 0], [0, 1]])
    only_aug = patch_relevance(q[1:], d, grid, aug[1:])  # nothing else left: falls back to all tokens
    np.testing.assert_allclose(only_aug, [[0, 0], [0, 1]])


def test_empty_query_gives_zero_map() -> None:
    rmap = patch_relevance(np.zeros((0, 8), np.float32), np.ones((6, 8), np.float32), PatchGrid(2, 3))
    np.testing.assert_array_equal(rmap, np.zeros((2, 3)))


@pytest.mark.parametrize(
    ("q_shape", "d_shape", "match"),
    [((2, 8), (5, 8), "5 patch vectors for a 2x3 grid"), ((2, 4), (6, 8), "dim 4"), ((8,), (6, 8), "2-D")],
)
def test_shape_mismatch_raises_grounding_error(q_shape, d_shape, match) -> None:
    with pytest.raises(GroundingError, match=match):
        patch_relevance(np.ones(q_shape, np.float32), np.ones(d_shape, np.float32), PatchGrid(2, 3))


def test_augmentation_mask_of_wrong_length_raises() -> None:
    with pytest.raises(GroundingError, match="3 augmentation flags for 2 query vectors"):
        patch_relevance(np.ones((2, 4)), np.ones((4, 4)), PatchGrid(2, 2), np.zeros(3, bool))


# -- region relevance --------------------------------------------------------------------------------


def reference_mean(rmap: np.ndarray, box: BBox, grid: PatchGrid) -> float:
    num = den = 0.0
    for r in range(grid.n_rows):
        for c in range(grid.n_cols):
            a = box.intersection_area(grid.cell_box(r, c))
            num += a * rmap[r, c]
            den += a
    return num / den


def test_region_mean_is_coverage_weighted_not_iou() -> None:
    grid = PatchGrid(2, 4)
    rmap = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    # covers 3/4 of cell (0, 0) and 1/4 of cell (0, 1): mean = (0.75*1 + 0.25*0) / 1 in cell units
    box = BBox(1 / 16, 0.0, 5 / 16, 0.5)
    score = region_relevance(rmap, [Region("a", box)], grid)
    assert score[0] == pytest.approx(0.75)
    assert score[0] == pytest.approx(reference_mean(rmap, box, grid))


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(1, 9),
    cols=st.integers(1, 9),
    seed=st.integers(0, 10_000),
    box=st.tuples(*[st.floats(0.0, 1.0) for _ in range(4)]),
)
def test_region_mean_matches_reference_and_lies_within_covered_cells(rows, cols, seed, box) -> None:
    x0, x1 = sorted(box[::2])
    y0, y1 = sorted(box[1::2])
    bbox = BBox(x0, y0, x1, y1)
    grid = PatchGrid(rows, cols)
    rmap = np.random.default_rng(seed).standard_normal((rows, cols))
    mean, mx = (
        region_relevance(rmap, [Region("r", bbox)], grid, GroundingOptions(region_reduce=k)) for k in ("mean", "max")
    )
    covered = [rmap[r, c] for r in range(rows) for c in range(cols) if bbox.intersection_area(grid.cell_box(r, c)) > 0]
    if not covered:
        assert mean[0] == 0.0 and mx[0] == 0.0
        return
    assert mean[0] == pytest.approx(reference_mean(rmap, bbox, grid), abs=1e-9)
    assert min(covered) - 1e-9 <= mean[0] <= max(covered) + 1e-9
    assert mx[0] == pytest.approx(max(covered))


def test_region_quantile_between_mean_and_max_and_its_extremes() -> None:
    grid = PatchGrid(1, 4)
    rmap = np.array([[0.1, 0.2, 0.3, 0.9]])
    regions = [Region("all", BBox(0, 0, 1, 1))]
    q = {
        x: region_relevance(rmap, regions, grid, GroundingOptions(region_reduce="quantile", quantile=x))[0]
        for x in (0.0, 0.5, 1.0)
    }
    assert q[0.0] == pytest.approx(0.375)  # every cell: the plain mean
    assert q[0.5] == pytest.approx((0.2 + 0.3 + 0.9) / 3)  # 'lower' quantile 0.5 of 4 values is the 2nd
    assert q[1.0] == pytest.approx(0.9)


def test_table_scores_by_its_best_cells_so_a_few_hot_cells_are_not_drowned() -> None:
    grid = PatchGrid(10, 10)
    rmap = 0.1 + 1e-4 * np.arange(100).reshape(10, 10)  # a cool background without ties
    rmap[0, :6] = 1.0  # the answer: 6 hot cells in the table's first row
    rmap[6:8, :] = 0.4  # a uniformly lukewarm paragraph
    table = region(0.0, 0.0, 1.0, 0.4, kind="table")  # 40 cells
    paragraph = region(0.0, 0.6, 1.0, 0.8)  # 20 cells
    default = region_relevance(rmap, [table, paragraph], grid)
    cells = rmap[:4].reshape(-1)  # the table's 40 cells
    top_quarter = cells[cells >= np.quantile(cells, 0.75, method="lower")].mean()  # its best 11
    np.testing.assert_allclose(default, [top_quarter, 0.4])
    assert default[0] > default[1]
    plain = region_relevance(rmap, [table, paragraph], grid, GroundingOptions(table_reduce="mean"))
    np.testing.assert_allclose(plain, [rmap[:4].mean(), 0.4])
    assert plain[0] < plain[1]
    as_text = region_relevance(rmap, [region(0.0, 0.0, 1.0, 0.4), paragraph], grid)  # same box, kind text
    np.testing.assert_allclose(as_text, plain)


def test_degenerate_regions_give_defined_scores() -> None:
    grid = PatchGrid(4, 4)
    rmap = np.arange(16, dtype=float).reshape(4, 4)  # cell (r, c) = 4r + c
    regions = [
        region(0.30, 0.55, 0.31, 0.56),  # far smaller than a patch, inside cell (2, 1)
        region(1.5, 1.5, 2.0, 2.0),  # outside the page
        region(0.5, 0.5, 0.5, 0.9),  # zero width
        region(-0.5, -0.5, 0.25, 0.25),  # sticks out of the page: clipped to cell (0, 0)
    ]
    scores = region_relevance(rmap, regions, grid)
    np.testing.assert_allclose(scores, [9.0, 0.0, 0.0, 0.0])
    assert not np.isnan(scores).any()
    g = ground_vectors(np.eye(4, dtype=np.float32)[:1], np.eye(16, 4, dtype=np.float32), grid, regions)
    np.testing.assert_array_equal(g.covered, [True, False, False, True])


def test_all_equal_map_scores_every_region_the_same() -> None:
    grid = PatchGrid(3, 2)
    rmap = np.full((3, 2), 0.4)
    regions = [region(0, 0, 1, 0.3), region(0.1, 0.5, 0.2, 0.6), region(0, 0, 1, 1)]
    for kind in ("mean", "max", "quantile"):
        np.testing.assert_allclose(region_relevance(rmap, regions, grid, GroundingOptions(region_reduce=kind)), 0.4)
    assert hotspots(rmap, [], grid) == []


def test_no_regions_gives_empty_scores() -> None:
    assert region_relevance(np.zeros((2, 2)), [], PatchGrid(2, 2)).shape == (0,)


def test_map_of_wrong_shape_raises() -> None:
    with pytest.raises(GroundingError, match=r"relevance map of shape \(2, 3\) for a 3x2 grid"):
        region_relevance(np.zeros((2, 3)), [], PatchGrid(3, 2))


# -- hot spots ---------------------------------------------------------------------------------------


def test_hotspot_box_is_the_uncovered_hot_component() -> None:
    grid = PatchGrid(6, 8)
    rmap = np.zeros((6, 8))
    rmap[3:5, 4:7] = 1.0  # a 2x3 block of hot cells at rows 3-4, cols 4-6
    rmap[0, 0] = 1.0  # a single hot cell, too small
    spots = hotspots(rmap, [region(0.0, 0.0, 0.5, 0.3)], grid)
    assert len(spots) == 1
    s = spots[0]
    assert (s.kind, s.source, s.text) == ("figure", "hotspot", "")
    assert s.bbox == BBox(4 / 8, 3 / 6, 7 / 8, 5 / 6)


def test_hot_cells_under_a_region_are_no_hotspot() -> None:
    grid = PatchGrid(6, 8)
    rmap = np.zeros((6, 8))
    rmap[3:5, 4:7] = 1.0
    assert hotspots(rmap, [region(0.5, 0.5, 0.875, 5 / 6)], grid) == []
    assert hotspots(rmap, [], grid, GroundingOptions(hotspots=False)) == []


def test_connected_components_are_four_connected_in_raster_order() -> None:
    mask = np.array([[1, 0, 1], [0, 1, 1], [1, 0, 0]], dtype=bool)
    comps = connected_components(mask)
    assert comps == [[(0, 0)], [(0, 2), (1, 1), (1, 2)], [(2, 0)]]


def test_ground_vectors_adds_hotspot_as_scored_figure_candidate() -> None:
    grid = PatchGrid(4, 4)
    d = np.tile(np.array([[0.0, 1.0]], np.float32), (16, 1))
    d[[10, 11, 14, 15]] = [1.0, 0.0]  # cells (2, 2), (2, 3), (3, 2), (3, 3) match the query
    g = ground_vectors(np.array([[1.0, 0.0]], np.float32), d, grid, [region(0, 0, 1, 0.5)])
    assert g.n_hotspots == 1 and g.regions[-1].bbox == BBox(0.5, 0.5, 1.0, 1.0)
    np.testing.assert_allclose(g.scores, [0.0, 1.0])
    assert g.best == 1


# -- options -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"patch_reduce": "sum"}, "patch_reduce='sum' is not one of max, mean, votes"),
        ({"region_reduce": "iou"}, "is not one of mean, max, quantile"),
        ({"level": "word"}, "is not one of block, line"),
        ({"quantile": 1.5}, r"quantile must be a number in \[0.0, 1.0\]"),
        ({"relative_alpha": -0.1}, "relative_alpha"),
        ({"percentile": 101}, "percentile"),
        ({"top_k": 0}, "top_k must be a positive integer"),
        ({"token_budget": 2.5}, "token_budget must be a positive integer"),
        ({"hotspot_min_side": True}, "hotspot_min_side"),
    ],
)
def test_invalid_options_raise_with_valid_values(kwargs, match) -> None:
    with pytest.raises(GroundingError, match=match):
        GroundingOptions(**kwargs)


def test_options_allow_switching_filters_off() -> None:
    o = GroundingOptions(relative_alpha=None, percentile=None, top_k=None, top_k_per_page=None, token_budget=None)
    assert o.top_k is None and "token_budget" in GroundingOptions.field_names()


@settings(max_examples=40, deadline=None)
@given(
    tiles=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    side=st.integers(1, 4),
    n_global=st.sampled_from([0, 4]),
    n_prompt=st.integers(0, 3),
    data=st.data(),
)
def test_ground_page_finds_a_token_at_its_cell_on_tiled_grids(tiles, side, n_global, n_prompt, data) -> None:
    """Tokens emitted tile-major: the query equal to model token k lights up `grid.cell_of_token(k)`."""
    grid = PatchGrid.for_tiles(tiles[0], tiles[1], side, n_global)
    vectors = np.eye(n_prompt + grid.n_tokens, dtype=np.float32)  # one axis per vector, model order
    page = PageEmbedding(vectors, n_prompt + grid.raster_order(), grid)
    k = data.draw(st.integers(0, grid.n_patches - 1))
    query = QueryEmbedding(vectors[n_prompt + k][None], ["w"], np.zeros(1, bool))
    cell_region = Region("cell", grid.cell_box(*grid.cell_of_token(k)))
    g = ground_page(query, page, [cell_region], GroundingOptions(hotspots=False))
    assert np.unravel_index(np.argmax(g.relevance_map), g.relevance_map.shape) == grid.cell_of_token(k)
    assert g.scores[0] == pytest.approx(1.0) and g.relevance_map.sum() == pytest.approx(1.0)
