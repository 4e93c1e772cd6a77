"""One entry point for page search: `searcher_for(store, mode)` -> an object with
``search(query, k=10, filters=None) -> list[PageHit]``.

- ``"exact"``: `ExactSearcher`, a bf16 scan of an in-memory cache with a proven bound and a float32
  re-score: the float32 brute-force top k and scores. Memory: about 192 KiB per 750-vector page.
- ``"two_stage"``: `TwoStageSearcher`, candidates from the LanceDB ANN index on the pooled first-stage
  column, exact MaxSim re-score on the stored vectors read by row id. Memory: the ANN index only.
- ``"auto"``: exact up to `AUTO_TWO_STAGE_PAGES` pages, two-stage above when the table carries the
  first-stage column (checked at every search, so a table that grows switches by itself).
"""

from __future__ import annotations

from typing import Literal, Protocol

import numpy as np

from ..embed.types import QueryEmbedding
from ..store.filters import Filters
from ..store.lance import PageStore
from ..store.row_ids import has_first_stage
from .exact import ExactSearcher
from .hits import PageHit
from .two_stage import TwoStageSearcher

SearchMode = Literal["auto", "exact", "two_stage"]
SEARCH_MODES: tuple[str, ...] = ("auto", "exact", "two_stage")
# Above this many pages "auto" goes two-stage: the exact scan costs ~35 ms per 1,000 pages on 2 idle
# cores (bf16) and ~190 KiB of RAM per page, growing with the table, while two-stage costs an ANN query
# plus 300-1,000 re-scored pages (`two_stage.candidates_for`) (benchmarks/README.md has the measured figures).
AUTO_TWO_STAGE_PAGES = 5_000


class Searcher(Protocol):
    """What every search mode offers."""

    def search(self, query: QueryEmbedding | np.ndarray, k: int = 10, filters: Filters | None = None) -> list[PageHit]:
        """The ``k`` best pages for ``query`` (a `QueryEmbedding` or ``(n, dim)`` array), best first."""
        ...


class AutoSearcher:
    """Exact while the table is small, two-stage once it is larger than ``threshold`` pages."""

    def __init__(self, store: PageStore, *, threshold: int = AUTO_TWO_STAGE_PAGES, cache: bool = True) -> None:
        self.store = store
        self.threshold = threshold
        self.exact = ExactSearcher(store, cache=cache)
        self.two_stage = TwoStageSearcher(store)

    def current(self) -> Searcher:
        """The searcher the next search will use."""
        if self.store.count() > self.threshold and has_first_stage(self.store):
            self.exact.clear_cache()  # the table outgrew the cache: give its memory back
            return self.two_stage
        return self.exact

    def search(self, query: QueryEmbedding | np.ndarray, k: int = 10, filters: Filters | None = None) -> list[PageHit]:
        """Search with `current`."""
        return self.current().search(query, k=k, filters=filters)


def searcher_for(
    store: PageStore, mode: str = "auto", *, threshold: int = AUTO_TWO_STAGE_PAGES, cache: bool = True
) -> Searcher:
    """The searcher for ``mode`` (``"auto"``, ``"exact"`` or ``"two_stage"``) over ``store``; ``cache``
    False makes exact search stream from LanceDB (one-shot use, as the CLI's) instead of caching."""
    if mode == "exact":
        return ExactSearcher(store, cache=cache)
    if mode == "two_stage":
        return TwoStageSearcher(store)
    if mode == "auto":
        return AutoSearcher(store, threshold=threshold, cache=cache)
    raise ValueError(f"search mode must be one of {', '.join(SEARCH_MODES)}; got {mode!r}")
