"""Pages and questions of the grounding benchmark (`grounding.py`), with known answer boxes.

Three sets, all rendered at 100 dpi and read back by the `WordPatchEmbedder` double, regions from the PDF text
layer (`load_pdf`; Tesseract for the scan):

- ``generated``: `testing.pdfgen` pages (letter, A4, landscape; one and two columns; ruled tables; raster bar
  charts). Every paragraph carries three made-up words found nowhere else, and so do the table's first-column
  cells and the chart's bar labels (which the double "sees" inside the picture).
- ``layout``: `testing.layout_pages` builders that reproduce real layouts (lists with separate or
  control-character bullets, numbered and lettered lists, run-in headings, justified paragraphs with a
  first-line indent and no gap, a table inside one column of a two-column page, a chart drawn with paths).
  Their filler text comes from `sample_paragraphs`, which `planted` wraps so that every paragraph and list
  item carries two made-up words; a heading or caption is asked by its words found in no other element,
  the table by two of its row labels, the vector chart by two made-up words the double sees over it. The
  logo has no words to ask by, and the right-to-left page is left out (the double reads Latin words only).
- ``long``: `testing.long_pages` pages whose text is long blocks (two justified 25-line columns of 10 pt on
  13 pt; one 25-line paragraph of 11 pt on 17 pt) and an image-only scan of the columns read by Tesseract.
  A question plants a made-up word on each of three consecutive lines and its answer is those lines; the
  last question of a page plants them at the block's top, middle and bottom and its answer is the block.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pdf2image import convert_from_path

from llama_index_colret.eval.datasets import Evidence, GroundingQuestion
from llama_index_colret.geometry import BBox
from llama_index_colret.ingest.page import Region
from llama_index_colret.ingest.pdf import load_pdf
from llama_index_colret.testing import layout_pages
from llama_index_colret.testing.long_pages import long_block_page
from llama_index_colret.testing.pdfgen import (
    BlockTruth,
    ChartSpec,
    PageSpec,
    make_pdf,
    rasterize_pdf,
    sample_paragraphs,
)

RENDER_DPI = 100
# (page size, columns, paragraphs, table, chart): paragraphs alone, with a table, with a chart, or both
LAYOUTS = [
    ("letter", 1, 5, True, False),
    ("a4", 2, 6, False, True),
    ("landscape", 1, 3, False, True),
    ("landscape", 2, 4, True, False),
    ("letter", 2, 6, True, True),
    ("a4", 1, 4, False, False),
]
LAYOUT_PAGES = ("bullet_list", "numbered_list", "run_in_heading", "justified_indent", "column_table", "vector_chart")
_TOKEN = re.compile(r"[a-z0-9]+")


class RareWords:
    """Made-up words, each used once: syllable triples that no filler paragraph contains."""

    SYLLABLES = ("zor", "qua", "vex", "lum", "bri", "tak", "nox", "pel", "dru", "fim", "gak", "wum")

    def __init__(self) -> None:
        self.n = 0
        self.used: set[str] = set()

    def take(self, k: int) -> list[str]:
        """The next ``k`` made-up words."""
        s, out = self.SYLLABLES, []
        for _ in range(k):
            i = self.n
            out.append(f"{s[i % 12]}{s[(i // 12) % 12]}{s[(i // 144) % 12]}ix")
            self.n += 1
        self.used.update(out)
        return out


def plant(text: str, words: list[str]) -> str:
    """``text`` with ``words`` inserted at evenly spaced positions (1/(k+1), 2/(k+1), ... of its words)."""
    tokens = text.split()
    for k, w in enumerate(words):
        tokens.insert((k + 1) * len(tokens) // (len(words) + 1), w)
    return " ".join(tokens)


@dataclass
class Bench:
    """Everything the benchmark evaluates: questions, the PDFs the double knows, what pictures show, regions
    by page image, and each question's set (``generated``/``layout``), page and element role."""

    root: Path
    rare: RareWords = field(default_factory=RareWords)
    questions: list[GroundingQuestion] = field(default_factory=list)
    pdfs: list[Path] = field(default_factory=list)
    extra: dict[tuple[Path, int], list[tuple[BBox, str]]] = field(default_factory=dict)
    regions: dict[Path, list[Region]] = field(default_factory=dict)
    groups: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # qid -> (set, page, role)

    def page(self, pdf: Path, *, scan_of: Path | None = None) -> tuple[Path, int, int]:
        """Render ``pdf``'s first page, read its regions; return the image path and its size. ``scan_of``: the
        PDF an image-only ``pdf`` was rasterised from (its regions come from OCR, and the double reads the
        words of ``scan_of``, which must be known already)."""
        image = convert_from_path(str(pdf), dpi=RENDER_DPI)[0]
        path = pdf.with_suffix(".png")
        image.save(path)
        self.regions[path] = load_pdf(pdf, ocr="never" if scan_of is None else "always")[0].regions
        if scan_of is None:
            self.pdfs.append(pdf)
        return path, image.width, image.height

    def ask(self, image: tuple[Path, int, int], qid: str, words: str, box: BBox, kind: str, group: tuple) -> None:
        """One question whose answer is ``box`` (kind ``text``/``table``/``figure``) on ``image``."""
        path, w, h = image
        ev = Evidence(path, 1, path.stem, (box.to_pixels(w, h),), (kind,), w, h)
        self.questions.append(GroundingQuestion(qid, words, (ev,)))
        self.groups[qid] = group


