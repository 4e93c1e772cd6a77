"""`colret optimize --db DIR`: compact the table and build or refresh the first stage of two-stage search."""

from __future__ import annotations

import argparse
from datetime import timedelta

from ..store.lance import PageStore

HELP = "compact the index and build or refresh the two-stage search index"
DESCRIPTION = (
    "Compact the table's files, then build the first stage of two-stage search: the row-pooled vectors of "
    "every page (computed for pages stored before they existed) and their LanceDB ANN index. Once trained, "
    "the index takes in new pages without retraining, and is retrained when more pages are new than "
    "indexed (or with --retrain). Pages added since the last run are searched anyway (scanned flat)."
)
EPILOG = "example: colret optimize --db ./colret_index"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of `colret optimize`."""
    p.add_argument("--db", required=True, metavar="DIR", help="index location: a directory or any LanceDB URI")
    p.add_argument("--retrain", action="store_true", help="retrain the ANN index from scratch")
    p.add_argument(
        "--cleanup", action="store_true", help="also delete old table versions (reclaims disk; no time travel)"
    )


def run(args: argparse.Namespace) -> int:
    """Optimize the index at ``--db`` and print what was done; 0 on success."""
    store = PageStore.open(args.db)
    store.optimize(cleanup_older_than=timedelta(0) if args.cleanup else None)
    report = store.build_search_index(retrain=args.retrain)
    action = "trained" if report.trained else "refreshed"
    print(
        f"{args.db}: {store.count()} pages; first stage filled for {report.filled_rows} pages; ANN index "
        f"{action} ({report.indexed_rows} pages indexed) in {report.seconds:.1f} s"
    )
    return 0
