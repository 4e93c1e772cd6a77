"""llama-index-colret: grounded visual retrieval for PDFs in LlamaIndex.

The entry points: `ColRetIndex` (build, load, retrieve, query), `ColRetRetriever` and
`RegionGroundingPostprocessor` (the LlamaIndex parts), `ColEmbedder` (the model), `PageStore` (the LanceDB
index), `load_pdf` (pages and regions), `index_pdfs` (the indexing pipeline), `search_grounded` (question to
grounded regions), `GroundingOptions`, and every error class. Everything below them is importable from its
module (see docs/api.md).
"""

import logging

from . import errors as _errors
from .errors import *  # noqa: F403  every error class, as listed in errors.__all__

__version__ = "0.1.0"
logging.getLogger(__name__).addHandler(logging.NullHandler())  # a library logs; the application decides where

# The entry points load on first use, so `import llama_index_colret` imports neither torch nor llama_index.
_LAZY = {
    "ColRetIndex": ".llamaindex.index",
    "ColRetRetriever": ".llamaindex.retriever",
    "RegionGroundingPostprocessor": ".llamaindex.postprocessor",
    "ColEmbedder": ".embed.embedder",
    "PageStore": ".store.lance",
    "load_pdf": ".ingest.pdf",
    "index_pdfs": ".pipeline",
    "search_grounded": ".grounded_search",
    "GroundingOptions": ".grounding.options",
}

__all__ = [*_LAZY, *_errors.__all__]


def __getattr__(name: str) -> object:
    """Import an entry point on first access."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names, the lazy ones included (for completion and `dir`)."""
    return sorted({*globals(), *__all__})
