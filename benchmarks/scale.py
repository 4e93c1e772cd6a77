"""Scale benchmark: exact (bf16 scan) and two-stage search on the synthetic word-patch corpus, 1k to 100k pages.

The corpus (`llama_index_colret.testing.corpus`) is representative where random vectors are not: pages are
built as the word-patch double builds them from PDFs (a Zipfian vocabulary of 50,000 words with topics,
a few hundred words per page in lines and paragraphs on a 31 x 24 ColQwen2 grid, blank cells nearly equal
on every page, prompt vectors), and queries are 3-8 words of one target page plus 10 augmentation
vectors. So a query has a right page (success@10 means something), neighbourhoods exist (pages of one
topic share words, so ANN recall means something), and the exact top 10 below the target is a dense
tail of near-ties (pages sharing a query word or two), which is what makes recall@10 against exact hard.

One database grows through the sizes (page ``i`` is a pure function of the seed and ``i``):
at each size it prints, per mode, p50 / p95 latency, success@10, recall@10 against exact, peak RSS of the
search process, disk bytes per page, first-stage build time and the time to add 1,000 pages (write and
index refresh); then the 1M-page figures projected by a least-squares line through the measured sizes
(two-stage latency: ANN over fixed-size IVF partitions plus a candidate re-score that stops growing at
1,000 pages from 100k on (`two_stage.candidates_for`), so cost grows at most linearly with the number of
partitions; RSS and disk: linear in pages).

    python benchmarks/scale.py --db /work/scratch/scale --sizes 10000 30000 100000 [--reuse]
    python benchmarks/scale.py --db /tmp/exact --exact-floor 1000 10000   # point 1: bf16 scan vs bare matmul
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import warnings
from datetime import timedelta
from pathlib import Path

import numpy as np
import torch

from llama_index_colret.search.bf16 import rescore_candidates, scan_layout, scan_maxes, score_bounds
from llama_index_colret.search.exact import ExactSearcher
from llama_index_colret.search.maxsim import maxsim_packed, top_k
from llama_index_colret.search.two_stage import TwoStageSearcher
from llama_index_colret.store.lance import PageStore
from llama_index_colret.store.packed import PageKeys
from llama_index_colret.testing.corpus import SyntheticCorpus, write_corpus

PAGES_PER_DOC = 100
N_QUERIES = 30
ADD_PAGES = 1000
TARGET_P50_S, TARGET_RECALL, TARGET_RSS_GB, TARGET_1M_P50_S = 0.100, 0.95, 4.0, 0.150


def grow(store: PageStore, corpus: SyntheticCorpus, n: int) -> float:
    """Append corpus pages until the store holds ``n``; seconds taken."""
    t = time.perf_counter()
    have = store.count()
    if have < n:
        write_corpus(store, corpus, have, n - have, pages_per_doc=PAGES_PER_DOC)
    return time.perf_counter() - t


def compact(store: PageStore) -> None:
    """Compact and drop old versions (the benchmark owns the database)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        store.optimize(cleanup_older_than=timedelta(0))


def exact_top_k(store: PageStore, queries: list[np.ndarray], k: int) -> list[list[tuple[str, int]]]:
    """The exact top ``k`` keys of every query in one streamed pass over the table (bounded memory): per
    batch, the bf16 scan and its bound pick the pages that could enter the running top k, which are
    re-scored in float32; the result equals float32 brute force (see `search.bf16`)."""
    kept = [(PageKeys([], np.empty(0, np.int64), [], []), np.empty(0, np.float32)) for _ in queries]
    ends = np.cumsum([q.shape[0] for q in queries])  # all queries in one product: (sum n_q, dim)
    stacked = np.concatenate(queries)
    for keys, packed in store.iter_packed(batch_pages=2048):
        layout = scan_layout(packed.vectors, packed.offsets)
        maxes = scan_maxes(stacked, layout)  # (n_pages, sum n_q)
        for i, q in enumerate(queries):
            scores, bound = score_bounds(q, maxes[:, ends[i] - q.shape[0] : ends[i]], layout)
            chosen = rescore_candidates(scores, bound, k)
            old_keys, old_scores = kept[i]
            if old_scores.size >= k:  # only pages that could beat the running k-th exact score
                chosen = chosen[scores[chosen] + bound[chosen] >= np.sort(old_scores)[-k]]
            sub = packed.take(chosen)
            new = maxsim_packed(q, sub.vectors, sub.offsets) if chosen.size else np.empty(0, np.float32)
            both, both_scores = PageKeys.concat([old_keys, keys.take(chosen)]), np.concatenate([old_scores, new])
            best = top_k(both_scores, both.doc_ids, both.page_numbers, k)
            kept[i] = both.take(best), both_scores[best]
    return [list(zip(ks.doc_ids, ks.page_numbers.tolist(), strict=True)) for ks, _ in kept]


