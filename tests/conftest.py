"""Shared pytest fixtures. Each helper appends its own fixtures below; keep them session-scoped when costly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from llama_index_colret.testing.tiny_models import build_tiny_model


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``tiny_model_dir(family) -> Path``: a tiny random checkpoint ("colqwen2", "colpali", "colmodernvbert"),
    built once per test session and loadable with ``ColEmbedder.from_pretrained``."""
    built: dict[str, Path] = {}

    def get(family: str) -> Path:
        if family not in built:
            built[family] = build_tiny_model(family, tmp_path_factory.mktemp(f"tiny-{family}"))
        return built[family]

    return get


@pytest.fixture(scope="session")
def rare_word_corpus(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two generated PDFs whose paragraphs each carry three made-up words found nowhere else (so a query of
    them has one right region), the second with a captioned bar chart. Returns ``{"paths", "truth",
    "queries": [(pdf index, page number, paragraph index, query)], "chart_labels"}`` (LlamaIndex layer tests)."""
    from llama_index_colret.testing.pdfgen import ChartSpec, PageSpec, make_pdf, sample_paragraphs

    syllables = ["zor", "qua", "vex", "lum", "bri", "tak", "nox", "pel", "dru", "fim"]
    words = iter(f"{syllables[i % 10]}{syllables[(i // 10) % 10]}ite" for i in range(100))
    root = tmp_path_factory.mktemp("rare-word-corpus")
    paths, truth, queries = [], [], []
    layouts = [[("letter", 1, 3), ("a4", 2, 4)], [("letter", 1, 2)]]
    for d, pages in enumerate(layouts):
        specs = []
        for p, (size, cols, n) in enumerate(pages):
            paras = sample_paragraphs(n, words_per_paragraph=30, seed=10 * d + p)
            for i in range(n):
                picks = [next(words) for _ in range(3)]
                tokens = paras[i].split()
                for k, w in enumerate(picks):
                    tokens.insert((k + 1) * len(tokens) // 4, w)
                paras[i] = " ".join(tokens)
                queries.append((d, p + 1, i, " ".join(picks)))
            chart = ChartSpec([3, 5, 2], ["plums", "pears", "figs"], caption="Figure 1: Orchard yield") if d else None
            specs.append(PageSpec(paragraphs=paras, columns=cols, page_size=size, font_size=10, chart=chart))
        path = root / f"doc{d}.pdf"
        truth.append(make_pdf(path, specs))
        paths.append(path)
    return {"paths": paths, "truth": truth, "queries": queries, "chart_labels": ["plums", "pears", "figs"]}
