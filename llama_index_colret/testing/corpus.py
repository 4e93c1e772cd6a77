"""A realistic synthetic page corpus for search benchmarks and tests, built like the word-patch double.

Random unit vectors have no neighbourhoods, so ANN recall measured on them means nothing. These pages
are made the way `WordPatchEmbedder` makes a page from a PDF, without the PDF:

- a Zipfian (Zipf-Mandelbrot) vocabulary of ``vocab`` words, each a seeded unit vector, with word length
  (hence width on the page) growing with rarity; documents have a topic, and a share of each page's words
  comes from the topic's own Zipfian word list, so pages of one topic are neighbours;
- a few hundred words per page set in lines and paragraphs on a ColQwen2-like grid (31 x 24 cells, one
  text line per cell row): margins, blank rows between paragraphs, short last lines, some figure blocks;
- a cell vector is ``sum_w overlap(w, cell) * h(w) + background * b(cell) + noise``, L2-normalised, so a blank
  cell is nearly the same on every page (the near-ties real pages have), ``b(cell)`` fixed per cell;
- each page starts with ``n_prompt`` prompt vectors (fixed, plus a little per-page noise);
- a query is 3-8 words of one target page (mostly content words, as people ask), each word vector
  perturbed (query and page encoders differ), plus ``n_augmentation`` augmentation vectors made as the
  double makes them (the mean of the word vectors plus a fixed direction).

Pages are generated in blocks of ``BLOCK`` with array operations over the whole block; page ``i`` is a
pure function of ``(seed, i)``, so blocks can be made in any order in bounded memory, and a query's
target words are re-derived (text only, no vectors) without storing the corpus.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from PIL import Image

from ..embed.types import PageEmbedding, QueryEmbedding
from ..geometry import PatchGrid
from ..ingest.page import Page

BLOCK = 128  # pages generated together (a page's content depends only on its block and its position)
MAX_WORDS = 420  # words drawn per page; the layout uses as many as fit
CELLS_PER_CHAR = 0.21  # a 10 pt character at 150 dpi is ~0.21 of a 53-px ColQwen2 cell


@dataclass(frozen=True)
class CorpusSpec:
    """Shape and statistics of the corpus (defaults: ColQwen2-sized pages of a few hundred words)."""

    vocab: int = 50_000
    zipf_s: float = 1.07
    zipf_q: float = 2.7
    dim: int = 128
    n_rows: int = 31
    n_cols: int = 24
    n_prompt: int = 6
    n_topics: int = 400
    topic_words: int = 1_500
    topic_share: float = 0.35
    pages_per_doc: int = 20
    blank_row_share: float = 0.18
    figure_share: float = 0.15
    background: float = 0.25
    noise: float = 0.04
    query_noise: float = 0.35
    n_augmentation: int = 10
    seed: int = 0

    @property
    def n_vectors(self) -> int:
        """Vectors per page: prompt vectors, then the grid cells in raster order."""
        return self.n_prompt + self.n_rows * self.n_cols


@dataclass
class BlockText:
    """The words placed on the pages of one block: one entry per (page, word) placement."""

    page: np.ndarray  # (n_placed,) page offset in the block
    word: np.ndarray  # (n_placed,) word id
    row: np.ndarray  # (n_placed,) cell row
    x0: np.ndarray  # (n_placed,) left edge, in cells
    x1: np.ndarray  # (n_placed,) right edge, in cells
    figure_rows: np.ndarray  # (BLOCK, n_rows) bool


@dataclass
class CorpusQuery:
    """One benchmark query: the page it was drawn from, its word ids and its embedding."""

    target: int
    words: np.ndarray
    embedding: QueryEmbedding = field(repr=False)


def _unit(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    v = rng.standard_normal(shape, dtype=np.float32)  # (..., dim)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


class SyntheticCorpus:
    """Deterministic generator of word-patch pages and queries (see the module docstring)."""

    def __init__(self, spec: CorpusSpec | None = None) -> None:
        self.spec = s = spec or CorpusSpec()
        rng = np.random.default_rng([s.seed, 1])
        self.word_vectors = _unit(rng, (s.vocab, s.dim))  # (vocab, dim)
        ranks = np.arange(s.vocab, dtype=np.float64)
        p = 1.0 / (ranks + s.zipf_q) ** s.zipf_s
        self._word_cdf = np.cumsum(p / p.sum())  # (vocab,)
        self.word_chars = np.clip(np.round(2.5 + 0.6 * np.log1p(ranks) + rng.normal(0, 1.2, s.vocab)), 1, 16)
        self._topics = np.stack(
            [rng.choice(np.arange(200, s.vocab), s.topic_words, replace=False) for _ in range(s.n_topics)]
        )  # (n_topics, topic_words)
        tp = 1.0 / (np.arange(s.topic_words) + s.zipf_q) ** s.zipf_s
        self._topic_cdf = np.cumsum(tp / tp.sum())  # (topic_words,)
        self.cell_background = _unit(rng, (s.n_rows * s.n_cols, s.dim))  # (n_cells, dim)
        self.prompt = _unit(rng, (s.n_prompt, s.dim))  # (n_prompt, dim)
        self.augmentation = _unit(rng, (s.n_augmentation, s.dim))  # (n_aug, dim)

    # -- text -----------------------------------------------------------------------------------

    def topic_of(self, pages: np.ndarray) -> np.ndarray:
        """The topic of each page: a hash of its document number (every page of a document shares it)."""
        doc = (np.asarray(pages, dtype=np.uint64) // np.uint64(self.spec.pages_per_doc)) + np.uint64(self.spec.seed)
        return ((doc * np.uint64(2654435761)) % np.uint64(2**32) >> np.uint64(8)) % np.uint64(self.spec.n_topics)

    def _rows(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per page of a block: text rows ``(BLOCK, n_rows)``, short last lines, figure rows (all bool)."""
        s = self.spec
        r = np.arange(s.n_rows)
        blank = rng.random((BLOCK, s.n_rows)) < s.blank_row_share  # paragraph breaks
        has_fig = rng.random(BLOCK) < s.figure_share
        top = rng.integers(3, s.n_rows - 12, BLOCK)[:, None]
        figure = has_fig[:, None] & (r >= top) & (r < top + rng.integers(5, 10, BLOCK)[:, None])
        text = ~blank & ~figure & (r >= 2) & (r < s.n_rows - 2)  # two-row margins
        short = text & np.concatenate([~text[:, 1:], np.ones((BLOCK, 1), bool)], axis=1)  # last of a paragraph
        return text, short, figure

    def block_text(self, block: int) -> BlockText:
        """The words of every page of block ``block``, laid out greedily in lines (no vectors)."""
        s = self.spec
        rng = np.random.default_rng([s.seed, 3, block])
        pages = block * BLOCK + np.arange(BLOCK)
        topics = self.topic_of(pages)  # (BLOCK,)
        words = np.searchsorted(self._word_cdf, rng.random((BLOCK, MAX_WORDS))).clip(max=s.vocab - 1)
        pick = np.searchsorted(self._topic_cdf, rng.random((BLOCK, MAX_WORDS))).clip(max=s.topic_words - 1)
        words = np.where(rng.random((BLOCK, MAX_WORDS)) < s.topic_share, self._topics[topics[:, None], pick], words)
        width = (self.word_chars[words] + 1) * CELLS_PER_CHAR  # (BLOCK, MAX_WORDS) incl. the space after
        cum = np.concatenate([np.zeros((BLOCK, 1)), np.cumsum(width, axis=1)], axis=1)  # (BLOCK, MAX_WORDS + 1)
        text_rows, short, figure = self._rows(rng)
        line_width = (s.n_cols - 3.0) * np.where(short, 0.3 + 0.6 * rng.random((BLOCK, s.n_rows)), 1.0)
        row_of = np.full((BLOCK, MAX_WORDS), -1)
        start = np.zeros(BLOCK, dtype=np.int64)  # first unplaced word of each page
        line_left = np.zeros((BLOCK, s.n_rows))  # cum position where each row starts
        b = np.arange(BLOCK)
        for r in range(s.n_rows):
            limit = cum[b, start] + np.where(text_rows[:, r], line_width[:, r], 0.0)  # (BLOCK,)
            end = (cum[:, 1:] <= limit[:, None] + CELLS_PER_CHAR).sum(axis=1)  # words ending within the line
            end = np.where(text_rows[:, r], np.maximum(end, np.minimum(start + 1, MAX_WORDS)), start)
            in_line = (np.arange(MAX_WORDS)[None] >= start[:, None]) & (np.arange(MAX_WORDS)[None] < end[:, None])
            row_of[in_line] = r
            line_left[:, r] = cum[b, start]
            start = end
        placed_page, placed_idx = np.nonzero(row_of >= 0)
        rows = row_of[placed_page, placed_idx]
        x0 = 1.5 + cum[placed_page, placed_idx] - line_left[placed_page, rows]
        x1 = x0 + width[placed_page, placed_idx] - CELLS_PER_CHAR
        return BlockText(placed_page, words[placed_page, placed_idx], rows, x0, x1, figure)

    def page_words(self, page: int) -> np.ndarray:
        """The word ids printed on page ``page``, in reading order."""
        text = self.block_text(page // BLOCK)
        return text.word[text.page == page % BLOCK]

    # -- vectors --------------------------------------------------------------------------------

    def block(self, block: int) -> np.ndarray:
        """Every page of block ``block`` as float16 ``(BLOCK, n_vectors, dim)``."""
        s = self.spec
        text = self.block_text(block)
        n_cells = s.n_rows * s.n_cols
        first = np.floor(text.x0).astype(np.int64)
        cell, weight, word = [], [], []
        for off in range(6):  # a word spans at most 6 cells
            c = first + off
            overlap = np.minimum(text.x1, c + 1) - np.maximum(text.x0, c)
            ok = (overlap > 0) & (c < s.n_cols)
            cell.append((text.page * n_cells + text.row * s.n_cols + c)[ok])
            weight.append(0.7 * overlap[ok])  # a text line fills ~70% of the cell height
            word.append(text.word[ok])
        cells = torch.zeros((BLOCK * n_cells, s.dim))  # (BLOCK * n_cells, dim)
        contrib = torch.from_numpy(self.word_vectors[np.concatenate(word)])  # (n_pairs, dim)
        contrib *= torch.from_numpy(np.concatenate(weight).astype(np.float32))[:, None]
        cells.index_add_(0, torch.from_numpy(np.concatenate(cell)), contrib)
        cells = cells.view(BLOCK, s.n_rows, s.n_cols, s.dim)  # (BLOCK, n_rows, n_cols, dim)
        gen = torch.Generator().manual_seed(s.seed * 1_000_003 + block)
        self._paint_figures(cells, text.figure_rows, gen)
        cells += s.background * torch.from_numpy(self.cell_background).view(1, s.n_rows, s.n_cols, s.dim)
        cells += torch.randn(cells.shape, generator=gen) * (s.noise / np.sqrt(s.dim))
        prompt = torch.from_numpy(self.prompt)[None] + torch.randn((BLOCK, s.n_prompt, s.dim), generator=gen) * (
            0.1 / np.sqrt(s.dim)
        )  # (BLOCK, n_prompt, dim)
        out = torch.cat([prompt, cells.view(BLOCK, n_cells, s.dim)], dim=1)  # (BLOCK, n_vectors, dim)
        out /= torch.linalg.vector_norm(out, dim=2, keepdim=True)
        return out.to(torch.float16).numpy()

    def _paint_figures(self, cells: torch.Tensor, figure_rows: np.ndarray, gen: torch.Generator) -> None:
        """Fill figure rows (columns 3..n-3) with a page-specific texture: a picture, not words."""
        s = self.spec
        pages, rows = np.nonzero(figure_rows)
        if pages.size == 0:
            return
        texture = torch.randn((BLOCK, 4, s.dim), generator=gen)
        texture /= torch.linalg.vector_norm(texture, dim=2, keepdim=True)  # (BLOCK, 4, dim)
        mix = torch.rand((pages.size, s.n_cols - 6, 4), generator=gen)  # (n_fig_rows, cols, 4)
        cells[pages, rows, 3 : s.n_cols - 3] = 0.6 * (mix @ texture[pages])

    def pages(self, first_block: int, n_blocks: int) -> np.ndarray:
        """Blocks ``first_block ..`` end to end: ``(n_blocks * BLOCK, n_vectors, dim)`` float16."""
        return np.concatenate([self.block(b) for b in range(first_block, first_block + n_blocks)])

    # -- queries --------------------------------------------------------------------------------

    def query(self, target: int, rng: np.random.Generator) -> CorpusQuery:
        """3-8 words of page ``target`` (content words: not among the 100 commonest) as a query."""
        s = self.spec
        printed = self.page_words(target)
        content = np.unique(printed[printed >= 100])
        pool = content if content.size >= 3 else np.unique(printed)
        words = rng.choice(pool, int(min(pool.size, rng.integers(3, 9))), replace=False)
        noise = rng.standard_normal((words.size, s.dim), dtype=np.float32) * (s.query_noise / np.sqrt(s.dim))
        vecs = self.word_vectors[words] + noise  # (n_words, dim)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        aug = vecs.mean(axis=0)[None] + 0.5 * self.augmentation  # (n_aug, dim)
        aug /= np.linalg.norm(aug, axis=1, keepdims=True)
        vectors = np.concatenate([vecs, aug]).astype(np.float32)  # (n_words + n_aug, dim)
        tokens = [f"w{w}" for w in words] + [f"<aug{k}>" for k in range(s.n_augmentation)]
        flags = np.arange(vectors.shape[0]) >= words.size
        return CorpusQuery(target, words, QueryEmbedding(vectors=vectors, tokens=tokens, augmentation=flags))

    def queries(self, n: int, n_pages: int, seed: int = 0) -> list[CorpusQuery]:
        """``n`` queries with targets drawn uniformly from the first ``n_pages`` pages."""
        rng = np.random.default_rng([self.spec.seed, 4, seed])
        return [self.query(int(t), rng) for t in rng.integers(0, n_pages, n)]


def write_corpus(
    store: Any,
    corpus: SyntheticCorpus,
    first_page: int,
    n_pages: int,
    *,
    pages_per_doc: int = 100,
    metadata: Callable[[int], Mapping[str, Any]] | None = None,
) -> list[str]:
    """Store pages ``first_page .. first_page + n_pages - 1`` in a `PageStore` as documents of
    ``pages_per_doc`` pages (one write each, generated block by block: bounded memory).

    Document ``d`` is ``doc{d:07d}``; ``metadata(d)`` (a callable) gives its metadata. Returns the doc ids.
    """
    s = corpus.spec
    if first_page % pages_per_doc or n_pages % pages_per_doc:
        raise ValueError(
            f"first_page and n_pages must be multiples of pages_per_doc={pages_per_doc}; "
            f"got first_page={first_page}, n_pages={n_pages}"
        )
    buf = io.BytesIO()
    Image.new("RGB", (17, 22), "white").save(buf, format="PNG")
    png, grid = buf.getvalue(), PatchGrid(s.n_rows, s.n_cols)
    positions = np.arange(s.n_prompt, s.n_vectors)
    next_block = first_page // BLOCK
    pending = corpus.block(next_block)[first_page % BLOCK :]  # (pages not yet written, n_vectors, dim)
    done, doc_ids = first_page, []
    while done < first_page + n_pages:
        while pending.shape[0] < pages_per_doc:
            next_block += 1
            pending = np.concatenate([pending, corpus.block(next_block)])
        vectors, pending = pending[:pages_per_doc], pending[pages_per_doc:]
        doc = done // pages_per_doc
        name = f"doc{doc:07d}"
        store.add_document(
            content_hash=hashlib.sha256(f"synthetic-corpus/{s.seed}/{name}".encode()).hexdigest(),
            file_name=f"{name}.pdf",
            path=f"/corpus/{name}.pdf",
            pages=[Page(f"/corpus/{name}.pdf", i + 1, 612.0, 792.0) for i in range(pages_per_doc)],
            embeddings=[PageEmbedding(v.astype(np.float32), positions, grid) for v in vectors],
            images=[png] * pages_per_doc,
            metadata=metadata(doc) if metadata else None,
            doc_id=name,
        )
        doc_ids.append(name)
        done += pages_per_doc
    return doc_ids
