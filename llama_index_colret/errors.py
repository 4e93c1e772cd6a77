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

import errno
import re
import threading
from pathlib import Path

# Set by the CLI's SIGINT handler: per-document error handlers re-raise an interrupt that a library turned
# into another exception (`raise_if_interrupted`), so Ctrl-C always stops the run.
INTERRUPTED = threading.Event()


def raise_if_interrupted() -> None:
    """Raise ``KeyboardInterrupt`` when Ctrl-C arrived (`INTERRUPTED`), whatever exception is being handled."""
    if INTERRUPTED.is_set():
        raise KeyboardInterrupt


# A disk that refuses writes, by errno: the environment's failure, not one document's. LanceDB's Rust errors carry
# the errno only in their text ("No space left on device (os error 28)").
DISK_PROBLEMS: dict[int, str] = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}
_RUST_OS_ERROR = re.compile(r"\(os error (\d+)\)")


def disk_problem(exc: BaseException) -> str | None:
    """What ``exc`` says is wrong with the storage (`DISK_PROBLEMS`), or None when it is no storage problem: the
    errno of an ``OSError``, else an ``(os error N)`` in the text of a LanceDB error."""
    codes = [exc.errno] if isinstance(exc, OSError) and exc.errno is not None else []
    if isinstance(exc, (OSError, RuntimeError, ValueError)):
        codes += [int(code) for code in _RUST_OS_ERROR.findall(str(exc))]
    return next((DISK_PROBLEMS[code] for code in codes if code in DISK_PROBLEMS), None)


def raise_if_disk_problem(exc: BaseException, where: str | None) -> None:
    """Raise ``exc`` when it is a `DiskError`, or a `DiskError` naming ``where`` (else the file the error names)
    when ``exc`` is a storage problem (`disk_problem`); return otherwise. Stops a batch: every later document
    would fail alike, and a failed claim would pass for another writer's."""
    if isinstance(exc, DiskError):
        raise exc
    problem = disk_problem(exc)
    if problem is not None:
        raise DiskError(where or getattr(exc, "filename", None) or "the index", problem) from exc


__all__ = [
    "ClusterError",
    "ColRetError",
    "DatasetError",
    "DiskError",
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


class DiskError(ColRetError):
    """The storage of the index refuses writes: a full disk, a read-only file system, no permission, a quota.
    It stops a batch (every later document would fail alike); the documents stored before it stay whole."""

    def __init__(self, where: str | Path, problem: str) -> None:
        self.where = str(where)
        self.problem = problem
        super().__init__(
            f"{self.where}: cannot write the index: {problem}; free space or make it writable and run again "
            "(the documents already stored stay whole, a document in progress resumes)"
        )


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
