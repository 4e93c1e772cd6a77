"""Displayed formulas as one block: the pieces of an equation (sub- and superscripts, numerators, big
operators) are lines and XY-cut leaves of their own, so the blocks of a page that are set mostly in math
fonts, or are one- to three-character scraps beside them, are joined when they touch (`join_display_math`).

Pure layout on `layout` blocks, in the same line-height units; thresholds in `thresholds.py`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .layout import Block, Box, Line, mostly_math
from .thresholds import MATH_JOIN_X, MATH_JOIN_Y, SCRAP_CHARS

EQUATION_NUMBER = re.compile(r"^\(\d+(\.\d+)*[a-z]?\)$")  # "(1)", "(2.3)", "(4b)"


def join_display_math(units: Sequence[object], h: float) -> list[object]:
    """``units`` in reading order with the pieces of each display equation joined into one `Block`, placed
    where its first piece was.

    Pieces are blocks that are math or scraps (`_math_or_scrap`); two pieces, at least one of them math,
    belong together when their boxes are at most `MATH_JOIN_X` x ``h`` apart across and `MATH_JOIN_Y` x ``h``
    apart down (``h``: the page's typical line height), and so on transitively. A block in a text font whose
    centre lies inside an equation of several pieces is a piece too (a bracket or "log" set in roman).
    Running text is never math, so a paragraph beside an equation stays apart, and scraps alone (table
    cells, page numbers) never join each other."""
    kinds = {i: _math_or_scrap(u) for i, u in enumerate(units) if isinstance(u, Block)}
    pieces = [i for i, k in kinds.items() if k is not None]
    root = {i: i for i in pieces}

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]  # halve the path
            i = root[i]
        return i

    for a_at, a in enumerate(pieces):
        for b in pieces[a_at + 1 :]:
            if "math" in (kinds[a], kinds[b]) and _near(units[a].box, units[b].box, h):  # type: ignore[attr-defined]
                root[find(b)] = find(a)
    groups: dict[int, list[int]] = {}
    for i in pieces:
        groups.setdefault(find(i), []).append(i)
    equations = [g for g in groups.values() if len(g) > 1]
    boxes = [Box.around([units[i].box for i in g]) for g in equations]  # type: ignore[attr-defined]
    for i in (i for i, kind in kinds.items() if kind is None):
        box = units[i].box  # type: ignore[attr-defined]
        cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
        holder = next((g for g, eq in zip(equations, boxes, strict=True) if eq.contains_point(cx, cy)), None)
        if holder is not None:
            holder.append(i)
    first = {min(g): sorted(g) for g in equations}
    joined = {i for g in equations for i in g}
    out: list[object] = []
    for i, unit in enumerate(units):
        if i in first:
            out.append(Block(formula_order([ln for j in first[i] for ln in units[j].lines])))  # type: ignore[attr-defined]
        elif i not in joined:
            out.append(unit)
    return out


def formula_order(lines: Sequence[Line]) -> list[Line]:
    """The lines of a formula in reading order: bands of lines whose heights overlap (a fraction, its
    indices and the main line are one band), top to bottom, each read left to right."""
    bands: list[list[Line]] = []
    for ln in sorted(lines, key=lambda ln: ln.y0):
        if bands and ln.y0 < max(x.y1 for x in bands[-1]):
            bands[-1].append(ln)
        else:
            bands.append([ln])
    return [ln for band in bands for ln in sorted(band, key=lambda ln: ln.x0)]


def _near(a: Box, b: Box, h: float) -> bool:
    """Whether two boxes are close enough to be pieces of one equation."""
    across = max(a.x0, b.x0) - min(a.x1, b.x1)  # < 0 when they overlap across
    down = max(a.y0, b.y0) - min(a.y1, b.y1)
    return across <= MATH_JOIN_X * h and down <= MATH_JOIN_Y * h


def _math_or_scrap(block: Block) -> str | None:
    """``math`` when the block is `mostly_math`, ``scrap`` for one line of at most `SCRAP_CHARS` characters
    (an index, a bracket, a digit; not an equation number such as "(1)", which stays a block of its own),
    else None."""
    words = [w for ln in block.lines for w in ln.words]
    if mostly_math(words):
        return "math"
    chars = sum(len(w.text) for w in words)
    scrap = len(block.lines) == 1 and chars <= SCRAP_CHARS and not EQUATION_NUMBER.match(block.text)
    return "scrap" if scrap else None
