"""Pixel budget of a rendered page, and blank renders (pure arithmetic on sizes and pixels, no PDF I/O).

A page is rendered at the requested dpi unless that exceeds `MAX_PIXELS` pixels or `MAX_SIDE_PX` on a side;
then the resolution is scaled down to fit, for every consumer alike (OCR regions, the model, the stored PNG):
a 100 x 100 inch page at 150 dpi would be 225 Mpx (675 MB as RGB, several copies in flight) and becomes
40 Mpx at 63 dpi. 40 Mpx still gives an A0 poster (33 x 47 in) more than 100 dpi.
"""

from __future__ import annotations

import math

from PIL import Image

MAX_PIXELS = 40_000_000
MAX_SIDE_PX = 20_000
BLANK_TOLERANCE = 6  # grey levels: a render whose darkest and lightest pixel differ by less is blank


def render_dpi(width_pt: float, height_pt: float, dpi: float) -> float:
    """The dpi a ``width_pt`` x ``height_pt`` page is rendered at: ``dpi``, scaled down to the pixel budget.

    >>> render_dpi(612, 792, 150)
    150.0
    >>> round(render_dpi(7200, 7200, 150), 1)  # 100 x 100 inches
    63.2
    >>> w = math.ceil(100 * render_dpi(7200, 7200, 150)); w * w <= MAX_PIXELS
    True
    """
    if dpi <= 0 or width_pt <= 0 or height_pt <= 0:
        raise ValueError(f"page size and dpi must be positive, got {width_pt} x {height_pt} pt at {dpi} dpi")
    w_in, h_in = width_pt / 72.0, height_pt / 72.0
    out = float(min(dpi, math.sqrt(MAX_PIXELS / (w_in * h_in)), MAX_SIDE_PX / max(w_in, h_in)))
    while out < dpi and math.ceil(w_in * out) * math.ceil(h_in * out) > MAX_PIXELS:  # renderers round sides up
        out *= 0.999
    return out


def is_blank(image: Image.Image) -> bool:
    """Whether a rendered page is one flat colour (within `BLANK_TOLERANCE`): nothing for OCR to read."""
    low, high = image.convert("L").getextrema()
    return int(high) - int(low) < BLANK_TOLERANCE
