"""Reads of a `PageStore` by LanceDB row id: what the bf16 scan and two-stage search need.

The scan caches each page's row id with its vectors and re-scores candidates by `take_rows`; two-stage search
gets candidate row ids from the ANN index on the first-stage column (`first_stage_rows`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa

from ..errors import StoreError
from .filters import Filters
from .first_stage import FIRST_STAGE_COLUMN
from .lance import PageStore


def has_first_stage(store: PageStore) -> bool:
    """Whether the table carries the first-stage column of two-stage search."""
    return FIRST_STAGE_COLUMN in store.schema.names


def first_stage_rows(store: PageStore, query: np.ndarray, n: int, where: str | None, *, nprobes: int) -> np.ndarray:
    """Row ids ``(<= n,)`` of the best pages for ``query`` ``(n_q, dim)`` by the ANN search on the
    first-stage column, best ANN distance first (rows not yet indexed are scanned flat); ``where``: a
    validated filter."""
    if not has_first_stage(store):
        raise StoreError(
            f"{store.uri}: the index has no first stage for two-stage search; build it with "
            f"`colret optimize --db {store.uri}` (or PageStore.build_search_index())"
        )
    search = store.table.search(query.tolist(), vector_column_name=FIRST_STAGE_COLUMN).distance_type("cosine")
    search = search.nprobes(nprobes).select(["_distance"]).with_row_id(True).limit(n)
    if where:
        search = search.where(where, prefilter=True)
    return search.to_arrow().column("_rowid").to_numpy().astype(np.uint64)


def iter_rows(
    store: PageStore, columns: list[str], filters: Filters | None = None, *, batch_pages: int = 256
) -> Iterator[pa.RecordBatch]:
    """Stream ``columns`` and the LanceDB ``_rowid`` of every page matching ``filters`` (bounded memory)."""
    where = store.where(filters)
    query = store.table.search().select(columns).with_row_id(True)
    if where:
        query = query.where(where)
    for batch in query.limit(None).to_batches(batch_pages):
        if batch.num_rows:
            yield batch


def take_rows(store: PageStore, row_ids: Sequence[int], columns: list[str]) -> pa.Table:
    """``columns`` of the pages at LanceDB ``row_ids``, in the order asked (ids of the store's version)."""
    if not row_ids:
        return store.table.schema.empty_table().select(columns)
    table = store.table.take_row_ids(list(row_ids)).select(columns).with_row_id().to_arrow()
    at = {int(r): i for i, r in enumerate(table.column("_rowid").to_pylist())}
    missing = [r for r in row_ids if int(r) not in at]
    if missing:
        raise StoreError(f"{store.uri}: rows {missing[:5]} are gone (the table changed while it was searched)")
    return table.take(pa.array([at[int(r)] for r in row_ids])).drop_columns(["_rowid"])
