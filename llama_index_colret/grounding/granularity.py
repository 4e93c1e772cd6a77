"""Adaptive granularity: hand over the run of a block's lines where the relevance concentrates (pure math).

A block stays the unit of layout, but what the generator gets may be a contiguous run of the block's lines:
one item of a list that ingestion merged, one paragraph of a block set without a gap, a run-in heading
without its body, the relevant lines of a long block. The trimmed candidate then scores as its run (as the
block ingestion would have cut would score), costs the run's tokens, and its box is the union of the run's
lines. Lines are not stored twice: ingestion already emits each text block followed by its ``line`` regions
(`ingest.regions.build_regions`), and the store keeps that list, so a block's lines are found at query time
as the line regions that follow it and lie inside its box.

The rule (`line_runs`):

1. a block's lines are cut into *segments* where a new unit may start (`segments`): a line whose left edge
   moves (indent, hanging marker, outdented item) or a line after one that ends well short of the right
   edge (end of a paragraph, item or run-in heading). Ingestion splits blocks only where it is sure; these
   are the softer places where a person might draw a box, and relevance decides whether to use them;
2. each segment scores like a region: the coverage-weighted mean of patch relevance over its lines' cells;
3. a block is cut only when its segments differ: its best and worst segment scores must be at least
   ``MIN_CONTRAST`` (a quarter) of the page's segment-score range apart. Then a segment is *hot* when its
   score reaches ``lo + run_alpha * (hi - lo)``, ``lo`` and ``hi`` being the block's worst and best segment;
4. the run goes from the block's first to its last hot segment (segments in between come along) and is
   handed over when it is not the whole block. Hot segments at both ends (relevance spread over the block)
   or too little contrast: the block stays whole;
5. a segment of more than ``options.long_block_lines`` lines (a merged column, a long paragraph, an OCR'd
   block) is scored as its *row windows* instead (`units`, `row_windows`: the consecutive lines whose
   centres lie in one patch row, the finest cut the grid can tell apart), so the run may be the relevant
   lines of a long block. Among windows, more than ``MAX_COLD_WINDOWS`` cold windows in a row end a stretch
   of hot units and the run is the stretch holding the best unit (`hot_span`); a run made only of windows
   grows, one neighbouring window at a time (the hotter one), to at least ``MIN_RUN_ROWS`` windows
   (`widen`). A normal paragraph is one segment and always stays whole.

The cut is relative to the block, not the page, because a patch cell is about two text lines tall at the
models' usual resolution (a 31-row grid on a letter page: 25 pt per row, 12.5 pt per line of 10 pt text):
the items next to the answer share its cells and score more than half of its excess over the page's
background, but still clearly less than the answer. For the same reason runs are made of segments rather
than of single lines scored one by one: a line sharing a cell row with the answer scores like the answer,
and a long segment is cut into whole rows of lines, never finer.
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

_EPS = 1e-9  # float slack so that run_alpha=1 keeps the block's best segment hot
SHORT_LINE = 1 / 3  # a line ending this share of the block's width before its right edge ends a unit
MIN_CONTRAST = 0.25  # a block is cut only when its segments differ by this share of the page's score range
MAX_COLD_WINDOWS = 1  # hot row windows with more cold windows than this between them are separate stretches
MIN_RUN_ROWS = 2  # a run of row windows spans at least this many rows: one row's lines share every cell


@dataclass(frozen=True)
class LineRun:
    """A contiguous run of a block's lines handed over instead of the whole block.

    ``region``: the run as a text region (its lines' text joined by spaces, as the block's is; box = the
    union of their boxes); ``first``/``last``: 0-based inclusive positions of the run in the block's lines;
    ``n_lines``: how many lines the block has; ``relevance``: the run's score (coverage-weighted mean patch
    relevance over its lines' cells), which the candidate takes.
    """

    region: Region
    first: int
    last: int
    n_lines: int
    relevance: float = 0.0

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


def segments(lines: Sequence[Region]) -> list[tuple[int, int]]:
    """Cut a block's lines (reading order) into segments, ``[(first, last), ...]`` 0-based inclusive.

    A segment starts after a line that ends short of the block's right edge by more than ``max(2 h, width /
    3)`` (the end of a paragraph, an item or a run-in heading; ragged-right lines end within a word of the
    edge, and a long word is a quarter of a narrow column), and where the left edge steps: in a block whose
    first line sits at the left edge and some later lines are indented (a hanging list), at a line back at
    the left edge after an indented one (the next item); otherwise, at an indented line after one at the
    left edge (a first-line indent). A line is indented when it starts at least ``h / 2`` right of the
    block's left edge; ``h``: the median line height.
    """
    if not lines:
        return []
    h = float(np.median([ln.bbox.height for ln in lines]))
    left, right = min(ln.bbox.x0 for ln in lines), max(ln.bbox.x1 for ln in lines)
    indented = [ln.bbox.x0 - left >= 0.5 * h for ln in lines]
    hanging = not indented[0] and any(indented)
    starts = [0]
    for k in range(1, len(lines)):
        short = right - lines[k - 1].bbox.x1 > max(2 * h, SHORT_LINE * (right - left))
        step = indented[k - 1] and not indented[k] if hanging else indented[k] and not indented[k - 1]
        if short or step:
            starts.append(k)
    return [(a, b - 1) for a, b in zip(starts, [*starts[1:], len(lines)], strict=True)]


def row_windows(lines: Sequence[Region], first: int, last: int, n_rows: int) -> list[tuple[int, int]]:
    """Cut ``lines[first..last]`` into windows ``[(first, last), ...]``: runs of consecutive lines whose
    centres lie in the same patch row (of ``n_rows``). Lines sharing a row share every cell, so no score can
    tell them apart: a window is the finest unit the grid resolves."""
    rows = [min(n_rows - 1, max(0, int(ln.bbox.center[1] * n_rows))) for ln in lines[first : last + 1]]
    starts = [first + k for k in range(len(rows)) if k == 0 or rows[k] != rows[k - 1]]
    return [(a, b - 1) for a, b in zip(starts, [*starts[1:], last + 1], strict=True)]


def units(lines: Sequence[Region], n_rows: int, long_lines: int | None) -> tuple[list[tuple[int, int]], np.ndarray]:
    """A block's scoring units: its `segments`, each one of more than ``long_lines`` lines replaced by its
    `row_windows`. Returns ``(spans, is_window)``; ``is_window``: ``(n_units,)`` bool."""
    spans: list[tuple[int, int]] = []
    window: list[bool] = []
    for a, b in segments(lines):
        long = long_lines is not None and b - a + 1 > long_lines
        cut = row_windows(lines, a, b, n_rows) if long else [(a, b)]
        spans += cut
        window += [long] * len(cut)
    return spans, np.array(window, dtype=bool)


def widen(span: tuple[int, int], scores: np.ndarray, is_window: np.ndarray) -> tuple[int, int]:
    """Grow a run made only of row windows to at least ``MIN_RUN_ROWS`` of them, adding one neighbouring
    window at a time (the higher-scoring one, NaN lowest; a tie takes the earlier). Other runs are returned
    as they are: a segment's edges are layout cues, not the grid's guess."""
    first, last = span
    while is_window[first : last + 1].all() and last - first + 1 < MIN_RUN_ROWS:
        near = [k for k in (first - 1, last + 1) if 0 <= k < scores.shape[0] and is_window[k]]
        if not near:
            break
        k = max(near, key=lambda j: (float(np.nan_to_num(scores[j], nan=-np.inf)), -j))
        first, last = min(first, k), max(last, k)
    return first, last


def segment_scores(relevance_map: np.ndarray, cov: np.ndarray, spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """Coverage-weighted mean relevance of each segment over its lines' cells: ``(n_segments,)``, NaN for a
    segment that covers no cell. ``cov``: ``(n_lines, n_patches)`` coverage of the lines the spans index."""
    flat = np.asarray(relevance_map, dtype=np.float64).reshape(-1)  # (n_rows, n_cols) -> (n_patches,)
    if not spans:
        return np.zeros(0)
    seg_cov = np.stack([cov[a : b + 1].sum(axis=0) for a, b in spans])  # (n_segments, n_patches)
    area = seg_cov.sum(axis=1)  # (n_segments,)
    return np.divide(seg_cov @ flat, area, out=np.full(len(spans), np.nan), where=area > 0)


def hot_span(
    scores: np.ndarray, page_range: float, alpha: float, is_window: np.ndarray | None = None
) -> tuple[int, int] | None:
    """``(first, last)`` positions of a block's first and last hot unit, or None when it stays whole.

    ``scores``: ``(n_units,)`` (NaN: covers no cell, never hot). With ``lo``/``hi`` the block's lowest and
    highest unit score, a unit is hot when it reaches ``lo + alpha * (hi - lo)``. None when the block has
    one unit, when its contrast ``hi - lo`` is under ``MIN_CONTRAST * page_range`` (relevance even over the
    block, or noise), or when the span is the whole block (hot units at both ends). ``is_window``:
    ``(n_units,)`` bool, which units are row windows; more than ``MAX_COLD_WINDOWS`` cold windows in a row
    end a stretch of hot units, and the span is the stretch holding the best unit (one stray hot row far
    from the answer does not drag the run across a long block).
    """
    finite = scores[np.isfinite(scores)]
    if scores.shape[0] < 2 or finite.size == 0 or not page_range > 0:
        return None
    lo, hi = float(finite.min()), float(finite.max())
    if hi - lo < MIN_CONTRAST * page_range:
        return None
    values = np.nan_to_num(scores, nan=-np.inf)  # (n_units,)
    is_hot = values >= lo + alpha * (hi - lo) - _EPS  # (n_units,)
    hot = np.flatnonzero(is_hot)  # (n_hot,)
    if hot[0] == 0 and hot[-1] == scores.shape[0] - 1:
        return None
    if is_window is not None:
        cold = np.cumsum(is_window & ~is_hot)  # (n_units,) cold windows up to each unit
        stretch = np.cumsum(np.r_[0, np.diff(cold[hot]) > MAX_COLD_WINDOWS])  # (n_hot,) stretch of each hot unit
        hot = hot[stretch == stretch[np.argmax(values[hot])]]
    return int(hot[0]), int(hot[-1])


def run_region(block: Region, lines: Sequence[Region], first: int, last: int, relevance: float = 0.0) -> LineRun:
    """The `LineRun` of ``lines[first..last]`` of ``block`` (text joined by spaces, box = union of lines)."""
    part = lines[first : last + 1]
    text = " ".join(ln.text for ln in part)
    region = Region(text, BBox.union_of([ln.bbox for ln in part]), "text", block.level, block.source)
    return LineRun(region, first, last, len(lines), relevance)


def line_runs(
    relevance_map: np.ndarray,
    candidates: Sequence[Region],
    regions: Sequence[Region],
    grid: PatchGrid,
    options: GroundingOptions,
) -> list[LineRun | None]:
    """One entry per candidate: its `LineRun` when adaptive granularity trims it, else None (see the module
    docstring for the rule). All None with ``granularity="block"`` or ``level="line"``."""
    none: list[LineRun | None] = [None] * len(candidates)
    if options.granularity == "block" or options.level != "block":
        return none
    per_block = block_lines(candidates, regions)
    cuts = [units(lines, grid.n_rows, options.long_block_lines) for lines in per_block]
    spans = [sp for sp, _ in cuts]
    flat = [ln for lines in per_block for ln in lines]
    bounds = np.cumsum([0, *(len(lines) for lines in per_block)])  # (n_blocks + 1,) line offsets
    cov = region_coverage(flat, grid)  # (n_lines_on_page, n_patches), one call for the page
    covs = [cov[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]  # (n_lines, n_patches) per block
    scores = [segment_scores(relevance_map, c, sp) for c, sp in zip(covs, spans, strict=True)]
    # (n_segments,) per block; every segment of the page sets the page's score range
    pooled = np.concatenate([*scores, np.zeros(0)])
    if not np.isfinite(pooled).any():
        return none
    page_range = float(np.nanmax(pooled) - np.nanmin(pooled))
    out = list(none)
    for i, (block, lines, sp, sc) in enumerate(zip(candidates, per_block, spans, scores, strict=True)):
        hot = hot_span(sc, page_range, options.run_alpha, cuts[i][1])
        if hot is not None:
            hot = widen(hot, sc, cuts[i][1])
        if hot is not None and hot != (0, len(sp) - 1):
            first, last = sp[hot[0]][0], sp[hot[1]][1]
            relevance = float(segment_scores(relevance_map, covs[i], [(first, last)])[0])
            out[i] = run_region(block, lines, first, last, relevance)
    return out
