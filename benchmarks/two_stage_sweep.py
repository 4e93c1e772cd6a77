"""Two-stage settings swept on one table: for each ``candidates:nprobes`` pair, p50 / p95 latency of the
whole search, p50 of the ANN query alone, recall@10 against exact and success@10, and the ratios to the
issue's targets (p50 100 ms, recall 0.95).

The table is the synthetic word-patch corpus of `scale.py` (why it is representative: that docstring),
grown to ``--pages`` if it holds fewer and indexed if it is not; the exact top 10 of the queries is computed
once by a streamed pass (`scale.exact_top_k`) and kept in ``--truth`` so sweeps can be repeated cheaply.

    python benchmarks/two_stage_sweep.py --db /work/scratch/s100k --pages 100000 --truth t100k.json 300:8 1000:8
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
from scale import N_QUERIES, PAGES_PER_DOC, TARGET_P50_S, TARGET_RECALL, exact_top_k, grow

from llama_index_colret.search.hits import content_vectors, query_matrix
from llama_index_colret.search.two_stage import TwoStageSearcher
from llama_index_colret.store.lance import PageStore
from llama_index_colret.store.row_ids import first_stage_rows
from llama_index_colret.testing.corpus import CorpusQuery, SyntheticCorpus


def open_table(db: Path, pages: int, corpus: SyntheticCorpus) -> PageStore:
    """The corpus table at ``db`` with at least ``pages`` pages and a first stage that indexes them all."""
    if PageStore.exists(db):
        store = PageStore.open(db)
    else:
        store = PageStore.create(db, model_name="synthetic/word-patch-corpus", dim=corpus.spec.dim)
    print(f"grew to {store.count()} pages in {grow(store, corpus, pages):.0f} s", flush=True)
    report = store.build_search_index()
    print(f"first stage: {report}", flush=True)
    return store


def truth_for(store: PageStore, queries: list[CorpusQuery], path: Path) -> list[set[tuple[str, int]]]:
    """The exact top 10 of each query, read from ``path`` or computed (streamed) and written there."""
    if not path.exists():
        start = time.perf_counter()
        path.write_text(json.dumps(exact_top_k(store, [cq.embedding.vectors for cq in queries], 10)))
        print(f"exact top 10 of {len(queries)} queries in {time.perf_counter() - start:.0f} s", flush=True)
    return [{(d, int(p)) for d, p in keys} for keys in json.loads(path.read_text())]


def sweep(store: PageStore, queries: list[CorpusQuery], truth: list[set], candidates: int, nprobes: int) -> str:
    """One line of figures for one setting (one warm-up search first)."""
    searcher = TwoStageSearcher(store, candidates=candidates, nprobes=nprobes)
    searcher.search(queries[0].embedding)
    ann, total, recall, success = [], [], [], 0
    for cq, exact in zip(queries, truth, strict=True):
        ann_query = content_vectors(cq.embedding, query_matrix(cq.embedding, store))
        start = time.perf_counter()
        first_stage_rows(store, ann_query, candidates, None, nprobes=nprobes)
        ann.append(time.perf_counter() - start)
        start = time.perf_counter()
        got = {(h.doc_id, h.page_number) for h in searcher.search(cq.embedding, k=10)}
        total.append(time.perf_counter() - start)
        recall.append(len(got & exact) / 10)
        success += (f"doc{cq.target // PAGES_PER_DOC:07d}", cq.target % PAGES_PER_DOC + 1) in got
    p50, rec = statistics.median(total), float(np.mean(recall))
    return (
        f"candidates {candidates:>5} nprobes {nprobes:>2}: ANN p50 {statistics.median(ann) * 1e3:5.0f} ms, "
        f"p50 {p50 * 1e3:5.0f} ms ({p50 / TARGET_P50_S:.1f}x target), p95 {np.percentile(total, 95) * 1e3:5.0f} ms, "
        f"recall@10 {rec:.3f} ({rec / TARGET_RECALL:.2f} of target), success@10 {success / len(queries):.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="database folder (kept; delete it when done)")
    parser.add_argument("--pages", type=int, default=20_000)
    parser.add_argument("--truth", type=Path, required=True, help="JSON file caching the exact top 10")
    parser.add_argument("settings", nargs="*", default=["300:8", "1000:8"], help="candidates:nprobes pairs")
    args = parser.parse_args()
    corpus = SyntheticCorpus()
    store = open_table(args.db, args.pages, corpus)
    queries = corpus.queries(N_QUERIES, store.count(), seed=11)
    truth = truth_for(store, queries, args.truth)
    print(f"{store.count()} pages, {len(queries)} queries", flush=True)
    for setting in args.settings:
        candidates, nprobes = (int(v) for v in setting.split(":"))
        print(sweep(store, queries, truth, candidates, nprobes), flush=True)


if __name__ == "__main__":
    main()
