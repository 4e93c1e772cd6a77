"""Generated one-page PDFs that reproduce layouts of real documents, with a truth box per element.

Each builder writes a PDF to ``path`` and returns ``(path, elements)``: the elements a person would box,
in reading order, as `BlockTruth` (kind ``text``/``table``/``figure``, a ``role`` such as ``list_item`` or
``heading``, text, normalised ink box, and the ink box of each line). Ink boxes come from the fonts'
glyph outlines (`testing/ink.py`), never from pdfium.

- `bullet_list_page`: bullets drawn as separate text objects, bullets whose Unicode is a control character
  (U+0002, a real glyph: a symbol-font style font whose cmap maps U+0002 to the bullet), "–" and "►" lists.
- `numbered_list_page`: "1." numbers as separate objects, "(a)" letters, circled "①" numbers.
- `run_in_heading_page`: bold and italic headings directly above their body (same size, no gap), the body
  set at font size 1 scaled by the text matrix (so pdfium's font size reads 1.0).
- `justified_indent_page`: justified paragraphs with a first-line indent and no gap; every line is full.
- `column_table_page`: two columns with an unruled table inside the left one, baselines shared across.
- `vector_chart_page`: a bar chart drawn with paths and a small logo drawn as a form XObject with a shading.
- `rtl_page`: Arabic paragraphs, characters written in logical order at decreasing x (needs `ARABIC_FONT`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ..geometry import BBox
from .ink import ink_font, renamed_font, reportlab_font
from .pdfgen import BlockTruth, LineTruth, sample_paragraphs

ARABIC_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian fonts-dejavu-core
W, H = 612.0, 792.0
LEFT, RIGHT = 72.0, 540.0
SIZE = 10.0
LEADING = 12.5  # consecutive lines of one element and of adjacent elements: no gap between them
ARABIC_TEXT = "السلام عليكم كتاب مدينة جميلة العلم نور الطريق طويل البيت كبير المدرسة قريبة من في على هذا يوم"
ARABIC_WORDS = ARABIC_TEXT.split(" ")
Built = tuple[Path, list[BlockTruth]]


def _fonts() -> dict[str, Path]:
    """reportlab font name -> TrueType file, registered once (the control-character font is built once)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    files = {"Vera": reportlab_font("Vera.ttf"), "VeraBd": reportlab_font("VeraBd.ttf"),
             "VeraIt": reportlab_font("VeraIt.ttf"), "VeraCtl": _control_bullet_font(),
             "VeraMath": renamed_font("VeraIt.ttf", "ColretMathItalic")}  # fmt: skip
    if ARABIC_FONT.is_file():
        files["DejaVu"] = ARABIC_FONT
    for name, f in files.items():
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(f)))
    return files


CONTROL_BULLET = "\ue000"  # drawn with VeraCtl; `_Sheet.save` turns its Unicode into U+0002 in the PDF


def _control_bullet_font() -> Path:
    """A copy of Vera whose cmap also maps U+E000 to the bullet glyph. reportlab embeds it with a ToUnicode
    entry for U+E000, which `_Sheet.save` rewrites to U+0002: a bullet with a real box whose Unicode is a
    control character, as symbol-font bullets in real files are."""
    return renamed_font("Vera.ttf", "ColretControlBullet", {0xE000: 0x2022})


