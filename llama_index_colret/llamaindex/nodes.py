"""LlamaIndex nodes for pages and grounded regions: deterministic ids, metadata keys, what the LLM sees.

Page node: ``TextNode`` id ``"{doc_id}:p{page}"``, text = the page's text, score = normalised MaxSim (raw
MaxSim in metadata ``maxsim``). Region node: id ``"{doc_id}:p{page}:r{region_index}"``, text = the region's
text; a figure is a `FigureNode` (an ``ImageNode`` holding the PNG crop, with its caption as text) so an
``ImageBlock`` reaches a multimodal LLM. Both carry the reader keys ``page_label`` (the page number as a string)
and ``file_path`` beside ``page_number`` and ``path``. ``ref_doc_id`` (the SOURCE relationship) is the document
id on page and region nodes; a region's PARENT is its page node.

Hashes do not depend on the query: the per-query values (`QUERY_KEYS`: scores, rank) sit in the metadata for
reading but are left out of ``node.hash``, so fusion (``QueryFusionRetriever``) sees one region retrieved by
several query variants as one node. The score that counts is ``NodeWithScore.score``.
"""

from __future__ import annotations

import base64
from hashlib import sha256
from typing import Any

from llama_index.core.base.llms.types import BaseContentBlock, TextBlock
from llama_index.core.schema import (
    ImageNode,
    MetadataMode,
    NodeRelationship,
    NodeWithScore,
    ObjectType,
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
    "file_path",
    "page_label",
)

#: Per-query metadata values: readable on the node, never part of its hash.
QUERY_KEYS: frozenset[str] = frozenset(
    {"region_relevance", "page_score", "score", "maxsim", "normalized_score", "rank"}
)


def stable_hash(text: str, metadata: dict[str, Any]) -> str:
    """``TextNode.hash`` computed without the per-query keys: the same region hashes alike for any query."""
    kept = {k: v for k, v in metadata.items() if k not in QUERY_KEYS}
    return sha256((str(text) + str(kept)).encode("utf-8", "surrogatepass")).hexdigest()


class ColRetTextNode(TextNode):
    """A ``TextNode`` whose hash ignores per-query scores (serialises as a plain ``TextNode``)."""

    @property
    def hash(self) -> str:
        """Hash of the text and the query-independent metadata."""
        return stable_hash(self.text, self.metadata)


def page_node_id(doc_id: str, page_number: int) -> str:
    """Deterministic id of a page node."""
    return f"{doc_id}:p{page_number}"


def region_node_id(doc_id: str, page_number: int, region_index: int) -> str:
    """Deterministic id of a region node (unique per candidate region on the page)."""
    return f"{doc_id}:p{page_number}:r{region_index}"


class FigureNode(ImageNode):
    """An ``ImageNode`` whose content blocks are the crop *and* its caption text (LlamaIndex's ImageNode
    drops the text from its blocks, so a multimodal LLM would see the picture without its caption).
    Its hash covers the crop, the caption and the query-independent metadata."""

    @property
    def hash(self) -> str:
        """Hash of the crop, the caption and the query-independent metadata."""
        return stable_hash(f"{self.image}-{self.text}", self.metadata)

    def get_content_blocks(self, metadata_mode: MetadataMode = MetadataMode.NONE) -> list[BaseContentBlock]:
        """Metadata (per ``metadata_mode``), the image, then the caption when there is one."""
        blocks = super().get_content_blocks(metadata_mode)
        if self.text:
            blocks.append(TextBlock(text=self.text))
        return blocks


def reader_keys(page_number: int, path: str) -> dict[str, Any]:
    """The keys LlamaIndex's PDF readers set (``page_label``, ``file_path``) for one stored page."""
    return {"page_label": str(page_number), "file_path": path}


def document_source(doc_id: str, file_name: str, path: str) -> RelatedNodeInfo:
    """The SOURCE relationship of our nodes: the document, so ``node.ref_doc_id`` is the doc_id."""
    return RelatedNodeInfo(
        node_id=doc_id, node_type=ObjectType.DOCUMENT, metadata={"file_name": file_name, "file_path": path}
    )


def page_node(hit: PageHit, record: PageRecord, score: float | None = None) -> NodeWithScore:
    """A page hit as a node scored by normalised MaxSim (or ``score``: the fused one), user metadata included."""
    metadata: dict[str, Any] = {
        **record.metadata,
        "doc_id": hit.doc_id,
        "file_name": hit.file_name,
        "page_number": hit.page_number,
        "path": hit.path,
        **reader_keys(hit.page_number, hit.path),
        "maxsim": hit.score,
        "normalized_score": hit.normalized_score,
    }
    node = ColRetTextNode(
        id_=page_node_id(hit.doc_id, hit.page_number),
        text=record.text,
        metadata=metadata,
        excluded_llm_metadata_keys=list(HIDDEN_KEYS),
        excluded_embed_metadata_keys=list(HIDDEN_KEYS),
        relationships={NodeRelationship.SOURCE: document_source(hit.doc_id, hit.file_name, hit.path)},
    )
    return NodeWithScore(node=node, score=hit.normalized_score if score is None else score)


def region_node(
    hit: GroundedHit, selected: SelectedRegion, user_metadata: dict[str, Any] | None = None
) -> NodeWithScore:
    """A selected region as a node scored by the combined score; figures carry their crop as an image."""
    info = region_dict(hit, selected)
    rec = hit.record
    metadata: dict[str, Any] = {**(user_metadata or {}), **{k: v for k, v in info.items() if k != "text"}}
    metadata.update(path=rec.path, **reader_keys(rec.page_number, rec.path), maxsim=hit.hit.score)
    page_id = page_node_id(rec.doc_id, rec.page_number)
    parent = RelatedNodeInfo(node_id=page_id, metadata={"file_name": rec.file_name, "page_number": rec.page_number})
    source = document_source(rec.doc_id, rec.file_name, rec.path)
    common: dict[str, Any] = {
        "id_": region_node_id(rec.doc_id, rec.page_number, selected.region_index),
        "text": selected.region.text,
        "metadata": metadata,
        "excluded_llm_metadata_keys": list(HIDDEN_KEYS),
        "excluded_embed_metadata_keys": list(HIDDEN_KEYS),
        "relationships": {NodeRelationship.SOURCE: source, NodeRelationship.PARENT: parent},
    }
    if selected.region.kind == "figure":
        png = encode_png(crop(rec, selected.region.bbox))[0]
        node: TextNode = FigureNode(image=base64.b64encode(png).decode("ascii"), image_mimetype="image/png", **common)
    else:
        node = ColRetTextNode(**common)
    return NodeWithScore(node=node, score=selected.combined)


def citation(node: TextNode) -> str:
    """``"file.pdf, p. 3, box (x0, y0, x1, y1) pt"``: where a region node comes from, for people and LLMs."""
    m = node.metadata
    where = f"{m.get('file_name', '?')}, p. {m.get('page_number', '?')}"
    if "bbox_pt" in m:
        where += ", box (" + ", ".join(f"{v:.0f}" for v in m["bbox_pt"]) + ") pt"
    return where
