"""A deterministic test-double embedder whose patch vectors encode the words printed under each patch.

Tests and benchmarks only, never a product default: it "reads" a page image by matching it to a page of a
PDF it was built from (grayscale thumbnail fingerprints), then builds each patch vector from the text-layer
words whose boxes overlap that patch. So grounding can be tested end to end with known right answers:
a query made of one paragraph's rare words must light up exactly that paragraph's patches.

- Word vector: a unit vector seeded by a hash of the lower-cased word (same word -> same vector).
- Patch vector: L2-normalised ``sum_w frac(w, cell) * h(w) + background * b(cell)``, ``frac`` being the part
  of the cell's area under word ``w``'s box and ``b(cell)`` a fixed per-cell unit vector (never a zero vector).
- Page output: ``n_prompt`` prompt vectors, then the image tokens in model order (raster, or tile-major plus a
  global tile for tiled grids), then two suffix vectors; ``patch_positions`` maps grid cells to rows.
- Query output: one vector per word, then ``n_augmentation`` augmentation vectors (flagged).
- ``extra_words`` lets a test say what a picture shows (a chart's labels), as a model would see it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from ..embed.types import PageEmbedding, QueryEmbedding
from ..geometry import BBox, PatchGrid, coverage_matrix

GridSpec = PatchGrid | tuple[int, int] | Callable[[int, int], PatchGrid]
PageKey = tuple[str, int]  # (resolved PDF path, 1-based page number)
WordBox = tuple[BBox, str]

_THUMB = 48  # fingerprint side in pixels
_TOKEN = re.compile(r"[a-z0-9]+")


def tokenize(text: str) -> list[str]:
    """Lower-cased alphanumeric words: how the double splits both page text and queries."""
    return _TOKEN.findall(text.lower())


@lru_cache(maxsize=65536)
def _hashed_unit(key: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")
    v = np.random.default_rng(seed).standard_normal(dim)
    return (v / np.linalg.norm(v)).astype(np.float32)


def word_vector(word: str, dim: int) -> np.ndarray:
    """The unit vector of a word (deterministic, seeded by a hash of the word)."""
    return _hashed_unit("w:" + word, dim)


def aspect_grid(width: int, height: int, max_cells: int = 768) -> PatchGrid:
    """A raster grid that keeps the page's aspect with at most ~``max_cells`` cells (ColQwen2-like:
    a 1275x1650 page gives 31x24)."""
    rows = max(1, int(np.sqrt(max_cells * height / width)))
    cols = max(1, int(np.sqrt(max_cells * width / height)))
    return PatchGrid(rows, cols)


def tiled_grid(width: int, height: int, tiles_long_side: int = 4, tile_side: int = 8) -> PatchGrid:
    """A tile-major grid (ColModernVBert-like): up to ``tiles_long_side`` tiles on the long side, each
    ``tile_side x tile_side`` cells, plus a global tile of ``tile_side^2`` tokens."""
    long_side = max(width, height)
    n_tr = max(1, round(tiles_long_side * height / long_side))
    n_tc = max(1, round(tiles_long_side * width / long_side))
    return PatchGrid.for_tiles(n_tr, n_tc, tile_side, tile_side * tile_side)


def pdf_words(path: str | Path, page_index: int) -> list[WordBox]:
    """Words of one page (0-based) from the pypdfium2 text layer, boxes normalised to the rendered page."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    pdf = pdfium.PdfDocument(str(path))
    try:
        page = pdf[page_index]
        crop, rotation = page.get_cropbox(), page.get_rotation()
        tp = page.get_textpage()
        words: list[WordBox] = []
        chars: list[str] = []
        boxes: list[tuple[float, float, float, float]] = []
        for i in range(tp.count_chars() + 1):
            ch = chr(pdfium_c.FPDFText_GetUnicode(tp.raw, i)) if i < tp.count_chars() else " "
            if ch.isspace() or ch == "\x00":
                if chars:
                    left, bottom = min(b[0] for b in boxes), min(b[1] for b in boxes)
                    right, top = max(b[2] for b in boxes), max(b[3] for b in boxes)
                    box = BBox.from_pdf_rect(left, bottom, right, top, page_box=crop, rotation=rotation)
                    words.append((box, "".join(chars)))
                chars, boxes = [], []
                continue
            chars.append(ch)
            boxes.append(tp.get_charbox(i))
        return words
    finally:
        pdf.close()


