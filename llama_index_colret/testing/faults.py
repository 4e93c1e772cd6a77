"""Embedders that kill their own process at a chosen model call: real process deaths for fault-tolerance tests
of distributed ingest (a Ray actor or a driver dying mid-run). Test doubles, never a product default."""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from ..embed.embedder import ColEmbedder
from ..embed.types import PageEmbedding, QueryEmbedding


class DyingEmbedder:
    """A `ColEmbedder` from ``model_dir`` whose process SIGKILLs itself at its ``die_at``-th ``embed_pages`` call,
    once per ``marker`` file (created just before dying, so the restarted process lives)."""

    def __init__(self, model_dir: str | Path, marker: str | Path, die_at: int = 2) -> None:
        self.inner = ColEmbedder.from_pretrained(model_dir)
        self.model_name = self.inner.model_name
        self.dim = self.inner.dim
        self.marker = Path(marker)
        self.die_at = die_at
        self.calls = 0

    def embed_pages(self, images: Sequence[Image.Image], show_progress: bool = False) -> list[PageEmbedding]:
        """The inner model's embeddings, except at the fatal call: the process dies without a word."""
        self.calls += 1
        if self.calls == self.die_at and not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return self.inner.embed_pages(images, show_progress)

    def embed_queries(self, texts: Sequence[str]) -> list[QueryEmbedding]:
        """The inner model's query embeddings."""
        return self.inner.embed_queries(texts)
