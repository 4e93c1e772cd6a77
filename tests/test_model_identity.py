"""Model identity: an index accepts its model under any path to the same folder and from any working directory,
and refuses other weights put in the same folder; old indexes that recorded only a name keep opening."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file

from llama_index_colret.cli import main
from llama_index_colret.embed.identity import model_identity
from llama_index_colret.store.lance import PageStore
from llama_index_colret.testing.pdfgen import PageSpec, make_pdf, sample_paragraphs


@pytest.fixture
def model_copy(tmp_path: Path, tiny_model_dir: Callable[[str], Path]) -> Path:
    """A private copy of the tiny ColQwen2 (the test replaces its weights)."""
    return Path(shutil.copytree(tiny_model_dir("colqwen2"), tmp_path / "models" / "tiny"))


def test_same_model_under_any_path_and_other_weights_refused(
    tmp_path: Path, model_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLRET_CACHE_DIR", str(tmp_path / "cache"))
    pdf, db = tmp_path / "a.pdf", str(tmp_path / "db")
    make_pdf(pdf, [PageSpec(paragraphs=sample_paragraphs(1, seed=1))])
    monkeypatch.chdir(model_copy.parent)
    assert main(["index", str(pdf), "--db", db, "--model", "tiny", "--no-progress", "--dpi", "50"]) == 0
    store = PageStore.open(db)
    assert store.model_name == str(model_copy.resolve()) and store.model_id == model_identity(model_copy)
    (tmp_path / "link").symlink_to(model_copy)
    monkeypatch.chdir(tmp_path)  # another working directory
    for name in ("./models/tiny", str(model_copy), "link", None):
        args = ["query", "lower town", "--db", db, "--json"] + (["--model", name] if name else [])
        assert main(args) == 0, capsys.readouterr().err
    capsys.readouterr()
    for f in model_copy.glob("*.safetensors"):  # other weights in the same folder, same config
        weights = load_file(f)
        name = next(iter(weights))
        weights[name] = weights[name] + 0.5
        save_file(weights, f, metadata={"format": "pt"})
    assert main(["query", "lower town", "--db", db, "--model", "link"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "config or weights differ" in err
    assert main(["index", str(pdf), "--db", db, "--model", str(model_copy), "--no-progress"]) == 2


def test_an_index_that_recorded_only_a_name_keeps_opening(tmp_path: Path, model_copy: Path) -> None:
    store = PageStore.create(tmp_path / "db", model_name="tiny", dim=128)  # as indexes before model identity
    assert store.model_id is None
    PageStore.open(tmp_path / "db", model_name="tiny", model_id=model_identity(model_copy))
    with pytest.raises(Exception, match="built with model 'tiny'"):
        PageStore.open(tmp_path / "db", model_name="vidore/colpali-v1.3-hf", model_id="vidore/colpali-v1.3-hf")
