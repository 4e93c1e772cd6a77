"""Pure layout grouping shared by the text-layer and OCR paths: words -> lines -> blocks, in reading order.

Input boxes are in any isotropic unit (PDF points or pixels) with a top-left origin on the displayed page;
every threshold is relative to the local line height, so the same rules serve both paths.

- Words -> lines: words whose vertical centres agree (within 0.4 of the height) form a row; a row is cut
  into separate lines at horizontal gaps wider than `LINE_GAP` x the height or at a vertical ruling line,
  so two columns (or two table cells) on the same baseline never merge.
- Reading order: recursive XY-cut over lines and atomic items (tables, figures). Vertical cuts (column
  gutters) are preferred; horizontal bands that share a gutter are merged first, so columns whose paragraph
  gaps happen to line up are still read column by column. When nothing cuts a set, gutters are sought
  again among its longer lines, so a footer or a margin mark that crosses them does not merge the columns.
- Lines -> blocks: inside a cut leaf, a line joins a block when the vertical gap is a normal line gap, the
  two overlap horizontally and their heights agree within 30 %; a block is then cut where a paragraph
  starts without a gap (a first-line indent after a short line, or a bullet).

No I/O: imports neither pypdfium2, pytesseract, LanceDB, transformers nor llama_index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median

LINE_GAP = 0.8  # a horizontal gap wider than this x line height starts a new line (word spaces are ~0.3)
ROW_TOL = 0.4  # words whose centres differ by less than this x height share a row
SIZE_RATIO = 1.3  # lines whose heights differ by more than this factor are not one paragraph


@dataclass(frozen=True)
class Word:
    """A word with its box ``(x0, y0, x1, y1)``, top-left origin, in an isotropic unit."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def h(self) -> float:
        return max(self.y1 - self.y0, 1e-6)

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in the layout unit (top-left origin)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @staticmethod
    def around(boxes: Sequence[Word | Box | Line]) -> Box:
        """The smallest box containing all ``boxes`` (at least one)."""
        return Box(
            min(b.x0 for b in boxes), min(b.y0 for b in boxes), max(b.x1 for b in boxes), max(b.y1 for b in boxes)
        )

    def contains_point(self, x: float, y: float, tol: float = 0.0) -> bool:
        return self.x0 - tol <= x <= self.x1 + tol and self.y0 - tol <= y <= self.y1 + tol


@dataclass
class Line:
    """Words on one baseline, left to right, with no wide gap between them (box computed once)."""

    words: list[Word]
    row: int = 0  # index of the row (shared baseline) the line was cut from

    def __post_init__(self) -> None:
        self.x0 = min(w.x0 for w in self.words)
        self.y0 = min(w.y0 for w in self.words)
        self.x1 = max(w.x1 for w in self.words)
        self.y1 = max(w.y1 for w in self.words)
        self.h = median(w.h for w in self.words)
        self.box = Box(self.x0, self.y0, self.x1, self.y1)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


@dataclass
class Block:
    """Consecutive lines of one paragraph, top to bottom."""

    lines: list[Line] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(ln.text for ln in self.lines)

    @property
    def box(self) -> Box:
        return Box.around([ln.box for ln in self.lines])


def group_lines(words: Sequence[Word], v_rules: Sequence[Box] = ()) -> list[Line]:
    """Words -> lines: rows by vertical centre, cut at wide gaps and at vertical rules; top to bottom."""
    rows: list[list[Word]] = []
    for w in sorted(words, key=lambda w: (w.cy, w.x0)):
        if rows and abs(w.cy - rows[-1][0].cy) <= ROW_TOL * max(w.h, rows[-1][0].h):
            rows[-1].append(w)
        else:
            rows.append([w])
    lines: list[Line] = []
    for r, row in enumerate(rows):
        row.sort(key=lambda w: w.x0)
        current = [row[0]]
        for prev, w in zip(row, row[1:], strict=False):
            gap = w.x0 - prev.x1
            if gap > LINE_GAP * max(prev.h, w.h) or _rule_between(prev, w, v_rules):
                lines.append(Line(current, r))
                current = [w]
            else:
                current.append(w)
        lines.append(Line(current, r))
    return lines


def _rule_between(a: Word, b: Word, v_rules: Sequence[Box]) -> bool:
    """Whether a vertical ruling line separates two words of one row."""
    cy = (a.cy + b.cy) / 2
    return any(a.x1 - 0.5 <= (r.x0 + r.x1) / 2 <= b.x0 + 0.5 and r.y0 <= cy <= r.y1 for r in v_rules)


def typical_height(lines: Sequence[Line]) -> float:
    """Median line height (a unit for gap thresholds)."""
    return median(ln.h for ln in lines) if lines else 1.0


def paragraph_gap(lines: Sequence[Line]) -> float:
    """Vertical gap above which two lines belong to different paragraphs: the page's usual line gap
    (median gap between vertically adjacent, horizontally overlapping lines) plus half a line height."""
    h = typical_height(lines)
    ordered = sorted(lines, key=lambda ln: ln.y0)
    gaps = []
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 : i + 6]:
            if b.y0 >= a.y1 - 0.3 * h and _x_overlap(a.box, b.box) > 0:
                gaps.append(max(0.0, b.y0 - a.y1))
                break
    usual = median(gaps) if gaps else 0.2 * h
    return min(usual, 2.0 * h) + 0.5 * h


