"""Hostile inputs generated here (page-tree cycle, broken MediaBoxes, truncated file, flate bomb, blank pages:
1,000 through the OCR stage, 40 through the whole pipeline, a 100 x 100 inch page): every file is indexed or
reported in one line, the batch completes, memory stays bounded, blank pages never reach Tesseract, and a
writer killed with SIGKILL resumes from its last chunk."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from PIL import Image

from llama_index_colret.embed.embedder import ColEmbedder
from llama_index_colret.embed.types import PageEmbedding
from llama_index_colret.ingest.pdf import load_pdf
from llama_index_colret.ingest.pixels import MAX_PIXELS, is_blank, render_dpi
from llama_index_colret.ingest.render import iter_page_images
from llama_index_colret.pipeline import index_pdfs
from llama_index_colret.store.lance import PageStore
from llama_index_colret.store.retry import retry_conflicts
from llama_index_colret.testing.hostile import blank_pdf, write_hostile_set
from llama_index_colret.testing.pdfgen import PageSpec, make_pdf, sample_paragraphs

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
# The CLI, then its peak resident memory (ru_maxrss, KiB on Linux) on stderr.
CLI_RSS = (
    "import resource, sys\nfrom llama_index_colret.cli import main\ncode = main()\n"
    "print('maxrss_kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\nsys.exit(code)"
)
GiB_KIB = 1024**2


def test_a_hostile_batch_completes_with_one_line_per_bad_file_and_bounded_memory(
    tmp_path: Path, tiny_model_dir: Callable[[str], Path]
) -> None:
    files = write_hostile_set(tmp_path / "pdfs")
    db = tmp_path / "db"
    cmd = [sys.executable, "-c", CLI_RSS, "index", str(tmp_path / "pdfs"), "--db", str(db), "--dpi", "64",
           "--batch-size", "16", "--model", str(tiny_model_dir("colqwen2")), "--no-progress"]  # fmt: skip
    run = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=600)
    assert run.returncode == 1, run.stderr  # some documents failed, the others landed
    assert "Traceback" not in run.stderr
    failed = sorted(line for line in run.stderr.splitlines() if line.startswith("failed: "))
    assert [Path(line.split()[1].rstrip(":,")).stem for line in failed] == [
        "cycle", "huge-mediabox", "truncated", "zero-mediabox",
    ]  # fmt: skip
    assert "page 2: pdfium cannot load the page" in failed[0] and "MediaBox is broken" in failed[1]
    assert "5 document(s) added (44 pages), 0 already indexed, 4 failed" in run.stdout
    peak = int(re.search(r"maxrss_kib (\d+)", run.stderr).group(1))
    assert peak < 2 * GiB_KIB, f"peak RSS {peak / GiB_KIB:.2f} GiB"
    store = PageStore.open(db)
    poster = next(d for d in store.documents() if d.file_name == "poster-100in.pdf")
    page = store.get_page(poster.doc_id, 1)
    assert page.image_width * page.image_height <= MAX_PIXELS and page.dpi == 63  # 64 dpi capped to 63
    assert len(files) == 9


def test_render_caps_pixels_for_regions_model_and_stored_image(tmp_path: Path) -> None:
    path = write_hostile_set(tmp_path)["poster-100in"]
    (page,) = load_pdf(path, dpi=150, ocr="never")
    ((_, image),) = list(iter_page_images(path, [1], dpi=150))
    assert page.dpi == int(render_dpi(7200, 7200, 150)) == 63
    assert image.width * image.height <= MAX_PIXELS and image.width == image.height > 6000


def test_blank_pages_never_reach_tesseract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pytesseract

    path = tmp_path / "blank.pdf"
    path.write_bytes(blank_pdf(1000))
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", str(tmp_path / "no-tesseract-here"))
    pages = load_pdf(path, dpi=50, ocr="auto")  # no text layer: every page is an OCR candidate
    assert len(pages) == 1000 and all(p.regions == [] and p.error is None for p in pages)
    text = tmp_path / "text.pdf"
    make_pdf(text, [PageSpec(paragraphs=sample_paragraphs(1, seed=3))])
    assert "OCR failed" in (load_pdf(text, dpi=50, ocr="always")[0].error or "")  # Tesseract was called
    (_, rendered), *_ = iter_page_images(text, [1], 50)
    assert is_blank(Image.new("RGB", (50, 50), (250, 250, 250))) and not is_blank(rendered)


def test_commit_conflicts_are_retried_and_other_errors_are_not() -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("lance error: Retryable commit conflict for version 7: ...")
        return "done"

    assert retry_conflicts(flaky) == "done" and len(calls) == 3
    with pytest.raises(RuntimeError, match="disk full"):
        retry_conflicts(lambda: (_ for _ in ()).throw(RuntimeError("disk full")))


KILLER = """
import os, signal, sys
from llama_index_colret.embed.embedder import ColEmbedder
from llama_index_colret.pipeline import index_pdfs
from llama_index_colret.store.lance import PageStore
inner = ColEmbedder.from_pretrained(sys.argv[1])
class Killer:
    model_name, dim, calls = inner.model_name, inner.dim, 0
    def embed_pages(self, images, show_progress=False):
        Killer.calls += 1
        if Killer.calls == int(sys.argv[4]):
            os.kill(os.getpid(), signal.SIGKILL)
        return inner.embed_pages(images)
store = PageStore.create(sys.argv[2], model_name=inner.model_name, dim=inner.dim)
index_pdfs([sys.argv[3]], store, Killer(), show_progress=False, batch_pages=2, chunk_pages=2)
"""


class Counting:
    """A real embedder that counts the pages it embeds."""

    def __init__(self, inner: ColEmbedder) -> None:
        self.inner, self.pages = inner, 0
        self.model_name, self.dim = inner.model_name, inner.dim

    def embed_pages(self, images: Sequence[Image.Image], show_progress: bool = False) -> list[PageEmbedding]:
        self.pages += len(images)
        return self.inner.embed_pages(images)


def test_sigkill_near_the_end_resumes_from_the_last_chunk(
    tmp_path: Path, tiny_model_dir: Callable[[str], Path]
) -> None:
    model, db, pdf = tiny_model_dir("colqwen2"), tmp_path / "db", tmp_path / "long.pdf"
    make_pdf(pdf, [PageSpec(paragraphs=sample_paragraphs(1, seed=s)) for s in range(7)])
    # chunks of 2 pages, one model call each: the 4th call (pages 7) is killed with chunks 1-3 (6 pages) staged
    run = subprocess.run([sys.executable, "-c", KILLER, str(model), str(db), str(pdf), "4"], env=ENV, timeout=300)
    assert run.returncode == -9
    store = PageStore.open(db)
    assert store.count() == 0  # nothing of the document is visible to readers
    counting = Counting(ColEmbedder.from_pretrained(model))
    report = index_pdfs([pdf], store, counting, show_progress=False, batch_pages=2, chunk_pages=2)
    assert [o.status for o in report.outcomes] == ["added"] and report.n_pages_added == 7
    assert counting.pages == 1  # only the unfinished chunk was redone
    assert sorted(store.page_keys()[1].tolist()) == list(range(1, 8))
    assert not [t for t in store._connection().list_tables().tables if t.startswith("_stage_")]
