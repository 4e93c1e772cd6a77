"""Exact top-k by a bf16 scan of an in-memory cache, re-scored in float32 on vectors read by row id.

The cache holds the scan dtype only (bf16 groups, see `bf16.ScanLayout`), keyed by the table version,
plus each page's key and LanceDB row id. A search scans every page in bf16, keeps the pages whose
float32 score could reach the top k (`bf16.rescore_candidates`, a proven bound), reads exactly those
pages' float16 vectors from LanceDB by row id and scores them in float32 (`maxsim_packed`): top k and
scores equal float32 brute force over the stored vectors.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..store.filters import Filters
from ..store.lance import PageStore, ensure_not_empty
from ..store.packed import KEY_COLUMNS, PackedVectors, PageKeys
from ..store.row_ids import iter_rows, take_rows
from .bf16 import ScanLayout, rescore_candidates, scan_layout, scan_maxes, score_bounds
from .maxsim import maxsim_packed

TAKE_PARTS = 4  # concurrent LanceDB reads per re-score, each scored as soon as it arrives
MIN_PAGES_PER_TAKE = 32  # fewer candidates are read in one call (the exact scan re-scores a handful)
_RESCORE_COLUMNS = [*KEY_COLUMNS, "vectors"]


def rescore_rows(
    store: PageStore, q: np.ndarray, row_ids: np.ndarray, *, parts: int = TAKE_PARTS
) -> tuple[PageKeys, np.ndarray]:
    """Keys and exact float32 MaxSim ``(n,)`` of the pages at LanceDB ``row_ids`` (float16 vectors read by id),
    in the order of ``row_ids``.

    The ids are read in up to ``parts`` concurrent takes and each part is scored while later ones are still
    being read: LanceDB decodes a take on its own threads, so reading overlaps scoring (measured at 20,000
    pages, 300 candidates, read and scored: 118-131 ms in 4 parts against 150-155 ms in one take).
    """
    row_ids = np.asarray(row_ids)
    n_parts = max(1, min(parts, len(row_ids) // MIN_PAGES_PER_TAKE))
    chunks = [chunk.tolist() for chunk in np.array_split(row_ids, n_parts)]  # Python ints, in order
    with ThreadPoolExecutor(n_parts, thread_name_prefix="colret-take") as pool:
        tables = [pool.submit(take_rows, store, chunk, _RESCORE_COLUMNS) for chunk in chunks]
        scored = [_rescore_table(store, q, table.result()) for table in tables]  # in order, as they arrive
    return PageKeys.concat([keys for keys, _ in scored]), np.concatenate([scores for _, scores in scored])


def _rescore_table(store: PageStore, q: np.ndarray, table: pa.Table) -> tuple[PageKeys, np.ndarray]:
    """Keys and exact float32 MaxSim of the pages of ``table`` (key columns and ``vectors``)."""
    packed = PackedVectors.from_column(table.column("vectors"), store.dim)
    if packed.n_pages == 0:
        return PageKeys.from_batch(table), np.empty(0, np.float32)
    return PageKeys.from_batch(table), maxsim_packed(q, packed.vectors, packed.offsets)


@dataclass
class _Cache:
    """The scan layout of one table version, and the key and row id of each page in packed order."""

    version: int
    layout: ScanLayout
    row_ids: np.ndarray
    page_index: dict[tuple[str, int], int]


class ScanSearcher:
    """bf16 scan of a cached layout, float32 re-score of the pages that could win: exact top k."""

    def __init__(self, store: PageStore, *, batch_pages: int = 256) -> None:
        self.store = store
        self.batch_pages = batch_pages
        self._cache: _Cache | None = None

    def score(
        self, q: np.ndarray, k: int, filters: Filters | None, store: PageStore | None = None
    ) -> tuple[PageKeys, np.ndarray]:
        """Keys and exact scores of every page that could be in the top ``k`` for the checked query ``q``;
        ``store``: a view of one table version (`PageStore.at_version`) that keys, filter and re-score read."""
        store = store or self.store
        where = store.where(filters)
        cache = self._load(store)
        scores, bound = score_bounds(q, scan_maxes(q, cache.layout), cache.layout)
        if where:
            doc_ids, numbers = store.page_keys(filters)
            allowed = np.array(
                [cache.page_index[(d, int(n))] for d, n in zip(doc_ids, numbers, strict=True)], dtype=np.int64
            )
        else:
            allowed = np.arange(cache.layout.n_pages)
        chosen = allowed[rescore_candidates(scores[allowed], bound[allowed], k)] if allowed.size else allowed
        return rescore_rows(store, q, cache.row_ids[chosen])

    @property
    def cached_version(self) -> int | None:
        """The table version the cache holds (None when empty)."""
        return self._cache.version if self._cache is not None else None

    def clear_cache(self) -> None:
        """Drop the cached layout (the next search reads the table again)."""
        self._cache = None

    def _load(self, store: PageStore) -> _Cache:
        """The cache of ``store``'s table version (read again after any write)."""
        version = store.version
        if self._cache is not None and self._cache.version == version:
            return self._cache
        self._cache = None
        ensure_not_empty(store)
        vectors = np.empty((store.total_vectors(), store.dim), dtype=np.float16)  # (n_total, dim)
        lengths, row_ids, keys = [np.empty(0, np.int64)], [np.empty(0, np.uint64)], []
        at = 0
        for batch in iter_rows(store, ["doc_id", "page_number", "vectors"], batch_pages=self.batch_pages):
            packed = PackedVectors.from_column(batch.column("vectors"), store.dim)
            n = packed.vectors.shape[0]
            if at + n > vectors.shape[0]:  # pages were added while reading: grow (rare)
                vectors = np.concatenate([vectors, np.empty((at + n - vectors.shape[0], store.dim), np.float16)])
            vectors[at : at + n] = packed.vectors
            at += n
            lengths.append(np.diff(packed.offsets))
            row_ids.append(batch.column("_rowid").to_numpy().astype(np.uint64))
            keys.extend(zip(batch.column("doc_id").to_pylist(), batch.column("page_number").to_pylist(), strict=True))
        offsets = np.concatenate([[0], np.cumsum(np.concatenate(lengths))]).astype(np.int64)  # (n_pages + 1,)
        layout = scan_layout(vectors[:at], offsets)
        del vectors
        index = {(d, int(n)): i for i, (d, n) in enumerate(keys)}
        cache = _Cache(version, layout, np.concatenate(row_ids), index)
        if store.version == version:  # not written to while read (else read again next time)
            self._cache = cache
        return cache
