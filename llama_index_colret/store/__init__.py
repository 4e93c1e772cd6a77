"""Storage: pages, multi-vectors, regions and images in LanceDB."""

from .lance import PackedPages, PageStore
from .records import DocumentInfo, PageRecord

__all__ = ["DocumentInfo", "PackedPages", "PageRecord", "PageStore"]
