"""The one write path of a document: claimed once across processes, staged in chunks, published in one commit.

Why not ``merge_insert`` keyed on (content_hash, page_number): measured on lancedb 0.40 with 4 processes
inserting the same 20 three-page documents (``scripts/lance_conflicts.py``, 5 runs per mode), insert-only
``merge_insert`` left 3 to 36 duplicate rows in 4 runs of 5 and upsert 6 to 12 in 2 of 5, with no error; plain
``add`` doubled every
row. Why not a lock file: object storage has no locks. What Lance does make exclusive is **creating a
table** (version 1 of a table is committed only if absent: an atomic link/rename locally, a put-if-absent on
object storage): 4 processes racing to create the same 30 tables never both won one. So:

1. **Claim.** `DocumentWriter.begin` creates the stage table ``_stage_<content_hash>_<generation>`` with
   ``exist_ok=False``; the winner owns the document (its host, pid and start time are in the stage's schema
   metadata). A loser finds a live owner and reports the document ``busy`` (the owner will publish it).
2. **Resume.** An owner that died (same host and its pid gone, or another host and no commit for
   `STALE_AFTER`) is replaced by whoever claims the next generation; the pages already staged in any
   generation are not redone (`DocumentWriter.staged`).
3. **Chunks.** `write_chunk` appends a chunk of pages to the stage: one commit, invisible to readers of
   ``pages``, so memory is bounded by the chunk, and a kill loses at most the chunk in flight.
4. **Publish.** `PageStore.begin_document` checks ``pages`` for the hash again right after the claim: a writer
   that published since the first check committed its rows before it started dropping its stage, so a claim
   made while that stage was being dropped (the same table name, whose files the drop may still delete) is
   dropped unwritten and the document reported as stored. `publish` checks once more, streams the staged
   rows, each page once, into ``pages`` with one ``add`` (one commit: the document appears whole), then
   drops the stage tables. Commit conflicts are retried (`retry_conflicts`).

The ``pages`` table holds only complete documents, so readers filter nothing and old indexes open as they
are. Stage tables left by a writer killed after its ``add`` and before the drop are harmless (the hash is
stored, so nobody stages it again) and are dropped by `drop_stale_stages`.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import pyarrow as pa
from PIL import Image

from ..embed.types import PageEmbedding
from ..errors import raise_if_disk_problem
from ..ingest.page import Page
from .blank_centers import load_centers
from .first_stage import FIRST_STAGE_COLUMN, with_first_stage
from .records import DocumentInfo
from .retry import retry_conflicts
from .rows import page_records, records_table

STAGE_PREFIX = "_stage_"
STAGE_META_KEY = b"colret_stage"
STALE_AFTER = timedelta(hours=1)  # an owner on another host that committed nothing for this long is dead
PUBLISH_BATCH_ROWS = 64
Claim = Literal["claimed", "busy"]

_LIVE_STAGES: set[str] = set()  # stage tables owned by writers alive in this process


def stage_name(content_hash: str, generation: int) -> str:
    """The stage table of one generation of one document."""
    return f"{STAGE_PREFIX}{content_hash}_{generation}"


def _owner() -> dict[str, Any]:
    """This process as a stage owner: host, pid and start time (so a reused pid is not taken for the owner)."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "started": _process_start(os.getpid())}


