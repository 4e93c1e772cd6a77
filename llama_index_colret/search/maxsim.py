"""Pure late-interaction scoring: MaxSim of a query multi-vector against page multi-vectors.

MaxSim(Q, D) = sum_i max_j <q_i, d_j>, with ``Q`` of shape ``(n_query_tokens, dim)`` and ``D`` of shape
``(n_page_vectors, dim)``. Three layouts of pages are supported: one page, a padded batch with a mask,
and a *packed* store (all pages' vectors concatenated, with offsets), which is what exact search uses.
Pure math: numpy and torch only (no LanceDB, transformers or LlamaIndex).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import torch

DEFAULT_CHUNK_VECTORS = 4_096  # page vectors converted to float32 at a time (2 MiB at dim 128: stays in L2)


def similarity(query: np.ndarray, page: np.ndarray) -> np.ndarray:
    """Token x vector similarity ``Q @ D.T``: shape ``(n_query_tokens, n_page_vectors)``, float32.

    >>> similarity(np.array([[1.0, 0.0]]), np.array([[0.6, 0.8], [0.0, 1.0]]))
    array([[0.6, 0. ]], dtype=float32)
    """
    _check_pair(query, page)
    q, d = query.astype(np.float32, copy=False), page.astype(np.float32, copy=False)
    # einsum without `optimize` stays on this thread: a BLAS matmul this small wakes OpenBLAS's spinning
    # worker threads, which on a busy machine turned 0.3 ms per page into 15-30 ms (benchmarks/grounding_speed.py)
    return np.einsum("qk,pk->qp", q, d, optimize=False)  # (n_query_tokens, n_page_vectors)


def maxsim(query: np.ndarray, page: np.ndarray) -> float:
    """Raw MaxSim of one query ``(n_q, dim)`` against one page ``(n_v, dim)``: ``sum_i max_j q_i . d_j``.

    Each query token takes its best page vector; a page matching every token exactly scores ``n_q``:

    >>> q = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> round(maxsim(q, np.array([[0.6, 0.8], [1.0, 0.0]])), 6)  # token 1 -> 1.0 (2nd vector), 2 -> 0.8 (1st)
    1.8
    >>> maxsim(q, q)
    2.0
    """
    if page.shape[0] == 0:
        raise ValueError("a page needs at least one vector to be scored")
    return float(similarity(query, page).max(axis=1).sum())


def maxsim_padded(query: np.ndarray, pages: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """MaxSim of one query against a padded batch of pages.

    ``query``: ``(n_q, dim)``; ``pages``: ``(n_pages, n_v_max, dim)``; ``mask``: ``(n_pages, n_v_max)`` bool,
    True for real vectors. Padding never wins a max. Returns ``(n_pages,)`` float32.
    """
    if pages.ndim != 3 or mask.shape != pages.shape[:2]:
        raise ValueError(f"pages (n_pages, n_v, dim) need a (n_pages, n_v) mask, got {pages.shape}, {mask.shape}")
    if not mask.any(axis=1).all():
        raise ValueError("every page in a padded batch needs at least one unmasked vector")
    _check_pair(query, pages[0])
    q = query.astype(np.float32, copy=False)
    sims = np.einsum("qd,pvd->pqv", q, pages.astype(np.float32, copy=False))  # (n_pages, n_q, n_v_max)
    sims = np.where(mask[:, None, :], sims, -np.inf)  # (n_pages, n_q, n_v_max)
    return sims.max(axis=2).sum(axis=1).astype(np.float32)  # (n_pages,)


def maxsim_packed(
    query: np.ndarray,
    vectors: np.ndarray,
    offsets: np.ndarray,
    *,
    chunk_vectors: int = DEFAULT_CHUNK_VECTORS,
    threads: int | None = None,
) -> np.ndarray:
    """MaxSim of one query against pages packed end to end.

    ``vectors``: ``(n_total_vectors, dim)`` float16 or float32, page ``p`` owning rows
    ``offsets[p]:offsets[p + 1]``; ``offsets``: ``(n_pages + 1,)`` non-decreasing, starting at 0, every page
    non-empty. Memory stays bounded: at most about ``chunk_vectors`` rows (plus one page) are converted
    to float32 per worker thread (``threads``, default torch's thread count). Returns ``(n_pages,)`` float32.

    >>> q = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    >>> vectors = np.array([[0.6, 0.8], [1.0, 0.0], [0.0, 1.0]], dtype=np.float16)  # page 0: rows 0-1, page 1: row 2
    >>> maxsim_packed(q, vectors, np.array([0, 2, 3])).round(3)
    array([1.8, 1. ], dtype=float32)
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    n_pages = offsets.shape[0] - 1
    if n_pages < 0 or offsets[0] != 0 or offsets[-1] != vectors.shape[0]:
        raise ValueError(f"offsets must run from 0 to {vectors.shape[0]}, got {offsets[:1]}..{offsets[-1:]}")
    lengths = np.diff(offsets)  # (n_pages,)
    if n_pages and lengths.min() <= 0:
        raise ValueError(f"page {int(np.argmin(lengths))} has no vectors")
    _check_pair(query, vectors)
    q = torch.from_numpy(np.ascontiguousarray(query, dtype=np.float32))  # (n_q, dim)
    scores = np.empty(n_pages, dtype=np.float32)
    runs = page_chunks(offsets, chunk_vectors)
    workers = min(len(runs), threads or torch.get_num_threads())

    def score_runs(mine: list[tuple[int, int]]) -> None:
        buffers = _RunBuffers(max(int(offsets[b] - offsets[a]) for a, b in mine), vectors.shape[1])
        for first, last in mine:
            lo, hi = int(offsets[first]), int(offsets[last])
            sims = (buffers.float32(vectors[lo:hi]) @ q.T).numpy()  # (hi - lo, n_q)
            if (lengths[first:last] == lengths[first]).all():  # pages of one length (one model, one page size)
                best = sims.reshape(last - first, -1, sims.shape[1]).max(axis=1)  # (last - first, n_q)
            else:
                local = offsets[first:last] - lo  # (last - first,) start of each page in the block
                best = np.maximum.reduceat(sims, local, axis=0)  # (last - first, n_q)
            scores[first:last] = best.sum(axis=1)

    shares = [runs[w::workers] for w in range(workers)]
    # Our own threads, each running single-threaded torch: OpenMP's spinning workers collapse (10-25x
    # slower) when the cores are shared with other processes; blocked Python threads degrade gracefully.
    with _torch_threads(1):
        if workers <= 1:
            for share in shares:
                score_runs(share)
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="colret-maxsim") as pool:
                list(pool.map(score_runs, shares))
    return scores