def _spec(layout: tuple, seed: int, rare: RareWords) -> tuple[PageSpec, list[str], list[str], list[str]]:
    """A pdfgen page spec with rare words planted, and the questions' words: per paragraph, table, chart."""
    size, cols, n_paras, has_table, has_chart = layout
    paras = sample_paragraphs(n_paras, words_per_paragraph=32 if cols == 1 else 22, seed=seed)
    para_words = []
    for i, text in enumerate(paras):
        words = rare.take(3)
        paras[i] = plant(text, words)
        para_words.append(" ".join(words))
    table_words = rare.take(3) if has_table else []
    table = [["Item", "Count"], *[[w, str(3 + k)] for k, w in enumerate(table_words)]] if has_table else None
    chart_words = rare.take(3) if has_chart else []
    chart = ChartSpec([3, 5, 2], chart_words, caption="Figure 1: Yield by field") if has_chart else None
    spec = PageSpec(paragraphs=paras, columns=cols, page_size=size, font_size=10, table=table, chart=chart)
    return spec, para_words, table_words, chart_words


def build_generated(bench: Bench, rounds: int) -> None:
    """The ``generated`` set: `LAYOUTS` x ``rounds``, new words each round."""
    for r in range(rounds):
        for n, layout in enumerate(LAYOUTS):
            spec, para_words, table_words, chart_words = _spec(layout, 100 * r + n, bench.rare)
            pdf = bench.root / f"doc{r}-{n}.pdf"
            truth = make_pdf(pdf, [spec])[0]
            image = bench.page(pdf)
            name = f"{layout[0]}-{layout[1]}col"
            for i, block in enumerate(truth.blocks_of("text")[: len(para_words)]):
                group = ("generated", name, "paragraph")
                bench.ask(image, f"{pdf.stem}-p{i}", para_words[i], block.bbox, "text", group)
            for block in truth.blocks_of("table"):
                words = " ".join(table_words[:2])
                bench.ask(image, f"{pdf.stem}-table", words, block.bbox, "table", ("generated", name, "table"))
            for block in truth.blocks_of("figure"):
                bench.extra[(pdf, 1)] = [(block.bbox, " ".join(chart_words))]
                words = " ".join(chart_words[:2])
                bench.ask(image, f"{pdf.stem}-figure", words, block.bbox, "figure", ("generated", name, "chart"))


@contextmanager
def planted(rare: RareWords, per_text: int = 2) -> Iterator[None]:
    """While active, `layout_pages` filler text carries ``per_text`` made-up words per paragraph or item."""
    original = layout_pages.sample_paragraphs

    def with_rare(n: int, *, words_per_paragraph: int = 45, seed: int = 0) -> list[str]:
        texts = original(n, words_per_paragraph=words_per_paragraph, seed=seed)
        return [plant(t, rare.take(per_text)) for t in texts]

    layout_pages.sample_paragraphs = with_rare  # type: ignore[assignment]
    try:
        yield
    finally:
        layout_pages.sample_paragraphs = original  # type: ignore[assignment]


