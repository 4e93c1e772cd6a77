"""`colret optimize --db DIR`: compact the table and build or refresh the first stage of two-stage search.

Ctrl-C at any point leaves the table at its last committed version (nothing committed, or compacted without
the index refresh), readable with every document once; running the command again completes it.
"""

from __future__ import annotations

import argparse
import warnings
from datetime import timedelta

from ..store.lance import PageStore

HELP = "build or refresh the two-stage search index (and optionally compact the table)"
DESCRIPTION = (
    "Build the first stage of two-stage search: the row-pooled vectors of every page (computed for pages "
    "stored before they existed) and their LanceDB ANN index, retrained when pages were added since the "
    "last run (pages added since are searched anyway, scanned flat, which is slower). --compact also "
    "compacts the table's files; under a million pages that rewrites the whole table."
)
EPILOG = "example: colret optimize --db ./colret_index"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of `colret optimize`."""
    p.add_argument("--db", required=True, metavar="DIR", help="index location: a directory or any LanceDB URI")
    p.add_argument("--retrain", action="store_true", help="retrain the ANN index even when it is up to date")
    p.add_argument("--compact", action="store_true", help="also compact the table's files (rewrites small files)")
    p.add_argument(
        "--cleanup",
        action="store_true",
        help="with --compact: delete every old table version (reclaims disk; only while no other process uses it)",
    )


def run(args: argparse.Namespace) -> int:
    """Optimize the index at ``--db`` and print what was done; 0 on success."""
    store = PageStore.open(args.db)
    if args.compact:
        with warnings.catch_warnings():  # LanceDB warns that cleanup_older_than=0 drops old versions: asked for
            warnings.filterwarnings("ignore", message=r"optimize\(cleanup_older_than=0\)", category=UserWarning)
            store.optimize(cleanup_older_than=timedelta(0) if args.cleanup else None)
    report = store.build_search_index(retrain=args.retrain)
    action = "trained" if report.trained else "already up to date"
    centers = f"; blank centers made for {report.centers_made} patch grids" if report.centers_made else ""
    print(
        f"{args.db}: {store.count()} pages; first stage filled for {report.filled_rows} pages{centers}; ANN index "
        f"{action} ({report.indexed_rows} pages indexed) in {report.seconds:.1f} s"
    )
    return 0
