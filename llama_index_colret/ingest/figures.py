"""Pure figure detection: embedded images and vector drawings (paths, shadings, form XObjects) -> figures.

- An image is a figure when both its sides are at least `MIN_FIGURE_SIDE` line heights (bullets and rules
  drawn as images are smaller; small logos are not) and it covers at most `MAX_FIGURE_AREA` of the page (a
  scan behind its own text layer covers more).
- Vector shapes closer than `DRAWING_JOIN` line heights are one drawing (the bars, axes and ticks of a
  chart); thin ruling lines join a drawing but never make one on their own (a ruled table is not a figure).
  A drawing is a figure under the same size rules, unless it lies on a ruled table or holds text ink over
  `MAX_TEXT_IN_FIGURE` of its area (a shaded frame around paragraphs).
- Short lines inside or touching a figure (axis labels, legends) belong to it; captions never do.

No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .layout import Box, Line
from .thresholds import DRAWING_JOIN, MAX_FIGURE_AREA, MAX_ON_TABLE, MAX_TEXT_IN_FIGURE, MIN_FIGURE_SIDE, SHORT_WORDS

MAX_SHAPES = 3000  # the largest shapes of a page dense with paths are enough to find its drawings
CAPTION_RE = re.compile(r"^\s*(figure|fig\.|chart|graph|image|photo|plate|map|exhibit|diagram)\s*\S", re.I)


@dataclass
class Figure:
    """An image or vector drawing large enough to be a figure, with the label lines drawn in it."""

    box: Box
    caption: str = ""
    lines: list[Line] = field(default_factory=list)


def _clip(b: Box, width: float, height: float) -> Box:
    """``b`` cut to the page."""
    return Box(max(b.x0, 0.0), max(b.y0, 0.0), min(b.x1, width), min(b.y1, height))


def _area(b: Box) -> float:
    """Area of a box (0 when empty)."""
    return max(b.x1 - b.x0, 0.0) * max(b.y1 - b.y0, 0.0)


def _sized(b: Box, h: float, page_area: float) -> bool:
    """Whether a clipped box is figure-sized (see the module docstring)."""
    return min(b.x1 - b.x0, b.y1 - b.y0) >= MIN_FIGURE_SIDE * h and _area(b) <= MAX_FIGURE_AREA * page_area


def image_figures(images: Sequence[Box], h: float, width: float, height: float) -> list[Figure]:
    """Embedded images that are figures."""
    clipped = [_clip(b, width, height) for b in images]
    return [Figure(c) for c in clipped if _sized(c, h, width * height)]


def _components(boxes: np.ndarray, join: float) -> np.ndarray:
    """Component label of each box (``(n, 4)``: x0, y0, x1, y1) where boxes closer than ``join`` connect."""
    near = (
        (boxes[:, None, 0] <= boxes[None, :, 2] + join)
        & (boxes[None, :, 0] <= boxes[:, None, 2] + join)
        & (boxes[:, None, 1] <= boxes[None, :, 3] + join)
        & (boxes[None, :, 1] <= boxes[:, None, 3] + join)
    )  # (n, n)
    labels = np.arange(len(boxes))
    while True:
        new = np.where(near, labels[None, :], len(boxes)).min(axis=1)  # (n,) smallest neighbour label
        new = new[new]  # follow labels to their own label (pointer jumping)
        if np.array_equal(new, labels):
            return labels
        labels = new


def vector_figures(
    drawings: Sequence[Box], rules: Sequence[Box], lines: Sequence[Line], avoid: Sequence[Box], h: float,
    width: float, height: float,
) -> list[Figure]:  # fmt: skip
    """Drawings (non-rule shapes) grouped with nearby rules into figures (see the module docstring);
    ``avoid`` are ruled-table boxes, ``lines`` the page's lines (for the text-ink test)."""
    page = width * height
    shapes = [b for b in drawings if _area(_clip(b, width, height)) <= MAX_FIGURE_AREA * page]
    if not shapes:
        return []
    shapes = sorted(shapes, key=_area, reverse=True)[:MAX_SHAPES]
    everything = [*shapes, *rules[: max(0, MAX_SHAPES - len(shapes))]]
    arr = np.array([[b.x0, b.y0, b.x1, b.y1] for b in everything], dtype=np.float64)  # (n, 4)
    labels = _components(arr, DRAWING_JOIN * h)
    out = []
    for label in np.unique(labels[: len(shapes)]):
        member = arr[labels == label]  # (k, 4)
        box = _clip(Box(member[:, 0].min(), member[:, 1].min(), member[:, 2].max(), member[:, 3].max()), width, height)
        if not _sized(box, h, page) or any(_overlap(box, t) > MAX_ON_TABLE * _area(box) for t in avoid):
            continue
        ink = sum(_overlap(ln.ink, box) for ln in lines)
        if ink <= MAX_TEXT_IN_FIGURE * _area(box):
            out.append(Figure(box))
    return out


def _overlap(a: Box, b: Box) -> float:
    """Area of the intersection of two boxes."""
    return max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0)) * max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))


def absorb_labels(figures: list[Figure], lines: Sequence[Line], h: float) -> set[int]:
    """Give each figure the short, non-caption lines inside or within `DRAWING_JOIN` of it, or beside it (within
    its height) with ink that reaches that close: tick labels left of an axis have their centre further out.
    Grows the figure's box; returns the ids of the lines taken."""
    taken: set[int] = set()
    for fig in figures:
        grown = Box(fig.box.x0 - DRAWING_JOIN * h, fig.box.y0 - DRAWING_JOIN * h,
                    fig.box.x1 + DRAWING_JOIN * h, fig.box.y1 + DRAWING_JOIN * h)  # fmt: skip
        for ln in lines:
            centre_in = grown.contains_point((ln.x0 + ln.x1) / 2, (ln.y0 + ln.y1) / 2)
            beside = fig.box.y0 <= ln.y0 and ln.y1 <= fig.box.y1 and _overlap(ln.ink, grown) > 0
            if id(ln) in taken or not (centre_in or beside) or CAPTION_RE.match(ln.text):
                continue
            if len(ln.words) <= SHORT_WORDS:
                fig.lines.append(ln)
                taken.add(id(ln))
        if fig.lines:
            fig.box = Box.around([fig.box, *[ln.ink for ln in fig.lines]])
    return taken
