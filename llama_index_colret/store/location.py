"""Where an index lives: connecting to a LanceDB URI (local folder or object storage, with storage options),
telling a local path from a remote URI, and the one error for an index with no pages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lancedb

from ..errors import EmptyIndexError, StoreError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .lance import PageStore


def ensure_not_empty(store: PageStore) -> int:
    """Raise `empty_index` naming the URI when the index holds no pages; else the number of pages."""
    pages = store.count()
    if pages == 0:
        raise empty_index(store.uri)
    return pages


def empty_index(uri: str) -> EmptyIndexError:
    """The one error for an index without pages (absent or empty), saying how to fill it."""
    return EmptyIndexError(
        f"{uri}: no colret index here or it has no pages; add PDFs with `colret index PDF... --db {uri}`"
    )


def connect(uri: str, storage_options: Mapping[str, str] | None, read_consistency_interval: timedelta | None) -> Any:
    """A LanceDB connection; options are strings as LanceDB wants them (``allow_http=True`` -> ``"true"``)."""
    options = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in (storage_options or {}).items()}
    return lancedb.connect(uri, storage_options=options or None, read_consistency_interval=read_consistency_interval)


def local_path(uri: str, refuse_file: bool = False) -> Path | None:
    """``uri`` as a local path, or None for a remote LanceDB URI (``s3://``, ``db://``, ...); with
    ``refuse_file``, StoreError when the path is a file (an index is a directory)."""
    if "://" in uri and not uri.startswith("file://"):
        return None
    path = Path(uri.removeprefix("file://"))
    if refuse_file and path.is_file():
        raise StoreError(f"{uri}: is a file, not an index directory; give a directory or a LanceDB URI")
    above = next((p for p in path.absolute().parents if p.exists()), None)
    if refuse_file and above is not None and not above.is_dir():
        raise StoreError(f"{uri}: {above} is a file, so no index directory can be made under it")
    return path
