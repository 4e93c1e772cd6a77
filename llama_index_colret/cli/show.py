"""`colret show "QUESTION" --db DIR --out FILE.png`: draw why regions were chosen (heat map and ranked boxes).

Also holds the search options and snippet printing that `colret ask` shares.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..grounded_search import GroundedHit, search_grounded
from ..grounding import GroundingOptions, Selection
from ..overlay import OverlayBox, OverlayPage, render_overlay

if TYPE_CHECKING:
    from ..embed.embedder import ColEmbedder
    from ..store.lance import PageStore

SHOW_EPILOG = """examples:
  colret show "What was the wheat yield in 1860?" --db ./colret_db --out why.png
  colret show "harvest chart" --db ./colret_db --out why.png --pages 2 --layout column
"""


def add_search_options(p: argparse.ArgumentParser) -> None:
    """The options every grounded front end shares: index, model, pages and regions to keep."""
    p.add_argument("question", help="the question, in natural language")
    p.add_argument("--db", required=True, metavar="DIR", help="index directory (or LanceDB URI) built by colret index")
    p.add_argument(
        "--model",
        default=None,
        help="model name or local folder for encoding the question (default: the model the index was built with)",
    )
    p.add_argument("--device", default="auto", help="torch device: auto, cpu, cuda, mps (default: auto)")
    p.add_argument("--top-k", type=int, default=3, help="pages to retrieve and ground (default: 3)")
    p.add_argument("--regions", type=int, default=3, help="regions to keep over all pages (default: 3)")
    p.add_argument("--level", choices=("block", "line"), default="block", help="text region level: paragraphs or lines")


def store_and_embedder(args: argparse.Namespace) -> tuple[PageStore, ColEmbedder]:
    """Open the index at ``args.db`` and load ``args.model`` (default: the model it was built with)."""
    from ..embed.embedder import ColEmbedder
    from ..store.lance import PageStore

    store = PageStore.open(args.db)
    return store, ColEmbedder.from_pretrained(args.model or store.model_name, device=args.device)


def grounded_from_args(args: argparse.Namespace) -> tuple[list[GroundedHit], Selection]:
    """Open the index, load its model and run grounded search for ``args.question``."""
    store, embedder = store_and_embedder(args)
    options = GroundingOptions(top_k=args.regions, level=args.level)
    return search_grounded(store, embedder, args.question, top_k=args.top_k, options=options)


def one_line(text: str, limit: int = 300) -> str:
    """Whitespace collapsed, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def print_snippets(hits: list[GroundedHit], selection: Selection, out: TextIO | None = None) -> None:
    """Print each selected region as ``[rank] file p.N [x0, y0, x1, y1] kind score`` and its text."""
    out = out or sys.stdout
    if not selection.regions:
        print("no region selected", file=out)
        return
    for s in selection.regions:
        rec = hits[s.page_index].record
        box = ", ".join(f"{v:.3f}" for v in s.region.bbox.as_list())
        text = one_line(s.region.text) or "(no text: a figure; see the page image)"
        print(
            f"[{s.rank}] {rec.file_name} p.{rec.page_number} [{box}] {s.region.kind}, score {s.combined:.3f}", file=out
        )
        print(f"    {text}", file=out)


def overlay_pages(hits: list[GroundedHit], selection: Selection, n_pages: int) -> list[OverlayPage]:
    """The first ``n_pages`` hits as overlay pages: stored image, relevance map, selected boxes with rank."""
    pages = []
    for p, hit in enumerate(hits[:n_pages]):
        boxes = [OverlayBox(s.region.bbox, s.rank, s.region.kind) for s in selection.regions if s.page_index == p]
        rec = hit.record
        title = f"#{p + 1} {rec.file_name} p.{rec.page_number}  score {hit.hit.normalized_score:.3f}"
        pages.append(OverlayPage(rec.image(), hit.grounding.relevance_map, boxes, title))
    return pages


def register(subparsers: Any) -> None:
    """Add the `show` subcommand."""
    p = subparsers.add_parser(
        "show",
        help="draw the top page(s) with the relevance heat map and the selected region boxes",
        description="Retrieve and ground a question like `colret ask`, then save a PNG of the top page(s): "
        "the patch relevance map blended over the page (red = most relevant) and the selected regions "
        "outlined with their rank, so you can see why a region was chosen.",
        epilog=SHOW_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_search_options(p)
    p.add_argument("--out", required=True, metavar="FILE.png", help="where to write the picture")
    p.add_argument("--pages", type=int, default=1, help="how many of the retrieved pages to draw (default: 1)")
    p.add_argument("--layout", choices=("row", "column"), default="row", help="pages side by side or stacked")
    p.add_argument("--alpha", type=float, default=0.45, help="opacity of the heat map, 0-1 (default: 0.45)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Ground the question, write the picture, print the snippets; 0 on success."""
    if args.pages < 1:
        raise SystemExit("colret show: error: --pages must be at least 1")
    hits, selection = grounded_from_args(args)
    picture = render_overlay(overlay_pages(hits, selection, args.pages), layout=args.layout, alpha=args.alpha)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    picture.save(out)
    print(f"wrote {out} ({picture.width}x{picture.height}, {min(args.pages, len(hits))} page(s))")
    print_snippets(hits, selection)
    return 0
