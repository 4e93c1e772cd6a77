"""Generated PDFs with known truth, for tests and benchmarks (never a product default).

Write PDFs with reportlab from a small spec and get back the ground truth of every page: its size in
points and, for each paragraph, table and figure, its kind, text and normalised `BBox` (top-left origin),
with each line's text and box. Line boxes are ink boxes: the glyph outlines' bounds read from the font file
(`testing/ink.py`), placed with reportlab's advances (``stringWidth``); text is set in Bitstream Vera, a
TrueType font shipped with reportlab and embedded in the PDF, so every renderer (pdfium, poppler) draws
exactly the glyphs the metrics describe.

API::

    spec = PageSpec(paragraphs=["First paragraph ...", "Second ..."], columns=2, font_size=11,
                    page_size="letter", table=[["Name", "Qty"], ["apple", "3"]],
                    chart=ChartSpec(values=[3, 5, 2], labels=["a", "b", "c"], caption="Figure 1: Sales"))
    truth = make_pdf(path, [spec, PageSpec(...)])       # list[PageTruth], one per page
    truth[0].blocks_of("text")[1].lines[0].bbox          # a line's normalised box
    rasterize_pdf(path, scan_path, dpi=150, noise=8.0, skew_deg=0.3)   # image-only "scanned" copy
    paragraphs = sample_paragraphs(4, seed=1)            # deterministic English filler text

Layout: 72 pt margins; paragraphs flow top-down (with ``columns=2`` the first half of the paragraphs fill
the left column and the rest the right one, 24 pt gutter, so reading order is paragraph order); a blank
line separates paragraphs; then the ruled table (full grid, one cell padding of 4 pt) and then the chart
(an embedded PIL raster bar chart) with its caption below it. Truth for a table: one block whose text is
the cells row by row (``" | "`` between cells, newlines between rows) and whose ``lines`` are the cells;
for a chart: a ``figure`` block (box = the image, text = the caption) plus the caption as a ``text`` block.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..geometry import BBox
from .ink import ink_font, reportlab_font

PageSizeName = Literal["letter", "a4", "landscape"]
TruthKind = Literal["text", "table", "figure"]

PAGE_SIZES: dict[str, tuple[float, float]] = {
    "letter": (612.0, 792.0),
    "a4": (595.2756, 841.8898),
    "landscape": (792.0, 612.0),
}
MARGIN = 72.0
GUTTER = 24.0
CELL_PAD = 4.0
FONT_NAME = "Vera"

_WORDS_TEXT = (
    "the river valley holds old stone bridges where merchants crossed with grain and salt each autumn before "
    "winter closed the mountain roads village council records show that harvest yields rose steadily after "
    "new canals were dug along the northern fields farmers planted barley wheat and beans while weavers sold "
    "wool cloth at the market square travellers described bright painted houses quiet gardens and a large "
    "library built near the harbour scholars studied maps letters and accounts to learn how trade routes "
    "changed over many decades engineers measured water levels during spring floods and designed stronger "
    "walls for the lower town"
)
_WORDS = _WORDS_TEXT.split()


@dataclass(frozen=True)
class ChartSpec:
    """A bar chart drawn as an embedded raster image, with a caption line below it."""

    values: Sequence[float]
    labels: Sequence[str]
    caption: str = "Figure 1: Bar chart"
    width_pt: float = 288.0
    height_pt: float = 162.0


@dataclass(frozen=True)
class PageSpec:
    """One page: paragraphs in one or two columns, then an optional ruled table and an optional chart."""

    paragraphs: Sequence[str] = ()
    columns: int = 1
    font_size: float = 11.0
    page_size: PageSizeName = "letter"
    table: Sequence[Sequence[str]] | None = None
    chart: ChartSpec | None = None


@dataclass(frozen=True)
class LineTruth:
    """One drawn line of text (or one table cell) and its normalised box."""

    text: str
    bbox: BBox


@dataclass(frozen=True)
class BlockTruth:
    """A paragraph, table or figure as drawn: kind, text, normalised box and its lines."""

    kind: TruthKind
    text: str
    bbox: BBox
    lines: tuple[LineTruth, ...] = ()
    role: str = ""  # what a person would call it: paragraph, list_item, heading, caption, chart, logo, ...


@dataclass
class PageTruth:
    """What a generated page holds: size in points and its blocks in reading order."""

    width_pt: float
    height_pt: float
    blocks: list[BlockTruth] = field(default_factory=list)

    def blocks_of(self, kind: TruthKind) -> list[BlockTruth]:
        """The blocks of one kind, in reading order."""
        return [b for b in self.blocks if b.kind == kind]

    def lines(self) -> list[LineTruth]:
        """Every text line of the page's text blocks, in reading order (table cells excluded)."""
        return [ln for b in self.blocks if b.kind == "text" for ln in b.lines]

    @property
    def words(self) -> list[str]:
        """Every word printed on the page (text blocks and table cells)."""
        return [w for b in self.blocks if b.kind != "figure" for ln in b.lines for w in ln.text.split()]


