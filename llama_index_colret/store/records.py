"""What the store gives back: plain Python records, so grounding and LlamaIndex layers never touch Arrow."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from ..geometry import PatchGrid
from ..ingest.page import Region


@dataclass
class PageRecord:
    """One stored page: identity, size, metadata, regions, text, grid, vectors and the rendered image.

    ``vectors``: ``(n_vectors, dim)`` float16 as stored (every non-padding output vector);
    ``patch_positions``: ``(n_rows * n_cols,)`` row in ``vectors`` of each grid cell, raster order.
    """

    doc_id: str
    page_number: int
    file_name: str
    path: str
    content_hash: str
    width_pt: float
    height_pt: float
    rotation: int
    dpi: int
    metadata: dict[str, Any]
    regions: list[Region]
    text: str
    grid: PatchGrid
    vectors: np.ndarray
    patch_positions: np.ndarray
    image_bytes: bytes = field(repr=False)
    image_width: int = 0
    image_height: int = 0
    page_error: str | None = None

    @property
    def patch_vectors(self) -> np.ndarray:
        """Image-patch vectors in raster order: ``(n_rows * n_cols, dim)``."""
        return self.vectors[self.patch_positions]

    def image(self) -> Image.Image:
        """The stored page image (RGB), decoded from its PNG bytes."""
        with Image.open(io.BytesIO(self.image_bytes)) as img:
            return img.convert("RGB")

    @classmethod
    def from_row(cls, row: dict[str, Any], vectors: np.ndarray) -> PageRecord:
        """From a row of the pages table (``to_pylist`` form) and its decoded ``(n, dim)`` vectors."""
        return cls(
            doc_id=row["doc_id"],
            page_number=int(row["page_number"]),
            file_name=row["file_name"],
            path=row["path"],
            content_hash=row["content_hash"],
            width_pt=float(row["width_pt"]),
            height_pt=float(row["height_pt"]),
            rotation=int(row["rotation"]),
            dpi=int(row["dpi"]),
            metadata=json.loads(row["metadata_json"]),
            regions=[Region.from_dict(r) for r in row["regions"]],
            text=row["text"],
            grid=PatchGrid.from_dict(row["grid"]),
            vectors=vectors,
            patch_positions=np.asarray(row["patch_positions"], dtype=np.int64),
            image_bytes=row["image"],
            image_width=int(row["image_width"]),
            image_height=int(row["image_height"]),
            page_error=row.get("page_error"),
        )


@dataclass(frozen=True)
class DocumentInfo:
    """One stored document: its id, file, content hash, page count and user metadata."""

    doc_id: str
    file_name: str
    path: str
    content_hash: str
    n_pages: int
    metadata: dict[str, Any]