class _Sheet:
    """One page on a reportlab canvas: draws text and records ink truth in normalised coordinates."""

    def __init__(self, path: Path) -> None:
        from reportlab.pdfgen.canvas import Canvas

        self.files = _fonts()
        self.path = path
        self.c = Canvas(str(path), pagesize=(W, H), invariant=1, pageCompression=0)  # plain ToUnicode maps
        self.elements: list[BlockTruth] = []
        self.bullet_code = b"0002"  # the Unicode (hex) that `save` gives `CONTROL_BULLET`

    def ink(self, text: str, font: str, x: float, baseline: float, size: float = SIZE) -> BBox | None:
        """The normalised ink box of ``text`` set from ``x`` on ``baseline`` (points from the top)."""
        box = ink_font(str(self.files[font])).ink_box(text, size)
        if box is None:
            return None
        return BBox.from_points(x + box[0], baseline - box[1], x + box[2], baseline + box[3], W, H)

    def text(self, text: str, x: float, baseline: float, font: str = "Vera", *, unit_size: bool = False,
             size: float = SIZE) -> BBox:  # fmt: skip
        """Draw ``text`` as one text object; ``unit_size`` sets font size 1 scaled by the text matrix."""
        t = self.c.beginText()
        if unit_size:
            t.setFont(font, 1)
            t.setTextTransform(size, 0, 0, size, x, H - baseline)
        else:
            t.setFont(font, size)
            t.setTextOrigin(x, H - baseline)
        t.textOut(text)
        self.c.drawText(t)
        box = self.ink(text, font, x, baseline, size)
        assert box is not None, text
        return box

    def width(self, text: str, font: str = "Vera", size: float = SIZE) -> float:
        """Advance width of ``text`` in points (at the page's size unless told)."""
        from reportlab.pdfbase.pdfmetrics import stringWidth

        return stringWidth(text, font, size)

    def wrap(self, text: str, width: float, font: str = "Vera", first_width: float | None = None) -> list[str]:
        """Greedy word wrap; the first line may have its own width (a first-line indent)."""
        lines, current = [], ""
        for word in text.split():
            limit = first_width if first_width is not None and not lines else width
            trial = f"{current} {word}" if current else word
            if current and self.width(trial, font) > limit:
                lines.append(current)
                current = word
            else:
                current = trial
        return [*lines, current] if current else lines

    def add(self, kind: str, role: str, lines: Sequence[LineTruth], text: str | None = None) -> None:
        """Record one element whose box is the union of its lines."""
        bbox = BBox.union_of([ln.bbox for ln in lines])
        self.elements.append(BlockTruth(kind, text or " ".join(ln.text for ln in lines), bbox, tuple(lines), role))  # type: ignore[arg-type]

    def paragraph(self, text: str, top: float, x: float = LEFT, right: float = RIGHT, font: str = "Vera") -> float:
        """A ragged-right paragraph whose first baseline is ``top`` + ascent; returns the next baseline."""
        baseline = top
        lines = []
        for ln in self.wrap(text, right - x, font):
            lines.append(LineTruth(ln, self.text(ln, x, baseline, font)))
            baseline += LEADING
        self.add("text", "paragraph", lines)
        return baseline

    def item(self, marker: str, text: str, baseline: float, *, font: str = "Vera", marker_font: str | None = None,
             separate: bool) -> float:  # fmt: skip
        """One list item: ``marker`` as its own text object at the margin and the text at a hanging indent
        (``separate``), or marker and text in one string; returns the next baseline."""
        indent = LEFT + 16.0
        wrapped = self.wrap(text, RIGHT - indent, font)
        lines = []
        for i, ln in enumerate(wrapped):
            if i == 0 and separate:
                mbox = self.text(marker, LEFT, baseline, marker_font or font)
                box = BBox.union_of([mbox, self.text(ln, indent, baseline, font)])
                lines.append(LineTruth(f"{_shown(marker)} {ln}", box))
            elif i == 0:
                lines.append(LineTruth(f"{marker} {ln}", self.text(f"{marker} {ln}", LEFT, baseline, font)))
            else:
                lines.append(LineTruth(ln, self.text(ln, indent, baseline, font)))
            baseline += LEADING
        self.add("text", "list_item", lines)
        return baseline

    def save(self) -> Built:
        """Write the PDF (control-character bullets get their U+0002) and return it with its elements."""
        self.c.showPage()
        self.c.save()
        data = self.path.read_bytes()
        if b"<E000>" in data:  # same length: the xref offsets stay right
            self.path.write_bytes(data.replace(b"<E000>", b"<" + self.bullet_code + b">"))
        return self.path, self.elements


def _shown(marker: str) -> str:
    """How the library reports a marker: a control-character bullet reads as "•"."""
    return "•" if marker == CONTROL_BULLET else marker


def _texts(n: int, words: int, seed: int) -> list[str]:
    """``n`` deterministic filler paragraphs of ``words`` words."""
    return sample_paragraphs(n, words_per_paragraph=words, seed=seed)


def bullet_list_page(path: str | Path) -> Built:
    """Bullets as separate text objects, control-character bullets, and "–" and "►" lists."""
    s = _Sheet(Path(path))
    y = s.paragraph(_texts(1, 30, 11)[0], 80.0) + LEADING
    for t in _texts(3, 22, 12):
        y = s.item("•", t, y, separate=True)
    y = s.paragraph("The next list uses bullets from a symbol font.", y + LEADING) + LEADING
    for t in _texts(3, 14, 13):
        y = s.item(CONTROL_BULLET, t, y, marker_font="VeraCtl", separate=True)
    y = s.paragraph(_texts(1, 20, 14)[0], y + LEADING) + LEADING
    for t in _texts(3, 12, 15):
        y = s.item("–", t, y, separate=False)
    y += LEADING
    if "DejaVu" in s.files:
        for t in _texts(3, 12, 16):
            y = s.item("►", t, y, font="DejaVu", separate=False)
    return s.save()


