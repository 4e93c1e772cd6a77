"""Quick start: index a PDF, ask a question, print the cited regions and save an overlay PNG.

python examples/make_sample_pdf.py sample.pdf
python examples/quickstart.py --pdf sample.pdf --model vidore/colqwen2-v1.0-hf [--llm openai:gpt-4o-mini]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import add_options, llm_or_mock  # noqa: E402

from llama_index_colret.grounded_search import search_grounded  # noqa: E402
from llama_index_colret.grounding import GroundingOptions  # noqa: E402
from llama_index_colret.llamaindex import ColRetIndex  # noqa: E402
from llama_index_colret.overlay import overlay_pages, render_overlay  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Index, ask, print citations, save the overlay."""
    parser = argparse.ArgumentParser(description="Index a PDF, ask a question, print citations, save an overlay.")
    add_options(parser)
    parser.add_argument("--question", default="What was the wheat yield in 1860?", help="the question to ask")
    parser.add_argument("--overlay", default="overlay.png", help="where to save the overlay PNG")
    args = parser.parse_args(argv)

    index = ColRetIndex.from_pdfs(args.pdf, embedder=args.model, uri=args.db, show_progress=False)
    print(f"index at {args.db}: {index.store.count()} pages of {len(index.documents())} document(s)")

    llm, _ = llm_or_mock(args.llm)
    response = index.as_query_engine(llm=llm, top_k_pages=args.top_k).query(args.question)
    print(f"\nQ: {args.question}\nA: {str(response).strip()[:800]}\n\ncitations:")
    for i, n in enumerate(response.source_nodes, 1):
        m = n.node.metadata
        box = ", ".join(f"{v:.3f}" for v in m.get("bbox", []))
        print(f"  [{i}] {m['file_name']} page {m['page_number']} box [{box}] {m.get('kind', 'page')}")

    hits, selection = search_grounded(  # the index's query cache and vector cache: no second encoding
        index.store,
        index.embedder,
        args.question,
        top_k=args.top_k,
        options=GroundingOptions(),
        searcher=index.searcher,
        cache=index.cache,
    )
    pages = overlay_pages(hits, selection, 1)
    pages[0].title = ""  # keep the PNG exactly the size of the stored page image
    picture = render_overlay(pages)
    picture.save(args.overlay)
    print(f"\noverlay of the top page saved to {args.overlay} ({picture.width}x{picture.height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
