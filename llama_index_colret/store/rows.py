"""Turning pages, embeddings and images into one Arrow table (the rows of one document), with validation."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
from PIL import Image

from ..embed.types import PageEmbedding
from ..errors import StoreError
from ..ingest.page import Page
from .schema import METADATA_KEY_RE, METADATA_PREFIX, metadata_arrow_type

ZERO_NORM = 1e-6  # a vector shorter than this is "zero": it would vanish from cosine search


def encode_png(image: Image.Image | bytes) -> tuple[bytes, int, int]:
    """PNG bytes of a page image and its ``(width, height)``; bytes already encoded are kept as they are."""
    if isinstance(image, (bytes, bytearray)):
        with Image.open(io.BytesIO(image)) as img:
            return bytes(image), img.width, img.height
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue(), image.width, image.height


def checked_vectors(emb: PageEmbedding, dim: int, where: str) -> np.ndarray:
    """The page's vectors as float16 ``(n_vectors, dim)``, refusing zero, non-finite or mis-sized ones."""
    v = np.asarray(emb.vectors)
    if v.ndim != 2 or v.shape[1] != dim:
        raise StoreError(f"{where}: vectors of shape {v.shape}, the index holds dim {dim}")
    if v.shape[0] == 0:
        raise StoreError(f"{where}: a page needs at least one vector")
    half = v.astype(np.float16)
    norms = np.linalg.norm(half.astype(np.float32), axis=1)  # (n_vectors,)
    if not np.isfinite(norms).all():
        raise StoreError(f"{where}: non-finite vector at row {int(np.argmin(np.isfinite(norms)))}")
    if (norms < ZERO_NORM).any():
        raise StoreError(
            f"{where}: vector {int(np.argmax(norms < ZERO_NORM))} is all zero (padding must be dropped before storing)"
        )
    pos = np.asarray(emb.patch_positions)
    if pos.size and (pos.min() < 0 or pos.max() >= v.shape[0]):
        raise StoreError(f"{where}: patch positions outside the {v.shape[0]} page vectors")
    return half


def split_metadata(metadata: Mapping[str, Any] | None, where: str) -> tuple[str, dict[str, Any]]:
    """The metadata as a JSON string and the promotable ``{key: value}`` scalars (identifier keys)."""
    meta = dict(metadata or {})
    try:
        as_json = json.dumps(meta, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{where}: metadata is not JSON-serialisable: {exc}") from exc
    promoted = {
        k: v
        for k, v in meta.items()
        if isinstance(k, str) and METADATA_KEY_RE.match(k) and metadata_arrow_type(v) is not None
    }
    return as_json, promoted


def document_table(
    schema: pa.Schema,
    *,
    doc_id: str,
    content_hash: str,
    file_name: str,
    path: str,
    pages: Sequence[Page],
    embeddings: Sequence[PageEmbedding],
    images: Sequence[Image.Image | bytes],
    metadata: Mapping[str, Any] | None,
    dim: int,
) -> pa.Table:
    """All rows of one document as an Arrow table in ``schema`` (which holds any promoted metadata columns)."""
    if not pages:
        raise StoreError(f"{path}: a document needs at least one page")
    if not len(pages) == len(embeddings) == len(images):
        raise StoreError(f"{path}: {len(pages)} pages, {len(embeddings)} embeddings and {len(images)} images")
    numbers = [p.number for p in pages]
    if len(set(numbers)) != len(numbers):
        raise StoreError(f"{path}: page numbers repeat: {numbers}")
    meta_json, promoted = split_metadata(metadata, path)
    rows, page_vectors = [], []
    for page, emb, image in zip(pages, embeddings, images, strict=True):
        where = f"{path}, page {page.number}"
        vectors = checked_vectors(emb, dim, where)
        page_vectors.append(vectors)
        png, w, h = encode_png(image)
        row: dict[str, Any] = {
            "doc_id": doc_id,
            "page_number": page.number,
            "content_hash": content_hash,
            "file_name": file_name,
            "path": path,
            "width_pt": float(page.width_pt),
            "height_pt": float(page.height_pt),
            "rotation": int(page.rotation),
            "dpi": int(page.dpi),
            "metadata_json": meta_json,
            "n_vectors": vectors.shape[0],
            "patch_positions": np.asarray(emb.patch_positions, dtype=np.int64).tolist(),
            "grid": emb.grid.to_dict(),
            "regions": [r.to_dict() for r in page.regions],
            "text": page.text,
            "image": png,
            "image_width": w,
            "image_height": h,
            "page_error": page.error,
        }
        row.update({METADATA_PREFIX + k: v for k, v in promoted.items()})
        rows.append(row)
    rest = pa.schema([f for f in schema if f.name != "vectors"])
    table = pa.Table.from_pylist(rows, schema=rest)
    table = table.add_column(schema.get_field_index("vectors"), schema.field("vectors"), [_vector_lists(page_vectors)])
    return table.replace_schema_metadata(schema.metadata)


def _vector_lists(page_vectors: Sequence[np.ndarray]) -> pa.Array:
    """Per-page ``(n_i, dim)`` float16 arrays as ``list<fixed_size_list<float16, dim>>`` (no Python floats)."""
    dim = page_vectors[0].shape[1]
    flat = np.concatenate(page_vectors, axis=0).reshape(-1)  # (sum n_i * dim,)
    offsets = np.concatenate([[0], np.cumsum([v.shape[0] for v in page_vectors])]).astype(np.int32)  # (n_pages + 1,)
    inner = pa.FixedSizeListArray.from_arrays(pa.array(flat, type=pa.float16()), dim)
    return pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), inner)