class _RunBuffers:
    """One worker's reusable float32 block for runs of up to ``rows`` vectors of ``dim``.

    A fresh float32 tensor per run costs more in page faults than the float16 -> float32 conversion itself
    (measured: 50 ms against 21 ms for 300 pages on one core), so each worker converts into one buffer.
    """

    def __init__(self, rows: int, dim: int) -> None:
        self.block = torch.empty((rows, dim), dtype=torch.float32)  # (rows, dim)
        self.stage: np.ndarray | None = None  # writable copy of read-only input, made when first needed

    def float32(self, part: np.ndarray) -> torch.Tensor:
        """``part`` ``(n, dim)`` as float32 (a view of the buffer, valid until the next call)."""
        n = part.shape[0]
        if not (part.flags.writeable and part.flags.c_contiguous):  # e.g. zero-copy Arrow memory
            if self.stage is None:
                self.stage = np.empty(tuple(self.block.shape), dtype=part.dtype)
            np.copyto(self.stage[:n], part)
            part = self.stage[:n]
        if part.dtype == np.float32:
            return torch.from_numpy(part)
        block = self.block[:n]  # (n, dim)
        block.copy_(torch.from_numpy(part))
        return block


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    """Temporarily set torch's intra-op threads (process-wide) to ``n``."""
    before = torch.get_num_threads()
    if before == n:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def page_chunks(offsets: np.ndarray, chunk_vectors: int) -> list[tuple[int, int]]:
    """Split pages ``0..n_pages`` into runs ``[first, last)`` of about ``chunk_vectors`` vectors each
    (a run always holds at least one page, so one huge page makes its own run).

    >>> page_chunks(np.array([0, 3, 5, 20, 22]), chunk_vectors=6)  # pages of 3, 2, 15 and 2 vectors
    [(0, 2), (2, 3), (3, 4)]
    """
    if chunk_vectors <= 0:
        raise ValueError(f"chunk_vectors must be positive, got {chunk_vectors}")
    n_pages = len(offsets) - 1
    runs: list[tuple[int, int]] = []
    first = 0
    while first < n_pages:
        # last page whose end stays within the budget, but at least one page
        last = int(np.searchsorted(offsets, offsets[first] + chunk_vectors, side="right")) - 1
        last = min(max(last, first + 1), n_pages)
        runs.append((first, last))
        first = last
    return runs


def pack(pages: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate page multi-vectors: ``(n_total_vectors, dim)`` and offsets ``(n_pages + 1,)``.

    >>> vectors, offsets = pack([np.ones((2, 4)), np.ones((3, 4))])
    >>> vectors.shape, offsets.tolist()
    ((5, 4), [0, 2, 5])
    """
    if not pages:
        raise ValueError("pack needs at least one page")
    lengths = np.array([p.shape[0] for p in pages], dtype=np.int64)  # (n_pages,)
    offsets = np.concatenate([[0], np.cumsum(lengths)])  # (n_pages + 1,)
    return np.concatenate(list(pages), axis=0), offsets


def top_k(scores: np.ndarray, doc_ids: Sequence[str], page_numbers: Sequence[int], k: int) -> np.ndarray:
    """Indices of the ``k`` best pages, ordered by score descending, then doc_id, then page number.

    The explicit tie-break makes results deterministic whatever order the pages were stored in.

    >>> top_k(np.array([0.5, 0.9, 0.9, 0.1]), ["b", "b", "a", "a"], [1, 2, 7, 1], k=3).tolist()
    [2, 1, 0]
    """
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape[0] == 0:
        return np.empty(0, dtype=np.int64)
    # np.lexsort sorts by the last key first
    order = np.lexsort((np.asarray(page_numbers), np.asarray(doc_ids, dtype=object).astype(str), -scores))
    return order[:k]


def _check_pair(query: np.ndarray, page: np.ndarray) -> None:
    if query.ndim != 2 or page.ndim != 2:
        raise ValueError(f"query and page must be 2-D (n, dim), got {query.shape} and {page.shape}")
    if query.shape[1] != page.shape[1]:
        raise ValueError(f"query dim {query.shape[1]} does not match page dim {page.shape[1]}")
    if query.shape[0] == 0:
        raise ValueError("a query needs at least one vector")
