"""Bad environment and bad values give one line naming the file or value, and the documented exit codes:
0 ok, 1 some documents failed, 2 usage or environment error, 130 interrupted."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from llama_index_colret.cli import main
from llama_index_colret.embed.embedder import MAX_QUERY_CHARS, ColEmbedder
from llama_index_colret.errors import EmbeddingError, FilterError, ModelLoadError
from llama_index_colret.store.lance import PageStore
from llama_index_colret.testing.pdfgen import PageSpec, make_pdf, sample_paragraphs

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-hostile") / "a.pdf"
    make_pdf(path, [PageSpec(paragraphs=sample_paragraphs(1, seed=4))])
    return path


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if "error" in line or "failed" in line]
    assert len(lines) == 1, lines
    return lines[0]


def test_db_under_a_file_is_one_line_and_exit_2(tmp_path: Path, pdf: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file.txt").write_text("x")
    assert main(["index", str(pdf), "--db", str(tmp_path / "file.txt" / "db"), "--no-progress"]) == 2
    assert "file.txt is a file" in _one_error_line(capsys)


def test_metadata_beyond_int64_fails_the_document_and_adds_no_column(
    tmp_path: Path, pdf: Path, tiny_model_dir: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    db, model = str(tmp_path / "db"), str(tiny_model_dir("colqwen2"))
    args = ["index", str(pdf), "--db", db, "--model", model, "--no-progress", "--dpi", "50"]
    assert main([*args, "--meta", "big=99999999999999999999"]) == 1
    assert "big=99999999999999999999 is outside the 64-bit integer range" in _one_error_line(capsys)
    assert "m_big" not in PageStore.open(db).schema.names
    assert main([*args, "--meta", "big=7"]) == 0
    capsys.readouterr()
    store = PageStore.open(db)
    with pytest.raises(FilterError, match="outside the 64-bit integer range"):
        store.count({"big": 2**70})
    with pytest.raises(FilterError, match="holds integers"):
        store.count({"big": 7.5})
    assert store.count({"big": 7.0}) == 1


def test_empty_and_overlong_queries_are_refused(tiny_model_dir: Callable[[str], Path]) -> None:
    embedder = ColEmbedder.from_pretrained(tiny_model_dir("colqwen2"))
    with pytest.raises(EmbeddingError, match="query 1: the query is empty"):
        embedder.embed_queries(["fine", "  "])
    with pytest.raises(EmbeddingError, match=f"the limit is {MAX_QUERY_CHARS}"):
        embedder.embed_queries(["word " * 20_000])
    assert len(embedder.embed_queries(["x" * MAX_QUERY_CHARS])) == 1


def test_corrupt_weights_are_one_line_and_exit_2(
    tmp_path: Path, pdf: Path, tiny_model_dir: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    model = Path(shutil.copytree(tiny_model_dir("colqwen2"), tmp_path / "model"))
    for f in model.glob("*.safetensors"):
        f.write_bytes(f.read_bytes()[:100])
    code = main(["index", str(pdf), "--db", str(tmp_path / "db"), "--model", str(model), "--no-progress"])
    assert code == 2
    assert "cannot load the weights of model" in _one_error_line(capsys)


@pytest.mark.parametrize("family", ["colqwen2", "colmodernvbert"])
def test_embedding_dim_that_disagrees_with_the_weights_is_one_line_and_exit_2(
    tmp_path: Path, pdf: Path, tiny_model_dir: Callable[[str], Path], capsys: pytest.CaptureFixture[str], family: str
) -> None:
    model = Path(shutil.copytree(tiny_model_dir(family), tmp_path / "model"))
    config = json.loads((model / "config.json").read_text())
    assert config["embedding_dim"] == 128
    (model / "config.json").write_text(json.dumps({**config, "embedding_dim": 96}))
    with pytest.raises(ModelLoadError, match=r"embedding_dim=96, but the weights give 128-d .* shape \[128, 64\]"):
        ColEmbedder.from_pretrained(model)
    code = main(["index", str(pdf), "--db", str(tmp_path / "db"), "--model", str(model), "--no-progress"])
    assert code == 2
    line = _one_error_line(capsys)
    assert f"{model}: config.json says embedding_dim=96" in line and "[128, 64]" in line


def test_ctrl_c_exits_130_with_one_line(tmp_path: Path, pdf: Path, tiny_model_dir: Callable[[str], Path]) -> None:
    cli = "import sys; from llama_index_colret.cli import main; sys.exit(main())"
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(30):
        shutil.copy(pdf, folder / f"{i}.pdf")
        with open(folder / f"{i}.pdf", "ab") as fh:
            fh.write(b"%" + str(i).encode())  # 30 distinct files: the run outlasts the signal
    cmd = [sys.executable, "-c", cli, "index", str(folder), "--db", str(tmp_path / "db"),
           "--model", str(tiny_model_dir("colqwen2")), "--no-progress"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_a_stage(tmp_path / "db", proc)  # documents are being written: the model is loaded, the run is on
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1] == "colret index: interrupted"


def _wait_for_a_stage(db: Path, proc: subprocess.Popen[str]) -> None:
    """Return once the run has claimed a document (a ``_stage_*`` table exists under ``db``); fail if it exits
    first, or if none appears within 5 minutes (a hang guard, not a speed check)."""
    deadline = time.monotonic() + 300
    while not (db.is_dir() and any(p.name.startswith("_stage_") for p in db.iterdir())):
        assert proc.poll() is None, f"the run ended before claiming a document: {proc.communicate()}"
        assert time.monotonic() < deadline, "no document was claimed within 5 minutes"
        time.sleep(0.05)


# Start-up Ctrl-C: the signal arrives while the parser is built (before the subcommands are imported); in the
# second script a library turns the KeyboardInterrupt into another error, as a C extension may.
STARTUP_INTERRUPT = """
import os, signal, sys, time
from llama_index_colret import cli
real = cli.build_parser
def build():
    {body}
cli.build_parser = build
sys.exit(cli.main(["index", "missing.pdf", "--db", "db"]))
"""
RAISE = "os.kill(os.getpid(), signal.SIGINT); time.sleep(30); return real()"
CONVERT = (
    "try:\n        os.kill(os.getpid(), signal.SIGINT); time.sleep(30)\n"
    "    except KeyboardInterrupt:\n        raise TypeError('expected a message argument')"
)


@pytest.mark.parametrize("body", [RAISE, CONVERT], ids=["raised", "converted-to-TypeError"])
def test_ctrl_c_during_start_up_exits_130_with_one_line(tmp_path: Path, body: str) -> None:
    script = STARTUP_INTERRUPT.format(body=body)
    proc = subprocess.run([sys.executable, "-c", script], env=ENV, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr.strip().splitlines() == ["colret index: interrupted"]
