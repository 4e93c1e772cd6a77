"""Writers racing on one index (real processes, real LanceDB): every document exactly once, readers never see
a partial document or a KeyError, and a killed writer resumes from its last staged chunk."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from llama_index_colret.search.exact import ExactSearcher
from llama_index_colret.store.lance import PageStore
from llama_index_colret.store.staging import DocumentWriter
from llama_index_colret.testing.pdfgen import PageSpec, make_pdf, sample_paragraphs

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}

CLI = "import sys; from llama_index_colret.cli import main; sys.exit(main())"

# A writer adding synthetic 3-page documents in 1-page chunks, fast, until killed.
WRITER = """
import sys, numpy as np
from llama_index_colret.embed.types import PageEmbedding
from llama_index_colret.geometry import PatchGrid
from llama_index_colret.ingest.page import Page
from llama_index_colret.store.lance import PageStore
store = PageStore.open(sys.argv[1])
grid = PatchGrid(2, 2)
rng = np.random.default_rng(0)
for d in range(10_000):
    writer = store.begin_document(content_hash=f"{d:016x}" + "0" * 48, file_name=f"d{d}.pdf", path="/d.pdf", n_pages=3,
                                  metadata={"kind": "a" if d % 2 else "b"})
    for n in (1, 2, 3):
        v = rng.standard_normal((4, store.dim)); v /= np.linalg.norm(v, axis=1, keepdims=True)
        page = Page(f"/d{d}.pdf", n, 612.0, 792.0)
        writer.write_chunk([page], [PageEmbedding(v, np.arange(4), grid)], [bytes.fromhex(sys.argv[2])])
    store.finish_document(writer)
    print(d, flush=True)
"""


def _png() -> bytes:
    from PIL import Image

    from llama_index_colret.store.rows import encode_png

    return encode_png(Image.new("RGB", (8, 8), "white"))[0]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six one- or two-page PDFs."""
    root = tmp_path_factory.mktemp("race-pdfs")
    for i in range(6):
        make_pdf(
            root / f"doc{i}.pdf", [PageSpec(paragraphs=sample_paragraphs(1, seed=10 * i + p)) for p in range(1 + i % 2)]
        )
    return root


def test_two_colret_index_runs_started_together_store_each_document_once(
    tmp_path: Path, folder: Path, tiny_model_dir: Callable[[str], Path]
) -> None:
    model = str(tiny_model_dir("colqwen2"))
    for rep in range(2):
        db = tmp_path / f"db{rep}"
        cmd = [sys.executable, "-c", CLI, "index", str(folder), "--db", str(db), "--model", model,
               "--no-progress", "--dpi", "50"]  # fmt: skip
        runs = [subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in "ab"]
        results = [(p.wait(timeout=300), *p.communicate()) for p in runs]
        for code, _out, err in results:
            assert code == 0, err
            assert "Traceback" not in err and "holds another file" not in err
        store = PageStore.open(db)
        doc_ids, numbers = store.page_keys()
        keys = Counter(zip(doc_ids, numbers.tolist(), strict=True))
        assert max(keys.values()) == 1, "a page is stored twice"
        assert sorted(d.file_name for d in store.documents()) == [f"doc{i}.pdf" for i in range(6)]
        assert store.count() == 9
        assert not [t for t in store._connection().list_tables().tables if t.startswith("_stage_")]


def test_filtered_search_while_a_writer_adds_documents(tmp_path: Path) -> None:
    db = tmp_path / "db"
    store = PageStore.create(db, model_name="synthetic", dim=16)
    cmd = [sys.executable, "-c", WRITER, str(db), _png().hex()]
    writer = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "0"  # the writer is running
        searcher, rng = ExactSearcher(store), np.random.default_rng(1)
        queries, deadline = 0, time.monotonic() + 8
        while time.monotonic() < deadline:
            q = rng.standard_normal((3, 16))
            hits = searcher.search(q, k=10_000, filters={"kind": "a"})
            pages_per_doc = Counter(h.doc_id for h in hits)
            assert set(pages_per_doc.values()) <= {3}, f"a partial document is visible: {pages_per_doc}"
            queries += 1
        assert writer.poll() is None, "the writer stopped early"
    finally:
        writer.kill()
        writer.wait()
    assert queries >= 5 and store.count() >= 6
    print(f"{queries} filtered queries while the writer ran, {store.count()} pages at the end, zero errors")


