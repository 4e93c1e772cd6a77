"""`colret regions FILE.pdf`: the regions ingestion finds on each page, as a listing or as JSON."""

from __future__ import annotations

import argparse
from typing import Any

from ..ingest.page import Page
from ..ingest.pdf import OCR_MODES, load_pdf
from .common import positive_int, print_json

HELP = "list the regions (lines, blocks, tables, figures) found on each page of a PDF"
DESCRIPTION = (
    "Extract regions with normalised boxes (x0, y0, x1, y1 in [0, 1], origin top-left) "
    "from the PDF text layer, or with Tesseract OCR for pages without one."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of `colret regions`."""
    p.add_argument("file", help="the PDF file")
    p.add_argument("--json", action="store_true", help="print JSON instead of a listing")
    p.add_argument("--level", choices=("block", "line"), default="block", help="region level (default: block)")
    p.add_argument("--ocr", choices=OCR_MODES, default="auto", help="when to run Tesseract (default: auto)")
    p.add_argument("--dpi", type=positive_int, default=150, help="render resolution for OCR (default: 150)")
    p.add_argument("--password", default=None, help="password of an encrypted PDF")


def page_dict(page: Page, level: str) -> dict[str, Any]:
    """The JSON form of one page at one region level."""
    out: dict[str, Any] = {
        "number": page.number,
        "width_pt": round(page.width_pt, 3),
        "height_pt": round(page.height_pt, 3),
        "regions": [r.to_dict() for r in page.regions_at(level)],  # type: ignore[arg-type]
    }
    if page.error:
        out["error"] = page.error
    return out


def run(args: argparse.Namespace) -> int:
    """Print the regions of every page; 0 when every page was read, 1 when some page failed (e.g. OCR)."""
    pages = load_pdf(args.file, dpi=args.dpi, ocr=args.ocr, password=args.password)
    if args.json:
        print_json({"file": args.file, "pages": [page_dict(p, args.level) for p in pages]})
    else:
        for page in pages:
            regions = page.regions_at(args.level)  # type: ignore[arg-type]
            head = f"page {page.number} ({page.width_pt:.0f} x {page.height_pt:.0f} pt): {len(regions)} regions"
            print(head + (f"  [{page.error}]" if page.error else ""))
            for r in regions:
                box = ", ".join(f"{v:.3f}" for v in r.bbox.as_list())
                text = " ".join(r.text.split())
                text = text if len(text) <= 70 else text[:67] + "..."
                print(f"  {r.kind:<6} {r.source:<10} [{box}]  {text}")
    return 1 if any(p.error for p in pages) else 0
