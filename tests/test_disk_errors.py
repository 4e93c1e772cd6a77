"""A disk that refuses writes stops `colret index` with one line naming the index and the problem (exit 2),
never passes for another writer nor half-writes the index: stored documents read back, and a re-run after
the disk is writable again (or has room) completes. Real tmpfs mounts: a read-only one and a full one."""

from __future__ import annotations

import errno
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from llama_index_colret.cli import main
from llama_index_colret.errors import disk_problem
from llama_index_colret.store.lance import PageStore
from llama_index_colret.testing.pdfgen import PageSpec, make_pdf, sample_paragraphs

LANCE_FULL = (
    "lance error: LanceError(IO): No space left on device (os error 28), "
    "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/lance-file-13.0.0/src/writer/structural.rs:258:9"
)


def test_disk_problems_are_recognised_in_os_and_lance_errors() -> None:
    assert disk_problem(OSError(errno.ENOSPC, "No space left on device")) == "no space left on the device"
    assert disk_problem(OSError(errno.EROFS, "Read-only file system", "/x")) == "the file system is read-only"
    assert disk_problem(RuntimeError(LANCE_FULL)) == "no space left on the device"
    read_only = OSError("LanceError(IO): Read-only file system (os error 30)")
    assert disk_problem(read_only) == "the file system is read-only"
    assert disk_problem(FileNotFoundError(errno.ENOENT, "No such file")) is None
    assert disk_problem(RuntimeError("Not found: x.lance (os error 2)")) is None
    assert disk_problem(RuntimeError("Retryable commit conflict for version 7")) is None


def _mount(path: Path, size: str) -> None:
    """Mount an empty tmpfs of ``size`` at ``path``; skip the test where the sandbox does not allow it."""
    path.mkdir(exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): {done.stderr.decode().strip()}")


def _remount(path: Path, mode: str) -> None:
    """Remount the tmpfs at ``path`` ``ro`` or ``rw``."""
    subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], check=True)


@pytest.fixture()
def mnt(tmp_path: Path) -> Iterator[Path]:
    """A folder for tmpfs mounts, unmounted after the test."""
    path = tmp_path / "mnt"
    yield path
    subprocess.run(["umount", str(path)], capture_output=True)


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three distinct two-page PDFs in one folder."""
    root = tmp_path_factory.mktemp("disk-pdfs")
    for i in range(3):
        make_pdf(root / f"{i}.pdf", [PageSpec(paragraphs=sample_paragraphs(2, seed=10 * i + p)) for p in range(2)])
    return sorted(root.glob("*.pdf"))


def _index(paths: list[Path], db: Path, model: Path) -> list[str]:
    """Arguments of `colret index` for ``paths`` into ``db`` with the tiny model."""
    return ["index", *map(str, paths), "--db", str(db), "--model", str(model), "--no-progress", "--dpi", "50"]


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The one error line on stderr (progress bars of weight loading aside)."""
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error" in line or "failed" in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _assert_documents(db: Path, n_docs: int) -> None:
    """``db`` reads back ``n_docs`` whole two-page documents, each once, and no stage is left over."""
    store = PageStore.open(db)
    docs = store.documents()
    assert len({d.doc_id for d in docs}) == len(docs) == n_docs
    assert store.count() == 2 * n_docs and all(d.n_pages == 2 for d in docs)


def _no_stages(db: Path) -> bool:
    """Whether ``db`` holds no stage table (every claimed document was published)."""
    return not any(p.name.startswith("_stage_") for p in db.iterdir())


def test_read_only_index_is_one_line_and_exit_2(
    mnt: Path, pdfs: list[Path], tiny_model_dir: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _mount(mnt, "4m")
    db, model = mnt / "db", tiny_model_dir("colqwen2")
    assert main(_index(pdfs[:1], db, model)) == 0
    capsys.readouterr()
    _remount(mnt, "ro")
    assert main(_index(pdfs, db, model)) == 2  # before the fix: exit 0, "2 being indexed by another writer"
    assert f"{db}: cannot write the index: the file system is read-only" in _error_line(capsys)
    _assert_documents(db, 1)
    assert main(_index(pdfs, mnt / "new", model)) == 2  # a new index on a read-only disk
    assert f"{mnt / 'new'}: cannot write the index: the file system is read-only" in _error_line(capsys)
    _remount(mnt, "rw")
    assert main(_index(pdfs, db, model)) == 0
    _assert_documents(db, 3)
    assert _no_stages(db)


@pytest.mark.parametrize("room_kib", [0, 48], ids=["full", "room-for-a-claim-only"])
def test_full_disk_is_one_line_and_a_rerun_after_freeing_space_completes(
    mnt: Path,
    pdfs: list[Path],
    tiny_model_dir: Callable[[str], Path],
    capsys: pytest.CaptureFixture[str],
    room_kib: int,
) -> None:
    _mount(mnt, "3m")
    db, model = mnt / "db", tiny_model_dir("colqwen2")
    assert main(_index(pdfs[:1], db, model)) == 0
    capsys.readouterr()
    free = shutil.disk_usage(mnt).free
    with open(mnt / "filler", "wb") as fh:  # leave ``room_kib`` free: a claim fits, a chunk of pages does not
        fh.write(b"\0" * max(0, free - room_kib * 1024))
    assert main(_index(pdfs, db, model)) == 2
    assert f"{db}: cannot write the index: no space left on the device" in _error_line(capsys)
    _assert_documents(db, 1)
    (mnt / "filler").unlink()
    assert main(_index(pdfs, db, model)) == 0
    _assert_documents(db, 3)
    assert _no_stages(db)
