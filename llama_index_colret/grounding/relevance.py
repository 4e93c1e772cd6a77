"""Query-token x patch similarity -> a relevance map over the page grid -> one score per region.

Pure numpy math. Vectors are unit length, so ``S = Q . D^T`` is cosine similarity. Coverage comes from
`geometry.coverage_matrix` (overlap *area* of region and cell), never from IoU.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import GroundingError
from ..geometry import PatchGrid, boxes_to_array, coverage_matrix
from ..ingest.page import Region
from ..search.maxsim import similarity
from .options import GroundingOptions

_DEFAULT = GroundingOptions()


def _query_rows(query_vectors: np.ndarray, augmentation_mask: np.ndarray | None, use_augmentation: bool) -> np.ndarray:
    """The query vectors that take part: all of them, or the non-augmentation ones (all if none are left)."""
    if augmentation_mask is None or use_augmentation:
        return query_vectors
    mask = np.asarray(augmentation_mask, dtype=bool).reshape(-1)  # (n_query_tokens,)
    if mask.shape[0] != query_vectors.shape[0]:
        raise GroundingError(f"{mask.shape[0]} augmentation flags for {query_vectors.shape[0]} query vectors")
    kept = query_vectors[~mask]
    return kept if kept.shape[0] else query_vectors


def patch_similarity(query_vectors: np.ndarray, patch_vectors: np.ndarray, grid: PatchGrid) -> np.ndarray:
    """``S = Q . D^T`` over image-patch columns: shape ``(n_query_tokens, n_rows * n_cols)``, raster order.

    >>> patch_similarity(np.array([[1.0, 0.0]]), np.array([[1.0, 0.0], [0.0, 1.0]]), PatchGrid(1, 2))
    array([[1., 0.]], dtype=float32)
    """
    q = np.asarray(query_vectors, dtype=np.float32)
    d = np.asarray(patch_vectors, dtype=np.float32)
    if q.ndim != 2 or d.ndim != 2:
        raise GroundingError(f"query and patch vectors must be 2-D, got shapes {q.shape} and {d.shape}")
    if d.shape[0] != grid.n_patches:
        raise GroundingError(f"{d.shape[0]} patch vectors for a {grid.n_rows}x{grid.n_cols} grid ({grid.n_patches})")
    if q.shape[0] == 0:
        return np.zeros((0, grid.n_patches), dtype=np.float32)
    if q.shape[1] != d.shape[1]:
        raise GroundingError(f"query vectors have dim {q.shape[1]} but patch vectors have dim {d.shape[1]}")
    return similarity(q, d)  # (n_query_tokens, n_patches)


def patch_relevance(
    query_vectors: np.ndarray,
    patch_vectors: np.ndarray,
    grid: PatchGrid,
    augmentation_mask: np.ndarray | None = None,
    options: GroundingOptions = _DEFAULT,
) -> np.ndarray:
    """Relevance of each patch to the query: shape ``(n_rows, n_cols)``, float64.

    ``max`` (default): best token similarity; ``mean``: mean over tokens; ``votes``: fraction of query
    tokens whose best patch this is (a tie splits a token's vote). A query with no vectors gives all zeros.

    Two query tokens on a 1x3 grid: token 1 is patch 0, token 2 lies between patches 1 and 2, nearer 2.

    >>> q = np.array([[1.0, 0.0, 0.0], [0.0, 0.6, 0.8]])
    >>> patch_relevance(q, np.eye(3), PatchGrid(1, 3)).round(3)
    array([[1. , 0.6, 0.8]])
    >>> patch_relevance(q, np.eye(3), PatchGrid(1, 3), options=GroundingOptions(patch_reduce="votes"))
    array([[0.5, 0. , 0.5]])
    """
    q = _query_rows(np.asarray(query_vectors), augmentation_mask, options.use_augmentation)
    s = patch_similarity(q, patch_vectors, grid).astype(np.float64)  # (n_tokens, n_patches)
    if s.shape[0] == 0:
        return np.zeros((grid.n_rows, grid.n_cols))
    if options.patch_reduce == "max":
        r = s.max(axis=0)
    elif options.patch_reduce == "mean":
        r = s.mean(axis=0)
    else:
        best = s == s.max(axis=1, keepdims=True)  # (n_tokens, n_patches) bool, ties all True
        r = (best / best.sum(axis=1, keepdims=True)).sum(axis=0) / s.shape[0]
    return r.reshape(grid.n_rows, grid.n_cols)  # (n_patches,) -> (n_rows, n_cols), raster order


def region_coverage(regions: Sequence[Region], grid: PatchGrid) -> np.ndarray:
    """Overlap area of each region with each cell: ``(n_regions, n_rows * n_cols)`` (boxes clipped to the page)."""
    if not regions:
        return np.zeros((0, grid.n_patches))
    boxes = boxes_to_array([r.bbox.clip() for r in regions])  # (n_regions, 4)
    return coverage_matrix(boxes, grid)


def region_relevance(
    relevance_map: np.ndarray,
    regions: Sequence[Region],
    grid: PatchGrid,
    options: GroundingOptions = _DEFAULT,
    coverage: np.ndarray | None = None,
) -> np.ndarray:
    """One score per region: shape ``(n_regions,)``, float64, never NaN.

    ``mean`` (default): ``sum_j area(R n P_j) r_j / sum_j area(R n P_j)``; ``max``: best covered cell;
    ``quantile``: coverage-weighted mean of the covered cells at or above the region's ``quantile``.
    Tables use ``options.table_reduce`` instead (default ``quantile``): a table answers through its best
    cells, and its plain mean over hundreds of cells drowns them.
    A region that covers no cell (empty, or outside the page) scores 0.0; `ground_page` marks it uncovered
    and selection never keeps it. Pass ``coverage`` (from `region_coverage`) to reuse it.

    On a 1x4 grid, a box over the first half and a quarter of the third cell weighs cells 1, 2, 3 as 4:4:1;
    its best cell decides ``max``:

    >>> from llama_index_colret.geometry import BBox
    >>> rmap = np.array([[0.2, 0.4, 0.9, 0.0]])
    >>> box = [Region("r", BBox(0.0, 0.0, 0.5625, 1.0))]
    >>> region_relevance(rmap, box, PatchGrid(1, 4)).round(4)  # (4 * 0.2 + 4 * 0.4 + 0.9) / 9
    array([0.3667])
    >>> region_relevance(rmap, box, PatchGrid(1, 4), GroundingOptions(region_reduce="max"))
    array([0.9])
    """
    r = np.asarray(relevance_map, dtype=np.float64)
    if r.shape != (grid.n_rows, grid.n_cols):
        raise GroundingError(f"relevance map of shape {r.shape} for a {grid.n_rows}x{grid.n_cols} grid")
    flat = r.reshape(-1)  # (n_rows, n_cols) -> (n_patches,), raster order
    cov = region_coverage(regions, grid) if coverage is None else coverage  # (n_regions, n_patches)
    area = cov.sum(axis=1)  # (n_regions,)
    covered = area > 0
    out = np.zeros(cov.shape[0])
    if not covered.any():
        return out
    tables = np.array([reg.kind == "table" for reg in regions], dtype=bool)  # (n_regions,)
    for reduce, rows in ((options.region_reduce, covered & ~tables), (options.table_reduce, covered & tables)):
        if rows.any():
            out[rows] = _reduce(cov[rows], flat, reduce, options.quantile)
    return out


def _reduce(cov: np.ndarray, flat: np.ndarray, reduce: str, quantile: float) -> np.ndarray:
    """Relevance of regions with coverage rows ``cov`` ``(n, n_patches)`` (each covering a cell): ``(n,)``."""
    if reduce == "mean":
        return (cov @ flat) / cov.sum(axis=1)
    if reduce == "max":
        return np.where(cov > 0, flat[None, :], -np.inf).max(axis=1)  # best covered cell
    return _quantile_mean(cov, flat, quantile)


def _quantile_mean(cov: np.ndarray, flat: np.ndarray, quantile: float) -> np.ndarray:
    """Coverage-weighted mean over each row's covered cells at or above that row's ``quantile``."""
    vals = np.where(cov > 0, flat[None, :], np.nan)  # (n_regions, n_patches), NaN where not covered
    cut = np.nanquantile(vals, quantile, axis=1, method="lower")  # (n_regions,), always a covered value
    w = np.where(vals >= cut[:, None], cov, 0.0)  # NaN >= x is False: uncovered cells weigh 0
    return (w @ flat) / w.sum(axis=1)
