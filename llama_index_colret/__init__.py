"""llama-index-colret: grounded visual retrieval for PDFs in LlamaIndex."""

import logging

from .errors import ColRetError, EmptyIndexError, FilterError, IndexMismatchError, ModelLoadError, PDFError
from .geometry import BBox, PatchGrid
from .ingest.page import Page, Region

__all__ = [
    "BBox",
    "ColRetError",
    "EmptyIndexError",
    "FilterError",
    "IndexMismatchError",
    "ModelLoadError",
    "PDFError",
    "Page",
    "PatchGrid",
    "Region",
]
__version__ = "0.1.0"
logging.getLogger(__name__).addHandler(logging.NullHandler())  # a library logs; the application decides where

# Heavy names (llama_index, torch/transformers, poppler) load on first use, so `import llama_index_colret` stays light.
_LAZY = {
    "ColRetIndex": ".llamaindex.index",
    "ColRetRetriever": ".llamaindex.retriever",
    "RegionGroundingPostprocessor": ".llamaindex.postprocessor",
    "ColEmbedder": ".embed.embedder",
    "load_pdf": ".ingest.pdf",
    "GroundingOptions": ".grounding.options",
}
__all__ += list(_LAZY)


def __getattr__(name: str) -> object:
    """Import a heavy public name on first access."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
