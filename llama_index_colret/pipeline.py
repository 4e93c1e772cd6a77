"""Indexing pipeline: PDFs -> pages and regions -> page images -> embeddings -> one LanceDB write per document.

`index_pdfs` walks the documents one at a time: a one-thread executor prepares document i+1 (hash, load with
regions, render, PNG encode) while the model embeds document i (the model is the bottleneck). Page images
travel as the PNG bytes that are stored and are decoded batch by batch for the model, so the model sees
exactly the stored image and memory holds a document's PNGs, not its bitmaps. A document whose content hash
is already stored is skipped, so an interrupted run resumes without duplicates; a document that fails with a
library error (bad PDF, OCR or embedding failure) is reported and skipped while the others land; any other
exception stops the run, leaving only the documents already written, each complete.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal

from PIL import Image
from tqdm.auto import tqdm

from .embed.types import Embedder, PageEmbedding
from .errors import ColRetError, IndexMismatchError, PDFError
from .ingest.page import Page
from .ingest.pdf import load_pdf
from .ingest.render import iter_page_images
from .store.lance import PageStore
from .store.rows import encode_png

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
        """Outcomes of the documents written by this run."""
        return [o for o in self.outcomes if o.status == "added"]

    @property
    def skipped(self) -> list[DocumentOutcome]:
        """Outcomes of the documents already stored (same content hash)."""
        return [o for o in self.outcomes if o.status == "duplicate"]

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
        return (
            f"{len(self.added)} document(s) added ({self.n_pages_added} pages), "
            f"{len(self.skipped)} already indexed, {len(self.failed)} failed"
        )


@dataclass
class PreparedDocument:
    """One input file made ready for the model: its hash, pages with regions and page images as PNG bytes.

    ``outcome`` is set instead when the file needs no model: already stored, or failed before embedding.
    """

    path: Path
    content_hash: str = ""
    pages: list[Page] = field(default_factory=list)
    pngs: list[bytes] = field(default_factory=list)
    outcome: DocumentOutcome | None = None


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
) -> IndexReport:
    """Index PDFs into ``store`` with ``embedder``; each document lands whole (one write) or not at all.

    ``metadata`` is one mapping for every file or a callable ``path -> mapping``. Returns an `IndexReport`.
    """
    if embedder.model_name != store.model_name or int(embedder.dim) != store.dim:
        raise IndexMismatchError(
            f"{store.uri}: the index holds {store.dim}-d vectors of {store.model_name!r}; "
            f"the embedder is {embedder.model_name!r} ({embedder.dim}-d)"
        )
    prepare = partial(prepare_document, store=store, dpi=dpi, ocr=ocr, password=password)
    report = IndexReport()
    with (
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="colret-prepare") as pool,
        tqdm(total=0, unit="page", desc="indexing", disable=not show_progress) as bar,
    ):
        for doc in one_ahead(pool, prepare, [Path(p) for p in paths]):
            outcome = doc.outcome or embed_and_write(doc, store, embedder, metadata, batch_pages, bar)
            if outcome.status == "failed":
                logger.warning("skipped %s", outcome.describe())
            report.outcomes.append(outcome)
    return report


def one_ahead(
    pool: ThreadPoolExecutor, prepare: Callable[[Path], PreparedDocument], paths: list[Path]
) -> Iterator[PreparedDocument]:
    """``prepare(path)`` for each path, in order, each computed in ``pool`` while the caller works on the one before.

    An exception in ``prepare`` re-raises here; when the caller stops early, leaving ``pool``'s ``with`` block
    waits for the document in preparation (nothing is written from the background thread).
    """
    if not paths:
        return
    ahead = pool.submit(prepare, paths[0])
    for following in paths[1:]:
        doc, ahead = ahead.result(), pool.submit(prepare, following)
        yield doc
    yield ahead.result()


def prepare_document(path: Path, *, store: PageStore, dpi: int, ocr: str, password: str | None) -> PreparedDocument:
    """Hash, look up, load (regions) and render one document (runs in the background thread)."""
    try:
        content_hash = file_hash(path)
    except OSError as exc:
        return _failed(path, f"cannot read the file: {exc.strerror or exc}")
    existing = store.has_document(content_hash)
    if existing is not None:
        return PreparedDocument(path, outcome=DocumentOutcome(str(path), "duplicate", doc_id=existing))
    try:
        pages = load_pdf(path, dpi=dpi, ocr=ocr, password=password)
        images = iter_page_images(path, [p.number for p in pages], dpi=dpi, password=password)
        pngs = [encode_png(image)[0] for _, image in images]
    except ColRetError as exc:
        return _failed(path, str(exc))
    return PreparedDocument(path, content_hash, pages, pngs)


def embed_and_write(
    doc: PreparedDocument,
    store: PageStore,
    embedder: Embedder,
    metadata: MetadataSpec,
    batch_pages: int,
    bar: tqdm,
) -> DocumentOutcome:
    """Embed a prepared document ``batch_pages`` pages per model call and write it in one `add_document`."""
    bar.total += len(doc.pages)
    bar.refresh()
    embeddings: list[PageEmbedding] = []
    try:
        for start in range(0, len(doc.pngs), batch_pages):
            batch = doc.pngs[start : start + batch_pages]
            embeddings.extend(embedder.embed_pages([_decode(png) for png in batch]))
            bar.update(len(batch))
        meta = metadata(doc.path) if callable(metadata) else metadata
        doc_id = store.add_document(
            content_hash=doc.content_hash,
            file_name=doc.path.name,
            path=str(doc.path.resolve()),
            pages=doc.pages,
            embeddings=embeddings,
            images=doc.pngs,
            metadata=meta,
        )
    except ColRetError as exc:
        return DocumentOutcome(str(doc.path), "failed", error=str(exc))
    if doc_id is None:  # the same file appeared twice in this run
        return DocumentOutcome(str(doc.path), "duplicate", doc_id=store.has_document(doc.content_hash))
    return DocumentOutcome(str(doc.path), "added", doc_id=doc_id, n_pages=len(doc.pages))


def _failed(path: Path, error: str) -> PreparedDocument:
    """A prepared document that needs no model: it failed before embedding."""
    return PreparedDocument(path, outcome=DocumentOutcome(str(path), "failed", error=error))


def _decode(png: bytes) -> Image.Image:
    """The RGB page image of stored PNG bytes (lossless: the pixels that were rendered)."""
    with Image.open(io.BytesIO(png)) as img:
        return img.convert("RGB")
