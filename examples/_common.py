"""Shared bits of the examples: the --model / --llm / --db options and an LLM or MockLLM."""

from __future__ import annotations

import argparse
import os
from typing import Any

from llama_index_colret.cli.ask import llm_from_spec
from llama_index_colret.embed import DEFAULT_MODEL


def add_options(parser: argparse.ArgumentParser) -> None:
    """--pdf, --model, --db, --llm, --top-k."""
    parser.add_argument("--pdf", default="sample.pdf", help="PDF file or folder to index (default: sample.pdf)")
    parser.add_argument(
        "--model",
        default=os.environ.get("COLRET_MODEL", DEFAULT_MODEL),
        help=f"model name or local folder (default: $COLRET_MODEL, else {DEFAULT_MODEL})",
    )
    parser.add_argument("--db", default="./colret_index", help="index directory (default: ./colret_index)")
    parser.add_argument("--llm", default=None, help="LLM spec: openai:MODEL, ollama:MODEL (default: $COLRET_LLM)")
    parser.add_argument("--top-k", type=int, default=3, help="pages to retrieve (default: 3)")


def llm_or_mock(spec: str | None) -> tuple[Any, bool]:
    """The LLM named by ``spec`` (or $COLRET_LLM), else LlamaIndex's MockLLM; returns (llm, is_mock)."""
    llm = llm_from_spec(spec if spec is not None else os.environ.get("COLRET_LLM", ""))
    if llm is not None:
        return llm, False
    from llama_index.core.llms import MockLLM

    print("no --llm given: using LlamaIndex's MockLLM, which echoes its prompt instead of answering")
    return MockLLM(), True
