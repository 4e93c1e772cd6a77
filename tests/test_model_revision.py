"""Hub model identity with revision: an index records the hub name, the revision and (from the offline Hugging
Face cache) its commit, refuses the model at another commit with one line, loads the recorded commit when no
model is named, and accepts a bare name recorded before revisions. The cache is a fake folder layout
(``models--org--tiny/refs/<revision>`` and ``snapshots/<commit>/``) holding the tiny model, offline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import huggingface_hub
import pytest

from llama_index_colret.cli import main
from llama_index_colret.embed.identity import identity_mismatch, model_identity
from llama_index_colret.errors import IndexMismatchError
from llama_index_colret.store.lance import PageStore
from llama_index_colret.testing.pdfgen import PageSpec, make_pdf, sample_paragraphs

ROOT = Path(__file__).resolve().parents[1]
A, B = "a" * 40, "b" * 40
NAME = "org/tiny"


@pytest.fixture
def hub(tmp_path: Path, tiny_model_dir: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake offline hub cache with snapshots ``A`` and ``B`` of the tiny ColQwen2; ``refs/main`` is ``A``. Our
    code reads ``HF_HUB_CACHE``; transformers reads huggingface_hub's constants (set at import), patched."""
    repo = tmp_path / "hub" / "models--org--tiny"
    for commit in (A, B):
        shutil.copytree(tiny_model_dir("colqwen2"), repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(A)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(sys.modules[huggingface_hub.is_offline_mode.__module__], "HF_HUB_OFFLINE", True)
    return repo


def test_identity_records_revision_and_cached_commit(hub: Path) -> None:
    assert model_identity(NAME) == f"hub:{NAME}@main#{A}"
    assert model_identity(NAME, B) == f"hub:{NAME}@{B}#{B}"  # a cached commit given as the revision
    assert model_identity(NAME, "v2") == f"hub:{NAME}@v2"  # not cached: the revision name alone
    assert identity_mismatch(f"hub:{NAME}@main#{A}", f"hub:{NAME}@{A}#{A}") is None  # one commit, two names
    assert identity_mismatch(f"hub:{NAME}@main#{A}", f"hub:{NAME}@main") is None  # commit unknown: same name
    assert "revision v2 (commit not cached)" in str(identity_mismatch(f"hub:{NAME}@main#{A}", f"hub:{NAME}@v2"))
    assert identity_mismatch(NAME, f"hub:{NAME}@v2#{B}") is None  # recorded before revisions: unknown, accepted
    assert identity_mismatch(NAME, "hub:org/other@main") == "it is another model"


def test_index_at_one_commit_refuses_another(hub: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pdf, db = tmp_path / "a.pdf", str(tmp_path / "db")
    make_pdf(pdf, [PageSpec(paragraphs=sample_paragraphs(1, seed=2))])
    assert main(["index", str(pdf), "--db", db, "--model", NAME, "--no-progress", "--dpi", "50"]) == 0
    assert PageStore.open(db).model_id == f"hub:{NAME}@main#{A}"
    (hub / "refs" / "main").write_text(B)  # main moved on to another commit
    capsys.readouterr()
    assert main(["query", "lower town", "--db", db, "--model", NAME]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert f"it is revision main (commit {B[:12]}), the index was built at revision main (commit {A[:12]})" in err
    assert main(["index", str(pdf), "--db", db, "--model", NAME, "--no-progress"]) == 2
    (hub / "refs" / "v1").write_text(A)
    capsys.readouterr()
    for extra in (["--model", NAME, "--model-revision", "v1"], ["--model", NAME, "--model-revision", A], []):
        assert main(["query", "lower town", "--db", db, "--json", *extra]) == 0, capsys.readouterr().err
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}  # a fresh process
    cli = "import sys; from llama_index_colret.cli import main; sys.exit(main())"
    fresh = subprocess.run(
        [sys.executable, "-c", cli, "query", "lower town", "--db", db, "--model", NAME],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert fresh.returncode == 2 and f"(commit {A[:12]}); load the model at revision {A}" in fresh.stderr


def test_a_bare_name_recorded_before_revisions_is_accepted(hub: Path, tmp_path: Path) -> None:
    PageStore.create(tmp_path / "db", model_name=NAME, model_id=NAME, dim=128)  # as indexes before revisions
    PageStore.open(tmp_path / "db", model_name=NAME, model_id=model_identity(NAME))
    PageStore.open(tmp_path / "db", model_name=NAME, model_id=model_identity(NAME, B))
    with pytest.raises(IndexMismatchError, match="it is another model"):
        PageStore.open(tmp_path / "db", model_name="org/other", model_id=model_identity("org/other"))
