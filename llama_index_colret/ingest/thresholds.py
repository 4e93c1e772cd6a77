"""Every layout threshold in one place, in units of the local line height ``h`` unless it says otherwise.

The same numbers serve the text layer (points) and OCR (pixels) because they scale with the text. Each has a
line on why it has its value; change one here and the tests on generated real-layout pages say what moved.
"""

from __future__ import annotations

# characters -> words (text layer)
WORD_GAP = 0.25  # a gap wider than this between two characters is a word space (letter gaps are ~0.05)
WORD_BASELINE_JUMP = 0.5  # centres further apart than this are on different baselines (sub/superscripts are ~0.3)

# words -> lines
ROW_TOL = 0.4  # words whose centres differ by less than this share a row (mixed-size words on one baseline)
LINE_GAP = 0.8  # a horizontal gap wider than this starts a new line: word spaces are ~0.3, gutters >= 1
SENTENCE_SPACE = 2.0  # (x the row's median word space) justified text stretches a sentence space to ~1.8x
MAX_LINE_GAP = 1.0  # ... but a gap wider than this is a gutter however stretched the words are
MARKER_GAP = 1.5  # a list marker set apart from its text joins it across at most this (gutters are wider)
RUNNING_GAP = 3.0  # the fields of a running footer ("VerDate ... Jkt ... PO ...") sit at most this far apart
RUNNING_FIELDS = 3  # (lines) a row of at least this many short lines with nothing near it is one footer line
RUNNING_CLEAR = 1.5  # ... when no other text comes this close above or below it (fragments excepted)

# lines -> blocks
SIZE_RATIO = 1.3  # ratio: lines whose heights differ by more than this factor are not one paragraph
LINE_OVERLAP = 0.3  # a line may start this far above the previous one's bottom (tight leading, accents)
PARA_EXTRA = 0.5  # a paragraph gap is the page's usual line gap plus this (leading varies by ~0.2)
MAX_USUAL_GAP = 2.0  # cap on the usual line gap: double-spaced text still has gaps below this
DEFAULT_LINE_GAP = 0.2  # the usual line gap of a page too small to measure one
INDENT_MIN, INDENT_MAX = 0.5, 4.0  # a first-line indent is 1-3 em; less is jitter, more is a new column
SHORT_LINE = 2.0  # a line ending this far (and `SHORT_FRACTION` of the block) short of the right edge is short
SHORT_FRACTION = 0.25  # (of the block width) ragged-right lines end closer to the edge than this
JUSTIFIED_EDGE = 1.0  # lines ending within this of the block's right edge are justified (full)
HEADING_LINES = 2  # a bold or italic run of at most this many lines at a block's top is a run-in heading
SHORT_WORDS = 3  # (words) a line of at most this many words may cross a gutter without closing it

# display equations (pieces joined into one block)
MATH_SHARE = 0.4  # (of its characters) a block this much in math fonts is math; prose with inline math is < 0.2
PROSE_LETTERS = 4  # (letters) a word this long in a text font is prose ("where", "Here"); "exp", "log" are math
SCRAP_CHARS = 3  # (characters) a one-line block this short beside math is a piece of it (an index, a bracket)
MATH_JOIN_X = 2.0  # pieces of one equation are at most this far apart across (a wider gap sets off its number)
MATH_JOIN_Y = 0.5  # ... and this far apart down: fraction bars and limits; the lines of a display are further

# tables
MAX_WORDS_PER_RULED_CELL = 6.0  # (words, median) cells of prose length mean a framed text area, not a table
MAX_WORDS_PER_CELL = 4.0  # (words) aligned-column rows have short cells; prose columns have long lines
MIN_ALIGNED_ROWS = 3  # (rows) two aligned rows happen by chance (a heading over a date line); three rarely do
MIN_TABLE_FILL = 0.6  # (fraction of cells) a sparser grid is scattered text, not a table
TABLE_ROW_GAP = 1.5  # rows of an aligned table are at most this far apart (a blank line ends the table)
RULE_TOL = 0.2  # rules closer than this (and 2 units) are one ruling line

# rules (points: ruling lines are drawn at a fixed width, whatever the text size)
RULE_MAX_THICKNESS = 3.0  # thicker shapes are boxes, not rules
MIN_RULE_LENGTH = 3.0  # shorter strokes are ticks, dots and glyph parts, not rules

# figures
CAPTION_GAP = 2.0  # a caption starts at most this far below (or above) its figure
CAPTION_OVERLAP = 0.5  # ... and may overlap it by this much (labels drawn into the picture's box)
CAPTION_ABOVE_PENALTY = 0.5  # a caption above a figure is preferred less than one below by this distance
MIN_FIGURE_SIDE = 1.5  # a picture whose sides are both at least this is a figure: bullets and rules are smaller
DRAWING_JOIN = 1.0  # vector shapes closer than this are parts of one drawing (bars of one chart)
MAX_TEXT_IN_FIGURE = 0.3  # (fraction of the drawing's area) more text ink than this: a frame around text
MAX_FIGURE_AREA = 0.85  # (fraction of the page) a larger picture is a scan or a background behind the text
MAX_ON_TABLE = 0.5  # (fraction of the drawing) a drawing lying this much on a ruled table is its shading
