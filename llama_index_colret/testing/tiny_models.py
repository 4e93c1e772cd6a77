"""Tiny random ColPali-family checkpoints built offline (no model hub) for tests, examples and benchmarks.

`build_tiny_model(family, out_dir)` writes a folder that `ColEmbedder.from_pretrained(out_dir)` loads through
the real transformers code path: a config with a few layers and hidden size 32-64, a BPE tokenizer trained
locally with `tokenizers` over ASCII text plus the special tokens each processor needs, a PIL image processor
(no torchvision) and the processor settings. Random weights: vectors mean nothing, shapes and grids are real.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers, trainers
from transformers import (
    ColModernVBertConfig,
    ColModernVBertForRetrieval,
    ColModernVBertProcessor,
    ColPaliConfig,
    ColPaliForRetrieval,
    ColPaliProcessor,
    ColQwen2Config,
    ColQwen2ForRetrieval,
    ColQwen2Processor,
    Idefics3ImageProcessorPil,
    PreTrainedTokenizerFast,
    Qwen2VLImageProcessorPil,
    SiglipImageProcessorPil,
)

FAMILIES = ("colqwen2", "colpali", "colmodernvbert")
EMBEDDING_DIM = 128  # the real checkpoints' dim; every config accepts any value

# Tiny image settings: small but non-square grids on a portrait page.
QWEN_MAX_CELLS = 80  # max_pixels = 80 * 28 * 28: a 1275x1650 page -> 10 x 7 cells
PALI_IMAGE_SIZE, PALI_PATCH = 64, 8  # 8 x 8 = 64 image tokens over a 64-px squish
MVB_TILE, MVB_PATCH, MVB_SHUFFLE = 64, 8, 2  # 64-px tiles of (64/8/2)^2 = 4x4 tokens
MVB_LONGEST_EDGE = 5 * MVB_TILE  # a 1275x1650 page -> 5 x 4 tiles (20 x 16 cells) + a global tile

_CORPUS = (
    "the of and to in is for on that with as by this are be from at or an it was which page table figure "
    "invoice total amount date report revenue quarter year results summary section chapter method data "
    "model query document image patch grid region text box score retrieval question answer what where how "
    "when who describe find show list number price value cost name address account payment due balance "
    "contract agreement party term clause annual growth profit loss sales market customer product service "
)


def _train_tokenizer(specials: list[str], vocab_size: int = 600) -> Tokenizer:
    """A BPE tokenizer over printable ASCII (never unknown for ASCII text) with ``specials`` as added tokens."""
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["[UNK]"],
        initial_alphabet=list(string.printable.strip()),
        show_progress=False,
    )
    tok.train_from_iterator([_CORPUS] * 4 + [string.printable], trainer=trainer)
    tok.add_special_tokens([AddedToken(s, normalized=False, special=True) for s in specials])
    return tok


def _fast_tokenizer(specials: list[str], **named: str) -> PreTrainedTokenizerFast:
    """Wrap a freshly trained tokenizer; ``named`` maps roles (pad_token, bos_token, ...) to special tokens."""
    return PreTrainedTokenizerFast(tokenizer_object=_train_tokenizer(specials), **named)


def _build_colqwen2(out_dir: Path) -> None:
    specials = [
        "<|endoftext|>",
        "<|im_start|>",
        "<|im_end|>",
        "<|vision_start|>",
        "<|vision_end|>",
        "<|image_pad|>",
        "<|video_pad|>",
    ]
    tokenizer = _fast_tokenizer(specials, pad_token="<|endoftext|>", eos_token="<|im_end|>")
    tokenizer.padding_side = "left"
    ids = {s: tokenizer.convert_tokens_to_ids(s) for s in specials}
    vlm = {
        "model_type": "qwen2_vl",
        "text_config": {
            "vocab_size": len(tokenizer),
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "max_position_embeddings": 4096,
            "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
            "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"],
        },
        "vision_config": {"depth": 2, "embed_dim": 32, "hidden_size": 64, "num_heads": 2, "mlp_ratio": 2},
        "image_token_id": ids["<|image_pad|>"],
        "video_token_id": ids["<|video_pad|>"],
        "vision_start_token_id": ids["<|vision_start|>"],
        "vision_end_token_id": ids["<|vision_end|>"],
    }
    config = ColQwen2Config(vlm_config=vlm, embedding_dim=EMBEDDING_DIM)
    image_processor = Qwen2VLImageProcessorPil(min_pixels=4 * 28 * 28, max_pixels=QWEN_MAX_CELLS * 28 * 28)
    processor = ColQwen2Processor(image_processor=image_processor, tokenizer=tokenizer)
    _save(ColQwen2ForRetrieval(config), processor, out_dir)


def _build_colpali(out_dir: Path) -> None:
    specials = ["<pad>", "<eos>", "<bos>", "<image>"]
    tokenizer = _fast_tokenizer(specials, pad_token="<pad>", eos_token="<eos>", bos_token="<bos>")
    image_processor = SiglipImageProcessorPil(size={"height": PALI_IMAGE_SIZE, "width": PALI_IMAGE_SIZE})
    image_processor.image_seq_length = (PALI_IMAGE_SIZE // PALI_PATCH) ** 2
    processor = ColPaliProcessor(image_processor=image_processor, tokenizer=tokenizer)  # adds <loc>/<seg> tokens
    vlm = {
        "model_type": "paligemma",
        "text_config": {
            "model_type": "gemma",
            "vocab_size": len(tokenizer),
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 1,
            "head_dim": 16,
            "pad_token_id": tokenizer.pad_token_id,
            "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id,
        },
        "vision_config": _siglip_vision(PALI_IMAGE_SIZE, PALI_PATCH, projection_dim=64),
        "image_token_index": processor.image_token_id,
        "vocab_size": len(tokenizer),
        "projection_dim": 64,
        "hidden_size": 64,
    }
    config = ColPaliConfig(vlm_config=vlm, embedding_dim=EMBEDDING_DIM)
    _save(ColPaliForRetrieval(config), processor, out_dir)


def _siglip_vision(image_size: int, patch_size: int, **extra: int) -> dict[str, Any]:
    """The tiny SigLIP vision tower both PaliGemma-based ColPali and ColModernVBert use (2 layers, width 32)."""
    return {
        "model_type": "siglip_vision_model",
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "image_size": image_size,
        "patch_size": patch_size,
        **extra,
    }


def _build_colmodernvbert(out_dir: Path) -> None:
    row_col = [f"<row_{i + 1}_col_{j + 1}>" for i in range(6) for j in range(6)]
    specials = [
        "<|begin_of_text|>",
        "<|end_of_text|>",
        "<pad>",
        "<fake_token_around_image>",
        "<image>",
        "<global-img>",
        "<end_of_utterance>",
        *row_col,
    ]
    tokenizer = _fast_tokenizer(specials, pad_token="<pad>", bos_token="<|begin_of_text|>", eos_token="<|end_of_text|>")
    image_processor = Idefics3ImageProcessorPil(
        size={"longest_edge": MVB_LONGEST_EDGE}, max_image_size={"longest_edge": MVB_TILE}, do_image_splitting=True
    )
    seq_len = (MVB_TILE // MVB_PATCH // MVB_SHUFFLE) ** 2
    processor = ColModernVBertProcessor(image_processor=image_processor, tokenizer=tokenizer, image_seq_len=seq_len)
    vlm = {
        "model_type": "modernvbert",
        "text_config": {
            "model_type": "modernbert",
            "vocab_size": len(tokenizer),
            "hidden_size": 64,
            "intermediate_size": 128,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "max_position_embeddings": 4096,
            "local_attention": 64,
            "pad_token_id": tokenizer.pad_token_id,
            "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id,
            "cls_token_id": tokenizer.bos_token_id,
            "sep_token_id": tokenizer.eos_token_id,
        },
        "vision_config": _siglip_vision(MVB_TILE, MVB_PATCH),
        "image_token_id": processor.image_token_id,
        "pixel_shuffle_factor": MVB_SHUFFLE,
    }
    config = ColModernVBertConfig(vlm_config=vlm, embedding_dim=EMBEDDING_DIM)
    _save(ColModernVBertForRetrieval(config), processor, out_dir)


def _save(model: torch.nn.Module, processor: object, out_dir: Path) -> None:
    model.eval()
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)


_BUILDERS: dict[str, Callable[[Path], None]] = {
    "colqwen2": _build_colqwen2,
    "colpali": _build_colpali,
    "colmodernvbert": _build_colmodernvbert,
}


def build_tiny_model(family: str, out_dir: Path | str, seed: int = 0) -> Path:
    """Build and save a tiny random checkpoint of ``family`` (one of `FAMILIES`) into ``out_dir``; return it.

    Deterministic for a given ``seed``. The folder loads with ``ColEmbedder.from_pretrained(out_dir)``.
    """
    if family not in _BUILDERS:
        raise ValueError(f"unknown model family {family!r}; valid: {', '.join(FAMILIES)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    _BUILDERS[family](out)
    return out
