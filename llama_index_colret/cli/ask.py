"""`colret ask "QUESTION" --db DIR [--llm openai:gpt-4o-mini]`: answer from grounded region snippets, with citations.

The LLM is any LlamaIndex LLM, named by a spec ``provider:model`` (``--llm`` or the ``COLRET_LLM`` environment
variable). Integrations are imported lazily; a missing one is an `LLMConfigError` naming the package to install.
With no LLM configured, the grounded snippets are printed with a note on how to configure one.
"""

from __future__ import annotations

import argparse
import importlib
import os
from typing import Any

from ..errors import LLMConfigError
from .common import add_search_options, grounded_from_args, one_line, print_snippets, store_and_embedder

ENV_VAR = "COLRET_LLM"
# provider -> (module, class, pip package, keyword that takes the model name)
PROVIDERS: dict[str, tuple[str, str, str, str]] = {
    "openai": ("llama_index.llms.openai", "OpenAI", "llama-index-llms-openai", "model"),
    "ollama": ("llama_index.llms.ollama", "Ollama", "llama-index-llms-ollama", "model"),
}
HOW_TO_CONFIGURE = (
    "No LLM configured, so here are the grounded snippets only. To get an answer, pass --llm or set "
    f"{ENV_VAR}, e.g.\n"
    "  pip install llama-index-llms-openai && export OPENAI_API_KEY=...  then  --llm openai:gpt-4o-mini\n"
    "  pip install llama-index-llms-ollama && ollama pull llama3.1       then  --llm ollama:llama3.1"
)
EPILOG = f"""LLM specs (--llm, or the {ENV_VAR} environment variable):
  openai:MODEL   OpenAI through llama-index-llms-openai (needs OPENAI_API_KEY), e.g. openai:gpt-4o-mini
  ollama:MODEL   a local Ollama server through llama-index-llms-ollama, e.g. ollama:llama3.1
  mock           LlamaIndex's MockLLM, which echoes the prompt (for trying the pipeline offline)
  none           no LLM: print the grounded snippets only

examples:
  colret ask "What was the wheat yield in 1860?" --db ./colret_db
  colret ask "What was the wheat yield in 1860?" --db ./colret_db --llm openai:gpt-4o-mini
  COLRET_LLM=ollama:llama3.1 colret ask "Which crop grew most?" --db ./colret_db --regions 5
"""


def llm_from_spec(spec: str) -> Any | None:
    """A LlamaIndex LLM for ``provider:model`` (see `PROVIDERS`), ``mock``, or None for ``none`` / empty."""
    spec = spec.strip()
    if spec.lower() in ("", "none"):
        return None
    if spec.lower() == "mock":
        from llama_index.core.llms import MockLLM

        return MockLLM()
    provider, sep, model = spec.partition(":")
    provider = provider.strip().lower()
    if provider not in PROVIDERS or not sep or not model.strip():
        valid = ", ".join(f"{p}:MODEL" for p in PROVIDERS)
        raise LLMConfigError(f"LLM spec {spec!r} is not one of {valid}, mock, none")
    module_name, class_name, package, model_kw = PROVIDERS[provider]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise LLMConfigError(f"LLM spec {spec!r} needs the {package} package: pip install {package}  ({exc})") from exc
    try:
        return getattr(module, class_name)(**{model_kw: model.strip()})
    except (ValueError, TypeError) as exc:  # e.g. a bad model name or a missing API key
        raise LLMConfigError(f"cannot start LLM {spec!r}: {exc}") from exc


HELP = "answer a question with an LLM from grounded region snippets, citing file, page and box"
DESCRIPTION = (
    "Retrieve the best pages by exact MaxSim, ground the question onto their regions, and "
    "hand the selected snippets (with file, page and box) to the LLM; prints the answer and the cited "
    "regions. Without an LLM it prints the snippets and how to configure one."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of `colret ask`."""
    add_search_options(p)
    p.add_argument(
        "--llm",
        default=None,
        metavar="SPEC",
        help=f"LLM spec: openai:MODEL, ollama:MODEL, mock or none (default: ${ENV_VAR}, else none)",
    )


def run(args: argparse.Namespace) -> int:
    """Answer through `ColRetIndex.as_query_engine` (or list snippets when no LLM is configured) and print
    the cited regions; 0 on success."""
    spec = args.llm if args.llm is not None else os.environ.get(ENV_VAR, "")
    llm = llm_from_spec(spec)  # fail on a bad spec before loading the model
    if llm is None:
        hits, selection = grounded_from_args(args)
        print(HOW_TO_CONFIGURE)
        print()
        print("Sources:")
        print_snippets(hits, selection)
        return 0
    from ..llamaindex.index import ColRetIndex
    from ..llamaindex.nodes import citation

    store, embedder = store_and_embedder(args)
    engine = ColRetIndex(store, embedder).as_query_engine(
        llm=llm, top_k_pages=args.top_k, top_k_regions=args.regions, level=args.level
    )
    response = engine.query(args.question)
    print("Answer:")
    print(str(response).strip())
    print()
    print("Sources:")
    if not response.source_nodes:
        print("no region selected")
    for rank, n in enumerate(response.source_nodes, 1):
        kind = n.node.metadata.get("kind", "page")
        print(f"[{rank}] {citation(n.node)}, {kind}, score {n.score or 0.0:.3f}")
        print(f"    {one_line(n.node.get_content()) or '(no text: a figure; see the page image)'}")
    return 0
