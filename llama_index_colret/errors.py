"""The library's exceptions: one base class, each naming the file, page or value at fault.

The rule every module keeps:

- A wrong argument (a value or type no call should pass: ``dpi=0``, an unknown option name, a layout that
  is not ``"row"`` or ``"column"``) raises ``ValueError`` or ``TypeError``, naming the argument and listing
  the valid values where there are few.
- Bad data or environment (a corrupt PDF, a missing model, an index built with another model, Tesseract
  not installed, a page that is not stored) raises a `ColRetError` subclass below, naming the file, page or
  value at fault. Classes for data that also reads as a bad value (embedder input, store rows, filters,
  grounding options, datasets, LLM specs) derive from ``ValueError`` too; `PageNotFoundError` from
  ``KeyError``.
- Library code raises no bare ``KeyError`` and no ``SystemExit`` (only argparse, in ``cli/``, exits). The CLI
  (``cli.main``) turns both kinds into one line on stderr and exit code 2.
"""

from __future__ import annotations

import threading
from pathlib import Path

# Set by the CLI's SIGINT handler: per-document error handlers re-raise an interrupt that a library turned
# into another exception (`raise_if_interrupted`), so Ctrl-C always stops the run.
INTERRUPTED = threading.Event()


def raise_if_interrupted() -> None:
    """Raise ``KeyboardInterrupt`` when Ctrl-C arrived (`INTERRUPTED`), whatever exception is being handled."""
    if INTERRUPTED.is_set():
        raise KeyboardInterrupt


__all__ = [
    "ClusterError",
    "ColRetError",
    "DatasetError",
    "EmbeddingError",
    "EmptyIndexError",
    "FilterError",
    "GroundingError",
    "IndexMismatchError",
    "LLMConfigError",
    "ModelLoadError",
    "OCRError",
    "PDFError",
    "PageNotFoundError",
    "StoreError",
]


class ColRetError(Exception):
    """Base class of every error this library raises on purpose."""


class PDFError(ColRetError):
    """A PDF that cannot be read: not a PDF, corrupt, encrypted without the right password, no pages."""

    def __init__(self, path: str | Path, problem: str, page: int | None = None) -> None:
        self.path = str(path)
        self.problem = problem
        self.page = page
        where = f"{self.path}, page {page}" if page is not None else self.path
        super().__init__(f"{where}: {problem}")


class ModelLoadError(ColRetError):
    """A model or processor that cannot be loaded (missing folder, unknown family, hub unreachable)."""


class IndexMismatchError(ColRetError):
    """An index opened with a model (or vector size) other than the one it was built with."""


class EmptyIndexError(ColRetError):
    """A query against an index that holds no pages."""


class PageNotFoundError(ColRetError, KeyError):
    """Pages asked for by ``(doc_id, page_number)`` that the index does not hold (deleted, or never added)."""

    def __str__(self) -> str:
        """The message as given (``KeyError`` would quote it)."""
        return str(self.args[0]) if self.args else ""


class FilterError(ColRetError, ValueError):
    """A metadata filter on an unknown field or with an unsupported operator or value."""


class GroundingError(ColRetError, ValueError):
    """Invalid grounding options, or query/patch vectors whose shapes disagree with the page's grid."""


class DatasetError(ColRetError, ValueError):
    """An evaluation dataset that cannot be read: missing file, bad JSON line, missing field, bad box."""

    def __init__(self, path: str | Path, problem: str, line: int | None = None) -> None:
        self.path = str(path)
        self.problem = problem
        self.line = line
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


class EmbeddingError(ColRetError, ValueError):
    """Bad input to an embedder (not an image, empty page) or model output that breaks the contract
    (image-token count disagreeing with the grid, an all-zero vector)."""


class StoreError(ColRetError, ValueError):
    """Data the page store cannot hold: zero or non-finite vectors, counts that disagree, a doc_id taken by
    another file, user metadata whose type conflicts with what the index already stores for that key."""


class OCRError(ColRetError):
    """Tesseract could not read a page image: not installed, crashed, or timed out."""


class LLMConfigError(ColRetError, ValueError):
    """An LLM spec (``--llm`` / ``COLRET_LLM``) that cannot be used: unknown provider, missing integration
    package (the message names the one to pip install), or a provider that failed to start."""


class ClusterError(ColRetError):
    """Distributed ingest that cannot run: Ray not installed (the message names the extra to install), or a
    cluster address that cannot be reached."""
