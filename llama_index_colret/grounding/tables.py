"""Large tables as row candidates: a table too long to hand the generator whole is offered row by row.

Ingestion stores a table as one ``table`` region (cells ``" | "``-joined, rows on lines) followed by its
cells as line regions. A table whose text costs more than ``table_max_tokens`` is replaced among the
candidates by one region per row (its cells, left to right), each led by the table's header row so the
generator still knows what the columns are. Pure: boxes and strings only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import median

from ..geometry import BBox
from ..ingest.page import Region


def estimate_tokens(region: Region, figure_tokens: int = 256) -> int:
    """Generator tokens a region costs: ``figure_tokens`` for a figure crop, else ~``len(text) / 4`` (>= 1)."""
    if region.kind == "figure":
        return figure_tokens
    return max(1, math.ceil(len(region.text) / 4))


def centre_inside(inner: BBox, outer: BBox, slack: float = 1e-3) -> bool:
    """Whether ``inner``'s centre lies in ``outer`` (cells sit inside their table's box)."""
    cx, cy = inner.center
    return outer.x0 - slack <= cx <= outer.x1 + slack and outer.y0 - slack <= cy <= outer.y1 + slack


def table_rows(table: Region, regions: Sequence[Region]) -> list[Region]:
    """One ``table`` region per row of ``table``, built from the line regions (cells) inside its box, top to
    bottom; every row after the first is led by the first (header) row. Empty when no cell is found or
    when the header row found shares under half its words with the table text's first row (a sideways
    table reads in another frame)."""
    cells = [r for r in regions if r.level == "line" and r.kind == "text" and centre_inside(r.bbox, table.bbox)]
    if not cells:
        return []
    tol = 0.5 * median(c.bbox.height for c in cells)
    rows: list[list[Region]] = []
    for cell in sorted(cells, key=lambda c: c.bbox.center[1]):
        if rows and cell.bbox.center[1] - rows[-1][0].bbox.center[1] <= tol:
            rows[-1].append(cell)
        else:
            rows.append([cell])
    texts = [" | ".join(c.text for c in sorted(row, key=lambda c: c.bbox.x0)) for row in rows]
    found, own = set(texts[0].split()), set(table.text.split("\n", 1)[0].split())
    if len(found & own) < 0.5 * len(found | own):
        return []  # the header found is not the table's own (e.g. sideways text read across): keep it whole
    out = []
    for i, (row, text) in enumerate(zip(rows, texts, strict=True)):
        full = text if i == 0 else f"{texts[0]}\n{text}"
        out.append(Region(full, BBox.union_of([c.bbox for c in row]), "table", "line", table.source))
    return out


def expand_large_tables(
    candidates: Sequence[Region], regions: Sequence[Region], max_tokens: int | None
) -> list[Region]:
    """``candidates`` with every table costing more than ``max_tokens`` replaced by its rows (see
    `table_rows`; a table whose cells are not among ``regions`` stays whole). ``None``: tables stay whole."""
    if max_tokens is None:
        return list(candidates)
    out: list[Region] = []
    for region in candidates:
        if region.kind == "table" and estimate_tokens(region) > max_tokens:
            out.extend(table_rows(region, regions) or [region])
        else:
            out.append(region)
    return out
