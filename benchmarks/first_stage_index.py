"""LanceDB index families for the first stage, and over-fetching, compared on one table in one run.

For each index (``rq1``: today's IVF-RQ with 1 bit per dimension, the baseline; ``rq2`` / ``rq4``: RaBitQ
with 2 / 4 bits; ``sq``: IVF-SQ, 8-bit scalar codes) the first-stage index is rebuilt on the table, then for
each ``limit:candidates`` setting the ANN is asked for ``limit`` pages (LanceDB searches each query vector
with k = 10 x the limit) and the best ``candidates`` of them by ANN distance are re-scored exactly, as
two-stage search does. Printed per setting: build time, ANN p50, recall@10 against exact, and the ratios
to the baseline (``rq1`` with limit = candidates, measured in the same run). The default index is rebuilt
at the end, so the table is left as `PageStore.build_search_index` makes it.

The table is the synthetic word-patch corpus of `scale.py` (why it is representative: that docstring);
the exact top 10 comes from ``--truth`` (made by `two_stage_sweep.py`, or computed here and kept).

    python benchmarks/first_stage_index.py --db DIR --truth t100k.json --index rq1 sq --settings 1000:300 1000:1000
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from scale import N_QUERIES
from two_stage_sweep import open_table, truth_for

from llama_index_colret.search.hits import content_vectors, query_matrix
from llama_index_colret.search.scan import rescore_rows
from llama_index_colret.search.two_stage import DEFAULT_NPROBES
from llama_index_colret.store.first_stage import FIRST_STAGE_COLUMN
from llama_index_colret.store.lance import PageStore
from llama_index_colret.store.row_ids import first_stage_rows
from llama_index_colret.testing.corpus import CorpusQuery, SyntheticCorpus


def index_config(name: str) -> object:
    """The LanceDB index config named ``name`` (cosine, LanceDB's default partitions)."""
    from lancedb.index import IvfRq, IvfSq

    configs = {
        "rq1": IvfRq(distance_type="cosine"),
        "rq2": IvfRq(distance_type="cosine", num_bits=2),
        "rq4": IvfRq(distance_type="cosine", num_bits=4),
        "sq": IvfSq(distance_type="cosine"),
    }
    return configs[name]


def measure(store: PageStore, queries: list[CorpusQuery], truth: list[set], limit: int, candidates: int) -> tuple:
    """ANN p50 (s) and recall@10 of re-scoring the best ``candidates`` of ``limit`` ANN pages."""
    ann, recall = [], []
    for cq, exact in zip(queries, truth, strict=True):
        q = query_matrix(cq.embedding, store)
        start = time.perf_counter()
        rows = first_stage_rows(store, content_vectors(cq.embedding, q), limit, None, nprobes=DEFAULT_NPROBES)
        ann.append(time.perf_counter() - start)
        keys, scores = rescore_rows(store, q, rows[:candidates])
        top = np.argsort(-scores, kind="stable")[:10]
        got = {(keys.doc_ids[i], int(keys.page_numbers[i])) for i in top}
        recall.append(len(got & exact) / 10)
    return statistics.median(ann), float(np.mean(recall))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="database folder (kept; delete it when done)")
    parser.add_argument("--pages", type=int, default=20_000)
    parser.add_argument("--truth", type=Path, required=True, help="JSON file caching the exact top 10")
    parser.add_argument("--index", nargs="+", default=["rq1", "rq2", "rq4", "sq"], help="rq1 rq2 rq4 sq")
    parser.add_argument("--settings", nargs="+", default=["300:300", "1000:300", "1000:1000"], help="limit:candidates")
    args = parser.parse_args()
    corpus = SyntheticCorpus()
    store = open_table(args.db, args.pages, corpus)
    queries = corpus.queries(N_QUERIES, store.count(), seed=11)
    truth = truth_for(store, queries, args.truth)
    settings = [tuple(int(v) for v in s.split(":")) for s in args.settings]
    baseline: dict[int, tuple[float, float]] = {}
    for name in ["rq1", *[n for n in args.index if n != "rq1"]]:
        start = time.perf_counter()
        store.table.create_index(FIRST_STAGE_COLUMN, config=index_config(name), replace=True)
        build = time.perf_counter() - start
        store = PageStore.open(args.db)
        for limit, candidates in settings:
            if name == "rq1" and candidates not in baseline:
                baseline[candidates] = measure(store, queries, truth, candidates, candidates)
            ann, rec = measure(store, queries, truth, limit, candidates)
            base_ann, base_rec = baseline[candidates]
            print(
                f"{name} (built in {build:4.0f} s) limit {limit:>5} candidates {candidates:>5}: ANN p50 "
                f"{ann * 1e3:5.0f} ms ({ann / base_ann:.2f}x baseline), recall@10 {rec:.3f} "
                f"(baseline {base_rec:.3f})",
                flush=True,
            )
    print(f"default index rebuilt: {store.build_search_index(retrain=True)}", flush=True)


if __name__ == "__main__":
    main()
