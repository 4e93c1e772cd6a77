"""Ground one page: patch map, region scores and candidates (regions of the chosen level plus hot spots).

Query-time cost is pure math on vectors that come from the store: no model forward pass here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..embed.types import PageEmbedding, QueryEmbedding
from ..geometry import PatchGrid
from ..ingest.page import Region
from ..search.maxsim import maxsim
from .hotspots import hotspots
from .options import GroundingOptions
from .relevance import patch_relevance, region_coverage, region_relevance
from .tables import expand_large_tables

_DEFAULT = GroundingOptions()


@dataclass
class PageGrounding:
    """What grounding found on one page.

    ``relevance_map``: ``(n_rows, n_cols)``; ``regions``: candidates in reading order (the page's regions of
    the chosen level, then hot spots); ``scores``: ``(n_candidates,)`` region relevance; ``covered``:
    ``(n_candidates,)`` bool, False for regions that cover no cell (never selected); ``page_score``: the
    page's normalised retrieval score (MaxSim / query tokens) used in the combined score.
    """

    relevance_map: np.ndarray
    regions: list[Region]
    scores: np.ndarray
    covered: np.ndarray
    page_score: float = 0.0
    n_hotspots: int = 0

    @property
    def best(self) -> int | None:
        """Index of the best covered candidate (first in reading order on a tie), or None if there is none."""
        idx = np.flatnonzero(self.covered)
        if idx.size == 0:
            return None
        return int(idx[np.argmax(self.scores[idx])])


def regions_at_level(regions: Sequence[Region], level: str) -> list[Region]:
    """Regions of one level in their given (reading) order; figures and tables belong to every level."""
    return [r for r in regions if r.level == level or r.kind != "text"]


def normalised_page_score(query_vectors: np.ndarray, page_vectors: np.ndarray) -> float:
    """Normalised MaxSim (`search.maxsim.maxsim` / n_query_tokens) over all stored page vectors; 0.0 when
    the query or the page has no vectors."""
    q, d = np.asarray(query_vectors), np.asarray(page_vectors)
    if q.shape[0] == 0 or d.shape[0] == 0:
        return 0.0
    return maxsim(q, d) / q.shape[0]


def ground_vectors(
    query_vectors: np.ndarray,
    patch_vectors: np.ndarray,
    grid: PatchGrid,
    regions: Sequence[Region],
    augmentation_mask: np.ndarray | None = None,
    options: GroundingOptions = _DEFAULT,
    page_score: float = 0.0,
) -> PageGrounding:
    """Ground a page given raw arrays: ``patch_vectors`` is ``(n_rows * n_cols, dim)`` in raster order."""
    rmap = patch_relevance(query_vectors, patch_vectors, grid, augmentation_mask, options)  # (n_rows, n_cols)
    base = expand_large_tables(regions_at_level(regions, options.level), regions, options.table_max_tokens)
    cov = region_coverage(base, grid)  # (n_regions, n_patches)
    spots = hotspots(rmap, base, grid, options)
    candidates = base + spots
    if spots:
        cov = np.concatenate([cov, region_coverage(spots, grid)], axis=0)  # (n_candidates, n_patches)
    scores = region_relevance(rmap, candidates, grid, options, coverage=cov)
    return PageGrounding(
        relevance_map=rmap,
        regions=candidates,
        scores=scores,
        covered=cov.sum(axis=1) > 0,
        page_score=float(page_score),
        n_hotspots=len(spots),
    )


def ground_page(
    query: QueryEmbedding,
    page: PageEmbedding,
    regions: Sequence[Region],
    options: GroundingOptions = _DEFAULT,
    page_score: float | None = None,
) -> PageGrounding:
    """Ground one page for one query. ``page_score`` defaults to the normalised MaxSim over all the
    page's stored vectors (pass the search stage's score to avoid recomputing it)."""
    score = normalised_page_score(query.vectors, page.vectors) if page_score is None else page_score
    return ground_vectors(
        query.vectors, page.patch_vectors, page.grid, regions, query.augmentation, options, page_score=score
    )
