"""Generated one-page PDFs that reproduce defects seen on the corpus (`scripts/corpus_check.py --draw`), with
a truth box per element, built like `layout_pages` (same sheet, same `BlockTruth` elements).

- `symbol_font_page`: a list whose bullets are Symbol's private-use U+F0B7 glyph (``password-example.pdf``),
  and a paragraph with words hyphenated at line ends, which pdfium codes as U+0002 (every DocBank paper).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .layout_pages import CONTROL_BULLET, LEADING, LEFT, RIGHT, Built, LineTruth, _Sheet, _texts

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


BUILDERS: dict[str, Callable[[str | Path], Built]] = {"symbol_font": symbol_font_page}
"""Every builder by name."""
