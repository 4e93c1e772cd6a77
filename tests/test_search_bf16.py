"""The bf16 scan: its error bound holds, and the bound-driven re-score gives the float32 brute-force top k,
including on near-ties far below bf16 resolution."""

from __future__ import annotations

import numpy as np
import pytest

from llama_index_colret.search.bf16 import rescore_candidates, scan_layout, scan_maxes, score_bounds
from llama_index_colret.search.maxsim import maxsim, maxsim_packed, pack, top_k
from llama_index_colret.testing.corpus import CorpusSpec, SyntheticCorpus


def _unit(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    v = rng.standard_normal(shape).astype(np.float32)  # (..., dim)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _exact_top_k(query: np.ndarray, vectors: np.ndarray, offsets: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top k by the bf16 scan and float32 re-score of its candidates (what the searchers do)."""
    layout = scan_layout(vectors, offsets, bucket=8)
    scores, bound = score_bounds(query, scan_maxes(query, layout, scan_vectors=300), layout)
    chosen = rescore_candidates(scores, bound, k)
    sub, sub_offsets = pack([vectors[offsets[i] : offsets[i + 1]] for i in chosen])
    exact = maxsim_packed(query, sub, sub_offsets)
    names = [f"d{i:04d}" for i in chosen]
    best = top_k(exact, names, np.zeros(len(chosen), np.int64), k)
    return chosen[best], exact[best]


def _brute_top_k(query: np.ndarray, vectors: np.ndarray, offsets: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    scores = np.array([maxsim(query, vectors[offsets[i] : offsets[i + 1]]) for i in range(len(offsets) - 1)])
    names = [f"d{i:04d}" for i in range(len(scores))]
    best = top_k(scores, names, np.zeros(len(scores), np.int64), k)
    return best, scores[best]


def test_bound_holds_on_pages_of_mixed_lengths() -> None:
    rng = np.random.default_rng(0)
    pages = [_unit(rng, (int(n), 32)).astype(np.float16) for n in rng.integers(1, 60, 120)]
    vectors, offsets = pack(pages)
    layout = scan_layout(vectors, offsets, bucket=8)
    assert sorted(np.concatenate(layout.pages).tolist()) == list(range(120))
    for n_q in (1, 7, 30):
        q = _unit(rng, (n_q, 32))
        scores, bound = score_bounds(q, scan_maxes(q, layout, scan_vectors=200), layout)
        ref = maxsim_packed(q, vectors, offsets)
        gap = np.abs(scores.astype(np.float64) - ref)
        assert (gap <= bound).all()
        assert gap.max() > 0  # bf16 really differs from float32 here: the test could fail
        assert bound.max() < 0.02 * n_q  # and the bound is not vacuous


def test_top_k_equals_float32_brute_force_on_corpus_pages() -> None:
    corpus = SyntheticCorpus(CorpusSpec(vocab=3_000, n_topics=20, topic_words=200))
    pages = corpus.pages(0, 2)  # (256, n_vectors, dim)
    vectors, offsets = pack(list(pages))
    for query in corpus.queries(6, pages.shape[0], seed=3):
        q = query.embedding.vectors
        rows, scores = _exact_top_k(q, vectors, offsets, 10)
        ref_rows, ref_scores = _brute_top_k(q, vectors, offsets, 10)
        assert rows.tolist() == ref_rows.tolist()
        np.testing.assert_allclose(scores, ref_scores, rtol=0, atol=2e-6)
        assert query.target in rows.tolist()


@pytest.mark.parametrize("step", [1e-6, 3e-5, 4e-4])
def test_near_ties_below_bf16_resolution_keep_the_float32_order(step: float) -> None:
    """40 pages whose MaxSim differ by ``step`` (bf16 cannot tell most of them apart) plus exact duplicates:
    the top 10 and scores are the float32 ones, duplicates ordered by the tie rule."""
    rng = np.random.default_rng(1)
    dim = 64
    q = _unit(rng, (5, dim))
    base = _unit(rng, (50, dim)) * 0.3 + 0.0
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    pages = []
    for p in range(40):
        page = base.copy()
        target = q[0] + (0.5 + p * step) * _unit(np.random.default_rng(7), (dim,))  # same direction, shifted
        page[0] = target / np.linalg.norm(target)
        pages.append(page.astype(np.float16))
    pages += [pages[17], pages[3]]  # exact duplicates: equal scores, tie broken by name
    vectors, offsets = pack(pages)
    rows, scores = _exact_top_k(q, vectors, offsets, 10)
    ref_rows, ref_scores = _brute_top_k(q, vectors, offsets, 10)
    assert rows.tolist() == ref_rows.tolist()
    np.testing.assert_allclose(scores, ref_scores, rtol=0, atol=2e-6)
    layout = scan_layout(vectors, offsets)
    bf16_scores, _ = score_bounds(q, scan_maxes(q, layout), layout)
    bf16_rows = top_k(bf16_scores, [f"d{i:04d}" for i in range(len(pages))], np.zeros(len(pages), np.int64), 10)
    assert bf16_rows.tolist() != ref_rows.tolist()  # bf16 alone gets these wrong: the re-score matters


def test_candidates_cover_everything_when_there_are_few_pages() -> None:
    assert rescore_candidates(np.array([1.0, 2.0], np.float32), np.zeros(2), 10).tolist() == [0, 1]
    assert rescore_candidates(np.array([5.0, 1.0, 4.9], np.float32), np.full(3, 0.1), 1).tolist() == [0, 2]
    with pytest.raises(ValueError, match="k must be positive"):
        rescore_candidates(np.zeros(3, np.float32), np.zeros(3), 0)
