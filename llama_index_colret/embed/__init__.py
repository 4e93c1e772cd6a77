"""Embedding: ColPali-family models turn page images and queries into multi-vectors.

`ColEmbedder` and `resolve_embedder` live in ``embed/embedder.py`` (torch, transformers); this package itself
stays light, so the CLI and the LlamaIndex layer can name the default model without loading torch.
"""

from .types import Embedder, PageEmbedding, QueryEmbedding

DEFAULT_MODEL = "vidore/colqwen2-v1.0-hf"  # the model a new index gets when none is named

__all__ = ["DEFAULT_MODEL", "Embedder", "PageEmbedding", "QueryEmbedding"]
