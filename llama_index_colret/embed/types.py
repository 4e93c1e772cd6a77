"""Embeddings as the rest of the library sees them: numpy multi-vectors plus where the patches sit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image

from ..geometry import PatchGrid


@dataclass
class PageEmbedding:
    """Every non-padding output vector of one page, and which of them are image patches.

    ``vectors``: ``(n_vectors, dim)`` float32, unit length, prompt tokens included (page scoring uses all).
    ``patch_positions``: ``(n_rows * n_cols,)`` int, the row in ``vectors`` of each grid cell in
    *raster* order (tile re-ordering and the global tile already resolved), so
    ``vectors[patch_positions].reshape(n_rows, n_cols, dim)`` is the page's patch grid.
    """

    vectors: np.ndarray
    patch_positions: np.ndarray
    grid: PatchGrid

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2:
            raise ValueError(f"page vectors must be (n_vectors, dim), got shape {self.vectors.shape}")
        if self.patch_positions.shape != (self.grid.n_patches,):
            raise ValueError(
                f"{self.patch_positions.shape[0]} patch positions for a {self.grid.n_rows}x{self.grid.n_cols} grid"
            )

    @property
    def patch_vectors(self) -> np.ndarray:
        """Image-patch vectors in raster order: ``(n_rows * n_cols, dim)``."""
        return self.vectors[self.patch_positions]


@dataclass
class QueryEmbedding:
    """The non-padding vectors of one query and the token each came from.

    ``vectors``: ``(n_tokens, dim)`` float32, unit length. ``augmentation``: ``(n_tokens,)`` bool, True for
    the query-augmentation pad tokens (kept: they matter for MaxSim).
    """

    vectors: np.ndarray
    tokens: list[str]
    augmentation: np.ndarray

    def __post_init__(self) -> None:
        if not (len(self.tokens) == self.vectors.shape[0] == self.augmentation.shape[0]):
            raise ValueError(
                f"{self.vectors.shape[0]} query vectors, {len(self.tokens)} tokens and "
                f"{self.augmentation.shape[0]} augmentation flags must agree"
            )


@runtime_checkable
class Embedder(Protocol):
    """What the index needs from a model: `ColEmbedder`, or a deterministic double in tests."""

    model_name: str
    dim: int

    def embed_pages(self, images: Sequence[Image.Image], show_progress: bool = False) -> list[PageEmbedding]:
        """One `PageEmbedding` per page image, in order."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> list[QueryEmbedding]:
        """One `QueryEmbedding` per query text, in order."""
        ...
