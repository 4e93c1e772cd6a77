"""Indexes on object storage: a real S3-compatible server (moto's server mode on 127.0.0.1) for index,
grounded query, delete and reopen, and two reader processes that query while another process ingests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from llama_index_colret.embed.embedder import ColEmbedder
from llama_index_colret.errors import EmptyIndexError
from llama_index_colret.llamaindex.index import ColRetIndex
from llama_index_colret.pipeline import index_pdfs
from llama_index_colret.store.lance import PageStore
from llama_index_colret.testing.pdfgen import PageSpec, make_pdf, sample_paragraphs

ROOT = Path(__file__).resolve().parent.parent
N_READERS = 2


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Four generated PDFs of 1-3 pages; ``pages`` maps file name -> page count."""
    root = tmp_path_factory.mktemp("s3-pdfs")
    paths, pages = [], {}
    for i, n in enumerate((2, 3, 1, 2)):
        path = root / f"part{i}.pdf"
        make_pdf(path, [PageSpec(paragraphs=sample_paragraphs(2, seed=40 + 7 * i + p)) for p in range(n)])
        paths.append(path)
        pages[path.name] = n
    return {"paths": paths, "pages": pages}


def test_index_grounded_query_delete_reopen_on_s3(
    s3_server: Any, corpus: dict, tiny_model_dir: Callable[[str], Path]
) -> None:
    uri = s3_server.new_bucket("colret-roundtrip") + "/deep/prefix/index"
    options = s3_server.storage_options
    with pytest.raises(EmptyIndexError, match="colret-roundtrip"):
        PageStore.open(uri, storage_options=options)
    model = tiny_model_dir("colqwen2")
    paths = corpus["paths"][:2]
    index = ColRetIndex.from_pdfs(paths, model, uri=uri, storage_options=options, show_progress=False)
    assert [o.status for o in index.last_report.outcomes] == ["added", "added"]
    assert PageStore.exists(uri, options) and index.store.count() == 5

    nodes = index.as_retriever(top_k_pages=5, top_k_regions=4).retrieve("the harbour wall")
    assert nodes and all(n.node.metadata["file_name"] in corpus["pages"] for n in nodes)
    for n in nodes:
        x0, y0, x1, y1 = n.node.metadata["bbox"]
        assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1 and n.node.metadata["page_number"] >= 1

    gone = index.documents()[0]
    assert index.delete_document(gone.doc_id) == gone.n_pages
    reopened = ColRetIndex.load(uri, storage_options=options)  # a new connection reads what is on S3
    assert reopened.store.model_name == str(model)
    assert [d.doc_id for d in reopened.documents()] == [d.doc_id for d in index.documents()]
    assert reopened.store.count() == 5 - gone.n_pages
    nodes = reopened.as_retriever(top_k_pages=5).retrieve("the harbour wall")
    assert nodes and {n.node.ref_doc_id for n in nodes} == {d.doc_id for d in reopened.documents()}


def test_the_aws_environment_reaches_the_bucket(
    s3_server: Any, corpus: dict, tiny_model_dir: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = s3_server.new_bucket("colret-env") + "/index"
    for key, value in s3_server.environment.items():
        monkeypatch.setenv(key, value)
    embedder = ColEmbedder.from_pretrained(tiny_model_dir("colqwen2"))
    store = PageStore.create(uri, model_name=embedder.model_name, dim=embedder.dim)
    report = index_pdfs(corpus["paths"][2:3], store, embedder, show_progress=False)
    assert report.n_pages_added == 1
    for key in s3_server.environment:
        monkeypatch.delenv(key)
    assert PageStore.open(uri, storage_options=s3_server.storage_options).count() == 1


READER = """
import sys
from tests.test_scale_s3 import read_while_ingesting
read_while_ingesting(*sys.argv[1:])
"""


def read_while_ingesting(uri: str, model_dir: str, pages_json: str, progress: str, out: str) -> None:
    """A reader process (credentials from the AWS_* environment): opens the index once, then repeatedly lists
    the documents and searches every page, recording any partial document or error, and how many documents it
    has seen in ``progress``, until it has seen them all (or 120 s pass)."""
    from llama_index_colret.search.exact import ExactSearcher

    pages = json.loads(pages_json)
    store = PageStore.open(uri)
    query = ColEmbedder.from_pretrained(model_dir).embed_queries(["the harbour wall"])[0]
    searcher = ExactSearcher(store)
    seen: list[int] = []
    problems: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not seen or seen[-1] < len(pages)):
        try:
            docs = store.documents()
            problems += [f"{d.file_name}: {d.n_pages} pages" for d in docs if d.n_pages != pages[d.file_name]]
            hits = searcher.search(query, k=100) if docs else []  # an empty index is an error to search
            per_doc: dict[str, int] = {}
            for h in hits:
                per_doc[h.file_name] = per_doc.get(h.file_name, 0) + 1
            problems += [f"search: {name} {n} pages" for name, n in per_doc.items() if n != pages[name]]
        except Exception as exc:  # noqa: BLE001  every failure is recorded for the test to show
            problems.append(repr(exc))
            continue
        seen.append(len(docs))
        Path(progress + ".tmp").write_text(str(len(docs)))
        os.replace(progress + ".tmp", progress)
    Path(out).write_text(json.dumps({"seen": seen, "problems": problems}))


def test_two_readers_see_whole_documents_and_new_versions_while_another_process_ingests(
    s3_server: Any, corpus: dict, tiny_model_dir: Callable[[str], Path], tmp_path: Path
) -> None:
    uri = s3_server.new_bucket("colret-readers") + "/index"
    model = tiny_model_dir("colqwen2")
    embedder = ColEmbedder.from_pretrained(model)
    store = PageStore.create(
        uri, model_name=embedder.model_name, dim=embedder.dim, storage_options=s3_server.storage_options
    )
    env = {**os.environ, **s3_server.environment, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    progress = [tmp_path / f"progress{i}" for i in range(N_READERS)]
    results = [tmp_path / f"reader{i}.json" for i in range(N_READERS)]
    pages = json.dumps(corpus["pages"])
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, uri, str(model), pages, str(progress[i]), str(results[i])],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(N_READERS)
    ]

    def wait_for_readers(path: Path) -> dict[str, Any]:
        """Metadata hook, called before each write: wait until every reader has seen every document written
        so far (so each reader must pick up each new version without reopening)."""
        written = len(store.documents())
        deadline = time.monotonic() + 120
        while not all(p.exists() and int(p.read_text()) == written for p in progress):
            if time.monotonic() > deadline or any(r.poll() is not None for r in readers):
                dead = [r.stderr.read()[-2000:] for r in readers if r.poll() is not None]
                raise AssertionError(f"readers did not all see {written} documents: {dead}")
            time.sleep(0.05)
        return {"part": path.stem}

    try:
        report = index_pdfs(corpus["paths"], store, embedder, metadata=wait_for_readers, show_progress=False)
        assert len(report.added) == len(corpus["paths"])
        for reader in readers:
            reader.wait(timeout=180)
    finally:
        for reader in readers:
            reader.kill()
    for reader, result in zip(readers, results, strict=True):
        assert reader.returncode == 0, reader.stderr.read()[-3000:]
        observed = json.loads(result.read_text())
        assert observed["problems"] == []
        assert set(observed["seen"]) == set(range(len(corpus["paths"]) + 1))  # every version, in one process
        assert observed["seen"] == sorted(observed["seen"])
