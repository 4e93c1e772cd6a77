"""Search benchmark: our exact MaxSim against LanceDB's native multivector flat search, same table.

Synthetic unit vectors with real shapes (about 750 x 128 per page, float16 on disk) at 1,000 and 10,000
pages. Prints, per size: median query latency of our search (in-memory cache, and streaming from LanceDB),
of LanceDB's native search, their ratio, whether the top-10 pages are identical, bytes per page on disk
and peak resident memory of the search process. Targets: >= 10x faster than LanceDB native with
identical top-10; 10,000 pages searched within 4 GB resident memory.

    python benchmarks/search.py                # 1,000 and 10,000 pages (minutes on 2 cores)
    python benchmarks/search.py --pages 1000   # one size
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import timedelta
from pathlib import Path

import numpy as np

from llama_index_colret.embed.types import PageEmbedding
from llama_index_colret.geometry import PatchGrid
from llama_index_colret.ingest.page import Page
from llama_index_colret.search.exact import ExactSearcher
from llama_index_colret.store.lance import PageStore

DIM = 128
GRID = PatchGrid(31, 24)  # 744 patches (ColQwen2 at 768 * 28 * 28 max pixels) + 6 prompt vectors = 750
N_PROMPT = 6
PAGES_PER_DOC = 100
N_QUERY = 20
TARGET_SPEEDUP = 10.0
TARGET_RSS_GB = 4.0


def unit(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    v = rng.standard_normal(shape, dtype=np.float32)  # (..., dim)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def build(uri: str, n_pages: int, seed: int = 0) -> None:
    """A store of ``n_pages`` pages of 750 random unit vectors (topic-clustered so rankings are clear)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    store = PageStore.create(uri, model_name="synthetic/benchmark", dim=DIM)
    topics = unit(rng, (64, DIM))  # (n_topics, dim)
    image = Image.new("RGB", (8, 10), "white")
    n_vec = N_PROMPT + GRID.n_patches
    for d in range(0, n_pages, PAGES_PER_DOC):
        n = min(PAGES_PER_DOC, n_pages - d)
        pages = [Page(Path(f"/bench/doc{d:06d}.pdf"), i + 1, 612.0, 792.0) for i in range(n)]
        embs = []
        for _ in range(n):
            centre = topics[rng.integers(len(topics))]  # (dim,)
            v = unit(rng, (n_vec, DIM)) + 0.5 * centre  # (n_vec, dim)
            embs.append(PageEmbedding(v / np.linalg.norm(v, axis=1, keepdims=True), np.arange(N_PROMPT, n_vec), GRID))
        store.add_document(
            content_hash=f"{seed}-{d:08d}".ljust(64, "0"),
            file_name=f"doc{d:06d}.pdf",
            path=f"/bench/doc{d:06d}.pdf",
            pages=pages,
            embeddings=embs,
            images=[image] * n,
        )
    with warnings.catch_warnings():  # "removes every version except the latest": intended here
        warnings.simplefilter("ignore", UserWarning)
        store.optimize(cleanup_older_than=timedelta(0))


def queries(seed: int, n: int) -> list[np.ndarray]:
    """Random unit queries of ``N_QUERY`` vectors: ``(N_QUERY, dim)`` each (pages are topic-clustered, so a
    query ranks pages by how well their topic aligns with it: a clear, reproducible ranking)."""
    rng = np.random.default_rng(1000 + seed)
    return [unit(rng, (N_QUERY, DIM)) for _ in range(n)]


def median_latency(fn, qs: list[np.ndarray]) -> tuple[float, list]:
    times, results = [], []
    for q in qs:
        t = time.perf_counter()
        results.append(fn(q))
        times.append(time.perf_counter() - t)
    return statistics.median(times), results


def measure(uri: str, n_native: int, n_ours: int) -> dict:
    """Run in a fresh process: latencies, top-10 agreement and peak RSS of the searches."""
    store = PageStore.open(uri)
    qs = queries(0, max(n_native, n_ours))
    searcher = ExactSearcher(store)
    t = time.perf_counter()
    searcher.search(qs[0], k=10)  # loads the cache
    cold = time.perf_counter() - t
    ours, our_hits = median_latency(lambda q: searcher.search(q, k=10), qs[:n_ours])
    rss_ours = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # GB (ru_maxrss is KiB on Linux)
    searcher.clear_cache()
    streamer = ExactSearcher(store, cache=False)
    streamed, _ = median_latency(lambda q: streamer.search(q, k=10), qs[:2])
    table = store._table

    def native(q: np.ndarray) -> list:
        rows = (
            table.search(q.tolist(), vector_column_name="vectors")
            .distance_type("cosine")
            .select(["doc_id", "page_number"])
            .limit(10)
            .to_arrow()
            .to_pylist()
        )
        return [(r["doc_id"], r["page_number"], N_QUERY - r["_distance"]) for r in rows]

    native_s, native_hits = median_latency(native, qs[:n_native])
    same = all(
        [(h.doc_id, h.page_number) for h in our_hits[i]] == [(d, p) for d, p, _ in native_hits[i]]
        for i in range(n_native)
    )
    score_gap = max(
        abs(h.score - s) for i in range(n_native) for h, (_, _, s) in zip(our_hits[i], native_hits[i], strict=False)
    )
    return {
        "ours_s": ours,
        "ours_cold_s": cold,
        "streamed_s": streamed,
        "native_s": native_s,
        "same_top10": same,
        "max_score_gap": score_gap,
        "rss_ours_gb": rss_ours,
        "rss_peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
    }


def disk_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--native-queries", type=int, default=3, help="queries timed on LanceDB native")
    parser.add_argument("--queries", type=int, default=10, help="queries timed on our search")
    parser.add_argument("--keep", default=None, help="build the tables under this folder and keep them")
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)  # child process
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.native_queries, args.queries)))
        return
    root = Path(args.keep or tempfile.mkdtemp(prefix="colret-bench-"))
    try:
        for n in args.pages:
            uri = root / f"pages-{n}"
            if not PageStore.exists(uri):
                t = time.perf_counter()
                build(str(uri), n)
                print(f"built {n} pages in {time.perf_counter() - t:.1f} s", flush=True)
            child = [sys.executable, __file__, "--measure", str(uri)]
            child += ["--native-queries", str(args.native_queries), "--queries", str(args.queries)]
            r = json.loads(subprocess.run(child, check=True, capture_output=True, text=True).stdout)
            speedup = r["native_s"] / r["ours_s"]
            print(
                f"{n:>6} pages | ours {r['ours_s'] * 1e3:8.1f} ms (cache load {r['ours_cold_s']:.1f} s; "
                f"streamed {r['streamed_s'] * 1e3:.0f} ms) | LanceDB native {r['native_s'] * 1e3:8.1f} ms | "
                f"speedup {speedup:5.1f}x (target >= {TARGET_SPEEDUP:.0f}x: {speedup / TARGET_SPEEDUP:.2f} of it) | "
                f"top-10 identical: {r['same_top10']} (max score gap {r['max_score_gap']:.1e}) | "
                f"{disk_bytes(uri) / n / 1024:.0f} KiB/page on disk | peak RSS after our search "
                f"{r['rss_ours_gb']:.2f} GB (target <= {TARGET_RSS_GB:.0f} GB: "
                f"{r['rss_ours_gb'] / TARGET_RSS_GB:.2f} of it), whole process {r['rss_peak_gb']:.2f} GB",
                flush=True,
            )
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
