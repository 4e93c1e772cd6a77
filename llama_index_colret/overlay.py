"""Pictures that explain a grounded answer: the patch relevance heat map over the page, and the chosen boxes.

Pure PIL + numpy. A heat map ``(n_rows, n_cols)`` is stretched over the whole page (ColPali-family processors
stretch the page to their input, so cell ``(r, c)`` covers the ``r``-th row band and ``c``-th column band of
the page), coloured, alpha blended onto the stored page image, and the selected regions are outlined with
their rank. Several pages are laid out side by side or stacked. `overlay_pages` turns grounded hits into
the pages to draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .geometry import BBox

if TYPE_CHECKING:
    from .grounded_search import GroundedHit
    from .grounding import Selection

# Colour stops of the heat map (low -> high): transparent-ish dark blue, cyan, yellow, red.
_STOPS = np.array([[0.0, 20, 30, 120], [0.35, 0, 170, 220], [0.7, 250, 220, 0], [1.0, 220, 20, 20]], dtype=np.float64)
BOX_COLORS: tuple[tuple[int, int, int], ...] = ((230, 0, 120), (0, 150, 60), (120, 60, 220), (240, 120, 0))


@dataclass
class OverlayBox:
    """One selected region to outline: its normalised box, its 1-based rank and an optional short label."""

    bbox: BBox
    rank: int
    label: str = ""


@dataclass
class OverlayPage:
    """One page to draw: the page image, its relevance map ``(n_rows, n_cols)`` (or None) and its boxes."""

    image: Image.Image
    relevance: np.ndarray | None = None
    boxes: list[OverlayBox] = field(default_factory=list)
    title: str = ""


def normalise_map(relevance: np.ndarray) -> np.ndarray:
    """Min-max scale a relevance map to ``[0, 1]``; a constant map becomes all zeros."""
    m = np.asarray(relevance, dtype=np.float64)
    if m.ndim != 2 or m.size == 0:
        raise ValueError(f"a relevance map must be a non-empty (n_rows, n_cols) array, got shape {m.shape}")
    if not np.isfinite(m).all():
        raise ValueError("a relevance map must be finite")
    lo, hi = float(m.min()), float(m.max())
    return (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)


def colormap(values: np.ndarray) -> np.ndarray:
    """Map values in ``[0, 1]`` to RGB uint8 by interpolating the heat map colour stops: ``(..., 3)``."""
    v = np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)
    rgb = [np.interp(v, _STOPS[:, 0], _STOPS[:, k]) for k in (1, 2, 3)]
    return np.stack(rgb, axis=-1).round().astype(np.uint8)  # (..., 3)


def upsample_map(relevance: np.ndarray, width: int, height: int) -> np.ndarray:
    """Stretch a ``(n_rows, n_cols)`` map onto ``(height, width)`` pixels, each cell a flat block.

    Pixel ``(y, x)`` takes the cell whose band contains its centre, the same stretch convention as
    `PatchGrid.cell_box`.
    """
    n_rows, n_cols = relevance.shape
    rows = np.minimum(((np.arange(height) + 0.5) * n_rows / height).astype(np.int64), n_rows - 1)  # (height,)
    cols = np.minimum(((np.arange(width) + 0.5) * n_cols / width).astype(np.int64), n_cols - 1)  # (width,)
    return relevance[rows[:, None], cols[None, :]]  # (height, width)


def blend_heatmap(image: Image.Image, relevance: np.ndarray, alpha: float = 0.45) -> Image.Image:
    """The page with its min-max normalised relevance map alpha blended on top (hotter = more opaque)."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    base = np.asarray(image.convert("RGB"), dtype=np.float64)  # (height, width, 3)
    norm = upsample_map(normalise_map(relevance), image.width, image.height)  # (height, width)
    heat = colormap(norm).astype(np.float64)  # (height, width, 3)
    a = (alpha * (0.35 + 0.65 * norm))[..., None]  # (height, width, 1): cold cells stay readable
    out = base * (1.0 - a) + heat * a
    return Image.fromarray(out.round().astype(np.uint8), "RGB")


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def draw_boxes(image: Image.Image, boxes: Sequence[OverlayBox], line_width: int | None = None) -> Image.Image:
    """A copy of ``image`` with each box outlined and tagged ``#rank`` (and its label) above its top-left."""
    out = image.convert("RGB").copy()
    draw = ImageDraw.Draw(out)
    lw = line_width or max(2, round(min(out.size) / 250))
    font = _font(max(12, round(out.height / 60)))
    for box in boxes:
        color = BOX_COLORS[(box.rank - 1) % len(BOX_COLORS)]
        x0, y0, x1, y1 = box.bbox.pixel_box(out.width, out.height)
        draw.rectangle([x0, y0, x1 - 1, y1 - 1], outline=color, width=lw)
        tag = f"#{box.rank}" + (f" {box.label}" if box.label else "")
        tx0, ty0, tx1, ty1 = draw.textbbox((0, 0), tag, font=font)
        tw, th = tx1 - tx0 + 6, ty1 - ty0 + 6
        ty = y0 - th if y0 - th >= 0 else min(y1, out.height - th)
        tx = min(x0, max(0, out.width - tw))
        draw.rectangle([tx, ty, tx + tw, ty + th], fill=color)
        draw.text((tx + 3 - tx0, ty + 3 - ty0), tag, fill="white", font=font)
    return out


