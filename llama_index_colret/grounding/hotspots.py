"""Hot spots: connected groups of highly relevant patches that no region covers become figure candidates.

A chart, photo or drawing without a text layer and without a detected figure region still shows up in the
patch map; this turns it into a `Region(kind="figure", source="hotspot")` so the generator can see a crop.
Pure numpy math.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..geometry import BBox, PatchGrid
from ..ingest.page import Region
from .options import GroundingOptions
from .relevance import region_coverage

_DEFAULT = GroundingOptions()


def hot_cells(rmap: np.ndarray, coverage: np.ndarray, grid: PatchGrid, options: GroundingOptions) -> np.ndarray:
    """Cells of the relevance map ``rmap`` that are hot and not covered by regions: ``(n_rows, n_cols)`` bool.

    Hot: min-max normalised relevance ``>= hotspot_threshold``. An all-equal map has no hot cells.
    Covered: more than ``hotspot_max_covered`` of the cell's area lies under regions (overlaps capped at 1);
    ``coverage`` is the regions' `region_coverage` ``(n_regions, n_patches)``.
    """
    r = np.asarray(rmap, dtype=np.float64)  # (n_rows, n_cols)
    lo, hi = float(r.min()), float(r.max())
    if not hi > lo:
        return np.zeros(r.shape, dtype=bool)
    hot = (r - lo) / (hi - lo) >= options.hotspot_threshold  # (n_rows, n_cols)
    cell_area = 1.0 / grid.n_patches
    covered_frac = np.minimum(coverage.sum(axis=0) / cell_area, 1.0)  # (n_patches,)
    covered = covered_frac.reshape(grid.n_rows, grid.n_cols) > options.hotspot_max_covered  # (n_rows, n_cols)
    return hot & ~covered


def connected_components(mask: np.ndarray) -> list[list[tuple[int, int]]]:
    """4-connected components of a boolean ``(n_rows, n_cols)`` mask, in raster order of their first cell."""
    n_rows, n_cols = mask.shape
    seen = np.zeros_like(mask, dtype=bool)
    components: list[list[tuple[int, int]]] = []
    for r0, c0 in zip(*np.nonzero(mask), strict=True):  # raster order
        if seen[r0, c0]:
            continue
        seen[r0, c0] = True
        stack, comp = [(int(r0), int(c0))], []
        while stack:
            r, c = stack.pop()
            comp.append((r, c))
            for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
                if 0 <= rr < n_rows and 0 <= cc < n_cols and mask[rr, cc] and not seen[rr, cc]:
                    seen[rr, cc] = True
                    stack.append((rr, cc))
        components.append(sorted(comp))
    return components


def hotspots(
    relevance_map: np.ndarray,
    regions: Sequence[Region],
    grid: PatchGrid,
    options: GroundingOptions = _DEFAULT,
) -> list[Region]:
    """Figure candidates from uncovered hot cells: one `Region` per component at least ``hotspot_min_side``
    cells tall AND wide (a one-cell band along a hot text region is that region's spill-over, not a figure).

    The box is the union of the component's cells; text is empty, kind ``"figure"``, source ``"hotspot"``,
    level ``options.level``. Ordered top-to-bottom, left-to-right by first cell. Empty when hot spots are off.
    """
    if not options.hotspots:
        return []
    mask = hot_cells(relevance_map, region_coverage(regions, grid), grid, options)
    out: list[Region] = []
    for comp in connected_components(mask):
        rows, cols = {r for r, _ in comp}, {c for _, c in comp}
        if min(len(rows), len(cols)) < options.hotspot_min_side:
            continue
        box = BBox.union_of([grid.cell_box(r, c) for r, c in comp])
        out.append(Region(text="", bbox=box, kind="figure", level=options.level, source="hotspot"))
    return out
