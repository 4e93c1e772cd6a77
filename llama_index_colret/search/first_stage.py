"""The compact first-stage representation of a page: its patch grid mean-pooled along rows.

Each run of ``pool`` horizontally adjacent cells of one grid row becomes one unit vector (the mean of the
cells, normalised); prompt and global-tile vectors are left out. A ColQwen2 page of 31 x 24 cells gives
31 x 12 = 372 vectors instead of ~750. Pooling along rows keeps text lines apart (one line of print is
about one cell row), which is why it beats square 2 x 2 pooling at the same size; pairs, not runs of 4,
because the exact top 10 is a dense tail of near-ties that coarser pooling cannot order (recall@10 at
10,000 pages: 0.91 against 0.78 for runs of 4; benchmarks/first_stage_choice.py and benchmarks/scale.py,
which also measured MUVERA encodings and single mean vectors).

Blank runs are left out (`first_stage_vectors`): a cell of empty paper is nearly the same vector on every
page at its position, so it tells pages apart by nothing, yet it costs the ANN scan as much as a word. A cell
is blank when its cosine with its position's blank center (`blank_centers`, learnt from stored pages of the
same grid) is at least `BLANK_MIN_COS`; a run whose cells are all blank is dropped. On the synthetic corpus
that is 43% of the cells; at 20,000 pages it cut the ANN time 1.8x at the same recall (benchmarks/README.md).
Pure numpy.
"""

from __future__ import annotations

import numpy as np

from ..geometry import PatchGrid

FIRST_STAGE_POOL = 2  # cells per pooled vector
BLANK_MIN_COS = 0.9  # cosine with the blank center from which a cell is blank (corpus: blank >= 0.98, text < 0.65)
_MIN_NORM = 1e-6


def pooled_rows(
    vectors: np.ndarray, patch_positions: np.ndarray, grid: PatchGrid, pool: int = FIRST_STAGE_POOL
) -> np.ndarray:
    """Row-pooled unit vectors of one page: ``(n_rows * ceil(n_cols / pool), dim)`` float32.

    ``vectors``: the page's stored ``(n_vectors, dim)``; ``patch_positions``: ``(n_rows * n_cols,)`` row of
    each raster cell in ``vectors``. A pooled mean too short to normalise (opposite cells) falls back to
    its run's first cell, so no zero vector is ever produced.

    >>> g = PatchGrid(1, 4)
    >>> v = np.eye(4, dtype=np.float32)
    >>> pooled_rows(v, np.arange(4), g, pool=2).astype(float).round(3).tolist()
    [[0.707, 0.707, 0.0, 0.0], [0.0, 0.0, 0.707, 0.707]]
    """
    return _pool_cells(_raster_cells(vectors, patch_positions), grid, pool)


def _raster_cells(vectors: np.ndarray, patch_positions: np.ndarray) -> np.ndarray:
    """The page's cell vectors in raster order, ``(n_rows * n_cols, dim)`` float32."""
    return np.asarray(vectors, dtype=np.float32)[np.asarray(patch_positions)]


def _pool_cells(cells: np.ndarray, grid: PatchGrid, pool: int) -> np.ndarray:
    """`pooled_rows` of raster ``cells`` ``(n_rows * n_cols, dim)``."""
    if pool <= 0:
        raise ValueError(f"pool must be positive, got {pool}")
    cells = cells.reshape(grid.n_rows, grid.n_cols, -1)  # (n_rows, n_cols, dim)
    n_runs = -(-grid.n_cols // pool)
    starts = np.arange(n_runs) * pool  # (n_runs,)
    sums = np.add.reduceat(cells, starts, axis=1)  # (n_rows, n_runs, dim)
    norms = np.linalg.norm(sums, axis=2, keepdims=True)  # (n_rows, n_runs, 1)
    first = cells[:, starts]  # (n_rows, n_runs, dim) fallback
    out = np.where(norms >= _MIN_NORM, sums / np.maximum(norms, _MIN_NORM), first)
    return out.reshape(grid.n_rows * n_runs, -1)  # (n_rows * n_runs, dim)


def first_stage_vectors(
    vectors: np.ndarray,
    patch_positions: np.ndarray,
    grid: PatchGrid,
    centers: np.ndarray | None = None,
    pool: int = FIRST_STAGE_POOL,
) -> np.ndarray:
    """The first stage of one page: `pooled_rows` less the runs whose cells are all blank, float32.

    ``centers``: ``(n_rows * n_cols, dim)`` unit blank center of each raster cell (`blank_centers`), or None
    (no centers for this grid: every run is kept). A page that is blank throughout keeps its first run, so
    every page has a first stage.

    >>> g = PatchGrid(1, 4)
    >>> v = np.eye(4, dtype=np.float32)
    >>> first_stage_vectors(v, np.arange(4), g, centers=v[[0, 1, 0, 0]], pool=2).astype(float).round(3).tolist()
    [[0.0, 0.0, 0.707, 0.707]]
    """
    cells = _raster_cells(vectors, patch_positions)  # (n_rows * n_cols, dim)
    pooled = _pool_cells(cells, grid, pool)  # (n_rows * n_runs, dim)
    if centers is None:
        return pooled
    blank = np.einsum("cd,cd->c", cells, centers) >= BLANK_MIN_COS  # (n_rows * n_cols,)
    blank = blank.reshape(grid.n_rows, grid.n_cols)  # (n_rows, n_cols)
    n_runs = -(-grid.n_cols // pool)
    padded = np.ones((grid.n_rows, n_runs * pool), dtype=bool)  # a short last run: its missing cells count as blank
    padded[:, : grid.n_cols] = blank
    keep = ~padded.reshape(grid.n_rows, n_runs, pool).all(axis=2).reshape(-1)  # (n_rows * n_runs,)
    return pooled[keep] if keep.any() else pooled[:1]


def blank_centers(cells: np.ndarray, rounds: int = 2) -> np.ndarray:
    """The blank center of each cell position from pages of one grid: ``(n_pages, n_cells, dim)`` unit cells
    -> ``(n_cells, dim)`` unit vectors.

    Start from the normalised mean of each position, then ``rounds`` times re-average over the cells within
    `BLANK_MIN_COS` of it, so text cells stop pulling the center away from empty paper. A position that has
    no blank cell keeps its mean, which text cells stay below (they differ from page to page).
    """
    cells = np.asarray(cells, dtype=np.float32)
    center = _unit_rows(cells.mean(axis=0))  # (n_cells, dim)
    for _ in range(rounds):
        near = np.einsum("pcd,cd->pc", cells, center) >= BLANK_MIN_COS  # (n_pages, n_cells)
        count = near.sum(axis=0)  # (n_cells,)
        blank_mean = np.einsum("pc,pcd->cd", near.astype(np.float32), cells)  # (n_cells, dim)
        center = np.where(count[:, None] > 0, _unit_rows(blank_mean), center)
    return center


def _unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), _MIN_NORM)
