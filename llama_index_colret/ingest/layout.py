"""Pure layout grouping shared by the text-layer and OCR paths: words -> lines -> blocks, in reading order.

Input boxes are in any isotropic unit (PDF points or pixels) with a top-left origin on the displayed page;
every threshold is relative to the local line height, so the same rules serve both paths.

- Words -> lines: words whose vertical centres agree (within 0.4 of the height) form a row; a row is cut
  into separate lines at horizontal gaps wider than `LINE_GAP` x the height (more in loosely justified rows,
  where a sentence space stretches past it, see `_cut_gap`) or at a vertical ruling line,
  so two columns (or two table cells) on the same baseline never merge.
- Reading order: recursive XY-cut over lines and atomic items (tables, figures). Vertical cuts (column
  gutters) are preferred; horizontal bands that share a gutter are merged first, so columns whose paragraph
  gaps happen to line up are still read column by column. When nothing cuts a set, gutters are sought
  again among its longer lines, so a footer or a margin mark that crosses them does not merge the columns.
- Lines -> blocks: inside a cut leaf, a line joins a block when the vertical gap is a normal line gap, the
  two overlap horizontally and their heights agree within 30 %; a block is then cut where a paragraph
  starts without a gap: a first-line indent (after a short line, or inside justified text), a list marker
  (bullets, dashes, "1.", "2)", "(a)", circled numbers, symbol-font glyphs), or the end of a bold or italic
  run-in heading.
- A list marker set apart from its text (its own text object, past a line gap) is joined to the text.
- A running footer or header (a row of short fields with no text near it) is one line, whatever its gaps.
- A display line (set in math fonts, no prose word) never joins a paragraph; `formulas` joins its pieces.
- Words keep two boxes: the loose one (font ascent/descent) drives grouping, the ink one (tight glyph
  boxes) is what regions report. Right-to-left words read right to left within a line.

Thresholds live in `thresholds.py`. No I/O: imports neither pypdfium2, pytesseract, LanceDB, transformers
nor llama_index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median

from .markers import LOOSE_BULLETS, is_marker
from .thresholds import (
    DEFAULT_LINE_GAP,
    HEADING_LINES,
    INDENT_MAX,
    INDENT_MIN,
    JUSTIFIED_EDGE,
    LINE_GAP,
    LINE_OVERLAP,
    MARKER_GAP,
    MATH_SHARE,
    MAX_LINE_GAP,
    MAX_USUAL_GAP,
    MAX_WORDS_PER_CELL,
    PARA_EXTRA,
    PROSE_LETTERS,
    ROW_TOL,
    RUNNING_CLEAR,
    RUNNING_FIELDS,
    RUNNING_GAP,
    SENTENCE_SPACE,
    SHORT_FRACTION,
    SHORT_LINE,
    SHORT_WORDS,
    SIZE_RATIO,
)

BOLD, ITALIC, MATH = 1, 2, 4  # `Word.style` bits (MATH: set in a math font)


@dataclass(frozen=True)
class Word:
    """A word with its box ``(x0, y0, x1, y1)``, top-left origin, in an isotropic unit; ``ink`` is its tight
    glyph box when known, ``style`` its `BOLD`/`ITALIC`/`MATH` bits, ``rtl`` whether it is right-to-left script."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    ink: tuple[float, float, float, float] | None = None
    style: int = 0
    rtl: bool = False

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
        words = self.words
        self.x0, self.y0 = min(w.x0 for w in words), min(w.y0 for w in words)
        self.x1, self.y1 = max(w.x1 for w in words), max(w.y1 for w in words)
        self.h = median(w.h for w in words)
        self.box = Box(self.x0, self.y0, self.x1, self.y1)
        inks = [w.ink or (w.x0, w.y0, w.x1, w.y1) for w in words]  # (x0, y0, x1, y1) each
        self.ink = Box(min(b[0] for b in inks), min(b[1] for b in inks), max(b[2] for b in inks),
                       max(b[3] for b in inks))  # fmt: skip

    @property
    def text(self) -> str:
        """The words in reading order: right to left when most of them are right-to-left script."""
        rtl = 2 * sum(w.rtl for w in self.words) > len(self.words)
        return " ".join(w.text for w in (reversed(self.words) if rtl else self.words))

    @property
    def styled(self) -> bool:
        """Whether every word is bold, or every word italic (a heading set in another face)."""
        return any(all(w.style & bit for w in self.words) for bit in (BOLD, ITALIC))


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

    @property
    def ink(self) -> Box:
        """The union of its lines' ink boxes (what a block region reports)."""
        return Box.around([ln.ink for ln in self.lines])


