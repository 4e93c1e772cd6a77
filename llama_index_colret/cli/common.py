"""What the `colret` subcommands share: registering a command, the index/model/device options, argument
types, opening an index with its model, grounded search from the arguments, and printing snippets and JSON.

Errors are not handled here: library code raises (`ColRetError`, `ValueError`, `TypeError`) and
`cli.main` turns each into one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from ..embed import DEFAULT_MODEL
from ..embed.identity import recorded_revision

if TYPE_CHECKING:
    from ..embed.types import Embedder
    from ..grounded_search import GroundedHit
    from ..grounding import Selection
    from ..store.lance import PageStore

RECORDED_MODEL = "the model the index was built with"
NEW_INDEX_MODEL = f"{RECORDED_MODEL}; for a new index {DEFAULT_MODEL}"  # --model of commands that may create one


def add_command(
    subparsers: Any,
    name: str,
    run: Callable[[argparse.Namespace], int] | None,
    *,
    help: str,
    description: str,
    epilog: str | None = None,
) -> argparse.ArgumentParser:
    """Add subcommand ``name`` whose ``run(args)`` returns the exit code (None: its own subcommands run); an
    epilog (examples) keeps its layout."""
    formatter = argparse.RawDescriptionHelpFormatter if epilog else argparse.HelpFormatter
    p = subparsers.add_parser(name, help=help, description=description, epilog=epilog, formatter_class=formatter)
    if run is not None:
        p.set_defaults(func=run)
    return p


def add_index_options(p: argparse.ArgumentParser, *, model_default: str = RECORDED_MODEL) -> None:
    """``--db`` (required), ``--storage-option``, ``--model`` (default: ``model_default``) and ``--device``."""
    p.add_argument(
        "--db", required=True, metavar="DIR", help="index location: a directory or any LanceDB URI (s3://bucket/path)"
    )
    add_pairs_option(
        p,
        "--storage-option",
        "KEY=VALUE",
        "object-storage option for LanceDB, e.g. aws_endpoint=http://host:9000, aws_region=us-east-1, "
        "allow_http=true (repeatable; the AWS_* environment is read too)",
    )
    p.add_argument("--model", default=None, help=f"model name or local folder (default: {model_default})")
    p.add_argument(
        "--model-revision",
        default=None,
        metavar="REV",
        help="branch, tag or commit of a hub model (default: main, or the one the index recorded when --model is "
        "not given); the index records it and refuses another",
    )
    add_device_option(p)


def model_revision(args: argparse.Namespace, recorded_id: str | None) -> str | None:
    """``--model-revision``; without it and without ``--model`` (the recorded model is loaded), the revision
    recorded in the index identity ``recorded_id``."""
    if args.model_revision or args.model is not None:
        return args.model_revision
    return recorded_revision(recorded_id)


def storage_options(args: argparse.Namespace) -> dict[str, str]:
    """``--storage-option`` pairs as LanceDB storage options (strings, as given)."""
    return string_pairs(args.storage_option, "--storage-option")


def add_device_option(p: argparse.ArgumentParser) -> None:
    """``--device`` for the model."""
    p.add_argument("--device", default="auto", help="torch device: auto, cpu, cuda, mps (default: auto)")


def add_pairs_option(p: argparse.ArgumentParser, flag: str, metavar: str, help: str) -> None:
    """A repeatable ``flag NAME=VALUE`` option collected into a list (parse it with `parse_pairs`)."""
    p.add_argument(flag, action="append", default=[], metavar=metavar, help=help)


def add_search_options(p: argparse.ArgumentParser) -> None:
    """The options every grounded front end shares: question, index, model, pages and regions to keep."""
    p.add_argument("question", help="the question, in natural language")
    add_index_options(p)
    p.add_argument("--top-k", type=positive_int, default=3, help="pages to retrieve and ground (default: 3)")
    p.add_argument("--regions", type=int, default=3, help="regions to keep over all pages (default: 3)")
    p.add_argument("--level", choices=("block", "line"), default="block", help="text region level: paragraphs or lines")


def positive_int(raw: str) -> int:
    """A positive integer (argparse type: a bad value is a usage error)."""
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {raw!r}")
    return value


def string_pairs(pairs: list[str], what: str) -> dict[str, str]:
    """``["k=v", ...]`` as a dict of strings (ValueError on a pair without ``=`` or without a key)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"{what} takes KEY=VALUE, got {pair!r}")
        out[key] = raw
    return out


def parse_pairs(pairs: list[str], what: str) -> dict[str, Any]:
    """``["k=v", ...]`` as a dict; values that parse as JSON numbers or booleans are typed (ValueError on a
    pair without ``=``)."""
    return {key: _typed(raw) for key, raw in string_pairs(pairs, what).items()}


def _typed(raw: str) -> Any:
    """``raw`` as a number or boolean when it is one in JSON, else the text itself."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return value if isinstance(value, (bool, int, float)) else raw


def store_and_embedder(args: argparse.Namespace) -> tuple[PageStore, Embedder]:
    """Open the index at ``args.db`` and load ``args.model`` (default: the model it was built with)."""
    from ..embed.embedder import resolve_embedder
    from ..store.lance import PageStore

    store = PageStore.open(args.db, storage_options=storage_options(args))
    revision = model_revision(args, store.model_id)
    embedder = resolve_embedder(args.model, store.model_name, device=args.device, revision=revision)
    store.check_model(embedder.model_name, getattr(embedder, "model_id", None))
    return store, embedder


def grounded_from_args(args: argparse.Namespace) -> tuple[list[GroundedHit], Selection]:
    """Open the index, load its model and run grounded search for ``args.question``."""
    from ..grounded_search import search_grounded
    from ..grounding import GroundingOptions

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


def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout, with a final newline."""
    json.dump(data, sys.stdout, indent=1)
    sys.stdout.write("\n")
