"""llama-index-colret: grounded visual retrieval for PDFs in LlamaIndex."""

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
