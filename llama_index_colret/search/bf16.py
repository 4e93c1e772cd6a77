"""Exact MaxSim at the cost of a bfloat16 product: a bf16 scan with a proven error bound, then a float32
re-score of every page that could still reach the top k.

Layout: pages are grouped by length rounded up to a multiple of ``bucket`` and each page is padded by
repeating its own last vector, so a group is one ``(n_pages, length, dim)`` bf16 tensor; a repeated vector
never changes a maximum, so no mask is needed. The scan per chunk is ``Q @ D.T`` in bf16 (oneDNN: bf16
inputs, float32 accumulation, bf16 output) and a max over the contiguous last axis, no numpy ``reduceat``.

Error bound (why the re-score set is complete). Let ``q_i`` be a float32 query vector and ``d_j`` a stored
float16 page vector; ``q~``, ``d~`` their bf16 roundings; ``u = 2^-8`` the bf16 unit roundoff and
``g_n = n 2^-24 / (1 - n 2^-24)`` the float32 bound for a sum of ``n`` terms in any order. The reference is
float32 brute force: ``r_ij = fl32(q_i . d_j)`` with ``|r_ij - q_i . d_j| <= g_K |q_i| |d_j|`` (K = dim),
``M_i = max_j r_ij``, ``s = fl32(sum_i M_i)``. The scan computes ``a_ij = fl32acc(q~_i . d~_j)`` (products of
bf16 numbers are exact in float32, so ``|a_ij - q~_i . d~_j| <= g_K |q~_i| |d~_j|``), rounds it to bf16 and
takes ``M~_i = max_j bf16(a_ij) = bf16(max_j a_ij)`` (rounding is monotonic), so
``|M~_i - max_j a_ij| <= u |M~_i|``. By Cauchy-Schwarz,
``|q~.d~ - q.d| <= |q~ - q| |d~| + |q| |d~ - d|``. With the measured ``e_i = |q~_i - q_i|``,
``N~ = max_j |d~_j|``, ``N = max_j |d_j|`` and ``R = max_j |d~_j - d_j|`` (all taken over the stored table):

    |M~_i - M_i| <= u |M~_i| + e_i N~ + |q_i| R + g_K (|q~_i| N~ + |q_i| N) =: b_i(page)

and both sums over the ``n`` query vectors add at most ``g_n sum_i (|M~_i| + b_i)`` each, so
``|s~ - s| <= E = sum_i b_i + 2 g_n sum_i (|M~_i| + b_i)``. For unit vectors ``E`` is about
``n (0.0039 |M~| + 0.005)``. Every page has ``s`` in ``[s~ - E, s~ + E]``. With ``T`` the k-th largest lower
end, k pages score at least ``T``, so a page whose upper end is below ``T`` cannot be in the top k: every
page with ``s~ + E >= T`` is re-scored in float32 and the top k is taken from those, which is the float32
brute-force top k. Assumption, stated: torch's CPU bf16 GEMM accumulates in float32 (oneDNN does, as
AVX512-BF16 and AMX do in hardware); tests check the result against brute force on adversarial near-ties.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .maxsim import _torch_threads

BF16_UNIT = 2.0**-8  # unit roundoff of bfloat16: 8 significant bits, round to nearest even
F32_UNIT = 2.0**-24
DEFAULT_BUCKET = 16  # page lengths are padded up to a multiple of this (at most 15 repeated vectors)
DEFAULT_SCAN_VECTORS = 24_576  # page vectors per product: the (n_q, chunk) bf16 result stays in L2 cache


def sum_bound(n: int) -> float:
    """``g_n``: the relative float32 error bound of a sum or dot product of ``n`` terms, in any order."""
    return n * F32_UNIT / (1.0 - n * F32_UNIT)


@dataclass
class ScanLayout:
    """Pages as bf16 groups of equal padded length, and the norms the error bound needs.

    ``groups[g]``: ``(n_pages_g, length_g, dim)`` bf16; ``pages[g]``: ``(n_pages_g,)`` index of each of its
    pages in the packed order. ``norm_max``: max ``|d_j|`` of the stored vectors; ``bf16_norm_max``: max
    ``|d~_j|``; ``rounding_max``: max ``|d~_j - d_j|``.
    """

    groups: list[torch.Tensor]
    pages: list[np.ndarray]
    n_pages: int
    dim: int
    norm_max: float
    bf16_norm_max: float
    rounding_max: float

    @property
    def nbytes(self) -> int:
        """Bytes held by the bf16 groups (padding included)."""
        return sum(g.numel() * 2 for g in self.groups)


def scan_layout(vectors: np.ndarray, offsets: np.ndarray, *, bucket: int = DEFAULT_BUCKET) -> ScanLayout:
    """The bf16 scan layout of pages packed end to end (``vectors``: ``(n_total, dim)``, page ``p`` owning
    rows ``offsets[p]:offsets[p + 1]``), with the norms of the error bound measured on the data."""
    offsets = np.asarray(offsets, dtype=np.int64)
    lengths = np.diff(offsets)  # (n_pages,)
    if lengths.size and lengths.min() <= 0:
        raise ValueError(f"page {int(np.argmin(lengths))} has no vectors")
    dim = int(vectors.shape[1])
    padded = -(-lengths // bucket) * bucket  # (n_pages,) lengths rounded up
    groups, pages = [], []
    for length in np.unique(padded):
        members = np.flatnonzero(padded == length)  # (n_g,)
        steps = np.minimum(np.arange(length)[None, :], lengths[members, None] - 1)  # (n_g, length)
        groups.append(_to_bf16(vectors, offsets[members, None] + steps))  # (n_g, length, dim)
        pages.append(members)
    norm, norm16, rounding = _norms(vectors)
    return ScanLayout(groups, pages, int(lengths.size), dim, norm, norm16, rounding)


def _to_bf16(vectors: np.ndarray, rows: np.ndarray, chunk: int = 4096) -> torch.Tensor:
    """``vectors[rows]`` as bf16 ``(*rows.shape, dim)``, converted ``chunk`` pages at a time (bounded memory)."""
    out = torch.empty((*rows.shape, vectors.shape[1]), dtype=torch.bfloat16)
    for at in range(0, rows.shape[0], chunk):
        part = vectors[rows[at : at + chunk]]  # (chunk, length, dim) a fresh, writable copy
        out[at : at + chunk] = torch.from_numpy(part).to(torch.bfloat16)
    return out


def _norms(vectors: np.ndarray, chunk: int = 262_144) -> tuple[float, float, float]:
    """max ``|d|``, max ``|bf16(d)|`` and max ``|bf16(d) - d|`` over all vectors, rounded up.

    Computed in float32 (the difference of a float16 and its bf16 rounding is exact in float32), each
    norm inflated by ``2 g_dim`` so that the float32 evaluation cannot understate it.
    """
    norm = norm16 = rounding = 0.0
    for at in range(0, vectors.shape[0], chunk):
        d = torch.tensor(
            vectors[at : at + chunk], dtype=torch.float32
        )  # (chunk, dim) a copy: Arrow memory is read-only
        d16 = d.to(torch.bfloat16).to(torch.float32)  # (chunk, dim)
        norm = max(norm, float(torch.linalg.vector_norm(d, dim=1).max()))
        norm16 = max(norm16, float(torch.linalg.vector_norm(d16, dim=1).max()))
        rounding = max(rounding, float(torch.linalg.vector_norm(d16 - d, dim=1).max()))
    up = 1.0 + 2.0 * sum_bound(vectors.shape[1])
    return norm * up, norm16 * up, rounding * up


def scan_maxes(
    query: np.ndarray, layout: ScanLayout, *, scan_vectors: int = DEFAULT_SCAN_VECTORS, threads: int | None = None
) -> torch.Tensor:
    """``M~``: per page and query vector, the max bf16 similarity: ``(n_pages, n_q)`` float32."""
    q = torch.from_numpy(np.ascontiguousarray(query, dtype=np.float32)).to(torch.bfloat16)  # (n_q, dim)
    maxes = torch.empty((layout.n_pages, q.shape[0]), dtype=torch.float32)
    jobs = [
        (g, at, min(at + max(1, scan_vectors // grp.shape[1]), grp.shape[0]))
        for g, grp in enumerate(layout.groups)
        for at in range(0, grp.shape[0], max(1, scan_vectors // grp.shape[1]))
    ]

    def run(job: tuple[int, int, int]) -> None:
        g, lo, hi = job
        block = layout.groups[g][lo:hi]  # (c, length, dim)
        sims = q @ block.reshape(-1, layout.dim).T  # (n_q, c * length) bf16
        best = sims.view(q.shape[0], hi - lo, block.shape[1]).amax(dim=2)  # (n_q, c)
        maxes[torch.from_numpy(layout.pages[g][lo:hi])] = best.T.to(torch.float32)

    workers = min(len(jobs), threads or torch.get_num_threads())
    with _torch_threads(1):
        if workers <= 1:
            for job in jobs:
                run(job)
        else:
            from concurrent.futures import ThreadPoolExecutor

            # split the jobs into one contiguous share per worker: fewer tasks, same cache behaviour
            shares = [jobs[w::workers] for w in range(workers)]
            with ThreadPoolExecutor(workers, thread_name_prefix="colret-bf16") as pool:
                list(pool.map(lambda share: [run(j) for j in share], shares))
    return maxes


def score_bounds(query: np.ndarray, maxes: torch.Tensor, layout: ScanLayout) -> tuple[np.ndarray, np.ndarray]:
    """bf16 page scores ``s~`` ``(n_pages,)`` float32 and their error bound ``E`` ``(n_pages,)`` float64
    (see the module docstring: the float32 brute-force score lies in ``[s~ - E, s~ + E]``)."""
    q = np.asarray(query, dtype=np.float64)  # (n_q, dim)
    q16 = torch.from_numpy(np.ascontiguousarray(query, dtype=np.float32)).to(torch.bfloat16).double().numpy()
    e = np.linalg.norm(q16 - q, axis=1)  # (n_q,)
    q_norm, q16_norm = np.linalg.norm(q, axis=1), np.linalg.norm(q16, axis=1)  # (n_q,)
    g_k, g_n = sum_bound(layout.dim), sum_bound(maxes.shape[1])
    fixed = e * layout.bf16_norm_max + q_norm * layout.rounding_max
    fixed += g_k * (q16_norm * layout.bf16_norm_max + q_norm * layout.norm_max)  # (n_q,)
    abs_max = maxes.abs().double().numpy()  # (n_pages, n_q)
    per_token = BF16_UNIT * abs_max + fixed[None, :]  # (n_pages, n_q) the b_i of each page
    bound = per_token.sum(axis=1) + 2 * g_n * (abs_max.sum(axis=1) + per_token.sum(axis=1))  # (n_pages,)
    return maxes.sum(dim=1).numpy(), bound


def rescore_candidates(scores: np.ndarray, bound: np.ndarray, k: int) -> np.ndarray:
    """Indices of the pages whose float32 score could reach the top ``k``: upper end ``>=`` the k-th
    largest lower end (all pages when there are at most ``k``)."""
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    if scores.shape[0] <= k:
        return np.arange(scores.shape[0])
    lower = scores.astype(np.float64) - bound  # (n_pages,)
    threshold = np.partition(lower, -k)[-k]
    return np.flatnonzero(scores.astype(np.float64) + bound >= threshold)