def _register_font() -> None:
    """Register Bitstream Vera (shipped with reportlab) once, so it is embedded in generated PDFs."""
    from reportlab import rl_config  # noqa: F401  (reportlab must be importable)
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT_NAME, "Vera.ttf"))


def sample_paragraphs(n: int, *, words_per_paragraph: int = 45, seed: int = 0) -> list[str]:
    """``n`` deterministic paragraphs of plain English words (OCR-friendly filler text)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = [rng.choice(_WORDS) for _ in range(words_per_paragraph)]
        out.append(" ".join(words).capitalize() + ".")
    return out


def _wrap(text: str, width: float, size: float) -> list[str]:
    """Greedy word wrap of ``text`` into lines no wider than ``width`` points."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}" if current else word
        if current and stringWidth(trial, FONT_NAME, size) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines


class _Writer:
    """Draws one page on a reportlab canvas and records the truth in normalised coordinates."""

    def __init__(self, canvas, spec: PageSpec) -> None:  # canvas: reportlab.pdfgen.canvas.Canvas
        from reportlab.pdfbase.pdfmetrics import getAscentDescent

        if spec.page_size not in PAGE_SIZES:
            raise ValueError(f"page_size must be one of {sorted(PAGE_SIZES)}, got {spec.page_size!r}")
        if spec.columns not in (1, 2):
            raise ValueError(f"columns must be 1 or 2, got {spec.columns}")
        self.c = canvas
        self.spec = spec
        self.w, self.h = PAGE_SIZES[spec.page_size]
        self.size = spec.font_size
        self.leading = 1.3 * spec.font_size
        self.ascent, self.descent = getAscentDescent(FONT_NAME, spec.font_size)  # descent < 0
        self.truth = PageTruth(self.w, self.h)

    def box(self, x0: float, top: float, x1: float, bottom: float) -> BBox:
        """A normalised box from points measured from the page's top-left corner."""
        return BBox.from_points(x0, top, x1, bottom, self.w, self.h)

    def text_line(self, text: str, x: float, baseline: float) -> LineTruth:
        """Draw ``text`` at ``x`` with its baseline ``baseline`` points below the top; return its truth."""
        from reportlab.pdfbase.pdfmetrics import stringWidth

        self.c.setFont(FONT_NAME, self.size)
        self.c.drawString(x, self.h - baseline, text)
        ink = ink_font(str(reportlab_font("Vera.ttf"))).ink_box(text, self.size)
        if ink is None:
            width = stringWidth(text, FONT_NAME, self.size)
            return LineTruth(text, self.box(x, baseline - self.ascent, x + width, baseline - self.descent))
        return LineTruth(text, self.box(x + ink[0], baseline - ink[1], x + ink[2], baseline + ink[3]))

    def paragraph(self, text: str, x: float, width: float, top: float) -> float:
        """Draw a wrapped paragraph whose first line box starts at ``top``; return the next free top."""
        lines = []
        baseline = top + self.ascent
        for line in _wrap(text, width, self.size):
            lines.append(self.text_line(line, x, baseline))
            baseline += self.leading
        if not lines:
            return top
        bbox = BBox.union_of([ln.bbox for ln in lines])
        self.truth.blocks.append(BlockTruth("text", " ".join(ln.text for ln in lines), bbox, tuple(lines)))
        return top + len(lines) * self.leading + self.leading

    def paragraphs(self, top: float) -> float:
        """Lay out the paragraphs in one or two columns; return the top below the lowest column."""
        paras = list(self.spec.paragraphs)
        if self.spec.columns == 1:
            for p in paras:
                top = self.paragraph(p, MARGIN, self.w - 2 * MARGIN, top)
            return top
        col_w = (self.w - 2 * MARGIN - GUTTER) / 2
        half = (len(paras) + 1) // 2
        bottoms = []
        for col, chunk in enumerate((paras[:half], paras[half:])):
            y = top
            for p in chunk:
                y = self.paragraph(p, MARGIN + col * (col_w + GUTTER), col_w, y)
            bottoms.append(y)
        return max(bottoms)

    def table(self, rows: Sequence[Sequence[str]], top: float) -> float:
        """Draw a fully ruled table with the given cells at ``top``; return the next free top."""
        from reportlab.pdfbase.pdfmetrics import stringWidth

        n_cols = max(len(r) for r in rows)
        cells = [list(r) + [""] * (n_cols - len(r)) for r in rows]
        col_w = [max(stringWidth(r[j], FONT_NAME, self.size) for r in cells) + 2 * CELL_PAD for j in range(n_cols)]
        row_h = (self.ascent - self.descent) + 2 * CELL_PAD
        xs = [MARGIN + sum(col_w[:j]) for j in range(n_cols + 1)]
        ys = [top + i * row_h for i in range(len(cells) + 1)]
        self.c.setLineWidth(0.8)
        self.c.grid(xs, [self.h - y for y in ys])
        cell_lines = []
        for i, row in enumerate(cells):
            for j, text in enumerate(row):
                if text:
                    cell_lines.append(self.text_line(text, xs[j] + CELL_PAD, ys[i] + CELL_PAD + self.ascent))
        text = "\n".join(" | ".join(r) for r in cells)
        self.truth.blocks.append(BlockTruth("table", text, self.box(xs[0], ys[0], xs[-1], ys[-1]), tuple(cell_lines)))
        return ys[-1] + self.leading

    def chart(self, chart: ChartSpec, top: float) -> float:
        """Draw the bar chart image at ``top`` and its caption below; return the next free top."""
        from reportlab.lib.utils import ImageReader

        img = bar_chart_image(chart.values, chart.labels, int(chart.width_pt * 2), int(chart.height_pt * 2))
        x0 = MARGIN
        self.c.drawImage(ImageReader(img), x0, self.h - top - chart.height_pt, chart.width_pt, chart.height_pt)
        fig_box = self.box(x0, top, x0 + chart.width_pt, top + chart.height_pt)
        self.truth.blocks.append(BlockTruth("figure", chart.caption, fig_box))
        cap_top = top + chart.height_pt + 6.0
        line = self.text_line(chart.caption, x0, cap_top + self.ascent)
        self.truth.blocks.append(BlockTruth("text", chart.caption, line.bbox, (line,)))
        return cap_top + self.leading * 2

    def draw(self) -> PageTruth:
        """Draw the whole page; raise ValueError when the content does not fit."""
        self.c.setPageSize((self.w, self.h))
        top = self.paragraphs(MARGIN)
        if self.spec.table:
            top = self.table(self.spec.table, top + 0.5 * self.leading)
        if self.spec.chart is not None:
            top = self.chart(self.spec.chart, top + 0.5 * self.leading)
        if top - self.leading > self.h - MARGIN + 1e-6:
            raise ValueError(f"page content runs {top - self.leading - (self.h - MARGIN):.0f} pt past the margin")
        self.c.showPage()
        return self.truth