def numbered_list_page(path: str | Path) -> Built:
    """Numbers as separate text objects, lettered "(a)" items and circled-number items."""
    s = _Sheet(Path(path))
    y = s.paragraph(_texts(1, 30, 21)[0], 80.0) + LEADING
    for i, t in enumerate(_texts(3, 22, 22)):
        y = s.item(f"{i + 1}.", t, y, separate=True)
    y = s.paragraph(_texts(1, 20, 23)[0], y + LEADING) + LEADING
    for letter, t in zip("abc", _texts(3, 14, 24), strict=True):
        y = s.item(f"({letter})", t, y, separate=False)
    y += LEADING
    if "DejaVu" in s.files:
        for mark, t in zip("①②③", _texts(3, 14, 25), strict=True):
            y = s.item(mark, t, y, font="DejaVu", separate=False)
    return s.save()


def run_in_heading_page(path: str | Path) -> Built:
    """Bold or italic headings directly above their body text, the body at font size 1 x text matrix 10."""
    s = _Sheet(Path(path))
    y = 80.0
    for k, (heading, font) in enumerate((("Methods and materials", "VeraBd"), ("Results", "VeraBd"),
                                          ("A note on the data", "VeraIt"), ("Discussion", "VeraBd"))):  # fmt: skip
        s.add("text", "heading", [LineTruth(heading, s.text(heading, LEFT, y, font))])
        y += LEADING
        lines = []
        for ln in s.wrap(_texts(1, 45, 31 + k)[0], RIGHT - LEFT):
            lines.append(LineTruth(ln, s.text(ln, LEFT, y, unit_size=True)))
            y += LEADING
        s.add("text", "paragraph", lines)
        y += LEADING
    return s.save()


def _justified(s: _Sheet, words: list[str], x: float, right: float, baseline: float) -> BBox:
    """Draw ``words`` spread from ``x`` to ``right`` (word by word); return the line's ink box."""
    natural = sum(s.width(w) for w in words)
    gap = (right - x - natural) / max(len(words) - 1, 1)
    boxes = []
    for w in words:
        boxes.append(s.text(w, x, baseline))
        x += s.width(w) + gap
    return BBox.union_of(boxes)


def _full_lines(s: _Sheet, seed: int, width: float, indent: float) -> list[str] | None:
    """Wrapped lines of a filler paragraph of 40+ words, cut at the first length whose every line (the last
    too) is at least 94 % full, so justifying spreads words by less than a space; None when none is."""
    words = _texts(1, 100, seed)[0].split()
    for n in range(40, len(words)):
        lines = s.wrap(" ".join(words[:n]), width, first_width=width - indent)
        widths = [s.width(ln) + (indent if i == 0 else 0.0) for i, ln in enumerate(lines)]
        if len(lines) > 1 and min(widths) >= 0.94 * width:
            return lines
    return None


def justified_indent_page(path: str | Path) -> Built:
    """Justified paragraphs with an 18 pt first-line indent, no gap between them, and every line (the last
    of each paragraph too) running to the right margin, as in books and two-column papers."""
    s = _Sheet(Path(path))
    y = 80.0
    paragraphs = [p for p in (_full_lines(s, seed, RIGHT - LEFT, 18.0) for seed in range(41, 441)) if p][:5]
    for wrapped in paragraphs:
        lines = []
        for i, ln in enumerate(wrapped):
            lines.append(LineTruth(ln, _justified(s, ln.split(), LEFT + (18.0 if i == 0 else 0.0), RIGHT, y)))
            y += LEADING
        s.add("text", "paragraph", lines)
    return s.save()


TABLE_ROWS = (("Region", "Units", "Price"), ("north", "12", "3.50"), ("south", "7", "12.25"),
              ("east", "140", "0.75"), ("west", "31", "8.10"))  # fmt: skip


def column_table_page(path: str | Path) -> Built:
    """Two columns (24 pt gutter) on shared baselines; an unruled, aligned table inside the left column."""
    s = _Sheet(Path(path))
    col = (RIGHT - LEFT - 24.0) / 2
    y = s.paragraph(_texts(1, 40, 51)[0], 80.0, LEFT, LEFT + col) + LEADING
    cells, xs = [], (LEFT, LEFT + 80.0, LEFT + 150.0)
    for row in TABLE_ROWS:
        cells += [LineTruth(t, s.text(t, x, y)) for t, x in zip(row, xs, strict=True)]
        y += LEADING
    s.add("table", "table", cells, "\n".join(" | ".join(r) for r in TABLE_ROWS))
    s.paragraph(_texts(1, 40, 52)[0], y + LEADING, LEFT, LEFT + col)
    y = 80.0
    for t in _texts(3, 45, 53):
        y = s.paragraph(t, y, LEFT + col + 24.0, RIGHT) + LEADING
    return s.save()


