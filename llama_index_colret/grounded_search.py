"""Grounded search, the glue every front end shares: query -> exact page hits -> grounded, selected regions.

The LlamaIndex layer, the CLI (``colret query --grounded``, ``show``, ``ask``) and the evaluation all call
`search_grounded`; crops are cut in one place (`crop`) and results become JSON through `selection_to_dicts`.
No LlamaIndex here, and no model forward pass except encoding the query text (cached by `QueryCache`):
page vectors, grids and regions come from the store.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from .embed.types import Embedder, QueryEmbedding
from .geometry import BBox
from .grounding import GroundingOptions, PageGrounding, SelectedRegion, Selection, ground_vectors, select
from .search.hits import PageHit
from .search.searcher import Searcher, searcher_for
from .store.filters import Filters
from .store.lance import PageStore, ensure_not_empty
from .store.records import PageRecord


@dataclass
class GroundedHit:
    """One retrieved page with its stored record and what grounding found on it."""

    hit: PageHit
    record: PageRecord
    grounding: PageGrounding


class QueryCache:
    """Thread-safe LRU of query embeddings keyed by (model name, text): the retriever's encoding is reused
    by the postprocessor and by repeated queries, so a query is encoded once."""

    def __init__(self, maxsize: int = 256) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[tuple[str, str], QueryEmbedding] = OrderedDict()
        self._lock = threading.Lock()
        self.misses = 0

    def get(self, embedder: Embedder, text: str) -> QueryEmbedding:
        """The embedding of ``text`` by ``embedder``, encoded on the first request only."""
        key = (str(embedder.model_name), text)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        query = embedder.embed_queries([text])[0]
        with self._lock:
            self.misses += 1
            self._items[key] = query
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return query

    def put(self, embedder: Embedder, text: str, query: QueryEmbedding) -> None:
        """Record an embedding computed elsewhere."""
        with self._lock:
            self._items[(str(embedder.model_name), text)] = query


def encode(
    embedder_or_query: Embedder | QueryEmbedding, query_text: str | None, cache: QueryCache | None
) -> QueryEmbedding:
    """A `QueryEmbedding` from either a ready one or an embedder plus the query text (through ``cache``)."""
    if isinstance(embedder_or_query, QueryEmbedding):
        return embedder_or_query
    if query_text is None or not query_text.strip():
        raise ValueError("a query text is needed to encode the query (got none or an empty string)")
    if cache is not None:
        return cache.get(embedder_or_query, query_text)
    return embedder_or_query.embed_queries([query_text])[0]


def ground_hits(
    hits: Sequence[PageHit],
    query: QueryEmbedding,
    store: PageStore,
    options: GroundingOptions | None = None,
) -> list[GroundedHit]:
    """Load the hits' pages (one store read) and ground each with the stored patch vectors."""
    options = options or GroundingOptions()
    records = store.get_pages([(h.doc_id, h.page_number) for h in hits])
    out = []
    for hit, rec in zip(hits, records, strict=True):
        patches = rec.patch_vectors.astype(np.float32)  # (n_rows * n_cols, dim), raster order
        g = ground_vectors(
            query.vectors, patches, rec.grid, rec.regions, query.augmentation, options, page_score=hit.normalized_score
        )
        out.append(GroundedHit(hit=hit, record=rec, grounding=g))
    return out


def search_grounded(
    store: PageStore,
    embedder_or_query: Embedder | QueryEmbedding,
    query_text: str | None = None,
    top_k: int = 3,
    filters: Filters | None = None,
    options: GroundingOptions | None = None,
    *,
    searcher: Searcher | None = None,
    cache: QueryCache | None = None,
    search: str = "auto",
) -> tuple[list[GroundedHit], Selection]:
    """Top ``top_k`` pages by exact MaxSim, each grounded, and the regions `select` keeps over them.

    ``embedder_or_query``: an `Embedder` (then ``query_text`` is encoded, through ``cache`` when given) or a
    ready `QueryEmbedding`. The selection's ``page_index`` points into the returned hits. ``search``: the
    search mode (``"auto"``, ``"exact"``, ``"two_stage"``, see `searcher_for`) when no ``searcher`` is given.
    """
    if top_k < 1:
        raise ValueError(f"top_k must be a positive integer, got {top_k!r}")
    options = options or GroundingOptions()
    store.where(filters)  # unknown fields fail before any work
    ensure_not_empty(store)
    query = encode(embedder_or_query, query_text, cache)
    hits = (searcher or searcher_for(store, search)).search(query, k=top_k, filters=filters)
    grounded = ground_hits(hits, query, store, options)
    return grounded, select([g.grounding for g in grounded], options)


def crop(record: PageRecord, bbox: BBox, padding: float = 0.0) -> Image.Image:
    """The part of the stored page image under ``bbox`` (normalised), grown by ``padding`` (normalised units)."""
    image = record.image()
    box = BBox(bbox.x0 - padding, bbox.y0 - padding, bbox.x1 + padding, bbox.y1 + padding)
    return image.crop(box.pixel_box(image.width, image.height))


def region_dict(hit: GroundedHit, selected: SelectedRegion) -> dict[str, Any]:
    """One selected region as plain JSON: text, boxes (normalised and in PDF points), scores, page, and the
    granularity handed over (``"block"``, or ``"lines"`` with the 1-based ``lines`` range of ``block_lines``)."""
    rec, region = hit.record, selected.region
    return {
        "text": region.text,
        "bbox": region.bbox.as_list(),
        "bbox_pt": [round(v, 2) for v in region.bbox.to_points(rec.width_pt, rec.height_pt)],
        "kind": region.kind,
        "region_relevance": selected.relevance,
        "page_score": selected.page_score,
        "score": selected.combined,
        "rank": selected.rank,
        "region_index": selected.region_index,
        "page_number": rec.page_number,
        "file_name": rec.file_name,
        "doc_id": rec.doc_id,
        **selected.granularity_metadata(),
    }


def selection_to_dicts(hits: Sequence[GroundedHit], selection: Selection) -> list[dict[str, Any]]:
    """The selected regions in rank order as JSON-ready dicts (see `region_dict`)."""
    return [region_dict(hits[s.page_index], s) for s in selection.regions]
