"""Every knob of grounding in one validated dataclass, with defaults chosen on the word-patch test double.

Defaults and why:

- ``patch_reduce="max"``: a patch is as relevant as its best-matching query token (DESIGN "Scoring").
- ``use_augmentation=False``: the query-augmentation pad tokens are kept for *page* scoring, where the
  models were trained to use them, but they match broadly (they summarise the whole query), so they blur
  the patch map; grounding uses the real query tokens only. A query made only of augmentation tokens
  falls back to all tokens.
- ``region_reduce="mean"``: the coverage-weighted mean of patch relevance over the region's cells.
- Selection: ``relative_alpha=0.5`` on each page (a region is a candidate when its score gets at least half
  way from the page's worst to its best region), at most ``top_k_per_page=3`` regions per page, at most
  ``top_k=3`` over all pages ranked by ``0.5 * region + 0.5 * page score`` (without the page score, a
  strong region on a weak page outranks the answer), no token budget, hot spots on. On the word-patch double
  (16 paragraph questions, top 3 pages, raster and tiled grids) this keeps the answer region for 16/16
  questions while handing over 30-32% of the tokens of those pages' regions (top_k=5: 42-45%).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any, Literal

from ..errors import GroundingError

PatchReduce = Literal["max", "mean", "votes"]
RegionReduce = Literal["mean", "max", "quantile"]
Level = Literal["block", "line"]

_CHOICES: dict[str, tuple[str, ...]] = {
    "patch_reduce": ("max", "mean", "votes"),
    "region_reduce": ("mean", "max", "quantile"),
    "table_reduce": ("mean", "max", "quantile"),
    "level": ("block", "line"),
}


@dataclass(frozen=True)
class GroundingOptions:
    """How patch similarities become region scores and which regions are handed to the generator.

    Patch map: ``patch_reduce`` over query tokens (``"max"``, ``"mean"``, or ``"votes"``: each token votes
    for its best patch, ties split the vote), ``use_augmentation`` (include query-augmentation tokens).
    Regions: ``region_reduce`` (coverage-weighted ``"mean"``, ``"max"``, or ``"quantile"``: the
    coverage-weighted mean of the cells at or above the region's ``quantile`` of cell relevance), ``level``
    of text regions (figures and tables belong to every level); ``table_reduce`` the same choice for tables
    (default ``"quantile"``: a large table is relevant through its best cells, not its average);
    ``table_max_tokens``: a table whose text costs more is offered row by row, each row led by the header
    row (``None``: tables stay whole).
    Selection per page: ``relative_alpha`` (keep ``score >= worst + alpha * (best - worst)``; ``None`` off),
    ``percentile`` (keep scores at or above this percentile of the page's scores, 0-100; ``None`` off),
    ``top_k_per_page``; over all pages: ``top_k`` and ``token_budget`` (``None`` off); ``page_weight`` mixes
    the page score into the combined score (``(1 - w) * region + w * page``). Hot spots: ``hotspots`` on/off,
    ``hotspot_threshold`` (a cell is hot when its min-max normalised relevance reaches it),
    ``hotspot_min_side`` (a component is kept when it spans at least this many rows and columns: a one-cell
    band along a hot text region is its spill-over), ``hotspot_max_covered`` (a cell counts as covered by
    regions when more than this fraction of its area lies under a region). ``figure_tokens`` is the token
    cost charged for a figure crop in the budget.
    """

    patch_reduce: PatchReduce = "max"
    use_augmentation: bool = False
    region_reduce: RegionReduce = "mean"
    table_reduce: RegionReduce = "quantile"
    table_max_tokens: int | None = 400
    quantile: float = 0.75
    level: Level = "block"
    relative_alpha: float | None = 0.5
    percentile: float | None = None
    top_k_per_page: int | None = 3
    top_k: int | None = 3
    token_budget: int | None = None
    page_weight: float = 0.5
    hotspots: bool = True
    hotspot_threshold: float = 0.8
    hotspot_min_side: int = 2
    hotspot_max_covered: float = 0.25
    figure_tokens: int = 256

    def __post_init__(self) -> None:
        for name, valid in _CHOICES.items():
            value = getattr(self, name)
            if value not in valid:
                raise GroundingError(f"GroundingOptions.{name}={value!r} is not one of {', '.join(valid)}")
        self._check_range("quantile", self.quantile, 0.0, 1.0)
        self._check_range("relative_alpha", self.relative_alpha, 0.0, 1.0)
        self._check_range("percentile", self.percentile, 0.0, 100.0)
        self._check_range("page_weight", self.page_weight, 0.0, 1.0)
        self._check_range("hotspot_threshold", self.hotspot_threshold, 0.0, 1.0)
        self._check_range("hotspot_max_covered", self.hotspot_max_covered, 0.0, 1.0)
        for name in (
            "top_k_per_page",
            "top_k",
            "token_budget",
            "table_max_tokens",
            "hotspot_min_side",
            "figure_tokens",
        ):
            value = getattr(self, name)
            if value is None and name in ("top_k_per_page", "top_k", "token_budget", "table_max_tokens"):
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise GroundingError(f"GroundingOptions.{name} must be a positive integer, got {value!r}")

    @staticmethod
    def _check_range(name: str, value: float | None, low: float, high: float) -> None:
        if value is None and name in ("relative_alpha", "percentile"):
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise GroundingError(f"GroundingOptions.{name} must be a number in [{low}, {high}], got {value!r}")

    @classmethod
    def field_names(cls) -> list[str]:
        """Names of every option (for CLI flags and error messages)."""
        return [f.name for f in fields(cls)]

    def replace(self, **changes: Any) -> GroundingOptions:
        """A copy with ``changes`` applied and validated like the constructor (`GroundingError` on a bad value);
        an unknown name is a TypeError listing the valid ones."""
        unknown = sorted(set(changes) - set(self.field_names()))
        if unknown:
            raise TypeError(f"unknown grounding option(s) {unknown}; valid: {', '.join(self.field_names())}")
        return dataclasses.replace(self, **changes)