def _question_words(element: BlockTruth, counts: Counter, rare: set[str]) -> str:
    """The words to ask an element by: its made-up words, else its words found in no other element."""
    tokens = list(dict.fromkeys(_TOKEN.findall(element.text.lower())))
    own = [t for t in tokens if t in rare]
    return " ".join(own or [t for t in tokens if counts[t] == 1 and not t.isdigit()])


def build_layout(bench: Bench) -> None:
    """The ``layout`` set: one page per `LAYOUT_PAGES` builder, one question per askable element."""
    for name in LAYOUT_PAGES:
        with planted(bench.rare):
            pdf, elements = layout_pages.BUILDERS[name](bench.root / f"{name}.pdf")
        image = bench.page(pdf)
        texts = [e for e in elements if e.kind != "figure"]
        counts = Counter(t for e in texts for t in set(_TOKEN.findall(e.text.lower())))
        for i, e in enumerate(elements):
            qid, group = f"{name}-{i}-{e.role}", ("layout", name, e.role)
            if e.kind == "table":
                labels = [ln.text for ln in e.lines[3::3][1:3]]  # first-column cells of two body rows
                bench.ask(image, qid, " ".join(labels), e.bbox, "table", group)
            elif e.role == "chart":
                words = bench.rare.take(2)
                bench.extra[(pdf, 1)] = [(e.bbox, " ".join(words))]
                bench.ask(image, qid, " ".join(words), e.bbox, "figure", group)
            elif e.kind == "text" and (words := _question_words(e, counts, bench.rare.used)):
                bench.ask(image, qid, words, e.bbox, "text", group)


# (name, columns, font size, leading, first baseline, questions: (block, lines) each; the last one is spread)
LONG_PAGES = [
    ("long_columns", 2, 10.0, 13.0, 80.0, [(0, (3, 4, 5)), (0, (12, 13, 14)), (0, (20, 21, 22)), (1, (6, 7, 8)),
                                           (1, (15, 16, 17)), (1, (0, 12, 24))]),
    ("long_paragraph", 1, 11.0, 17.0, 86.0, [(0, (2, 3, 4)), (0, (12, 13, 14)), (0, (19, 20, 21)), (0, (0, 12, 24))]),
]  # fmt: skip


def build_long(bench: Bench, scan: bool = True) -> None:
    """The ``long`` set: `testing.long_pages` pages whose columns are single 25-line blocks; each question
    plants one made-up word on each of three lines, its answer the union of those lines, or (the last question
    of a page, lines at the block's top, middle and bottom) the whole block. ``scan``: also an OCR'd image-only
    copy of the two-column page (150 dpi, noise and a 0.3 degree skew), asked the same questions."""
    for name, columns, size, leading, baseline, asked in LONG_PAGES:
        plants: dict[tuple[int, int], list[str]] = {}
        words = []
        for block, lines in asked:
            mine = bench.rare.take(len(lines))
            words.append(" ".join(mine))
            for line, w in zip(lines, mine, strict=True):
                plants.setdefault((block, line), []).append(w)
        pdf, blocks = long_block_page(bench.root / f"{name}.pdf", plants, columns=columns, size=size,
                                      leading=leading, first_baseline=baseline)  # fmt: skip
        images = [(name, bench.page(pdf))]
        if scan and columns == 2:
            scanned = rasterize_pdf(pdf, bench.root / f"{name}_scan.pdf", dpi=150)
            images.append((f"{name}_scan", bench.page(scanned, scan_of=pdf)))
        for page_name, image in images:
            for i, ((block, lines), w) in enumerate(zip(asked, words, strict=True)):
                spread = i == len(asked) - 1
                box = blocks[block].bbox if spread else BBox.union_of([blocks[block].lines[k].bbox for k in lines])
                group = ("long", page_name, "block" if spread else "lines")
                bench.ask(image, f"{page_name}-{i}", w, box, "text", group)
