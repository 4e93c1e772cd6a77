"""The offline tiny checkpoints load back through transformers' real classes and stay small."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import AutoConfig, AutoProcessor

from llama_index_colret.testing.tiny_models import FAMILIES, build_tiny_model


@pytest.mark.parametrize("family", FAMILIES)
def test_tiny_model_round_trips_and_is_small(family: str, tiny_model_dir) -> None:
    folder: Path = tiny_model_dir(family)
    assert AutoConfig.from_pretrained(folder).model_type == family
    processor = AutoProcessor.from_pretrained(folder)
    assert type(processor).__name__.lower() == f"{family}processor"
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size < 2_000_000


def test_unknown_family_lists_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="colqwen2, colpali, colmodernvbert"):
        build_tiny_model("colbert", tmp_path)
