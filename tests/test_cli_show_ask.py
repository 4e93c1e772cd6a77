"""`colret show`, `colret ask` and `colret query --grounded` on a real index of the sample PDF (tiny ColQwen2)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import runpy
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from llama_index_colret.cli import build_parser, main
from llama_index_colret.cli.ask import HOW_TO_CONFIGURE, llm_from_spec
from llama_index_colret.embed.embedder import ColEmbedder
from llama_index_colret.errors import LLMConfigError
from llama_index_colret.grounded_search import search_grounded
from llama_index_colret.grounding import GroundingOptions
from llama_index_colret.pipeline import index_pdfs
from llama_index_colret.store.lance import PageStore

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
QUESTION = "wheat yield in 1860"


@pytest.fixture(scope="module")
def sample_db(tiny_model_dir, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the 3-page sample PDF built with the tiny ColQwen2 model."""
    tmp = tmp_path_factory.mktemp("cli-db")
    pdf = tmp / "sample.pdf"
    runpy.run_path(str(EXAMPLES / "make_sample_pdf.py"))["main"]([str(pdf)])
    embedder = ColEmbedder.from_pretrained(tiny_model_dir("colqwen2"), device="cpu")
    store = PageStore.create(tmp / "db", model_name=embedder.model_name, dim=embedder.dim)
    report = index_pdfs([pdf], store, embedder, show_progress=False)
    assert report.n_pages_added == 3
    return tmp / "db"


def reference(db: Path, top_k: int = 3, regions: int = 3):
    store = PageStore.open(db)
    embedder = ColEmbedder.from_pretrained(store.model_name, device="cpu")
    return search_grounded(store, embedder, QUESTION, top_k=top_k, options=GroundingOptions(top_k=regions))


def snippet_heads(hits, selection) -> list[str]:
    return [
        f"[{s.rank}] {hits[s.page_index].record.file_name} p.{hits[s.page_index].record.page_number} "
        f"[{', '.join(f'{v:.3f}' for v in s.region.bbox.as_list())}] {s.region.kind}"
        for s in selection.regions
    ]


def test_show_writes_the_top_pages_side_by_side(sample_db: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "why.png"
    assert main(["show", QUESTION, "--db", str(sample_db), "--out", str(out), "--pages", "2"]) == 0
    hits, selection = reference(sample_db)
    widths = [h.record.image_width for h in hits[:2]]
    heights = [h.record.image_height for h in hits[:2]]
    with Image.open(out) as img:
        assert img.width == sum(widths) + 16  # two pages and the gap
        assert img.height > max(heights)  # the page plus its title strip
        # the top page's best-relevance cell is tinted red by the heat map
        arr = np.asarray(img.convert("RGB")).astype(int)
    printed = capsys.readouterr().out
    for head in snippet_heads(hits, selection):
        assert head in printed
    rmap = hits[0].grounding.relevance_map  # (n_rows, n_cols)
    r, c = np.unravel_index(int(np.argmax(rmap)), rmap.shape)
    cell = hits[0].record.grid.cell_box(int(r), int(c))
    strip = img.height - heights[0]
    x = int((cell.x0 + cell.x1) / 2 * widths[0])
    y = strip + int((cell.y0 + cell.y1) / 2 * heights[0])
    assert arr[y, x, 0] > arr[y, x, 2]


def test_ask_without_llm_prints_snippets_and_how_to_configure(sample_db: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("COLRET_LLM", raising=False)
    assert main(["ask", QUESTION, "--db", str(sample_db)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(HOW_TO_CONFIGURE)
    hits, selection = reference(sample_db)
    heads = [line.split(",")[0] for line in snippet_heads(hits, selection)]
    lines = [ln for ln in printed.splitlines() if ln.startswith("[")]
    assert [ln.split(",")[0] for ln in lines] == heads


def test_ask_with_mock_llm_goes_through_the_query_engine(sample_db: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLRET_LLM", "mock")
    assert main(["ask", QUESTION, "--db", str(sample_db), "--regions", "2"]) == 0
    printed = capsys.readouterr().out
    answer, sources = printed.rsplit("\nSources:\n", 1)
    assert answer.startswith("Answer:") and QUESTION in answer  # MockLLM echoes the query engine's prompt
    hits, selection = reference(sample_db, regions=2)
    cited = [ln for ln in sources.splitlines() if ln.startswith("[")]
    assert len(cited) == selection.n_kept == 2
    for line, s in zip(cited, selection.regions, strict=True):
        rec = hits[s.page_index].record
        assert f"{rec.file_name}, p. {rec.page_number}, box (" in line and f"{s.region.kind}, score" in line
        if s.region.text:  # the region text reached the LLM's prompt
            assert " ".join(s.region.text.split())[:40] in " ".join(answer.split())


def test_ask_names_the_package_to_install(sample_db: Path, capsys) -> None:
    try:
        installed = importlib.util.find_spec("llama_index.llms.openai") is not None
    except ModuleNotFoundError:  # not even the llama_index.llms namespace
        installed = False
    if installed:
        pytest.skip("llama-index-llms-openai is installed here")
    assert main(["ask", QUESTION, "--db", str(sample_db), "--llm", "openai:gpt-4o-mini"]) == 2
    assert "pip install llama-index-llms-openai" in capsys.readouterr().err


def test_llm_specs() -> None:
    assert llm_from_spec("") is None and llm_from_spec("none") is None
    assert type(llm_from_spec("mock")).__name__ == "MockLLM"
    for bad in ("gpt-4o", "openai:", "anthropic:claude"):
        with pytest.raises(LLMConfigError, match="openai:MODEL, ollama:MODEL, mock, none"):
            llm_from_spec(bad)


def test_query_grounded_json_matches_grounded_search(sample_db: Path, capsys) -> None:
    assert main(["query", QUESTION, "--db", str(sample_db), "--top-k", "3", "--grounded", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    hits, selection = reference(sample_db)
    assert [h["page_number"] for h in data["hits"]] == [h.record.page_number for h in hits]
    got = sorted((r["rank"], h["page_number"], tuple(r["bbox"])) for h in data["hits"] for r in h["regions"])
    want = [(s.rank, hits[s.page_index].record.page_number, tuple(s.region.bbox.as_list())) for s in selection.regions]
    assert got == want
    for h in data["hits"]:
        for r in h["regions"]:
            assert {"text", "bbox", "kind", "region_relevance", "score"} <= set(r)


def test_every_option_has_help_and_commands_have_examples() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name in ("show", "ask"):
        p = sub.choices[name]
        assert p.description and "examples:" in (p.epilog or "")
        for action in p._actions:
            assert action.help, f"colret {name}: option {action.option_strings or action.dest} has no help"
