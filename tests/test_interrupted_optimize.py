"""Ctrl-C during `colret optimize --compact`: a real subprocess is interrupted while LanceDB compacts (nothing
committed yet) or just after the compaction committed (index refresh, cleanup or first stage still running).
It exits 130 with one line, the table stays readable with every document once, and a re-run compacts it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from llama_index_colret.cli import main
from llama_index_colret.embed.types import PageEmbedding
from llama_index_colret.geometry import PatchGrid
from llama_index_colret.store.lance import PageStore
from tests.test_store import fake_document, unit_rows

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
CLI = "import sys; from llama_index_colret.cli import main; sys.exit(main())"
N_DOCS, N_PAGES, DIM = 12, 2, 128


@pytest.fixture(scope="module")
def fragmented(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of 12 two-page documents added one by one (12 fragments), ~90 MB of vectors, so that
    compacting it takes a few hundred milliseconds: long enough for a signal to land inside."""
    db = tmp_path_factory.mktemp("fragmented") / "db"
    store = PageStore.create(db, model_name="synthetic/model", dim=DIM)
    rng = np.random.default_rng(0)
    grid = PatchGrid(100, 64)
    for d in range(N_DOCS):
        doc = fake_document(f"d{d}", N_PAGES, d)
        doc["embeddings"] = [
            PageEmbedding(unit_rows(rng, 3 + grid.n_patches, DIM), np.arange(3, 3 + grid.n_patches), grid)
            for _ in range(N_PAGES)
        ]
        store.add_document(**doc)
    return db


def _entries(db: Path, sub: str) -> int:
    """How many files the table holds under ``sub`` (``data``: data files, ``_versions``: manifests)."""
    return len(os.listdir(db / "pages.lance" / sub))


def _interrupt_optimize(db: Path, trigger: str, extra: list[str]) -> subprocess.CompletedProcess[str]:
    """Run `colret optimize --compact` on ``db`` and send SIGINT as soon as a new file appears under
    ``trigger``; fail if the run ends first (the signal would not have landed inside optimize)."""
    before = _entries(db, trigger)
    cmd = [sys.executable, "-c", CLI, "optimize", "--db", str(db), "--compact", *extra]
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300  # a hang guard, not a speed check
    while _entries(db, trigger) <= before:
        assert proc.poll() is None, f"optimize ended before {trigger} changed: {proc.communicate()}"
        assert time.monotonic() < deadline, f"{trigger} did not change within 5 minutes"
        time.sleep(0.002)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _assert_whole(db: Path) -> PageStore:
    """The index reads back with every document exactly once, each with all its pages and its text indexed."""
    store = PageStore.open(db)
    docs = store.documents()
    assert store.count() == N_DOCS * N_PAGES
    assert len({d.doc_id for d in docs}) == len(docs) == N_DOCS
    assert all(d.n_pages == N_PAGES for d in docs)
    assert len(store.text_search("body", k=100)) == N_DOCS * N_PAGES
    assert store.get_page(docs[-1].doc_id, N_PAGES).page_number == N_PAGES
    return store


@pytest.mark.parametrize(
    ("trigger", "extra"),
    [("data", []), ("_versions", []), ("data", ["--cleanup"])],
    ids=["while-compacting", "after-compaction-commit", "while-compacting-with-cleanup"],
)
def test_ctrl_c_during_optimize_keeps_the_table_and_a_rerun_compacts(
    tmp_path: Path, fragmented: Path, trigger: str, extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    db = Path(shutil.copytree(fragmented, tmp_path / "db"))
    version, fragments = PageStore.open(db).version, N_DOCS
    done = _interrupt_optimize(db, trigger, extra)
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines() == ["colret optimize: interrupted"]
    store = _assert_whole(db)
    if trigger == "data":  # interrupted before the compaction committed: the table is as it was
        assert (store.version, store.table.stats()["fragment_stats"]["num_fragments"]) == (version, fragments)
    else:
        assert store.version > version
    assert main(["optimize", "--db", str(db), "--compact", *extra]) == 0
    assert f"{N_DOCS * N_PAGES} pages" in capsys.readouterr().out
    store = _assert_whole(db)
    assert store.table.stats()["fragment_stats"]["num_fragments"] <= 2  # LanceDB leaves the newest one at times