def timed(fn, queries: list) -> tuple[list[float], list]:
    """Per-query seconds and results, after one warm-up call."""
    fn(queries[0])
    times, results = [], []
    for q in queries:
        t = time.perf_counter()
        results.append(fn(q))
        times.append(time.perf_counter() - t)
    return times, results


def measure(uri: str, n_pages: int, mode: str) -> dict:
    """Child process: latency, quality and peak RSS of one mode at the current size."""
    store = PageStore.open(uri)
    corpus = SyntheticCorpus()
    queries = corpus.queries(N_QUERIES, n_pages, seed=11)
    searcher = ExactSearcher(store, max_cache_bytes=8 * 1024**3) if mode == "exact" else TwoStageSearcher(store)
    times, hits = timed(lambda cq: searcher.search(cq.embedding, k=10), queries)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # GB (KiB on Linux)
    keys = [[(h.doc_id, h.page_number) for h in hs] for hs in hits]
    targets = [(f"doc{cq.target // PAGES_PER_DOC:07d}", cq.target % PAGES_PER_DOC + 1) for cq in queries]
    return {
        "times": times,
        "keys": keys,
        "scores": [[h.score for h in hs] for hs in hits],
        "success": float(np.mean([t in k for t, k in zip(targets, keys, strict=True)])),
        "rss_gb": rss,
    }


def child(uri: str, n: int, mode: str) -> dict:
    """Run `measure` in a fresh process (clean RSS)."""
    out = subprocess.run(
        [sys.executable, __file__, "--measure", uri, str(n), mode], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def report_size(root: Path, n: int, build_s: float, truth: list, exact: dict | None, exact_success: float) -> dict:
    """Measure two-stage (and exact when given) at ``n`` pages and print one block of figures."""
    two = child(str(root), n, "two_stage")
    recall = np.mean([len(set(map(tuple, k)) & set(t)) / 10 for k, t in zip(two["keys"], truth, strict=True)])
    disk = sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) / n
    row = {
        "pages": n,
        "two_p50": statistics.median(two["times"]),
        "two_p95": float(np.percentile(two["times"], 95)),
        "two_success": two["success"],
        "recall": float(recall),
        "two_rss": two["rss_gb"],
        "disk_kib": disk / 1024,
        "build_s": build_s,
        "exact_success": exact_success,
    }
    line = (
        f"{n:>7} pages | two-stage p50 {row['two_p50'] * 1e3:6.1f} ms p95 {row['two_p95'] * 1e3:6.1f} ms "
        f"(target {TARGET_P50_S * 1e3:.0f}: {row['two_p50'] / TARGET_P50_S:.2f} of it) | recall@10 {recall:.3f} "
        f"(target {TARGET_RECALL}) | success@10 {two['success']:.2f} | RSS {two['rss_gb']:.2f} GB | "
        f"{row['disk_kib']:.0f} KiB/page | first stage built in {build_s:.1f} s | exact success@10 {exact_success:.2f}"
    )
    if exact:
        row |= {"exact_p50": statistics.median(exact["times"]), "exact_rss": exact["rss_gb"]}
        line += f" | exact (bf16 scan) p50 {row['exact_p50'] * 1e3:.1f} ms, RSS {exact['rss_gb']:.2f} GB"
    print(line, flush=True)
    return row


def project(rows: list[dict], key: str, at: int = 1_000_000) -> float:
    """Least-squares line through ``(pages, rows[key])`` evaluated at ``at`` pages."""
    x = np.array([r["pages"] for r in rows], float)
    y = np.array([r[key] for r in rows], float)
    if len(x) < 2:
        return float(y[0] * at / x[0])
    slope, intercept = np.polyfit(x, y, 1)
    return float(intercept + slope * at)


