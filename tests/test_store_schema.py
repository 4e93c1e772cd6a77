"""The page row declared once: the derived schema equals the explicit one indexes were built with, a table
created from that literal schema still opens, takes documents and searches, and a changed column is refused."""

from __future__ import annotations

import json
from pathlib import Path

import lancedb
import numpy as np
import pyarrow as pa
import pytest

from llama_index_colret.errors import IndexMismatchError
from llama_index_colret.search.exact import ExactSearcher
from llama_index_colret.search.maxsim import maxsim
from llama_index_colret.store.lance import PageStore
from llama_index_colret.store.schema import build_schema

from .test_store import DIM, MODEL, fake_document


def old_schema(dim: int, model_name: str, page_number: pa.DataType | None = None) -> pa.Schema:
    """The Arrow schema as `store/schema.py` spelled it out column by column before `PageRecord` declared it."""
    grid_type = pa.struct(
        [
            pa.field("n_rows", pa.int32()),
            pa.field("n_cols", pa.int32()),
            pa.field("order", pa.string()),
            pa.field("tile_rows", pa.int32()),
            pa.field("tile_cols", pa.int32()),
            pa.field("n_global", pa.int32()),
        ]
    )
    region_type = pa.struct(
        [
            pa.field("text", pa.string()),
            pa.field("bbox", pa.list_(pa.float64(), 4)),
            pa.field("kind", pa.string()),
            pa.field("level", pa.string()),
            pa.field("source", pa.string()),
        ]
    )
    fields = [
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("page_number", page_number or pa.int32(), nullable=False),
        pa.field("content_hash", pa.string(), nullable=False),
        pa.field("file_name", pa.string(), nullable=False),
        pa.field("path", pa.string(), nullable=False),
        pa.field("width_pt", pa.float64(), nullable=False),
        pa.field("height_pt", pa.float64(), nullable=False),
        pa.field("rotation", pa.int16(), nullable=False),
        pa.field("dpi", pa.int32(), nullable=False),
        pa.field("metadata_json", pa.string(), nullable=False),
        pa.field("n_vectors", pa.int32(), nullable=False),
        pa.field("vectors", pa.list_(pa.list_(pa.float16(), dim)), nullable=False),
        pa.field("patch_positions", pa.list_(pa.int32()), nullable=False),
        pa.field("grid", grid_type, nullable=False),
        pa.field("regions", pa.list_(region_type), nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("image", pa.binary(), nullable=False),
        pa.field("image_width", pa.int32(), nullable=False),
        pa.field("image_height", pa.int32(), nullable=False),
        pa.field("page_error", pa.string(), nullable=True),
    ]
    meta = {"format_version": 1, "model_name": model_name, "dim": dim, "image_format": "png"}
    return pa.schema(fields, metadata={b"colret": json.dumps(meta).encode()})


def test_derived_schema_equals_the_explicit_one() -> None:
    built = build_schema(DIM, MODEL)
    assert built.equals(old_schema(DIM, MODEL), check_metadata=True)
    assert [f.nullable for f in built] == [f.nullable for f in old_schema(DIM, MODEL)]


def test_table_built_with_the_old_schema_opens_stores_and_searches(tmp_path: Path) -> None:
    uri = str(tmp_path / "db")
    lancedb.connect(uri).create_table("pages", schema=old_schema(DIM, MODEL))
    store = PageStore.open(uri)
    assert (store.model_name, store.dim) == (MODEL, DIM)
    doc = fake_document("old", 3, seed=5)
    doc_id = store.add_document(**doc, metadata={"year": 2020})
    query = doc["embeddings"][2].vectors[:4]  # page 3 matches itself best
    hits = ExactSearcher(store).search(query, k=3)
    assert [(h.doc_id, h.page_number) for h in hits][0] == (doc_id, 3)
    rec = store.get_page(doc_id, 3)
    assert hits[0].score == pytest.approx(maxsim(query, rec.vectors), abs=1e-3)
    assert (rec.metadata, rec.regions, rec.grid) == ({"year": 2020}, doc["pages"][2].regions, doc["embeddings"][2].grid)
    np.testing.assert_array_equal(rec.patch_positions, doc["embeddings"][2].patch_positions)
    assert store.count({"year": 2020}) == 3


def test_a_column_of_another_type_is_refused_with_how_to_rebuild(tmp_path: Path) -> None:
    uri = str(tmp_path / "db")
    lancedb.connect(uri).create_table("pages", schema=old_schema(DIM, MODEL, page_number=pa.int64()))
    with pytest.raises(IndexMismatchError, match=r"column 'page_number' is int64.*int32; rebuild the index"):
        PageStore.open(uri)
