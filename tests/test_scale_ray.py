"""The Ray engine on a local 2-CPU cluster (one per session) with the tiny ColQwen2: the same rows as local
ingest, bad PDFs skipped, a killed actor or driver leaving only whole documents, re-runs without duplicates."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from llama_index_colret.cli import main
from llama_index_colret.embed.embedder import ColEmbedder
from llama_index_colret.llamaindex.index import ColRetIndex
from llama_index_colret.pipeline import file_hash, index_pdfs
from llama_index_colret.scale import RayOptions
from llama_index_colret.store.lance import PageStore
from llama_index_colret.testing.faults import DyingEmbedder
from llama_index_colret.testing.pdfgen import PageSpec, make_pdf, sample_paragraphs

pytest.importorskip("ray")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three generated PDFs (2, 1 and 3 pages) with a corrupt file second."""
    root = tmp_path_factory.mktemp("ray-pdfs")
    out = []
    for i, n_pages in enumerate((2, 1, 3)):
        path = root / f"doc{i}.pdf"
        make_pdf(path, [PageSpec(paragraphs=sample_paragraphs(2, seed=20 * i + p)) for p in range(n_pages)])
        out.append(path)
    bad = root / "corrupt.pdf"
    bad.write_bytes(b"%PDF-1.4\nthis is not really a pdf\n%%EOF\n")
    return [out[0], bad, out[1], out[2]]


@pytest.fixture(scope="module")
def model_dir(tiny_model_dir: Callable[[str], Path]) -> Path:
    return tiny_model_dir("colqwen2")


@pytest.fixture(scope="module")
def embedder(model_dir: Path) -> ColEmbedder:
    return ColEmbedder.from_pretrained(model_dir)


@pytest.fixture(scope="module")
def local_rows(tmp_path_factory: pytest.TempPathFactory, pdfs: list[Path], embedder: ColEmbedder) -> list[dict]:
    """The rows local ingest stores for ``pdfs`` (the reference)."""
    store = new_store(tmp_path_factory.mktemp("local") / "db", embedder)
    report = index_pdfs(pdfs, store, embedder, show_progress=False, metadata=meta)
    assert [o.status for o in report.outcomes] == ["added", "failed", "added", "added"]
    return rows(store)


def meta(path: Path) -> dict[str, Any]:
    """Per-file metadata (travels through the driver, not the workers)."""
    return {"name": path.stem, "year": 2000 + len(path.stem)}


def new_store(uri: str | Path, embedder: ColEmbedder, **kw: Any) -> PageStore:
    return PageStore.create(uri, model_name=embedder.model_name, dim=embedder.dim, **kw)


def rows(store: PageStore) -> list[dict]:
    """Every stored row as Python values, ordered by (doc_id, page_number)."""
    table = store._select(None, None, None).sort_by([("doc_id", "ascending"), ("page_number", "ascending")])
    return table.to_pylist()


def assert_same_rows(got: list[dict], want: list[dict]) -> None:
    """Same documents, pages, regions, metadata, images; vectors equal within 1e-6."""
    assert [(r["doc_id"], r["page_number"]) for r in got] == [(r["doc_id"], r["page_number"]) for r in want]
    for g, w in zip(got, want, strict=True):
        for column in w:
            if column == "vectors":
                diff = np.abs(np.asarray(g[column], np.float32) - np.asarray(w[column], np.float32))
                assert diff.max() <= 1e-6, (g["doc_id"], g["page_number"])
            else:
                assert g[column] == w[column], (column, g["doc_id"], g["page_number"])


def test_ray_ingest_stores_the_rows_of_local_ingest_and_skips_bad_and_stored_files(
    ray_cluster: str, tmp_path: Path, pdfs: list[Path], embedder: ColEmbedder, model_dir: Path, local_rows: list
) -> None:
    store = new_store(tmp_path / "db", embedder)
    # chunks of 2 pages: the 3-page document travels as two chunks, staged as they come and published once
    report = index_pdfs(
        pdfs, store, embedder, engine="ray", metadata=meta, show_progress=False, batch_pages=2, chunk_pages=2
    )
    assert [o.status for o in report.outcomes] == ["added", "failed", "added", "added"]
    assert report.failed[0].path == str(pdfs[1]) and "corrupt.pdf" in report.failed[0].error
    assert report.outcomes[0].doc_id == file_hash(pdfs[0])[:16]
    assert_same_rows(rows(store), local_rows)

    # a re-run finds every file stored before any model call: an actor that would die at its first call lives
    marker = tmp_path / "embedded"
    dying = RayOptions(embedder_factory=partial(DyingEmbedder, model_dir, marker, die_at=1))
    again = index_pdfs(pdfs, store, embedder, engine="ray", ray=dying, show_progress=False)
    assert [o.status for o in again.outcomes] == ["duplicate", "failed", "duplicate", "duplicate"]
    assert not marker.exists()
    assert store.count() == len(local_rows)


