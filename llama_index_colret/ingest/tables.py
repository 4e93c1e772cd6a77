"""Pure table detection: ruled grids (from ruling lines) and aligned columns (from line positions).

A detected table becomes one unit whose text is its cells row by row (``" | "`` between cells, a newline
between rows) so an LLM can read it. Units are the layout unit of `layout.py` (points or pixels).
No I/O.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

import numpy as np

from .layout import Box, Line
from .thresholds import (
    INDENT_MIN,
    MAX_WORDS_PER_CELL,
    MAX_WORDS_PER_RULED_CELL,
    MIN_ALIGNED_ROWS,
    MIN_TABLE_FILL,
    TABLE_ROW_GAP,
)


@dataclass
class Table:
    """A detected table: outer box, cell texts row by row, and the lines it holds."""

    box: Box
    rows: list[list[str]]
    lines: list[Line]
    ruled: bool = True

    @property
    def text(self) -> str:
        return "\n".join(" | ".join(cells) for cells in self.rows)

    @property
    def ink(self) -> Box:
        """The ruled grid, or for an unruled table the ink of its cells."""
        return self.box if self.ruled else Box.around([ln.ink for ln in self.lines])


def _groups(values: Sequence[float], tol: float) -> list[list[float]]:
    """Sorted values cut into groups wherever neighbours are more than ``tol`` apart."""
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return out


def _cluster(values: Sequence[float], tol: float) -> list[float]:
    """Sorted values with neighbours closer than ``tol`` merged into their mean."""
    return [sum(c) / len(c) for c in _groups(values, tol)]


def _collinear(a: np.ndarray, tol: float) -> np.ndarray:
    """Which rules of one direction continue each other: ``a (n, 3)`` as (start, end, offset) along and
    across the rule -> ``(n, n)``: same offset and end to end or overlapping, within ``tol``."""
    same = np.abs(a[:, None, 2] - a[None, :, 2]) <= tol  # (n, n)
    return same & (a[:, None, 0] <= a[None, :, 1] + tol) & (a[None, :, 0] <= a[:, None, 1] + tol)


def _components(h_rules: Sequence[Box], v_rules: Sequence[Box], tol: float) -> list[tuple[list[int], list[int]]]:
    """Connected sets of crossing/touching rules: each as (indices of h-rules, indices of v-rules). Rules
    that continue each other connect too: a column rule drawn one segment per row stays one rule across a
    row whose bottom rule is missing (a cell of two lines), so the table is not cut in two there."""
    if not h_rules or not v_rules:
        return []
    h = np.array([[r.x0, r.x1, (r.y0 + r.y1) / 2] for r in h_rules])  # (n_h, 3): x0, x1, y
    v = np.array([[r.y0, r.y1, (r.x0 + r.x1) / 2] for r in v_rules])  # (n_v, 3): y0, y1, x
    touch = (
        (v[None, :, 2] >= h[:, None, 0] - tol)
        & (v[None, :, 2] <= h[:, None, 1] + tol)
        & (h[:, None, 2] >= v[None, :, 0] - tol)
        & (h[:, None, 2] <= v[None, :, 1] + tol)
    )  # (n_h, n_v)
    parent = list(range(len(h_rules) + len(v_rules)))  # h-rules first, then v-rules
    n_h = len(h_rules)
    for i, j in zip(*np.nonzero(np.triu(_collinear(v, tol), 1)), strict=True):
        parent[_find(parent, n_h + int(i))] = _find(parent, n_h + int(j))
    for i, j in zip(*np.nonzero(touch), strict=True):
        parent[_find(parent, int(i))] = _find(parent, n_h + int(j))
    groups: dict[int, tuple[list[int], list[int]]] = {}
    for i in range(n_h):
        groups.setdefault(_find(parent, i), ([], []))[0].append(i)
    for j in range(len(v_rules)):
        groups.setdefault(_find(parent, n_h + j), ([], []))[1].append(j)
    return [g for g in groups.values() if g[0] and g[1]]


def _find(parent: list[int], i: int) -> int:
    """Union-find root of ``i`` (with path halving)."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _fill(lines: Sequence[Line], ys: list[float], xs: list[float]) -> list[list[list[Line]]]:
    """Lines assigned to grid cells by their centre: ``cells[row][col]`` lists of lines."""
    cells: list[list[list[Line]]] = [[[] for _ in range(len(xs) - 1)] for _ in range(len(ys) - 1)]
    for ln in lines:
        r = min(max(bisect_right(ys, (ln.y0 + ln.y1) / 2) - 1, 0), len(ys) - 2)
        c = min(max(bisect_right(xs, (ln.x0 + ln.x1) / 2) - 1, 0), len(xs) - 2)
        cells[r][c].append(ln)
    return cells


def _cell_text(lines: list[Line]) -> str:
    """The text of a cell's lines in reading order."""
    return " ".join(ln.text for ln in sorted(lines, key=lambda ln: (ln.row, ln.x0)))


def _band_rows(band: list[list[Line]]) -> list[list[str]]:
    """Table rows of one ruled band: one row, or one per text row when most of its cells hold several
    lines (columns ruled, rows not: each text row is a table row)."""
    filled = [c for c in band if c]
    if sum(1 for c in filled if len(c) > 1) * 2 < len(filled):
        return [[_cell_text(c) for c in band]]
    rows = sorted({ln.row for c in band for ln in c})
    return [[_cell_text([ln for ln in c if ln.row == r]) for c in band] for r in rows]


