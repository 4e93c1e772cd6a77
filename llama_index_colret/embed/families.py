"""One small hook per model family: which transformers class, how to prepare pages, where the image tokens are
and which patch grid they form. The grid always comes from the processor's outputs, never from a token count."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from PIL import Image

from ..errors import EmbeddingError
from ..geometry import PatchGrid

COLQWEN2_DEFAULT_MAX_IMAGE_TOKENS = 768  # training cap of the public ColQwen2 checkpoints: 768 * 28 * 28 pixels


class FamilyHook(ABC):
    """How one ColPali-family model lays out a page: subclasses fill in the class name and the two hooks.

    Query augmentation (kept, flagged in `QueryEmbedding.augmentation`): the attended copies of
    ``processor.query_augmentation_token`` that the processor appends to every query (10 of them).
    """

    model_type: ClassVar[str]
    model_class_name: ClassVar[str]

    def model_class(self) -> type:
        """The transformers class that loads this family's checkpoints."""
        import transformers

        return getattr(transformers, self.model_class_name)

    def process_pages(self, processor: Any, images: Sequence[Image.Image], max_image_tokens: int | None) -> Any:
        """Model inputs (a `BatchFeature`) for a batch of RGB page images."""
        return processor.process_images(list(images))

    @abstractmethod
    def page_grid(self, processor: Any, model_config: Any, batch: Any, i: int) -> PatchGrid:
        """The patch grid of page ``i`` of ``batch``, read from the processor's outputs."""

    def image_token_positions(self, processor: Any, batch: Any, i: int) -> np.ndarray:
        """Sequence positions of page ``i``'s image tokens in model order: ``(n_image_tokens,)``."""
        ids = batch["input_ids"][i]
        return torch.nonzero(ids == processor.image_token_id).flatten().cpu().numpy()

    def augmentation_token_id(self, processor: Any) -> int:
        """Token id of the query-augmentation buffer token."""
        return int(processor.tokenizer.convert_tokens_to_ids(processor.query_augmentation_token))


class ColQwen2Family(FamilyHook):
    """ColQwen2 / ColQwen2.5: ``image_grid_thw`` in 14-px patches merged 2x2 into 28-px cells, raster order.
    Queries: ``"Query: " + text`` then 10 pad tokens (``<|endoftext|>``) then a newline."""

    model_type = "colqwen2"
    model_class_name = "ColQwen2ForRetrieval"

    def process_pages(self, processor: Any, images: Sequence[Image.Image], max_image_tokens: int | None) -> Any:
        ip = processor.image_processor
        cell = ip.patch_size * ip.merge_size  # pixels per side of one output cell (28)
        own_cap = int(ip.size["longest_edge"]) // (cell * cell)
        tokens = max_image_tokens or min(COLQWEN2_DEFAULT_MAX_IMAGE_TOKENS, own_cap)
        size = {"shortest_edge": int(ip.size["shortest_edge"]), "longest_edge": tokens * cell * cell}
        return processor.process_images(list(images), size=size)

    def page_grid(self, processor: Any, model_config: Any, batch: Any, i: int) -> PatchGrid:
        thw = batch["image_grid_thw"][i].tolist()
        return PatchGrid.for_colqwen2(thw, merge_size=processor.image_processor.merge_size)


class ColPaliFamily(FamilyHook):
    """ColPali: the page squished to a square, cut into ``image_size / patch_size`` patches per side, raster;
    the ``<image>`` tokens come first. Queries: ``<bos>Question: `` + text, then 10 ``<pad>`` tokens and a newline."""

    model_type = "colpali"
    model_class_name = "ColPaliForRetrieval"

    def page_grid(self, processor: Any, model_config: Any, batch: Any, i: int) -> PatchGrid:
        patch = _int_side(model_config.vlm_config.vision_config.patch_size)
        height, width = batch["pixel_values"].shape[-2:]  # (batch, 3, height, width)
        return PatchGrid(int(height) // patch, int(width) // patch)


class ColModernVBertFamily(FamilyHook):
    """ColModernVBert (Idefics3 layout): the page is resized to whole tiles, each tile gives ``s x s`` tokens
    (tile pixels / patch / pixel-shuffle), emitted tile after tile, then ``s x s`` tokens of a global tile
    (the whole page) that has no cell. A page no larger than one tile is only the global image: then that
    image is the grid. Queries: text then 10 ``<end_of_utterance>`` tokens (no prefix)."""

    model_type = "colmodernvbert"
    model_class_name = "ColModernVBertForRetrieval"

    def page_grid(self, processor: Any, model_config: Any, batch: Any, i: int) -> PatchGrid:
        vlm = model_config.vlm_config
        tile_px = int(batch["pixel_values"].shape[-1])  # (batch, n_images, 3, tile_px, tile_px)
        side = tile_px // _int_side(vlm.vision_config.patch_size) // int(vlm.pixel_shuffle_factor)
        n_tile_rows, n_tile_cols = self._tile_counts(processor, batch["input_ids"][i])
        if n_tile_rows == 0:
            return PatchGrid(side, side)
        return PatchGrid.for_tiles(n_tile_rows, n_tile_cols, side, n_global=side * side)

    @staticmethod
    def _tile_counts(processor: Any, ids: torch.Tensor) -> tuple[int, int]:
        """Tile rows and columns from the ``<row_i_col_j>`` markers the processor put before each tile."""
        markers = {tid: divmod(k, 6) for k, tid in enumerate(processor.row_col_ids)}  # 6x6 markers, row-major
        present = [markers[t] for t in set(ids.tolist()) if t in markers]
        if not present:
            return 0, 0
        return max(r for r, _ in present) + 1, max(c for _, c in present) + 1


def _int_side(value: int | Sequence[int]) -> int:
    """A square size given as an int or a ``(h, w)`` pair."""
    if isinstance(value, int):
        return value
    h, w = value
    if h != w:
        raise EmbeddingError(f"non-square vision patches {h}x{w} are not supported")
    return int(h)


FAMILIES: dict[str, FamilyHook] = {f.model_type: f for f in (ColQwen2Family(), ColPaliFamily(), ColModernVBertFamily())}
