"""`RegionGroundingPostprocessor`: page nodes in, grounded region nodes out.

Score and order: each selected region's node score is the grounding module's combined score,
``(1 - page_weight) * region_relevance + page_weight * page_score`` (``page_score`` = the page node's
normalised MaxSim), best first; ties go to the earlier page, then reading order (`grounding.select`).
Nodes that are not ours (no ``doc_id``/``page_number``, e.g. from a fused BM25 retriever) pass through
unchanged after the region nodes; several nodes of one page are grounded once.
No model forward pass beyond encoding the query, which the shared `QueryCache` holds from the retriever.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, QueryBundle

from ..embed.types import Embedder
from ..grounded_search import QueryCache, encode, ground_hits
from ..grounding import GroundingOptions, select
from ..search.exact import PageHit
from ..store.lance import PageStore
from .nodes import region_node


class RegionGroundingPostprocessor(BaseNodePostprocessor):
    """Turn the page nodes of `ColRetRetriever` into region nodes (text regions, figure crops) with boxes."""

    _store: PageStore = PrivateAttr()
    _embedder: Embedder = PrivateAttr()
    _options: GroundingOptions = PrivateAttr()
    _cache: QueryCache = PrivateAttr()

    def __init__(
        self,
        store: PageStore,
        embedder: Embedder,
        options: GroundingOptions | None = None,
        cache: QueryCache | None = None,
        **grounding_overrides: Any,
    ) -> None:
        super().__init__()
        self._store = store
        self._embedder = embedder
        self._options = (options or GroundingOptions()).replace(**grounding_overrides)
        self._cache = cache or QueryCache()

    @classmethod
    def class_name(cls) -> str:
        return "RegionGroundingPostprocessor"

    @property
    def options(self) -> GroundingOptions:
        """The grounding options in use."""
        return self._options

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        if query_bundle is None:
            raise ValueError("RegionGroundingPostprocessor needs the query (query_bundle) to ground pages")
        ours = [n for n in nodes if _is_colret(n)]
        foreign = [n for n in nodes if not _is_colret(n)]
        if not ours:
            return list(foreign)
        pages: dict[tuple[str, int], PageHit] = {}
        for n in ours:  # first node of each page wins
            hit = _page_hit(n)
            pages.setdefault((hit.doc_id, hit.page_number), hit)
        return self.regions_for(list(pages.values()), query_bundle.query_str) + foreign

    def regions_for(self, hits: list[PageHit], query_str: str) -> list[NodeWithScore]:
        """Region nodes for page hits: ground each page on its stored vectors, select, build the nodes."""
        query = encode(self._embedder, query_str, self._cache)
        grounded = ground_hits(hits, query, self._store, self._options)
        selection = select([g.grounding for g in grounded], self._options)
        return [
            region_node(grounded[s.page_index], s, grounded[s.page_index].record.metadata) for s in selection.regions
        ]


def _is_colret(n: NodeWithScore) -> bool:
    """Whether a node stands for a page of our store (page or region node: doc_id and page_number)."""
    return "doc_id" in n.node.metadata and "page_number" in n.node.metadata


def _page_hit(n: NodeWithScore) -> PageHit:
    """The page hit a page (or region) node stands for (its metadata holds doc_id, page and both scores)."""
    m = n.node.metadata
    normalized = float(m.get("normalized_score", m.get("page_score", n.score or 0.0)))
    return PageHit(
        doc_id=m["doc_id"],
        page_number=int(m["page_number"]),
        file_name=m.get("file_name", ""),
        path=m.get("path", ""),
        score=float(m.get("maxsim", normalized)),
        normalized_score=normalized,
        n_query_vectors=0,
    )
