"""The Arrow schema of the LanceDB "pages" table (one row per page, columns declared by `PageRecord`) and
the index metadata it carries.

Choices:
- ``vectors`` is ``list<fixed_size_list<float16, dim>>``: half the bytes of float32 on disk and in the
  search cache, and well inside 1e-3 of float32 MaxSim for unit vectors.
- ``image`` holds the rendered page as **PNG** bytes in the row: lossless, so crops of small print stay
  sharp for the LLM and for OCR, and text pages compress well (typically 50-250 KB at 150 dpi); the row
  is self-contained, so crops and overlays work without the original PDF and the store moves as one
  directory or bucket.
- User metadata is kept twice: exactly, as a JSON string (``metadata_json``), and, for every key that is
  an identifier with a scalar value (str, int, float, bool), as a promoted nullable column
  ``m_<key>`` added on first use, so filters on it are pushed down to LanceDB ``.where()`` with every
  comparison operator.
- The model name and vector size live in the schema metadata under ``colret``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pyarrow as pa

from ..errors import IndexMismatchError
from .records import PAGE_COLUMNS

TABLE_NAME = "pages"
META_KEY = b"colret"
FORMAT_VERSION = 1
IMAGE_FORMAT = "png"
METADATA_PREFIX = "m_"
METADATA_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

ZERO_NORM = 1e-6  # a vector shorter than this is "zero": it would vanish from cosine search, so it is never stored

# Columns a filter may name directly (user metadata keys are the others).
FILTERABLE_CORE = tuple(c.name for _, c in PAGE_COLUMNS if c.filterable)


def build_schema(dim: int, model_name: str) -> pa.Schema:
    """The table schema (the columns `PageRecord` declares) for ``dim``-d vectors of ``model_name``, with the
    index metadata."""
    if dim <= 0:
        raise ValueError(f"vector dim must be positive, got {dim}")
    multivector = pa.list_(pa.list_(pa.float16(), dim))
    fields = [pa.field(c.name, c.type or multivector, nullable=c.nullable) for _, c in PAGE_COLUMNS]
    meta = {"format_version": FORMAT_VERSION, "model_name": model_name, "dim": dim, "image_format": IMAGE_FORMAT}
    return pa.schema(fields, metadata={META_KEY: json.dumps(meta).encode()})


def read_index_meta(schema: pa.Schema, uri: str) -> dict[str, Any]:
    """The ``colret`` metadata of a table schema (model name, dim); a clear error when it is missing."""
    raw = (schema.metadata or {}).get(META_KEY)
    if raw is None:
        raise IndexMismatchError(f"{uri}: table '{TABLE_NAME}' was not written by llama-index-colret (no metadata)")
    meta = json.loads(raw)
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise IndexMismatchError(
            f"{uri}: index format {meta['format_version']} is newer than this library reads ({FORMAT_VERSION})"
        )
    return meta


def check_columns(schema: pa.Schema, uri: str) -> None:
    """Refuse a table whose page columns differ from `PageRecord`'s (missing or of another type), saying how
    to rebuild; promoted ``m_<key>`` columns are the table's own."""
    want = build_schema(int(read_index_meta(schema, uri)["dim"]), "")
    for f in want:
        have = schema.field(f.name).type if f.name in schema.names else None
        if have != f.type:
            raise IndexMismatchError(
                f"{uri}: column {f.name!r} is {have or 'missing'}, this version stores {f.type}; rebuild the index "
                "into a new directory (`colret index PDF... --db NEW_DIR`)"
            )


def metadata_arrow_type(value: Any) -> pa.DataType | None:
    """The promoted column type of a metadata value, or None when it is not a filterable scalar."""
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64()
    if isinstance(value, float):
        return pa.float64()
    if isinstance(value, str):
        return pa.string()
    return None


def metadata_columns(schema: pa.Schema) -> dict[str, pa.DataType]:
    """Promoted user-metadata columns of a schema: ``{key: type}`` (key without the prefix)."""
    return {
        f.name[len(METADATA_PREFIX) :]: f.type
        for f in schema
        if f.name.startswith(METADATA_PREFIX) and f.name not in FILTERABLE_CORE
    }
