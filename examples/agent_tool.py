"""The index as a tool for a LlamaIndex agent: region snippets with citations (file, page, box) and figures.

    python examples/agent_tool.py --pdf sample.pdf --model vidore/colqwen2-v1.0-hf --llm openai:gpt-4o-mini

An agent needs an LLM that can call tools; without --llm the example calls the tool itself (as the agent
would) and prints what the agent would receive.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_options, llm_or_mock  # noqa: E402

from llama_index_colret.llamaindex import ColRetIndex  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Build (or reuse) the index, make the tool, and run an agent or the tool on the question."""
    parser = argparse.ArgumentParser(description="Use the PDF index as a tool for a LlamaIndex agent.")
    add_options(parser)
    parser.add_argument("--question", default="How much did the bean yield change after the canals?")
    args = parser.parse_args(argv)

    index = ColRetIndex.from_pdfs(args.pdf, embedder=args.model, uri=args.db, show_progress=False)
    tool = index.as_tool(top_k_pages=args.top_k)
    print(f"tool {tool.metadata.name!r}: {tool.metadata.description}\n")

    llm, is_mock = llm_or_mock(args.llm)
    if is_mock:
        print("MockLLM cannot call tools, so the tool is called directly with the question:\n")
        output = tool.call(query=args.question)
        for block in output.blocks if hasattr(output, "blocks") else []:
            text = getattr(block, "text", None)
            print(text if text is not None else f"<{type(block).__name__}: figure image>")
        if not hasattr(output, "blocks"):
            print(output.content)
        return 0

    from llama_index.core.agent.workflow import FunctionAgent

    agent = FunctionAgent(tools=[tool], llm=llm, system_prompt="Answer from the PDFs and cite file and page.")
    print(asyncio.run(agent.run(args.question)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
