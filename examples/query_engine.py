"""A LlamaIndex query engine and a bare retriever over an index of PDFs, with grounded region citations.

python examples/query_engine.py --pdf sample.pdf --model vidore/colqwen2-v1.0-hf [--llm ollama:llama3.1]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_options, llm_or_mock  # noqa: E402

from llama_index_colret.llamaindex import ColRetIndex  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Build (or reuse) the index, retrieve regions, then answer through a query engine."""
    parser = argparse.ArgumentParser(description="Query engine and retriever over grounded PDF regions.")
    add_options(parser)
    parser.add_argument("--question", default="Which crop had the largest yield in 1850?", help="the question")
    args = parser.parse_args(argv)

    index = ColRetIndex.from_pdfs(args.pdf, embedder=args.model, uri=args.db, show_progress=False)

    print("retriever (grounded regions):")
    for n in index.as_retriever(top_k_pages=args.top_k).retrieve(args.question):
        m = n.node.metadata
        text = " ".join(n.node.get_content().split())[:80]
        print(f"  {n.score:.3f}  {m['file_name']} page {m['page_number']} {m.get('kind', 'page')}: {text}")

    print("\nretriever (whole pages):")
    for n in index.as_retriever(top_k_pages=args.top_k, grounded=False).retrieve(args.question):
        print(f"  {n.score:.3f}  {n.node.metadata['file_name']} page {n.node.metadata['page_number']}")

    llm, _ = llm_or_mock(args.llm)
    response = index.as_query_engine(llm=llm, top_k_pages=args.top_k).query(args.question)
    print(f"\nQ: {args.question}\nA: {str(response).strip()[:800]}\n\ncitations:")
    for i, n in enumerate(response.source_nodes, 1):
        print(f"  [{i}] {n.node.metadata['file_name']} page {n.node.metadata['page_number']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