def test_a_stage_left_after_publishing_is_dropped_by_optimize_and_not_restaged(tmp_path: Path) -> None:
    from llama_index_colret.embed.types import PageEmbedding
    from llama_index_colret.geometry import PatchGrid
    from llama_index_colret.ingest.page import Page

    store = PageStore.create(tmp_path / "db", model_name="synthetic", dim=4)
    writer = store.begin_document(content_hash="ab" * 32, file_name="a.pdf", path="/a.pdf", n_pages=1)
    assert writer is not None and not isinstance(writer, str)
    emb = PageEmbedding(np.eye(4), np.arange(4), PatchGrid(2, 2))
    writer.write_chunk([Page("/a.pdf", 1, 612.0, 792.0)], [emb], [_png()])
    writer._append_staged()  # published, then "killed" before dropping its stage
    writer.release()
    stages = [t for t in store._connection().list_tables().tables if t.startswith("_stage_")]
    assert len(stages) == 1 and store.count() == 1
    again = store.begin_document(content_hash="ab" * 32, file_name="a.pdf", path="/a.pdf", n_pages=1)
    assert again == "abababababababab"  # stored: never staged again
    store.optimize()
    assert not [t for t in store._connection().list_tables().tables if t.startswith("_stage_")]
    assert store.count() == 1


def _one_page_writer(store: PageStore, content_hash: str) -> DocumentWriter:
    """Claim a one-page document in ``store`` and stage its page (a writer ready to publish)."""
    from llama_index_colret.embed.types import PageEmbedding
    from llama_index_colret.geometry import PatchGrid
    from llama_index_colret.ingest.page import Page

    writer = store.begin_document(content_hash=content_hash, file_name="a.pdf", path="/a.pdf", n_pages=1)
    assert isinstance(writer, DocumentWriter)
    emb = PageEmbedding(np.eye(4), np.arange(4), PatchGrid(2, 2))
    writer.write_chunk([Page("/a.pdf", 1, 612.0, 792.0)], [emb], [_png()])
    return writer


def test_a_claim_made_after_the_other_writer_published_reports_the_stored_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writer B checks ``pages`` (not there), writer A then publishes and drops its stage, then B claims the free
    stage name: B must report A's document, not "doc_id already holds another file", and stage nothing."""
    content_hash = "cd" * 32
    store_a = PageStore.create(tmp_path / "db", model_name="synthetic", dim=4)
    store_b = PageStore.open(tmp_path / "db")
    writer_a = _one_page_writer(store_a, content_hash)
    first_check = store_b.has_document

    def check_then_a_publishes(h: str) -> str | None:
        """B's first look at ``pages``, after which A publishes (the interleaving of the race)."""
        monkeypatch.setattr(store_b, "has_document", first_check)
        found = first_check(h)
        assert store_a.finish_document(writer_a) == content_hash[:16]
        return found

    monkeypatch.setattr(store_b, "has_document", check_then_a_publishes)
    claim = store_b.begin_document(content_hash=content_hash, file_name="a.pdf", path="/a.pdf", n_pages=1)
    assert claim == "cdcdcdcdcdcdcdcd"
    assert store_b.count() == 1
    assert not [t for t in store_b._connection().list_tables().tables if t.startswith("_stage_")]


def test_a_claim_while_the_owner_publishes_is_busy_then_the_document_is_stored_once(tmp_path: Path) -> None:
    """B looks while A's rows are committed but its stage is not yet dropped: B must not take the stage over
    (it reports the stored document), and A's publish still succeeds with every page once."""
    content_hash = "ef" * 32
    store_a = PageStore.create(tmp_path / "db", model_name="synthetic", dim=4)
    store_b = PageStore.open(tmp_path / "db")
    writer_a = _one_page_writer(store_a, content_hash)
    writer_a._append_staged()  # A's add is committed, its stage still exists
    claim = store_b.begin_document(content_hash=content_hash, file_name="a.pdf", path="/a.pdf", n_pages=1)
    assert claim == "efefefefefefefef"
    stages = [t for t in store_b._connection().list_tables().tables if t.startswith("_stage_")]
    assert stages == [f"_stage_{content_hash}_0"]
    writer_a.abort()
    assert store_a.count() == 1
