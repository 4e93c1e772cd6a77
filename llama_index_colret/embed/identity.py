"""Model identity: what an index records about the model that embedded it, so the same model is accepted
under any path and a different one is refused.

- A local folder is named by its real path (``./tiny``, ``/abs/tiny`` and a symlink to it are one folder, from
  any working directory) and identified by a **fingerprint**: sha256 over ``config.json`` and the contents of
  every weight file (``*.safetensors``, ``*.bin``, ``*.pt``). Replacing the weights in the same folder changes
  it. Hashing costs one read of the weights (~1 s per GB), so fingerprints are cached on disk, keyed by each
  file's (real path, size, mtime); re-opening an index is then one ``stat`` per file.
- A hub name is identified as ``hub:<name>@<revision>`` plus ``#<commit>`` when the Hugging Face cache holds
  that revision offline (``refs/<revision>`` of ``models--<org>--<name>`` under the hub cache, or the revision
  itself when it is a commit with a snapshot). Two identities of one name at different commits are different
  models; where a commit is unknown, the revision names are compared. Indexes from before revisions recorded
  the bare name: "revision unknown", accepted for the same name (`identity_mismatch`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt")
LOCAL_PREFIX = "sha256:"
HUB_PREFIX = "hub:"
DEFAULT_REVISION = "main"
_COMMIT = re.compile(r"[0-9a-f]{40}")


def cache_file() -> Path:
    """Where fingerprints are cached: ``$COLRET_CACHE_DIR`` or ``~/.cache/colret``, file ``fingerprints.json``."""
    root = os.environ.get("COLRET_CACHE_DIR") or Path.home() / ".cache" / "colret"
    return Path(root) / "fingerprints.json"


def canonical_name(name_or_path: str | Path) -> str:
    """The name an index records: the real path of a local folder, the hub name as given otherwise."""
    path = Path(name_or_path).expanduser()
    return str(path.resolve()) if path.is_dir() else str(name_or_path)


def hub_cache() -> Path:
    """The Hugging Face hub cache, found as huggingface_hub finds it: ``$HF_HUB_CACHE``, ``$HUGGINGFACE_HUB_CACHE``,
    ``$HF_HOME/hub``, ``$XDG_CACHE_HOME/huggingface/hub``, else ``~/.cache/huggingface/hub``."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    home = os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "huggingface"
    return Path(home).expanduser() / "hub"


def cached_commit(name: str, revision: str = DEFAULT_REVISION) -> str | None:
    """The commit that ``revision`` of hub model ``name`` resolves to in the local cache, or None when the cache
    does not hold it (read offline: ``refs/<revision>``, or a commit with its ``snapshots/`` folder)."""
    repo = hub_cache() / ("models--" + name.replace("/", "--"))
    if _COMMIT.fullmatch(revision) and (repo / "snapshots" / revision).is_dir():
        return revision
    try:
        commit = (repo / "refs" / revision).read_text(encoding="utf-8").strip()
    except (OSError, ValueError):
        return None
    return commit if _COMMIT.fullmatch(commit) else None


def snapshot_folder(name: str, revision: str = DEFAULT_REVISION) -> Path | None:
    """The cached snapshot folder of ``revision`` of hub model ``name``, or None when it is not cached."""
    commit = cached_commit(name, revision)
    folder = hub_cache() / ("models--" + name.replace("/", "--")) / "snapshots" / commit if commit else None
    return folder if folder is not None and folder.is_dir() else None


def model_identity(name_or_path: str | Path, revision: str | None = None) -> str:
    """``sha256:<hex>`` fingerprint of a local checkpoint folder (config and weights), or a hub model's
    ``hub:<name>@<revision>[#<commit>]`` (``revision`` default ``main``; the commit when cached)."""
    path = Path(name_or_path).expanduser()
    if not path.is_dir():
        revision = revision or DEFAULT_REVISION
        commit = cached_commit(str(name_or_path), revision)
        return f"{HUB_PREFIX}{name_or_path}@{revision}" + (f"#{commit}" if commit else "")
    files = sorted(f for f in path.resolve().iterdir() if f.name == "config.json" or f.suffix in WEIGHT_SUFFIXES)
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode() + b"\0" + _file_digest(f).encode() + b"\0")
    return LOCAL_PREFIX + digest.hexdigest()


def identity_mismatch(recorded: str, given: str) -> str | None:
    """Why model identity ``given`` is not the ``recorded`` one, or None when it is (or may be: a bare hub name
    recorded before revisions is "revision unknown" and accepted for the same name)."""
    if recorded == given:
        return None
    old, new = _hub_parts(recorded), _hub_parts(given)
    if old is None or new is None:  # a local fingerprint against anything else
        return "its config or weights differ"
    if old[0] != new[0]:
        return "it is another model"
    if old[1] is None or new[1] is None:  # revision unknown
        return None
    both_cached = old[2] is not None and new[2] is not None
    same = old[2] == new[2] if both_cached else old[1] == new[1]  # commits decide; else the revision names
    if same:
        return None
    return (
        f"it is revision {_revision(new)}, the index was built at revision {_revision(old)}; load the model at "
        f"revision {old[2] or old[1]}"
    )


def recorded_revision(identity: str | None) -> str | None:
    """The revision to load a recorded hub model at: its commit when recorded, else its revision name; None for
    a local folder, a bare name recorded before revisions, or no identity."""
    parts = _hub_parts(identity) if identity else None
    return (parts[2] or parts[1]) if parts is not None else None


def _hub_parts(identity: str) -> tuple[str, str | None, str | None] | None:
    """``(name, revision, commit)`` of a hub identity (a bare recorded name: no revision); None for a local
    folder's fingerprint."""
    if identity.startswith(LOCAL_PREFIX):
        return None
    if not identity.startswith(HUB_PREFIX):
        return identity, None, None
    name, _, rest = identity[len(HUB_PREFIX) :].rpartition("@")
    revision, _, commit = rest.partition("#")
    return name, revision, commit or None


def _revision(parts: tuple[str, str | None, str | None]) -> str:
    """A revision as people read it: ``main (commit 0123456789ab)`` or ``main (commit not cached)``."""
    return f"{parts[1]} (commit {parts[2][:12] if parts[2] else 'not cached'})"


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
