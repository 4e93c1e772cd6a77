"""`colret index PDF... --db DIR`: add PDFs (or folders of PDFs) to an index, with progress and a summary."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..ingest.pdf import OCR_MODES
from ..pipeline import index_pdfs, pdf_paths
from ..store.lance import PageStore
from .common import (
    NEW_INDEX_MODEL,
    add_index_options,
    add_pairs_option,
    model_revision,
    parse_pairs,
    positive_int,
    storage_options,
)

HELP = "embed the pages of PDFs and add them to an index"
DESCRIPTION = (
    "Render, read and embed every page of the given PDFs and store them in a LanceDB index. "
    "A file already in the index (same content) is skipped; a PDF that cannot be read is reported and "
    "skipped while the others land. A folder stands for every *.pdf below it; a path that does not exist "
    "is an error before anything is indexed."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of `colret index`."""
    p.add_argument("pdfs", nargs="+", metavar="PDF", help="PDF files or folders")
    add_index_options(p, model_default=NEW_INDEX_MODEL)
    p.add_argument("--dpi", type=positive_int, default=150, help="render resolution (default: 150)")
    p.add_argument("--ocr", choices=OCR_MODES, default="auto", help="when to run Tesseract (default: auto)")
    p.add_argument("--password", default=None, help="password of encrypted PDFs")
    add_pairs_option(
        p,
        "--meta",
        "KEY=VALUE",
        "metadata for every file (repeatable; numbers and true/false are typed, the rest is text)",
    )
    p.add_argument("--batch-size", type=positive_int, default=4, help="pages per model call (default: 4)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--ray",
        nargs="?",
        const="",
        default=None,
        metavar="ADDRESS",
        help="run on a Ray cluster: render on CPU tasks, embed on model actors (a GPU each when there are GPUs); "
        "ADDRESS as for `ray.init` (default: RAY_ADDRESS, a `ray start` cluster here, or a new local one)",
    )
    p.add_argument(
        "--ray-actors",
        type=positive_int,
        default=None,
        metavar="N",
        help="with --ray: model actors (default: one per GPU, or 1)",
    )


def run(args: argparse.Namespace) -> int:
    """Index the files; 0 when every file was added or already there, 1 when some failed."""
    from ..embed.embedder import resolve_embedder

    engine = _engine(args)  # a bad combination fails before any work
    files = pdf_paths(args.pdfs)
    if not files:
        print("colret index: no PDF files found", file=sys.stderr)
        return 1
    metadata = parse_pairs(args.meta, "--meta")
    options = storage_options(args)
    if args.no_progress:  # transformers draws its own bar while it loads the weights
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    exists = PageStore.exists(args.db, options)
    recorded = PageStore.open(args.db, storage_options=options) if exists else None
    embedder = resolve_embedder(
        args.model,
        recorded.model_name if recorded else None,
        device=args.device,
        batch_size=args.batch_size,
        revision=model_revision(args, recorded.model_id if recorded else None),
    )
    store = PageStore.open(
        args.db, model_name=embedder.model_name, dim=embedder.dim, model_id=_model_id(embedder), storage_options=options
    )
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
        **engine,
    )
    if report.added:
        store.optimize()  # every add is a table version: compact them
    for outcome in report.failed:
        print(f"failed: {outcome.describe()}", file=sys.stderr)
    print(f"{report.summary()}; the index holds {store.count()} pages ({args.db})")
    return 1 if report.failed else 0


def _engine(args: argparse.Namespace) -> dict[str, Any]:
    """``engine`` and ``ray`` keywords of `index_pdfs` for ``--ray [ADDRESS]`` and ``--ray-actors``."""
    if args.ray is None:
        if args.ray_actors is not None:
            raise ValueError("--ray-actors needs --ray")
        return {}
    from ..scale import RayOptions

    return {"engine": "ray", "ray": RayOptions(address=args.ray or None, num_actors=args.ray_actors)}


def _model_id(embedder: object) -> str | None:
    """The identity an embedder declares (`embed.identity`), None for one that declares none."""
    return getattr(embedder, "model_id", None)
