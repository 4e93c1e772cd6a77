"""Two-stage search for tables too large to scan: candidates from the LanceDB ANN index on the row-pooled
first-stage column, then exact float32 MaxSim on the stored float16 vectors of those pages, read by row id.

The ANN query is the query's content vectors only: query-augmentation tokens (`QueryEmbedding.augmentation`)
match no word, so they cannot point at a page, and each query vector is one ANN search. They still count in
the exact re-score. Measured at 11,000 pages (30 queries, 200 candidates): recall@10 0.94 against 0.89 with
every vector, in a third of the ANN time (benchmarks/scale.py).

How many candidates: the exact top 10 below the target page is a tail of near-ties that deepens as the
table grows, so a fixed count loses recall (`candidates_for`). Measured at 100,000 pages (30 queries,
benchmarks/README.md, session 6): 300 candidates recall@10 0.68 (p50 627 ms), 1,000 candidates 0.91
(985 ms); a perfect first stage on the same pooled column would need 300 for 0.95
(benchmarks/candidate_bounds.py).

Returned scores are exact MaxSim; the top k is exact whenever the true top k is among the candidates
(recall against exact search is measured by benchmarks/scale.py). Filters are pushed into the ANN query as
a LanceDB prefilter, so ``candidates`` pages matching the filter come back. New pages are found before
the index is refreshed (LanceDB scans unindexed rows flat), deleted ones never come back.
"""

from __future__ import annotations

import numpy as np

from ..embed.types import QueryEmbedding
from ..store.filters import Filters
from ..store.lance import PageStore, ensure_not_empty
from ..store.row_ids import first_stage_rows
from .hits import PageHit, content_vectors, hits_from, query_matrix
from .scan import rescore_rows

MIN_CANDIDATES = 300  # pages re-scored exactly per query up to 30k pages (recall@10 0.97 at 11k, 0.94 at 30k)
MAX_CANDIDATES = 1_000  # and from 100k pages on: each costs ~0.7 ms to read and score at 100k pages
PAGES_PER_CANDIDATE = 100  # between the two, one candidate per 100 pages: the near-tie tail grows with the table
DEFAULT_NPROBES = 8  # IVF partitions searched per query vector (100k pages, 12 of 12: 1.6x the ANN time, same recall)


def candidates_for(n_pages: int) -> int:
    """Default number of pages re-scored exactly for a table of ``n_pages``.

    >>> candidates_for(5_000), candidates_for(50_000), candidates_for(2_000_000)
    (300, 500, 1000)
    """
    return min(MAX_CANDIDATES, max(MIN_CANDIDATES, n_pages // PAGES_PER_CANDIDATE))


class TwoStageSearcher:
    """ANN candidates on the first-stage column, exact MaxSim re-score of each candidate page."""

    def __init__(self, store: PageStore, *, candidates: int | None = None, nprobes: int = DEFAULT_NPROBES) -> None:
        """``candidates``: pages re-scored per query; None follows the table's size (`candidates_for`)."""
        if (candidates is not None and candidates <= 0) or nprobes <= 0:
            raise ValueError(f"candidates and nprobes must be positive, got {candidates} and {nprobes}")
        self.store = store
        self.candidates = candidates
        self.nprobes = nprobes

    def search(self, query: QueryEmbedding | np.ndarray, k: int = 10, filters: Filters | None = None) -> list[PageHit]:
        """The ``k`` best of ``max(k, candidates)`` ANN candidates by exact MaxSim, best first."""
        q = query_matrix(query, self.store)
        if k <= 0:
            raise ValueError(f"k must be positive, got {k}")
        where = self.store.where(filters)
        pages = ensure_not_empty(self.store)
        n = self.candidates if self.candidates is not None else candidates_for(pages)
        ann_query = content_vectors(query, q)
        row_ids = first_stage_rows(self.store, ann_query, max(k, n), where, nprobes=self.nprobes)
        keys, scores = rescore_rows(self.store, q, row_ids)
        return hits_from(keys, scores, k, q.shape[0], self.store)
