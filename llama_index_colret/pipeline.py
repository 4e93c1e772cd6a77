"""Indexing pipeline: PDFs -> pages and regions -> page images -> embeddings -> LanceDB, chunk by chunk.

`index_pdfs` walks the documents in chunks of `CHUNK_PAGES` pages: a one-thread executor prepares chunk
j+1 (load its pages with regions, render, PNG encode) while the model embeds chunk j (the model is the
bottleneck). Each document goes through the store's one write path (`PageStore.begin_document`): claimed once
across processes (a file another live writer holds is reported ``busy``), each chunk staged invisibly to
readers, published whole in one commit. Memory holds one chunk's PNGs, not a document's; a killed run resumes
a document from its last staged chunk. A document whose content hash is stored is skipped. Any exception
while opening, preparing, embedding or writing a document (a library error, a ``PdfiumError``, a
``ZeroDivisionError``, a ``MemoryError``...) makes it a failed document reported in one line while the
others land; only ``KeyboardInterrupt`` (and other ``BaseException``s) stop the run, leaving whole documents
and resumable stages.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar

from PIL import Image
from tqdm.auto import tqdm

from .embed.types import Embedder
from .errors import IndexMismatchError, PDFError
from .ingest.page import Page
from .ingest.pdf import PDFIUM_LOCK, load_pdf, open_document
from .ingest.render import iter_page_images
from .store.lance import PageStore
from .store.rows import encode_png
from .store.staging import DocumentWriter

logger = logging.getLogger(__name__)
MetadataSpec = Mapping[str, Any] | Callable[[Path], Mapping[str, Any]] | None
Status = Literal["added", "duplicate", "busy", "failed"]
CHUNK_PAGES = 64  # pages rendered, embedded and staged together: bounds memory and the work a kill loses
T = TypeVar("T")
R = TypeVar("R")


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


@dataclass
class Chunk:
    """Pages ``numbers`` of one document (``last``: the document ends with it), and once prepared their pages
    with regions and PNG images, or the error that stopped the preparation."""

    doc: OpenDocument
    numbers: list[int]
    last: bool
    pages: list[Page] = field(default_factory=list)
    pngs: list[bytes] = field(default_factory=list)


def describe_error(exc: BaseException) -> str:
    """One line for any exception: a library error as it reads, anything else prefixed with its type."""
    from .errors import ColRetError

    text = str(exc) if isinstance(exc, ColRetError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split()) or type(exc).__name__


def pdf_paths(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    """PDF files from a file, a folder (every ``*.pdf`` below it, sorted) or a list of them.

    A path that does not exist is a `PDFError` naming it, before any model loads."""
    items = [paths] if isinstance(paths, (str, Path)) else list(paths)
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() == ".pdf"))
        elif p.exists():
            out.append(p)
        else:
            raise PDFError(p, "no such file or folder")
    return out


def file_hash(path: str | Path) -> str:
    """sha256 of a file's bytes (the identity that makes re-adding a file a no-op)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def index_pdfs(
    paths: Sequence[str | Path],
    store: PageStore,
    embedder: Embedder,
    *,
    dpi: int = 150,
    ocr: str = "auto",
    metadata: MetadataSpec = None,
    password: str | None = None,
    show_progress: bool = True,
    batch_pages: int = 4,
    chunk_pages: int = CHUNK_PAGES,
) -> IndexReport:
    """Index PDFs into ``store`` with ``embedder``, ``chunk_pages`` pages at a time; each document is published
    whole or not at all, and a failing one is reported while the others land.

    ``metadata`` is one mapping for every file or a callable ``path -> mapping``. Returns an `IndexReport`.
    """
    store.check_model(embedder.model_name, getattr(embedder, "model_id", None))
    if int(embedder.dim) != store.dim:
        raise IndexMismatchError(
            f"{store.uri}: the index holds {store.dim}-d vectors of {store.model_name!r}; "
            f"the embedder is {embedder.model_name!r} ({embedder.dim}-d)"
        )
    if chunk_pages <= 0:
        raise ValueError(f"chunk_pages must be positive, got {chunk_pages}")
    seen: set[str] = set()  # content hashes met in this run: a file listed twice is a duplicate
    opened: list[OpenDocument] = []  # claimed lazily, one document ahead of the model at most
    docs = (_append(opened, open_for_writing(Path(p), store, metadata, password, seen)) for p in paths)
    try:
        return _index_chunks(docs, store, embedder, dpi, ocr, password, show_progress, batch_pages, chunk_pages)
    finally:  # an interrupted run leaves its stages to be resumed by the next one (this process included)
        for doc in opened:
            if doc.writer is not None:
                doc.writer.release()