def find_ruled_tables(lines: Sequence[Line], h_rules: Sequence[Box], v_rules: Sequence[Box], tol: float) -> list[Table]:
    """Ruled grids: connected horizontal+vertical rules spanning at least 2 columns and 2 rows of short
    text cells (a ruled frame around paragraphs is not a table)."""
    tables = []
    for hi, vi in _components(h_rules, v_rules, tol):
        ys = _cluster([(h_rules[i].y0 + h_rules[i].y1) / 2 for i in hi], tol)
        xs = _cluster([(v_rules[j].x0 + v_rules[j].x1) / 2 for j in vi], tol)
        if len(ys) < 2 or len(xs) < 3:
            continue
        box = Box(xs[0], ys[0], xs[-1], ys[-1])
        inside = [ln for ln in lines if box.contains_point((ln.x0 + ln.x1) / 2, (ln.y0 + ln.y1) / 2, tol)]
        if len(inside) < 2:
            continue
        rows = [r for band in _fill(inside, ys, xs) if any(band) for r in _band_rows(band)]
        cells = [len(t.split()) for row in rows for t in row if t]
        if len(rows) < 2 or median(cells) > MAX_WORDS_PER_RULED_CELL:
            continue
        tables.append(Table(box, rows, inside))
    return tables


def column_starts(lines: Sequence[Line], h: float) -> list[float]:
    """Left edges of the page's text columns: where at least `MIN_ALIGNED_ROWS` prose lines (more words than
    a cell holds) start, and no prose line starting further left runs across (an indent is no column)."""
    prose = [ln for ln in lines if len(ln.words) > MAX_WORDS_PER_CELL]
    starts = [g[0] for g in _groups([ln.x0 for ln in prose], h) if len(g) >= MIN_ALIGNED_ROWS]
    return [x for x in starts if not any(ln.x0 < x - h and ln.x1 > x + h for ln in prose)]


def _rows(lines: Sequence[Line]) -> list[list[Line]]:
    """Lines grouped by the row (shared baseline) they were cut from, top to bottom."""
    by_row: dict[int, list[Line]] = {}
    for ln in lines:
        by_row.setdefault(ln.row, []).append(ln)
    return sorted((sorted(r, key=lambda ln: ln.x0) for r in by_row.values()), key=lambda r: min(ln.y0 for ln in r))


def _short(row: list[Line]) -> bool:
    """Whether a row has at least two cells, of few words each (a table row, not prose)."""
    return len(row) >= 2 and median(len(ln.words) for ln in row) <= MAX_WORDS_PER_CELL


def _as_table(run: list[list[Line]], col_gap: float) -> Table | None:
    """A run of multi-cell rows -> a table when its cells fall into >= 2 consistent columns."""
    spans = sorted((ln.x0, ln.x1) for row in run for ln in row)
    cols: list[list[float]] = [list(spans[0])]
    for lo, hi in spans[1:]:
        if lo - cols[-1][1] >= col_gap:
            cols.append([lo, hi])
        else:
            cols[-1][1] = max(cols[-1][1], hi)
    if len(cols) < 2:
        return None
    xs = [cols[0][0]] + [(a[1] + b[0]) / 2 for a, b in zip(cols, cols[1:], strict=False)] + [cols[-1][1]]
    rows, filled = [], 0
    for row in run:
        cells = ["" for _ in cols]
        for ln in row:
            c = min(max(bisect_right(xs, ln.x0 + 1e-9) - 1, 0), len(cols) - 1)
            if cells[c]:
                return None  # two cells of one row in one column: not a consistent grid
            cells[c] = ln.text
        filled += sum(1 for t in cells if t)
        rows.append(cells)
    if filled < MIN_TABLE_FILL * len(rows) * len(cols):
        return None
    lines = [ln for row in run for ln in row]
    return Table(Box.around(lines), rows, lines, ruled=False)


def find_aligned_tables(lines: Sequence[Line], h: float, col_gap: float) -> list[Table]:
    """Tables without rules: >= 3 consecutive rows of short cells that line up in >= 2 columns, sought in
    each text column on its own (`column_starts`), so a table never spans a column gutter."""
    starts = column_starts(lines, h)
    bands: dict[int, list[Line]] = {}
    for ln in lines:
        bands.setdefault(bisect_right(starts, ln.x0 + INDENT_MIN * h), []).append(ln)
    return [t for band in sorted(bands) for t in _aligned_in(bands[band], h, col_gap)]


def _aligned_in(lines: Sequence[Line], h: float, col_gap: float) -> list[Table]:
    """`find_aligned_tables` within one text column."""
    tables: list[Table] = []
    run: list[list[Line]] = []

    def flush() -> None:
        # a caption row ("Table 1: ...") of two short lines may sit right above or below the grid
        for rows in (run, run[:-1], run[1:], run[1:-1]):
            if len(rows) >= MIN_ALIGNED_ROWS and (t := _as_table(rows, col_gap)) is not None:
                tables.append(t)
                break
        run.clear()

    for row in _rows(lines):
        top = min(ln.y0 for ln in row)
        if not _short(row) or (run and top - max(ln.y1 for ln in run[-1]) > TABLE_ROW_GAP * h):
            flush()
        if _short(row):
            run.append(row)
    flush()
    return tables
