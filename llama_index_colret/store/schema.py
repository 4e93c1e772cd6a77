"""The Arrow schema of the LanceDB "pages" table (one row per page) and the index metadata it carries.

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

TABLE_NAME = "pages"
META_KEY = b"colret"
FORMAT_VERSION = 1
IMAGE_FORMAT = "png"
METADATA_PREFIX = "m_"
METADATA_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

GRID_TYPE = pa.struct(
    [
        pa.field("n_rows", pa.int32()),
        pa.field("n_cols", pa.int32()),
        pa.field("order", pa.string()),
        pa.field("tile_rows", pa.int32()),
        pa.field("tile_cols", pa.int32()),
        pa.field("n_global", pa.int32()),
    ]
)
REGION_TYPE = pa.struct(
    [
        pa.field("text", pa.string()),
        pa.field("bbox", pa.list_(pa.float64(), 4)),  # normalised [x0, y0, x1, y1]
        pa.field("kind", pa.string()),
        pa.field("level", pa.string()),
        pa.field("source", pa.string()),
    ]
)

# Columns a filter may name directly (user metadata keys are the others).
FILTERABLE_CORE = ("doc_id", "page_number", "content_hash", "file_name", "path", "width_pt", "height_pt", "n_vectors")


def build_schema(dim: int, model_name: str) -> pa.Schema:
    """The table schema for ``dim``-dimensional vectors of ``model_name``, with the index metadata."""
    if dim <= 0:
        raise ValueError(f"vector dim must be positive, got {dim}")
    fields = [
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("page_number", pa.int32(), nullable=False),  # 1-based
        pa.field("content_hash", pa.string(), nullable=False),  # sha256 of the file's bytes
        pa.field("file_name", pa.string(), nullable=False),
        pa.field("path", pa.string(), nullable=False),
        pa.field("width_pt", pa.float64(), nullable=False),  # displayed (rotated) page size
        pa.field("height_pt", pa.float64(), nullable=False),
        pa.field("rotation", pa.int16(), nullable=False),
        pa.field("dpi", pa.int32(), nullable=False),  # resolution of the stored image
        pa.field("metadata_json", pa.string(), nullable=False),
        pa.field("n_vectors", pa.int32(), nullable=False),
        pa.field("vectors", pa.list_(pa.list_(pa.float16(), dim)), nullable=False),
        pa.field("patch_positions", pa.list_(pa.int32()), nullable=False),  # raster order -> row in vectors
        pa.field("grid", GRID_TYPE, nullable=False),
        pa.field("regions", pa.list_(REGION_TYPE), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("image", pa.binary(), nullable=False),  # PNG bytes
        pa.field("image_width", pa.int32(), nullable=False),
        pa.field("image_height", pa.int32(), nullable=False),
        pa.field("page_error", pa.string(), nullable=True),  # e.g. OCR failed: the page is kept without regions
    ]
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
