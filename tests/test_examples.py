"""Every example runs (its `main(argv)`, loaded with runpy: no interpreter start-up per example) against a tiny
offline model folder, with no LLM configured, and prints what it promises."""

from __future__ import annotations

import contextlib
import io
import os
import re
import runpy
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from llama_index_colret.store.lance import PageStore

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@contextlib.contextmanager
def _chdir(path: Path) -> Iterator[None]:
    """``contextlib.chdir`` for Python 3.10."""
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def run_example(name: str, *args: str, cwd: Path) -> str:
    """Run ``examples/<name>``'s ``main(args)`` in ``cwd``, offline and without an LLM configured; return stdout."""
    main = runpy.run_path(str(EXAMPLES / name))["main"]
    saved_env = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "COLRET_LLM")}
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.pop("COLRET_LLM", None)
    buf = io.StringIO()
    try:
        with _chdir(cwd), contextlib.redirect_stdout(buf):
            assert main(list(args)) == 0, f"{name} failed:\n{buf.getvalue()}"
    finally:
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return buf.getvalue()


@pytest.fixture(scope="module")
def workdir(tiny_model_dir, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A folder holding the sample PDF made by examples/make_sample_pdf.py, and the tiny model folder."""
    tmp = tmp_path_factory.mktemp("examples")
    out = run_example("make_sample_pdf.py", "sample.pdf", cwd=tmp)
    assert "wrote sample.pdf (3 pages)" in out
    return tmp, tiny_model_dir("colqwen2")


def citations(out: str) -> list[int]:
    """Page numbers of the printed citation lines."""
    return [int(p) for p in re.findall(r"^\s+\[\d+\] sample\.pdf page (\d+)", out, flags=re.MULTILINE)]


def test_quickstart_prints_citations_and_saves_a_page_sized_overlay(workdir: tuple[Path, Path]) -> None:
    tmp, model = workdir
    out = run_example("quickstart.py", "--model", str(model), "--db", "db_qs", "--overlay", "ov.png", cwd=tmp)
    assert "index at db_qs: 3 pages of 1 document(s)" in out
    assert "MockLLM" in out  # says that the answer is not a real one
    pages = citations(out)
    assert pages and set(pages) <= {1, 2, 3}
    store = PageStore.open(tmp / "db_qs")
    top = int(re.search(r"\[1\] sample\.pdf page (\d+)", out).group(1))  # type: ignore[union-attr]
    assert top in {int(n) for n in store.page_keys()[1]}
    sizes = {
        (r.image_width, r.image_height)
        for r in store.get_pages([(d.doc_id, p) for d in store.documents() for p in (1, 2, 3)])
    }
    with Image.open(tmp / "ov.png") as img:
        assert img.size in sizes  # the overlay is exactly one stored page image


def test_query_engine_example(workdir: tuple[Path, Path]) -> None:
    tmp, model = workdir
    out = run_example("query_engine.py", "--model", str(model), "--db", "db_qe", cwd=tmp)
    assert "retriever (grounded regions):" in out and "retriever (whole pages):" in out
    page_lines = re.findall(r"^\s+[\d.]+\s+sample\.pdf page (\d)$", out, flags=re.MULTILINE)
    assert sorted(page_lines) == ["1", "2", "3"]  # the three pages, each once
    assert "Query: Which crop had the largest yield in 1850?" in out  # MockLLM echoed the prompt
    assert citations(out)


def test_agent_tool_example(workdir: tuple[Path, Path]) -> None:
    tmp, model = workdir
    out = run_example("agent_tool.py", "--model", str(model), "--db", "db_at", cwd=tmp)
    assert "tool 'search_pdfs'" in out and "MockLLM cannot call tools" in out
    snippets = re.findall(r"^\[(\d)\] sample\.pdf, p\. (\d)", out, flags=re.MULTILINE)
    assert [int(i) for i, _ in snippets] == list(range(1, len(snippets) + 1)) and snippets
