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
    w = np.minimum(x[:, None, 2], y[None, :, 2]) - np.maximum(x[:, None, 0], y[None, :, 0])  # (n, m)
    h = np.minimum(x[:, None, 3], y[None, :, 3]) - np.maximum(x[:, None, 1], y[None, :, 1])  # (n, m)
    inter = np.clip(w, 0.0, None) * np.clip(h, 0.0, None)  # (n, m)
    union = box_areas(x)[:, None] + box_areas(y)[None, :] - inter  # (n, m)
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _cells(*box_sets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The grid cut by every box edge: cell centres x ``(nx,)``, y ``(ny,)`` and cell areas ``(ny, nx)``."""
    every = np.concatenate([np.zeros((0, 4)), *box_sets], axis=0)  # (n_all, 4)
    xs = np.unique(np.concatenate([every[:, 0], every[:, 2]]))  # (nx + 1,) distinct vertical edges
    ys = np.unique(np.concatenate([every[:, 1], every[:, 3]]))  # (ny + 1,)
    cx, cy = (xs[:-1] + xs[1:]) / 2, (ys[:-1] + ys[1:]) / 2  # (nx,), (ny,)
    areas = np.diff(ys)[:, None] * np.diff(xs)[None, :]  # (ny, nx)
    return cx, cy, areas


def _mask(boxes: np.ndarray, cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    """Which cells lie inside the union of ``boxes``: shape ``(ny, nx)``."""
    if len(boxes) == 0:
        return np.zeros((len(cy), len(cx)), dtype=bool)
    in_x = (boxes[:, 0:1] < cx[None, :]) & (cx[None, :] < boxes[:, 2:3])  # (n, nx)
    in_y = (boxes[:, 1:2] < cy[None, :]) & (cy[None, :] < boxes[:, 3:4])  # (n, ny)
    return (in_y[:, :, None] & in_x[:, None, :]).any(axis=0)  # (ny, nx)


def union_area(boxes: BoxesLike) -> float:
    """Exact area of the union of ``boxes`` (overlaps counted once)."""
    b = as_boxes(boxes)
    cx, cy, areas = _cells(b)
    return float((areas * _mask(b, cx, cy)).sum())


def union_overlap(a: BoxesLike, b: BoxesLike) -> tuple[float, float, float, float]:
    """Exact ``(area(A ∩ B), area(A), area(B), area(A ∪ B))`` where A, B are the unions of the two box sets."""
    x, y = as_boxes(a), as_boxes(b)
    cx, cy, areas = _cells(x, y)
    ma, mb = _mask(x, cx, cy), _mask(y, cx, cy)  # (ny, nx) each
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


def covered_fraction(targets: BoxesLike, cover: BoxesLike) -> np.ndarray:
    """Fraction of each target box's area that lies inside the union of ``cover``: shape ``(n_targets,)``.

    A target of zero area counts as uncovered (0).
    """
    t, c = as_boxes(targets), as_boxes(cover)
    out = np.zeros(len(t))
    for i, box in enumerate(t):
        area = (box[2] - box[0]) * (box[3] - box[1])
        if area <= 0 or len(c) == 0:
            continue
        clipped = c.copy()  # (m, 4): the cover boxes cut to this target
        clipped[:, 0] = np.maximum(c[:, 0], box[0])
        clipped[:, 1] = np.maximum(c[:, 1], box[1])
        clipped[:, 2] = np.minimum(c[:, 2], box[2])
        clipped[:, 3] = np.minimum(c[:, 3], box[3])
        keep = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
        if keep.any():
            out[i] = union_area(clipped[keep]) / area
    return out
