"""`colret index` and `colret query` through the real entry point, with a tiny ColQwen2 checkpoint."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from llama_index_colret.cli import main
from llama_index_colret.store.lance import PageStore
from llama_index_colret.testing.pdfgen import PageSpec, make_pdf, sample_paragraphs


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-pdfs")
    make_pdf(root / "one.pdf", [PageSpec(paragraphs=sample_paragraphs(2, seed=1))])
    make_pdf(root / "two.pdf", [PageSpec(paragraphs=sample_paragraphs(2, seed=s)) for s in (2, 3)])
    (root / "broken.pdf").write_bytes(b"not a pdf at all")
    return root


def test_index_then_query(tmp_path: Path, folder: Path, tiny_model_dir: Callable[[str], Path], capsys) -> None:
    db, model = str(tmp_path / "db"), str(tiny_model_dir("colqwen2"))
    code = main(["index", str(folder), "--db", db, "--model", model, "--no-progress", "--meta", "year=2024"])
    out, err = capsys.readouterr()
    assert code == 1  # one file failed
    assert "2 document(s) added (3 pages), 0 already indexed, 1 failed; the index holds 3 pages" in out
    failed = [line for line in err.splitlines() if line.startswith("failed: ")]
    assert len(failed) == 1 and failed[0].count("broken.pdf") == 1 and "not a PDF" in failed[0]

    # re-running adds nothing; the model defaults to the one recorded in the index
    assert main(["index", str(folder / "one.pdf"), "--db", db, "--no-progress"]) == 0
    assert "0 document(s) added (0 pages), 1 already indexed, 0 failed" in capsys.readouterr().out

    assert main(["query", "the lower town", "--db", db, "--top-k", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["query"] == "the lower town" and len(result["hits"]) == 2
    hit = result["hits"][0]
    assert hit["file_name"] in ("one.pdf", "two.pdf") and hit["page_number"] in (1, 2)
    n_q = hit["score"] / hit["normalized_score"]
    assert n_q == pytest.approx(round(n_q)) and round(n_q) > 1
    assert result["hits"][0]["score"] >= result["hits"][1]["score"]

    assert main(["query", "the lower town", "--db", db, "--filter", "file_name=one.pdf"]) == 0
    listing = capsys.readouterr().out
    assert "one.pdf  page 1" in listing and "two.pdf" not in listing
    assert PageStore.open(db).count({"year": 2024}) == 3


def test_query_errors_are_one_line(tmp_path: Path, folder: Path, tiny_model_dir: Callable[[str], Path], capsys) -> None:
    db = str(tmp_path / "db")
    assert main(["query", "anything", "--db", db]) == 2
    assert "no colret index" in capsys.readouterr().err
    main(["index", str(folder / "one.pdf"), "--db", db, "--model", str(tiny_model_dir("colqwen2")), "--no-progress"])
    capsys.readouterr()
    assert main(["query", "anything", "--db", db, "--filter", "colour=red"]) == 2
    assert "unknown filter field 'colour'" in capsys.readouterr().err
    assert main(["query", "anything", "--db", db, "--model", str(tiny_model_dir("colpali"))]) == 2
    assert "the index was built with model" in capsys.readouterr().err


def test_no_progress_silences_the_weights_bar_too(tmp_path: Path, folder: Path, tiny_model_dir) -> None:
    """A fresh process (the model loads there for the first time, as a user's does): with ``--no-progress``
    stderr holds no progress bar at all, transformers' "Loading weights" included; without it, it does."""
    model, pdf = str(tiny_model_dir("colqwen2")), str(folder / "one.pdf")
    cli = [sys.executable, "-c", "import sys; from llama_index_colret.cli import main; sys.exit(main(sys.argv[1:]))"]
    quiet = subprocess.run(
        [*cli, "index", pdf, "--db", str(tmp_path / "a"), "--model", model, "--no-progress"],
        capture_output=True,
        text=True,
        check=True,
    )
    loud = subprocess.run(
        [*cli, "index", pdf, "--db", str(tmp_path / "b"), "--model", model], capture_output=True, text=True, check=True
    )
    assert "Loading weights" in loud.stderr
    assert "it/s" not in quiet.stderr and "Loading weights" not in quiet.stderr
