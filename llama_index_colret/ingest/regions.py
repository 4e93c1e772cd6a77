"""Pure region assembly: words, ruling lines and image boxes of one page -> `Region`s in reading order.

Both the text-layer path (units: points) and the OCR path (units: pixels) call `build_regions`. Emitted per
page, in reading order: each paragraph as a ``block`` region followed by its ``line`` regions; each table as
one ``table`` region (level ``block``, cells row by row) followed by its lines; each figure as one
``figure`` region whose text is its caption when a block starting "Figure"/"Fig."/"Chart"/... sits directly
below or above it. Images under 1 % of the page (logos, bullets, rules drawn as images) or over 85 % of it
(a scanned page behind its own text layer) are not figures.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..geometry import BBox
from .layout import LINE_GAP, Block, Box, Line, Word, group_blocks, group_lines, paragraph_gap, typical_height, xy_cut
from .page import Region, RegionSource
from .tables import Table, find_aligned_tables, find_ruled_tables

MIN_FIGURE_AREA = 0.01  # fraction of the page
MAX_FIGURE_AREA = 0.85
RULE_MAX_THICKNESS = 3.0  # in points: thicker shapes are boxes, not rules
CAPTION_RE = re.compile(r"^\s*(figure|fig\.|chart|graph|image|photo|plate|map|exhibit|diagram)\s*\S", re.I)


@dataclass
class Figure:
    """An embedded image large enough to be a figure."""

    box: Box
    caption: str = ""


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


def _figures(images: Sequence[Box], width: float, height: float) -> list[Figure]:
    page = width * height
    out = []
    for b in images:
        c = Box(max(b.x0, 0.0), max(b.y0, 0.0), min(b.x1, width), min(b.y1, height))
        area = max(c.x1 - c.x0, 0.0) * max(c.y1 - c.y0, 0.0)
        if MIN_FIGURE_AREA * page <= area <= MAX_FIGURE_AREA * page:
            out.append(Figure(c))
    return out


def _caption(fig: Figure, blocks: Sequence[Block], h: float) -> str:
    """The text of a caption block directly below (preferred) or above the figure, else ``""``."""
    best: tuple[float, str] | None = None
    for b in blocks:
        box = b.box
        if min(box.x1, fig.box.x1) - max(box.x0, fig.box.x0) <= 0 or not CAPTION_RE.match(b.text):
            continue
        below, above = box.y0 - fig.box.y1, fig.box.y0 - box.y1
        for gap, penalty in ((below, 0.0), (above, 0.5 * h)):
            if -0.5 * h <= gap <= 2.0 * h and (best is None or gap + penalty < best[0]):
                best = (gap + penalty, b.text)
    return best[1] if best else ""


def _order(words: Sequence[Word], rules: Sequence[Box], images: Sequence[Box], width: float, height: float):
    """Lines, tables, figures and blocks of a page, the top-level units in reading order."""
    h_rules, v_rules = split_rules(rules, min_length=3.0)
    lines = group_lines(words, v_rules)
    h = typical_height(lines)
    tables: list[Table] = find_ruled_tables(lines, h_rules, v_rules, tol=max(2.0, 0.2 * h))
    in_table = {id(ln) for t in tables for ln in t.lines}
    free = [ln for ln in lines if id(ln) not in in_table]
    aligned = find_aligned_tables(free, h, col_gap=LINE_GAP * h)
    tables += aligned
    in_table |= {id(ln) for t in aligned for ln in t.lines}
    free = [ln for ln in free if id(ln) not in in_table]
    figures = _figures(images, width, height)
    para_gap = paragraph_gap(free)
    units: list = []
    for leaf in xy_cut([*free, *tables, *figures], v_gap=LINE_GAP * h, h_gap=para_gap):
        leaf_lines = [it for it in leaf if isinstance(it, Line)]
        others = [it for it in leaf if not isinstance(it, Line)]
        units += sorted([*group_blocks(leaf_lines, para_gap), *others], key=lambda u: (u.box.y0, u.box.x0))
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
    rotation: int = 0,
) -> list[Region]:
    """Regions of one page of ``width x height`` units, in reading order (see the module docstring).

    ``rotation`` turns the layout frame clockwise into the displayed page (text shown sideways)."""
    words = [w for w in words if w.text and 0 <= (w.x0 + w.x1) / 2 <= width and 0 <= w.cy <= height]
    if not words and not images:
        return []

    def bbox(b: Box | Line) -> BBox:
        return BBox.from_pixels(b.x0, b.y0, b.x1, b.y1, width, height).rotated(rotation).clip()

    def line_regions(lines: Sequence[Line]) -> list[Region]:
        ordered = sorted(lines, key=lambda ln: (ln.row, ln.x0))
        return [Region(ln.text, bbox(ln), "text", "line", source) for ln in ordered]

    regions: list[Region] = []
    for unit in _order(words, rules, images, width, height):
        if isinstance(unit, Block):
            regions.append(Region(unit.text, bbox(unit.box), "text", "block", source))
            regions += line_regions(unit.lines)
        elif isinstance(unit, Table):
            regions.append(Region(unit.text, bbox(unit.box), "table", "block", source))
            regions += line_regions(unit.lines)
        else:
            regions.append(Region(unit.caption, bbox(unit.box), "figure", "block", source))
    return regions