def render_page(page: OverlayPage, alpha: float = 0.45) -> Image.Image:
    """One page with its heat map (when it has one), its boxes and a title strip (when it has a title)."""
    img = page.image.convert("RGB")
    if page.relevance is not None:
        img = blend_heatmap(img, page.relevance, alpha)
    img = draw_boxes(img, page.boxes)
    if not page.title:
        return img
    font = _font(max(14, round(img.height / 45)))
    strip_h = max(24, round(img.height / 28))
    out = Image.new("RGB", (img.width, img.height + strip_h), "white")
    out.paste(img, (0, strip_h))
    ImageDraw.Draw(out).text((6, strip_h // 6), page.title, fill="black", font=font)
    return out


def compose(images: Sequence[Image.Image], layout: str = "row", gap: int = 16) -> Image.Image:
    """Lay out images side by side (``"row"``) or stacked (``"column"``) on white, top/left aligned."""
    if not images:
        raise ValueError("compose needs at least one image")
    if layout not in ("row", "column"):
        raise ValueError(f"layout must be 'row' or 'column', got {layout!r}")
    if layout == "row":
        size = (sum(im.width for im in images) + gap * (len(images) - 1), max(im.height for im in images))
    else:
        size = (max(im.width for im in images), sum(im.height for im in images) + gap * (len(images) - 1))
    out = Image.new("RGB", size, "white")
    offset = 0
    for im in images:
        out.paste(im.convert("RGB"), (offset, 0) if layout == "row" else (0, offset))
        offset += (im.width if layout == "row" else im.height) + gap
    return out


def render_overlay(pages: Sequence[OverlayPage], layout: str = "row", alpha: float = 0.45) -> Image.Image:
    """All pages drawn with `render_page` and laid out with `compose` (one page: just that page)."""
    return compose([render_page(p, alpha) for p in pages], layout=layout)


def overlay_pages(hits: Sequence[GroundedHit], selection: Selection, n_pages: int) -> list[OverlayPage]:
    """The first ``n_pages`` hits as overlay pages: stored image, relevance map, selected boxes with rank."""
    pages = []
    for p, hit in enumerate(hits[:n_pages]):
        boxes = [OverlayBox(s.region.bbox, s.rank, s.region.kind) for s in selection.regions if s.page_index == p]
        rec = hit.record
        title = f"#{p + 1} {rec.file_name} p.{rec.page_number}  score {hit.hit.normalized_score:.3f}"
        pages.append(OverlayPage(rec.image(), hit.grounding.relevance_map, boxes, title))
    return pages
