"""The `colret` command: one module per subcommand, each with ``HELP``, ``DESCRIPTION``, an optional
``EPILOG`` (examples), ``add_arguments(parser)`` and ``run(args) -> exit code``; what they share is in
`cli/common.py`. Errors are handled in one place, `main`: a library error (`ColRetError`) or a wrong
argument (`ValueError`, `TypeError`), and a disk that refuses writes (full, read-only: `errors.disk_problem`, naming
``--db``), become one line on stderr and exit code 2. Ctrl-C at any point after
this module is imported (it imports nothing heavy) is exit 130, even where a C extension turned the
interrupt into another exception: the SIGINT handler records it (`errors.INTERRUPTED`)."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

from ..errors import INTERRUPTED, ColRetError, DiskError, disk_problem

# Subcommand modules in the order `colret --help` lists them.
COMMANDS: tuple[str, ...] = ("regions", "index", "query", "show", "ask", "eval", "optimize")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every subcommand registered."""
    from .common import add_command  # imports numpy and torch: after the SIGINT handler is installed

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
    previous = _catch_sigint()
    try:
        return _run(sys.argv[1:] if argv is None else argv)
    finally:  # called in-process (tests, notebooks): leave the caller's Ctrl-C handling as it was
        INTERRUPTED.clear()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _run(argv: Sequence[str]) -> int:
    """Parse ``argv`` and run its subcommand; errors and interrupts as `main` documents."""
    given = list(argv)
    command = next((a for a in given if a in COMMANDS), "COMMAND")  # named before the parser is built
    db: str | None = None
    try:
        args = build_parser().parse_args(given)
        command, db = args.command, getattr(args, "db", None)
        code = int(args.func(args) or EXIT_OK)
    except KeyboardInterrupt:
        return _interrupted(command)
    except Exception as exc:
        if INTERRUPTED.is_set():  # an interrupt some library reported as another error
            return _interrupted(command)
        problem = None if isinstance(exc, ColRetError) else disk_problem(exc)
        if problem is not None:  # the index's disk refused a write outside the per-document steps
            where = db or getattr(exc, "filename", None) or "."
            print(f"colret {command}: error: {DiskError(where, problem)}", file=sys.stderr)
        elif isinstance(exc, (ColRetError, ValueError, TypeError)):
            print(f"colret {command}: error: {one_line(exc)}", file=sys.stderr)
        elif isinstance(exc, (OSError, MemoryError)):  # environment: read-only or full disk, no memory
            print(f"colret {command}: error: {type(exc).__name__}: {one_line(exc)}", file=sys.stderr)
        else:
            raise
        return EXIT_ERROR
    return _interrupted(command) if INTERRUPTED.is_set() else code


def _catch_sigint() -> Any:
    """Record Ctrl-C in `errors.INTERRUPTED` before raising ``KeyboardInterrupt`` (main thread only: Python
    delivers signals there); the previous handler, None when none was installed."""
    INTERRUPTED.clear()
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, _on_sigint)


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    """The SIGINT handler: remember the interrupt, then interrupt as Python's default handler does."""
    INTERRUPTED.set()
    raise KeyboardInterrupt


def _interrupted(command: str) -> int:
    """Report an interrupted run in one line; exit code 130."""
    print(f"colret {command}: interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (LanceDB and transformers errors span several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
