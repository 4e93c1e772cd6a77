"""Search: pure MaxSim scoring (`maxsim`) and `searcher_for(store, mode)`, the one entry point for page
search over a store (exact bf16 scan, or two-stage ANN + exact re-score). The store-bound searchers load
only when `searcher_for` is first used, so importing the pure scoring (as grounding does) never loads LanceDB."""

from __future__ import annotations

from typing import Any

from .maxsim import maxsim, maxsim_packed, maxsim_padded, similarity

__all__ = ["maxsim", "maxsim_packed", "maxsim_padded", "searcher_for", "similarity"]


def searcher_for(store: Any, mode: str = "auto", **options: Any) -> Any:
    """The searcher for ``mode`` over ``store``: see `search.searcher.searcher_for`."""
    from .searcher import searcher_for as make

    return make(store, mode, **options)
