"""`colret show "QUESTION" --db DIR --out FILE.png`: draw why regions were chosen (heat map and ranked boxes)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..overlay import overlay_pages, render_overlay
from .common import add_search_options, grounded_from_args, positive_int, print_snippets

EPILOG = """examples:
  colret show "What was the wheat yield in 1860?" --db ./colret_db --out why.png
  colret show "harvest chart" --db ./colret_db --out why.png --pages 2 --layout column
"""


HELP = "draw the top page(s) with the relevance heat map and the selected region boxes"
DESCRIPTION = (
    "Retrieve and ground a question like `colret ask`, then save a PNG of the top page(s): "
    "the patch relevance map blended over the page (red = most relevant) and the selected regions "
    "outlined with their rank, so you can see why a region was chosen."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of `colret show`."""
    add_search_options(p)
    p.add_argument("--out", required=True, metavar="FILE.png", help="where to write the picture")
    p.add_argument("--pages", type=positive_int, default=1, help="how many of the retrieved pages to draw (default: 1)")
    p.add_argument("--layout", choices=("row", "column"), default="row", help="pages side by side or stacked")
    p.add_argument("--alpha", type=float, default=0.45, help="opacity of the heat map, 0-1 (default: 0.45)")


def run(args: argparse.Namespace) -> int:
    """Ground the question, write the picture, print the snippets; 0 on success."""
    hits, selection = grounded_from_args(args)
    picture = render_overlay(overlay_pages(hits, selection, args.pages), layout=args.layout, alpha=args.alpha)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    picture.save(out)
    print(f"wrote {out} ({picture.width}x{picture.height}, {min(args.pages, len(hits))} page(s))")
    print_snippets(hits, selection)
    return 0
