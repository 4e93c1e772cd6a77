"""Wiring of ``colret eval retrieval``: index a BEIR/ViDoRe corpus of page images, search every query, score.

The corpus images go into a `PageStore` (a temporary directory unless one is given) in documents of
``pages_per_doc`` pages, one atomic write each: page ``k`` of document ``corpus-NNNNN`` is one corpus id,
and the run maps hits back to corpus ids. Page images carry no text layer: by default no regions are
stored (retrieval needs only the vectors); ``ocr=True`` stores Tesseract regions and text (slow, about a
second per page on 2 cores). Each query is encoded and searched by exact MaxSim (`ExactSearcher`); the
latency of a query is encoding plus search, measured after one warm-up search that loads the vector cache.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image
from tqdm.auto import tqdm

from ..embed.types import Embedder
from ..errors import DatasetError, OCRError
from ..ingest.page import Page, Region
from ..search.exact import ExactSearcher
from ..store.lance import PageStore
from .datasets import RetrievalDataset
from .ranking import RetrievalSummary, evaluate_run, latency_figures
from .report import retrieval_markdown, retrieval_to_json
from .run_grounding import image_dpi, image_regions

DEFAULT_KS: tuple[int, ...] = (1, 5, 10)


@dataclass
class RetrievalRun:
    """The ranked corpus ids per query, the summary, per-query latencies and indexing figures."""

    run: dict[str, list[str]]
    summary: RetrievalSummary
    search_latency: dict[str, float]
    n_pages: int
    region_failures: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def _load(cid: str, path: Path) -> Image.Image:
    if not path.is_file():
        raise DatasetError(path, f"page image of corpus id {cid!r} not found")
    with Image.open(path) as im:
        im.load()
        return im.convert("RGB")


def _page(cid: str, path: Path, number: int, image: Image.Image, ocr: bool, failures: dict[str, str]) -> Page:
    """A `Page` for one corpus image: size in points from its resolution, regions from OCR when asked."""
    dpi = image_dpi(image)
    regions: list[Region] = []
    error = None
    if ocr:
        try:
            regions = image_regions(image, dpi=dpi)
        except OCRError as exc:
            failures[cid] = error = f"OCR failed: {exc}"
    w_pt, h_pt = image.width * 72.0 / dpi, image.height * 72.0 / dpi
    return Page(path, number, w_pt, h_pt, regions=regions, dpi=dpi, error=error)


def index_corpus(
    corpus: dict[str, Path],
    embedder: Embedder,
    store: PageStore,
    *,
    pages_per_doc: int = 32,
    ocr: bool = False,
    show_progress: bool = False,
) -> tuple[dict[tuple[str, int], str], dict[str, str]]:
    """Embed and store every corpus image; return ``{(doc_id, page_number): corpus id}`` and OCR failures."""
    if pages_per_doc < 1:
        raise ValueError(f"pages_per_doc must be positive, got {pages_per_doc}")
    items = list(corpus.items())
    key_of: dict[tuple[str, int], str] = {}
    failures: dict[str, str] = {}
    with tqdm(total=len(items), desc="indexing corpus", unit="page", disable=not show_progress) as bar:
        for d, start in enumerate(range(0, len(items), pages_per_doc)):
            chunk = items[start : start + pages_per_doc]
            doc_id = f"corpus-{d:05d}"
            images = [_load(cid, path) for cid, path in chunk]
            pages = [
                _page(cid, p, k + 1, im, ocr, failures)
                for k, ((cid, p), im) in enumerate(zip(chunk, images, strict=True))
            ]
            embeddings = embedder.embed_pages(images)
            digest = hashlib.sha256("\n".join(f"{cid}\t{p}" for cid, p in chunk).encode()).hexdigest()
            store.add_document(
                content_hash=digest,
                file_name=doc_id,
                path=str(chunk[0][1].parent),
                pages=pages,
                embeddings=embeddings,
                images=images,
                doc_id=doc_id,
            )
            key_of.update({(doc_id, k + 1): cid for k, (cid, _) in enumerate(chunk)})
            bar.update(len(chunk))
    return key_of, failures


def search_queries(
    queries: dict[str, str],
    embedder: Embedder,
    store: PageStore,
    key_of: dict[tuple[str, int], str],
    k: int,
    show_progress: bool = False,
) -> tuple[dict[str, list[str]], list[float], list[float]]:
    """Ranked corpus ids per query, and per-query seconds: (encode + search) and search only."""
    searcher = ExactSearcher(store)
    items = list(queries.items())
    if items:  # warm-up: loads the vector cache, so no query pays for it
        searcher.search(embedder.embed_queries([items[0][1]])[0], k=k)
    run: dict[str, list[str]] = {}
    total, search_only = [], []
    for qid, text in tqdm(items, desc="searching", unit="query", disable=not show_progress):
        t0 = time.perf_counter()
        query = embedder.embed_queries([text])[0]
        t1 = time.perf_counter()
        hits = searcher.search(query, k=k)
        t2 = time.perf_counter()
        run[qid] = [key_of[(h.doc_id, h.page_number)] for h in hits]
        total.append(t2 - t0)
        search_only.append(t2 - t1)
    return run, total, search_only


def evaluate_retrieval(
    data: RetrievalDataset,
    embedder: Embedder,
    *,
    ks: Sequence[int] = DEFAULT_KS,
    db: str | Path | None = None,
    ocr: bool = False,
    pages_per_doc: int = 32,
    show_progress: bool = False,
) -> RetrievalRun:
    """Index ``data.corpus`` into ``db`` (default: a temporary directory, removed afterwards), search every
    judged query for the top ``max(ks)`` pages and score nDCG/recall/MRR at each k with latencies."""
    if not data.corpus:
        raise ValueError("the retrieval dataset has no corpus pages")
    if not ks or any(k < 1 for k in ks):
        raise ValueError(f"cut-offs must be positive integers, got {list(ks)}")
    queries = {q: data.queries[q] for q in data.qrels} or dict(data.queries)
    with tempfile.TemporaryDirectory(prefix="colret-eval-") as tmp:
        uri = str(db) if db is not None else str(Path(tmp) / "index")
        store = PageStore.create(uri, model_name=str(embedder.model_name), dim=int(embedder.dim))
        if store.count():
            raise ValueError(f"{uri}: the evaluation index must start empty (it holds {store.count()} pages)")
        t0 = time.perf_counter()
        key_of, failures = index_corpus(
            data.corpus, embedder, store, pages_per_doc=pages_per_doc, ocr=ocr, show_progress=show_progress
        )
        t_index = time.perf_counter() - t0
        run, total, search_only = search_queries(queries, embedder, store, key_of, max(ks), show_progress)
    return RetrievalRun(
        run=run,
        summary=evaluate_run(run, data.qrels, ks=ks, latencies=total),
        search_latency=latency_figures(search_only),
        n_pages=len(data.corpus),
        region_failures=failures,
        seconds={"index": t_index, "index_per_page": t_index / len(data.corpus)},
    )


def retrieval_report(result: RetrievalRun, meta: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The JSON document and markdown of a retrieval run (latency: encode + search; search-only too)."""
    name = "colret"
    data = retrieval_to_json({name: result.summary})
    data.update(meta)
    data["n_pages"] = result.n_pages
    data["latency_note"] = "latency_s: query encoding plus exact search; search_latency_s: search only"
    data["search_latency_s"] = result.search_latency
    data["region_failures"] = result.region_failures
    data["seconds"] = result.seconds
    lat = result.summary.latency
    head = [
        f"# Retrieval evaluation: {meta.get('model', '?')} on {meta.get('dataset', '?')}",
        "",
        f"{result.summary.n_queries} judged queries over {result.n_pages} pages; regions: {meta.get('regions', '?')}.",
        f"Query latency (encode + search): median {1000 * lat['p50']:.1f} ms, p95 {1000 * lat['p95']:.1f} ms; "
        f"search only: median {1000 * result.search_latency['p50']:.1f} ms, "
        f"p95 {1000 * result.search_latency['p95']:.1f} ms. Indexing: {result.seconds['index_per_page']:.2f} s/page.",
        "",
        "",
    ]
    return data, "\n".join(head) + retrieval_markdown({name: result.summary})
