"""LlamaIndex nodes for pages and grounded regions: deterministic ids, metadata keys, what the LLM sees.

Page node: ``TextNode`` id ``"{doc_id}:p{page}"``, text = the page's text, score = normalised MaxSim (raw
MaxSim in metadata ``maxsim``). Region node: id ``"{doc_id}:p{page}:r{region_index}"``, text = the region's
text (the run of its block's lines when adaptive granularity trimmed it: metadata ``granularity`` is
``"lines"``, with ``lines`` = 1-based ``[first, last]`` of ``block_lines``; else ``"block"``); a figure is a
`FigureNode` (an ``ImageNode`` holding the PNG crop, with its caption as text) so an ``ImageBlock`` reaches
a multimodal LLM. Both carry a SOURCE and PARENT relationship to their page node.
"""

from __future__ import annotations

import base64
from typing import Any

from llama_index.core.base.llms.types import BaseContentBlock, TextBlock
from llama_index.core.schema import (
    ImageNode,
    MetadataMode,
    NodeRelationship,
    NodeWithScore,
    RelatedNodeInfo,
    TextNode,
)

from ..grounded_search import GroundedHit, crop, region_dict
from ..grounding import SelectedRegion
from ..search.exact import PageHit
from ..store.records import PageRecord
from ..store.rows import encode_png

#: Metadata the LLM and the embedding text never see (ids, raw scores, normalised boxes, paths).
HIDDEN_KEYS: tuple[str, ...] = (
    "doc_id",
    "bbox",
    "region_relevance",
    "page_score",
    "score",
    "maxsim",
    "normalized_score",
    "path",
    "region_index",
    "rank",
    "granularity",
    "lines",
    "block_lines",
)


def page_node_id(doc_id: str, page_number: int) -> str:
    """Deterministic id of a page node."""
    return f"{doc_id}:p{page_number}"


def region_node_id(doc_id: str, page_number: int, region_index: int) -> str:
    """Deterministic id of a region node (unique per candidate region on the page)."""
    return f"{doc_id}:p{page_number}:r{region_index}"


class FigureNode(ImageNode):
    """An ``ImageNode`` whose content blocks are the crop *and* its caption text (LlamaIndex's ImageNode
    drops the text from its blocks, so a multimodal LLM would see the picture without its caption)."""

    def get_content_blocks(self, metadata_mode: MetadataMode = MetadataMode.NONE) -> list[BaseContentBlock]:
        """Metadata (per ``metadata_mode``), the image, then the caption when there is one."""
        blocks = super().get_content_blocks(metadata_mode)
        if self.text:
            blocks.append(TextBlock(text=self.text))
        return blocks


def page_node(hit: PageHit, record: PageRecord) -> NodeWithScore:
    """A page hit as a ``TextNode`` scored by normalised MaxSim, user metadata included."""
    metadata: dict[str, Any] = {
        **record.metadata,
        "doc_id": hit.doc_id,
        "file_name": hit.file_name,
        "page_number": hit.page_number,
        "path": hit.path,
        "maxsim": hit.score,
        "normalized_score": hit.normalized_score,
    }
    node = TextNode(
        id_=page_node_id(hit.doc_id, hit.page_number),
        text=record.text,
        metadata=metadata,
        excluded_llm_metadata_keys=list(HIDDEN_KEYS),
        excluded_embed_metadata_keys=list(HIDDEN_KEYS),
    )
    return NodeWithScore(node=node, score=hit.normalized_score)


def region_node(
    hit: GroundedHit, selected: SelectedRegion, user_metadata: dict[str, Any] | None = None
) -> NodeWithScore:
    """A selected region as a node scored by the combined score; figures carry their crop as an image."""
    info = region_dict(hit, selected)
    rec = hit.record
    metadata: dict[str, Any] = {**(user_metadata or {}), **{k: v for k, v in info.items() if k != "text"}}
    metadata["maxsim"] = hit.hit.score
    page_id = page_node_id(rec.doc_id, rec.page_number)
    parent = RelatedNodeInfo(node_id=page_id, metadata={"file_name": rec.file_name, "page_number": rec.page_number})
    common: dict[str, Any] = {
        "id_": region_node_id(rec.doc_id, rec.page_number, selected.region_index),
        "text": selected.region.text,
        "metadata": metadata,
        "excluded_llm_metadata_keys": list(HIDDEN_KEYS),
        "excluded_embed_metadata_keys": list(HIDDEN_KEYS),
        "relationships": {NodeRelationship.SOURCE: parent, NodeRelationship.PARENT: parent},
    }
    if selected.region.kind == "figure":
        png = encode_png(crop(rec, selected.region.bbox))[0]
        node: TextNode = FigureNode(image=base64.b64encode(png).decode("ascii"), image_mimetype="image/png", **common)
    else:
        node = TextNode(**common)
    return NodeWithScore(node=node, score=selected.combined)


def citation(node: TextNode) -> str:
    """``"file.pdf, p. 3, box (x0, y0, x1, y1) pt"``: where a region node comes from, for people and LLMs."""
    m = node.metadata
    where = f"{m.get('file_name', '?')}, p. {m.get('page_number', '?')}"
    if "bbox_pt" in m:
        where += ", box (" + ", ".join(f"{v:.0f}" for v in m["bbox_pt"]) + ") pt"
    return where
