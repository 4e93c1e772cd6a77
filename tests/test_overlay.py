"""Overlay pictures: heat map cells land on their page bands, boxes on their pixels, layouts have the right size."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from llama_index_colret.geometry import BBox, PatchGrid
from llama_index_colret.overlay import (
    BOX_COLORS,
    OverlayBox,
    OverlayPage,
    blend_heatmap,
    colormap,
    compose,
    draw_boxes,
    normalise_map,
    render_overlay,
    upsample_map,
)


def test_upsample_puts_each_cell_on_its_grid_box() -> None:
    grid = PatchGrid(3, 5)  # non-square, and 5 does not divide the width
    rel = np.arange(15, dtype=np.float64).reshape(3, 5)  # (n_rows, n_cols)
    width, height = 203, 151
    up = upsample_map(rel, width, height)
    assert up.shape == (height, width)
    for r in range(3):
        for c in range(5):
            x0, y0, x1, y1 = grid.cell_box(r, c).to_pixels(width, height)
            # every pixel strictly inside the cell's pixel box (one pixel margin for rounding) has its value
            block = up[y0 + 1 : y1 - 1, x0 + 1 : x1 - 1]
            assert block.size > 0 and np.all(block == rel[r, c])


def test_normalise_map_and_errors() -> None:
    np.testing.assert_allclose(normalise_map(np.array([[2.0, 4.0], [3.0, 2.0]])), [[0, 1], [0.5, 0]])
    assert not normalise_map(np.full((2, 2), 7.0)).any()
    with pytest.raises(ValueError, match="n_rows, n_cols"):
        normalise_map(np.zeros(4))
    with pytest.raises(ValueError, match="finite"):
        normalise_map(np.array([[0.0, np.nan]]))


def test_colormap_ends() -> None:
    lo, hi = colormap(np.array([0.0, 1.0]))
    assert hi[0] > 200 and hi[2] < 50  # red at the top
    assert lo[2] > lo[0]  # blue at the bottom


def test_blend_heatmap_marks_the_hot_cell() -> None:
    white = Image.new("RGB", (120, 80), "white")
    rel = np.zeros((2, 3))  # (n_rows, n_cols)
    rel[1, 2] = 1.0
    out = np.asarray(blend_heatmap(white, rel, alpha=0.6)).astype(int)  # (80, 120, 3)
    hot = out[60, 100]  # inside cell (1, 2)
    cold = out[20, 20]  # inside cell (0, 0)
    assert hot[0] > hot[2] + 50  # reddish
    assert cold[2] > cold[0]  # bluish tint
    assert (255 - cold).sum() < (255 - hot).sum()  # the hot cell is painted more strongly
    assert np.array_equal(blend_heatmap(white, rel, alpha=0.0), white)
    with pytest.raises(ValueError, match="alpha"):
        blend_heatmap(white, rel, alpha=1.5)


def test_draw_boxes_outlines_the_box_and_leaves_the_inside() -> None:
    img = Image.new("RGB", (200, 100), "white")
    box = BBox(0.25, 0.4, 0.75, 0.9)
    out = np.asarray(draw_boxes(img, [OverlayBox(box, rank=2, label="p1")], line_width=2))
    x0, y0, x1, y1 = box.to_pixels(200, 100)
    assert tuple(out[(y0 + y1) // 2, x0]) == BOX_COLORS[1]  # left edge, rank 2 colour
    assert tuple(out[y1 - 1, (x0 + x1) // 2]) == BOX_COLORS[1]  # bottom edge
    assert tuple(out[(y0 + y1) // 2 + 5, (x0 + x1) // 2]) == (255, 255, 255)  # inside untouched
    assert (out[:y0, x0 : x0 + 10] != 255).any()  # the rank tag sits above the box


def test_compose_and_render_sizes() -> None:
    a, b = Image.new("RGB", (100, 60), "white"), Image.new("RGB", (80, 90), "white")
    assert compose([a, b], "row", gap=10).size == (190, 90)
    assert compose([a, b], "column", gap=10).size == (100, 160)
    with pytest.raises(ValueError, match="layout"):
        compose([a], "grid")
    one = render_overlay([OverlayPage(a, np.ones((2, 2)), [OverlayBox(BBox(0, 0, 0.5, 0.5), 1)])])
    assert one.size == a.size
    titled = render_overlay([OverlayPage(a, title="page 1"), OverlayPage(b, title="page 2")], layout="column")
    assert titled.width == 100 and titled.height > 60 + 90 + 16
