"""Indexing pipeline end to end: generated PDFs, tiny real ColQwen2 / ColPali models, a real LanceDB."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from llama_index_colret.embed.embedder import ColEmbedder
from llama_index_colret.embed.types import PageEmbedding
from llama_index_colret.errors import IndexMismatchError
from llama_index_colret.pipeline import file_hash, index_pdfs
from llama_index_colret.search.exact import ExactSearcher
from llama_index_colret.search.maxsim import maxsim
from llama_index_colret.store.lance import PageStore
from llama_index_colret.testing.pdfgen import PageSpec, make_pdf, sample_paragraphs

FAMILIES = ("colqwen2", "colpali")


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Four small generated PDFs (1-3 pages) and a corrupt one."""
    root = tmp_path_factory.mktemp("pdfs")
    out = {}
    for i, n_pages in enumerate((2, 1, 3, 2)):
        specs = [PageSpec(paragraphs=sample_paragraphs(2, seed=10 * i + p)) for p in range(n_pages)]
        out[f"doc{i}"] = root / f"doc{i}.pdf"
        make_pdf(out[f"doc{i}"], specs)
    out["corrupt"] = root / "corrupt.pdf"
    out["corrupt"].write_bytes(b"%PDF-1.4\nthis is not really a pdf\n%%EOF\n")
    return out


@pytest.fixture(scope="module")
def embedders(tiny_model_dir: Callable[[str], Path]) -> dict[str, ColEmbedder]:
    return {family: ColEmbedder.from_pretrained(tiny_model_dir(family)) for family in FAMILIES}


def new_store(tmp_path: Path, embedder: ColEmbedder) -> PageStore:
    return PageStore.create(tmp_path / "db", model_name=embedder.model_name, dim=embedder.dim)


def reference_scores(embedder: ColEmbedder, query: str, images: Sequence[Image.Image]) -> np.ndarray:
    """`processor.score_retrieval` on the model's own outputs, one image per forward pass (no padding)."""
    proc, model = embedder.processor, embedder.model
    with torch.inference_mode():
        q = model(**_inputs(proc.process_queries([query]))).embeddings  # (1, n_q, dim)
        pages = [model(**_inputs(proc.process_images([im]))).embeddings[0] for im in images]  # each (n_v, dim)
    return proc.score_retrieval(list(q), pages).float().numpy()[0]  # (n_pages,)


def _inputs(batch: Any) -> dict[str, torch.Tensor]:
    return {k: v for k, v in batch.items() if k not in ("labels", "token_type_ids")}


@pytest.mark.parametrize("family", FAMILIES)
def test_index_query_delete_reopen_round_trip(tmp_path: Path, pdfs: dict, embedders: dict, family: str) -> None:
    embedder = embedders[family]
    store = new_store(tmp_path, embedder)
    files = [pdfs["doc0"], pdfs["corrupt"], pdfs["doc1"], pdfs["doc2"]]
    report = index_pdfs(files, store, embedder, show_progress=False, metadata=lambda p: {"name": p.stem})
    assert [o.status for o in report.outcomes] == ["added", "failed", "added", "added"]
    assert "corrupt.pdf" in report.failed[0].error
    assert report.n_pages_added == store.count() == 6
    assert report.summary() == "3 document(s) added (6 pages), 0 already indexed, 1 failed"

    again = index_pdfs(files, store, embedder, show_progress=False)
    assert [o.status for o in again.outcomes] == ["duplicate", "failed", "duplicate", "duplicate"]
    assert store.count() == 6

    # the stored pages equal a fresh embedding of the stored images (and of the PDF rendered again)
    doc2 = store.has_document(file_hash(pdfs["doc2"]))
    rec = store.get_page(doc2, 3)
    assert rec.metadata == {"name": "doc2"} and rec.file_name == "doc2.pdf" and rec.text
    fresh = embedder.embed_pages([rec.image()])[0]
    np.testing.assert_allclose(rec.vectors.astype(np.float32), fresh.vectors, atol=2e-3)
    assert rec.grid == fresh.grid
    np.testing.assert_array_equal(rec.patch_positions, fresh.patch_positions)

    query = embedder.embed_queries(["tide walls of the lower town"])[0]
    hits = ExactSearcher(store).search(query, k=10)
    assert len(hits) == 6
    reopened = PageStore.open(tmp_path / "db")  # the model defaults to the recorded one
    assert reopened.model_name == embedder.model_name
    again_hits = ExactSearcher(reopened).search(query, k=10)
    assert [(h.doc_id, h.page_number, h.score) for h in again_hits] == [
        (h.doc_id, h.page_number, h.score) for h in hits
    ]
    filtered = ExactSearcher(reopened).search(query, k=10, filters={"name": "doc2"})
    assert [(h.doc_id, h.page_number) for h in filtered] == [
        (h.doc_id, h.page_number) for h in hits if h.doc_id == doc2
    ]

    assert reopened.delete(doc2) == 3
    assert {h.doc_id for h in ExactSearcher(reopened).search(query, k=10)} == {h.doc_id for h in hits} - {doc2}


