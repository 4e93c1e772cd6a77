"""Run ingestion over every PDF of a folder and print, per file: pages, regions per kind, text layer or
OCR, or the one-line error. Usage: ``python scripts/corpus_check.py DIR [--password NAME=PW ...]
[--draw OUTDIR]`` (``--draw`` saves each page's first-page render with its block boxes drawn on it)."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from PIL import ImageDraw

from llama_index_colret.errors import PDFError
from llama_index_colret.ingest.page import Page
from llama_index_colret.ingest.pdf import load_pdf

COLORS = {"text": (220, 30, 30), "table": (30, 30, 220), "figure": (30, 160, 30)}


def draw_boxes(page: Page, out: Path, dpi: int = 100) -> Path:
    """Render ``page`` and draw its block-level region boxes on it (red text, blue tables, green figures)."""
    img = page.render(dpi)
    draw = ImageDraw.Draw(img)
    for r in page.regions_at("block"):
        draw.rectangle(r.bbox.to_pixels(img.width, img.height), outline=COLORS[r.kind], width=2)
    img.save(out)
    return out


def check(path: Path, password: str | None, draw_dir: Path | None) -> str:
    """One summary line for one file."""
    t0 = time.perf_counter()
    try:
        pages = load_pdf(path, password=password)
    except PDFError as exc:
        return f"{path.name}: ERROR {exc.problem}"
    kinds = Counter(r.kind for p in pages for r in p.regions_at("block"))
    sources = Counter(r.source for p in pages for r in p.regions)
    errors = [f"p{p.number}: {p.error}" for p in pages if p.error]
    if draw_dir is not None:
        for p in pages[:2]:
            draw_boxes(p, draw_dir / f"{path.stem}-p{p.number}.png")
    how = "+".join(sorted(sources)) or "no regions"
    kinds_s = ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())) or "none"
    tail = f"  errors: {'; '.join(errors)}" if errors else ""
    return f"{path.name}: {len(pages)} pages, {how}, blocks {kinds_s}  ({time.perf_counter() - t0:.2f} s){tail}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("dir", type=Path)
    ap.add_argument("--password", action="append", default=[], help="FILE_NAME=PASSWORD (repeatable)")
    ap.add_argument("--draw", type=Path, default=None, help="folder for renders with boxes drawn")
    args = ap.parse_args(argv)
    passwords = dict(p.split("=", 1) for p in args.password)
    if args.draw:
        args.draw.mkdir(parents=True, exist_ok=True)
    for path in sorted(args.dir.glob("*.pdf")):
        print(check(path, passwords.get(path.name), args.draw), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
