"""Safe SQL ``WHERE`` clauses for LanceDB from simple metadata filters.

A filter is a mapping ``{field: condition}``; conditions are ANDed. A condition is a plain value
(equality; a list or tuple means IN; None means IS NULL) or a mapping ``{operator: value}`` with operators
``== != > >= < <= in nin`` (also spelled ``eq ne gt gte lt lte``). Field names are validated against the
table (core columns and promoted user-metadata keys) and never interpolated unchecked; values are
rendered as SQL literals with quotes doubled, so no value can change the shape of the query.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from ..errors import FilterError
from .schema import METADATA_PREFIX

Filters = Mapping[str, Any]

_OPERATORS = {
    "==": "=",
    "eq": "=",
    "!=": "!=",
    "ne": "!=",
    ">": ">",
    "gt": ">",
    ">=": ">=",
    "gte": ">=",
    "<": "<",
    "lt": "<",
    "<=": "<=",
    "lte": "<=",
    "in": "IN",
    "nin": "NOT IN",
}


def build_where(
    filters: Filters | None,
    core_fields: Mapping[str, pa.DataType],
    metadata_fields: Mapping[str, pa.DataType],
) -> str | None:
    """The SQL condition for ``filters`` (None when there is nothing to filter).

    ``core_fields`` are table columns by name; ``metadata_fields`` are user-metadata keys, stored as
    ``m_<key>``; a name in both means the core column (``metadata.<key>`` reaches the metadata key).
    """
    if not filters:
        return None
    if not isinstance(filters, Mapping):
        raise FilterError(f"filters must be a mapping of field to condition, got {type(filters).__name__}")
    clauses = []
    for name, condition in filters.items():
        column, dtype = _resolve(str(name), core_fields, metadata_fields)
        clauses.extend(_conditions(column, dtype, str(name), condition))
    return " AND ".join(f"({c})" for c in clauses)


def _resolve(name: str, core: Mapping[str, pa.DataType], meta: Mapping[str, pa.DataType]) -> tuple[str, pa.DataType]:
    if name in core:
        return name, core[name]
    key = name[len("metadata.") :] if name.startswith("metadata.") else name
    if key in meta:
        return METADATA_PREFIX + key, meta[key]
    valid = sorted(core) + sorted(meta)
    raise FilterError(
        f"unknown filter field {name!r}; valid fields: {', '.join(valid)} (user metadata is filterable when "
        "its key is an identifier and its value a str, int, float or bool)"
    )


def _conditions(column: str, dtype: pa.DataType, name: str, condition: Any) -> list[str]:
    if isinstance(condition, Mapping):
        if not condition:
            raise FilterError(f"empty condition for field {name!r}")
        return [_condition(column, dtype, name, op, value) for op, value in condition.items()]
    if isinstance(condition, (list, tuple, set, frozenset)):
        return [_condition(column, dtype, name, "in", condition)]
    return [_condition(column, dtype, name, "==", condition)]


def _condition(column: str, dtype: pa.DataType, name: str, op: str, value: Any) -> str:
    sql_op = _OPERATORS.get(str(op).lower())
    if sql_op is None:
        raise FilterError(f"unsupported operator {op!r} for field {name!r}; valid: {', '.join(_OPERATORS)}")
    if sql_op in ("IN", "NOT IN"):
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset)):
            raise FilterError(f"operator {op!r} on field {name!r} needs a list of values, got {value!r}")
        if not value:
            return "FALSE" if sql_op == "IN" else "TRUE"
        items = ", ".join(literal(v, dtype, name) for v in sorted(value, key=repr))
        return f"{column} {sql_op} ({items})"
    if value is None:
        if sql_op not in ("=", "!="):
            raise FilterError(f"operator {op!r} on field {name!r} cannot compare with None")
        return f"{column} IS NULL" if sql_op == "=" else f"{column} IS NOT NULL"
    return f"{column} {sql_op} {literal(value, dtype, name)}"


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def literal(value: Any, dtype: pa.DataType, name: str) -> str:
    """``value`` as a SQL literal that matches the column type ``dtype``; FilterError when it cannot."""
    if pa.types.is_boolean(dtype):
        if not isinstance(value, bool):
            raise FilterError(f"field {name!r} is boolean; got {value!r}")
        return "TRUE" if value else "FALSE"
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise FilterError(f"field {name!r} is numeric; got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise FilterError(f"field {name!r}: cannot filter on non-finite number {value!r}")
        if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            raise FilterError(f"field {name!r}: {value} is outside the 64-bit integer range")
        if pa.types.is_integer(dtype) and isinstance(value, float) and not value.is_integer():
            raise FilterError(f"field {name!r} holds integers; got the fraction {value!r}")
        if pa.types.is_integer(dtype) and isinstance(value, float):
            value = int(value)
        return repr(int(value)) if isinstance(value, int) else repr(float(value))
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        if not isinstance(value, str):
            raise FilterError(f"field {name!r} is text; got {value!r}")
        if "\x00" in value:
            raise FilterError(f"field {name!r}: a filter value cannot contain a NUL character")
        return "'" + value.replace("'", "''") + "'"
    raise FilterError(f"field {name!r} of type {dtype} cannot be filtered")
