"""Exact MaxSim: pure scoring against references, and top-k over a real LanceDB store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from llama_index_colret.embed.types import QueryEmbedding
from llama_index_colret.errors import EmptyIndexError, FilterError, IndexMismatchError
from llama_index_colret.search.exact import ExactSearcher
from llama_index_colret.search.maxsim import maxsim, maxsim_packed, maxsim_padded, pack, page_chunks, top_k
from llama_index_colret.store.lance import PageStore

from .test_store import DIM, MODEL, fake_document, unit_rows


def brute_force(query: np.ndarray, pages: list[np.ndarray]) -> np.ndarray:
    """Reference MaxSim: a Python loop over pages and query tokens."""
    out = []
    for page in pages:
        out.append(sum(max(float(q @ d) for d in page) for q in query))
    return np.array(out)


def test_maxsim_known_value() -> None:
    q = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)  # (2, 2)
    d = np.array([[0.6, 0.8], [1.0, 0.0], [0.0, -1.0]], np.float32)  # (3, 2)
    assert maxsim(q, d) == pytest.approx(1.0 + 0.8)


def test_packed_pages_of_one_length_equal_brute_force() -> None:
    """Runs whose pages all have one length take the reshape path; mixed runs the segmented one."""
    rng = np.random.default_rng(3)
    same = [unit_rows(rng, 6) for _ in range(7)]
    mixed = same[:3] + [unit_rows(rng, 4), unit_rows(rng, 8)] + same[3:]  # lengths 6, 6, 6, 4, 8, 6, ...
    query = unit_rows(rng, 5)
    for pages in (same, mixed):
        vectors, offsets = pack(pages)
        ref = brute_force(query, pages)
        for chunk in (6, 12, 18, 1_000):  # one page, two pages, three pages or all pages per run
            np.testing.assert_allclose(maxsim_packed(query, vectors, offsets, chunk_vectors=chunk), ref, atol=1e-5)


def test_packed_float16_read_only_and_threaded_equal_float32_brute_force() -> None:
    """Each worker converts its runs into one reused buffer: read-only float16 input (zero-copy Arrow
    memory), runs of different sizes in one worker, and 1 or 3 workers all give float32 brute force."""
    rng = np.random.default_rng(4)
    pages = [unit_rows(rng, n).astype(np.float16) for n in (6, 6, 20, 3, 6, 11, 6, 1)]
    query = unit_rows(rng, 5)
    ref = brute_force(query, [p.astype(np.float32) for p in pages])  # the float16 values, exactly
    vectors, offsets = pack(pages)
    vectors.flags.writeable = False
    for threads in (1, 3):
        for chunk in (6, 13):
            got = maxsim_packed(query, vectors, offsets, chunk_vectors=chunk, threads=threads)
            np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-6)


def test_padded_and_packed_equal_brute_force() -> None:
    rng = np.random.default_rng(0)
    pages = [unit_rows(rng, n) for n in (5, 1, 17, 9, 30)]
    query = unit_rows(rng, 7)
    ref = brute_force(query, pages)
    vectors, offsets = pack(pages)
    np.testing.assert_allclose(maxsim_packed(query, vectors, offsets), ref, atol=1e-5)
    np.testing.assert_allclose(maxsim_packed(query, vectors, offsets, chunk_vectors=3), ref, atol=1e-5)
    np.testing.assert_allclose(maxsim_packed(query, vectors.astype(np.float16), offsets), ref, atol=1e-2)
    padded = np.zeros((len(pages), 30, DIM), np.float32)  # (n_pages, n_v_max, dim)
    mask = np.zeros((len(pages), 30), bool)
    for i, p in enumerate(pages):
        padded[i, : len(p)], mask[i, : len(p)] = p, True
    np.testing.assert_allclose(maxsim_padded(query, padded, mask), ref, atol=1e-5)
    np.testing.assert_allclose([maxsim(query, p) for p in pages], ref, atol=1e-5)


def test_page_chunks_cover_every_page_once() -> None:
    offsets = np.array([0, 5, 6, 23, 32, 62])
    for budget in (1, 4, 10, 100):
        runs = page_chunks(offsets, budget)
        assert [p for a, b in runs for p in range(a, b)] == list(range(5))


def test_top_k_breaks_ties_by_doc_then_page() -> None:
    scores = np.array([1.0, 2.0, 2.0, 2.0, 0.5])
    order = top_k(scores, ["b", "b", "a", "b", "a"], [1, 3, 9, 2, 1], k=4)
    assert order.tolist() == [2, 3, 1, 0]


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[PageStore, dict[tuple[str, int], np.ndarray]]:
    """A store of 6 documents (23 pages) and the float16-rounded vectors of every page by key."""
    store = PageStore.create(tmp_path_factory.mktemp("search") / "db", model_name=MODEL, dim=DIM)
    vectors = {}
    for i, n_pages in enumerate((3, 5, 1, 6, 4, 4)):
        doc = fake_document(f"doc{i}", n_pages, seed=10 + i)
        doc_id = store.add_document(**doc, metadata={"group": "even" if i % 2 == 0 else "odd", "rank": i})
        for page, emb in zip(doc["pages"], doc["embeddings"], strict=True):
            vectors[(doc_id, page.number)] = emb.vectors.astype(np.float16).astype(np.float32)
    return store, vectors


def reference_ranking(query: np.ndarray, vectors: dict, keys: list) -> list[tuple[tuple[str, int], float]]:
    scores = brute_force(query, [vectors[k] for k in keys])
    return sorted(zip(keys, scores, strict=True), key=lambda ks: (-ks[1], ks[0][0], ks[0][1]))


@pytest.mark.parametrize("cache", [True, False])
def test_search_equals_brute_force(filled: tuple, cache: bool) -> None:
    store, vectors = filled
    searcher = ExactSearcher(store, cache=cache, batch_pages=4, chunk_vectors=40)
    rng = np.random.default_rng(5)
    for _ in range(3):
        query = unit_rows(rng, 9)
        ref = reference_ranking(query, vectors, list(vectors))[:7]
        hits = searcher.search(query, k=7)
        assert [(h.doc_id, h.page_number) for h in hits] == [k for k, _ in ref]
        np.testing.assert_allclose([h.score for h in hits], [s for _, s in ref], atol=1e-3)
        np.testing.assert_allclose([h.normalized_score for h in hits], [s / 9 for _, s in ref], atol=1e-4)


@pytest.mark.parametrize("cache", [True, False])
def test_search_with_filter_pushed_down(filled: tuple, cache: bool) -> None:
    store, vectors = filled
    searcher = ExactSearcher(store, cache=cache, batch_pages=3)
    query = unit_rows(np.random.default_rng(6), 5)
    allowed = {(d, n) for d, n in zip(*store.page_keys({"group": "odd", "page_number": {">": 1}}), strict=True)}
    assert len(allowed) == 5 + 6 + 4 - 3
    ref = reference_ranking(query, vectors, sorted(allowed))
    hits = searcher.search(query, k=100, filters={"group": "odd", "page_number": {">": 1}})
    assert [(h.doc_id, h.page_number) for h in hits] == [k for k, _ in ref]
    assert searcher.search(query, k=3, filters={"rank": 99}) == []
    with pytest.raises(FilterError, match="unknown filter field 'nope'"):
        searcher.search(query, k=3, filters={"nope": 1})


def test_query_embedding_zero_vectors_dropped_and_hit_loads_record(filled: tuple) -> None:
    store, vectors = filled
    rng = np.random.default_rng(7)
    q = unit_rows(rng, 4)
    with_zero = np.vstack([q, np.zeros((2, DIM), np.float32)])  # (6, dim)
    emb = QueryEmbedding(with_zero, ["a", "b", "c", "d", "<pad>", "<pad>"], np.array([0, 0, 0, 0, 1, 1], bool))
    hits = ExactSearcher(store).search(emb, k=2)
    ref = reference_ranking(q, vectors, list(vectors))[:2]
    assert [(h.doc_id, h.page_number) for h in hits] == [k for k, _ in ref]
    assert hits[0].n_query_vectors == 4 and hits[0].normalized_score == pytest.approx(hits[0].score / 4)
    rec = hits[0].record()
    assert (rec.doc_id, rec.page_number) == (hits[0].doc_id, hits[0].page_number)
    with pytest.raises(IndexMismatchError, match="8-d"):
        ExactSearcher(store).search(unit_rows(rng, 3, dim=8))


def test_cache_follows_writes(tmp_path: Path) -> None:
    store = PageStore.create(tmp_path / "db", model_name=MODEL, dim=DIM)
    searcher = ExactSearcher(store)
    with pytest.raises(EmptyIndexError):
        searcher.search(unit_rows(np.random.default_rng(0), 3))
    doc_a = fake_document("a", 2, seed=1)
    id_a = store.add_document(**doc_a)
    query = doc_a["embeddings"][1].vectors[:5]  # page 2 of a matches itself best
    assert (searcher.search(query, k=1)[0].doc_id, searcher.search(query, k=1)[0].page_number) == (id_a, 2)
    doc_b = fake_document("b", 1, seed=2)
    id_b = store.add_document(**doc_b)
    assert searcher.search(doc_b["embeddings"][0].vectors[:5], k=1)[0].doc_id == id_b  # cache reloaded
    store.delete(id_b)
    assert {h.doc_id for h in searcher.search(query, k=10)} == {id_a}
