"""Exact top-k page search by MaxSim over every stored page vector, computed here rather than by LanceDB.

Two paths, same results: with the cache (default), the float16 vectors of the whole table are held in
memory, keyed by the table version, and reloaded only after a write; without it (or when the table is
larger than ``max_cache_bytes``), vectors stream from LanceDB batch by batch with a running top-k, so
memory stays bounded by one batch. Metadata filters are pushed down to LanceDB ``.where()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..embed.types import QueryEmbedding
from ..errors import IndexMismatchError
from ..store.filters import Filters
from ..store.lance import PageStore, ensure_not_empty
from ..store.packed import PackedVectors, PageKeys
from ..store.records import PageRecord
from ..store.schema import ZERO_NORM
from .maxsim import DEFAULT_CHUNK_VECTORS, maxsim_packed, top_k

DEFAULT_MAX_CACHE_BYTES = 3 * 1024**3  # 3 GiB of float16 vectors: about 15,000 pages of 750 x 128


@dataclass(frozen=True)
class PageHit:
    """One retrieved page: identity, raw MaxSim and MaxSim per query vector; `record()` loads the page."""

    doc_id: str
    page_number: int
    file_name: str
    path: str
    score: float
    normalized_score: float
    n_query_vectors: int
    store: PageStore | None = field(default=None, repr=False, compare=False)

    def record(self) -> PageRecord:
        """The stored page (vectors, grid, regions, image) this hit points at."""
        if self.store is None:
            raise ValueError(f"hit {self.doc_id} p.{self.page_number} carries no store to load the page from")
        return self.store.get_page(self.doc_id, self.page_number)

    def to_dict(self) -> dict[str, object]:
        """The JSON form used by ``colret query --json``."""
        return {
            "doc_id": self.doc_id,
            "file_name": self.file_name,
            "path": self.path,
            "page_number": self.page_number,
            "score": self.score,
            "normalized_score": self.normalized_score,
        }


class ExactSearcher:
    """Exact MaxSim top-k over a `PageStore`, with an in-memory float16 cache keyed by table version."""

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
        self._cached: tuple[PageKeys, PackedVectors] | None = None
        self._cached_version: int | None = None
        self._row_of: dict[tuple[str, int], int] = {}

    def search(self, query: QueryEmbedding | np.ndarray, k: int = 10, filters: Filters | None = None) -> list[PageHit]:
        """The ``k`` pages with the highest MaxSim, best first (ties: doc_id, then page number).

        ``query`` is a `QueryEmbedding` or a ``(n_query_vectors, dim)`` array; all-zero query vectors are
        dropped (they add nothing to MaxSim) and the normalised score divides by the vectors kept.
        """
        q = self._query_matrix(query)
        where = self.store.where(filters)  # validates the filter fields first
        ensure_not_empty(self.store)
        if self._use_cache():
            pages, scores = self._score_cached(q, filters if where else None)
        else:
            pages, scores = self._score_streamed(q, filters, k)
        best = top_k(scores, pages.doc_ids, pages.page_numbers, k)
        n_q = q.shape[0]
        return [
            PageHit(
                doc_id=pages.doc_ids[i],
                page_number=int(pages.page_numbers[i]),
                file_name=pages.file_names[i],
                path=pages.paths[i],
                score=float(scores[i]),
                normalized_score=float(scores[i]) / n_q,
                n_query_vectors=n_q,
                store=self.store,
            )
            for i in best
        ]

    def clear_cache(self) -> None:
        """Drop the cached vectors (the next search reloads them)."""
        self._cached, self._cached_version, self._row_of = None, None, {}

    # -- internals ------------------------------------------------------------------------------

    def _query_matrix(self, query: QueryEmbedding | np.ndarray) -> np.ndarray:
        q = np.asarray(query.vectors if isinstance(query, QueryEmbedding) else query, dtype=np.float32)
        if q.ndim != 2:
            raise ValueError(f"a query must be (n_query_vectors, dim), got shape {q.shape}")
        if q.shape[1] != self.store.dim:
            raise IndexMismatchError(
                f"{self.store.uri}: query vectors are {q.shape[1]}-d, the index holds {self.store.dim}-d "
                f"vectors of {self.store.model_name!r}"
            )
        if not np.isfinite(q).all():
            raise ValueError("query vectors must be finite")
        q = q[np.linalg.norm(q, axis=1) >= ZERO_NORM]  # (n_kept, dim): zero vectors are never queried
        if q.shape[0] == 0:
            raise ValueError("the query has no non-zero vectors")
        return q

    def _use_cache(self) -> bool:
        if not self.cache:
            return False
        if self._cached_version == self.store.version:
            return True
        return self.store.total_vectors() * self.store.dim * 2 <= self.max_cache_bytes

    def _load_cache(self) -> tuple[PageKeys, PackedVectors]:
        """All keys and vectors of the table, read batch by batch into one preallocated float16 array."""
        version = self.store.version
        if self._cached is not None and self._cached_version == version:
            return self._cached
        self.clear_cache()
        vectors = np.empty((self.store.total_vectors(), self.store.dim), dtype=np.float16)  # (n_total, dim)
        keys: list[PageKeys] = []
        lengths: list[np.ndarray] = [np.empty(0, np.int64)]
        at = 0
        for batch_keys, batch in self.store.iter_packed(batch_pages=self.batch_pages):
            n = batch.vectors.shape[0]
            if at + n > vectors.shape[0]:  # pages were added while reading: grow (rare)
                grow = np.empty((at + n - vectors.shape[0], vectors.shape[1]), np.float16)  # (missing, dim)
                vectors = np.concatenate([vectors, grow])
            vectors[at : at + n] = batch.vectors
            at += n
            lengths.append(np.diff(batch.offsets))
            keys.append(batch_keys)
        offsets = np.concatenate([[0], np.cumsum(np.concatenate(lengths))]).astype(np.int64)  # (n_pages + 1,)
        cached = PageKeys.concat(keys), PackedVectors(vectors[:at], offsets)
        changed = self.store.version != version  # written to while read: read it again next time
        self._cached, self._cached_version = cached, (None if changed else version)
        keys_in_order = zip(cached[0].doc_ids, cached[0].page_numbers, strict=True)
        self._row_of = {(d, int(n)): i for i, (d, n) in enumerate(keys_in_order)}
        return cached

    def _score_cached(self, q: np.ndarray, filters: Filters | None) -> tuple[PageKeys, np.ndarray]:
        """Score the cached pages (those matching ``filters``): their keys and ``(n_pages,)`` scores."""
        keys, packed = self._load_cache()
        if filters is not None:
            doc_ids, numbers = self.store.page_keys(filters)
            rows = np.array([self._row_of[(d, int(n))] for d, n in zip(doc_ids, numbers, strict=True)], dtype=np.int64)
            keys, packed = keys.take(rows), packed.take(rows)
        return keys, self._maxsim(q, packed)

    def _score_streamed(self, q: np.ndarray, filters: Filters | None, k: int) -> tuple[PageKeys, np.ndarray]:
        """Score batch by batch, keeping only each batch's top-k (memory: one batch plus k pages per batch)."""
        kept: list[PageKeys] = []
        kept_scores: list[np.ndarray] = [np.empty(0, dtype=np.float32)]
        for keys, packed in self.store.iter_packed(filters, batch_pages=self.batch_pages):
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
