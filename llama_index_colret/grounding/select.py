"""Choose which grounded regions the generator gets: per-page filters, global top-k and a token budget.

Tie rule everywhere: higher score first, then earlier page (position in the input), then reading order
(position in the page's candidate list; hot spots come after the page's regions). Regions that cover no
cell are never selected. Pure math.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ingest.page import Region
from .granularity import LineRun
from .ground import PageGrounding
from .options import GroundingOptions
from .tables import estimate_tokens

_DEFAULT = GroundingOptions()
_EPS = 1e-9  # float slack so that alpha=1 always keeps the page's best region


@dataclass(frozen=True)
class SelectedRegion:
    """One region handed to the generator, with where it came from and why."""

    page_index: int  # position of its page in the groundings passed to `select`
    region_index: int  # position in that page's candidate list (`PageGrounding.regions`)
    region: Region  # what is handed over: the candidate, or the run of its lines (`run`)
    relevance: float  # region relevance on its page (the whole candidate's)
    page_score: float
    combined: float  # (1 - page_weight) * relevance + page_weight * page_score
    rank: int  # 1-based, in selection order
    tokens: int  # token cost of `region` (the trimmed text for a run)
    run: LineRun | None = None  # the run of the block's lines handed over, None for the whole candidate

    @property
    def granularity(self) -> str:
        """``"lines"`` when a run of the block's lines is handed over, else ``"block"``."""
        return "block" if self.run is None else "lines"

    def granularity_metadata(self) -> dict[str, Any]:
        """``{"granularity": "block"}``, or the run's ``granularity``, ``lines`` and ``block_lines``."""
        return {"granularity": "block"} if self.run is None else self.run.metadata()


@dataclass(frozen=True)
class Selection:
    """The selected regions in rank order, and how many of how many were kept (regions and tokens)."""

    regions: list[SelectedRegion]
    n_candidates: int  # covered candidates on all pages
    tokens_total: int  # token cost of all covered candidates

    @property
    def n_kept(self) -> int:
        return len(self.regions)

    @property
    def tokens_kept(self) -> int:
        return sum(r.tokens for r in self.regions)


def page_candidates(g: PageGrounding, options: GroundingOptions = _DEFAULT) -> list[int]:
    """Indices of the page's candidates that pass the per-page filters, best first (ties: reading order)."""
    idx = np.flatnonzero(g.covered)
    if idx.size == 0:
        return []
    s = g.scores[idx]  # (n_covered,)
    keep = np.ones(idx.size, dtype=bool)
    if options.relative_alpha is not None:
        lo, hi = float(s.min()), float(s.max())
        keep &= s >= lo + options.relative_alpha * (hi - lo) - _EPS
    if options.percentile is not None:
        keep &= s >= float(np.percentile(s, options.percentile, method="lower")) - _EPS
    idx, s = idx[keep], s[keep]
    order = np.lexsort((idx, -s))  # score desc, then reading order
    ranked = [int(i) for i in idx[order]]
    return ranked[: options.top_k_per_page] if options.top_k_per_page is not None else ranked


def select(groundings: Sequence[PageGrounding], options: GroundingOptions = _DEFAULT) -> Selection:
    """Select regions over all pages: per-page filters, rank by combined score, global ``top_k``, budget.

    The token budget walks the ranking and skips a region that would overflow it; the first-ranked region
    is always kept, so a budget never empties the answer. A selected candidate is handed over as
    `PageGrounding.offered` (its line run when adaptive granularity trimmed it), and costs that text's
    tokens; ``tokens_total`` counts every covered candidate whole.
    """
    w = options.page_weight
    pool: list[tuple[float, int, int]] = []  # (combined, page, region)
    n_candidates, tokens_total = 0, 0
    for p, g in enumerate(groundings):
        covered = np.flatnonzero(g.covered)
        n_candidates += int(covered.size)
        tokens_total += sum(estimate_tokens(g.regions[i], options.figure_tokens) for i in covered)
        for i in page_candidates(g, options):
            pool.append(((1 - w) * float(g.scores[i]) + w * g.page_score, p, i))
    pool.sort(key=lambda t: (-t[0], t[1], t[2]))
    if options.top_k is not None:
        pool = pool[: options.top_k]
    chosen: list[SelectedRegion] = []
    used = 0
    for combined, p, i in pool:
        g = groundings[p]
        region = g.offered(i)
        tokens = estimate_tokens(region, options.figure_tokens)
        if chosen and options.token_budget is not None and used + tokens > options.token_budget:
            continue
        used += tokens
        chosen.append(
            SelectedRegion(
                page_index=p,
                region_index=i,
                region=region,
                relevance=float(g.scores[i]),
                page_score=g.page_score,
                combined=combined,
                rank=len(chosen) + 1,
                tokens=tokens,
                run=g.runs[i],
            )
        )
    return Selection(regions=chosen, n_candidates=n_candidates, tokens_total=tokens_total)
