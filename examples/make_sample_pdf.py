"""Write a small sample PDF to try the library on: ``python examples/make_sample_pdf.py [OUT.pdf]``.

Three pages: two-column paragraphs, a ruled table of harvest figures, and a bar chart with a caption. The text
is real PDF text (a text layer), so regions come from pypdfium2; pass ``--scanned`` for an image-only copy that
goes through Tesseract OCR instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from llama_index_colret.testing.pdfgen import ChartSpec, PageSpec, make_pdf, rasterize_pdf

PARAGRAPHS = [
    "The river valley holds old stone bridges where merchants crossed with grain and salt each autumn "
    "before winter closed the mountain roads.",
    "Village council records show that harvest yields rose steadily after new canals were dug along the "
    "northern fields in the spring of 1851.",
    "Engineers measured water levels during spring floods and designed stronger walls for the lower town, "
    "which had flooded three times in ten years.",
    "Weavers sold wool cloth at the market square, and travellers described bright painted houses, quiet "
    "gardens and a large library built near the harbour.",
]
TABLE = [
    ["Crop", "1850 yield", "1860 yield", "Change"],
    ["Barley", "410", "530", "+29%"],
    ["Wheat", "620", "790", "+27%"],
    ["Beans", "150", "240", "+60%"],
]
CHART = ChartSpec(
    values=[410, 620, 150, 95],
    labels=["Barley", "Wheat", "Beans", "Flax"],
    caption="Figure 1: Harvest yield by crop in 1850 (bushels)",
)


def sample_pages() -> list[PageSpec]:
    """The sample's page specs: paragraphs in two columns, a table page, a chart page."""
    return [
        PageSpec(paragraphs=PARAGRAPHS, columns=2),
        PageSpec(paragraphs=["Table 1 lists the harvest yields per crop before and after the canals."], table=TABLE),
        PageSpec(paragraphs=["The chart below compares the yields of the main crops in 1850."], chart=CHART),
    ]


def main(argv: list[str] | None = None) -> int:
    """Write the sample PDF and print its path and page count."""
    parser = argparse.ArgumentParser(description="Write a 3-page sample PDF (paragraphs, a table, a chart).")
    parser.add_argument("out", nargs="?", default="sample.pdf", help="output PDF path (default: sample.pdf)")
    parser.add_argument("--scanned", action="store_true", help="write an image-only copy (Tesseract OCR path)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pages = sample_pages()
    make_pdf(out, pages)
    if args.scanned:
        rasterize_pdf(out, out)
    print(f"wrote {out} ({len(pages)} pages{', scanned' if args.scanned else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