@pytest.mark.parametrize("family", FAMILIES)
def test_scores_equal_score_retrieval_and_brute_force(tmp_path: Path, pdfs: dict, embedders: dict, family: str) -> None:
    embedder = embedders[family]
    store = new_store(tmp_path, embedder)
    index_pdfs([pdfs["doc0"], pdfs["doc3"]], store, embedder, show_progress=False)
    text = "the harbour and the lower town"
    query = embedder.embed_queries([text])[0]
    hits = ExactSearcher(store).search(query, k=100)
    records = store.get_pages([(h.doc_id, h.page_number) for h in hits])
    ref = reference_scores(embedder, text, [r.image() for r in records])
    brute = [maxsim(query.vectors, r.vectors.astype(np.float32)) for r in records]
    scores = np.array([h.score for h in hits])
    n_q = query.vectors.shape[0]
    np.testing.assert_allclose(scores, brute, atol=1e-4)  # the search is exact over what is stored
    np.testing.assert_allclose(scores, ref, atol=1e-3)  # float16 storage stays within 1e-3 of the model's scores
    assert [h.normalized_score for h in hits] == pytest.approx(list(scores / n_q))
    assert np.all(np.diff(ref) <= 2e-3), "hits are in the reference's order (up to float16 ties)"
    print(f"{family}: max |ours - score_retrieval| = {np.abs(scores - ref).max():.2e} over {n_q} query vectors")


class CrashingEmbedder:
    """Wraps an embedder and raises ``error`` on its ``crash_at``-th call (1-based)."""

    def __init__(self, inner: ColEmbedder, crash_at: int, error: type[BaseException] = RuntimeError) -> None:
        self.inner, self.crash_at, self.calls, self.error = inner, crash_at, 0, error
        self.model_name, self.dim = inner.model_name, inner.dim

    def embed_pages(self, images: Sequence[Image.Image], show_progress: bool = False) -> list[PageEmbedding]:
        self.calls += 1
        if self.calls == self.crash_at:
            raise self.error("simulated crash")
        return self.inner.embed_pages(images)

    def embed_queries(self, texts: Sequence[str]) -> list:
        return self.inner.embed_queries(texts)


def test_crash_leaves_whole_documents_and_resume_adds_the_rest(tmp_path: Path, pdfs: dict, embedders: dict) -> None:
    embedder = embedders["colqwen2"]
    store = new_store(tmp_path, embedder)
    files = [pdfs[f"doc{i}"] for i in range(4)]  # 2, 1, 3, 2 pages
    # batches of 2 pages: doc0, doc1, doc2 (1st batch) -> interrupted (only an interrupt stops a batch now)
    crashing = CrashingEmbedder(embedder, crash_at=4, error=KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt, match="simulated crash"):
        index_pdfs(files, store, crashing, show_progress=False, batch_pages=2)
    assert {d.file_name: d.n_pages for d in store.documents()} == {"doc0.pdf": 2, "doc1.pdf": 1}
    resumed = index_pdfs(files, store, embedder, show_progress=False, batch_pages=2)
    assert [o.status for o in resumed.outcomes] == ["duplicate", "duplicate", "added", "added"]
    assert {d.file_name: d.n_pages for d in store.documents()} == {
        "doc0.pdf": 2,
        "doc1.pdf": 1,
        "doc2.pdf": 3,
        "doc3.pdf": 2,
    }


def test_a_bug_like_error_fails_its_document_only(tmp_path: Path, pdfs: dict, embedders: dict) -> None:
    embedder = embedders["colqwen2"]
    store = new_store(tmp_path, embedder)
    files = [pdfs[f"doc{i}"] for i in range(4)]  # 2, 1, 3, 2 pages; call 4 is doc2's first batch
    report = index_pdfs(files, store, CrashingEmbedder(embedder, crash_at=4), show_progress=False, batch_pages=2)
    assert [o.status for o in report.outcomes] == ["added", "added", "failed", "added"]
    assert report.failed[0].describe() == f"{pdfs['doc2']}: RuntimeError: simulated crash"
    assert {d.file_name: d.n_pages for d in store.documents()} == {"doc0.pdf": 2, "doc1.pdf": 1, "doc3.pdf": 2}
    assert [t for t in store._connection().list_tables().tables if t.startswith("_stage_")] == []


def test_a_permission_error_outside_the_store_fails_its_document_only(
    tmp_path: Path, pdfs: dict, embedders: dict
) -> None:
    """EACCES from the caller's metadata function is that file's failure, not a disk that stops the batch."""
    embedder = embedders["colqwen2"]
    store = new_store(tmp_path, embedder)

    def metadata(path: Path) -> dict[str, str]:
        if path.stem == "doc1":
            raise PermissionError(13, "Permission denied", str(path.with_suffix(".json")))
        return {"name": path.stem}

    files = [pdfs["doc0"], pdfs["doc1"], pdfs["doc3"]]
    report = index_pdfs(files, store, embedder, show_progress=False, metadata=metadata)
    assert [o.status for o in report.outcomes] == ["added", "failed", "added"]
    assert "metadata: PermissionError" in report.failed[0].describe()
    assert sorted(d.file_name for d in store.documents()) == ["doc0.pdf", "doc3.pdf"]


def test_same_file_twice_in_one_run_and_missing_file(tmp_path: Path, pdfs: dict, embedders: dict) -> None:
    embedder = embedders["colpali"]
    store = new_store(tmp_path, embedder)
    copy = tmp_path / "copy-of-doc1.pdf"
    shutil.copy(pdfs["doc1"], copy)
    report = index_pdfs([pdfs["doc1"], copy, tmp_path / "missing.pdf"], store, embedder, show_progress=False)
    assert [o.status for o in report.outcomes] == ["added", "duplicate", "failed"]
    assert report.outcomes[1].doc_id == report.outcomes[0].doc_id
    assert "missing.pdf" in report.outcomes[2].path
    assert store.count() == 1


def test_embedder_of_another_model_is_refused(tmp_path: Path, pdfs: dict, embedders: dict) -> None:
    store = new_store(tmp_path, embedders["colqwen2"])
    with pytest.raises(IndexMismatchError, match="colpali"):
        index_pdfs([pdfs["doc0"]], store, embedders["colpali"], show_progress=False)
