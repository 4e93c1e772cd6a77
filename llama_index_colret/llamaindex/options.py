"""Keyword checking for the LlamaIndex entry points: named counts, deprecated aliases, no swallowed typos.

Two counts exist and are named so they cannot be mixed up: ``top_k_pages`` (pages retrieved by MaxSim,
LlamaIndex's ``similarity_top_k``) and ``top_k_regions`` (region nodes handed on after grounding, the
grounding option ``top_k``). The old names keep working with a ``DeprecationWarning``. Any other unknown
keyword is a ``TypeError`` naming it and listing the valid ones, raised before a model loads or a query runs.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..grounding import GroundingOptions

#: Keywords of `ColRetIndex.as_retriever` besides the grounding options.
RETRIEVER_ARGS: tuple[str, ...] = (
    "top_k_pages",
    "top_k_regions",
    "grounded",
    "filters",
    "hybrid",
    "callback_manager",
    "verbose",
)
#: Old name -> new name.
DEPRECATED: dict[str, str] = {"similarity_top_k": "top_k_pages", "top_k": "top_k_regions"}


def grounding_names() -> list[str]:
    """Grounding option names accepted by the retriever (``top_k`` is spelt ``top_k_regions`` there)."""
    return [n for n in GroundingOptions.field_names() if n != "top_k"]


def retriever_names() -> set[str]:
    """Every keyword `as_retriever` takes, deprecated aliases included."""
    return {*RETRIEVER_ARGS, *grounding_names(), *DEPRECATED}


def rename_deprecated(kwargs: Mapping[str, Any], stacklevel: int = 3) -> dict[str, Any]:
    """``kwargs`` with old names replaced by new ones (DeprecationWarning); TypeError when both are given."""
    out = dict(kwargs)
    for old, new in DEPRECATED.items():
        if old not in out:
            continue
        if new in out:
            raise TypeError(f"got both {old!r} and {new!r}; pass only {new!r} ({old!r} is its deprecated alias)")
        warnings.warn(
            f"{old!r} is deprecated, use {new!r} ({'pages retrieved' if new == 'top_k_pages' else 'region nodes'})",
            DeprecationWarning,
            stacklevel=stacklevel,
        )
        out[new] = out.pop(old)
    return out


def check_known(kwargs: Iterable[str], valid: Iterable[str], where: str) -> None:
    """TypeError naming the keywords of ``kwargs`` not in ``valid``, and listing the valid ones."""
    valid_set = set(valid)
    unknown = sorted(set(kwargs) - valid_set)
    if unknown:
        raise TypeError(
            f"{where} got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
            f"valid: {', '.join(sorted(valid_set))}"
        )


def named_parameters(fn: Callable[..., Any], skip: Iterable[str] = ()) -> set[str]:
    """Names of the keyword parameters of ``fn`` (its ``**kwargs`` excluded), minus ``skip``."""
    params = inspect.signature(fn).parameters.values()
    named = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return named - set(skip) - {"self", "cls"}


def split(kwargs: Mapping[str, Any], mine: Iterable[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``kwargs`` split into those named in ``mine`` and the rest."""
    names = set(mine)
    return {k: v for k, v in kwargs.items() if k in names}, {k: v for k, v in kwargs.items() if k not in names}
