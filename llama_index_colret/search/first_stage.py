"""The compact first-stage representation of a page: its patch grid mean-pooled along rows.

Each run of ``pool`` horizontally adjacent cells of one grid row becomes one unit vector (the mean of the
cells, normalised); prompt and global-tile vectors are left out. A ColQwen2 page of 31 x 24 cells gives
31 x 12 = 372 vectors instead of ~750. Pooling along rows keeps text lines apart (one line of print is
about one cell row), which is why it beats square 2 x 2 pooling at the same size; pairs, not runs of 4,
because the exact top 10 is a dense tail of near-ties that coarser pooling cannot order (recall@10 at
10,000 pages: 0.91 against 0.78 for runs of 4; benchmarks/first_stage_choice.py and benchmarks/scale.py,
which also measured MUVERA encodings and single mean vectors). Pure numpy.
"""

from __future__ import annotations

import numpy as np

from ..geometry import PatchGrid

FIRST_STAGE_POOL = 2  # cells per pooled vector
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
    if pool <= 0:
        raise ValueError(f"pool must be positive, got {pool}")
    cells = np.asarray(vectors, dtype=np.float32)[np.asarray(patch_positions)]  # (n_rows * n_cols, dim)
    cells = cells.reshape(grid.n_rows, grid.n_cols, -1)  # (n_rows, n_cols, dim)
    n_runs = -(-grid.n_cols // pool)
    starts = np.arange(n_runs) * pool  # (n_runs,)
    sums = np.add.reduceat(cells, starts, axis=1)  # (n_rows, n_runs, dim)
    norms = np.linalg.norm(sums, axis=2, keepdims=True)  # (n_rows, n_runs, 1)
    first = cells[:, starts]  # (n_rows, n_runs, dim) fallback
    out = np.where(norms >= _MIN_NORM, sums / np.maximum(norms, _MIN_NORM), first)
    return out.reshape(grid.n_rows * n_runs, -1)  # (n_rows * n_runs, dim)
