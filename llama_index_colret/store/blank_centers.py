"""Blank centers of the first stage (`search.first_stage.blank_centers`), one set per patch grid, in the
LanceDB table ``first_stage_centers`` beside ``pages``.

Policy: the centers of a grid are made once, from pages spread over the table (`SAMPLE_PAGES`), and never
changed, so every stored first stage stays what it was written as:
- in the write path, once, when the table first holds `CENTER_MIN_PAGES` pages (enough documents that a
  template repeated on one document's pages is not taken for empty paper);
- by `build_index`, for every grid that has none yet and enough sampled pages (`MIN_GRID_PAGES`).
Pages written before their grid had centers keep every pooled run. That costs scan time, not results:
a blank run is not the best match of a word the page holds (the cells with the word score far higher), so
it can only move the first-stage score of a page that lacks a query word (recall at 20,000 pages was the
same with and without blank runs). Nothing is rewritten: a merge of the column rewrites whole rows
(13 s per 2,000 pages measured, so about 11 minutes at 100k).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa

from ..geometry import PatchGrid
from ..search.first_stage import blank_centers
from .packed import PackedVectors

CENTERS_TABLE = "first_stage_centers"
CENTER_MIN_PAGES = 1_000  # pages stored before the write path makes the first centers
SAMPLE_PAGES = 512  # pages read, evenly spaced over the table, to make centers
MIN_GRID_PAGES = 64  # sampled pages of one grid needed for its centers

log = logging.getLogger(__name__)


def grid_key(grid: PatchGrid) -> str:
    """The key of a grid's centers: its `PatchGrid.to_dict` as sorted JSON."""
    return json.dumps(grid.to_dict(), sort_keys=True)


def load_centers(db: Any, dim: int) -> dict[str, np.ndarray]:
    """Every stored set of centers, ``grid_key -> (n_cells, dim)`` float32; the first row of a grid wins
    (two writers racing may both add one)."""
    table = _open(db)
    if table is None:
        return {}
    rows = table.to_arrow()
    out: dict[str, np.ndarray] = {}
    flats = rows.column("centers").to_numpy(zero_copy_only=False)
    for key, flat in zip(rows.column("grid").to_pylist(), flats, strict=True):
        out.setdefault(key, np.asarray(flat, dtype=np.float32).reshape(-1, dim))  # (n_cells, dim)
    return out


def make_first_centers(db: Any, pages: Any, dim: int) -> int:
    """The write path's trigger: make centers when there are none yet and ``pages`` holds `CENTER_MIN_PAGES`.
    A failure is logged, not raised: the document is already stored, and centers only speed the scan up."""
    if _open(db) is not None:
        return 0
    try:
        return ensure_centers(db, pages, dim, min_pages=CENTER_MIN_PAGES)
    except (OSError, RuntimeError, ValueError) as exc:
        log.warning("%s: first-stage centers not made (%s); `colret optimize` makes them", db.uri, exc)
        return 0


def ensure_centers(
    db: Any,
    pages: Any,
    dim: int,
    *,
    min_pages: int = CENTER_MIN_PAGES,
    sample_pages: int = SAMPLE_PAGES,
    min_grid_pages: int = MIN_GRID_PAGES,
) -> int:
    """Make the centers of every grid that has none and ``min_grid_pages`` pages in an evenly spaced sample
    of ``sample_pages``, once the table holds ``min_pages``; the number of grids given centers."""
    n = pages.count_rows()
    if n < min_pages:
        return 0
    have = load_centers(db, dim)
    offsets = np.unique(np.linspace(0, n - 1, min(n, sample_pages)).astype(np.int64))
    grids = pages.take_offsets(offsets.tolist()).select(["grid"]).to_arrow().column("grid").to_pylist()
    keys = [grid_key(PatchGrid.from_dict(g)) for g in grids]
    wanted = {k for k, count in Counter(keys).items() if count >= min_grid_pages and k not in have}
    if not wanted:  # every common grid has centers: the vectors are not read (an optimize pays only the grids)
        return 0
    chosen = [i for i, k in enumerate(keys) if k in wanted]
    batch = pages.take_offsets(offsets[chosen].tolist()).select(["vectors", "patch_positions"]).to_arrow()
    packed = PackedVectors.from_column(batch.column("vectors"), dim)
    groups: dict[str, list[np.ndarray]] = {}
    for i, positions in enumerate(batch.column("patch_positions").to_pylist()):
        groups.setdefault(keys[chosen[i]], []).append(packed.page(i)[np.asarray(positions)])  # (n_cells, dim)
    made = [{"grid": key, "centers": blank_centers(np.stack(cells)).reshape(-1)} for key, cells in groups.items()]
    if made:
        _append(db, pa.Table.from_pylist(made, schema=_SCHEMA))
    return len(made)


_SCHEMA = pa.schema([pa.field("grid", pa.string()), pa.field("centers", pa.list_(pa.float32()))])


def _open(db: Any) -> Any | None:
    """The centers table, or None when no centers were made yet."""
    try:
        return db.open_table(CENTERS_TABLE)
    except (ValueError, FileNotFoundError, RuntimeError, OSError):
        return None


def _append(db: Any, rows: pa.Table) -> None:
    """Add rows to the centers table, creating it (another writer creating it first is fine)."""
    table = _open(db)
    if table is None:
        try:
            db.create_table(CENTERS_TABLE, rows, exist_ok=False)
            return
        except (ValueError, OSError, RuntimeError):
            table = _open(db)
            if table is None:
                raise
    table.add(rows)
