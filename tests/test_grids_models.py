"""Patch grids against the real processors and models: grids come from processor outputs, the processor's
image-token count equals ``grid.n_tokens``, and a painted cell moves the vector the grid says it should."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw
from transformers import AutoConfig, AutoProcessor

from llama_index_colret.embed.embedder import ColEmbedder
from llama_index_colret.embed.families import FAMILIES as HOOKS
from llama_index_colret.geometry import PatchGrid
from llama_index_colret.testing.tiny_models import FAMILIES

SIZES = [(1275, 1650), (1650, 1275), (612, 792), (300, 200)]


def _noise_page(width: int, height: int) -> Image.Image:
    """A textured page, so that every cell has content of its own."""
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8))


def _paint(img: Image.Image, grid: PatchGrid, row: int, col: int) -> Image.Image:
    """``img`` with the middle half of cell ``(row, col)`` painted red: the margin keeps the resampling
    kernel of the processor's resize from reaching the neighbouring cells."""
    out = img.copy()
    x0, y0, x1, y1 = grid.cell_box(row, col).to_pixels(*img.size)
    mx, my = (x1 - x0) // 4, (y1 - y0) // 4
    ImageDraw.Draw(out).rectangle([x0 + mx, y0 + my, x1 - mx, y1 - my], fill=(255, 0, 0))
    return out


@pytest.fixture(scope="module")
def parts(tiny_model_dir) -> dict[str, tuple[object, object]]:
    return {
        f: (AutoProcessor.from_pretrained(tiny_model_dir(f)), AutoConfig.from_pretrained(tiny_model_dir(f)))
        for f in FAMILIES
    }


def test_colqwen2_grid_is_what_image_grid_thw_implies(parts) -> None:
    processor, config = parts["colqwen2"]
    hook = HOOKS["colqwen2"]
    page = Image.new("RGB", (1275, 1650), "white")
    for cap, expected in [(768, (31, 24)), (None, (10, 7))]:  # 768: the public checkpoints' cap; None: tiny's own
        batch = hook.process_pages(processor, [page], cap)
        _, h, w = batch["image_grid_thw"][0].tolist()
        grid = hook.page_grid(processor, config, batch, 0)
        assert (grid.n_rows, grid.n_cols) == (h // 2, w // 2) == expected
        assert int((batch["input_ids"][0] == processor.image_token_id).sum()) == grid.n_tokens


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("size", SIZES)
def test_processor_image_token_count_equals_grid_tokens(family: str, size: tuple[int, int], parts) -> None:
    processor, config = parts[family]
    hook = HOOKS[family]
    batch = hook.process_pages(processor, [Image.new("RGB", size, "white")], None)
    grid = hook.page_grid(processor, config, batch, 0)
    assert hook.image_token_positions(processor, batch, 0).shape == (grid.n_tokens,)
    if family == "colqwen2":
        assert (grid.n_rows > grid.n_cols) == (size[1] > size[0])  # the grid follows the page's aspect
    if family == "colmodernvbert":
        info = processor.image_processor([Image.new("RGB", size, "white")], return_row_col_info=True)
        tile = grid.tile_rows
        assert (grid.n_rows // tile, grid.n_cols // tile) == (info["rows"][0][0], info["cols"][0][0])
        assert grid.n_global == tile * tile == processor.image_seq_len


def test_colqwen2_painted_cell_changes_its_merged_patch_rows(parts) -> None:
    """Input level: pixel_values rows come in 2x2 merge blocks, block ``k`` is raster cell ``k``."""
    processor, config = parts["colqwen2"]
    hook = HOOKS["colqwen2"]
    page = _noise_page(1275, 1650)
    before = hook.process_pages(processor, [page], None)
    grid = hook.page_grid(processor, config, before, 0)
    for row, col in [(0, 0), (3, 5), (grid.n_rows - 1, grid.n_cols - 1)]:
        after = hook.process_pages(processor, [_paint(page, grid, row, col)], None)
        changed = (before["pixel_values"][0] != after["pixel_values"][0]).any(dim=1)  # (n_patches_14px,)
        blocks = np.unique(np.flatnonzero(changed.numpy()) // 4)  # merge block of each changed 14-px patch
        assert blocks.tolist() == [row * grid.n_cols + col]


def test_colmodernvbert_painted_cell_changes_its_tile_only(parts) -> None:
    """Input level: pixel_values holds the tiles in raster order, then the global tile."""
    processor, config = parts["colmodernvbert"]
    hook = HOOKS["colmodernvbert"]
    page = _noise_page(1275, 1650)
    before = hook.process_pages(processor, [page], None)
    grid = hook.page_grid(processor, config, before, 0)
    tiles_across = grid.n_cols // grid.tile_cols
    n_tiles = tiles_across * grid.n_rows // grid.tile_rows
    for row, col in [(0, 0), (6, 9), (grid.n_rows - 1, 2)]:
        after = hook.process_pages(processor, [_paint(page, grid, row, col)], None)
        diff = (before["pixel_values"][0] != after["pixel_values"][0]).flatten(1).any(dim=1)  # (n_tiles + 1,)
        tile = (row // grid.tile_rows) * tiles_across + col // grid.tile_cols
        assert np.flatnonzero(diff.numpy()).tolist() == [tile, n_tiles]  # its tile and the global tile


@pytest.mark.parametrize("family", ["colqwen2", "colmodernvbert"])
def test_painted_cell_moves_its_own_output_vector_most(family: str, tiny_model_dir) -> None:
    """Output level: with 2 random layers each token's residual stream still dominates its output, so the
    painted cell's vector (found through patch_positions) moves far more than any other. ColPali is left out:
    its Gemma decoder attends across the whole image prefix and mixes tokens too much to single one out."""
    emb = ColEmbedder.from_pretrained(tiny_model_dir(family))
    page = _noise_page(1275, 1650)
    base = emb.embed_pages([page])[0]
    grid = base.grid
    for row, col in [(0, 0), (3, 5), (grid.n_rows - 1, grid.n_cols - 1), (7, 2)]:
        moved = emb.embed_pages([_paint(page, grid, row, col)])[0]
        delta = np.linalg.norm(moved.patch_vectors - base.patch_vectors, axis=1)  # (n_rows * n_cols,)
        order = np.argsort(delta)[::-1]
        assert order[0] == row * grid.n_cols + col
        assert delta[order[0]] > 1.5 * delta[order[1]]
