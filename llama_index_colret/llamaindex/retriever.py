"""`ColRetRetriever`: exact MaxSim page retrieval as a LlamaIndex ``BaseRetriever``, grounded by default.

Returns page nodes (``grounded=False``) or the region nodes of `RegionGroundingPostprocessor`. The async
path runs the CPU- and IO-bound work in a worker thread so it never blocks the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.vector_stores.types import MetadataFilters

from ..embed.types import Embedder
from ..grounded_search import QueryCache, encode
from ..grounding import GroundingOptions
from ..search.exact import ExactSearcher, PageHit
from ..store.lance import PageStore, ensure_not_empty
from .filters import matching_keys, plan_filters
from .nodes import page_node
from .postprocessor import RegionGroundingPostprocessor


class ColRetRetriever(BaseRetriever):
    """Top ``similarity_top_k`` pages by exact MaxSim; region nodes with boxes when ``grounded``.

    ``filters``: LlamaIndex ``MetadataFilters`` (AND/OR/NOT, nested) or the store's mapping. Keyword
    arguments a query engine passes that mean nothing here are accepted and ignored.
    """

    def __init__(
        self,
        store: PageStore,
        embedder: Embedder,
        similarity_top_k: int = 3,
        grounded: bool = True,
        filters: MetadataFilters | Mapping[str, Any] | None = None,
        grounding_options: GroundingOptions | None = None,
        *,
        searcher: ExactSearcher | None = None,
        cache: QueryCache | None = None,
        callback_manager: CallbackManager | None = None,
        verbose: bool = False,
        **_ignored: Any,
    ) -> None:
        if isinstance(similarity_top_k, bool) or not isinstance(similarity_top_k, int) or similarity_top_k < 1:
            raise ValueError(f"similarity_top_k must be a positive integer, got {similarity_top_k!r}")
        self.store = store
        self.embedder = embedder
        self.similarity_top_k = similarity_top_k
        self.grounded = grounded
        self.filters = filters
        self._plan = plan_filters(filters)  # refuses bad operators now, not at query time
        self.cache = cache or QueryCache()
        self.searcher = searcher or ExactSearcher(store)
        self.postprocessor = RegionGroundingPostprocessor(store, embedder, grounding_options, cache=self.cache)
        super().__init__(callback_manager=callback_manager, verbose=verbose)

    def search_pages(self, query_str: str) -> list[PageHit]:
        """The page hits for a query text, filters applied (exact MaxSim, best first)."""
        ensure_not_empty(self.store)
        query = encode(self.embedder, query_str, self.cache)
        plan = self._plan
        if plan.tree is None:
            return self.searcher.search(query, k=self.similarity_top_k, filters=plan.pushdown)
        keys = matching_keys(self.store, plan.tree)
        if not keys:
            return []
        docs = sorted({d for d, _ in keys})
        ranked = self.searcher.search(query, k=len(keys) + self.store.count(), filters={"doc_id": {"in": docs}})
        return [h for h in ranked if (h.doc_id, h.page_number) in keys][: self.similarity_top_k]

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self.search_pages(query_bundle.query_str)
        if not hits:
            return []
        if self.grounded:
            return self.postprocessor.regions_for(hits, query_bundle.query_str)
        records = self.store.get_pages([(h.doc_id, h.page_number) for h in hits])
        return [page_node(h, r) for h, r in zip(hits, records, strict=True)]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await asyncio.to_thread(self._retrieve, query_bundle)
