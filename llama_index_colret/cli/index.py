"""`colret index PDF... --db DIR`: add PDFs (or folders of PDFs) to an index, with progress and a summary."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..ingest.pdf import OCR_MODES
from ..pipeline import index_pdfs
from ..store.lance import PageStore


def register(subparsers: Any) -> None:
    """Add the `index` subcommand."""
    p = subparsers.add_parser(
        "index",
        help="embed the pages of PDFs and add them to an index",
        description="Render, read and embed every page of the given PDFs and store them in a LanceDB index. "
        "A file already in the index (same content) is skipped; a PDF that cannot be read is reported and "
        "skipped while the others land. A folder stands for every *.pdf below it.",
    )
    p.add_argument("pdfs", nargs="+", metavar="PDF", help="PDF files or folders")
    p.add_argument("--db", required=True, help="index location: a directory or any LanceDB URI")
    p.add_argument(
        "--model",
        default=None,
        help="model name or path (default: the model the index was built with; for a new index "
        "vidore/colqwen2-v1.0-hf)",
    )
    p.add_argument("--dpi", type=int, default=150, help="render resolution (default: 150)")
    p.add_argument("--ocr", choices=OCR_MODES, default="auto", help="when to run Tesseract (default: auto)")
    p.add_argument("--password", default=None, help="password of encrypted PDFs")
    p.add_argument(
        "--meta",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="metadata for every file (repeatable; numbers and true/false are typed, the rest is text)",
    )
    p.add_argument("--batch-size", type=int, default=4, help="pages per model call (default: 4)")
    p.add_argument("--device", default="auto", help="torch device for the model (default: auto)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def parse_pairs(pairs: list[str], what: str) -> dict[str, Any]:
    """``["k=v", ...]`` as a dict; values that parse as JSON numbers or booleans are typed."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"colret: {what} takes KEY=VALUE, got {pair!r}")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        out[key] = value if isinstance(value, (bool, int, float)) else raw
    return out


def expand(paths: list[str]) -> list[Path]:
    """Files as given; folders replaced by the *.pdf files below them, sorted."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(sorted(q for q in p.rglob("*") if q.suffix.lower() == ".pdf" and q.is_file()))
        else:
            out.append(p)
    return out


def run(args: argparse.Namespace) -> int:
    """Index the files; 0 when every file was added or already there, 1 when some failed."""
    from ..embed.embedder import DEFAULT_MODEL, ColEmbedder

    files = expand(args.pdfs)
    if not files:
        print("colret index: no PDF files found", file=sys.stderr)
        return 1
    metadata = parse_pairs(args.meta, "--meta")
    model = args.model or (PageStore.open(args.db).model_name if PageStore.exists(args.db) else DEFAULT_MODEL)
    embedder = ColEmbedder.from_pretrained(model, device=args.device, batch_size=args.batch_size)
    store = PageStore.open(args.db, model_name=embedder.model_name, dim=embedder.dim)
    report = index_pdfs(
        files,
        store,
        embedder,
        dpi=args.dpi,
        ocr=args.ocr,
        metadata=metadata or None,
        password=args.password,
        show_progress=not args.no_progress,
        batch_pages=args.batch_size,
    )
    if report.added:
        store.optimize()  # every add is a table version: compact them
    for outcome in report.failed:
        print(f"failed: {outcome.describe()}", file=sys.stderr)
    print(f"{report.summary()}; the index holds {store.count()} pages ({args.db})")
    return 1 if report.failed else 0
