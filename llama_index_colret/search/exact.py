"""Exact top-k page search by MaxSim over every stored page vector, computed here rather than by LanceDB.

Two paths, same results (the float32 brute-force top k and scores): with the cache (default), the table's
vectors are held in memory in bf16, keyed by the table version and reloaded only after a write, scanned
in bf16 and the pages that could reach the top k re-scored in float32 (`search.scan`, `search.bf16`);
without it (or when the table is larger than ``max_cache_bytes``), float16 vectors stream from LanceDB
batch by batch with a running top-k, so memory stays bounded by one batch. Filters go to LanceDB ``.where()``.
"""

from __future__ import annotations

import numpy as np

from ..embed.types import QueryEmbedding
from ..store.filters import Filters
from ..store.lance import PageStore, ensure_not_empty
from ..store.packed import PackedVectors, PageKeys
from .hits import PageHit, hits_from, query_matrix
from .maxsim import DEFAULT_CHUNK_VECTORS, maxsim_packed, top_k
from .scan import ScanSearcher

DEFAULT_MAX_CACHE_BYTES = 3 * 1024**3  # 3 GiB of bf16 vectors: about 15,000 pages of 750 x 128

__all__ = ["DEFAULT_MAX_CACHE_BYTES", "ExactSearcher", "PageHit"]


class ExactSearcher:
    """Exact MaxSim top-k over a `PageStore`: bf16 scan of an in-memory cache keyed by table version
    with a float32 re-score, or float32 streaming for tables larger than the cache."""

    def __init__(
        self,
        store: PageStore,
        *,
        cache: bool = True,
        max_cache_bytes: int = DEFAULT_MAX_CACHE_BYTES,
        chunk_vectors: int = DEFAULT_CHUNK_VECTORS,
        batch_pages: int = 256,
    ) -> None:
        self.store = store
        self.cache = cache
        self.max_cache_bytes = max_cache_bytes
        self.chunk_vectors = chunk_vectors
        self.batch_pages = batch_pages
        self._scan = ScanSearcher(store, batch_pages=batch_pages)

    def search(self, query: QueryEmbedding | np.ndarray, k: int = 10, filters: Filters | None = None) -> list[PageHit]:
        """The ``k`` pages with the highest MaxSim, best first (ties: doc_id, then page number).

        ``query`` is a `QueryEmbedding` or a ``(n_query_vectors, dim)`` array; all-zero query vectors are
        dropped (they add nothing to MaxSim) and the normalised score divides by the vectors kept.
        """
        q = query_matrix(query, self.store)
        if k <= 0:
            raise ValueError(f"k must be positive, got {k}")
        self.store.where(filters)  # validates the filter fields first
        snapshot = self.store.at_version(self.store.version)  # keys, vectors and filter read at one version
        ensure_not_empty(snapshot)
        if self._use_cache(snapshot):
            keys, scores = self._scan.score(q, k, filters, snapshot)
        else:
            keys, scores = self._score_streamed(snapshot, q, filters, k)
        return hits_from(keys, scores, k, q.shape[0], self.store)

    def clear_cache(self) -> None:
        """Drop the cached vectors (the next search reloads them)."""
        self._scan.clear_cache()

    def _use_cache(self, snapshot: PageStore) -> bool:
        """Whether the table fits the cache budget (bf16: 2 bytes per value, as float16)."""
        if not self.cache:
            return False
        if self._scan.cached_version == snapshot.version:
            return True
        return snapshot.total_vectors() * snapshot.dim * 2 <= self.max_cache_bytes

    def _score_streamed(
        self, snapshot: PageStore, q: np.ndarray, filters: Filters | None, k: int
    ) -> tuple[PageKeys, np.ndarray]:
        """Score batch by batch, keeping only each batch's top-k (memory: one batch plus k pages per batch)."""
        kept: list[PageKeys] = []
        kept_scores: list[np.ndarray] = [np.empty(0, dtype=np.float32)]
        for keys, packed in snapshot.iter_packed(filters, batch_pages=self.batch_pages):
            scores = self._maxsim(q, packed)
            best = top_k(scores, keys.doc_ids, keys.page_numbers, k)
            kept.append(keys.take(best))
            kept_scores.append(scores[best])
        return PageKeys.concat(kept), np.concatenate(kept_scores)

    def _maxsim(self, q: np.ndarray, packed: PackedVectors) -> np.ndarray:
        """Raw MaxSim of ``q`` against each packed page: ``(n_pages,)`` float32 (empty for no pages)."""
        if packed.n_pages == 0:
            return np.empty(0, dtype=np.float32)
        return maxsim_packed(q, packed.vectors, packed.offsets, chunk_vectors=self.chunk_vectors)
