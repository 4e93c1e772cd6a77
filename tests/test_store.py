"""PageStore on a real LanceDB in a temporary directory, with synthetic pages and embeddings."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image, ImageDraw

from llama_index_colret.embed.types import PageEmbedding
from llama_index_colret.errors import EmptyIndexError, FilterError, IndexMismatchError, StoreError
from llama_index_colret.geometry import BBox, PatchGrid
from llama_index_colret.ingest.page import Page, Region
from llama_index_colret.store.lance import PageStore
from llama_index_colret.store.schema import build_schema

DIM = 16
MODEL = "synthetic/model"


def unit_rows(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    v = rng.standard_normal((n, dim)).astype(np.float32)  # (n, dim)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def fake_embedding(rng: np.random.Generator, grid: PatchGrid | None = None, n_prompt: int = 3) -> PageEmbedding:
    """Prompt vectors first, then the patch vectors in raster order."""
    grid = grid or PatchGrid(3, 4)
    vectors = unit_rows(rng, n_prompt + grid.n_patches)
    return PageEmbedding(vectors, np.arange(n_prompt, n_prompt + grid.n_patches), grid)


def page_image(label: str) -> Image.Image:
    img = Image.new("RGB", (60, 80), "white")
    ImageDraw.Draw(img).text((5, 5), label, fill="black")
    return img


def fake_document(name: str, n_pages: int, seed: int) -> dict[str, Any]:
    """Keyword arguments of `PageStore.add_document` for a synthetic document."""
    rng = np.random.default_rng(seed)
    path = f"/data/{name}.pdf"
    pages = [
        Page(
            Path(path),
            i + 1,
            612.0,
            792.0,
            regions=[
                Region(f"{name} page {i + 1} title", BBox(0.1, 0.1, 0.9, 0.2)),
                Region("body", BBox(0, 0.3, 1, 1)),
            ],
        )
        for i in range(n_pages)
    ]
    return dict(
        content_hash=hashlib.sha256(f"{name}-{seed}".encode()).hexdigest(),
        file_name=f"{name}.pdf",
        path=path,
        pages=pages,
        embeddings=[fake_embedding(rng) for _ in pages],
        images=[page_image(f"{name}{i}") for i in range(n_pages)],
    )


@pytest.fixture()
def store(tmp_path: Path) -> PageStore:
    return PageStore.create(tmp_path / "db", model_name=MODEL, dim=DIM)


def test_schema_is_explicit_float16_multivector() -> None:
    schema = build_schema(DIM, MODEL)
    assert schema.field("vectors").type == pa.list_(pa.list_(pa.float16(), DIM))


def test_round_trip_of_a_page(store: PageStore) -> None:
    doc = fake_document("report", 2, seed=1)
    doc_id = store.add_document(**doc, metadata={"author": "Ann", "year": 2021, "tags": ["a", "b"]})
    assert doc_id == doc["content_hash"][:16]
    rec = store.get_page(doc_id, 2)
    emb = doc["embeddings"][1]
    assert rec.vectors.dtype == np.float16 and rec.vectors.shape == emb.vectors.shape
    np.testing.assert_allclose(rec.vectors.astype(np.float32), emb.vectors, atol=1e-3)
    np.testing.assert_array_equal(rec.patch_positions, emb.patch_positions)
    np.testing.assert_allclose(rec.patch_vectors.astype(np.float32), emb.patch_vectors, atol=1e-3)
    assert rec.grid == emb.grid
    assert rec.regions[0].text == "report page 2 title"
    assert rec.regions[0].bbox == BBox(0.1, 0.1, 0.9, 0.2)
    assert rec.text == doc["pages"][1].text
    assert rec.metadata == {"author": "Ann", "year": 2021, "tags": ["a", "b"]}
    assert (rec.width_pt, rec.height_pt, rec.file_name, rec.path) == (612.0, 792.0, "report.pdf", "/data/report.pdf")
    assert rec.image_bytes[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.array_equal(np.asarray(rec.image()), np.asarray(doc["images"][1]))  # lossless
    both = store.get_pages([(doc_id, 2), (doc_id, 1)])
    assert [r.page_number for r in both] == [2, 1]


def test_same_hash_is_a_no_op_and_delete_removes_all_pages(store: PageStore) -> None:
    a, b = fake_document("a", 3, seed=1), fake_document("b", 2, seed=2)
    id_a = store.add_document(**a)
    store.add_document(**b)
    version = store.version
    assert store.add_document(**a) is None
    assert store.version == version and store.count() == 5
    assert store.has_document(a["content_hash"]) == id_a
    assert {d.file_name: d.n_pages for d in store.documents()} == {"a.pdf": 3, "b.pdf": 2}
    assert store.delete(id_a) == 3
    assert store.count() == 2 and store.has_document(a["content_hash"]) is None
    assert store.delete(id_a) == 0
    with pytest.raises(KeyError, match="not in the index"):
        store.get_page(id_a, 1)


def test_doc_id_taken_by_another_file_is_refused(store: PageStore) -> None:
    store.add_document(**fake_document("a", 1, seed=1), doc_id="mine")
    with pytest.raises(StoreError, match="'mine' already holds another file"):
        store.add_document(**fake_document("b", 1, seed=2), doc_id="mine")


def test_reopen_and_model_mismatch(tmp_path: Path) -> None:
    uri = tmp_path / "db"
    PageStore.create(uri, model_name=MODEL, dim=DIM).add_document(**fake_document("a", 1, seed=1))
    reopened = PageStore.open(uri)
    assert (reopened.model_name, reopened.dim, reopened.count()) == (MODEL, DIM, 1)
    assert PageStore.exists(uri) and not PageStore.exists(tmp_path / "nowhere")
    with pytest.raises(IndexMismatchError, match="other/model"):
        PageStore.open(uri, model_name="other/model")
    with pytest.raises(IndexMismatchError, match="32-d"):
        PageStore.open(uri, dim=32)
    with pytest.raises(EmptyIndexError, match="no colret index"):
        PageStore.open(tmp_path / "nowhere")


def test_zero_vector_and_wrong_dim_are_refused(store: PageStore) -> None:
    doc = fake_document("z", 2, seed=3)
    doc["embeddings"][1].vectors[4] = 0.0
    with pytest.raises(StoreError, match=r"z\.pdf, page 2: vector 4 is all zero"):
        store.add_document(**doc)
    assert store.count() == 0  # nothing of the document landed
    doc = fake_document("w", 1, seed=4)
    doc["embeddings"][0].vectors = np.ones((15, DIM + 1), np.float32) / np.sqrt(DIM + 1)
    with pytest.raises(StoreError, match="dim 16"):
        store.add_document(**doc)


def test_filters_on_core_and_metadata_fields(store: PageStore) -> None:
    store.add_document(**fake_document("a", 2, seed=1), metadata={"author": "O'Brien", "year": 2020})
    store.add_document(**fake_document("b", 3, seed=2), metadata={"author": "Smith", "year": 2023, "ok": True})
    assert store.count({"author": "O'Brien"}) == 2
    assert store.count({"year": {">=": 2021}}) == 3
    assert store.count({"year": [2020, 2023], "page_number": {"lte": 2}}) == 4
    assert store.count({"ok": True}) == 3
    assert store.count({"ok": None}) == 2
    assert store.count({"file_name": {"nin": ["a.pdf"]}}) == 3
    assert store.count({"metadata.author": "Smith"}) == 3
    assert store.count({"author": "x' OR '1'='1"}) == 0  # quoted, not injected
    assert store.count({"author": "back\\slash"}) == 0
    with pytest.raises(FilterError, match="unknown filter field 'colour'.*author.*year"):
        store.count({"colour": "red"})
    with pytest.raises(FilterError, match="numeric"):
        store.count({"year": "2020"})
    with pytest.raises(FilterError, match="unsupported operator"):
        store.count({"year": {"like": 3}})


def test_metadata_type_conflict_is_refused(store: PageStore) -> None:
    store.add_document(**fake_document("a", 1, seed=1), metadata={"year": 2020})
    with pytest.raises(StoreError, match="'year'"):
        store.add_document(**fake_document("b", 1, seed=2), metadata={"year": "twenty"})
    assert store.count() == 1


def test_full_text_search_and_optimize(store: PageStore) -> None:
    id_a = store.add_document(**fake_document("alpha", 2, seed=1))
    id_b = store.add_document(**fake_document("beta", 2, seed=2))  # added after the index was built
    assert {(d, n) for d, n, _ in store.text_search("beta", k=5)} == {(id_b, 1), (id_b, 2)}
    store.optimize()
    assert {(d, n) for d, n, _ in store.text_search("alpha", k=5)} == {(id_a, 1), (id_a, 2)}
    assert store.text_search("alpha", k=5, filters={"page_number": 2})[0][:2] == (id_a, 2)
