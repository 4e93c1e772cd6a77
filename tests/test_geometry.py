"""Property tests of the coordinate code: coverage, tile re-ordering, box conversions and PDF rotations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llama_index_colret.geometry import BBox, PatchGrid, coverage_matrix

coord = st.floats(min_value=-0.3, max_value=1.3, allow_nan=False)
GRIDS = [PatchGrid(31, 24), PatchGrid(24, 31), PatchGrid(10, 7), PatchGrid.for_tiles(5, 4, 4, n_global=16)]


@st.composite
def boxes(draw: st.DrawFn) -> BBox:
    x0, x1 = sorted((draw(coord), draw(coord)))
    y0, y1 = sorted((draw(coord), draw(coord)))
    return BBox(x0, y0, x1, y1)


@settings(max_examples=150, deadline=None)
@given(box=boxes(), grid_index=st.integers(0, len(GRIDS) - 1))
def test_coverage_rows_sum_to_the_clipped_area(box: BBox, grid_index: int) -> None:
    grid = GRIDS[grid_index]
    cov = coverage_matrix([box], grid)  # (1, n_rows * n_cols)
    assert cov.shape == (1, grid.n_patches)
    assert cov.min() >= 0
    assert cov.sum() == pytest.approx(box.clip().area, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(box=boxes())
def test_coverage_cells_match_intersection_with_each_cell(box: BBox) -> None:
    grid = GRIDS[0]
    cov = coverage_matrix([box], grid).reshape(grid.n_rows, grid.n_cols)  # (n_rows, n_cols)
    for r, c in [(0, 0), (15, 11), (30, 23), (7, 20)]:
        assert cov[r, c] == pytest.approx(box.intersection_area(grid.cell_box(r, c)), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(tr=st.integers(1, 4), tc=st.integers(1, 4), side=st.integers(1, 5))
def test_tile_major_to_raster_reorder(tr: int, tc: int, side: int) -> None:
    grid = PatchGrid.for_tiles(tr, tc, side, n_global=side * side)
    order = grid.raster_order()  # (n_rows * n_cols,) model-order index of each raster cell
    assert sorted(order.tolist()) == list(range(grid.n_patches))
    for cell, k in enumerate(order):
        assert grid.cell_of_token(int(k)) == divmod(cell, grid.n_cols)
    # a reference: build the model order tile by tile and look each cell up
    ref = np.empty((grid.n_rows, grid.n_cols), dtype=int)  # (n_rows, n_cols)
    k = 0
    for t_r in range(tr):
        for t_c in range(tc):
            for r in range(side):
                for c in range(side):
                    ref[t_r * side + r, t_c * side + c] = k
                    k += 1
    np.testing.assert_array_equal(order, ref.reshape(-1))
    assert grid.cell_of_token(grid.n_patches) is None  # the global tile has no cell


@settings(max_examples=100, deadline=None)
@given(box=boxes(), w=st.integers(10, 3000), h=st.integers(10, 3000))
def test_pixel_and_point_conversions_round_trip(box: BBox, w: int, h: int) -> None:
    back = BBox.from_pixels(*box.to_points(w, h), w, h)
    for a, b in zip(back.as_list(9), box.as_list(9), strict=True):
        assert a == pytest.approx(b, abs=1e-9)
    assert BBox.from_list(box.as_list(12)).as_list(9) == pytest.approx(box.as_list(9), abs=1e-9)
    x0, y0, x1, y1 = box.to_pixels(w, h)  # outward rounding contains the clipped box
    c = box.clip()
    assert x0 <= c.x0 * w + 1e-9 and y0 <= c.y0 * h + 1e-9 and x1 >= c.x1 * w - 1e-9 and y1 >= c.y1 * h - 1e-9


# A 612x792 page; a 10x20 rectangle whose PDF corner (left, bottom) = (100, 700), i.e. near the top-left of the
# unrotated page. Rendered frames: 0 -> portrait as is; 90 clockwise -> top-right; 180 -> bottom-right;
# 270 -> bottom-left. Expected normalised boxes below are worked out by hand.
PAGE = (0.0, 0.0, 612.0, 792.0)
RECT = (100.0, 700.0, 110.0, 720.0)  # left, bottom, right, top


@pytest.mark.parametrize(
    ("rotation", "expected"),
    [
        (0, (100 / 612, 72 / 792, 110 / 612, 92 / 792)),
        (90, (1 - 92 / 792, 100 / 612, 1 - 72 / 792, 110 / 612)),
        (180, (1 - 110 / 612, 1 - 92 / 792, 1 - 100 / 612, 1 - 72 / 792)),
        (270, (72 / 792, 1 - 110 / 612, 92 / 792, 1 - 100 / 612)),
    ],
)
def test_from_pdf_rect_rotations_map_known_corners(rotation: int, expected: tuple[float, ...]) -> None:
    box = BBox.from_pdf_rect(*RECT, page_box=PAGE, rotation=rotation)
    assert box.as_list(9) == pytest.approx(expected, abs=1e-9)
    # the box lands in the expected quadrant of the rendered page
    cx, cy = box.center
    quadrant = {0: (cx < 0.5, cy < 0.5), 90: (cx > 0.5, cy < 0.5), 180: (cx > 0.5, cy > 0.5), 270: (cx < 0.5, cy > 0.5)}
    assert all(quadrant[rotation])


def test_from_pdf_rect_with_offset_crop_box_and_bad_rotation() -> None:
    box = BBox.from_pdf_rect(50, 50, 150, 100, page_box=(50, 50, 250, 150), rotation=0)
    assert box.as_list(9) == pytest.approx([0.0, 0.5, 0.5, 1.0])
    with pytest.raises(ValueError, match="multiple of 90"):
        BBox.from_pdf_rect(0, 0, 1, 1, page_box=PAGE, rotation=45)
