"""The first-stage column of the pages table and its LanceDB ANN index (two-stage search, `search.two_stage`).

- Column ``first_stage``: ``list<fixed_size_list<float16, dim>>``, nullable, the row-pooled vectors of the
  page less its blank runs (`search.first_stage.first_stage_vectors`, blank centers from
  `store.blank_centers`). Tables made by this version carry it and `PageStore.add_document` fills it; an
  older table gets it from `build_index` (added, then filled by a merge on the page key, which rewrites the
  rows once).
- Index: LanceDB IVF-RQ (RaBitQ, 1 bit per dimension: binarised codes, full vectors kept for the
  distance) on the multivector column, cosine. LanceDB answers a multivector query per query vector
  and aggregates per row. Partitions are LanceDB's default (8,192 rows, i.e. pages, each), so below ~100k
  pages the search is close to a flat 1-bit scan of the pooled vectors; more partitions cost recall and
  barely time, 2 bits cost time and no recall (measured at 20k and 100k pages, benchmarks/README.md;
  at 100k, 250 partitions took 643 s to train against 196 s and lost recall at every nprobes tried;
  8-bit IVF-SQ reaches recall 0.957 at 100k and 1,000 candidates but its ANN takes 3.6x as long, and a
  graph index would take hours to build: benchmarks/first_stage_index.py, benchmarks/README.md session 7).
- Freshness: rows added after the index was trained are not in it, and LanceDB's ANN search scans them
  flat (we never set ``fast_search``), so new pages are found at once; deleted rows are dropped by LanceDB.
  The flat scan of float16 multivectors is slow (about 2 s per 1,000 unindexed pages on 2 cores), so
  `build_index` retrains the index whenever rows are unindexed (about 4 s per 1,000 pages) and does
  nothing when all are indexed. It does not use LanceDB's ``optimize()`` to fold rows in: that also
  compacts the files, and under a million rows compaction rewrites the whole table (measured: 530 s for
  11,000 pages), where retraining reads only the pooled column.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ..geometry import PatchGrid
from ..search.first_stage import first_stage_vectors
from .blank_centers import ensure_centers, grid_key, load_centers
from .packed import PackedVectors
from .records import PageRecord

FIRST_STAGE_COLUMN = "first_stage"
_KEY = ["doc_id", "page_number"]


def first_stage_type(dim: int) -> pa.DataType:
    """Arrow type of the first-stage column: float16 multivector of ``dim``."""
    return pa.list_(pa.list_(pa.float16(), dim))


def first_stage_array(pooled: Sequence[np.ndarray], dim: int) -> pa.Array:
    """Per-page pooled ``(m_i, dim)`` arrays as the column's Arrow array (float16, no Python floats)."""
    flat = np.concatenate([np.asarray(p, np.float16) for p in pooled]).reshape(-1)  # (sum m_i * dim,)
    offsets = np.concatenate([[0], np.cumsum([p.shape[0] for p in pooled])]).astype(np.int32)  # (n_pages + 1,)
    inner = pa.FixedSizeListArray.from_arrays(pa.array(flat, type=pa.float16()), dim)
    return pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), inner)


def with_first_stage(
    table: pa.Table, records: Sequence[PageRecord], dim: int, centers: Mapping[str, np.ndarray]
) -> pa.Table:
    """``table`` (rows of ``records``) with its first-stage column filled; ``centers``: `load_centers`."""
    pooled = [first_stage_vectors(r.vectors, r.patch_positions, r.grid, centers.get(grid_key(r.grid))) for r in records]
    at = table.schema.get_field_index(FIRST_STAGE_COLUMN)
    return table.set_column(at, table.schema.field(at), first_stage_array(pooled, dim))


@dataclass(frozen=True)
class IndexReport:
    """What `build_index` did: rows filled, whether it (re)trained, the seconds it took, and the patch grids
    it gave blank centers."""

    filled_rows: int
    trained: bool
    indexed_rows: int
    seconds: float
    centers_made: int = 0


def build_index(db: Any, table: Any, dim: int, *, retrain: bool = False, batch_pages: int = 256) -> IndexReport:
    """Make the first stage of ``table`` (in ``db``) complete and indexed, with blank centers for every grid
    common enough (`ensure_centers`); see the module docstring for the policy."""
    start = time.perf_counter()
    if FIRST_STAGE_COLUMN not in table.schema.names:
        table.add_columns(pa.field(FIRST_STAGE_COLUMN, first_stage_type(dim), nullable=True))
    centers_made = ensure_centers(db, table, dim)
    filled = _fill_missing(table, dim, load_centers(db, dim), batch_pages)
    stats = table.index_stats(index_name()) if _has_index(table) else None
    stale = stats is None or stats.num_unindexed_rows > 0
    trained = table.count_rows() > 0 and (retrain or stale)
    if trained:
        from lancedb.index import IvfRq

        table.create_index(FIRST_STAGE_COLUMN, config=IvfRq(distance_type="cosine"), replace=True)
    after = table.index_stats(index_name()) if _has_index(table) else None
    indexed = int(after.num_indexed_rows) if after else 0
    return IndexReport(filled, trained, indexed, time.perf_counter() - start, centers_made)


def index_name() -> str:
    """The name LanceDB gives the first-stage index."""
    return f"{FIRST_STAGE_COLUMN}_idx"


def _has_index(table: Any) -> bool:
    return any(idx.columns == [FIRST_STAGE_COLUMN] for idx in table.list_indices())


def _fill_missing(table: Any, dim: int, centers: Mapping[str, np.ndarray], batch_pages: int) -> int:
    """Compute the first stage of every row that lacks it (tables from before the column); rows filled."""
    cols = [*_KEY, "vectors", "patch_positions", "grid"]
    query = table.search().where(f"{FIRST_STAGE_COLUMN} IS NULL").select(cols).limit(None)
    filled = 0
    for batch in query.to_batches(batch_pages):
        if not batch.num_rows:
            continue
        packed = PackedVectors.from_column(batch.column("vectors"), dim)
        rows = batch.select(["patch_positions", "grid"]).to_pylist()
        grids = [PatchGrid.from_dict(r["grid"]) for r in rows]
        pooled = [
            first_stage_vectors(packed.page(i), np.asarray(r["patch_positions"]), g, centers.get(grid_key(g)))
            for i, (r, g) in enumerate(zip(rows, grids, strict=True))
        ]
        update = pa.table(
            {
                "doc_id": batch.column("doc_id"),
                "page_number": batch.column("page_number"),
                FIRST_STAGE_COLUMN: first_stage_array(pooled, dim),
            }
        )
        table.merge_insert(_KEY).when_matched_update_all().execute(update)
        filled += batch.num_rows
    return filled
