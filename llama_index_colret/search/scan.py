"""Exact top-k by a bf16 scan of an in-memory cache, re-scored in float32 on vectors read by row id.

The cache holds the scan dtype only (bf16 groups, see `bf16.ScanLayout`), keyed by the table version,
plus each page's keys and LanceDB row id. A search scans every page in bf16, keeps the pages whose
float32 score could reach the top k (`bf16.rescore_candidates`, a proven bound), reads exactly those
pages' float16 vectors from LanceDB by row id and scores them in float32 (`maxsim_packed`): top k and
scores equal float32 brute force over the stored vectors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..embed.types import QueryEmbedding
from ..errors import EmptyIndexError, IndexMismatchError, StoreError
from ..store.filters import Filters
from ..store.lance import PageStore, packed_vectors
from .exact import PageHit
from .bf16 import ScanLayout, rescore_candidates, scan_layout, scan_maxes, score_bounds
from .maxsim import maxsim_packed, top_k

KEY_COLUMNS = ["doc_id", "page_number", "file_name", "path"]
ZERO_QUERY_NORM = 1e-6


@dataclass
class ScoredPages:
    """Keys of scored pages and their exact float32 MaxSim (the input of a hit list)."""

    doc_ids: list[str]
    page_numbers: np.ndarray
    file_names: list[str]
    paths: list[str]
    scores: np.ndarray


def hits_from(scored: ScoredPages, k: int, n_q: int, store: PageStore) -> list[PageHit]:
    """The ``k`` best of ``scored`` as hits, best first (ties: doc_id, then page number)."""
    best = top_k(scored.scores, scored.doc_ids, scored.page_numbers, k)
    return [
        PageHit(
            doc_id=scored.doc_ids[i],
            page_number=int(scored.page_numbers[i]),
            file_name=scored.file_names[i],
            path=scored.paths[i],
            score=float(scored.scores[i]),
            normalized_score=float(scored.scores[i]) / n_q,
            n_query_vectors=n_q,
            store=store,
        )
        for i in best
    ]


def query_matrix(query: QueryEmbedding | np.ndarray, store: PageStore) -> np.ndarray:
    """The query as float32 ``(n_kept, dim)``, all-zero vectors dropped; clear errors for a bad query."""
    q = np.asarray(query.vectors if isinstance(query, QueryEmbedding) else query, dtype=np.float32)
    if q.ndim != 2:
        raise ValueError(f"a query must be (n_query_vectors, dim), got shape {q.shape}")
    if q.shape[1] != store.dim:
        raise IndexMismatchError(
            f"{store.uri}: query vectors are {q.shape[1]}-d, the index holds {store.dim}-d "
            f"vectors of {store.model_name!r}"
        )
    if not np.isfinite(q).all():
        raise ValueError("query vectors must be finite")
    q = q[np.linalg.norm(q, axis=1) >= ZERO_QUERY_NORM]  # (n_kept, dim): zero vectors are never queried
    if q.shape[0] == 0:
        raise ValueError("the query has no non-zero vectors")
    return q


def rescore_rows(store: PageStore, q: np.ndarray, row_ids: np.ndarray) -> ScoredPages:
    """Exact float32 MaxSim of the pages at LanceDB ``row_ids`` (float16 vectors read by row id)."""
    if row_ids.size == 0:
        return ScoredPages([], np.empty(0, np.int64), [], [], np.empty(0, np.float32))
    table = store.take_rows([int(r) for r in row_ids], [*KEY_COLUMNS, "vectors"])
    if table.num_rows != row_ids.size:
        raise StoreError(f"{store.uri}: {row_ids.size - table.num_rows} pages vanished while being read")
    packed = packed_vectors(table.column("vectors"), store.dim)
    scores = maxsim_packed(q, packed.vectors, packed.offsets)
    return ScoredPages(
        table.column("doc_id").to_pylist(),
        table.column("page_number").to_numpy().astype(np.int64),
        table.column("file_name").to_pylist(),
        table.column("path").to_pylist(),
        scores,
    )


@dataclass
class _Cache:
    """The scan layout of one table version and the keys and row id of each page in packed order."""

    version: int
    layout: ScanLayout
    row_ids: np.ndarray
    page_index: dict[tuple[str, int], int]


class ScanSearcher:
    """Exact MaxSim top-k: bf16 scan of a cached layout, float32 re-score of the pages that could win."""

    def __init__(self, store: PageStore, *, batch_pages: int = 256) -> None:
        self.store = store
        self.batch_pages = batch_pages
        self._cache: _Cache | None = None

    def search(self, query: QueryEmbedding | np.ndarray, k: int = 10, filters: Filters | None = None) -> list[PageHit]:
        """The ``k`` pages with the highest MaxSim, best first (ties: doc_id, then page number); scores are
        float32 MaxSim over the stored vectors, equal to brute force."""
        q = query_matrix(query, self.store)
        if k <= 0:
            raise ValueError(f"k must be positive, got {k}")
        return hits_from(self.search_pages(q, k, filters), k, q.shape[0], self.store)

    def search_pages(self, q: np.ndarray, k: int, filters: Filters | None) -> ScoredPages:
        """The exact top ``k`` (and ties at the bound) for a checked query matrix ``q`` ``(n_q, dim)``."""
        where = self.store.where(filters)
        cache = self._load()
        scores, bound = score_bounds(q, scan_maxes(q, cache.layout), cache.layout)
        if where:
            doc_ids, numbers = self.store.page_keys(filters)
            allowed = np.array([cache.page_index[(d, int(n))] for d, n in zip(doc_ids, numbers, strict=True)],
                               dtype=np.int64)
        else:
            allowed = np.arange(cache.layout.n_pages)
        if allowed.size == 0:
            return rescore_rows(self.store, q, np.empty(0, np.int64))
        chosen = allowed[rescore_candidates(scores[allowed], bound[allowed], k)]
        return rescore_rows(self.store, q, cache.row_ids[chosen])

    def clear_cache(self) -> None:
        """Drop the cached layout (the next search reads the table again)."""
        self._cache = None

    def _load(self) -> _Cache:
        """The cache for the current table version (read again after any write)."""
        version = self.store.version
        if self._cache is not None and self._cache.version == version:
            return self._cache
        self._cache = None
        if self.store.count() == 0:
            raise EmptyIndexError(f"{self.store.uri}: the index holds no pages")
        vectors = np.empty((self.store.total_vectors(), self.store.dim), dtype=np.float16)  # (n_total, dim)
        lengths, row_ids, keys = [], [], []
        at = 0
        for batch in self.store.iter_rows(["doc_id", "page_number", "vectors"], batch_pages=self.batch_pages):
            packed = packed_vectors(batch.column("vectors"), self.store.dim)
            n = packed.vectors.shape[0]
            if at + n > vectors.shape[0]:  # pages were added while reading
                vectors = np.concatenate([vectors, np.empty((at + n - vectors.shape[0], self.store.dim), np.float16)])
            vectors[at : at + n] = packed.vectors
            at += n
            lengths.append(np.diff(packed.offsets))
            row_ids.append(batch.column("_rowid").to_numpy())
            keys.extend(zip(batch.column("doc_id").to_pylist(), batch.column("page_number").to_pylist(), strict=True))
        lens = np.concatenate(lengths)  # (n_pages,)
        offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)  # (n_pages + 1,)
        layout = scan_layout(vectors[:at], offsets)
        del vectors
        cache = _Cache(version, layout, np.concatenate(row_ids).astype(np.uint64),
                       {(d, int(n)): i for i, (d, n) in enumerate(keys)})
        if self.store.version == version:  # not written to while read
            self._cache = cache
        return cache
