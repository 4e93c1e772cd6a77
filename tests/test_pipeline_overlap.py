"""The pipeline prepares document i+1 while document i is embedded, and leaves no thread behind."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from PIL import Image

from llama_index_colret.embed.embedder import ColEmbedder
from llama_index_colret.embed.types import PageEmbedding
from llama_index_colret.errors import PDFError
from llama_index_colret.pipeline import file_hash, index_pdfs, pdf_paths
from llama_index_colret.store.lance import PageStore
from llama_index_colret.testing.pdfgen import PageSpec, make_pdf, sample_paragraphs


class WatchedStore(PageStore):
    """A real store that signals when the preparing thread looks up a given content hash."""

    watched: str = ""
    looked_up: threading.Event

    def has_document(self, content_hash: str) -> str | None:
        if content_hash == self.watched:
            self.looked_up.set()
        return super().has_document(content_hash)


class WaitingEmbedder:
    """Embeds with a real tiny model, but first waits (up to 30 s) for ``ready`` and records whether it came."""

    def __init__(self, inner: ColEmbedder, ready: threading.Event) -> None:
        self.inner, self.ready, self.saw_ready = inner, ready, []
        self.model_name, self.dim = inner.model_name, inner.dim

    def embed_pages(self, images: Sequence[Image.Image], show_progress: bool = False) -> list[PageEmbedding]:
        self.saw_ready.append(self.ready.wait(timeout=30))
        return self.inner.embed_pages(images)

    def embed_queries(self, texts: Sequence[str]) -> list:
        return self.inner.embed_queries(texts)


def _pdfs(root: Path, n: int) -> list[Path]:
    paths = [root / f"doc{i}.pdf" for i in range(n)]
    for i, p in enumerate(paths):
        make_pdf(p, [PageSpec(paragraphs=sample_paragraphs(2, seed=i))])
    return paths


def test_next_document_is_prepared_while_the_current_one_is_embedded(
    tmp_path: Path, tiny_model_dir: Callable[[str], Path]
) -> None:
    first, second = _pdfs(tmp_path, 2)
    embedder = ColEmbedder.from_pretrained(tiny_model_dir("colqwen2"))
    store = WatchedStore.create(tmp_path / "db", model_name=embedder.model_name, dim=embedder.dim)
    store.watched, store.looked_up = file_hash(second), threading.Event()
    waiting = WaitingEmbedder(embedder, store.looked_up)
    report = index_pdfs([first, second], store, waiting, show_progress=False)
    assert [o.status for o in report.outcomes] == ["added", "added"]
    assert waiting.saw_ready[0], "the second document's preparation had not started while the first was embedded"


class Crashing(WaitingEmbedder):
    def embed_pages(self, images: Sequence[Image.Image], show_progress: bool = False) -> list[PageEmbedding]:
        raise RuntimeError("simulated crash")


def test_no_preparing_thread_outlives_a_crash(tmp_path: Path, tiny_model_dir: Callable[[str], Path]) -> None:
    embedder = ColEmbedder.from_pretrained(tiny_model_dir("colqwen2"))
    store = PageStore.create(tmp_path / "db", model_name=embedder.model_name, dim=embedder.dim)
    with pytest.raises(RuntimeError, match="simulated crash"):
        index_pdfs(_pdfs(tmp_path, 3), store, Crashing(embedder, threading.Event()), show_progress=False)
    assert not [t.name for t in threading.enumerate() if t.name.startswith("colret-prepare")]
    assert store.count() == 0


def test_pdf_paths_expands_folders_and_names_a_missing_path(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    make_pdf(tmp_path / "sub" / "b.PDF", [PageSpec(paragraphs=["b"])])
    make_pdf(tmp_path / "a.pdf", [PageSpec(paragraphs=["a"])])
    (tmp_path / "notes.txt").write_text("not a pdf")
    assert pdf_paths(tmp_path) == [tmp_path / "a.pdf", tmp_path / "sub" / "b.PDF"]
    assert pdf_paths([tmp_path / "notes.txt", str(tmp_path / "a.pdf")]) == [tmp_path / "notes.txt", tmp_path / "a.pdf"]
    with pytest.raises(PDFError, match="missing.pdf: no such file or folder"):
        pdf_paths([tmp_path / "a.pdf", tmp_path / "missing.pdf"])