def starts_with_marker(line: Line) -> bool:
    """Whether a line starts with a list marker: `is_marker`, or a letter that symbol-font bullets read as
    ("o" in Courier New, "§" for Wingdings' square) set apart from the text by more than a word space."""
    first = line.words[0]
    if is_marker(first.text):
        return True
    return first.text in LOOSE_BULLETS and len(line.words) > 1 and line.words[1].x0 - first.x1 > LINE_GAP * line.h


def group_lines(words: Sequence[Word], v_rules: Sequence[Box] = ()) -> list[Line]:
    """Words -> lines: rows by vertical centre, cut at wide gaps and at vertical rules (a list marker set
    apart from its text stays with it); top to bottom. Centres and heights are computed once per word."""
    rows: list[list[Word]] = []
    row_cy = row_h = 0.0  # centre and height of the current row's first word
    for w in sorted(words, key=lambda w: (w.cy, w.x0)):
        cy, h = w.cy, w.h
        if rows and abs(cy - row_cy) <= ROW_TOL * max(h, row_h):
            rows[-1].append(w)
        else:
            rows.append([w])
            row_cy, row_h = cy, h
    lines: list[Line] = []
    for r, row in enumerate(rows):
        row.sort(key=lambda w: w.x0)
        heights = [w.h for w in row]
        limit = _cut_gap([(row[k].x0 - row[k - 1].x1) / max(heights[k - 1], heights[k]) for k in range(1, len(row))])
        lo, hi = min(w.y0 for w in row), max(w.y1 for w in row)
        rules = [b for b in v_rules if b.y1 >= lo and b.y0 <= hi]  # the only rules that can cut this row
        current = [row[0]]
        for k in range(1, len(row)):
            prev, w = row[k - 1], row[k]
            gap, h = w.x0 - prev.x1, max(heights[k - 1], heights[k])
            marker = (
                len(current) == 1 and (is_marker(prev.text) or prev.text in LOOSE_BULLETS) and gap <= MARKER_GAP * h
            )
            if (gap > limit * h and not marker) or (rules and _rule_between(prev, w, rules)):
                lines.append(Line(current, r))
                current = [w]
            else:
                current.append(w)
        lines.append(Line(current, r))
    return lines


def _cut_gap(gaps: list[float]) -> float:
    """The gap (in heights) above which a row is cut into lines: `LINE_GAP`, or in a row whose word spaces
    are stretched (justified text) up to `SENTENCE_SPACE` of its median word space, never over `MAX_LINE_GAP`:
    a sentence space in a loosely justified line is no gutter."""
    spaces = [g for g in gaps if 0 < g <= LINE_GAP]
    if len(spaces) < 3:
        return LINE_GAP
    return min(max(LINE_GAP, SENTENCE_SPACE * median(spaces)), MAX_LINE_GAP)


def _rule_between(a: Word, b: Word, v_rules: Sequence[Box]) -> bool:
    """Whether a vertical ruling line separates two words of one row."""
    cy = (a.cy + b.cy) / 2
    return any(a.x1 - 0.5 <= (r.x0 + r.x1) / 2 <= b.x0 + 0.5 and r.y0 <= cy <= r.y1 for r in v_rules)


def join_running_rows(lines: Sequence[Line]) -> list[Line]:
    """Lines with each running footer or header row made one line: at least `RUNNING_FIELDS` lines of at
    most `MAX_WORDS_PER_CELL` words, at most `RUNNING_GAP` heights apart, with no other text within
    `RUNNING_CLEAR` heights above or below (fragments under half its height, such as margin marks, do not
    count). Its fields sit further apart than a word space, so words -> lines cut it into pieces."""
    by_row: dict[int, list[Line]] = {}
    for ln in lines:
        by_row.setdefault(ln.row, []).append(ln)
    out = list(lines)
    for row in by_row.values():
        if len(row) < RUNNING_FIELDS or not all(len(ln.words) <= MAX_WORDS_PER_CELL for ln in row):
            continue
        row.sort(key=lambda ln: ln.x0)
        h = median(ln.h for ln in row)
        if any(b.x0 - a.x1 > RUNNING_GAP * h for a, b in zip(row, row[1:], strict=False)):
            continue
        box = Box.around(row)
        near = [ln for ln in lines if ln.row != row[0].row and ln.h >= h / 2 and _x_overlap(ln.box, box) > 0
                and ln.y0 < box.y1 + RUNNING_CLEAR * h and ln.y1 > box.y0 - RUNNING_CLEAR * h]  # fmt: skip
        if not near:
            ids = {id(ln) for ln in row}
            out = [ln for ln in out if id(ln) not in ids] + [Line([w for ln in row for w in ln.words], row[0].row)]
    return out


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
            if b.y0 >= a.y1 - LINE_OVERLAP * h and _x_overlap(a.box, b.box) > 0:
                gaps.append(max(0.0, b.y0 - a.y1))
                break
    usual = median(gaps) if gaps else DEFAULT_LINE_GAP * h
    return min(usual, MAX_USUAL_GAP * h) + PARA_EXTRA * h


