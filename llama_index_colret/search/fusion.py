"""Reciprocal rank fusion (RRF) of several rankings of the same items: pure, no I/O.

Used by hybrid retrieval (visual MaxSim fused with full-text BM25 over the page text) in the LlamaIndex
retriever; the CLI and the evaluation can call it the same way. An item's fused score is
``sum_i weight_i / (k + rank_i)`` over the rankings that hold it (ranks start at 1), as in Cormack et al.
(2009) with ``k = 60`` (LlamaIndex's ``QueryFusionRetriever`` also uses 60 but counts ranks from 0, so its
first place is worth 1/60 where ours is 1/61; orderings agree). Default weights are equal
(``VISUAL_WEIGHT = TEXT_WEIGHT = 1.0``): neither ranking's raw scores are compared, only ranks.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

RRF_K = 60.0
VISUAL_WEIGHT = 1.0
TEXT_WEIGHT = 1.0


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]], weights: Sequence[float] | None = None, k: float = RRF_K
) -> list[tuple[K, float]]:
    """Fuse ``rankings`` (each best first, items unique within a ranking) into ``(item, score)``, best first.

    Ties go to the item with the better best rank, then to the item seen first (ranking order, then rank).

    >>> reciprocal_rank_fusion([["a", "b"], ["b", "c"]])
    [('b', 0.03252247488101534), ('a', 0.01639344262295082), ('c', 0.016129032258064516)]
    >>> reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0, 2.0])[0][0]
    'b'
    """
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"got {len(weights)} weights for {len(rankings)} rankings")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k!r}")
    if any(w < 0 for w in weights):
        raise ValueError(f"weights must be >= 0, got {list(weights)}")
    score: dict[K, float] = {}
    best: dict[K, int] = {}
    first: dict[K, int] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        seen: set[K] = set()
        for rank, item in enumerate(ranking, start=1):
            if item in seen:
                raise ValueError(f"item {item!r} appears twice in one ranking")
            seen.add(item)
            score[item] = score.get(item, 0.0) + weight / (k + rank)
            best[item] = min(best.get(item, rank), rank)
            first.setdefault(item, len(first))
    order = sorted(score, key=lambda item: (-score[item], best[item], first[item]))
    return [(item, score[item]) for item in order]
