"""Grounding: propagate patch MaxSim onto region boxes and select the regions that answer (pure math).

`ground_page` turns a query and a stored page embedding into a `PageGrounding` (patch relevance map,
region scores, candidates including hot-spot figures; `ground_vectors` does the same from raw vectors);
`select` picks regions over several pages under `GroundingOptions` (per-page relative/percentile/top-k
filters, global top-k, token budget) into a `Selection` of `SelectedRegion`s. The steps in between live in
their modules: ``relevance.py`` (patch map, region scores), ``hotspots.py``, ``tables.py``, ``select.py``.
"""

from .ground import PageGrounding, ground_page, ground_vectors
from .options import GroundingOptions
from .select import SelectedRegion, Selection, select

__all__ = [
    "GroundingOptions",
    "PageGrounding",
    "SelectedRegion",
    "Selection",
    "ground_page",
    "ground_vectors",
    "select",
]
