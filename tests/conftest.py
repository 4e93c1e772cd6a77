"""Shared pytest fixtures. Each helper appends its own fixtures below; keep them session-scoped when costly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from llama_index_colret.testing.tiny_models import build_tiny_model


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``tiny_model_dir(family) -> Path``: a tiny random checkpoint ("colqwen2", "colpali", "colmodernvbert"),
    built once per test session and loadable with ``ColEmbedder.from_pretrained``."""
    built: dict[str, Path] = {}

    def get(family: str) -> Path:
        if family not in built:
            built[family] = build_tiny_model(family, tmp_path_factory.mktemp(f"tiny-{family}"))
        return built[family]

    return get
