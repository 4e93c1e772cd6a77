"""The `colret` command: one module per subcommand, each with ``HELP``, ``DESCRIPTION``, an optional
``EPILOG`` (examples), ``add_arguments(parser)`` and ``run(args) -> exit code``; what they share is in
`cli/common.py`. Errors are handled in one place, `main`: a library error (`ColRetError`) or a wrong
argument (`ValueError`, `TypeError`) becomes one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ..errors import ColRetError
from .common import add_command

# Subcommand modules in the order `colret --help` lists them.
COMMANDS: tuple[str, ...] = ("regions", "index", "query", "show", "ask", "eval", "optimize")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="colret",
        description="Grounded visual retrieval for PDFs: index pages with a ColPali-family model, "
        "retrieve by exact MaxSim, and point at the regions that answer.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"{__name__}.{name}")
        epilog = getattr(module, "EPILOG", None)
        p = add_command(sub, name, module.run, help=module.HELP, description=module.DESCRIPTION, epilog=epilog)
        module.add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run one subcommand; library errors and wrong arguments become one line on stderr and exit
    code 2 (argparse's own usage errors also exit 2)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ColRetError, ValueError, TypeError) as exc:
        print(f"colret {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"colret {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
