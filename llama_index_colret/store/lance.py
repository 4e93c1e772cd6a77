"""`PageStore`: the LanceDB table of pages (one row per page), opened from any LanceDB URI.

A document is written through `PageStore.begin_document` (the one write path, `store/staging.py`): claimed
once across processes, staged in chunks, published to ``pages`` in one commit, so readers only ever see
whole documents and two writers never double one; `add_document` is that path for a document in memory.
Commit conflicts with other writers are retried. The model identity and vector size are recorded in the
table schema; opening with another model is an `IndexMismatchError`.
Object storage (``s3://``, ``gs://``, ``az://``) takes LanceDB ``storage_options`` (endpoint, region, credentials,
``allow_http``) or the usual ``AWS_*`` environment; readers see each new table version on their next read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import lancedb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from PIL import Image

from ..embed.identity import canonical_name, identity_mismatch
from ..embed.types import PageEmbedding
from ..errors import IndexMismatchError, PageNotFoundError, StoreError
from ..ingest.page import Page
from .blank_centers import make_first_centers
from .filters import Filters, build_where, literal
from .first_stage import FIRST_STAGE_COLUMN, IndexReport, build_index, first_stage_type
from .location import connect, empty_index, ensure_not_empty, local_path  # noqa: F401  (ensure_not_empty: re-exported)
from .packed import KEY_COLUMNS, PackedVectors, PageKeys
from .records import DocumentInfo, PageRecord
from .retry import retry_conflicts
from .rows import promoted_metadata
from .schema import (
    FILTERABLE_CORE,
    METADATA_PREFIX,
    TABLE_NAME,
    build_schema,
    check_columns,
    metadata_arrow_type,
    metadata_columns,
    read_index_meta,
)
from .staging import STAGE_PREFIX, DocumentWriter, drop_stale_stages

_SQL_TYPES = {"bool": "BOOLEAN", "int64": "BIGINT", "double": "DOUBLE", "string": "STRING"}


class PageStore:
    """Pages, multi-vectors, regions, text and images of indexed PDFs in one LanceDB table."""

    def __init__(self, uri: str, table: Any, db: Any = None) -> None:
        """Wrap an open table (of connection ``db``); use `PageStore.open` or `PageStore.create`."""
        self.uri = uri
        self._table = table
        self._db = db
        meta = read_index_meta(table.schema, uri)
        check_columns(table.schema, uri)
        self.model_name: str = meta["model_name"]
        self.model_id: str | None = meta.get("model_id")  # None in indexes written before model identity
        self.dim: int = int(meta["dim"])

    # -- opening ------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        uri: str | Path,
        *,
        model_name: str | None = None,
        dim: int | None = None,
        model_id: str | None = None,
        storage_options: Mapping[str, str] | None = None,
        read_consistency_interval: timedelta | None = timedelta(0),
    ) -> PageStore:
        """Open the index at ``uri``; create it when absent and both ``model_name`` and ``dim`` are given.

        A model (``model_id``, else ``model_name``: `check_model`) or ``dim`` that disagrees with the recorded one
        is an `IndexMismatchError`.
        ``storage_options`` go to LanceDB (object storage); ``read_consistency_interval`` is how stale a read may
        be: 0 checks for a newer version before every read (readers see other processes' writes at once),
        None never does (the version opened, fewest object-store requests).
        """
        uri = str(uri)
        reading = model_name is None or dim is None
        local = local_path(uri, refuse_file=True)
        if local is not None and reading and not local.is_dir():  # reading never creates the folder
            raise empty_index(uri)
        db = connect(uri, storage_options, read_consistency_interval)
        if TABLE_NAME not in db.list_tables().tables:
            if reading:
                raise empty_index(uri)
            schema = build_schema(dim, model_name, model_id)
            schema = schema.append(pa.field(FIRST_STAGE_COLUMN, first_stage_type(dim), nullable=True))
            db.create_table(TABLE_NAME, schema=schema, exist_ok=True)
        store = cls(uri, db.open_table(TABLE_NAME), db)
        if model_name is not None or model_id is not None:
            store.check_model(model_name or "", model_id)
        if dim is not None and dim != store.dim:
            raise IndexMismatchError(f"{uri}: the index holds {store.dim}-d vectors, the model gives {dim}-d")
        return store

    @classmethod
    def create(
        cls,
        uri: str | Path,
        *,
        model_name: str,
        dim: int,
        model_id: str | None = None,
        storage_options: Mapping[str, str] | None = None,
    ) -> PageStore:
        """Create the index at ``uri`` (or open it when it exists for the same model and dim)."""
        return cls.open(uri, model_name=model_name, dim=dim, model_id=model_id, storage_options=storage_options)

    def check_model(self, model_name: str, model_id: str | None = None) -> None:
        """IndexMismatchError unless the model is the one recorded: the same identity when both are known (any
        path to the same folder; other weights in the same folder are refused), else the same canonical name
        (indexes written before model identity)."""
        if model_id is not None and self.model_id is not None:
            if (problem := identity_mismatch(self.model_id, model_id)) is None:
                return
            raise IndexMismatchError(
                f"{self.uri}: the index was built with model {self.model_name!r} ({self.model_id}); "
                f"{model_name or model_id!r} is another model ({model_id}): {problem}. Query it "
                "with the same model or index into another directory"
            )
        if model_name and canonical_name(model_name) != canonical_name(self.model_name):
            raise IndexMismatchError(
                f"{self.uri}: the index was built with model {self.model_name!r}, not {model_name!r}; "
                "query it with the same model or index into another directory"
            )

    @staticmethod
    def exists(uri: str | Path, storage_options: Mapping[str, str] | None = None) -> bool:
        """Whether ``uri`` holds a colret index (a missing local folder is not created to find out); StoreError
        when ``uri`` is a file."""
        local = local_path(str(uri), refuse_file=True)
        if local is not None and not local.is_dir():
            return False
        return TABLE_NAME in connect(str(uri), storage_options, None).list_tables().tables

    # -- state ---------------------------------------------------------------------------------

    @property
    def table(self) -> Any:
        """The LanceDB table of pages (for the row-id reads of `store.row_ids`)."""
        return self._table

    @property
    def version(self) -> int:
        """The table version: it changes with every write (the search cache is keyed by it)."""
        return int(self._table.version)

    def at_version(self, version: int) -> PageStore:
        """A read-only view of this index as it was at table ``version`` (a search reads keys and vectors of one
        version, however fast others write)."""
        table = self._connection().open_table(TABLE_NAME)
        table.checkout(version)
        return PageStore(self.uri, table, self._db)

    @property
    def schema(self) -> pa.Schema:
        return self._table.schema

    @property
    def metadata_fields(self) -> dict[str, pa.DataType]:
        """Filterable user-metadata keys and their types."""
        return metadata_columns(self.schema)

    def count(self, filters: Filters | None = None) -> int:
        """Number of stored pages (matching ``filters``)."""
        return int(self._table.count_rows(self.where(filters)))

    def where(self, filters: Filters | None) -> str | None:
        """The validated SQL condition for ``filters`` (None for no filter); FilterError on unknown fields."""
        schema = self.schema
        core = {name: schema.field(name).type for name in FILTERABLE_CORE}
        return build_where(filters, core, self.metadata_fields)

    # -- writing ---------------------------------------------------------------------------------

    def has_document(self, content_hash: str) -> str | None:
        """The doc_id of the stored document with this content hash, or None."""
        rows = self._select(["doc_id"], f"content_hash = {literal(content_hash, pa.string(), 'content_hash')}", 1)
        return rows.column("doc_id")[0].as_py() if rows.num_rows else None

    def begin_document(
        self,
        *,
        content_hash: str,
        file_name: str,
        path: str,
        n_pages: int,
        metadata: Mapping[str, Any] | None = None,
        doc_id: str | None = None,
    ) -> DocumentWriter | str | None:
        """Claim one document for writing in chunks (`DocumentWriter`: ``staged``, ``write_chunk``, then
        `finish_document`); the stored doc_id when its content hash is already stored; None when another live
        writer holds it (it will publish it). A dead writer's staged chunks are resumed, not redone.

        ``doc_id`` defaults to the first 16 hex digits of the hash; a doc_id held by another file is a StoreError.
        """
        existing = self.has_document(content_hash)
        if existing is not None:
            return existing
        doc = DocumentInfo(doc_id or content_hash[:16], file_name, path, content_hash, n_pages, dict(metadata or {}))
        promoted = promoted_metadata(doc.metadata, path)
        self._promote_metadata(promoted, path)
        writer = DocumentWriter.begin(self._connection(), self._table, doc, promoted, self.dim)
        if writer is None:  # a live writer holds it, or published it since the check above
            return self.has_document(content_hash)
        # Another writer may have published it (and be dropping its stage) since the check above: its rows are
        # committed before its drop starts, so this read sees them, and our new stage is never written.
        stored = self.has_document(content_hash)
        if stored is not None:
            writer.discard()
            return stored
        if self._select(["content_hash"], self._doc_where(doc.doc_id), 1).num_rows:
            writer.abort()
            raise StoreError(f"{path}: doc_id {doc.doc_id!r} already holds another file; delete it first")
        return writer

    def finish_document(self, writer: DocumentWriter) -> str | None:
        """Publish a claimed document in one commit and build the text index; its doc_id, or None when another
        writer published the same file first."""
        if not writer.publish(self.has_document):
            return None
        retry_conflicts(self._ensure_fts_index)
        make_first_centers(self._connection(), self._table, self.dim)
        return writer.doc.doc_id

    def add_document(
        self,
        *,
        content_hash: str,
        file_name: str,
        path: str,
        pages: Sequence[Page],
        embeddings: Sequence[PageEmbedding],
        images: Sequence[Image.Image | bytes],
        metadata: Mapping[str, Any] | None = None,
        doc_id: str | None = None,
    ) -> str | None:
        """Store every page of one document held in memory, atomically and once (`begin_document` with one
        chunk); its doc_id, or None when the file is already stored or another writer is storing it.
        Images are stored as PNG bytes."""
        writer = self.begin_document(
            content_hash=content_hash, file_name=file_name, path=path, n_pages=len(pages),
            metadata=metadata, doc_id=doc_id,
        )  # fmt: skip
        if not isinstance(writer, DocumentWriter):
            return None
        try:
            writer.write_chunk(pages, embeddings, images)
        except Exception:
            writer.abort()
            raise
        return self.finish_document(writer)

    def delete(self, doc_id: str) -> int:
        """Remove every page of ``doc_id``; return how many pages went."""
        where = self._doc_where(doc_id)
        n = int(self._table.count_rows(where))
        if n:
            retry_conflicts(lambda: self._table.delete(where))
        return n

    def optimize(self, *, cleanup_older_than: timedelta | None = None) -> None:
        """Compact the table's files and bring the full-text index up to date; with ``cleanup_older_than``,
        also delete versions older than that (``timedelta(0)``: keep only the latest, reclaiming disk). Drops the
        stage tables a writer killed between publishing and cleaning up left behind."""
        retry_conflicts(lambda: self._table.optimize(cleanup_older_than=cleanup_older_than))
        tables = self._connection().list_tables().tables
        if any(t.startswith(STAGE_PREFIX) for t in tables):  # stages of published documents whose writer died
            stored = set(self._select(["content_hash"], None, None).column("content_hash").to_pylist())
            drop_stale_stages(self._connection(), stored, tables)

    def build_search_index(self, *, retrain: bool = False) -> IndexReport:
        """Build or refresh the first stage of two-stage search: add and fill the pooled column where it is
        missing, (re)train the ANN index when some rows are not in it; see `store.first_stage`."""
        return build_index(self._connection(), self._table, self.dim, retrain=retrain)

    # -- reading --------------------------------------------------------------------------------

    def documents(self) -> list[DocumentInfo]:
        """Every stored document, ordered by doc_id."""
        return DocumentInfo.from_page_rows(self._select(list(DocumentInfo.COLUMNS), None, None).to_pylist())

    def get_page(self, doc_id: str, page_number: int) -> PageRecord:
        """One stored page; `PageNotFoundError` naming the page when it is not stored."""
        return self.get_pages([(doc_id, page_number)])[0]

    def get_pages(self, keys: Sequence[tuple[str, int]]) -> list[PageRecord]:
        """Stored pages for ``(doc_id, page_number)`` keys, in the order asked; `PageNotFoundError` for a missing
        one."""
        if not keys:
            return []
        by_doc: dict[str, list[int]] = {}
        for doc_id, number in keys:
            by_doc.setdefault(doc_id, []).append(int(number))
        where = " OR ".join(
            f"({self._doc_where(d)} AND page_number IN ({', '.join(str(n) for n in sorted(set(ns)))}))"
            for d, ns in by_doc.items()
        )
        table = self._select(None, where, None)
        packed = PackedVectors.from_column(table.column("vectors"), self.dim)
        found: dict[tuple[str, int], PageRecord] = {}
        for i, row in enumerate(table.drop_columns(["vectors"]).to_pylist()):
            found[(row["doc_id"], int(row["page_number"]))] = PageRecord.from_row(row, packed.page(i).copy())
        missing = [k for k in keys if (k[0], int(k[1])) not in found]
        if missing:
            raise PageNotFoundError(f"{self.uri}: pages not in the index: {missing}")
        return [found[(d, int(n))] for d, n in keys]

    def iter_packed(
        self, filters: Filters | None = None, *, batch_pages: int = 256
    ) -> Iterator[tuple[PageKeys, PackedVectors]]:
        """Stream keys and vectors of every page matching ``filters`` in batches of ``batch_pages`` (bounded memory)."""
        where = self.where(filters)
        query = self._table.search().select([*KEY_COLUMNS, "vectors"])
        if where:
            query = query.where(where)
        for batch in query.limit(None).to_batches(batch_pages):
            if batch.num_rows:
                yield PageKeys.from_batch(batch), PackedVectors.from_column(batch.column("vectors"), self.dim)

    def page_keys(self, filters: Filters | None = None) -> tuple[list[str], np.ndarray]:
        """``(doc_ids, page_numbers)`` of the pages matching ``filters`` (cheap: no vectors read)."""
        table = self._select(["doc_id", "page_number"], self.where(filters), None)
        return table.column("doc_id").to_pylist(), table.column("page_number").to_numpy().astype(np.int64)

    def total_vectors(self) -> int:
        """Number of vectors over all pages (to size the search cache before reading it)."""
        table = self._select(["n_vectors"], None, None)
        return int(pc.sum(table.column("n_vectors")).as_py() or 0)

    def text_search(self, text: str, k: int = 10, filters: Filters | None = None) -> list[tuple[str, int, float]]:
        """Full-text (BM25) search on page text: ``(doc_id, page_number, score)``, best first."""
        if self.count() == 0:
            return []
        retry_conflicts(self._ensure_fts_index)
        query = self._table.search(text, query_type="fts").select(["doc_id", "page_number", "_score"])
        where = self.where(filters)
        if where:
            query = query.where(where, prefilter=True)
        rows = query.limit(k).to_arrow().to_pylist()
        return [(r["doc_id"], int(r["page_number"]), float(r["_score"])) for r in rows]

    # -- internals ------------------------------------------------------------------------------

    def _select(self, columns: list[str] | None, where: str | None, limit: int | None) -> pa.Table:
        query = self._table.search()
        if columns is not None:
            query = query.select(columns)
        if where:
            query = query.where(where)
        return query.limit(limit).to_arrow()

    @staticmethod
    def _doc_where(doc_id: str) -> str:
        return f"doc_id = {literal(doc_id, pa.string(), 'doc_id')}"

    def _promote_metadata(self, promoted: Mapping[str, Any], path: str) -> None:
        """Add a nullable ``m_<key>`` column for each new filterable metadata key; check types of known ones."""
        known = self.metadata_fields
        new: dict[str, str] = {}
        for key, value in promoted.items():
            vtype = metadata_arrow_type(value)
            have = known.get(key)
            if have is None:
                new[METADATA_PREFIX + key] = f"CAST(NULL AS {_SQL_TYPES[str(vtype)]})"
            elif have != vtype and not (pa.types.is_floating(have) and pa.types.is_integer(vtype)):
                raise StoreError(f"{path}: metadata {key!r}={value!r} is {vtype}, the index stores {key!r} as {have}")
        if new:
            retry_conflicts(lambda: self._add_missing_columns(new))

    def _add_missing_columns(self, new: Mapping[str, str]) -> None:
        """Add the columns of ``new`` that another writer has not added meanwhile."""
        missing = {name: sql for name, sql in new.items() if name not in self._table.schema.names}
        if missing:
            self._table.add_columns(missing)

    def _connection(self) -> Any:
        """The LanceDB connection of this store (opened on first use when constructed from a table)."""
        if self._db is None:
            self._db = lancedb.connect(self.uri, read_consistency_interval=timedelta(0))
        return self._db

    def _ensure_fts_index(self) -> None:
        if not any(idx.columns == ["text"] for idx in self._table.list_indices()):
            from lancedb.index import FTS

            self._table.create_index("text", config=FTS())
