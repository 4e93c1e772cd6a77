"""Grounding: propagate patch MaxSim onto region boxes and select the regions that answer (pure math).

`ground_page` turns a query and a stored page embedding into a `PageGrounding` (patch relevance map,
region scores, candidates including hot-spot figures); `select` picks regions over several pages under
`GroundingOptions` (per-page relative/percentile/top-k filters, global top-k, token budget).
"""

from .granularity import LineRun
from .ground import PageGrounding, ground_page, ground_vectors, normalised_page_score
from .hotspots import connected_components, hot_cells, hotspots
from .options import GroundingOptions
from .relevance import patch_relevance, region_coverage, region_relevance, similarity
from .select import SelectedRegion, Selection, page_candidates, select
from .tables import estimate_tokens, expand_large_tables, table_rows

__all__ = [
    "GroundingOptions",
    "LineRun",
    "PageGrounding",
    "SelectedRegion",
    "Selection",
    "connected_components",
    "estimate_tokens",
    "expand_large_tables",
    "ground_page",
    "ground_vectors",
    "hot_cells",
    "hotspots",
    "normalised_page_score",
    "page_candidates",
    "patch_relevance",
    "region_coverage",
    "region_relevance",
    "select",
    "similarity",
    "table_rows",
]
