"""Pure region assembly: words, ruling lines, image boxes and vector drawings of one page -> `Region`s in
reading order.

Both the text-layer path (units: points) and the OCR path (units: pixels) call `build_regions`. Emitted per
page, in reading order: each paragraph as a ``block`` region followed by its ``line`` regions; each table as
one ``table`` region (level ``block``, cells row by row) followed by its lines; each figure (an image or a
vector drawing, see `figures.py`) as one ``figure`` region whose text is its caption when a block starting
"Figure"/"Fig."/"Chart"/... sits directly below or above it. Text boxes are ink boxes (tight glyph boxes on
the text layer; OCR boxes are tight already).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..geometry import BBox
from .figures import CAPTION_RE, Figure, absorb_labels, image_figures, vector_figures
from .formulas import join_display_math
from .layout import (
    Block,
    Box,
    Line,
    Word,
    group_blocks,
    group_lines,
    join_running_rows,
    paragraph_gap,
    typical_height,
    xy_cut,
)
from .page import Region, RegionSource
from .tables import Table, find_aligned_tables, find_ruled_tables
from .thresholds import (
    CAPTION_ABOVE_PENALTY,
    CAPTION_GAP,
    CAPTION_OVERLAP,
    LINE_GAP,
    MIN_RULE_LENGTH,
    RULE_MAX_THICKNESS,
    RULE_TOL,
)


def split_rules(rules: Sequence[Box], min_length: float) -> tuple[list[Box], list[Box]]:
    """Thin boxes -> (horizontal rules, vertical rules); shorter than ``min_length`` are dropped."""
    h_rules, v_rules = [], []
    for r in rules:
        w, h = r.x1 - r.x0, r.y1 - r.y0
        if h <= RULE_MAX_THICKNESS and w >= min_length:
            h_rules.append(r)
        elif w <= RULE_MAX_THICKNESS and h >= min_length:
            v_rules.append(r)
    return h_rules, v_rules


def _caption(fig: Figure, blocks: Sequence[Block], h: float) -> str:
    """The text of a caption block directly below (preferred) or above the figure, else ``""``."""
    best: tuple[float, str] | None = None
    for b in blocks:
        box = b.box
        if min(box.x1, fig.box.x1) - max(box.x0, fig.box.x0) <= 0 or not CAPTION_RE.match(b.text):
            continue
        below, above = box.y0 - fig.box.y1, fig.box.y0 - box.y1
        for gap, penalty in ((below, 0.0), (above, CAPTION_ABOVE_PENALTY * h)):
            if -CAPTION_OVERLAP * h <= gap <= CAPTION_GAP * h and (best is None or gap + penalty < best[0]):
                best = (gap + penalty, b.text)
    return best[1] if best else ""


def _without(lines: Sequence[Line], units: Sequence[Table]) -> list[Line]:
    """``lines`` less those that the tables ``units`` hold."""
    held = {id(ln) for t in units for ln in t.lines}
    return [ln for ln in lines if id(ln) not in held]


def _order(words: Sequence[Word], rules: Sequence[Box], images: Sequence[Box], drawings: Sequence[Box],
           width: float, height: float) -> list:  # fmt: skip
    """Lines, tables, figures and blocks of a page, the top-level units in reading order. Ruled tables come
    first, then figures take their labels, then aligned tables are sought in what is left: tick labels of
    two plots side by side line up in columns too, and are the plots' labels, not a table."""
    h_rules, v_rules = split_rules(rules, min_length=MIN_RULE_LENGTH)
    lines = group_lines(words, v_rules)
    h = typical_height(lines)
    tables = find_ruled_tables(lines, h_rules, v_rules, tol=max(2.0, RULE_TOL * h))
    free = _without(lines, tables)
    figures = image_figures(images, h, width, height)
    figures += vector_figures(drawings, rules, free, [t.box for t in tables], h, width, height)
    taken = absorb_labels(figures, free, h)
    free = [ln for ln in free if id(ln) not in taken]
    aligned = find_aligned_tables(free, h, col_gap=LINE_GAP * h)
    tables += aligned
    free = join_running_rows(_without(free, aligned))
    para_gap = paragraph_gap(free)
    units: list = []
    for leaf in xy_cut([*free, *tables, *figures], v_gap=LINE_GAP * h, h_gap=para_gap):
        leaf_lines = [it for it in leaf if isinstance(it, Line)]
        others = [it for it in leaf if not isinstance(it, Line)]
        units += sorted([*group_blocks(leaf_lines, para_gap), *others], key=lambda u: (u.box.y0, u.box.x0))
    units = join_display_math(units, h)
    blocks = [u for u in units if isinstance(u, Block)]
    for fig in figures:
        fig.caption = _caption(fig, blocks, h)
    return units


def build_regions(
    words: Sequence[Word],
    width: float,
    height: float,
    *,
    source: RegionSource,
    rules: Sequence[Box] = (),
    images: Sequence[Box] = (),
    drawings: Sequence[Box] = (),
    rotation: int = 0,
) -> list[Region]:
    """Regions of one page of ``width x height`` units, in reading order (see the module docstring).

    ``rotation`` turns the layout frame clockwise into the displayed page (text shown sideways)."""
    words = [w for w in words if w.text and 0 <= (w.x0 + w.x1) / 2 <= width and 0 <= w.cy <= height]
    if not words and not images and not drawings:
        return []

    def bbox(b: Box) -> BBox:
        return BBox.from_pixels(b.x0, b.y0, b.x1, b.y1, width, height).rotated(rotation).clip()

    def line_regions(lines: Sequence[Line]) -> list[Region]:
        ordered = sorted(lines, key=lambda ln: (ln.row, ln.x0))
        return [Region(ln.text, bbox(ln.ink), "text", "line", source) for ln in ordered]

    regions: list[Region] = []
    for unit in _order(words, rules, images, drawings, width, height):
        if isinstance(unit, Block):
            regions.append(Region(unit.text, bbox(unit.ink), "text", "block", source))
            regions += line_regions(unit.lines)
        elif isinstance(unit, Table):
            regions.append(Region(unit.text, bbox(unit.ink), "table", "block", source))
            regions += line_regions(unit.lines)
        else:
            regions.append(Region(unit.caption, bbox(unit.box), "figure", "block", source))
            regions += line_regions(unit.lines)  # its labels
    return regions
