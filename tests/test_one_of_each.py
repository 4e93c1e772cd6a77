"""The single shared pieces: `GroundingOptions.replace`, `resolve_embedder`, the CLI's one error rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from llama_index_colret.cli import main
from llama_index_colret.embed import DEFAULT_MODEL
from llama_index_colret.embed.embedder import ColEmbedder, resolve_embedder
from llama_index_colret.errors import ColRetError, GroundingError, ModelLoadError, PageNotFoundError
from llama_index_colret.grounding import GroundingOptions
from llama_index_colret.testing.pdfgen import PageSpec, make_pdf


def test_replace_validates_like_the_constructor_and_names_the_valid_options() -> None:
    base = GroundingOptions(top_k=4)
    changed = base.replace(level="line", relative_alpha=None)
    assert (changed.top_k, changed.level, changed.relative_alpha) == (4, "line", None)
    assert (base.level, base.relative_alpha) == ("block", 0.5)  # the original is untouched
    assert base.replace() == base
    with pytest.raises(TypeError, match=r"unknown grounding option\(s\) \['top_n'\]; valid: patch_reduce, "):
        base.replace(top_n=3)
    with pytest.raises(GroundingError, match="top_k must be a positive integer"):
        base.replace(top_k=0)


def test_resolve_embedder_given_then_named_then_recorded_then_default(
    tiny_model_dir: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny = str(tiny_model_dir("colpali"))
    loaded = resolve_embedder(None, recorded=tiny, device="cpu")
    assert isinstance(loaded, ColEmbedder) and loaded.model_name == tiny
    assert resolve_embedder(loaded, recorded="another/model") is loaded
    assert resolve_embedder(tiny, recorded="another/model").model_name == tiny
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match=DEFAULT_MODEL):  # nothing named, nothing recorded
        resolve_embedder(None)


def test_page_not_found_is_a_library_error_and_a_key_error_with_a_plain_message() -> None:
    exc = PageNotFoundError("db: pages not in the index: [('d', 3)]")
    assert isinstance(exc, ColRetError) and isinstance(exc, KeyError)
    assert str(exc) == "db: pages not in the index: [('d', 3)]"


def test_cli_turns_wrong_arguments_and_bad_paths_into_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    pdf = tmp_path / "a.pdf"
    make_pdf(pdf, [PageSpec(paragraphs=["one paragraph"])])
    db = str(tmp_path / "db")
    assert main(["index", str(pdf), str(tmp_path / "missing.pdf"), "--db", db]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"colret index: error: {tmp_path / 'missing.pdf'}: no such file or folder"]
    assert main(["index", str(pdf), "--db", db, "--meta", "year"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == ["colret index: error: --meta takes KEY=VALUE, got 'year'"]
    assert not (tmp_path / "db").exists()  # both failed before a model loaded or an index was made
