"""Checks on a checkpoint folder before its weights load: the ``embedding_dim`` of ``config.json`` must be the
output size of the projection in the weights. transformers would otherwise print a multi-line load report and
fail with a message that names neither the value nor the shape.

Only the safetensors headers are read (8 bytes of length, then JSON), never the tensors. A folder without
safetensors, or with a header that cannot be parsed, is left to the real load (which reports a corrupt file).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from ..errors import ModelLoadError

PROJECTION = "embedding_proj_layer.weight"  # (embedding_dim, hidden) in ColQwen2, ColPali and ColModernVBert
MAX_HEADER_BYTES = 100 << 20  # safetensors' own limit on the JSON header


def safetensors_shapes(path: Path) -> dict[str, list[int]] | None:
    """Tensor name -> shape from one safetensors file's header; None when the header cannot be read."""
    try:
        with open(path, "rb") as fh:
            (length,) = struct.unpack("<Q", fh.read(8))
            if length > MAX_HEADER_BYTES:
                return None
            header = json.loads(fh.read(length))
    except (OSError, struct.error, ValueError):
        return None
    return {k: v["shape"] for k, v in header.items() if isinstance(v, dict) and "shape" in v}


def projection_shape(folder: Path) -> tuple[Path, list[int]] | None:
    """The file holding the projection weight and its shape, or None when no safetensors header has it."""
    for path in sorted(folder.glob("*.safetensors")):
        shapes = safetensors_shapes(path)
        if shapes is not None and PROJECTION in shapes:
            return path, shapes[PROJECTION]
    return None


def check_embedding_dim(folder: Path, config: Any) -> None:
    """`ModelLoadError` naming the folder, the config value and the weight shape when ``config.embedding_dim``
    is not the projection's output size in the folder's weights."""
    dim = getattr(config, "embedding_dim", None)
    found = projection_shape(folder)
    if dim is None or found is None:
        return
    path, shape = found
    if not shape or shape[0] != dim:
        raise ModelLoadError(
            f"{folder}: config.json says embedding_dim={dim}, but the weights give {shape[0] if shape else '?'}-d "
            f"vectors ({PROJECTION} has shape {shape} in {path.name}); fix embedding_dim or use matching weights"
        )
