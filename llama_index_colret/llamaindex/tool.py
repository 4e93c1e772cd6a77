"""An agent tool: search the PDFs, get region snippets with citations (file, page, box) and figure images."""

from __future__ import annotations

import asyncio
import logging

from llama_index.core.base.llms.types import ImageBlock, TextBlock
from llama_index.core.schema import ImageNode, NodeWithScore, QueryBundle
from llama_index.core.tools import FunctionTool

from .nodes import citation
from .retriever import ColRetRetriever

logger = logging.getLogger(__name__)

DEFAULT_NAME = "search_pdfs"
EMPTY_INDEX = "No documents are indexed yet, so there is nothing to search."
DEFAULT_DESCRIPTION = (
    "Search the indexed PDF pages for a question. Returns the most relevant regions (paragraphs, tables, "
    "figures) as numbered snippets, each citing its file, page and box in PDF points; figures come as images."
)


def nodes_to_blocks(nodes: list[NodeWithScore]) -> list[TextBlock | ImageBlock]:
    """Numbered, cited snippets: one text block per region, plus an image block after each figure."""
    if not nodes:
        return [TextBlock(text="No matching pages in the index.")]
    blocks: list[TextBlock | ImageBlock] = []
    for i, n in enumerate(nodes, start=1):
        node = n.node
        kind = node.metadata.get("kind", "page")
        blocks.append(TextBlock(text=f"[{i}] {citation(node)} ({kind}, score {n.score or 0.0:.3f}):\n{node.text}"))
        if isinstance(node, ImageNode) and node.image:
            blocks.append(ImageBlock(image=node.image.encode("ascii"), image_mimetype=node.image_mimetype))
    return blocks


def make_tool(
    retriever: ColRetRetriever, name: str = DEFAULT_NAME, description: str = DEFAULT_DESCRIPTION
) -> FunctionTool:
    """A ``FunctionTool`` (sync and async) that runs ``retriever`` on the agent's query."""

    def search(query: str) -> list[TextBlock | ImageBlock]:
        """Search the PDFs for ``query``."""
        if retriever.store.count() == 0:
            logger.warning("%s: no documents are indexed; the tool %r answers so", retriever.store.uri, name)
            return [TextBlock(text=EMPTY_INDEX)]
        return nodes_to_blocks(retriever.retrieve(QueryBundle(query_str=query)))

    async def asearch(query: str) -> list[TextBlock | ImageBlock]:
        """Search the PDFs for ``query`` without blocking the event loop."""
        return await asyncio.to_thread(search, query)

    return FunctionTool.from_defaults(fn=search, async_fn=asearch, name=name, description=description)
