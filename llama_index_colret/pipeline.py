"""Indexing pipeline: PDFs -> pages and regions -> page images -> embeddings -> one LanceDB write per document.

A background thread reads, renders and PNG-encodes the next pages while the model embeds the current
ones (the model is the bottleneck). A document whose content hash is already stored is skipped, so an
interrupted run resumes without duplicates; a document that fails with a library error (bad PDF, OCR or
embedding failure) is reported and skipped while the others land; any other exception stops the run,
leaving only the documents already written, each complete.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from PIL import Image
from tqdm.auto import tqdm

from .embed.types import Embedder, PageEmbedding
from .errors import ColRetError, IndexMismatchError
from .ingest.page import Page
from .store.lance import PageStore
from .store.rows import encode_png

T = TypeVar("T")
logger = logging.getLogger(__name__)
MetadataSpec = Mapping[str, Any] | Callable[[Path], Mapping[str, Any]] | None
Status = Literal["added", "duplicate", "failed"]


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
        return [o for o in self.outcomes if o.status == "added"]

    @property
    def skipped(self) -> list[DocumentOutcome]:
        return [o for o in self.outcomes if o.status == "duplicate"]

    @property
    def failed(self) -> list[DocumentOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def n_pages_added(self) -> int:
        return sum(o.n_pages for o in self.added)

    def summary(self) -> str:
        """One line for people: counts of documents and pages."""
        return (
            f"{len(self.added)} document(s) added ({self.n_pages_added} pages), "
            f"{len(self.skipped)} already indexed, {len(self.failed)} failed"
        )


def file_hash(path: str | Path) -> str:
    """sha256 of a file's bytes (the identity that makes re-adding a file a no-op)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# -- events from the preparing thread ---------------------------------------------------------------


@dataclass
class _DocStart:
    index: int
    path: Path
    content_hash: str
    pages: list[Page]


@dataclass
class _PageBatch:
    index: int
    images: list[Image.Image]
    pngs: list[bytes]


@dataclass
class _DocEnd:
    index: int


@dataclass
class _DocFailed:
    index: int
    path: Path
    error: str


@dataclass
class _DocDuplicate:
    index: int
    path: Path
    doc_id: str


_Event = _DocStart | _PageBatch | _DocEnd | _DocFailed | _DocDuplicate


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
) -> IndexReport:
    """Index PDFs into ``store`` with ``embedder``; each document lands whole (one write) or not at all.

    ``metadata`` is one mapping for every file or a callable ``path -> mapping``. Returns an `IndexReport`.
    """
    if embedder.model_name != store.model_name or int(embedder.dim) != store.dim:
        raise IndexMismatchError(
            f"{store.uri}: the index holds {store.dim}-d vectors of {store.model_name!r}; "
            f"the embedder is {embedder.model_name!r} ({embedder.dim}-d)"
        )
    report = IndexReport()
    events = _prepare(list(paths), store, dpi=dpi, ocr=ocr, password=password, batch_pages=batch_pages)
    with tqdm(total=0, unit="page", desc="indexing", disable=not show_progress) as bar:
        _consume(_prefetch(events, depth=2), store, embedder, metadata, report, bar)
    return report


def _consume(
    events: Iterable[_Event],
    store: PageStore,
    embedder: Embedder,
    metadata: MetadataSpec,
    report: IndexReport,
    bar: tqdm,
) -> None:
    """Embed page batches as they come and write each finished document in one call."""
    current: _DocStart | None = None
    embeddings: list[PageEmbedding] = []
    pngs: list[bytes] = []
    for ev in events:
        if isinstance(ev, (_DocFailed, _DocDuplicate)):
            if isinstance(ev, _DocFailed):
                _fail(report, bar, ev.path, ev.error)
            else:
                report.outcomes.append(DocumentOutcome(str(ev.path), "duplicate", doc_id=ev.doc_id))
            current = None if current is not None and current.index == ev.index else current
        elif isinstance(ev, _DocStart):
            current, embeddings, pngs = ev, [], []
            bar.total += len(ev.pages)
            bar.refresh()
        elif current is None or ev.index != current.index:
            continue  # a batch of a document that already failed
        elif isinstance(ev, _PageBatch):
            try:
                embeddings.extend(embedder.embed_pages(ev.images))
            except ColRetError as exc:
                _fail(report, bar, current.path, str(exc))
                current = None
                continue
            pngs.extend(ev.pngs)
            bar.update(len(ev.images))
        else:  # _DocEnd
            _write(current, embeddings, pngs, store, metadata, report, bar)
            current = None


def _write(
    doc: _DocStart,
    embeddings: list[PageEmbedding],
    pngs: list[bytes],
    store: PageStore,
    metadata: MetadataSpec,
    report: IndexReport,
    bar: tqdm,
) -> None:
    meta = metadata(doc.path) if callable(metadata) else metadata
    try:
        doc_id = store.add_document(
            content_hash=doc.content_hash,
            file_name=doc.path.name,
            path=str(doc.path.resolve()),
            pages=doc.pages,
            embeddings=embeddings,
            images=pngs,
            metadata=meta,
        )
    except ColRetError as exc:
        _fail(report, bar, doc.path, str(exc))
        return
    if doc_id is None:  # the same file appeared twice in this run
        report.outcomes.append(DocumentOutcome(str(doc.path), "duplicate", doc_id=store.has_document(doc.content_hash)))
    else:
        report.outcomes.append(DocumentOutcome(str(doc.path), "added", doc_id=doc_id, n_pages=len(doc.pages)))


def _fail(report: IndexReport, bar: tqdm, path: Path, error: str) -> None:
    outcome = DocumentOutcome(str(path), "failed", error=error)
    logger.warning("skipped %s", outcome.describe())
    report.outcomes.append(outcome)


def _prepare(
    paths: list[str | Path], store: PageStore, *, dpi: int, ocr: str, password: str | None, batch_pages: int
) -> Iterator[_Event]:
    """Hash, load (regions) and render every document, batch by batch (runs in the background thread)."""
    from .ingest.pdf import load_pdf
    from .ingest.render import iter_page_images

    for index, raw in enumerate(paths):
        path = Path(raw)
        try:
            content_hash = file_hash(path)
        except OSError as exc:
            yield _DocFailed(index, path, f"cannot read the file: {exc.strerror or exc}")
            continue
        existing = store.has_document(content_hash)
        if existing is not None:
            yield _DocDuplicate(index, path, existing)
            continue
        try:
            pages = load_pdf(path, dpi=dpi, ocr=ocr, password=password)
            yield _DocStart(index, path, content_hash, pages)
            numbers = [p.number for p in pages]
            images: list[Image.Image] = []
            for _, image in iter_page_images(path, numbers, dpi=dpi, password=password):
                images.append(image)
                if len(images) == batch_pages:
                    yield _PageBatch(index, images, [encode_png(im)[0] for im in images])
                    images = []
            if images:
                yield _PageBatch(index, images, [encode_png(im)[0] for im in images])
        except ColRetError as exc:
            yield _DocFailed(index, path, str(exc))
            continue
        yield _DocEnd(index)


def _prefetch(items: Iterator[T], depth: int) -> Iterator[T]:
    """Run ``items`` in a background thread, ``depth`` items ahead; its exceptions re-raise here.

    When the consumer stops early (an exception, an interrupt), the thread stops at its next item.
    """
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(("error", exc))
            return
        put(("done", None))

    thread = threading.Thread(target=run, name="colret-prepare", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join(timeout=5)
