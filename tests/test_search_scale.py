"""Search that scales, on real LanceDB tables of synthetic word-patch pages: the exact searcher (bf16 scan)
and the two-stage searcher return the float32 brute-force top k; filters, add and delete in both;
`auto` switches at its threshold; an old table gets its first stage from `build_search_index`."""

from __future__ import annotations

import numpy as np
import pytest

from llama_index_colret.embed.types import QueryEmbedding
from llama_index_colret.errors import StoreError
from llama_index_colret.search import searcher_for
from llama_index_colret.search.exact import ExactSearcher
from llama_index_colret.search.hits import content_vectors, query_matrix
from llama_index_colret.search.maxsim import maxsim, top_k
from llama_index_colret.search.scan import rescore_rows
from llama_index_colret.search.two_stage import TwoStageSearcher
from llama_index_colret.store.first_stage import FIRST_STAGE_COLUMN
from llama_index_colret.store.lance import PageStore
from llama_index_colret.store.row_ids import has_first_stage, iter_rows
from llama_index_colret.testing.corpus import CorpusSpec, SyntheticCorpus, write_corpus

SPEC = CorpusSpec(vocab=3_000, n_topics=20, topic_words=200, pages_per_doc=16, seed=5)
Ref = list[tuple[tuple[str, int], float]]


@pytest.fixture(scope="module")
def corpus() -> SyntheticCorpus:
    return SyntheticCorpus(SPEC)


def shelf(doc: int) -> dict[str, int]:
    return {"shelf": doc % 3}


@pytest.fixture()
def store(tmp_path, corpus: SyntheticCorpus) -> PageStore:
    store = PageStore.create(tmp_path / "db", model_name="synthetic/corpus", dim=SPEC.dim)
    write_corpus(store, corpus, 0, 256, pages_per_doc=16, metadata=shelf)
    return store


def brute_force(store: PageStore, q: np.ndarray, k: int, on_shelf: int | None = None) -> Ref:
    """float32 MaxSim of every stored page: the reference both searchers must equal."""
    pages = []
    for doc in store.documents():
        if on_shelf is None or doc.metadata["shelf"] == on_shelf:
            pages += [((doc.doc_id, n), maxsim(q, store.get_page(doc.doc_id, n).vectors)) for n in range(1, 17)]
    order = top_k(np.array([s for _, s in pages]), [d for (d, _), _ in pages], [n for (_, n), _ in pages], k)
    return [pages[i] for i in order]


def assert_same(hits: list, ref: Ref) -> None:
    assert [(h.doc_id, h.page_number) for h in hits] == [key for key, _ in ref]
    np.testing.assert_allclose([h.score for h in hits], [s for _, s in ref], rtol=0, atol=2e-6)