def bar_chart_image(values: Sequence[float], labels: Sequence[str], width: int, height: int) -> Image.Image:
    """A simple RGB bar chart (PIL): one coloured bar per value with its label under it."""
    if len(values) != len(labels) or not values:
        raise ValueError("a bar chart needs as many labels as values, and at least one value")
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    colors = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189)]
    base, top_pad = height - max(14, height // 12) - 8, 12
    font = ImageFont.load_default(size=max(10, height // 12))
    slot = width / len(values)
    vmax = max(max(values), 1e-9)
    draw.line([(4, base), (width - 4, base)], fill="black", width=2)
    for i, (v, label) in enumerate(zip(values, labels, strict=True)):
        x0 = int(i * slot + slot * 0.2)
        x1 = int((i + 1) * slot - slot * 0.2)
        y0 = int(base - (base - top_pad) * (v / vmax))
        draw.rectangle([x0, y0, x1, base], fill=colors[i % len(colors)])
        draw.text((x0, base + 3), str(label), fill="black", font=font)
    return img


def make_pdf(path: str | Path, pages: Sequence[PageSpec]) -> list[PageTruth]:
    """Write a PDF of ``pages`` to ``path`` and return each page's truth (normalised boxes)."""
    from reportlab.pdfgen.canvas import Canvas

    _register_font()
    if not pages:
        raise ValueError("make_pdf needs at least one page spec")
    canvas = Canvas(str(path), pagesize=PAGE_SIZES[pages[0].page_size], invariant=1)
    truth = [_Writer(canvas, spec).draw() for spec in pages]
    canvas.save()
    return truth


def rasterize_pdf(
    src: str | Path, dst: str | Path, *, dpi: int = 150, noise: float = 8.0, skew_deg: float = 0.3, seed: int = 0
) -> Path:
    """Write an image-only ("scanned") copy of ``src``: each page rendered at ``dpi``, rotated by
    ``skew_deg`` about its centre, with Gaussian pixel noise of std ``noise`` (0-255 scale).

    Page sizes in points are kept, so the truth of ``src`` still applies (up to the skew).
    """
    from pdf2image import convert_from_path

    rng = np.random.default_rng(seed)
    scans = []
    for img in convert_from_path(str(src), dpi=dpi):
        gray = img.convert("L").rotate(skew_deg, resample=Image.BICUBIC, fillcolor=255)
        arr = np.asarray(gray, dtype=np.float32)  # (height, width)
        arr = np.clip(arr + rng.normal(0.0, noise, arr.shape), 0, 255).astype(np.uint8)
        scans.append(Image.fromarray(arr))
    dst = Path(dst)
    scans[0].save(dst, "PDF", resolution=float(dpi), save_all=True, append_images=scans[1:])
    return dst
