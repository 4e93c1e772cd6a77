"""`ColRetIndex`: the user-facing index over PDFs (build, load, insert, delete, retrieve, query, tool)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from llama_index.core.callbacks import CallbackManager
from llama_index.core.chat_engine.types import BaseChatEngine, ChatMode
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import Document
from llama_index.core.settings import Settings
from llama_index.core.tools import FunctionTool

from ..embed.identity import recorded_revision
from ..embed.types import Embedder
from ..errors import PDFError
from ..grounded_search import QueryCache
from ..grounding import GroundingOptions
from ..pipeline import IndexReport, MetadataSpec, index_pdfs, pdf_paths
from ..search.searcher import searcher_for
from ..store.lance import PageStore
from ..store.records import DocumentInfo
from .chat import chat_engine
from .options import check_known, grounding_names, named_parameters, rename_deprecated, retriever_names, split
from .retriever import ColRetRetriever
from .tool import DEFAULT_DESCRIPTION, DEFAULT_NAME, make_tool

#: Reader metadata that describes the file itself (stored anyway), not user metadata to keep.
_READER_METADATA = frozenset(
    {"file_name", "file_type", "file_size", "creation_date", "last_modified_date", "last_accessed_date", "page_label"}
)


class ColRetIndex:
    """PDF pages embedded by a ColPali-family model in LanceDB; retrieval by exact MaxSim, grounded regions.

    Counts: ``top_k_pages`` pages are retrieved, ``top_k_regions`` region nodes come out of grounding
    (``similarity_top_k`` and ``top_k`` are their deprecated names). Unknown keywords raise ``TypeError``.
    """

    def __init__(
        self,
        store: PageStore,
        embedder: Embedder,
        callback_manager: CallbackManager | None = None,
        *,
        search: str = "auto",
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.callback_manager = callback_manager or Settings.callback_manager
        self.last_report: IndexReport | None = None  # of the latest from_pdfs / insert_pdfs
        self.searcher = searcher_for(store, search)  # one searcher (and cache) shared by its retrievers
        self.cache = QueryCache()

    @classmethod
    def from_pdfs(
        cls,
        paths: str | Path | Sequence[str | Path],
        embedder: Embedder | str | Path | None = None,
        uri: str | Path = "./colret_index",
        metadata: MetadataSpec = None,
        show_progress: bool = True,
        *,
        embed_model: Embedder | str | Path | None = None,
        callback_manager: CallbackManager | None = None,
        storage_options: Mapping[str, str] | None = None,
        **index_kwargs: Any,
    ) -> ColRetIndex:
        """Index PDFs (files or folders) into ``uri`` (created, or added to; ``storage_options`` for object
        storage); ``index_kwargs`` go to `index_pdfs` (``dpi``, ``ocr``, ``password``, ``batch_pages``,
        ``engine="ray"`` and ``ray=RayOptions(...)``). ``embedder`` (or LlamaIndex's name ``embed_model``) None:
        the model the index was built with, or ``vidore/colqwen2-v1.0-hf``."""
        check_known(index_kwargs, _index_pdfs_args(), "ColRetIndex.from_pdfs")  # before any model loads
        files = pdf_paths(paths)
        emb_arg = _one_embedder(embedder, embed_model)
        recorded = (
            PageStore.open(uri, storage_options=storage_options) if PageStore.exists(uri, storage_options) else None
        )
        store, emb = _open_with_model(uri, emb_arg, recorded, storage_options)
        index = cls(store, emb, callback_manager)
        index.last_report = index_pdfs(
            files, index.store, emb, metadata=metadata, show_progress=show_progress, **index_kwargs
        )
        return index

    @classmethod
    def load(
        cls,
        uri: str | Path,
        embedder: Embedder | str | Path | None = None,
        *,
        embed_model: Embedder | str | Path | None = None,
        callback_manager: CallbackManager | None = None,
        storage_options: Mapping[str, str] | None = None,
    ) -> ColRetIndex:
        """Open an existing index (``storage_options`` for object storage); ``embedder`` (or ``embed_model``)
        None loads the model it was built with."""
        emb_arg = _one_embedder(embedder, embed_model)
        recorded = PageStore.open(uri, storage_options=storage_options)
        return cls(*_open_with_model(uri, emb_arg, recorded, storage_options), callback_manager)

    def insert_pdfs(
        self,
        paths: str | Path | Sequence[str | Path],
        metadata: MetadataSpec = None,
        show_progress: bool = False,
        **kw: Any,
    ) -> IndexReport:
        """Add PDFs (a file already stored is skipped); returns the `IndexReport`."""
        check_known(kw, _index_pdfs_args(), "ColRetIndex.insert_pdfs")
        report = index_pdfs(
            pdf_paths(paths), self.store, self.embedder, metadata=metadata, show_progress=show_progress, **kw
        )
        self.last_report = report
        return report

    def insert_pdf(self, path: str | Path, metadata: Mapping[str, Any] | None = None, **kw: Any) -> str:
        """Add one PDF; return its doc_id (the stored one when the file is already indexed).

        A PDF that cannot be indexed raises PDFError with the problem that stopped it (path named once)."""
        outcome = self.insert_pdfs([path], metadata=metadata, **kw).outcomes[0]
        if outcome.status == "failed":
            error = outcome.error or "could not be indexed"
            raise PDFError(path, error.removeprefix(f"{outcome.path}: "))
        return str(outcome.doc_id)

    def insert(self, document: Document | str | Path, **insert_kwargs: Any) -> str:
        """LlamaIndex's ``insert``: a PDF path, or a ``Document`` whose ``file_path`` metadata names the PDF
        (as SimpleDirectoryReader sets it); its other metadata is stored with the pages. Returns the doc_id."""
        if isinstance(document, Document):
            meta = dict(document.metadata)
            if "file_path" not in meta:
                raise ValueError(f"document {document.doc_id!r} has no 'file_path' metadata naming its PDF")
            path = meta.pop("file_path")
            keep = {k: v for k, v in meta.items() if k not in _READER_METADATA}
            return self.insert_pdf(path, metadata=keep or None, **insert_kwargs)
        return self.insert_pdf(document, **insert_kwargs)

    def delete_ref_doc(self, ref_doc_id: str, delete_from_docstore: bool = False, **delete_kwargs: Any) -> None:
        """LlamaIndex's ``delete_ref_doc``: remove a document (``node.ref_doc_id``, the doc_id) and its pages."""
        check_known(delete_kwargs, (), "ColRetIndex.delete_ref_doc")
        self.delete_document(ref_doc_id)

    def delete_document(self, doc_id: str) -> int:
        """Remove a document's pages; return how many pages went (0 when the doc_id is unknown)."""
        return self.store.delete(doc_id)

    def documents(self) -> list[DocumentInfo]:
        """Every indexed document (id, file, hash, page count, metadata), ordered by doc_id."""
        return self.store.documents()

    def as_retriever(self, **kwargs: Any) -> ColRetRetriever:
        """A retriever of grounded regions (or pages, ``grounded=False``). Keywords: ``top_k_pages=3``,
        ``top_k_regions=3``, ``grounded=True``, ``filters``, ``hybrid=False``, ``callback_manager``,
        ``verbose`` and the `GroundingOptions` fields; anything else is a TypeError."""
        kwargs = rename_deprecated(kwargs)
        check_known(kwargs, retriever_names(), "ColRetIndex.as_retriever")
        grounding, mine = split(kwargs, grounding_names())
        if "top_k_regions" in mine:
            grounding["top_k"] = mine.pop("top_k_regions")
        return ColRetRetriever(
            self.store,
            self.embedder,
            grounding_options=GroundingOptions().replace(**grounding),
            searcher=self.searcher,
            cache=self.cache,
            callback_manager=mine.pop("callback_manager", self.callback_manager),
            **mine,
        )

    def as_query_engine(self, llm: Any = None, multimodal: bool = False, **kwargs: Any) -> RetrieverQueryEngine:
        """A ``RetrieverQueryEngine`` over grounded regions; retriever and grounding keywords go to
        `as_retriever`, the rest to ``RetrieverQueryEngine.from_args`` (figure crops reach a multimodal LLM
        as images when ``multimodal=True``). An empty index answers LlamaIndex's "Empty Response"."""
        kwargs = rename_deprecated(kwargs)
        engine_args = named_parameters(RetrieverQueryEngine.from_args, skip=("retriever", "llm", "multimodal"))
        check_known(kwargs, retriever_names() | engine_args, "ColRetIndex.as_query_engine")
        mine, rest = split(kwargs, retriever_names() - {"callback_manager", "verbose"})
        shared = {k: kwargs[k] for k in ("callback_manager", "verbose") if k in kwargs}
        retriever = self.as_retriever(**mine, **shared)
        rest.setdefault("callback_manager", self.callback_manager)
        return RetrieverQueryEngine.from_args(retriever, llm=llm, multimodal=multimodal, **rest)

    def as_chat_engine(
        self, chat_mode: ChatMode | str = ChatMode.CONDENSE_PLUS_CONTEXT, llm: Any = None, **kwargs: Any
    ) -> BaseChatEngine:
        """A chat engine over grounded regions: ``condense_plus_context`` (default; also ``best``),
        ``context``, ``condense_question`` (over `as_query_engine`) or ``simple``; retriever keywords as in
        `as_retriever`, the rest go to the engine's ``from_defaults``."""
        return chat_engine(self, ChatMode(chat_mode), llm, kwargs)

    def as_tool(
        self, name: str = DEFAULT_NAME, description: str = DEFAULT_DESCRIPTION, **retriever_kwargs: Any
    ) -> FunctionTool:
        """A ``FunctionTool`` for agents: region snippets with citations and figure images (a plain "no
        documents are indexed" when the index is empty)."""
        return make_tool(self.as_retriever(**retriever_kwargs), name=name, description=description)


def _open_with_model(
    uri: str | Path, emb_arg: Any, recorded: PageStore | None, storage_options: Mapping[str, str] | None
) -> tuple[PageStore, Embedder]:
    """Load the embedder (``emb_arg``, else the ``recorded`` index's model at its recorded revision) and open the
    index at ``uri`` for it, creating it when absent; `IndexMismatchError` when it holds another model."""
    from ..embed.embedder import resolve_embedder  # torch and transformers: only when a model is loaded

    revision = recorded_revision(recorded.model_id) if recorded is not None and emb_arg is None else None
    emb = resolve_embedder(emb_arg, recorded.model_name if recorded else None, revision=revision)
    store = PageStore.open(
        uri, model_name=emb.model_name, dim=int(emb.dim), model_id=getattr(emb, "model_id", None),
        storage_options=storage_options,
    )  # fmt: skip
    return store, emb


def _one_embedder(embedder: Embedder | str | Path | None, embed_model: Embedder | str | Path | None) -> Any:
    """``embedder`` or its LlamaIndex name ``embed_model`` (TypeError when both are given)."""
    if embedder is not None and embed_model is not None:
        raise TypeError("pass the model as embedder= or as embed_model=, not both")
    return embedder if embedder is not None else embed_model


def _index_pdfs_args() -> set[str]:
    """Keywords `from_pdfs`/`insert_pdfs` hand on to `index_pdfs`."""
    return named_parameters(index_pdfs, skip=("paths", "store", "embedder", "metadata", "show_progress"))
