"""Search: exact MaxSim over stored page vectors (pure scoring + chunked top-k over the store)."""

from .exact import ExactSearcher, PageHit
from .maxsim import maxsim, maxsim_packed, maxsim_padded, similarity

__all__ = ["ExactSearcher", "PageHit", "maxsim", "maxsim_packed", "maxsim_padded", "similarity"]
