"""Adaptive granularity: hand over the run of a block's lines where the relevance concentrates (pure math).

A block stays the unit of layout and of scoring (its score, rank and selection do not change), but what the
generator gets may be a contiguous run of the block's lines: one item of a list that ingestion merged, one
paragraph of a merged block, the relevant lines of a long block. Lines are not stored twice: ingestion
already emits each text block followed by its ``line`` regions (`ingest.regions.build_regions`), and the
store keeps that list, so a block's lines are found at query time as the line regions that follow it and
lie inside its box.

The rule (`line_runs`), with ``lo`` and ``hi`` the lowest and highest line score on the page:

1. each line scores the best patch relevance among its main cells (those it overlaps at least half as much
   as its most-covered cell): a line is about one cell row tall and a query word lights a few cells of it,
   so a mean over a full-width line would rank a line holding a short word below one holding a long word,
   and the cells it merely grazes (ascenders into the row above) belong to its neighbours;
2. a line is *hot* when its score reaches ``lo + run_alpha * (hi - lo)``;
3. the run is the block's first to last hot line (contiguous: lines in between come along);
4. the block is trimmed to the run when it spans at most ``run_max_share`` of the block's lines; otherwise
   (relevance spread over the block, or no hot line at all) the block stays whole.

A patch cell is about two text lines tall at the models' usual resolution (a 31-row grid on a letter page:
25 pt per row, 12 pt per line of 10 pt text), so a run is precise to about one line either side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..geometry import BBox, PatchGrid
from ..ingest.page import Region
from .options import GroundingOptions
from .relevance import region_coverage
from .tables import centre_inside

_EPS = 1e-9  # float slack so that run_alpha=1 keeps the page's best line hot
MAIN_CELL = 0.5  # a line's main cells: overlap at least this share of its largest overlap with one cell


@dataclass(frozen=True)
class LineRun:
    """A contiguous run of a block's lines handed over instead of the whole block.

    ``region``: the run as a text region (its lines' text joined by spaces, as the block's is; box = the
    union of their boxes); ``first``/``last``: 0-based inclusive positions of the run in the block's lines;
    ``n_lines``: how many lines the block has.
    """

    region: Region
    first: int
    last: int
    n_lines: int

    def metadata(self) -> dict[str, Any]:
        """``granularity``, ``lines`` (1-based, inclusive ``[first, last]``) and ``block_lines`` for node metadata."""
        return {"granularity": "lines", "lines": [self.first + 1, self.last + 1], "block_lines": self.n_lines}


def block_lines(blocks: Sequence[Region], regions: Sequence[Region]) -> list[list[Region]]:
    """The line regions of each of ``blocks`` (objects taken from ``regions``), in reading order.

    A text block's lines are the ``line`` regions that follow it in ``regions`` (ingestion's order) and whose
    centre lies in its box; tables, figures and blocks not found in ``regions`` get none.
    """
    found: dict[int, list[Region]] = {}
    owner: Region | None = None
    for r in regions:
        if r.level != "line" or r.kind != "text":
            owner = r if r.kind == "text" else None
            if owner is not None:
                found.setdefault(id(owner), [])
        elif owner is not None and centre_inside(r.bbox, owner.bbox):
            found[id(owner)].append(r)
    return [found.get(id(b), []) if b.kind == "text" else [] for b in blocks]


def line_scores(relevance_map: np.ndarray, lines: Sequence[Region], grid: PatchGrid) -> np.ndarray:
    """Each line's score: the best relevance among its main cells (see the module docstring): ``(n_lines,)``,
    NaN for a line that covers no cell."""
    flat = np.asarray(relevance_map, dtype=np.float64).reshape(-1)  # (n_rows, n_cols) -> (n_patches,)
    cov = region_coverage(lines, grid)  # (n_lines, n_patches)
    top = cov.max(axis=1, keepdims=True) if cov.size else np.zeros((len(lines), 1))  # (n_lines, 1)
    main = (cov > 0) & (cov >= MAIN_CELL * top)  # (n_lines, n_patches)
    best = np.where(main, flat[None, :], -np.inf).max(axis=1, initial=-np.inf)  # (n_lines,)
    return np.where(np.isfinite(best), best, np.nan)


def hot_run(scores: np.ndarray, lo: float, hi: float, alpha: float, max_share: float) -> tuple[int, int] | None:
    """``(first, last)`` (0-based, inclusive) of a block's hot lines, or None when the block stays whole.

    ``scores``: ``(n_lines,)`` from `line_scores`. Hot: ``>= lo + alpha * (hi - lo)``. None when the block
    has under two lines, no hot line, a flat page (``hi <= lo``), or a run longer than ``max_share`` of it.
    """
    n = scores.shape[0]
    if n < 2 or not hi > lo:
        return None
    hot = np.flatnonzero(scores >= lo + alpha * (hi - lo) - _EPS)  # (n_hot,)
    if hot.size == 0:
        return None
    first, last = int(hot[0]), int(hot[-1])
    if last - first + 1 == n or last - first + 1 > max_share * n:
        return None
    return first, last


def run_region(block: Region, lines: Sequence[Region], first: int, last: int) -> LineRun:
    """The `LineRun` of ``lines[first..last]`` of ``block`` (text joined by spaces, box = union of lines)."""
    part = lines[first : last + 1]
    text = " ".join(ln.text for ln in part)
    region = Region(text, BBox.union_of([ln.bbox for ln in part]), "text", block.level, block.source)
    return LineRun(region, first, last, len(lines))


def line_runs(
    relevance_map: np.ndarray,
    candidates: Sequence[Region],
    regions: Sequence[Region],
    grid: PatchGrid,
    options: GroundingOptions,
) -> list[LineRun | None]:
    """One entry per candidate: its `LineRun` when adaptive granularity trims it, else None (see the module
    docstring for the rule). All None with ``granularity="block"`` or ``level="line"``."""
    if options.granularity == "block" or options.level != "block":
        return [None] * len(candidates)
    per_block = block_lines(candidates, regions)
    flat = [ln for lines in per_block for ln in lines]
    if not flat:
        return [None] * len(candidates)
    scores = line_scores(relevance_map, flat, grid)  # (n_lines,), NaN where a line covers no cell
    if np.isnan(scores).all():
        return [None] * len(candidates)
    lo, hi = float(np.nanmin(scores)), float(np.nanmax(scores))
    scores = np.nan_to_num(scores, nan=lo)
    out: list[LineRun | None] = []
    start = 0
    for block, lines in zip(candidates, per_block, strict=True):
        span = hot_run(scores[start : start + len(lines)], lo, hi, options.run_alpha, options.run_max_share)
        out.append(run_region(block, lines, *span) if span else None)
        start += len(lines)
    return out
