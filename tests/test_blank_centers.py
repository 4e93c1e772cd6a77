"""Blank runs left out of the first stage: centers learnt from stored pages recover empty paper, exactly the
runs without ink are dropped, centers are made once (in the write path at the trigger, or by the index
build) and never changed, and two-stage search over a table of mixed first stages still equals brute force."""

from __future__ import annotations

import numpy as np
import pytest

import llama_index_colret.store.blank_centers as bc
from llama_index_colret.geometry import PatchGrid
from llama_index_colret.search.first_stage import blank_centers, first_stage_vectors
from llama_index_colret.search.hits import query_matrix
from llama_index_colret.search.two_stage import TwoStageSearcher
from llama_index_colret.store.blank_centers import CENTERS_TABLE, ensure_centers, load_centers
from llama_index_colret.store.first_stage import FIRST_STAGE_COLUMN
from llama_index_colret.store.lance import PageStore
from llama_index_colret.testing.corpus import BLOCK, SyntheticCorpus, write_corpus

from .test_search_scale import SPEC, assert_same, brute_force

N_RUNS = SPEC.n_rows * SPEC.n_cols // 2  # pooled pairs of a full first stage


@pytest.fixture(scope="module")
def corpus() -> SyntheticCorpus:
    return SyntheticCorpus(SPEC)


def inked_runs(corpus: SyntheticCorpus, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Per page of ``block``, ``(BLOCK, n_runs)``: runs under a word by at least 0.3 of a cell or a figure,
    and runs no word touches and no figure covers (the layout's own truth, no vectors)."""
    s, text = corpus.spec, corpus.block_text(block)
    ink = np.zeros((BLOCK, s.n_rows, s.n_cols))  # largest word overlap of each cell
    for off in range(6):
        c = np.floor(text.x0).astype(int) + off
        overlap = np.minimum(text.x1, c + 1) - np.maximum(text.x0, c)
        ok = (overlap > 0) & (c < s.n_cols)
        np.maximum.at(ink, (text.page[ok], text.row[ok], c[ok]), overlap[ok])
    ink[:, :, 3 : s.n_cols - 3] += text.figure_rows[:, :, None]
    runs = ink.reshape(BLOCK, s.n_rows, s.n_cols // 2, 2).max(axis=3).reshape(BLOCK, -1)  # (BLOCK, n_runs)
    return runs >= 0.3, runs == 0


def test_centers_find_empty_paper_and_only_blank_runs_are_dropped(corpus: SyntheticCorpus) -> None:
    s = corpus.spec
    cells = corpus.pages(0, 2)[:, s.n_prompt :]  # (256, n_cells, dim) raster cells
    centers = blank_centers(cells)
    margin = np.arange(2 * s.n_cols)  # the two top rows are margin on every page: empty paper
    assert np.einsum("cd,cd->c", centers[margin], corpus.cell_background[margin]).min() > 0.99
    pages = corpus.block(2)  # pages the centers were not learnt from
    inked, empty = inked_runs(corpus, 2)
    positions, grid = np.arange(s.n_prompt, s.n_vectors), PatchGrid(s.n_rows, s.n_cols)
    for p in range(0, BLOCK, 9):
        full = first_stage_vectors(pages[p], positions, grid)
        kept = first_stage_vectors(pages[p], positions, grid, centers)
        is_kept = np.isclose(full[:, None], kept[None], atol=1e-6).all(axis=2).any(axis=1)  # (n_runs,)
        assert is_kept[inked[p]].all(), p  # every inked run stays
        assert not is_kept[empty[p]].any(), p  # no run of empty paper does
        assert full.shape[0] == N_RUNS and kept.shape[0] < 0.8 * N_RUNS


def run_lengths(store: PageStore) -> dict[str, list[int]]:
    rows = store.table.search().select(["doc_id", FIRST_STAGE_COLUMN]).limit(None).to_arrow()
    out: dict[str, list[int]] = {}
    for doc, fs in zip(rows.column("doc_id").to_pylist(), rows.column(FIRST_STAGE_COLUMN).to_pylist(), strict=True):
        out.setdefault(doc, []).append(len(fs))
    return out


def test_centers_made_once_then_new_pages_are_compact_and_search_stays_exact(tmp_path, corpus: SyntheticCorpus) -> None:
    store = PageStore.create(tmp_path / "db", model_name="synthetic/corpus", dim=SPEC.dim)
    write_corpus(store, corpus, 0, 256, pages_per_doc=16)
    db = store._connection()
    assert ensure_centers(db, store.table, SPEC.dim, min_pages=257) == 0  # too few pages yet
    assert ensure_centers(db, store.table, SPEC.dim, min_pages=256, min_grid_pages=64) == 1
    before = load_centers(db, SPEC.dim)
    assert ensure_centers(db, store.table, SPEC.dim, min_pages=256) == 0  # made once, never remade
    write_corpus(store, corpus, 256, 128, pages_per_doc=16)
    ((key, centers),) = load_centers(db, SPEC.dim).items()
    np.testing.assert_array_equal(centers, before[key])
    lengths = run_lengths(store)
    assert all(n == N_RUNS for d in range(16) for n in lengths[f"doc{d:07d}"])  # written before: every run
    assert all(n < 0.8 * N_RUNS for d in range(16, 24) for n in lengths[f"doc{d:07d}"])  # after: no blank run
    assert store.build_search_index().centers_made == 0  # the grid has its centers already
    searcher = TwoStageSearcher(store, candidates=512)
    for target in (260, 300, 383, 7):
        q = query_matrix(corpus.query(target, np.random.default_rng(target)).embedding, store)
        assert_same(searcher.search(q, k=10), brute_force(store, q, 10))


def test_write_path_makes_the_first_centers_at_the_trigger(
    tmp_path, corpus: SyntheticCorpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bc, "CENTER_MIN_PAGES", 200)
    store = PageStore.create(tmp_path / "db", model_name="synthetic/corpus", dim=SPEC.dim)
    write_corpus(store, corpus, 0, 192, pages_per_doc=16)
    assert CENTERS_TABLE not in store._connection().list_tables().tables
    write_corpus(store, corpus, 192, 48, pages_per_doc=16)  # the 13th document crosses 200 pages
    assert len(load_centers(store._connection(), SPEC.dim)) == 1
    lengths = run_lengths(store)
    assert [max(lengths[f"doc{d:07d}"]) == N_RUNS for d in range(15)] == [True] * 13 + [False] * 2