def _index_chunks(
    opened: Iterable[OpenDocument],
    store: PageStore,
    embedder: Embedder,
    dpi: int,
    ocr: str,
    password: str | None,
    show_progress: bool,
    batch_pages: int,
    chunk_pages: int,
) -> IndexReport:
    """The loop of `index_pdfs` over the chunks of the opened documents, one chunk prepared ahead."""
    chunks = (c for doc in opened for c in document_chunks(doc, chunk_pages))
    prepare = partial(prepare_chunk, dpi=dpi, ocr=ocr, password=password)
    report = IndexReport()
    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="colret-prepare") as pool,
        tqdm(total=0, unit="page", desc="indexing", disable=not show_progress) as bar,
    ):
        for chunk in one_ahead(pool, prepare, chunks):
            write_chunk(chunk, embedder, batch_pages, bar)
            if chunk.last:
                outcome = finish(chunk.doc, store)
                if outcome.status == "failed":
                    logger.warning("skipped %s", outcome.describe())
                report.outcomes.append(outcome)
    return report


def one_ahead(pool: ThreadPoolExecutor, prepare: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
    """``prepare(item)`` for each item, in order, each computed in ``pool`` while the caller works on the one
    before (the next item is drawn from ``items`` in the caller's thread before the current one is yielded).

    An exception in ``prepare`` re-raises here; when the caller stops early, leaving ``pool``'s ``with`` block
    waits for the item in preparation (nothing is written from the background thread).
    """
    ahead: Future[R] | None = None
    for item in items:
        following = pool.submit(prepare, item)
        if ahead is not None:
            yield ahead.result()
        ahead = following
    if ahead is not None:
        yield ahead.result()


def open_for_writing(
    path: Path, store: PageStore, metadata: MetadataSpec, password: str | None, seen: set[str]
) -> OpenDocument:
    """Hash, count pages and claim one document in the store; its outcome instead when it needs no work
    (``seen``: the hashes of this run so far, updated)."""
    try:
        content_hash = file_hash(path)
        if content_hash in seen:
            return OpenDocument(path, outcome=DocumentOutcome(str(path), "duplicate", doc_id=content_hash[:16]))
        seen.add(content_hash)
        with PDFIUM_LOCK:
            pdf = open_document(path, password)
            n_pages = len(pdf)
            pdf.close()
        meta = metadata(path) if callable(metadata) else metadata
        claim = store.begin_document(
            content_hash=content_hash, file_name=path.name, path=str(path.resolve()), n_pages=n_pages, metadata=meta
        )
    except OSError as exc:
        return OpenDocument(path, outcome=_failed(path, f"cannot read the file: {exc.strerror or exc}"))
    except Exception as exc:  # any per-document failure is reported, never stops the batch
        return OpenDocument(path, outcome=_failed(path, describe_error(exc)))
    if isinstance(claim, DocumentWriter):
        return OpenDocument(path, writer=claim)
    if claim is None:
        return OpenDocument(path, outcome=DocumentOutcome(str(path), "busy", error="being indexed by another writer"))
    return OpenDocument(path, outcome=DocumentOutcome(str(path), "duplicate", doc_id=claim))


def document_chunks(doc: OpenDocument, chunk_pages: int) -> Iterator[Chunk]:
    """The chunks of the pages a claimed document still needs (pages staged by a killed run are not redone);
    one empty last chunk when nothing is left to embed."""
    if doc.writer is None:
        yield Chunk(doc, [], last=True)
        return
    todo = [n for n in range(1, doc.writer.doc.n_pages + 1) if n not in doc.writer.staged]
    starts = range(0, len(todo), chunk_pages) or range(1)
    for start in starts:
        yield Chunk(doc, todo[start : start + chunk_pages], last=start == starts[-1])


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
    doc = chunk.doc
    if doc.writer is None or doc.error is not None or not chunk.pngs:
        return
    bar.total += len(chunk.pngs)
    bar.refresh()
    try:
        embeddings = []
        for start in range(0, len(chunk.pngs), batch_pages):
            batch = chunk.pngs[start : start + batch_pages]
            embeddings.extend(embedder.embed_pages([_decode(png) for png in batch]))
            bar.update(len(batch))
        doc.writer.write_chunk(chunk.pages, embeddings, chunk.pngs)
    except Exception as exc:  # any per-document failure is reported, never stops the batch
        doc.error = describe_error(exc)


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
        return DocumentOutcome(str(doc.path), "failed", error=describe_error(exc))
    if doc_id is None:  # another writer (or this run, listing the file twice) published it first
        return DocumentOutcome(str(doc.path), "duplicate", doc_id=store.has_document(doc.writer.doc.content_hash))
    return DocumentOutcome(str(doc.path), "added", doc_id=doc_id, n_pages=doc.writer.doc.n_pages)


def _append(items: list[T], item: T) -> T:
    """``item``, appended to ``items``."""
    items.append(item)
    return item


def _failed(path: Path, error: str) -> DocumentOutcome:
    """The outcome of a document that failed."""
    return DocumentOutcome(str(path), "failed", error=error)


def _decode(png: bytes) -> Image.Image:
    """The RGB page image of stored PNG bytes (lossless: the pixels that were rendered)."""
    with Image.open(io.BytesIO(png)) as img:
        return img.convert("RGB")
