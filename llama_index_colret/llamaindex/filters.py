"""LlamaIndex ``MetadataFilters`` -> the page store's filters.

Plain AND filters become the store's ``{field: {op: value}}`` mapping and are pushed down to LanceDB.
OR, NOT and nested filters are evaluated as sets of ``(doc_id, page_number)`` keys, each leaf pushed down
on its own, then combined (AND: intersection, OR: union, NOT: complement within the index). Operators:
``== != > >= < <= in nin`` and ``is_empty`` (IS NULL); ``any``, ``all``, ``contains``, ``text_match`` and
``text_match_insensitive`` are refused with a FilterError naming them (stored metadata values are scalars).
The reader keys map onto stored columns: ``file_path`` filters ``path``, ``page_label`` (a string, as
LlamaIndex's PDF readers set it) filters ``page_number`` with the label read as an integer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llama_index.core.vector_stores.types import FilterCondition, FilterOperator, MetadataFilter, MetadataFilters

from ..errors import FilterError
from ..store.lance import PageStore

PageKey = tuple[str, int]

#: LlamaIndex reader metadata keys and the stored column each one filters.
READER_KEYS: dict[str, str] = {"file_path": "path", "page_label": "page_number"}

_SUPPORTED: dict[FilterOperator, str] = {
    FilterOperator.EQ: "==",
    FilterOperator.NE: "!=",
    FilterOperator.GT: ">",
    FilterOperator.GTE: ">=",
    FilterOperator.LT: "<",
    FilterOperator.LTE: "<=",
    FilterOperator.IN: "in",
    FilterOperator.NIN: "nin",
}


@dataclass(frozen=True)
class FilterPlan:
    """How to apply a filter: ``pushdown`` (a store mapping, or None) and, for OR/NOT/nested filters,
    the ``tree`` whose matching page keys must be computed with `matching_keys`."""

    pushdown: Mapping[str, Any] | None
    tree: MetadataFilters | None = None


def leaf_condition(f: MetadataFilter) -> dict[str, Any]:
    """One LlamaIndex filter as the store's ``{op: value}`` condition; FilterError for refused operators."""
    op = FilterOperator(f.operator)
    if op == FilterOperator.IS_EMPTY:
        return {"==": None}
    if op not in _SUPPORTED:
        valid = ", ".join(o.value for o in [*_SUPPORTED, FilterOperator.IS_EMPTY])
        raise FilterError(
            f"filter operator {op.value!r} (FilterOperator.{op.name}) on key {f.key!r} is not supported: stored "
            f"metadata values are scalars; supported operators: {valid}"
        )
    value = list(f.value) if isinstance(f.value, (list, tuple)) else f.value
    if f.key == "page_label":
        value = [_page_label(v) for v in value] if isinstance(value, list) else _page_label(value)
    return {_SUPPORTED[op]: value}


def store_field(f: MetadataFilter) -> str:
    """The store field a LlamaIndex filter key means (reader keys map onto their stored columns)."""
    return READER_KEYS.get(f.key, f.key)


def _page_label(value: Any) -> int:
    """A ``page_label`` filter value (``"3"`` or 3) as the stored page number; FilterError otherwise."""
    try:
        return int(str(value).strip())
    except ValueError:
        raise FilterError(f"filter on page_label needs a page number such as '3', got {value!r}") from None


def plan_filters(filters: MetadataFilters | Mapping[str, Any] | None) -> FilterPlan:
    """Translate ``filters`` (LlamaIndex ``MetadataFilters``, the store's own mapping, or None)."""
    if filters is None:
        return FilterPlan(None)
    if isinstance(filters, Mapping):
        return FilterPlan(dict(filters) or None)
    if not isinstance(filters, MetadataFilters):
        raise FilterError(f"filters must be MetadataFilters or a mapping, got {type(filters).__name__}")
    _check_tree(filters)
    if not filters.filters:
        return FilterPlan(None)
    condition = FilterCondition(filters.condition or FilterCondition.AND)
    flat = all(isinstance(f, MetadataFilter) for f in filters.filters)
    if condition == FilterCondition.AND and flat:
        merged: dict[str, dict[str, Any]] = {}
        for f in filters.filters:
            cond = leaf_condition(f)  # type: ignore[arg-type]
            slot = merged.setdefault(store_field(f), {})  # type: ignore[arg-type]
            if set(cond) & set(slot):
                return FilterPlan(None, filters)  # the same operator twice on a key: evaluate as sets
            slot.update(cond)
        return FilterPlan(merged)
    return FilterPlan(None, filters)


def _check_tree(filters: MetadataFilters) -> None:
    """Refuse bad operators and conditions before any work (nested filters included)."""
    condition = FilterCondition(filters.condition or FilterCondition.AND)
    if condition == FilterCondition.NOT and len(filters.filters) != 1:
        raise FilterError(f"a NOT filter takes exactly one sub-filter, got {len(filters.filters)}")
    for f in filters.filters:
        if isinstance(f, MetadataFilters):
            _check_tree(f)
        else:
            leaf_condition(f)


def matching_keys(store: PageStore, tree: MetadataFilters, universe: set[PageKey] | None = None) -> set[PageKey]:
    """The ``(doc_id, page_number)`` of every stored page that satisfies ``tree``."""
    if universe is None:
        universe = _keys(store, None)
    condition = FilterCondition(tree.condition or FilterCondition.AND)
    parts = [
        matching_keys(store, f, universe)
        if isinstance(f, MetadataFilters)
        else _keys(store, {store_field(f): leaf_condition(f)})
        for f in tree.filters
    ]
    if not parts:
        return set(universe)
    if condition == FilterCondition.NOT:
        return universe - parts[0]
    if condition == FilterCondition.OR:
        return set().union(*parts)
    return set.intersection(*parts)


def _keys(store: PageStore, filters: Mapping[str, Any] | None) -> set[PageKey]:
    doc_ids, numbers = store.page_keys(filters)
    return {(d, int(n)) for d, n in zip(doc_ids, numbers, strict=True)}
