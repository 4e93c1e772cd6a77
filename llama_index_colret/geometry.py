"""Page geometry: normalised boxes, patch grids and region x patch coverage.

This is the one place where coordinates are converted. Every box inside the library is a `BBox`
normalised to the rendered page: ``(x0, y0, x1, y1)`` in ``[0, 1]``, origin top-left, y down.
PDF points, pixels and rotated text-layer boxes are converted here and nowhere else.
Pure math: imports neither LlamaIndex, LanceDB nor transformers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Literal

import numpy as np

GridOrder = Literal["raster", "tiled"]


@dataclass(frozen=True)
class BBox:
    """A box normalised to the rendered page: ``[0, 1]``, origin top-left, y down."""

    x0: float
    y0: float
    x1: float
    y1: float

    # -- construction from the outside world (the only conversions in the library) --------------

    @classmethod
    def from_pixels(cls, x0: float, y0: float, x1: float, y1: float, width: float, height: float) -> BBox:
        """From pixel coordinates on an image of ``width x height`` (top-left origin, e.g. Tesseract)."""
        return cls(x0 / width, y0 / height, x1 / width, y1 / height)

    @classmethod
    def from_points(cls, x0: float, y0: float, x1: float, y1: float, width_pt: float, height_pt: float) -> BBox:
        """From PDF points with a *top-left* origin on the displayed page of ``width_pt x height_pt``."""
        return cls.from_pixels(x0, y0, x1, y1, width_pt, height_pt)

    @classmethod
    def from_pdf_rect(
        cls,
        left: float,
        bottom: float,
        right: float,
        top: float,
        *,
        page_box: tuple[float, float, float, float],
        rotation: int = 0,
    ) -> BBox:
        """From a PDF user-space rectangle (bottom-left origin, *unrotated* page, e.g. pypdfium2 text).

        ``page_box`` is the visible page box ``(left, bottom, right, top)`` in user space (the crop box);
        ``rotation`` is the page's ``/Rotate`` in degrees clockwise. The result is in the rendered,
        rotated frame, which is what pdf2image and pypdfium2 draw.

        >>> BBox.from_pdf_rect(0, 692, 306, 792, page_box=(0, 0, 612, 792))  # top-left strip of a Letter page
        BBox(x0=0.0, y0=0.0, x1=0.5, y1=0.12626262626262627)
        >>> BBox.from_pdf_rect(0, 692, 306, 792, page_box=(0, 0, 612, 792), rotation=90).as_list(3)
        [0.874, 0.0, 1.0, 0.5]
        """
        bx0, by0, bx1, by1 = page_box
        w, h = bx1 - bx0, by1 - by0
        # unrotated, top-left origin, normalised: x to the right, y down
        return cls((left - bx0) / w, (by1 - top) / h, (right - bx0) / w, (by1 - bottom) / h).rotated(rotation)

    @classmethod
    def from_list(cls, values: Sequence[float]) -> BBox:
        """From ``[x0, y0, x1, y1]`` (the JSON and storage form)."""
        x0, y0, x1, y1 = values
        return cls(float(x0), float(y0), float(x1), float(y1))

    @classmethod
    def union_of(cls, boxes: Sequence[BBox]) -> BBox:
        """The smallest box containing all ``boxes`` (at least one)."""
        if not boxes:
            raise ValueError("union_of needs at least one box")
        return cls(
            min(b.x0 for b in boxes), min(b.y0 for b in boxes), max(b.x1 for b in boxes), max(b.y1 for b in boxes)
        )

    # -- conversion to the outside world -----------------------------------------------------------

    def to_points(self, width_pt: float, height_pt: float) -> tuple[float, float, float, float]:
        """In PDF points on the displayed page, top-left origin."""
        return (self.x0 * width_pt, self.y0 * height_pt, self.x1 * width_pt, self.y1 * height_pt)

    def to_pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """Integer pixel box on an image of ``width x height`` (outward rounding, clipped to the image).

        >>> BBox(0.1, 0.25, 0.52, 1.3).to_pixels(200, 100)
        (20, 25, 104, 100)
        """
        c = self.clip()
        return (
            int(np.floor(c.x0 * width)),
            int(np.floor(c.y0 * height)),
            int(np.ceil(c.x1 * width)),
            int(np.ceil(c.y1 * height)),
        )

    def pixel_box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """`to_pixels` grown to at least one pixel each way: the box to crop or outline, never empty.

        >>> BBox(0.5, 0.5, 0.5, 0.5).pixel_box(200, 100)
        (100, 50, 101, 51)
        """
        x0, y0, x1, y1 = self.to_pixels(width, height)
        return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)

    def rotated(self, degrees: int) -> BBox:
        """This box after turning the page ``degrees`` clockwise (a multiple of 90): a point ``(x, y)`` of the
        unrotated page lands at ``(1 - y, x)`` after 90 degrees.

        >>> BBox(0.1, 0.2, 0.3, 0.4).rotated(90).as_list()
        [0.6, 0.1, 0.8, 0.3]
        >>> BBox(0.1, 0.2, 0.3, 0.4).rotated(-90) == BBox(0.1, 0.2, 0.3, 0.4).rotated(270)
        True
        """
        rot = degrees % 360
        x0, y0, x1, y1 = self.x0, self.y0, self.x1, self.y1
        if rot == 0:
            return self
        if rot == 90:  # (x, y) -> (1 - y, x)
            return BBox(1 - y1, x0, 1 - y0, x1)
        if rot == 180:  # (x, y) -> (1 - x, 1 - y)
            return BBox(1 - x1, 1 - y1, 1 - x0, 1 - y0)
        if rot == 270:  # (x, y) -> (y, 1 - x)
            return BBox(y0, 1 - x1, y1, 1 - x0)
        raise ValueError(f"page rotation must be a multiple of 90 degrees, got {degrees}")

    def as_list(self, ndigits: int = 5) -> list[float]:
        """``[x0, y0, x1, y1]`` rounded for JSON and storage."""
        return [round(self.x0, ndigits), round(self.y0, ndigits), round(self.x1, ndigits), round(self.y1, ndigits)]

    # -- set operations ----------------------------------------------------------------------------

    @property
    def width(self) -> float:
        return max(0.0, self.x1 - self.x0)

    @property
    def height(self) -> float:
        return max(0.0, self.y1 - self.y0)

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2)

    def clip(self) -> BBox:
        """This box clipped to the page ``[0, 1] x [0, 1]`` (may become empty)."""
        return BBox(
            min(max(self.x0, 0.0), 1.0),
            min(max(self.y0, 0.0), 1.0),
            min(max(self.x1, 0.0), 1.0),
            min(max(self.y1, 0.0), 1.0),
        )

    def intersection_area(self, other: BBox) -> float:
        w = min(self.x1, other.x1) - max(self.x0, other.x0)
        h = min(self.y1, other.y1) - max(self.y0, other.y0)
        return w * h if w > 0 and h > 0 else 0.0

    def union(self, other: BBox) -> BBox:
        return BBox.union_of([self, other])

    def iou(self, other: BBox) -> float:
        inter = self.intersection_area(other)
        denom = self.area + other.area - inter
        return inter / denom if denom > 0 else 0.0


def boxes_to_array(boxes: Sequence[BBox]) -> np.ndarray:
    """Boxes as a float64 array of shape ``(n, 4)``."""
    return np.array([[b.x0, b.y0, b.x1, b.y1] for b in boxes], dtype=np.float64).reshape(len(boxes), 4)


@dataclass(frozen=True)
class PatchGrid:
    """Where each image-patch vector of a page sits: ``n_rows x n_cols`` cells stretched over the page.

    Every ColPali-family processor stretches the page to its input size, so cell ``(r, c)`` covers
    ``(c / n_cols, r / n_rows, (c + 1) / n_cols, (r + 1) / n_rows)``. Arrays over the grid are
    ``(n_rows, n_cols)``, row-major ("raster"). ``order`` is the order in which the *model* emits the
    patch tokens: ``raster``, or ``tiled`` (tile after tile, each tile raster, tiles in raster order,
    as ColModernVBert / Idefics3 do) followed by ``n_global`` tokens of a global tile that covers the
    whole page and has no cell.
    """

    n_rows: int
    n_cols: int
    order: GridOrder = "raster"
    tile_rows: int = 1  # cells per tile vertically (tiled order only)
    tile_cols: int = 1  # cells per tile horizontally (tiled order only)
    n_global: int = 0

    def __post_init__(self) -> None:
        if self.n_rows <= 0 or self.n_cols <= 0:
            raise ValueError(f"a patch grid needs positive rows and columns, got {self.n_rows}x{self.n_cols}")
        if self.order not in ("raster", "tiled"):
            raise ValueError(f"grid order must be 'raster' or 'tiled', got {self.order!r}")
        if self.order == "tiled" and (self.n_rows % self.tile_rows or self.n_cols % self.tile_cols):
            raise ValueError(
                f"a tiled grid of {self.n_rows}x{self.n_cols} cells cannot be cut into "
                f"{self.tile_rows}x{self.tile_cols} tiles"
            )

    # -- constructors from processor outputs ------------------------------------------------------

    @classmethod
    def for_colqwen2(cls, image_grid_thw: Sequence[int], merge_size: int = 2) -> PatchGrid:
        """ColQwen2 / 2.5: ``image_grid_thw = (t, h, w)`` in 14-px patches, merged ``merge x merge``."""
        t, h, w = (int(v) for v in image_grid_thw)
        if t != 1:
            raise ValueError(f"a page image has one temporal patch, got image_grid_thw={tuple(image_grid_thw)}")
        if h % merge_size or w % merge_size:
            raise ValueError(f"image_grid_thw={tuple(image_grid_thw)} is not divisible by merge size {merge_size}")
        return cls(h // merge_size, w // merge_size)

    @classmethod
    def for_colpali(cls, n_image_tokens: int = 1024) -> PatchGrid:
        """ColPali / PaliGemma: a square grid over a squished square input (1024 tokens -> 32x32)."""
        side = int(round(n_image_tokens**0.5))
        if side * side != n_image_tokens:
            raise ValueError(f"ColPali image tokens form a square grid; {n_image_tokens} is not a square")
        return cls(side, side)

    @classmethod
    def for_tiles(cls, n_tile_rows: int, n_tile_cols: int, tile_side: int, n_global: int) -> PatchGrid:
        """ColModernVBert / Idefics3: ``n_tile_rows x n_tile_cols`` tiles of ``tile_side^2`` tokens each,
        emitted tile-major, then ``n_global`` tokens of the global (whole page) tile."""
        return cls(
            n_tile_rows * tile_side,
            n_tile_cols * tile_side,
            order="tiled",
            tile_rows=tile_side,
            tile_cols=tile_side,
            n_global=n_global,
        )

    # -- sizes and cells --------------------------------------------------------------------------

    @property
    def n_patches(self) -> int:
        """Cells on the page (global tile excluded)."""
        return self.n_rows * self.n_cols

    @property
    def n_tokens(self) -> int:
        """Image tokens the model emits for this page (global tile included)."""
        return self.n_patches + self.n_global

    def cell_box(self, row: int, col: int) -> BBox:
        return BBox(col / self.n_cols, row / self.n_rows, (col + 1) / self.n_cols, (row + 1) / self.n_rows)

    def cell_of_token(self, k: int) -> tuple[int, int] | None:
        """``(row, col)`` of the ``k``-th image token in model order; ``None`` for a global-tile token."""
        if not 0 <= k < self.n_tokens:
            raise IndexError(f"image token {k} outside a grid of {self.n_tokens} tokens")
        if k >= self.n_patches:
            return None
        if self.order == "raster":
            return divmod(k, self.n_cols)
        per_tile = self.tile_rows * self.tile_cols
        tiles_across = self.n_cols // self.tile_cols
        tile, within = divmod(k, per_tile)
        tile_r, tile_c = divmod(tile, tiles_across)
        r, c = divmod(within, self.tile_cols)
        return tile_r * self.tile_rows + r, tile_c * self.tile_cols + c

    def raster_order(self) -> np.ndarray:
        """Model-order token index of each cell, in raster order: shape ``(n_rows * n_cols,)``.

        ``tokens[grid.raster_order()]`` turns the image tokens as the model emits them into a
        row-major grid, dropping the global tile.
        """
        if self.order == "raster":
            return np.arange(self.n_patches)
        tiles_down, tiles_across = self.n_rows // self.tile_rows, self.n_cols // self.tile_cols
        idx = np.arange(self.n_patches)
        # model order is (tile_r, tile_c, r, c); raster order is (tile_r, r, tile_c, c)
        idx = idx.reshape(tiles_down, tiles_across, self.tile_rows, self.tile_cols)
        return idx.transpose(0, 2, 1, 3).reshape(-1)  # (n_rows * n_cols,)

    # -- storage form -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, int | str]:
        """The JSON and storage form: one key per field (the store's struct is derived from the fields)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict) -> PatchGrid:
        """From `to_dict` form; missing keys take their defaults, integer fields are cast to int."""
        return cls(**{f.name: int(d[f.name]) if f.type == "int" else d[f.name] for f in fields(cls) if f.name in d})


def coverage_matrix(boxes: np.ndarray | Sequence[BBox], grid: PatchGrid) -> np.ndarray:
    """Overlap area of each region with each cell: shape ``(n_regions, n_rows * n_cols)``, raster order.

    Areas are fractions of the page, so a region's row sums to its area clipped to the page.
    """
    arr = boxes if isinstance(boxes, np.ndarray) else boxes_to_array(boxes)
    arr = arr.reshape(-1, 4).astype(np.float64)  # (n_regions, 4)
    xs = np.arange(grid.n_cols + 1) / grid.n_cols  # (n_cols + 1,) cell edges
    ys = np.arange(grid.n_rows + 1) / grid.n_rows  # (n_rows + 1,)
    ox = np.minimum(arr[:, 2:3], xs[None, 1:]) - np.maximum(arr[:, 0:1], xs[None, :-1])  # (n_regions, n_cols)
    oy = np.minimum(arr[:, 3:4], ys[None, 1:]) - np.maximum(arr[:, 1:2], ys[None, :-1])  # (n_regions, n_rows)
    ox, oy = np.clip(ox, 0.0, None), np.clip(oy, 0.0, None)
    cov = oy[:, :, None] * ox[:, None, :]  # (n_regions, n_rows, n_cols)
    return cov.reshape(arr.shape[0], grid.n_patches)  # (n_regions, n_rows * n_cols), row-major