def _process_start(pid: int) -> str | None:
    """The start time of ``pid`` in clock ticks since boot (Linux ``/proc``), None where unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def owner_alive(owner: dict[str, Any], last_commit: datetime, name: str) -> bool:
    """Whether the writer that owns stage ``name`` may still be running (see the module docstring)."""
    if owner.get("host") != socket.gethostname():
        return datetime.now(timezone.utc) - last_commit < STALE_AFTER
    pid = int(owner.get("pid", -1))
    if pid == os.getpid():
        return name in _LIVE_STAGES
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return owner.get("started") is None or owner.get("started") == _process_start(pid)


def _open(db: Any, name: str) -> Any | None:
    """The table ``name``, or None when it does not exist."""
    try:
        return db.open_table(name)
    except (ValueError, FileNotFoundError, RuntimeError, OSError):
        return None


@dataclass
class DocumentWriter:
    """One document being written by this process: its stage tables and the pages already staged there."""

    db: Any
    pages_table: Any
    doc: DocumentInfo
    promoted: dict[str, Any]
    dim: int
    generation: int
    stages: list[Any] = field(default_factory=list)  # every generation, oldest first; the last is ours
    staged: set[int] = field(default_factory=set)  # page numbers already in a stage
    centers: dict[str, Any] | None = None  # blank centers of the first stage, read at the first chunk

    @classmethod
    def begin(
        cls, db: Any, pages_table: Any, doc: DocumentInfo, promoted: dict[str, Any], dim: int
    ) -> DocumentWriter | None:
        """Claim the document (a new stage table), resuming a dead owner's stages; None when a live writer
        holds it."""
        older: list[Any] = []
        generation = 0
        while (stage := _open(db, stage_name(doc.content_hash, generation))) is not None:
            older.append(stage)
            generation += 1
        if older and _stage_alive(older[-1]):
            return None
        meta = dict(pages_table.schema.metadata or {})
        meta[STAGE_META_KEY] = json.dumps(_owner()).encode()
        name = stage_name(doc.content_hash, generation)
        try:
            ours = db.create_table(name, schema=pages_table.schema.with_metadata(meta), exist_ok=False)
        except (ValueError, OSError, RuntimeError) as exc:  # another writer claimed this generation first
            raise_if_disk_problem(exc, getattr(db, "uri", None))  # unless the disk refused the write
            return None
        _LIVE_STAGES.add(name)
        writer = cls(db, pages_table, doc, promoted, dim, generation, [*older, ours])
        writer.staged = {n for stage in older for n in _page_numbers(stage)}
        return writer

    def write_chunk(
        self, pages: Sequence[Page], embeddings: Sequence[PageEmbedding], images: Sequence[Image.Image | bytes]
    ) -> None:
        """Stage one chunk of pages (one commit, invisible to readers); pages already staged are refused."""
        again = sorted(self.staged & {p.number for p in pages})
        if again:
            raise ValueError(f"{self.doc.path}: pages {again} are already staged")
        records = page_records(self.doc, pages, embeddings, images, self.dim)
        table = records_table(self.stages[-1].schema, records, self.promoted)
        if FIRST_STAGE_COLUMN in table.schema.names:
            if self.centers is None:  # read here: the claim's window must stay short (docstring, 4.)
                self.centers = load_centers(self.db, self.dim)
            table = with_first_stage(table, records, self.dim, self.centers)
        retry_conflicts(lambda: self.stages[-1].add(table))
        self.staged.update(p.number for p in pages)

    def publish(self, has_document: Any) -> bool:
        """Move the staged pages into ``pages`` in one commit and drop the stages; False (stages dropped, nothing
        written) when ``has_document(content_hash)`` finds another writer published it first."""
        published = has_document(self.doc.content_hash) is None
        if published:
            retry_conflicts(self._append_staged)
        self.discard()
        return published

    def abort(self) -> None:
        """Drop every stage table of this document (it failed, or it is published)."""
        for generation in range(self.generation + 1):
            name = stage_name(self.doc.content_hash, generation)
            retry_conflicts(lambda name=name: self.db.drop_table(name, ignore_missing=True))
            _LIVE_STAGES.discard(name)

    def discard(self) -> None:
        """`abort` where the document is safe elsewhere (published, by us or another writer): a stage whose files
        vanish under a concurrent drop of the same name is left to `drop_stale_stages`, not raised."""
        try:
            self.abort()
        except (OSError, RuntimeError, ValueError):
            self.release()

    def release(self) -> None:
        """Stop writing without dropping the stages (an interrupted run): a later run resumes them."""
        for generation in range(self.generation + 1):
            _LIVE_STAGES.discard(stage_name(self.doc.content_hash, generation))

    def _append_staged(self) -> None:
        """One ``add`` of every staged page, each once, conformed to the current ``pages`` schema."""
        schema = self.pages_table.schema
        reader = pa.RecordBatchReader.from_batches(schema, self._staged_batches(schema))
        self.pages_table.add(reader)

    def _staged_batches(self, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        """The staged rows, ``PUBLISH_BATCH_ROWS`` at a time, first copy of each page only."""
        seen: set[int] = set()
        for stage in self.stages:
            for batch in stage.search().limit(None).to_batches(PUBLISH_BATCH_ROWS):
                numbers = batch.column("page_number").to_pylist()
                keep = [i for i, n in enumerate(numbers) if n not in seen and not seen.add(n)]
                if keep:
                    yield conform(batch.take(pa.array(keep, pa.int64())), schema)


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """``batch`` in ``schema``: columns reordered, missing ones (metadata promoted since staging) null."""
    columns = [
        batch.column(f.name).cast(f.type) if f.name in batch.schema.names else pa.nulls(batch.num_rows, f.type)
        for f in schema
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _page_numbers(stage: Any) -> list[int]:
    """Page numbers held by a stage table."""
    return stage.search().select(["page_number"]).limit(None).to_arrow().column("page_number").to_pylist()


def _stage_alive(stage: Any) -> bool:
    """Whether the owner of a stage table may still be writing it; True when the stage vanished while being read
    (its owner is dropping it after publishing or failing: never take it over)."""
    try:
        owner = json.loads((stage.schema.metadata or {}).get(STAGE_META_KEY, b"{}"))
        versions = stage.list_versions()
    except (ValueError, OSError, RuntimeError):
        return True
    last = max(v["timestamp"] for v in versions) if versions else datetime.now(timezone.utc)
    if last.tzinfo is None:
        last = last.astimezone(timezone.utc)
    return owner_alive(owner, last, stage.name)


def drop_stale_stages(db: Any, content_hashes: set[str], tables: Sequence[str]) -> int:
    """Drop stage tables of documents already in ``pages`` (``content_hashes``) whose owner is gone; the count."""
    dropped = 0
    for name in tables:
        if not name.startswith(STAGE_PREFIX):
            continue
        content_hash = name[len(STAGE_PREFIX) :].rsplit("_", 1)[0]
        stage = _open(db, name)
        if content_hash in content_hashes and stage is not None and not _stage_alive(stage):
            db.drop_table(name, ignore_missing=True)
            dropped += 1
    return dropped
