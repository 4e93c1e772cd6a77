"""The LlamaIndex layer: index, retriever, grounding postprocessor, nodes, filters and the agent tool.

The only package of the library that imports ``llama_index``.
"""

from .index import ColRetIndex
from .nodes import FigureNode
from .postprocessor import RegionGroundingPostprocessor
from .retriever import ColRetRetriever
from .tool import make_tool

__all__ = ["ColRetIndex", "ColRetRetriever", "FigureNode", "RegionGroundingPostprocessor", "make_tool"]
