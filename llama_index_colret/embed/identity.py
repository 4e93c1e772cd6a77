"""Model identity: what an index records about the model that embedded it, so the same model is accepted
under any path and a different one is refused.

- A local folder is named by its real path (``./tiny``, ``/abs/tiny`` and a symlink to it are one folder, from
  any working directory) and identified by a **fingerprint**: sha256 over ``config.json`` and the contents of
  every weight file (``*.safetensors``, ``*.bin``, ``*.pt``). Replacing the weights in the same folder changes
  it. Hashing costs one read of the weights (~1 s per GB), so fingerprints are cached on disk, keyed by each
  file's (real path, size, mtime); re-opening an index is then one ``stat`` per file.
- A hub name is its own identity (the hub serves one model under one name and revision).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt")
LOCAL_PREFIX = "sha256:"


def cache_file() -> Path:
    """Where fingerprints are cached: ``$COLRET_CACHE_DIR`` or ``~/.cache/colret``, file ``fingerprints.json``."""
    root = os.environ.get("COLRET_CACHE_DIR") or Path.home() / ".cache" / "colret"
    return Path(root) / "fingerprints.json"


def canonical_name(name_or_path: str | Path) -> str:
    """The name an index records: the real path of a local folder, the hub name as given otherwise."""
    path = Path(name_or_path).expanduser()
    return str(path.resolve()) if path.is_dir() else str(name_or_path)


def model_identity(name_or_path: str | Path) -> str:
    """``sha256:<hex>`` fingerprint of a local checkpoint folder (config and weights), or the hub name."""
    path = Path(name_or_path).expanduser()
    if not path.is_dir():
        return str(name_or_path)
    files = sorted(f for f in path.resolve().iterdir() if f.name == "config.json" or f.suffix in WEIGHT_SUFFIXES)
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode() + b"\0" + _file_digest(f).encode() + b"\0")
    return LOCAL_PREFIX + digest.hexdigest()


def _file_digest(path: Path) -> str:
    """sha256 of one file's bytes, cached on disk by (real path, size, mtime)."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    cache = _read_cache()
    if key in cache:
        return cache[key]
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    cache[key] = h.hexdigest()
    _write_cache(cache)
    return cache[key]


def _read_cache() -> dict[str, str]:
    """The fingerprint cache (empty when missing or unreadable)."""
    try:
        data = json.loads(cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(cache: dict[str, str]) -> None:
    """Write the cache atomically; a read-only home only costs a re-hash next time."""
    target = cache_file()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(cache), encoding="utf-8")
        tmp.replace(target)
    except OSError:
        return
