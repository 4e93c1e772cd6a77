"""`ColRetRetriever`: exact MaxSim page retrieval as a LlamaIndex ``BaseRetriever``, grounded by default.

Returns page nodes (``grounded=False``) or the region nodes of `RegionGroundingPostprocessor`. With
``hybrid=True`` the visual ranking is fused with LanceDB's full-text (BM25) ranking of the page text by
reciprocal rank fusion (`search.fusion`, weights ``VISUAL_WEIGHT = TEXT_WEIGHT = 1``, ``k = 60``); the best
``top_k_pages`` fused pages are then grounded as usual. An empty index gives ``[]`` and a logged warning.
The async path runs the CPU- and IO-bound work in a worker thread so it never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.vector_stores.types import MetadataFilters

from ..embed.types import Embedder, QueryEmbedding
from ..grounded_search import QueryCache, encode
from ..grounding import GroundingOptions
from ..search.fusion import TEXT_WEIGHT, VISUAL_WEIGHT, reciprocal_rank_fusion
from ..search.hits import PageHit
from ..search.searcher import Searcher, searcher_for
from ..store.lance import PageStore
from .filters import PageKey, matching_keys, plan_filters
from .nodes import page_node
from .options import check_known, rename_deprecated
from .postprocessor import RegionGroundingPostprocessor

logger = logging.getLogger(__name__)


class ColRetRetriever(BaseRetriever):
    """Top ``top_k_pages`` pages by exact MaxSim (fused with full-text search when ``hybrid``); region nodes
    with boxes when ``grounded`` (how many: the grounding option ``top_k``, `as_retriever`'s ``top_k_regions``).

    ``filters``: LlamaIndex ``MetadataFilters`` (AND/OR/NOT, nested) or the store's mapping.
    ``similarity_top_k`` is the deprecated name of ``top_k_pages``.
    """

    def __init__(
        self,
        store: PageStore,
        embedder: Embedder,
        top_k_pages: int = 3,
        grounded: bool = True,
        filters: MetadataFilters | Mapping[str, Any] | None = None,
        grounding_options: GroundingOptions | None = None,
        *,
        hybrid: bool = False,
        searcher: Searcher | None = None,
        search: str = "auto",
        cache: QueryCache | None = None,
        callback_manager: CallbackManager | None = None,
        verbose: bool = False,
        **deprecated: Any,
    ) -> None:
        check_known(deprecated, ("similarity_top_k",), "ColRetRetriever")
        top_k_pages = rename_deprecated(deprecated).get("top_k_pages", top_k_pages)
        if isinstance(top_k_pages, bool) or not isinstance(top_k_pages, int) or top_k_pages < 1:
            raise ValueError(f"top_k_pages must be a positive integer, got {top_k_pages!r}")
        self.store = store
        self.embedder = embedder
        self.top_k_pages = top_k_pages
        self.grounded = grounded
        self.hybrid = hybrid
        self.filters = filters
        self._plan = plan_filters(filters)  # refuses bad operators now, not at query time
        self.cache = cache or QueryCache()
        self.searcher = searcher or searcher_for(store, search)
        self.postprocessor = RegionGroundingPostprocessor(store, embedder, grounding_options, cache=self.cache)
        super().__init__(callback_manager=callback_manager, verbose=verbose)

    @property
    def similarity_top_k(self) -> int:
        """LlamaIndex's name for `top_k_pages` (read-only)."""
        return self.top_k_pages

    def search_pages(self, query_str: str) -> list[PageHit]:
        """The page hits for a query text, filters applied, best first ([] when the index is empty)."""
        return [hit for hit, _ in self.ranked_pages(query_str)]

    def ranked_pages(self, query_str: str) -> list[tuple[PageHit, float]]:
        """``(hit, score)`` best first: score = normalised MaxSim, or the fused RRF score when ``hybrid``."""
        if self.store.count() == 0:
            logger.warning("%s: no documents are indexed; the retriever returns no nodes", self.store.uri)
            return []
        query = encode(self.embedder, query_str, self.cache)
        if not self.hybrid:
            return [(h, h.normalized_score) for h in self._visual(query, self.top_k_pages)]
        n_pages = self.store.count(self._plan.pushdown)
        visual = {(h.doc_id, h.page_number): h for h in self._visual(query, n_pages)}
        keys = self._allowed()
        text = [
            (d, p)
            for d, p, _ in self.store.text_search(query_str, k=n_pages, filters=self._plan.pushdown)
            if (d, p) in visual and (keys is None or (d, p) in keys)
        ]
        fused = reciprocal_rank_fusion([list(visual), text], weights=[VISUAL_WEIGHT, TEXT_WEIGHT])
        return [(visual[key], score) for key, score in fused[: self.top_k_pages]]

    def _allowed(self) -> set[PageKey] | None:
        """The page keys an OR/NOT/nested filter admits (None: no such filter)."""
        return None if self._plan.tree is None else matching_keys(self.store, self._plan.tree)

    def _visual(self, query: QueryEmbedding, k: int) -> list[PageHit]:
        """The ``k`` best pages by exact MaxSim under the filters."""
        keys = self._allowed()
        if keys is None:
            return self.searcher.search(query, k=k, filters=self._plan.pushdown)
        if not keys:
            return []
        docs = sorted({d for d, _ in keys})
        ranked = self.searcher.search(query, k=len(keys) + self.store.count(), filters={"doc_id": {"in": docs}})
        return [h for h in ranked if (h.doc_id, h.page_number) in keys][:k]

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        """Region nodes (``grounded``) or page nodes for the query, best first."""
        ranked = self.ranked_pages(query_bundle.query_str)
        if not ranked:
            return []
        level = logging.INFO if self._verbose else logging.DEBUG
        logger.log(level, "%r: pages %s", query_bundle.query_str, [(h.file_name, h.page_number) for h, _ in ranked])
        hits = [h for h, _ in ranked]
        if self.grounded:
            return self.postprocessor.regions_for(hits, query_bundle.query_str)
        records = self.store.get_pages([(h.doc_id, h.page_number) for h in hits])
        return [page_node(h, r, score) for (h, score), r in zip(ranked, records, strict=True)]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        """`_retrieve` in a worker thread (the event loop never blocks on MaxSim or LanceDB)."""
        return await asyncio.to_thread(self._retrieve, query_bundle)
