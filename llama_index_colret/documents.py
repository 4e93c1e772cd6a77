"""The per-document steps of indexing, shared by the local loop (`pipeline.index_pdfs`) and the Ray engine
(`scale/ray_ingest.py`): hash and count a file, claim it in the store, split it into chunks, prepare a chunk
(regions, render, PNG), embed it, stage it, publish the document; and the outcomes they report.

Every step keeps a per-document failure of any type on the document (``OpenDocument.error``) or as its outcome,
so a bad file is reported in one line and never stops a batch; only Ctrl-C and a disk that refuses writes
(`errors.DiskError`: every later document would fail alike) stop it.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from PIL import Image
from tqdm.auto import tqdm

from .embed.types import Embedder, PageEmbedding
from .errors import ColRetError, raise_if_disk_problem, raise_if_interrupted
from .ingest.document import PDFIUM_LOCK, open_document
from .ingest.page import Page
from .ingest.pdf import load_pdf
from .ingest.render import iter_page_images
from .store.lance import PageStore
from .store.rows import encode_png
from .store.staging import DocumentWriter

MetadataSpec = Mapping[str, Any] | Callable[[Path], Mapping[str, Any]] | None
Status = Literal["added", "duplicate", "busy", "failed"]


class HashLookup(Protocol):
    """What preparation asks of the store: the doc_id stored under a content hash (a `PageStore`, or the Ray
    engine's snapshot of the stored hashes)."""

    def has_document(self, content_hash: str) -> str | None:
        """The doc_id of the stored document with this content hash, or None."""
        ...


@dataclass(frozen=True)
class DocumentOutcome:
    """What happened to one input file."""

    path: str
    status: Status
    doc_id: str | None = None
    n_pages: int = 0
    error: str | None = None

    def describe(self) -> str:
        """``path: error`` for people (the path once: library errors already start with it)."""
        error = self.error or self.status
        return error if error.startswith(self.path) else f"{self.path}: {error}"


@dataclass
class IndexReport:
    """The result of `index_pdfs`: documents added, skipped as duplicates, and failed (with the error)."""

    outcomes: list[DocumentOutcome] = field(default_factory=list)

    @property
    def added(self) -> list[DocumentOutcome]:
        """Outcomes of the documents written by this run."""
        return [o for o in self.outcomes if o.status == "added"]

    @property
    def skipped(self) -> list[DocumentOutcome]:
        """Outcomes of the documents already stored (same content hash)."""
        return [o for o in self.outcomes if o.status == "duplicate"]

    @property
    def busy(self) -> list[DocumentOutcome]:
        """Outcomes of the documents another live writer was indexing (it publishes them)."""
        return [o for o in self.outcomes if o.status == "busy"]

    @property
    def failed(self) -> list[DocumentOutcome]:
        """Outcomes of the documents that could not be indexed, each with its error."""
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def n_pages_added(self) -> int:
        """Pages written by this run."""
        return sum(o.n_pages for o in self.added)

    def summary(self) -> str:
        """One line for people: counts of documents and pages."""
        busy = f", {len(self.busy)} being indexed by another writer" if self.busy else ""
        return (
            f"{len(self.added)} document(s) added ({self.n_pages_added} pages), "
            f"{len(self.skipped)} already indexed{busy}, {len(self.failed)} failed"
        )


@dataclass
class OpenDocument:
    """One input file in the run: its claim on the store (``writer``) or its final ``outcome``, and the first
    error met while its chunks were prepared or written."""

    path: Path
    writer: DocumentWriter | None = None
    outcome: DocumentOutcome | None = None
    error: str | None = None
    content_hash: str = ""
    n_pages: int = 0


@dataclass
class Chunk:
    """Pages ``numbers`` of one document (``last``: the document ends with it), and once prepared their pages
    with regions and PNG images, or the error that stopped the preparation."""

    doc: OpenDocument
    numbers: list[int]
    last: bool
    pages: list[Page] = field(default_factory=list)
    pngs: list[bytes] = field(default_factory=list)
    embeddings: list[PageEmbedding] = field(default_factory=list)


def describe_error(exc: BaseException, store_uri: str | None = None) -> str:
    """One line for any exception: a library error as it reads, anything else prefixed with its type. An
    exception that stands for Ctrl-C (`raise_if_interrupted`), or a disk that refuses writes (a `DiskError`
    naming ``store_uri``), stops the run instead of failing one document."""
    raise_if_interrupted()
    if store_uri is not None:  # only a store operation's error speaks for the disk
        raise_if_disk_problem(exc, store_uri)
    text = str(exc) if isinstance(exc, ColRetError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split()) or type(exc).__name__


def file_hash(path: str | Path) -> str:
    """sha256 of a file's bytes (the identity that makes re-adding a file a no-op)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def open_for_writing(
    path: Path, store: PageStore, metadata: MetadataSpec, password: str | None, seen: set[str]
) -> OpenDocument:
    """Hash, count pages and claim one document in the store; its outcome instead when it needs no work
    (``seen``: the hashes of this run so far, updated)."""
    doc = inspect_document(path, password)
    return doc if doc.outcome is not None else claim_document(doc, store, metadata, seen)


def inspect_document(path: Path, password: str | None, stored: HashLookup | None = None) -> OpenDocument:
    """The file's content hash and page count; its outcome instead when it cannot be read, or when ``stored``
    already holds its hash (so it is skipped before any page is rendered)."""
    try:
        content_hash = file_hash(path)
        existing = stored.has_document(content_hash) if stored is not None else None
        if existing is not None:
            return OpenDocument(path, outcome=DocumentOutcome(str(path), "duplicate", doc_id=existing))
        with PDFIUM_LOCK:
            pdf = open_document(path, password)
            n_pages = len(pdf)
            pdf.close()
    except OSError as exc:
        return OpenDocument(path, outcome=_failed(path, f"cannot read the file: {exc.strerror or exc}"))
    except Exception as exc:  # any per-document failure is reported, never stops the batch
        return OpenDocument(path, outcome=_failed(path, describe_error(exc)))
    return OpenDocument(path, content_hash=content_hash, n_pages=n_pages)


def claim_document(doc: OpenDocument, store: PageStore, metadata: MetadataSpec, seen: set[str]) -> OpenDocument:
    """Claim an inspected document in the store (`PageStore.begin_document`): the document with its writer, or
    with its outcome (listed twice in this run, already stored, busy with another writer, or failed)."""
    path, content_hash = doc.path, doc.content_hash
    if content_hash in seen:
        return OpenDocument(path, outcome=DocumentOutcome(str(path), "duplicate", doc_id=content_hash[:16]))
    seen.add(content_hash)
    try:
        meta = metadata(path) if callable(metadata) else metadata
    except Exception as exc:  # the caller's metadata function failed for this file: its failure alone
        return OpenDocument(path, outcome=_failed(path, f"metadata: {describe_error(exc)}"))
    try:
        claim = store.begin_document(
            content_hash=content_hash, file_name=path.name, path=str(path.resolve()), n_pages=doc.n_pages, metadata=meta
        )
    except Exception as exc:  # any per-document failure is reported, never stops the batch
        return OpenDocument(path, outcome=_failed(path, describe_error(exc, store.uri)))
    if isinstance(claim, DocumentWriter):
        return OpenDocument(path, writer=claim, content_hash=content_hash, n_pages=doc.n_pages)
    if claim is None:
        return OpenDocument(path, outcome=DocumentOutcome(str(path), "busy", error="being indexed by another writer"))
    return OpenDocument(path, outcome=DocumentOutcome(str(path), "duplicate", doc_id=claim))


def document_chunks(doc: OpenDocument, chunk_pages: int) -> Iterator[Chunk]:
    """The chunks of the pages a claimed document still needs (pages staged by a killed run are not redone);
    one empty last chunk when nothing is left to embed."""
    if doc.writer is None:
        yield Chunk(doc, [], last=True)
        return
    yield from split_chunks(doc, [n for n in range(1, doc.n_pages + 1) if n not in doc.writer.staged], chunk_pages)


def split_chunks(doc: OpenDocument, numbers: list[int], chunk_pages: int) -> Iterator[Chunk]:
    """Chunks of at most ``chunk_pages`` of the page ``numbers``, the last marked (one empty one for none)."""
    starts = range(0, len(numbers), chunk_pages) or range(1)
    for start in starts:
        yield Chunk(doc, numbers[start : start + chunk_pages], last=start == starts[-1])


def n_chunks(n_pages: int, chunk_pages: int) -> int:
    """How many chunks `split_chunks` makes of ``n_pages`` pages."""
    return max(1, -(-n_pages // chunk_pages))


def prepared_chunks(
    path: Path, *, stored: HashLookup, chunk_pages: int, dpi: int, ocr: str, password: str | None
) -> Iterator[Chunk]:
    """Inspect a file and yield each of its chunks prepared, one at a time (the Ray engine's preparation task):
    a file ``stored`` already holds, or one that cannot be read, is one empty last chunk with its outcome."""
    doc = inspect_document(path, password, stored)
    if doc.outcome is not None:
        yield Chunk(doc, [], last=True)
        return
    for chunk in split_chunks(doc, list(range(1, doc.n_pages + 1)), chunk_pages):
        yield prepare_chunk(chunk, dpi=dpi, ocr=ocr, password=password)


def prepare_chunk(chunk: Chunk, *, dpi: int, ocr: str, password: str | None) -> Chunk:
    """Load (regions) and render the chunk's pages as PNG bytes (runs in the background thread); a failure of
    any type is kept on the document."""
    doc = chunk.doc
    if not chunk.numbers or doc.outcome is not None or doc.error is not None:
        return chunk
    try:
        chunk.pages = load_pdf(doc.path, dpi=dpi, ocr=ocr, password=password, numbers=chunk.numbers)
        images = iter_page_images(doc.path, chunk.numbers, dpi=dpi, password=password)
        chunk.pngs = [encode_png(image)[0] for _, image in images]
    except Exception as exc:  # any per-document failure is reported, never stops the batch
        doc.error = describe_error(exc)
    return chunk


def write_chunk(chunk: Chunk, embedder: Embedder, batch_pages: int, bar: tqdm) -> None:
    """Embed a prepared chunk ``batch_pages`` pages per model call and stage it; a failure of any type is kept
    on the document."""
    if chunk.doc.writer is None or chunk.doc.error is not None or not chunk.pngs:
        return
    bar.total += len(chunk.pngs)
    bar.refresh()
    stage_chunk(embed_chunk(chunk, embedder, batch_pages, bar.update), chunk.doc)


def embed_chunk(
    chunk: Chunk, embedder: Embedder, batch_pages: int, on_batch: Callable[[int], object] | None = None
) -> Chunk:
    """The chunk with its ``embeddings``, ``batch_pages`` pages per model call (``on_batch(n)`` after each); a
    failure of any type is kept on the document."""
    doc = chunk.doc
    if doc.outcome is not None or doc.error is not None or not chunk.pngs:
        return chunk
    try:
        embeddings: list[PageEmbedding] = []
        for start in range(0, len(chunk.pngs), batch_pages):
            batch = chunk.pngs[start : start + batch_pages]
            embeddings.extend(embedder.embed_pages([_decode(png) for png in batch]))
            if on_batch is not None:
                on_batch(len(batch))
        chunk.embeddings = embeddings
    except Exception as exc:  # any per-document failure is reported, never stops the batch
        doc.error = describe_error(exc)
    return chunk


def stage_chunk(chunk: Chunk, doc: OpenDocument) -> None:
    """Stage an embedded chunk through ``doc``'s claim, leaving out pages a killed run staged already; a failure
    of any type is kept on ``doc``."""
    if doc.writer is None or doc.error is not None or not chunk.embeddings:
        return
    keep = [i for i, page in enumerate(chunk.pages) if page.number not in doc.writer.staged]
    try:
        if keep:
            pick = [chunk.pages[i] for i in keep], [chunk.embeddings[i] for i in keep], [chunk.pngs[i] for i in keep]
            doc.writer.write_chunk(*pick)
    except Exception as exc:  # any per-document failure is reported, never stops the batch
        doc.error = describe_error(exc, getattr(doc.writer.db, "uri", None))


def finish(doc: OpenDocument, store: PageStore) -> DocumentOutcome:
    """Publish a claimed document (or drop its stages when it failed); its outcome."""
    if doc.outcome is not None or doc.writer is None:
        return doc.outcome or _failed(doc.path, "not claimed")
    try:
        if doc.error is not None:
            doc.writer.abort()
            return DocumentOutcome(str(doc.path), "failed", error=doc.error)
        doc_id = store.finish_document(doc.writer)
    except Exception as exc:  # any per-document failure is reported, never stops the batch
        return DocumentOutcome(str(doc.path), "failed", error=describe_error(exc, store.uri))
    if doc_id is None:  # another writer (or this run, listing the file twice) published it first
        return DocumentOutcome(str(doc.path), "duplicate", doc_id=store.has_document(doc.writer.doc.content_hash))
    return DocumentOutcome(str(doc.path), "added", doc_id=doc_id, n_pages=doc.n_pages)


def _failed(path: Path, error: str) -> DocumentOutcome:
    """The outcome of a document that failed."""
    return DocumentOutcome(str(path), "failed", error=error)


def _decode(png: bytes) -> Image.Image:
    """The RGB page image of stored PNG bytes (lossless: the pixels that were rendered)."""
    with Image.open(io.BytesIO(png)) as img:
        return img.convert("RGB")
