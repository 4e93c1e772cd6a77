"""Turning pages, embeddings and images into `PageRecord`s and one Arrow table (the rows of one document),
with validation."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
from PIL import Image

from ..embed.types import PageEmbedding
from ..errors import StoreError
from ..ingest.page import Page
from .records import DocumentInfo, PageRecord, metadata_json
from .schema import METADATA_KEY_RE, METADATA_PREFIX, ZERO_NORM, metadata_arrow_type


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


def promoted_metadata(metadata: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The promotable ``{key: value}`` scalars of the metadata (identifier keys); StoreError when the
    metadata cannot be stored as JSON."""
    try:
        metadata_json(dict(metadata))
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{where}: metadata is not JSON-serialisable: {exc}") from exc
    return {
        k: v
        for k, v in metadata.items()
        if isinstance(k, str) and METADATA_KEY_RE.match(k) and metadata_arrow_type(v) is not None
    }


def page_records(
    doc: DocumentInfo,
    pages: Sequence[Page],
    embeddings: Sequence[PageEmbedding],
    images: Sequence[Image.Image | bytes],
    dim: int,
) -> list[PageRecord]:
    """The `PageRecord` of every page of ``doc``, checked (vectors, counts, page numbers) and PNG-encoded."""
    if not pages:
        raise StoreError(f"{doc.path}: a document needs at least one page")
    if not len(pages) == len(embeddings) == len(images):
        raise StoreError(f"{doc.path}: {len(pages)} pages, {len(embeddings)} embeddings and {len(images)} images")
    numbers = [p.number for p in pages]
    if len(set(numbers)) != len(numbers):
        raise StoreError(f"{doc.path}: page numbers repeat: {numbers}")
    records = []
    for page, emb, image in zip(pages, embeddings, images, strict=True):
        png, w, h = encode_png(image)
        records.append(
            PageRecord(
                doc_id=doc.doc_id,
                page_number=page.number,
                content_hash=doc.content_hash,
                file_name=doc.file_name,
                path=doc.path,
                width_pt=float(page.width_pt),
                height_pt=float(page.height_pt),
                rotation=int(page.rotation),
                dpi=int(page.dpi),
                metadata=doc.metadata,
                vectors=checked_vectors(emb, dim, f"{doc.path}, page {page.number}"),
                patch_positions=np.asarray(emb.patch_positions, dtype=np.int64),
                grid=emb.grid,
                regions=list(page.regions),
                text=page.text,
                image_bytes=png,
                image_width=w,
                image_height=h,
                page_error=page.error,
            )
        )
    return records


def records_table(schema: pa.Schema, records: Sequence[PageRecord], promoted: Mapping[str, Any]) -> pa.Table:
    """Records as an Arrow table in ``schema``, with the promoted ``m_<key>`` metadata values on every row."""
    extra = {METADATA_PREFIX + k: v for k, v in promoted.items()}
    rest = pa.schema([f for f in schema if f.name != "vectors"])
    table = pa.Table.from_pylist([r.to_row() | extra for r in records], schema=rest)
    vectors = _vector_lists([r.vectors for r in records])
    table = table.add_column(schema.get_field_index("vectors"), schema.field("vectors"), [vectors])
    return table.replace_schema_metadata(schema.metadata)


def _vector_lists(page_vectors: Sequence[np.ndarray]) -> pa.Array:
    """Per-page ``(n_i, dim)`` float16 arrays as ``list<fixed_size_list<float16, dim>>`` (no Python floats)."""
    dim = page_vectors[0].shape[1]
    flat = np.concatenate(page_vectors, axis=0).reshape(-1)  # (sum n_i * dim,)
    offsets = np.concatenate([[0], np.cumsum([v.shape[0] for v in page_vectors])]).astype(np.int32)  # (n_pages + 1,)
    inner = pa.FixedSizeListArray.from_arrays(pa.array(flat, type=pa.float16()), dim)
    return pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), inner)
