"""Storage: pages, multi-vectors, regions and images in LanceDB."""

from .lance import PageStore
from .packed import PackedVectors, PageKeys
from .records import DocumentInfo, PageRecord

__all__ = ["DocumentInfo", "PackedVectors", "PageKeys", "PageRecord", "PageStore"]
