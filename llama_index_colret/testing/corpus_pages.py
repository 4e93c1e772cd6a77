"""Generated one-page PDFs that reproduce defects seen on the corpus (`scripts/corpus_check.py --draw`), with
a truth box per element, built like `layout_pages` (same sheet, same `BlockTruth` elements).

- `symbol_font_page`: a list whose bullets are Symbol's private-use U+F0B7 glyph (``password-example.pdf``),
  and a paragraph with words hyphenated at line ends, which pdfium codes as U+0002 (every DocBank paper).
- `twin_plots_page`: two framed plots side by side whose y-axis tick labels share baselines, so they line up
  in two columns like an unruled table (``ms_astroph_p7`` of DocBank), with a caption and a paragraph.
- `display_equation_page`: two displayed formulas in a math font, each piece its own text object (a fraction,
  super- and subscripts, as TeX sets them on every DocBank page with equations), numbered at the margin,
  the second running on into the paragraph under it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..geometry import BBox
from .layout_pages import CONTROL_BULLET, LEADING, LEFT, RIGHT, BlockTruth, Built, H, LineTruth, W, _Sheet, _texts

HYPHENATED = (("The detectors bring signifi-", "cant contributions to photon count-"),
              ("ing at free electron lasers and to the measure-", "ment of spectra and backgrounds."))  # fmt: skip


def symbol_font_page(path: str | Path) -> Built:
    """A paragraph, three items bulleted with U+F0B7 (read as "•"), and a paragraph hyphenated at its line
    ends (read as printed: "signifi-")."""
    s = _Sheet(Path(path))
    s.bullet_code = b"F0B7"
    y = s.paragraph(_texts(1, 30, 41)[0], 80.0) + LEADING
    for t in _texts(3, 18, 42):
        y = s.item(CONTROL_BULLET, t, y, marker_font="VeraCtl", separate=True)
    y += LEADING
    lines = []
    for ln in (text for pair in HYPHENATED for text in pair):
        assert s.width(ln) < RIGHT - LEFT, ln
        lines.append(LineTruth(ln, s.text(ln, LEFT, y)))
        y += LEADING
    s.add("text", "paragraph", lines)
    return s.save()


def _plot(s: _Sheet, x0: float, top: float, ticks: tuple[str, ...], side: float = 150.0) -> BBox:
    """A square frame with grey stripes (paths) and y-axis tick labels left of it, one per stripe edge;
    returns the normalised box of frame and labels."""
    c = s.c
    c.setLineWidth(1.0)
    step = side / (len(ticks) + 1)
    for k in range(len(ticks) + 1):
        c.setFillColorRGB(0.3 + 0.1 * k, 0.3 + 0.1 * k, 0.3 + 0.1 * k)
        c.rect(x0, H - top - (k + 1) * step, side, step, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    c.rect(x0, H - top - side, side, side, stroke=1, fill=0)
    boxes = [BBox.from_points(x0 - 0.5, top - 0.5, x0 + side + 0.5, top + side + 0.5, W, H)]
    for k, tick in enumerate(ticks):
        boxes.append(s.text(tick, x0 - 4.0 - s.width(tick), top + (k + 1) * step + 3.5))
    return BBox.union_of(boxes)


def twin_plots_page(path: str | Path) -> Built:
    """A paragraph, two plots side by side with tick labels on shared baselines, a caption, a paragraph."""
    s = _Sheet(Path(path))
    y = s.paragraph(_texts(1, 40, 51)[0], 80.0) + LEADING
    ticks = ("400", "300", "200", "100")
    caption = "Figure 2: Pressure along the loop for both pulse durations."
    for x0 in (LEFT + 40.0, LEFT + 270.0):  # the caption below spans both: each plot reports it
        s.elements.append(BlockTruth("figure", caption, _plot(s, x0, y, ticks), (), "plot"))
    y += 150.0 + 2 * LEADING
    s.paragraph(caption, y)
    s.elements[-1] = BlockTruth("text", caption, s.elements[-1].bbox, s.elements[-1].lines, "caption")
    s.paragraph(_texts(1, 40, 52)[0], y + 2 * LEADING)
    return s.save()


def display_equation_page(path: str | Path) -> Built:
    """Paragraphs around two displayed formulas set in a math font (a face named "...Math...", as TeX's and
    Office's math faces are), each piece its own text object: a fraction over a drawn bar and a 7 pt
    superscript, then a 7 pt subscript; each formula has an equation number at the right margin, and the
    second runs on into the paragraph under it at the normal leading, with no gap."""
    s = _Sheet(Path(path))
    y = s.paragraph(_texts(1, 40, 71)[0], 80.0) + LEADING
    base, x, m = y + 8.0, 230.0, "VeraMath"
    pieces = [s.text("f =", x, base, m)]
    x += s.width("f = ", m)
    num, den = "a + b", "2c"
    bar = max(s.width(num, m), s.width(den, m))
    pieces.append(s.text(num, x + (bar - s.width(num, m)) / 2, base - 6.0, m))
    s.c.setLineWidth(0.5)
    s.c.line(x, H - base + 3.5, x + bar, H - base + 3.5)
    pieces.append(s.text(den, x + (bar - s.width(den, m)) / 2, base + 8.0, m))
    x += bar + s.width(" ", m)
    pieces.append(s.text("+ x", x, base, m))
    pieces.append(s.text("2", x + s.width("+ x", m) + 0.5, base - 4.0, m, size=7.0))
    s.add("text", "equation", [LineTruth("f = a + b 2c + x2", BBox.union_of(pieces))])
    s.add("text", "equation_number", [LineTruth("(1)", s.text("(1)", RIGHT - s.width("(1)"), base))])
    y = s.paragraph(_texts(1, 30, 72)[0], base + 8.0 + 2 * LEADING) + LEADING
    pieces = [s.text("y", 240.0, y, m), s.text("i", 240.0 + s.width("y", m) + 0.3, y + 2.5, m, size=7.0)]
    pieces.append(s.text("= k t + 1", 240.0 + s.width("y", m) + s.width("i ", m, 7.0), y, m))
    s.add("text", "equation", [LineTruth("yi = k t + 1", BBox.union_of(pieces))])
    s.add("text", "equation_number", [LineTruth("(2)", s.text("(2)", RIGHT - s.width("(2)"), y))])
    s.paragraph(_texts(1, 30, 73)[0], y + LEADING)
    return s.save()


BUILDERS: dict[str, Callable[[str | Path], Built]] = {
    "symbol_font": symbol_font_page,
    "twin_plots": twin_plots_page,
    "display_equation": display_equation_page,
}
"""Every builder by name."""