def test_a_killed_actor_is_replaced_and_leaves_no_partial_or_doubled_document(
    ray_cluster: str, tmp_path: Path, pdfs: list[Path], embedder: ColEmbedder, model_dir: Path, local_rows: list
) -> None:
    store = new_store(tmp_path / "db", embedder)
    marker = tmp_path / "died"
    dying = RayOptions(embedder_factory=partial(DyingEmbedder, model_dir, marker, die_at=2))
    report = index_pdfs(pdfs, store, embedder, engine="ray", ray=dying, metadata=meta, show_progress=False)
    assert marker.exists()  # the actor's process was SIGKILLed while embedding a document
    assert [o.status for o in report.outcomes] == ["added", "failed", "added", "added"]
    assert_same_rows(rows(store), local_rows)
    # the re-run through ColRetIndex.from_pdfs, which hands engine= and ray= on to index_pdfs
    index = ColRetIndex.from_pdfs(
        pdfs, embedder, uri=tmp_path / "db", engine="ray", ray=RayOptions(), show_progress=False
    )
    assert [o.status for o in index.last_report.outcomes] == ["duplicate", "failed", "duplicate", "duplicate"]
    assert_same_rows(rows(store), local_rows)


DRIVER = """
import os, signal, sys
from pathlib import Path
from llama_index_colret.embed.embedder import ColEmbedder
from llama_index_colret.llamaindex.index import ColRetIndex
from llama_index_colret.pipeline import index_pdfs
from llama_index_colret.scale import RayOptions
from llama_index_colret.store.lance import PageStore

address, db, model, last, *files = sys.argv[1:]
embedder = ColEmbedder.from_pretrained(model)
store = PageStore.open(db, model_name=embedder.model_name, dim=embedder.dim)

def meta(path):  # the driver dies as it is about to write the last document
    if path.name == last:
        os.kill(os.getpid(), signal.SIGKILL)
    return {"name": path.stem, "year": 2000 + len(path.stem)}

index_pdfs([Path(f) for f in files], store, embedder, engine="ray", ray=RayOptions(address=address), metadata=meta,
           show_progress=False)
"""


def test_a_killed_driver_leaves_whole_documents_and_the_next_run_completes_them(
    ray_cluster: str, tmp_path: Path, pdfs: list[Path], embedder: ColEmbedder, model_dir: Path, local_rows: list
) -> None:
    db = tmp_path / "db"
    new_store(db, embedder)
    good = [p for p in pdfs if p.name != "corrupt.pdf"]
    argv = [sys.executable, "-c", DRIVER, ray_cluster, str(db), str(model_dir), good[-1].name, *map(str, good)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == -9, done.stderr[-3000:]
    store = PageStore.open(db)
    stored = {d.file_name: d.n_pages for d in store.documents()}
    assert good[-1].name not in stored
    want = {r["file_name"]: r["page_number"] for r in local_rows}  # the last page number is the page count
    assert all(n == want[name] for name, n in stored.items())  # whole documents only

    report = index_pdfs(pdfs, store, embedder, engine="ray", metadata=meta, show_progress=False)
    assert sorted(o.path for o in report.added) == sorted(str(p) for p in good if p.name not in stored)
    assert len(report.skipped) == len(stored)
    assert_same_rows(rows(store), local_rows)


def test_cli_ray_into_s3_then_grounded_query(
    ray_cluster: str, s3_server: Any, pdfs: list[Path], model_dir: Path, local_rows: list, capsys
) -> None:
    uri = s3_server.new_bucket("colret-cli-ray") + "/index"
    options = [x for k, v in s3_server.storage_options.items() for x in ("--storage-option", f"{k}={v}")]
    files = [str(p) for p in pdfs]
    code = main(["index", *files, "--db", uri, "--model", str(model_dir), "--ray", "--no-progress", *options])
    err = capsys.readouterr().err
    assert code == 1 and "corrupt.pdf" in err
    store = PageStore.open(uri, storage_options=s3_server.storage_options)
    assert store.count() == len(local_rows) == 6
    assert main(["query", "the harbour", "--db", uri, "--grounded", "--json", "--top-k", "2", *options]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert len(hits) == 2 and all(h["regions"] for h in hits[:1])
    assert all(len(r["bbox"]) == 4 for h in hits for r in h["regions"])
    assert main(["index", files[0], "--db", uri, "--ray", "--ray-actors", "1", "--no-progress", *options]) == 0
    assert "1 already indexed" in capsys.readouterr().out


def test_wrong_engine_arguments_are_refused_before_any_work(
    tmp_path: Path, pdfs: list[Path], embedder: ColEmbedder, capsys
) -> None:
    store = new_store(tmp_path / "db", embedder)
    with pytest.raises(ValueError, match="engine must be one of local, ray, got 'spark'"):
        index_pdfs([], store, embedder, engine="spark")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_actors must be at least 1, got 0"):
        RayOptions(num_actors=0)
    with pytest.raises(ValueError, match="gpus_per_actor must be >= 0"):
        RayOptions(gpus_per_actor=-1)
    assert main(["index", str(pdfs[0]), "--db", str(tmp_path / "other"), "--ray-actors", "2"]) == 2
    assert capsys.readouterr().err.strip() == "colret index: error: --ray-actors needs --ray"
    assert not (tmp_path / "other").exists()
