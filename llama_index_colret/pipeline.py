"""Indexing pipeline: PDFs -> pages and regions -> page images -> embeddings -> LanceDB, chunk by chunk.

`index_pdfs` walks the documents in chunks of `CHUNK_PAGES` pages: a one-thread executor prepares chunk
j+1 (load its pages with regions, render, PNG encode) while the model embeds chunk j (the model is the
bottleneck). Each document goes through the store's one write path (`PageStore.begin_document`): claimed once
across processes (a file another live writer holds is reported ``busy``), each chunk staged invisibly to
readers, published whole in one commit. Memory holds one chunk's PNGs, not a document's; a killed run resumes
a document from its last staged chunk. A document whose content hash is stored is skipped. Any exception
while opening, preparing, embedding or writing a document (a library error, a ``PdfiumError``, a
``ZeroDivisionError``, a ``MemoryError``...) makes it a failed document reported in one line while the
others land; only ``KeyboardInterrupt`` (and other ``BaseException``s) and a disk that refuses writes (a full
disk, a read-only file system: `errors.DiskError`) stop the run, leaving whole documents and resumable stages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from tqdm.auto import tqdm

from .documents import (  # re-exported: the pipeline's public names
    DocumentOutcome,
    IndexReport,
    MetadataSpec,
    OpenDocument,
    document_chunks,
    file_hash,
    finish,
    open_for_writing,
    prepare_chunk,
    write_chunk,
)
from .embed.types import Embedder
from .errors import IndexMismatchError, PDFError
from .store.lance import PageStore

if TYPE_CHECKING:
    from .scale.ray_ingest import RayOptions

__all__ = ["CHUNK_PAGES", "DocumentOutcome", "IndexReport", "MetadataSpec", "file_hash", "index_pdfs", "pdf_paths"]
logger = logging.getLogger(__name__)
CHUNK_PAGES = 64  # pages rendered, embedded and staged together: bounds memory and the work a kill loses
ENGINES = ("local", "ray")
T = TypeVar("T")
R = TypeVar("R")


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
    engine: Literal["local", "ray"] = "local",
    ray: RayOptions | None = None,
) -> IndexReport:
    """Index PDFs into ``store`` with ``embedder``, ``chunk_pages`` pages at a time; each document is published
    whole or not at all, and a failing one is reported while the others land.

    ``metadata`` is one mapping for every file or a callable ``path -> mapping``. ``engine="ray"`` runs the same
    steps on a Ray cluster (`RayOptions`: preparation tasks, model actors; this process writes). Returns an
    `IndexReport`.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    store.check_model(embedder.model_name, getattr(embedder, "model_id", None))
    if int(embedder.dim) != store.dim:
        raise IndexMismatchError(
            f"{store.uri}: the index holds {store.dim}-d vectors of {store.model_name!r}; "
            f"the embedder is {embedder.model_name!r} ({embedder.dim}-d)"
        )
    if chunk_pages <= 0:
        raise ValueError(f"chunk_pages must be positive, got {chunk_pages}")
    if engine == "ray":
        from .scale.ray_ingest import RayOptions, index_with_ray

        settings = {"dpi": dpi, "ocr": ocr, "password": password, "chunk_pages": chunk_pages}
        options = ray or RayOptions()
        outcomes = index_with_ray(
            [Path(p) for p in paths], store, embedder, settings, metadata, batch_pages, options, show_progress
        )
        return IndexReport(outcomes)
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


def _append(items: list[T], item: T) -> T:
    """``item``, appended to ``items``."""
    items.append(item)
    return item
