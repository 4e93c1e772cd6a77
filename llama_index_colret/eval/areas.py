"""Exact areas of sets of boxes: pairwise IoU, union area, union IoU and covered fractions.

Boxes are normalised page boxes as arrays of shape ``(n, 4)`` in ``(x0, y0, x1, y1)`` order (see
`geometry.boxes_to_array`). Unions are computed exactly by coordinate compression: the distinct box
edges cut the page into cells that are each either wholly inside or wholly outside every box, so the
area of a union is a sum of whole cells, with no raster error. Pure numpy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..geometry import BBox, boxes_to_array

BoxesLike = np.ndarray | Sequence[BBox]


def as_boxes(boxes: BoxesLike) -> np.ndarray:
    """Boxes as float64 ``(n, 4)``, clipped to the page; an inverted box becomes empty."""
    arr = boxes if isinstance(boxes, np.ndarray) else boxes_to_array(boxes)
    arr = np.clip(np.asarray(arr, dtype=np.float64).reshape(-1, 4), 0.0, 1.0)  # (n, 4)
    arr[:, 2] = np.maximum(arr[:, 2], arr[:, 0])
    arr[:, 3] = np.maximum(arr[:, 3], arr[:, 1])
    return arr


def box_areas(boxes: BoxesLike) -> np.ndarray:
    """Area of each box: shape ``(n,)``."""
    b = as_boxes(boxes)
    return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])


def iou_matrix(a: BoxesLike, b: BoxesLike) -> np.ndarray:
    """IoU of every box of ``a`` with every box of ``b``: shape ``(len(a), len(b))``; 0 where both are empty."""
    x, y = as_boxes(a), as_boxes(b)
    inter = _intersections(x, y)  # (n, m)
    union = box_areas(x)[:, None] + box_areas(y)[None, :] - inter  # (n, m)
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _edges(*box_sets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct vertical ``(nx + 1,)`` and horizontal ``(ny + 1,)`` edges of every box."""
    every = np.concatenate([np.zeros((0, 4)), *box_sets], axis=0)  # (n_all, 4)
    return np.unique(np.concatenate([every[:, 0], every[:, 2]])), np.unique(np.concatenate([every[:, 1], every[:, 3]]))


def _cell_areas(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Area of each cell of the grid cut by the edges: shape ``(ny, nx)``."""
    return np.diff(ys)[:, None] * np.diff(xs)[None, :]  # (ny, nx)


def _mask(boxes: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Which cells lie inside the union of ``boxes`` (whose edges are among xs, ys): shape ``(ny, nx)``.

    Each box adds +1 over its block of cells through a 2-D difference array; a cell is covered where
    the running sum is positive. Linear in boxes plus cells.
    """
    nx, ny = max(len(xs) - 1, 0), max(len(ys) - 1, 0)
    diff = np.zeros((ny + 1, nx + 1), dtype=np.int64)  # (ny + 1, nx + 1)
    c0, c1 = np.searchsorted(xs, boxes[:, 0]), np.searchsorted(xs, boxes[:, 2])  # (n,) cell columns [c0, c1)
    r0, r1 = np.searchsorted(ys, boxes[:, 1]), np.searchsorted(ys, boxes[:, 3])  # (n,) cell rows [r0, r1)
    np.add.at(diff, (r0, c0), 1)
    np.add.at(diff, (r0, c1), -1)
    np.add.at(diff, (r1, c0), -1)
    np.add.at(diff, (r1, c1), 1)
    return diff.cumsum(axis=0).cumsum(axis=1)[:ny, :nx] > 0  # (ny, nx)


def union_area(boxes: BoxesLike) -> float:
    """Exact area of the union of ``boxes`` (overlaps counted once)."""
    b = as_boxes(boxes)
    xs, ys = _edges(b)
    return float((_cell_areas(xs, ys) * _mask(b, xs, ys)).sum())


def union_overlap(a: BoxesLike, b: BoxesLike) -> tuple[float, float, float, float]:
    """Exact ``(area(A ∩ B), area(A), area(B), area(A ∪ B))`` where A, B are the unions of the two box sets."""
    x, y = as_boxes(a), as_boxes(b)
    xs, ys = _edges(x, y)
    areas = _cell_areas(xs, ys)  # (ny, nx)
    ma, mb = _mask(x, xs, ys), _mask(y, xs, ys)  # (ny, nx) each
    return (
        float((areas * (ma & mb)).sum()),
        float((areas * ma).sum()),
        float((areas * mb).sum()),
        float((areas * (ma | mb)).sum()),
    )


def union_iou(a: BoxesLike, b: BoxesLike) -> float:
    """IoU of the union of ``a`` with the union of ``b``; 0 when both are empty."""
    inter, _, _, union = union_overlap(a, b)
    return inter / union if union > 0 else 0.0


def _intersections(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection area of every box of ``a`` with every box of ``b``: shape ``(len(a), len(b))``."""
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])  # (n, m)
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])  # (n, m)
    return np.clip(w, 0.0, None) * np.clip(h, 0.0, None)


def covered_fraction(targets: BoxesLike, cover: BoxesLike) -> np.ndarray:
    """Fraction of each target box's area that lies inside the union of ``cover``: shape ``(n_targets,)``.

    Exact. A target met by at most one cover box takes the plain intersection area; one met by several
    takes the union of the cover boxes clipped to it. A target of zero area counts as uncovered (0).
    """
    t, c = as_boxes(targets), as_boxes(cover)
    areas = box_areas(t)  # (n_targets,)
    inter = _intersections(t, c)  # (n_targets, n_cover)
    covered = inter.sum(axis=1)  # (n_targets,) exact where at most one cover box meets the target
    for i in np.flatnonzero((inter > 0).sum(axis=1) > 1):
        box, meet = t[i], c[inter[i] > 0]  # (4,), (k, 4)
        clipped = np.concatenate(
            [np.maximum(meet[:, :2], box[:2]), np.minimum(meet[:, 2:], box[2:])], axis=1
        )  # (k, 4): the cover boxes cut to this target
        covered[i] = union_area(clipped)
    return np.divide(covered, areas, out=np.zeros_like(covered), where=areas > 0)
