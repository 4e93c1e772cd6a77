"""Pure table detection on hand-made rules and lines: a ruled grid stays one table where a row rule is missing."""

from __future__ import annotations

from llama_index_colret.ingest.layout import Box, Line, Word
from llama_index_colret.ingest.tables import find_ruled_tables

XS = [100.0, 160.0, 220.0, 280.0]  # column rules
YS = [100.0, 112.0, 124.0, 136.0, 148.0, 160.0]  # row rules; the one at 136 is left out below


def _cell(text: str, x0: float, y0: float, row: int) -> Line:
    """One cell line of 8-unit-high words starting at ``x0``."""
    return Line([Word(text, x0, y0, x0 + 6.0 * len(text), y0 + 8.0)], row)


def test_missing_row_rule_keeps_one_table() -> None:
    # column rules drawn one segment per row (as LaTeX and many generators do), ending 0.2 short of the row
    # rules; no row rule at y=136, so rows 3 and 4 form one two-line band whose segments only meet end to end
    rows = [y for y in YS if y != 136.0]
    h_rules = [Box(XS[0], y, XS[-1], y) for y in rows]
    v_rules = [Box(x, a + 0.2, x, b - 0.2) for x in XS for a, b in zip(YS, YS[1:], strict=False)]
    lines = [_cell(f"r{r}c{c}", x + 4.0, y + 2.0, r) for r, y in enumerate(YS[:-1]) for c, x in enumerate(XS[:-1])]
    tables = find_ruled_tables(lines, h_rules, v_rules, tol=2.0)
    assert len(tables) == 1
    assert (tables[0].box.y0, tables[0].box.y1) == (YS[0], YS[-1])
    assert tables[0].rows == [[f"r{r}c{c}" for c in range(3)] for r in range(5)]
