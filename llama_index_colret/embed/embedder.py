"""`ColEmbedder`: page images and queries to multi-vectors with a ColPali-family model (transformers).

One shared embedder; everything family-specific (image tokens, grid, prompt) lives in `families.py`.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from ..errors import EmbeddingError, ModelLoadError
from . import DEFAULT_MODEL
from .checkpoint import check_embedding_dim
from .families import FAMILIES, FamilyHook
from .identity import DEFAULT_REVISION, canonical_name, model_identity, snapshot_folder
from .types import Embedder, PageEmbedding, QueryEmbedding

MAX_QUERY_CHARS = 4_000  # about 1,000 tokens: far above any question, far below what exhausts memory


def pick_device(device: str = "auto") -> torch.device:
    """``auto``: cuda if available, then mps, then cpu; any other value is passed to `torch.device`."""
    if device != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_dtype(dtype: str | torch.dtype, device: torch.device) -> torch.dtype:
    """``auto``: bfloat16 on cuda (the checkpoints' training precision, half the memory, tensor cores);
    float32 elsewhere (CPUs without bf16 units run bf16 matmuls slower, and fp32 gives exact references)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    names = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
    if dtype not in names:
        raise ValueError(f"unknown dtype {dtype!r}; valid: auto, {', '.join(names)}")
    return names[dtype]


def hub_reachable(timeout: float = 3.0) -> tuple[bool, str]:
    """Probe the Hugging Face hub (``HF_ENDPOINT``) with a short timeout: ``(reachable, what happened)``."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False, "HF_HUB_OFFLINE is set"
    url = os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/") + "/api/models?limit=1"
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True, f"{url} answered"
    except urllib.error.HTTPError as exc:  # the server answered, so the hub is reachable
        return True, f"{url} answered HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return False, f"{url} did not answer within {timeout:g} s ({exc})"


def _load_parts(name_or_path: str, revision: str, local_only: bool) -> tuple[Any, Any]:
    """The config and processor of a checkpoint (``revision`` of a hub model), from the local cache/folder only
    when ``local_only``."""
    from transformers import AutoConfig, AutoProcessor

    config = AutoConfig.from_pretrained(name_or_path, revision=revision, local_files_only=local_only)
    _family_of(config, name_or_path)  # an unsupported model fails here, before its processor loads
    processor = AutoProcessor.from_pretrained(name_or_path, revision=revision, local_files_only=local_only)
    return config, processor


def _load_config_and_processor(name_or_path: str, revision: str) -> tuple[Any, Any]:
    """Load locally first (a folder or the cache); fall back to the hub only if it answers a short probe."""
    try:
        return _load_parts(name_or_path, revision, local_only=True)
    except (OSError, ValueError) as local_exc:
        if Path(name_or_path).exists():
            raise ModelLoadError(f"cannot load model folder {name_or_path!r}: {local_exc}") from local_exc
        reachable, why = hub_reachable()
        if not reachable:
            raise ModelLoadError(
                f"cannot load model {name_or_path!r}: it is neither a local folder nor in the local cache, and "
                f"the Hugging Face hub is not reachable ({why}). Download it on a connected machine or pass a "
                "local folder (scripts/make_tiny_model.py builds a tiny offline one for trying things)."
            ) from local_exc
    try:
        return _load_parts(name_or_path, revision, local_only=False)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"cannot load model {name_or_path!r} although the Hugging Face hub is reachable ({why}): {exc}"
        ) from exc


def _family_of(config: Any, name_or_path: str) -> FamilyHook:
    if config.model_type not in FAMILIES:
        raise ModelLoadError(
            f"model {name_or_path!r} has model_type {config.model_type!r}; supported: {', '.join(FAMILIES)}"
        )
    return FAMILIES[config.model_type]


def _to_unit_float32(vectors: torch.Tensor, what: str) -> np.ndarray:
    """``(n, dim)`` model output as unit-length float32 numpy; raises on an all-zero vector."""
    arr = vectors.detach().to(device="cpu", dtype=torch.float32).numpy()  # (n, dim)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)  # (n, 1)
    if np.any(norms == 0):
        raise EmbeddingError(f"{what}: the model produced an all-zero vector at rows {np.flatnonzero(norms == 0)}")
    return arr / norms


def _check_images(images: Sequence[Image.Image], start: int) -> list[Image.Image]:
    """RGB copies of ``images``; a non-image or empty image raises naming its index."""
    out = []
    for k, img in enumerate(images, start=start):
        if not isinstance(img, Image.Image):
            raise EmbeddingError(f"page {k}: expected a PIL image, got {type(img).__name__}")
        if img.width == 0 or img.height == 0:
            raise EmbeddingError(f"page {k}: empty image ({img.width}x{img.height})")
        out.append(img.convert("RGB"))
    return out


class ColEmbedder:
    """Embeds page images and queries with a ColQwen2 / ColPali / ColModernVBert checkpoint (see `Embedder`)."""

    def __init__(
        self,
        model: Any,
        processor: Any,
        family: FamilyHook,
        model_name: str,
        batch_size: int = 4,
        max_image_tokens: int | None = None,
        model_id: str | None = None,
    ) -> None:
        """Wrap a loaded model and processor; ``model_id`` (default: the name) is what an index records to
        recognise the model (`embed.identity`)."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.model = model
        self.processor = processor
        self.family = family
        self.model_name = model_name
        self.model_id = model_id or model_name
        self.dim = int(model.config.embedding_dim)
        self.batch_size = batch_size
        self.max_image_tokens = max_image_tokens

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | Path = DEFAULT_MODEL,
        device: str = "auto",
        dtype: str | torch.dtype = "auto",
        batch_size: int = 4,
        max_image_tokens: int | None = None,
        revision: str | None = None,
    ) -> ColEmbedder:
        """Load a checkpoint (hub name or folder), picking the family from its config.

        ``max_image_tokens`` caps the image tokens per page for ColQwen2 (default: 768, the public checkpoints'
        training cap, or the processor's own lower cap); ColPali and ColModernVBert have fixed budgets.
        ``revision`` (a branch, tag or commit of a hub model; default ``main``) is recorded in the identity.
        """
        name, revision = str(name_or_path), revision or DEFAULT_REVISION
        config, processor = _load_config_and_processor(name, revision)
        family = _family_of(config, name)
        folder = Path(name) if Path(name).is_dir() else snapshot_folder(name, revision)
        if folder is not None:
            check_embedding_dim(folder, config)
        torch_device = pick_device(device)
        try:
            model = family.model_class().from_pretrained(name, revision=revision, dtype=pick_dtype(dtype, torch_device))
        except Exception as exc:  # a corrupt safetensors file, a config that disagrees with the weights, ...
            problem = " ".join(f"{type(exc).__name__}: {exc}".split())
            raise ModelLoadError(f"cannot load the weights of model {name!r}: {problem}") from exc
        model = model.to(torch_device).eval()
        return cls(
            model, processor, family, canonical_name(name), batch_size=batch_size,
            max_image_tokens=max_image_tokens, model_id=model_identity(name, revision),
        )  # fmt: skip

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.inference_mode()
    def _forward(self, batch: Any) -> torch.Tensor:
        """Embeddings ``(batch, seq_len, dim)`` for processor outputs."""
        inputs = {k: v.to(self.device) for k, v in batch.items() if k not in ("labels", "token_type_ids")}
        if "pixel_values" in inputs:
            inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        return self.model(**inputs).embeddings

    def embed_pages(self, images: Sequence[Image.Image], show_progress: bool = False) -> list[PageEmbedding]:
        """One `PageEmbedding` per page image: every attended vector (prompt included) and the patch grid."""
        out: list[PageEmbedding] = []
        with tqdm(total=len(images), unit="page", disable=not show_progress, desc="embedding pages") as bar:
            for start in range(0, len(images), self.batch_size):
                chunk = _check_images(images[start : start + self.batch_size], start)
                batch = self.family.process_pages(self.processor, chunk, self.max_image_tokens)
                emb = self._forward(batch)  # (batch, seq_len, dim)
                out.extend(self._page_embedding(batch, emb, i, start + i) for i in range(len(chunk)))
                bar.update(len(chunk))
        return out

    def _page_embedding(self, batch: Any, emb: torch.Tensor, i: int, page_no: int) -> PageEmbedding:
        keep = batch["attention_mask"][i].bool().cpu()  # (seq_len,)
        grid = self.family.page_grid(self.processor, self.model.config, batch, i)
        token_pos = self.family.image_token_positions(self.processor, batch, i)  # (n_image_tokens,) in sequence
        if token_pos.shape[0] != grid.n_tokens:
            raise EmbeddingError(
                f"page {page_no}: the processor emitted {token_pos.shape[0]} image tokens but its grid "
                f"{grid.n_rows}x{grid.n_cols} (+{grid.n_global} global) needs {grid.n_tokens}"
            )
        if not bool(keep[torch.from_numpy(token_pos)].all()):
            raise EmbeddingError(f"page {page_no}: some image tokens are masked out")
        row_of = np.cumsum(keep.numpy()) - 1  # (seq_len,) sequence position -> row among kept vectors
        vectors = _to_unit_float32(emb[i][keep.to(emb.device)], f"page {page_no}")  # (n_kept, dim)
        patch_positions = row_of[token_pos][grid.raster_order()]  # (n_rows * n_cols,) raster order
        return PageEmbedding(vectors=vectors, patch_positions=patch_positions.astype(np.int64), grid=grid)

    def embed_queries(self, texts: Sequence[str]) -> list[QueryEmbedding]:
        """One `QueryEmbedding` per query: attended vectors, their tokens and the augmentation flags."""
        for k, text in enumerate(texts):
            if not isinstance(text, str):
                raise EmbeddingError(f"query {k}: expected a string, got {type(text).__name__}")
            if not text.strip():
                raise EmbeddingError(f"query {k}: the query is empty")
            if len(text) > MAX_QUERY_CHARS:
                raise EmbeddingError(
                    f"query {k}: {len(text)} characters, the limit is {MAX_QUERY_CHARS} (a 100 KB query took 29 s "
                    "and 2.4 GB); shorten it"
                )
        aug_id = self.family.augmentation_token_id(self.processor)
        out: list[QueryEmbedding] = []
        for start in range(0, len(texts), self.batch_size):
            batch = self.processor.process_queries(list(texts[start : start + self.batch_size]))
            emb = self._forward(batch)  # (batch, seq_len, dim)
            for i in range(emb.shape[0]):
                keep = batch["attention_mask"][i].bool().cpu()  # (seq_len,)
                ids = batch["input_ids"][i][keep]  # (n_kept,)
                vectors = _to_unit_float32(emb[i][keep.to(emb.device)], f"query {start + i}")
                tokens = self.processor.tokenizer.convert_ids_to_tokens(ids.tolist())
                out.append(QueryEmbedding(vectors=vectors, tokens=tokens, augmentation=(ids == aug_id).numpy()))
        return out


def resolve_embedder(embedder: Embedder | str | Path | None, recorded: str | None = None, **load: Any) -> Embedder:
    """The one model resolution: an `Embedder` as given, else the named model or folder, else ``recorded`` (the
    model an index was built with), else `DEFAULT_MODEL`; ``load`` goes to `ColEmbedder.from_pretrained`."""
    if embedder is not None and not isinstance(embedder, (str, Path)):
        return embedder
    return ColEmbedder.from_pretrained(str(embedder or recorded or DEFAULT_MODEL), **load)
