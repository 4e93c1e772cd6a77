"""`ColRetIndex`: the user-facing index over PDFs (build, load, insert, delete, retrieve, query, tool)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.tools import FunctionTool
from llama_index.core.vector_stores.types import MetadataFilters

from ..embed.types import Embedder
from ..errors import PDFError
from ..grounded_search import QueryCache
from ..grounding import GroundingOptions
from ..pipeline import IndexReport, MetadataSpec, index_pdfs, pdf_paths
from ..search.exact import ExactSearcher
from ..store.lance import PageStore
from ..store.records import DocumentInfo
from .retriever import ColRetRetriever
from .tool import DEFAULT_DESCRIPTION, DEFAULT_NAME, make_tool

_RETRIEVER_ARGS = ("similarity_top_k", "grounded", "filters")


class ColRetIndex:
    """PDF pages embedded by a ColPali-family model in LanceDB; retrieval by exact MaxSim, grounded regions."""

    def __init__(self, store: PageStore, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder
        self.last_report: IndexReport | None = None  # of the latest from_pdfs / insert_pdfs
        self.searcher = ExactSearcher(store)  # one vector cache shared by every retriever of this index
        self.cache = QueryCache()

    @classmethod
    def from_pdfs(
        cls,
        paths: str | Path | Sequence[str | Path],
        embedder: Embedder | str | Path | None = None,
        uri: str | Path = "./colret_index",
        metadata: MetadataSpec = None,
        show_progress: bool = True,
        **index_kwargs: Any,
    ) -> ColRetIndex:
        """Index PDFs (files or folders) into ``uri`` (created, or added to); ``index_kwargs`` go to
        `index_pdfs` (``dpi``, ``ocr``, ``password``, ``batch_pages``). ``embedder=None``: the model the
        index was built with, or `DEFAULT_MODEL` (``vidore/colqwen2-v1.0-hf``) for a new index."""
        from ..embed.embedder import resolve_embedder  # torch and transformers: only when a model is loaded

        files = pdf_paths(paths)
        recorded = PageStore.open(uri).model_name if PageStore.exists(uri) else None
        emb = resolve_embedder(embedder, recorded)
        index = cls(PageStore.create(uri, model_name=emb.model_name, dim=int(emb.dim)), emb)
        index.last_report = index_pdfs(
            files, index.store, emb, metadata=metadata, show_progress=show_progress, **index_kwargs
        )
        return index

    @classmethod
    def load(cls, uri: str | Path, embedder: Embedder | str | Path | None = None) -> ColRetIndex:
        """Open an existing index; ``embedder=None`` loads the model it was built with."""
        from ..embed.embedder import resolve_embedder  # torch and transformers: only when a model is loaded

        store = PageStore.open(uri)
        emb = resolve_embedder(embedder, store.model_name)
        return cls(PageStore.open(uri, model_name=emb.model_name, dim=int(emb.dim)), emb)

    def insert_pdfs(
        self,
        paths: str | Path | Sequence[str | Path],
        metadata: MetadataSpec = None,
        show_progress: bool = False,
        **kw: Any,
    ) -> IndexReport:
        """Add PDFs (a file already stored is skipped); returns the `IndexReport`."""
        report = index_pdfs(
            pdf_paths(paths), self.store, self.embedder, metadata=metadata, show_progress=show_progress, **kw
        )
        self.last_report = report
        return report

    def insert_pdf(self, path: str | Path, metadata: Mapping[str, Any] | None = None, **kw: Any) -> str:
        """Add one PDF; return its doc_id (the stored one when the file is already indexed).

        A PDF that cannot be indexed raises the error that stopped it (PDFError, OCRError, ...)."""
        outcome = self.insert_pdfs([path], metadata=metadata, **kw).outcomes[0]
        if outcome.status == "failed":
            raise PDFError(path, outcome.error or "could not be indexed")
        return str(outcome.doc_id)

    def delete_document(self, doc_id: str) -> int:
        """Remove a document's pages; return how many pages went (0 when the doc_id is unknown)."""
        return self.store.delete(doc_id)

    def documents(self) -> list[DocumentInfo]:
        """Every indexed document (id, file, hash, page count, metadata), ordered by doc_id."""
        return self.store.documents()

    def as_retriever(
        self,
        similarity_top_k: int = 3,
        grounded: bool = True,
        filters: MetadataFilters | Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> ColRetRetriever:
        """A retriever of pages, or of grounded regions; ``kwargs``: `GroundingOptions` fields (others that
        query-engine helpers pass are ignored)."""
        names = set(GroundingOptions.field_names())
        options = GroundingOptions().replace(**{k: v for k, v in kwargs.items() if k in names})
        return ColRetRetriever(
            self.store,
            self.embedder,
            similarity_top_k=similarity_top_k,
            grounded=grounded,
            filters=filters,
            grounding_options=options,
            searcher=self.searcher,
            cache=self.cache,
        )

    def as_query_engine(self, llm: Any = None, multimodal: bool = False, **kwargs: Any) -> RetrieverQueryEngine:
        """A ``RetrieverQueryEngine`` over grounded regions; retriever and grounding keywords go to
        `as_retriever`, the rest to ``RetrieverQueryEngine.from_args`` (figure crops reach a multimodal LLM
        as images when ``multimodal=True``)."""
        mine = set(_RETRIEVER_ARGS) | set(GroundingOptions.field_names())
        retriever = self.as_retriever(**{k: v for k, v in kwargs.items() if k in mine})
        rest = {k: v for k, v in kwargs.items() if k not in mine}
        return RetrieverQueryEngine.from_args(retriever, llm=llm, multimodal=multimodal, **rest)

    def as_tool(
        self, name: str = DEFAULT_NAME, description: str = DEFAULT_DESCRIPTION, **retriever_kwargs: Any
    ) -> FunctionTool:
        """A ``FunctionTool`` for agents: region snippets with citations and figure images."""
        return make_tool(self.as_retriever(**retriever_kwargs), name=name, description=description)
