"""Large tables are offered row by row (with their header row); small ones stay whole."""

from __future__ import annotations

import numpy as np

from llama_index_colret.geometry import BBox, PatchGrid
from llama_index_colret.grounding import GroundingOptions, ground_vectors, select
from llama_index_colret.grounding.tables import table_rows
from llama_index_colret.ingest.page import Region

N_ROWS = 100  # table rows, one grid row each (plus a header): ~500 tokens, over the default 400
GRID = PatchGrid(120, 10)


def table_page() -> list[Region]:
    """A paragraph, then a table of a header and 100 rows x 3 cells, stored as ingestion stores it."""
    rows = [["State", "Permits", "Handguns"]] + [[f"state{r}", f"{100 + r}", f"{200 + r}"] for r in range(N_ROWS)]
    cells, h = [], 1 / GRID.n_rows
    for r, row in enumerate(rows):
        y = (5 + r) * h
        cells += [Region(t, BBox(0.1 + 0.3 * c, y, 0.3 + 0.3 * c, y + h), "text", "line") for c, t in enumerate(row)]
    table_text = "\n".join(" | ".join(row) for row in rows)
    table = Region(table_text, BBox(0.1, 5 * h, 0.9, (6 + N_ROWS) * h), "table", "block")
    intro = Region("A note on the permits issued in each state.", BBox(0.1, 0.01, 0.9, 0.03), "text", "block")
    return [intro, Region(intro.text, intro.bbox, "text", "line"), table, *cells]


def hot_row_vectors(grid: PatchGrid, hot_row: int, dim: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """A query vector and patch vectors where only the cells of grid row ``hot_row`` match the query."""
    q = np.zeros((1, dim), dtype=np.float32)
    q[0, 0] = 1.0
    patches = np.zeros((grid.n_rows, grid.n_cols, dim), dtype=np.float32)
    patches[..., 1] = 1.0
    patches[hot_row, :, :2] = [1.0, 0.0]
    return q, patches.reshape(grid.n_patches, dim)  # (n_rows, n_cols, dim) -> (n_patches, dim)


def test_table_rows_carry_the_header_and_cover_their_cells() -> None:
    regions = table_page()
    rows = table_rows(regions[2], regions)
    assert len(rows) == N_ROWS + 1
    assert rows[0].text == "State | Permits | Handguns"
    assert rows[18].text == "State | Permits | Handguns\nstate17 | 117 | 217"
    np.testing.assert_allclose(rows[18].bbox.as_list(), [0.1, 23 / 120, 0.9, 24 / 120], atol=1e-5)
    assert rows[18].kind == "table"
    assert table_rows(regions[2], [r for r in regions if r.level == "block"]) == []  # no cells stored


def test_a_large_table_hands_the_generator_its_answer_row_not_the_whole_table() -> None:
    regions, grid = table_page(), GRID
    q, patches = hot_row_vectors(grid, hot_row=5 + 1 + 17)  # the row of state17 (header is row 5)
    g = ground_vectors(q, patches, grid, regions)
    best = select([g]).regions[0].region
    assert best.text.endswith("state17 | 117 | 217") and best.text.startswith("State | Permits")
    whole = ground_vectors(q, patches, grid, regions, options=GroundingOptions(table_max_tokens=None))
    top = select([whole], GroundingOptions(table_max_tokens=None)).regions[0].region
    assert top is regions[2]  # the whole table, ~500 tokens of it


def test_a_small_table_stays_whole() -> None:
    regions, grid = table_page(), GRID
    q, patches = hot_row_vectors(grid, hot_row=23)
    g = ground_vectors(
        q, patches, grid, regions, options=GroundingOptions(table_max_tokens=1000)
    )  # ~500 tokens: small enough
    assert sum(r.kind == "table" for r in g.regions) == 1


def test_a_table_whose_cells_disagree_with_its_rows_stays_whole() -> None:
    regions = table_page()
    table = regions[2]
    sideways = Region("Permit | Handgun\n" + table.text, table.bbox, "table", "block")  # text read in another frame
    assert table_rows(sideways, regions) == []
    grid = GRID
    q, patches = hot_row_vectors(grid, hot_row=23)
    g = ground_vectors(q, patches, grid, [sideways, *regions[3:]])
    assert g.regions[0] is sideways
