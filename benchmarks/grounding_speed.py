"""Milliseconds per grounded page: patch map + region scores + hot spots + selection, on CPU.

Realistic shapes (ColQwen2 on a letter page): 25 query vectors x 744 patches (31x24) x 128 dims, 60
regions (lines and blocks of a two-column page). Vectors come from memory, as they would from the store:
no model forward pass. Target: <= 5 ms per page. Run: ``python benchmarks/grounding_speed.py``.

The products are small, so the grounding code keeps them off BLAS threads (einsum): on a busy machine
OpenBLAS's spinning worker threads inflated a 0.3 ms page to 15-30 ms. The script prints the load average and
the thread setting so that figures from different runs can be compared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from llama_index_colret.geometry import BBox, PatchGrid
from llama_index_colret.grounding import GroundingOptions, ground_vectors, select
from llama_index_colret.ingest.page import Region

TARGET_MS = 5.0


def unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """``n`` random unit vectors: ``(n, dim)`` float32."""
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def two_column_regions(n_regions: int) -> list[Region]:
    """``n_regions`` line-like boxes stacked in two columns, in reading order."""
    per_col = (n_regions + 1) // 2
    out = []
    for k in range(n_regions):
        col, row = divmod(k, per_col)
        x0 = 0.08 + col * 0.44
        y0 = 0.08 + row * (0.84 / per_col)
        out.append(Region(f"line {k} " + "word " * 12, BBox(x0, y0, x0 + 0.40, y0 + 0.6 * 0.84 / per_col)))
    return out


def main() -> None:
    """Time grounding of one page many times and print the median and the ratio to the target."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--query-tokens", type=int, default=25)
    ap.add_argument("--rows", type=int, default=31)
    ap.add_argument("--cols", type=int, default=24)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--regions", type=int, default=60)
    ap.add_argument("--pages", type=int, default=300, help="timed pages")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    grid = PatchGrid(args.rows, args.cols)
    regions = two_column_regions(args.regions)
    queries = unit(rng, args.query_tokens, args.dim)
    aug = np.zeros(args.query_tokens, dtype=bool)
    aug[-10:] = True  # ColQwen2-style augmentation tokens
    pages = [unit(rng, grid.n_patches, args.dim) for _ in range(16)]
    load = os.getloadavg()[0]
    print(f"load average {load:.2f} on {os.cpu_count()} cores, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    for options in (GroundingOptions(), GroundingOptions(region_reduce="quantile", patch_reduce="votes")):
        times = []
        for k in range(args.pages):
            t0 = time.perf_counter()
            g = ground_vectors(queries, pages[k % len(pages)], grid, regions, aug, options, page_score=0.5)
            select([g], options)
            times.append((time.perf_counter() - t0) * 1000)
        med = statistics.median(times)
        label = f"patch={options.patch_reduce} region={options.region_reduce}"
        print(
            f"{label}: {med:.3f} ms/page median, p90 {np.percentile(times, 90):.3f} ms "
            f"({args.query_tokens}x{grid.n_patches}x{args.dim}, {args.regions} regions); "
            f"target {TARGET_MS} ms -> {med / TARGET_MS:.2f}x of target"
        )


if __name__ == "__main__":
    main()