def _bar_chart(s: _Sheet, x0: float, top: float, values: Sequence[float], labels: Sequence[str]) -> BBox:
    """A bar chart drawn with paths (axes, filled bars) and text labels; returns its normalised box."""
    w, h, base = 260.0, 130.0, top + 130.0
    c = s.c
    c.setLineWidth(1.0)
    c.line(x0, H - base, x0 + w, H - base)
    c.line(x0, H - base, x0, H - top)
    slot = w / len(values)
    boxes = [BBox.from_points(x0 - 0.5, top, x0 + w, base + 0.5, W, H)]
    for i, (v, label) in enumerate(zip(values, labels, strict=True)):
        c.setFillColorRGB(0.2 + 0.15 * i, 0.4, 0.7)
        bx, bh = x0 + i * slot + 0.2 * slot, (h - 10.0) * v / max(values)
        c.rect(bx, H - base, 0.6 * slot, bh, stroke=0, fill=1)
        c.setFillColorRGB(0, 0, 0)
        boxes.append(s.text(label, bx, base + 12.0))
    return BBox.union_of(boxes)


def _logo(s: _Sheet, x: float, top: float, size: float = 28.0) -> BBox:
    """A small logo drawn as a form XObject: a circle filled with a linear shading and a stroked ring."""
    c = s.c
    c.beginForm("logo", lowerx=0, lowery=0, upperx=size, uppery=size)
    p = c.beginPath()
    p.circle(size / 2, size / 2, size / 2 - 1)
    c.saveState()
    c.clipPath(p, stroke=0, fill=0)
    c.linearGradient(0, 0, size, size, ((0.9, 0.3, 0.1), (0.1, 0.3, 0.9)), extend=False)
    c.restoreState()
    c.setLineWidth(1.0)
    c.circle(size / 2, size / 2, size / 2 - 1, stroke=1, fill=0)
    c.endForm()
    c.saveState()
    c.translate(x, H - top - size)
    c.doForm("logo")
    c.restoreState()
    return BBox.from_points(x + 0.5, top + 0.5, x + size - 0.5, top + size - 0.5, W, H)


def vector_chart_page(path: str | Path) -> Built:
    """A small vector logo at the top right, a paragraph, a path-drawn bar chart, its caption, a paragraph."""
    s = _Sheet(Path(path))
    s.elements.append(BlockTruth("figure", "", _logo(s, RIGHT - 28.0, 40.0), (), "logo"))
    y = s.paragraph(_texts(1, 40, 61)[0], 100.0) + LEADING
    chart = _bar_chart(s, LEFT + 10.0, y, [3, 5, 2, 4], ["north", "south", "east", "west"])
    caption = "Figure 1: Sales by region"
    s.elements.append(BlockTruth("figure", caption, chart, (), "chart"))
    y = chart.y1 * H + 16.0
    s.paragraph(caption, y)
    s.elements[-1] = BlockTruth("text", caption, s.elements[-1].bbox, s.elements[-1].lines, "caption")
    s.paragraph(_texts(1, 40, 62)[0], y + 2 * LEADING)
    return s.save()


def rtl_page(path: str | Path) -> Built:
    """Three right-aligned Arabic paragraphs; each character is placed on its own, in logical order, so
    consecutive characters step leftwards (as in PDFs written by word processors). Needs `ARABIC_FONT`."""
    if not ARABIC_FONT.is_file():
        raise FileNotFoundError(f"{ARABIC_FONT} is missing (apt-get install fonts-dejavu-core)")
    s = _Sheet(Path(path))
    y = 80.0
    for p in range(3):
        lines = []
        for k in range(3):
            words = [ARABIC_WORDS[(p * 7 + k * 5 + i) % len(ARABIC_WORDS)] for i in range(8)]
            lines.append(LineTruth(" ".join(words), _rtl_line(s, words, y)))
            y += LEADING
        s.add("text", "paragraph", lines)
        y += LEADING
    return s.save()


def _rtl_line(s: _Sheet, words: list[str], baseline: float) -> BBox:
    """Draw words right to left from the right margin, one character per text position; return the ink."""
    t = s.c.beginText()
    t.setFont("DejaVu", SIZE)
    x, boxes = RIGHT, []
    for word in words:
        for ch in word:
            x -= s.width(ch, "DejaVu")
            t.setTextOrigin(x, H - baseline)
            t.textOut(ch)
            if (b := s.ink(ch, "DejaVu", x, baseline)) is not None:
                boxes.append(b)
        x -= s.width(" ", "DejaVu")
    s.c.drawText(t)
    return BBox.union_of(boxes)


BUILDERS: dict[str, Callable[[str | Path], Built]] = {
    "bullet_list": bullet_list_page,
    "numbered_list": numbered_list_page,
    "run_in_heading": run_in_heading_page,
    "justified_indent": justified_indent_page,
    "column_table": column_table_page,
    "vector_chart": vector_chart_page,
    "rtl": rtl_page,
}
"""Every builder by name (``rtl`` raises FileNotFoundError without `ARABIC_FONT`)."""
