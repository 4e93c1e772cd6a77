"""`RegionGroundingPostprocessor`: page nodes in, grounded region nodes out.

Score and order: each selected region's node score is the grounding module's combined score,
``(1 - page_weight) * region_relevance + page_weight * page_score`` (``page_score`` = the page node's
normalised MaxSim), best first; ties go to the earlier page, then reading order (`grounding.select`).
Nodes that are not ours (no ``doc_id``/``page_number``, e.g. from a fused BM25 retriever) pass through
unchanged after the region nodes; several nodes of one page are grounded once.
No model forward pass beyond encoding the query, which the shared `QueryCache` holds from the retriever.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from llama_index.core.bridge.pydantic import Field, PrivateAttr
from llama_index.core.callbacks import CallbackManager
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.events.rerank import ReRankEndEvent, ReRankStartEvent
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import NodeWithScore, QueryBundle

from ..embed.types import Embedder
from ..grounded_search import QueryCache, encode, ground_hits
from ..grounding import GroundingOptions, select
from ..search.exact import PageHit
from ..store.lance import PageStore
from .nodes import region_node

dispatcher = get_dispatcher(__name__)


class RegionGroundingPostprocessor(BaseNodePostprocessor):
    """Turn the page nodes of `ColRetRetriever` into region nodes (text regions, figure crops) with boxes.

    Serialisable: the fields ``uri`` (the index), ``model_name`` and ``grounding`` (every `GroundingOptions`
    value) survive ``to_dict``/``from_dict``; ``from_dict(data)`` reopens the index and loads the model,
    ``from_dict(data, embedder=...)`` reuses one. Emits ``ReRankStartEvent``/``ReRankEndEvent``.
    """

    uri: str = Field(description="LanceDB URI of the colret index whose pages are grounded")
    model_name: str = Field(description="model that embedded the index (and encodes the query)")
    grounding: dict[str, Any] = Field(default_factory=dict, description="GroundingOptions fields")

    _store: PageStore = PrivateAttr()
    _embedder: Embedder = PrivateAttr()
    _options: GroundingOptions = PrivateAttr()
    _cache: QueryCache = PrivateAttr()

    def __init__(
        self,
        store: PageStore | None = None,
        embedder: Embedder | None = None,
        options: GroundingOptions | None = None,
        cache: QueryCache | None = None,
        *,
        uri: str | None = None,
        model_name: str | None = None,
        grounding: Mapping[str, Any] | None = None,
        callback_manager: CallbackManager | None = None,
        **grounding_overrides: Any,
    ) -> None:
        if store is None and uri is None:
            raise TypeError("RegionGroundingPostprocessor needs the index: a store, or uri= of a colret index")
        store = store or PageStore.open(str(uri))
        if embedder is None:
            from ..embed.embedder import resolve_embedder  # heavy (torch, transformers): only when a model is loaded

            embedder = resolve_embedder(model_name, store.model_name)
        if "top_k_regions" in grounding_overrides:
            grounding_overrides["top_k"] = grounding_overrides.pop("top_k_regions")
        base = options or GroundingOptions().replace(**(grounding or {}))
        resolved = base.replace(**grounding_overrides)
        super().__init__(
            uri=str(store.uri),
            model_name=str(embedder.model_name),
            grounding=dataclasses.asdict(resolved),
            callback_manager=callback_manager or CallbackManager(),
        )
        self._store, self._embedder, self._options = store, embedder, resolved
        self._cache = cache or QueryCache()

    @classmethod
    def from_index(cls, index: Any, **grounding_overrides: Any) -> RegionGroundingPostprocessor:
        """A postprocessor over a `ColRetIndex`: its store, model and query cache (no second encoding)."""
        return cls(index.store, index.embedder, cache=index.cache, **grounding_overrides)

    @classmethod
    def class_name(cls) -> str:
        """The name ``to_dict`` records."""
        return "RegionGroundingPostprocessor"

    @property
    def options(self) -> GroundingOptions:
        """The grounding options in use."""
        return self._options

    @dispatcher.span
    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        """Region nodes for our page (or region) nodes, then the foreign nodes; rerank events around it."""
        if query_bundle is None:
            raise ValueError("RegionGroundingPostprocessor needs the query (query_bundle) to ground pages")
        top_n = self._options.top_k or 0
        dispatcher.event(ReRankStartEvent(query=query_bundle, nodes=nodes, top_n=top_n, model_name=self.model_name))
        ours = [n for n in nodes if _is_colret(n)]
        foreign = [n for n in nodes if not _is_colret(n)]
        out = list(foreign)
        if ours:
            pages: dict[tuple[str, int], PageHit] = {}
            for n in ours:  # first node of each page wins
                hit = _page_hit(n)
                pages.setdefault((hit.doc_id, hit.page_number), hit)
            out = self.regions_for(list(pages.values()), query_bundle.query_str) + foreign
        dispatcher.event(ReRankEndEvent(nodes=out))
        return out

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
