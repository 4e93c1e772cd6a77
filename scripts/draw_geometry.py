"""Draw the geometry picture of docs/geometry.md: ``python scripts/draw_geometry.py [OUT.png]``.

A generated page rendered by poppler, its patch grid stretched over the page, one region (a paragraph) and the
coverage weight ``area(R ∩ P_j) / area(P_j)`` of every cell the region overlaps, printed in the cell and shown
as shading. Uses `coverage_matrix`, the same function grounding uses.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from llama_index_colret.geometry import BBox, PatchGrid, coverage_matrix
from llama_index_colret.ingest.pdf import load_pdf
from llama_index_colret.testing.pdfgen import PageSpec, make_pdf, sample_paragraphs

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "img" / "geometry.png"


def page_and_region(dpi: int) -> tuple[Image.Image, BBox]:
    """Render a generated one-page PDF and return the image and the box of its second paragraph."""
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "page.pdf"
        make_pdf(pdf, [PageSpec(paragraphs=sample_paragraphs(4, words_per_paragraph=40))])
        page = load_pdf(pdf)[0]
        image = page.render(dpi)
    return image, page.regions_at("block")[1].bbox


def draw(image: Image.Image, region: BBox, grid: PatchGrid) -> Image.Image:
    """The page with the grid, the region and each overlapped cell's coverage weight."""
    img = image.convert("RGB")
    w, h = img.size
    cover = coverage_matrix([region], grid)[0].reshape(grid.n_rows, grid.n_cols)  # (n_rows, n_cols)
    frac = cover / (1.0 / grid.n_patches)  # (n_rows, n_cols): share of each cell under the region
    shade = Image.new("RGBA", img.size, (0, 0, 0, 0))
    sd = ImageDraw.Draw(shade)
    font = ImageFont.load_default(size=max(9, h // 70))
    for r in range(grid.n_rows):
        for c in range(grid.n_cols):
            if frac[r, c] > 0:
                x0, y0, x1, y1 = grid.cell_box(r, c).to_pixels(w, h)
                sd.rectangle([x0, y0, x1, y1], fill=(255, 140, 0, int(40 + 120 * frac[r, c])))
    img = Image.alpha_composite(img.convert("RGBA"), shade).convert("RGB")
    d = ImageDraw.Draw(img)
    for c in range(grid.n_cols + 1):
        x = min(round(c * w / grid.n_cols), w - 1)
        d.line([(x, 0), (x, h)], fill=(40, 90, 200), width=1)
    for r in range(grid.n_rows + 1):
        y = min(round(r * h / grid.n_rows), h - 1)
        d.line([(0, y), (w, y)], fill=(40, 90, 200), width=1)
    x0, y0, x1, y1 = region.to_pixels(w, h)
    d.rectangle([x0, y0, x1, y1], outline=(220, 0, 60), width=3)
    for r, c in zip(*np.nonzero(frac), strict=True):
        bx0, by0, _, _ = grid.cell_box(int(r), int(c)).to_pixels(w, h)
        d.text((bx0 + 2, by0 + 2), f"{frac[r, c]:.2f}", fill=(0, 0, 0), font=font)
    d.text(
        (4, h - 3 * font.size - 6),
        f"grid {grid.n_rows} rows x {grid.n_cols} cols, stretched over the page",
        fill=(40, 90, 200),
        font=font,
    )
    d.text(
        (4, h - 2 * font.size - 4),
        "red: region R; numbers: overlap(R, cell) / area(cell)",
        fill=(220, 0, 60),
        font=font,
    )
    return img


def main(argv: list[str] | None = None) -> int:
    """Render the picture and save it as a palette PNG (small enough to commit)."""
    parser = argparse.ArgumentParser(description="Draw the page / patch grid / region coverage picture.")
    parser.add_argument("out", nargs="?", default=str(DEFAULT_OUT), help=f"output PNG (default: {DEFAULT_OUT})")
    parser.add_argument("--rows", type=int, default=22, help="grid rows (default 22)")
    parser.add_argument("--cols", type=int, default=17, help="grid columns (default 17)")
    parser.add_argument("--dpi", type=int, default=72, help="render resolution (default 72)")
    args = parser.parse_args(argv)
    image, region = page_and_region(args.dpi)
    out = draw(image, region, PatchGrid(args.rows, args.cols))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    out.quantize(colors=64).save(args.out, optimize=True)
    print(f"wrote {args.out} ({out.width}x{out.height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