def run_scale(root: Path, sizes: list[int], reuse: bool) -> None:
    """Grow the database through ``sizes``, measuring at each, then project to 1M pages."""
    corpus = SyntheticCorpus()
    store = PageStore.create(root, model_name="synthetic/word-patch-corpus", dim=corpus.spec.dim)
    if store.count() and not reuse:
        raise SystemExit(f"{root} holds {store.count()} pages; pass --reuse to continue it or choose a new --db")
    rows = []
    for n in sizes:
        if store.count() > n:
            raise SystemExit(f"{root} already holds {store.count()} pages, more than {n}")
        print(f"growing to {n} pages: {grow(store, corpus, n):.0f} s", flush=True)
        t = time.perf_counter()
        store.build_search_index(retrain=True)
        build_s = time.perf_counter() - t
        queries = corpus.queries(N_QUERIES, n, seed=11)
        t = time.perf_counter()
        truth = exact_top_k(store, [cq.embedding.vectors for cq in queries], 10)
        print(
            f"  exact ground truth for {N_QUERIES} queries (bf16 scan + float32 re-score, streamed): "
            f"{time.perf_counter() - t:.0f} s",
            flush=True,
        )
        exact = child(str(root), n, "exact") if n <= 12_000 else None  # larger: the cache would not fit 4 GB
        targets = [(f"doc{cq.target // PAGES_PER_DOC:07d}", cq.target % PAGES_PER_DOC + 1) for cq in queries]
        exact_success = float(np.mean([t in keys for t, keys in zip(targets, truth, strict=True)]))
        rows.append(report_size(root, n, build_s, truth, exact, exact_success))
        t = time.perf_counter()
        write_corpus(store, corpus, n, ADD_PAGES, pages_per_doc=PAGES_PER_DOC)
        write_s = time.perf_counter() - t
        refresh = store.build_search_index()
        print(
            f"  add {ADD_PAGES} pages: write {write_s:.1f} s + index refresh {refresh.seconds:.1f} s "
            f"(retrained: {refresh.trained}); two-stage finds them before the refresh",
            flush=True,
        )
    p50 = project(rows, "two_p50")
    print(
        f"projected 1M pages (least-squares line through {len(rows)} sizes): two-stage p50 {p50 * 1e3:.0f} ms "
        f"(target {TARGET_1M_P50_S * 1e3:.0f} ms: {p50 / TARGET_1M_P50_S:.2f} of it), "
        f"RSS {project(rows, 'two_rss'):.2f} GB, disk {project(rows, 'disk_kib') * 1e6 / 1024**2:.0f} GB"
    )


def run_exact_floor(root: Path, sizes: list[int]) -> None:
    """Point 1: exact search (bf16 scan + re-score) against the bare bf16 product over the same vectors,
    and equality with float32 brute force (streamed float32 search), at each size."""
    corpus = SyntheticCorpus()
    store = PageStore.create(root, model_name="synthetic/word-patch-corpus", dim=corpus.spec.dim)
    for n in sizes:
        grow(store, corpus, n)
        compact(store)
        queries = [cq.embedding.vectors for cq in corpus.queries(10, n, seed=5)]
        searcher = ExactSearcher(store, max_cache_bytes=8 * 1024**3)
        times, hits = timed(searcher.search, queries)
        layout = searcher._scan._load().layout
        bare = []
        for q in queries:
            qb = torch.from_numpy(q).to(torch.bfloat16)  # (n_q, dim)
            t = time.perf_counter()
            for g in layout.groups:
                _ = qb @ g.reshape(-1, layout.dim).T  # (n_q, n_vectors_g) the bare product, no max
            bare.append(time.perf_counter() - t)
        reference = ExactSearcher(store, cache=False)
        same = gap = 0.0
        for q, hs in zip(queries, hits, strict=True):
            ref = reference.search(q, k=10)
            same += [(h.doc_id, h.page_number) for h in hs] == [(h.doc_id, h.page_number) for h in ref]
            gap = max(gap, max(abs(a.score - b.score) for a, b in zip(hs, ref, strict=True)))
        ratio = statistics.median(times) / statistics.median(bare)
        print(
            f"{n:>6} pages | exact (bf16 scan + float32 re-score) p50 {statistics.median(times) * 1e3:.1f} ms | "
            f"bare bf16 matmul {statistics.median(bare) * 1e3:.1f} ms | ratio {ratio:.2f} (target <= 2) | "
            f"top-10 identical to float32 brute force: {int(same)}/{len(queries)}, max score gap {gap:.1e}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=False, help="database folder (kept; delete it when done)")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 30_000, 100_000])
    parser.add_argument("--reuse", action="store_true", help="continue a database this script built")
    parser.add_argument("--exact-floor", type=int, nargs="*", help="sizes for the point-1 exact-scan figures")
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)  # child process
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure[0], int(args.measure[1]), args.measure[2])))
        return
    if not args.db:
        parser.error("--db is required")
    if args.exact_floor:
        run_exact_floor(Path(args.db), args.exact_floor)
    else:
        run_scale(Path(args.db), args.sizes, args.reuse)


if __name__ == "__main__":
    main()
