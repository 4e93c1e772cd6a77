"""Glyph ink metrics of TrueType fonts, for the truth boxes of generated PDFs (tests and benchmarks only).

A line's ink box is what a reader would box: from the left edge of its first glyph's outline to the right
edge of its last one, and from the highest to the lowest outline point of its glyphs (not the font's
ascent/descent, which is what a loose box spans). Metrics come from the font file itself (fontTools), so
they are independent of pdfium, whose tight character boxes the library reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


def reportlab_font(name: str) -> Path:
    """The path of a TrueType font shipped with reportlab (``Vera.ttf``, ``VeraBd.ttf``, ...)."""
    import reportlab

    return Path(os.path.dirname(reportlab.__file__)) / "fonts" / name


@dataclass(frozen=True)
class GlyphInk:
    """Advance and outline bounds of one glyph, in font units (y up, baseline at 0); empty glyphs have none."""

    advance: int
    bounds: tuple[int, int, int, int] | None  # (x_min, y_min, x_max, y_max)


class InkFont:
    """Per-character advances and outline bounds of one TrueType file."""

    def __init__(self, path: str | Path) -> None:
        from fontTools.ttLib import TTFont

        font = TTFont(str(path), lazy=True)
        self.units = font["head"].unitsPerEm
        self._cmap = font.getBestCmap()
        self._glyf = font["glyf"]
        self._hmtx = font["hmtx"]
        self._cache: dict[str, GlyphInk] = {}

    def glyph(self, ch: str) -> GlyphInk:
        """The ink of character ``ch`` (the .notdef glyph when the font lacks it)."""
        if ch not in self._cache:
            name = self._cmap.get(ord(ch), ".notdef")
            g = self._glyf[name]
            has = getattr(g, "numberOfContours", 0) != 0 and hasattr(g, "xMin")
            bounds = (g.xMin, g.yMin, g.xMax, g.yMax) if has else None
            self._cache[ch] = GlyphInk(self._hmtx[name][0], bounds)
        return self._cache[ch]

    def ink_box(self, text: str, size: float) -> tuple[float, float, float, float] | None:
        """Ink of ``text`` set at ``size`` from x = 0 on the baseline: ``(x0, above, x1, below)`` in points,
        ``above`` the height of the highest ink over the baseline and ``below`` the depth under it (>= 0 when
        the ink descends); None when nothing is inked."""
        scale = size / self.units
        x, box = 0.0, None
        for ch in text:
            g = self.glyph(ch)
            if g.bounds is not None:
                gx0, gy0, gx1, gy1 = (v * scale for v in g.bounds)
                ink = (x + gx0, gy1, x + gx1, -gy0)  # (x0, above, x1, below)
                box = ink if box is None else (min(box[0], ink[0]), max(box[1], ink[1]), max(box[2], ink[2]),
                                               max(box[3], ink[3]))  # fmt: skip
            x += g.advance * scale
        return box


@lru_cache(maxsize=16)
def ink_font(path: str) -> InkFont:
    """A cached `InkFont` for a font file path."""
    return InkFont(path)


def renamed_font(source: str, face: str, aliases: dict[int, int] | None = None) -> Path:
    """A copy of reportlab's font ``source`` whose face is named ``face`` (reportlab shares one subset per face
    name, and readers tell math fonts by name) and whose cmap draws each code point of ``aliases`` with the
    glyph of the code point it maps to; written once per user."""
    import tempfile

    from fontTools.ttLib import TTFont

    out = Path(tempfile.gettempdir()) / f"colret-{face.lower()}-{os.getuid()}.ttf"
    if not out.is_file():
        font = TTFont(str(reportlab_font(source)))
        for table in font["cmap"].tables:
            if table.isUnicode():
                table.cmap.update({code: table.cmap[glyph] for code, glyph in (aliases or {}).items()})
        for rec in font["name"].names:
            if rec.nameID in (1, 4, 6):
                rec.string = face
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        font.save(str(tmp))
        tmp.replace(out)
    return out