def _x_overlap(a: Box, b: Box) -> float:
    return min(a.x1, b.x1) - max(a.x0, b.x0)


def _gaps(intervals: list[tuple[float, float]], min_gap: float) -> list[float]:
    """Cut positions (gap middles) where a sorted sweep over ``intervals`` finds a gap >= ``min_gap``."""
    cuts = []
    intervals = sorted(intervals)
    reach = intervals[0][1]
    for lo, hi in intervals[1:]:
        if lo - reach >= min_gap:
            cuts.append((lo + reach) / 2)
        reach = max(reach, hi)
    return cuts


def _split(items: list, cuts: list[float], axis: int) -> list[list]:
    """Split items by cut positions along x (axis 0) or y (axis 1), in increasing order."""
    groups: list[list] = [[] for _ in range(len(cuts) + 1)]
    for it in items:
        lo = it.box.x0 if axis == 0 else it.box.y0
        groups[sum(1 for c in cuts if lo > c)].append(it)
    return [g for g in groups if g]


def xy_cut(items: list, v_gap: float, h_gap: float) -> list[list]:
    """Recursive XY-cut: items (each with ``.box``) -> leaves in reading order (columns left to right,
    bands top to bottom). Vertical cuts need a gutter >= ``v_gap``, horizontal ones a gap >= ``h_gap``."""
    if len(items) <= 1:
        return [items] if items else []
    vcuts = _gaps([(it.box.x0, it.box.x1) for it in items], v_gap)
    if vcuts:
        return [leaf for group in _split(items, vcuts, 0) for leaf in xy_cut(group, v_gap, h_gap)]
    hcuts = _gaps([(it.box.y0, it.box.y1) for it in items], h_gap)
    if not hcuts:
        vcuts = _gaps([(it.box.x0, it.box.x1) for it in items if not _is_short(it)] or [(0.0, 0.0)], v_gap)
        if not vcuts:
            return [items]
        # a few short lines (a footer, marks in the margin) bridge the gutters: cut the columns anyway
        return [leaf for group in _split(items, vcuts, 0) for leaf in xy_cut(group, v_gap, h_gap)]
    bands = _split(items, hcuts, 1)
    merged: list[list] = [bands[0]]
    for band in bands[1:]:
        prev = merged[-1]
        if _has_gutter(prev, v_gap) and _has_gutter(band, v_gap) and _has_gutter(prev + band, v_gap):
            merged[-1] = prev + band  # the same columns continue across a gap that happens to line up
        else:
            merged.append(band)
    if len(merged) == 1:  # cannot happen (the whole set has no gutter), but never recurse on the same set
        return [items]
    return [leaf for group in merged for leaf in xy_cut(group, v_gap, h_gap)]


SHORT_WORDS = 3  # a line of at most this many words is "short": it may cross a gutter without closing it


def _is_short(item: object) -> bool:
    """A line of a few words (footers, line numbers, margin marks); tables and figures never are."""
    return isinstance(item, Line) and len(item.words) <= SHORT_WORDS


def _has_gutter(items: list, v_gap: float) -> bool:
    return len(items) > 1 and bool(_gaps([(it.box.x0, it.box.x1) for it in items], v_gap))


def group_blocks(lines: Sequence[Line], para_gap: float) -> list[Block]:
    """Lines of one leaf -> paragraphs, ordered by their top edge."""
    blocks: list[Block] = []
    for ln in sorted(lines, key=lambda ln: (ln.y0, ln.x0)):
        for b in blocks:
            last = b.lines[-1]
            ratio = max(ln.h, last.h) / min(ln.h, last.h)
            gap = ln.y0 - last.y1
            if -0.3 * ln.h <= gap <= para_gap and _x_overlap(last.box, ln.box) > 0 and ratio <= SIZE_RATIO:
                b.lines.append(ln)
                break
        else:
            blocks.append(Block([ln]))
    split = [part for b in blocks for part in split_paragraphs(b)]
    return sorted(split, key=lambda b: (b.box.y0, b.box.x0))


BULLETS = ("•", "◦", "▪", "●", "■", "▶", "►")  # glyphs only: a leading dash may be a wrapped word


def split_paragraphs(block: Block) -> list[Block]:
    """Cut a block where a new paragraph starts without a vertical gap: a first-line indent after a line
    that stops a quarter of the width short of the right edge, or a bullet. A hanging indent (the line
    before runs to, or near, the right edge: ragged-right text) and wrapped lines stay together."""
    left, right = block.box.x0, block.box.x1
    parts = [Block([block.lines[0]])]
    for prev, ln in zip(block.lines, block.lines[1:], strict=False):
        h = max(prev.h, ln.h)
        short = right - prev.x1 > max(2 * h, 0.25 * (right - left))  # ragged-right lines are not "short"
        indented = 0.5 * h <= ln.x0 - prev.x0 <= 4 * h and short
        if indented or ln.words[0].text.startswith(BULLETS):
            parts.append(Block([ln]))
        else:
            parts[-1].lines.append(ln)
    return parts
