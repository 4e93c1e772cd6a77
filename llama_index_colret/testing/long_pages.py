"""Generated pages whose text comes as long blocks, with known words on known lines (tests and benchmarks only).

Dense real pages and OCR'd scans often give one block per column: a long paragraph, or a column of justified
text with no indent and no gap. `long_block_page` draws such a page: ``columns`` blocks of ``n_lines``
justified lines each (the last line of a block, and a line too short to justify without gutter-wide
spaces, set at natural spacing), filler words from `pdfgen.sample_paragraphs`, and chosen words planted on
chosen lines (as the third word of the line), so a question's answer is a known run of lines. Each word is
its own text object, as justified text is in real files; truth boxes are ink boxes from the font's glyph
outlines (`testing/ink.py`), never from pdfium.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..geometry import BBox
from .ink import ink_font, reportlab_font
from .pdfgen import BlockTruth, LineTruth, sample_paragraphs

W, H = 612.0, 792.0  # letter
LEFT, RIGHT, GUTTER = 72.0, 540.0, 24.0
MAX_SPREAD = 1.5  # a justified space at most 1.5 spaces wide: wider gaps read as column gutters, in print too
Plants = Mapping[tuple[int, int], Sequence[str]]  # (block, line) -> words planted on that line, both 0-based


def _width(text: str, size: float) -> float:
    """Advance width of ``text`` in Vera at ``size`` points."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return stringWidth(text, "Vera", size)


def fill_line(queue: deque[str], planted: Sequence[str], width: float, size: float) -> list[str]:
    """The words of one line (greedy, at most ``width`` points): filler from ``queue`` (consumed), with
    ``planted`` inserted after the first two filler words. ValueError when the planted words do not fit."""
    line: list[str] = []
    extra = list(planted)
    while queue or extra:
        from_extra = bool(extra) and (len(line) >= 2 or not queue)
        word = extra[0] if from_extra else queue[0]
        if line and _width(" ".join([*line, word]), size) > width:
            break
        line.append(word)
        if from_extra:
            extra.pop(0)
        else:
            queue.popleft()
    if extra:
        raise ValueError(f"planted words {extra} do not fit on a line of {width:.0f} pt")
    return line


def _draw_line(canvas, words: Sequence[str], x: float, right: float | None, baseline: float, size: float) -> BBox:
    """Draw ``words`` from ``x`` on ``baseline`` (points from the top), one text object per word, spread to
    ``right`` when given and the spaces grow at most ``MAX_SPREAD`` times (else natural spacing); return the
    line's normalised ink box."""
    ink = ink_font(str(reportlab_font("Vera.ttf")))
    space = _width(" ", size)
    if right is not None:
        spread = (right - x - sum(_width(w, size) for w in words)) / max(len(words) - 1, 1)
        space = spread if spread <= MAX_SPREAD * space else space
    boxes = []
    for w in words:
        canvas.drawString(x, H - baseline, w)
        box = ink.ink_box(w, size)
        if box is not None:
            boxes.append(BBox.from_points(x + box[0], baseline - box[1], x + box[2], baseline + box[3], W, H))
        x += _width(w, size) + space
    return BBox.union_of(boxes)


def long_block_page(
    path: str | Path,
    plants: Plants,
    *,
    columns: int = 2,
    n_lines: int = 25,
    size: float = 10.0,
    leading: float = 13.0,
    first_baseline: float = 80.0,
    seed: int = 0,
) -> tuple[Path, list[BlockTruth]]:
    """Write a letter page of ``columns`` justified blocks of ``n_lines`` lines (``size`` pt Vera on
    ``leading`` pt, no gap, no indent) with ``plants`` on their lines; return the path and one `BlockTruth`
    per block (role ``"column"``, its lines' ink boxes), in reading order."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    if columns not in (1, 2):
        raise ValueError(f"columns must be 1 or 2, got {columns}")
    bad = sorted(k for k in plants if not (0 <= k[0] < columns and 0 <= k[1] < n_lines))
    if bad:
        raise ValueError(f"plants {bad} lie outside {columns} blocks of {n_lines} lines")
    if "Vera" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("Vera", str(reportlab_font("Vera.ttf"))))
    path = Path(path)
    canvas = Canvas(str(path), pagesize=(W, H), invariant=1)
    canvas.setFont("Vera", size)
    col = (RIGHT - LEFT - GUTTER * (columns - 1)) / columns
    queue = deque(sample_paragraphs(1, words_per_paragraph=16 * n_lines * columns, seed=seed)[0].split())
    blocks = []
    for c in range(columns):
        x0 = LEFT + c * (col + GUTTER)
        lines = []
        for k in range(n_lines):
            words = fill_line(queue, plants.get((c, k), ()), col, size)
            right = x0 + col if k < n_lines - 1 else None
            box = _draw_line(canvas, words, x0, right, first_baseline + k * leading, size)
            lines.append(LineTruth(" ".join(words), box))
        text = " ".join(ln.text for ln in lines)
        blocks.append(BlockTruth("text", text, BBox.union_of([ln.bbox for ln in lines]), tuple(lines), "column"))
    canvas.showPage()
    canvas.save()
    return path, blocks
