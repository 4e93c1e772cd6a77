"""Search: pure MaxSim scoring (`maxsim`). Exact top-k over a store is `search.exact.ExactSearcher`, imported
from its module so that importing the pure scoring (as grounding does) never loads LanceDB."""

from .maxsim import maxsim, maxsim_packed, maxsim_padded, similarity

__all__ = ["maxsim", "maxsim_packed", "maxsim_padded", "similarity"]
