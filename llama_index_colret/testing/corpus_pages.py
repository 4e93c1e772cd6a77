"""Generated one-page PDFs that reproduce defects seen on the corpus (`scripts/corpus_check.py --draw`), with
a truth box per element, built like `layout_pages` (same sheet, same `BlockTruth` elements).

- `symbol_font_page`: a list whose bullets are Symbol's private-use U+F0B7 glyph (``password-example.pdf``),
  and a paragraph with words hyphenated at line ends, which pdfium codes as U+0002 (every DocBank paper).
- `twin_plots_page`: two framed plots side by side whose y-axis tick labels share baselines, so they line up
  in two columns like an unruled table (``ms_astroph_p7`` of DocBank), with a caption and a paragraph.
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


BUILDERS: dict[str, Callable[[str | Path], Built]] = {"symbol_font": symbol_font_page, "twin_plots": twin_plots_page}
"""Every builder by name."""