@pytest.mark.parametrize("mode", ["exact", "two_stage"])
def test_equals_brute_force_with_filters_add_and_delete(store: PageStore, corpus: SyntheticCorpus, mode: str) -> None:
    """Both modes give the brute-force top 10 (two-stage: 512 candidates cover the 256- then 384-page table)."""
    searcher = searcher_for(store, mode=mode)
    if mode == "two_stage":
        report = store.build_search_index()
        assert report.trained and report.indexed_rows == 256
        searcher = TwoStageSearcher(store, candidates=512)
    queries = corpus.queries(3, 256, seed=2)
    for query in queries:
        q = query_matrix(query.embedding, store)
        hits = searcher.search(query.embedding, k=10)
        assert_same(hits, brute_force(store, q, 10))
        assert (query.target // 16, query.target % 16 + 1) in [(int(h.doc_id[3:]), h.page_number) for h in hits]
    q = query_matrix(queries[0].embedding, store)
    assert_same(searcher.search(q, k=5, filters={"shelf": 1}), brute_force(store, q, 5, on_shelf=1))
    top_doc = searcher.search(q, k=1)[0].doc_id
    store.delete(top_doc)
    assert top_doc not in {h.doc_id for h in searcher.search(q, k=10)}
    assert_same(searcher.search(q, k=10), brute_force(store, q, 10))
    write_corpus(store, corpus, 256, 128, pages_per_doc=16, metadata=shelf)  # added after the index
    new = corpus.queries(2, 128, seed=9)
    for query in new:
        target = 256 + query.target  # queries of pages 0..127 drawn again from pages 256..383
        q = query_matrix(corpus.query(target, np.random.default_rng(target)).embedding, store)
        hits = searcher.search(q, k=10)
        assert_same(hits, brute_force(store, q, 10))
        assert f"doc{target // 16:07d}" in {h.doc_id for h in hits}


def test_two_stage_index_refresh_and_old_tables(store: PageStore, corpus: SyntheticCorpus) -> None:
    """A table without the column gets it filled; a refresh retrains only when rows are not indexed."""
    store._table.drop_columns([FIRST_STAGE_COLUMN])
    assert not has_first_stage(store)
    with pytest.raises(StoreError, match="colret optimize"):
        TwoStageSearcher(store).search(corpus.queries(1, 256)[0].embedding)
    report = store.build_search_index()
    assert (report.filled_rows, report.trained, report.indexed_rows) == (256, True, 256)
    write_corpus(store, corpus, 256, 128, pages_per_doc=16, metadata=shelf)
    refresh = store.build_search_index()
    assert (refresh.filled_rows, refresh.trained, refresh.indexed_rows) == (0, True, 384)
    assert not store.build_search_index().trained  # all indexed: nothing to do
    q = query_matrix(corpus.queries(1, 256, seed=4)[0].embedding, store)
    assert_same(TwoStageSearcher(store, candidates=512).search(q, k=10), brute_force(store, q, 10))


def test_auto_switches_at_the_threshold(store: PageStore) -> None:
    auto = searcher_for(store, mode="auto", threshold=256)
    assert isinstance(auto.current(), ExactSearcher)  # 256 pages: not above the threshold
    assert isinstance(searcher_for(store, mode="auto", threshold=255).current(), TwoStageSearcher)
    with pytest.raises(ValueError, match="auto, exact, two_stage"):
        searcher_for(store, mode="fast")


def test_ann_query_is_the_content_vectors(corpus: SyntheticCorpus, store: PageStore) -> None:
    """Augmentation tokens choose no candidates (they match no word); a bare array, or a query of augmentation
    tokens only, is used whole."""
    emb = corpus.query(3, np.random.default_rng(0)).embedding
    q = query_matrix(emb, store)
    words = int((~emb.augmentation).sum())
    np.testing.assert_array_equal(content_vectors(emb, q), emb.vectors[:words])
    np.testing.assert_array_equal(content_vectors(emb.vectors, q), q)
    only_aug = QueryEmbedding(emb.vectors, emb.tokens, np.ones(len(emb.tokens), dtype=bool))
    np.testing.assert_array_equal(content_vectors(only_aug, q), q)
    hits = TwoStageSearcher(store, candidates=256).search(only_aug, k=5)
    assert_same(hits, brute_force(store, q, 5))


def test_default_candidates_follow_the_table_size(
    store: PageStore, corpus: SyntheticCorpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``candidates`` each search re-scores `candidates_for(pages)`, read again as the table grows."""
    import llama_index_colret.search.two_stage as two_stage

    asked: list[int] = []
    real = two_stage.first_stage_rows

    def counting(store_: PageStore, query: np.ndarray, n: int, where: str | None, *, nprobes: int) -> np.ndarray:
        asked.append(n)
        return real(store_, query, n, where, nprobes=nprobes)

    monkeypatch.setattr(two_stage, "first_stage_rows", counting)
    monkeypatch.setattr(two_stage, "MIN_CANDIDATES", 10)
    monkeypatch.setattr(two_stage, "PAGES_PER_CANDIDATE", 2)
    searcher, q = TwoStageSearcher(store), corpus.queries(1, 256, seed=2)[0].embedding
    hits = searcher.search(q, k=10)
    write_corpus(store, corpus, 256, 128, pages_per_doc=16, metadata=shelf)
    searcher.search(q, k=10)
    assert asked == [128, 192]  # 256 pages / 2, then 384 / 2
    assert len(hits) == 10 and TwoStageSearcher(store, candidates=7).search(q, k=3) and asked[-1] == 7


def test_rescore_in_concurrent_parts_keeps_the_order_asked(store: PageStore, corpus: SyntheticCorpus) -> None:
    """Candidates read in several concurrent takes come back in the order asked, each scored exactly."""
    batches = list(iter_rows(store, ["doc_id", "page_number"]))
    keys = [(r["doc_id"], r["page_number"]) for b in batches for r in b.select(["doc_id", "page_number"]).to_pylist()]
    row_ids = np.concatenate([b.column("_rowid").to_numpy() for b in batches])
    order = np.random.default_rng(2).permutation(len(row_ids))[:200]  # (200,) shuffled: 4 parts of 50
    q = corpus.queries(1, 256, seed=3)[0].embedding.vectors
    ref = [maxsim(q, store.get_page(*keys[i]).vectors) for i in order]
    for parts in (1, 4):
        got_keys, scores = rescore_rows(store, q, row_ids[order], parts=parts)
        assert list(zip(got_keys.doc_ids, got_keys.page_numbers.tolist(), strict=True)) == [keys[i] for i in order]
        np.testing.assert_allclose(scores, ref, rtol=0, atol=2e-6)
