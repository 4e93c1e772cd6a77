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


EXIT_OK, EXIT_SOME_FAILED, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run one subcommand. Exit codes: 0 ok, 1 some documents (or pages) failed, 2 a usage or
    environment error (library errors, wrong arguments, an unwritable or full disk: one line on stderr;
    argparse's own usage errors also exit 2), 130 interrupted (Ctrl-C, start-up included)."""
    given = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in given if a in COMMANDS), "COMMAND")  # named before the parser is built
    try:
        args = build_parser().parse_args(given)
        command = args.command
        return int(args.func(args) or EXIT_OK)
    except (ColRetError, ValueError, TypeError) as exc:
        print(f"colret {command}: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except (OSError, MemoryError) as exc:  # environment: read-only or full disk, no memory
        print(f"colret {command}: error: {type(exc).__name__}: {one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"colret {command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (LanceDB and transformers errors span several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