def fingerprint(image: Image.Image) -> np.ndarray:
    """A small grayscale thumbnail in [0, 1]: shape ``(_THUMB, _THUMB)``."""
    thumb = image.convert("L").resize((_THUMB, _THUMB), Image.BOX)
    return np.asarray(thumb, dtype=np.float32) / 255.0  # (_THUMB, _THUMB)


def _pages_of(sources: Sequence[str | Path | object]) -> list[PageKey]:
    """``(path, number)`` of every page to know: all pages of a PDF path, or one ingest `Page`."""
    import pypdfium2 as pdfium

    keys: list[PageKey] = []
    for src in sources:
        if hasattr(src, "path") and hasattr(src, "number"):
            keys.append((str(Path(src.path).resolve()), int(src.number)))
            continue
        path = Path(src)  # type: ignore[arg-type]
        pdf = pdfium.PdfDocument(str(path))
        n = len(pdf)
        pdf.close()
        keys.extend((str(path.resolve()), k + 1) for k in range(n))
    return keys


def _render_thumb(path: str, number: int) -> tuple[np.ndarray, float]:
    """Fingerprint and aspect (width / height) of one PDF page rendered at ~60 dpi by pdfium."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    try:
        image = pdf[number - 1].render(scale=60 / 72).to_pil()
        return fingerprint(image), image.width / image.height
    finally:
        pdf.close()


class WordPatchEmbedder:
    """Test double implementing the `Embedder` protocol: patch vectors encode the words under each patch.

    ``sources``: PDF paths (all pages) and/or ingest `Page`s; ``grid``: a `PatchGrid`, ``(rows, cols)``, or a
    function ``(image width, image height) -> PatchGrid`` (default `aspect_grid`; see also `tiled_grid`).
    ``extra_words``: ``{(pdf path, page number): [(BBox, text), ...]}`` for what pictures show.
    Deterministic: same inputs, same vectors. Never a product default.
    """

    def __init__(
        self,
        sources: Sequence[str | Path | object],
        grid: GridSpec = aspect_grid,
        dim: int = 128,
        *,
        extra_words: Mapping[tuple[str | Path, int], Sequence[WordBox]] | None = None,
        n_prompt: int = 3,
        n_augmentation: int = 0,
        background: float = 0.25,
        max_distance: float = 0.08,
    ) -> None:
        if dim < 2:
            raise ValueError(f"dim must be at least 2, got {dim}")
        self.model_name = "test-double/word-patch"
        self.dim = dim
        self.grid = grid
        self.n_prompt, self.n_augmentation = n_prompt, n_augmentation
        self.background, self.max_distance = background, max_distance
        extra = {(str(Path(p).resolve()), int(n)): list(v) for (p, n), v in (extra_words or {}).items()}
        self.keys = _pages_of(sources)
        if not self.keys:
            raise ValueError("WordPatchEmbedder needs at least one page to know")
        self.words = {k: pdf_words(k[0], k[1] - 1) + extra.get(k, []) for k in self.keys}
        thumbs = [_render_thumb(*k) for k in self.keys]
        self._thumbs = np.stack([t for t, _ in thumbs])  # (n_pages, _THUMB, _THUMB)
        self._aspects = np.array([a for _, a in thumbs])  # (n_pages,)

    def grid_for(self, width: int, height: int) -> PatchGrid:
        """The patch grid this double uses for an image of ``width x height`` pixels."""
        if isinstance(self.grid, PatchGrid):
            return self.grid
        if isinstance(self.grid, tuple):
            return PatchGrid(*self.grid)
        return self.grid(width, height)

    def match(self, image: Image.Image) -> PageKey:
        """The known page an image shows (nearest fingerprint among pages of the same aspect)."""
        aspect = image.width / image.height
        dist = np.abs(self._thumbs - fingerprint(image)[None]).mean(axis=(1, 2))  # (n_pages,)
        dist = np.where(np.abs(self._aspects - aspect) < 0.02, dist, np.inf)
        best = int(np.argmin(dist))
        if not dist[best] <= self.max_distance:
            raise ValueError(
                f"image {image.width}x{image.height} matches no page this double was built from "
                f"(nearest fingerprint distance {dist[best]:.3f} > {self.max_distance})"
            )
        return self.keys[best]

    def cell_vectors(self, words: Sequence[WordBox], grid: PatchGrid) -> np.ndarray:
        """Unit patch vectors of a raster grid over the page: ``(n_rows * n_cols, dim)``, raster order."""
        raster = PatchGrid(grid.n_rows, grid.n_cols)
        vecs = np.zeros((raster.n_patches, self.dim), dtype=np.float64)
        pairs = [(box, tok) for box, text in words for tok in tokenize(text)]
        if pairs:
            frac = coverage_matrix([b for b, _ in pairs], raster) * raster.n_patches  # (n_words, n_patches)
            hashed = np.stack([word_vector(t, self.dim) for _, t in pairs])  # (n_words, dim)
            vecs += frac.T @ hashed
        bg = np.stack([_hashed_unit(f"cell:{r},{c}", self.dim) for r in range(grid.n_rows) for c in range(grid.n_cols)])
        vecs += self.background * bg  # (n_patches, dim)
        return (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)

    def embed_page(self, image: Image.Image) -> PageEmbedding:
        """Embed one page image (matched to a known page)."""
        words = self.words[self.match(image)]
        grid = self.grid_for(image.width, image.height)
        raster = self.cell_vectors(words, grid)  # (n_patches, dim), raster order
        tokens = np.empty((grid.n_tokens, self.dim), dtype=np.float32)  # model order, global tile last
        order = grid.raster_order()  # (n_patches,) model-order index of each raster cell
        tokens[order] = raster
        if grid.n_global:
            side = int(round(grid.n_global**0.5))
            tokens[grid.n_patches :] = self.cell_vectors(words, PatchGrid(side, grid.n_global // side))
        prompt = np.stack([_hashed_unit(f"prompt:{i}", self.dim) for i in range(self.n_prompt + 2)])
        vectors = np.concatenate([prompt[: self.n_prompt], tokens, prompt[self.n_prompt :]])  # (n_vectors, dim)
        return PageEmbedding(vectors=vectors, patch_positions=self.n_prompt + order, grid=grid)

    def embed_pages(self, images: Sequence[Image.Image], show_progress: bool = False) -> list[PageEmbedding]:
        """One `PageEmbedding` per page image, in order."""
        return [self.embed_page(im) for im in images]

    def embed_queries(self, texts: Sequence[str]) -> list[QueryEmbedding]:
        """One vector per lower-cased word, then ``n_augmentation`` flagged augmentation vectors."""
        out = []
        for text in texts:
            tokens = tokenize(text)
            vecs = [word_vector(t, self.dim) for t in tokens]
            mean = np.mean(vecs, axis=0) if vecs else np.zeros(self.dim, dtype=np.float32)
            for k in range(self.n_augmentation):
                v = mean + 0.5 * _hashed_unit(f"aug:{k}", self.dim)
                vecs.append((v / np.linalg.norm(v)).astype(np.float32))
                tokens.append(f"<aug{k}>")
            arr = np.stack(vecs).astype(np.float32) if vecs else np.zeros((0, self.dim), dtype=np.float32)
            aug = np.array([t.startswith("<aug") for t in tokens], dtype=bool)
            out.append(QueryEmbedding(vectors=arr, tokens=tokens, augmentation=aug))
        return out