def _x_overlap(a: Box, b: Box) -> float:
    """Horizontal overlap of two boxes (negative: the gap between them)."""
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


def _is_short(item: object) -> bool:
    """A line of a few words (footers, line numbers, margin marks); tables and figures never are."""
    return isinstance(item, Line) and len(item.words) <= SHORT_WORDS


def _has_gutter(items: list, v_gap: float) -> bool:
    """Whether several items leave a vertical gutter at least ``v_gap`` wide."""
    return len(items) > 1 and bool(_gaps([(it.box.x0, it.box.x1) for it in items], v_gap))


def group_blocks(lines: Sequence[Line], para_gap: float) -> list[Block]:
    """Lines of one leaf -> paragraphs, ordered by their top edge."""
    blocks: list[Block] = []
    display = {id(ln): is_display_math(ln) for ln in lines}
    for ln in sorted(lines, key=lambda ln: (ln.y0, ln.x0)):
        for b in blocks:
            last = b.lines[-1]
            ratio = max(ln.h, last.h) / min(ln.h, last.h)
            gap = ln.y0 - last.y1
            near = -LINE_OVERLAP * ln.h <= gap <= para_gap and _x_overlap(last.box, ln.box) > 0
            if near and ratio <= SIZE_RATIO and display[id(ln)] == display[id(last)]:
                b.lines.append(ln)
                break
        else:
            blocks.append(Block([ln]))
    split = [part for b in blocks for part in split_paragraphs(b)]
    return sorted(split, key=lambda b: (b.box.y0, b.box.x0))


def split_paragraphs(block: Block) -> list[Block]:
    """Cut a block where a new paragraph starts without a vertical gap (see `_starts_paragraph`). A hanging
    indent (the line before runs to, or near, the right edge: ragged-right text) and wrapped lines stay."""
    parts = [Block([block.lines[0]])]
    lines, box = block.lines, block.box
    for i in range(1, len(lines)):
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if _starts_paragraph(box, parts[-1], lines[i], nxt):
            parts.append(Block([lines[i]]))
        else:
            parts[-1].lines.append(lines[i])
    return parts


def _starts_paragraph(box: Box, part: Block, ln: Line, nxt: Line | None) -> bool:
    """Whether ``ln`` starts a new paragraph after ``part`` (the paragraph so far) inside a block ``box``:
    a list marker; a first-line indent after a short line, or inside justified text (the indented line
    runs to the right edge and the next one is back at the margin, whatever the line before); a line after
    a run-in heading (a bold or italic run of at most `HEADING_LINES` at the top of ``part``); a short bold
    line after plain text."""
    prev = part.lines[-1]
    h = max(prev.h, ln.h)
    if starts_with_marker(ln):
        return True
    short = box.x1 - prev.x1 > max(
        SHORT_LINE * h, SHORT_FRACTION * (box.x1 - box.x0)
    )  # ragged-right lines are not short
    indent = INDENT_MIN * h <= ln.x0 - prev.x0 <= INDENT_MAX * h
    if indent and short:
        return True
    full = box.x1 - ln.x1 <= JUSTIFIED_EDGE * h  # justified: the indented line runs to the right edge
    at_margin = abs(prev.x0 - box.x0) < INDENT_MIN * h and not starts_with_marker(part.lines[0])
    if indent and full and at_margin and nxt is not None and abs(nxt.x0 - box.x0) < INDENT_MIN * h:
        return True
    if prev.styled and not ln.styled and len(part.lines) <= HEADING_LINES and all(x.styled for x in part.lines):
        return True
    return (
        ln.styled
        and not prev.styled
        and all(w.style & BOLD for w in ln.words)
        and box.x1 - ln.x1 > SHORT_FRACTION * (box.x1 - box.x0)
    )


def mostly_math(words: Sequence[Word]) -> bool:
    """Whether at least `MATH_SHARE` of the characters of ``words`` are set in math fonts."""
    return sum(len(w.text) for w in words if w.style & MATH) >= MATH_SHARE * sum(len(w.text) for w in words)


def is_display_math(line: Line) -> bool:
    """Whether a line is set as a displayed formula: `mostly_math` and no word of prose (`PROSE_LETTERS`
    letters or more in a text font), so it never runs on into the paragraph next to it, nor an equation
    number line into it."""
    prose = any(not w.style & MATH and sum(c.isalpha() for c in w.text) >= PROSE_LETTERS for w in line.words)
    return not prose and mostly_math(line.words)
