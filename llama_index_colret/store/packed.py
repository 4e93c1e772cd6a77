"""Pages as search sees them: `PageKeys` (who each page is) and `PackedVectors` (their vectors end to end).

Two types, because search holds them apart: the cache keeps keys and vectors of the whole table, a filter
takes a subset of both, and the streamed path keeps only the keys of each batch's best pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

KEY_COLUMNS = ["doc_id", "page_number", "file_name", "path"]


@dataclass
class PageKeys:
    """Identity of ``n_pages`` pages; ``page_numbers``: ``(n_pages,)`` int64."""

    doc_ids: list[str]
    page_numbers: np.ndarray
    file_names: list[str]
    paths: list[str]

    @property
    def n_pages(self) -> int:
        """Number of pages."""
        return len(self.doc_ids)

    @classmethod
    def from_batch(cls, batch: pa.RecordBatch | pa.Table) -> PageKeys:
        """The keys of a batch holding the `KEY_COLUMNS`."""
        return cls(
            doc_ids=batch.column("doc_id").to_pylist(),
            page_numbers=np.asarray(batch.column("page_number").to_numpy(), dtype=np.int64),
            file_names=batch.column("file_name").to_pylist(),
            paths=batch.column("path").to_pylist(),
        )

    @classmethod
    def concat(cls, parts: Sequence[PageKeys]) -> PageKeys:
        """The keys of several batches end to end."""
        return cls(
            doc_ids=[d for p in parts for d in p.doc_ids],
            page_numbers=np.concatenate([np.empty(0, np.int64)] + [p.page_numbers for p in parts]),
            file_names=[f for p in parts for f in p.file_names],
            paths=[x for p in parts for x in p.paths],
        )

    def take(self, rows: np.ndarray) -> PageKeys:
        """The keys at ``rows`` ``(n,)`` int64, in that order."""
        rows = np.asarray(rows, dtype=np.int64)
        return PageKeys(
            doc_ids=[self.doc_ids[i] for i in rows],
            page_numbers=self.page_numbers[rows],
            file_names=[self.file_names[i] for i in rows],
            paths=[self.paths[i] for i in rows],
        )


@dataclass
class PackedVectors:
    """Vectors of many pages end to end: ``vectors`` ``(n_total_vectors, dim)`` float16, page ``i`` owning
    rows ``offsets[i]:offsets[i + 1]``; ``offsets``: ``(n_pages + 1,)`` int64, starting at 0."""

    vectors: np.ndarray
    offsets: np.ndarray

    @property
    def n_pages(self) -> int:
        """Number of pages."""
        return len(self.offsets) - 1

    @classmethod
    def from_column(cls, column: pa.Array | pa.ChunkedArray, dim: int) -> PackedVectors:
        """A ``list<fixed_size_list<float16, dim>>`` column as float16 ``(n_total, dim)`` plus offsets (no copy
        of the values when the column is one chunk)."""
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        lengths = column.value_lengths().to_numpy(zero_copy_only=False).astype(np.int64)  # (n_pages,)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)  # (n_pages + 1,)
        flat = column.flatten().flatten().to_numpy(zero_copy_only=False)  # (n_total * dim,)
        return cls(flat.reshape(-1, dim), offsets)  # (n_total, dim)

    def page(self, i: int) -> np.ndarray:
        """The vectors of page ``i``: ``(n_vectors_i, dim)`` (a view)."""
        return self.vectors[self.offsets[i] : self.offsets[i + 1]]

    def take(self, rows: np.ndarray) -> PackedVectors:
        """The pages at ``rows`` ``(n,)`` int64, in that order, packed anew."""
        rows, dim = np.asarray(rows, dtype=np.int64), self.vectors.shape[1]
        if len(rows) == 0:
            return PackedVectors(np.empty((0, dim), self.vectors.dtype), np.zeros(1, np.int64))
        lengths = self.offsets[rows + 1] - self.offsets[rows]  # (n,)
        vectors = np.concatenate([self.page(i) for i in rows])  # (sum of lengths, dim)
        return PackedVectors(vectors, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))
