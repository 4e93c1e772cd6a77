"""Adaptive granularity on long blocks: the relevant lines of a 25-line block, cut no finer than the patch grid.

Pages come from `testing.long_pages` (reportlab, Vera, justified, each word its own text object) with made-up
words planted on known lines; lines come from the real text layer (`load_pdf`), blocks are set here as the
union of each drawn block's lines (so the tests do not depend on how ingestion groups them; the OCR test
uses ingestion as it is), and patch vectors come from the word-patch double on the rendered page.

The double's letter-page grid has 31 rows of 25.5 pt. The long paragraph is set in 11 pt on 17 pt leading
from a first baseline at 86 pt, so its lines 12-14 fill cell rows 11-12 exactly (line 11 ends in row 10,
line 15 starts in row 13) and the grid can resolve them; in the 10 pt columns on 13 pt leading two lines
share each row, so three lines come back as the two rows that hold them (four lines).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from llama_index_colret.errors import GroundingError
from llama_index_colret.geometry import BBox
from llama_index_colret.grounding import GroundingOptions, ground_page, select
from llama_index_colret.grounding.granularity import block_lines, hot_span, row_windows, units, widen
from llama_index_colret.ingest.page import Region
from llama_index_colret.ingest.pdf import load_pdf
from llama_index_colret.testing.double import WordPatchEmbedder
from llama_index_colret.testing.long_pages import long_block_page
from llama_index_colret.testing.pdfgen import BlockTruth, rasterize_pdf

ANSWER = ("zorquix", "vexlumix", "brinoxix")  # on lines 12, 13, 14
SPREAD = ("takpelix", "gakwumix", "noxfimix")  # on lines 0, 12, 24
SINGLE = ("drupelix", "fimgakix")  # both on line 6


def _blocks(path: Path, truth: list[BlockTruth]) -> list[Region]:
    """The page's text-layer lines grouped into the drawn blocks: each block (union of its lines), then its lines."""
    lines = [r for r in load_pdf(path, ocr="never")[0].regions if r.level == "line"]
    out: list[Region] = []
    for t in truth:
        mine = sorted((ln for ln in lines if t.bbox.intersection_area(ln.bbox) > 0.5 * ln.bbox.area),
                      key=lambda r: r.bbox.y0)  # fmt: skip
        out += [Region(" ".join(ln.text for ln in mine), BBox.union_of([ln.bbox for ln in mine])), *mine]
    return out


def _page(path: Path, plants: dict, **layout) -> dict:
    """Write a long-block page, read its lines, embed it with the double."""
    path, truth = long_block_page(path, plants, **layout)
    regions = _blocks(path, truth)
    double = WordPatchEmbedder([path])
    embedding = double.embed_pages([load_pdf(path, ocr="never")[0].render(dpi=100)])[0]
    return {"path": path, "truth": truth, "regions": regions, "double": double, "embedding": embedding}


@pytest.fixture(scope="module")
def paragraph(tmp_path_factory: pytest.TempPathFactory) -> dict:
    plants = {(0, 12 + k): [w] for k, w in enumerate(ANSWER)}
    for line, w in zip((0, 12, 24), SPREAD, strict=True):
        plants.setdefault((0, line), []).append(w)
    plants[(0, 6)] = list(SINGLE)
    page = _page(tmp_path_factory.mktemp("long") / "paragraph.pdf", plants, columns=1, size=11.0, leading=17.0,
                 first_baseline=86.0)  # fmt: skip
    assert [len(ls) for ls in block_lines(page["regions"], page["regions"]) if ls] == [25]
    return page


@pytest.fixture(scope="module")
def columns(tmp_path_factory: pytest.TempPathFactory) -> dict:
    plants = {(1, 12 + k): [w] for k, w in enumerate(ANSWER)}
    page = _page(tmp_path_factory.mktemp("long") / "columns.pdf", plants, columns=2)
    assert [len(ls) for ls in block_lines(page["regions"], page["regions"]) if ls] == [25, 25]
    return page


def _top(page: dict, query: str, options: GroundingOptions | None = None):
    g = ground_page(page["double"].embed_queries([query])[0], page["embedding"], page["regions"],
                    options or GroundingOptions())  # fmt: skip
    return select([g], options or GroundingOptions()).regions[0]


def _lines(page: dict, block: int) -> list[Region]:
    """The text-layer lines of the page's ``block``-th block."""
    blocks = [r for r in page["regions"] if r.level == "block"]
    return block_lines(blocks, page["regions"])[block]


def _truth_lines(page: dict, block: int, first: int, last: int) -> BBox:
    return BBox.union_of([ln.bbox for ln in page["truth"][block].lines[first : last + 1]])


def test_the_answer_lines_of_a_long_paragraph_are_handed_over(paragraph: dict) -> None:
    lines = _lines(paragraph, 0)
    top = _top(paragraph, " ".join(ANSWER))
    assert top.granularity == "lines" and (top.run.first, top.run.last) == (12, 14)
    assert top.region.bbox == BBox.union_of([ln.bbox for ln in lines[12:15]])
    assert top.region.bbox.iou(_truth_lines(paragraph, 0, 12, 14)) >= 0.8
    assert top.region.text == " ".join(ln.text for ln in lines[12:15])
    assert top.granularity_metadata() == {"granularity": "lines", "lines": [13, 15], "block_lines": 25}


def test_relevance_spread_over_a_long_block_keeps_it_whole(paragraph: dict) -> None:
    top = _top(paragraph, " ".join(SPREAD))
    assert top.run is None and top.region == paragraph["regions"][0]


def test_one_hot_row_grows_to_two_rows(paragraph: dict) -> None:
    lines = _lines(paragraph, 0)
    top = _top(paragraph, " ".join(SINGLE))
    assert top.run is not None and top.run.first <= 6 <= top.run.last
    n_rows = paragraph["embedding"].grid.n_rows
    rows = {int(ln.bbox.center[1] * n_rows) for ln in lines[top.run.first : top.run.last + 1]}
    assert len(rows) == 2 and top.run.last - top.run.first + 1 <= 3


def test_blocks_up_to_long_block_lines_stay_whole(paragraph: dict, tmp_path: Path) -> None:
    top = _top(paragraph, " ".join(ANSWER), GroundingOptions(long_block_lines=25))
    assert top.run is None and top.region == paragraph["regions"][0]
    assert _top(paragraph, " ".join(ANSWER), GroundingOptions(long_block_lines=None)).run is None
    short = _page(tmp_path / "short.pdf", {(0, 5 + k): [w] for k, w in enumerate(ANSWER)}, columns=1, n_lines=12)
    top = _top(short, " ".join(ANSWER))  # a 12-line paragraph (the default limit) is handed over whole
    assert top.run is None and top.region == short["regions"][0]


def test_two_lines_per_cell_row_come_back_as_the_rows_that_hold_them(columns: dict) -> None:
    lines = _lines(columns, 1)
    top = _top(columns, " ".join(ANSWER))
    assert top.region_index == 1 and top.granularity == "lines"  # the right column's block
    assert top.run.first <= 12 and top.run.last >= 14 and top.run.last - top.run.first + 1 <= 4
    assert top.region.bbox == BBox.union_of([ln.bbox for ln in lines[top.run.first : top.run.last + 1]])
    assert top.region.bbox.iou(_truth_lines(columns, 1, 12, 14)) >= 0.7


def test_an_ocr_scan_of_the_columns_gives_the_answer_rows(columns: dict, tmp_path: Path) -> None:
    scan = load_pdf(rasterize_pdf(columns["path"], tmp_path / "scan.pdf", dpi=150), ocr="always")[0]
    assert {r.source for r in scan.regions} == {"ocr"}
    embedding = columns["double"].embed_pages([scan.render(dpi=100)])[0]  # matched to the original page
    g = ground_page(columns["double"].embed_queries([" ".join(ANSWER)])[0], embedding, scan.regions)
    top = select([g]).regions[0]
    assert top.granularity == "lines" and top.run.n_lines >= 20
    assert top.region.bbox.iou(_truth_lines(columns, 1, 12, 14)) >= 0.6


def _line(y0: float) -> Region:
    return Region("w", BBox(0.1, y0, 0.9, y0 + 0.01), level="line")


def test_row_windows_group_the_lines_centred_in_one_row() -> None:
    lines = [_line(0.02 + 0.05 * k) for k in range(8)]  # centres 0.025, 0.075, ...: two per row of 0.1
    assert row_windows(lines, 0, 7, 10) == [(0, 1), (2, 3), (4, 5), (6, 7)]
    assert row_windows(lines, 3, 6, 10) == [(3, 3), (4, 5), (6, 6)]
    assert row_windows(lines, 0, 7, 1) == [(0, 7)]


def test_units_cut_only_segments_longer_than_the_limit() -> None:
    lines = [_line(0.02 + 0.05 * k) for k in range(8)]
    spans, window = units(lines, 10, 6)
    assert spans == [(0, 1), (2, 3), (4, 5), (6, 7)] and window.tolist() == [True] * 4
    spans, window = units(lines, 10, 8)
    assert spans == [(0, 7)] and window.tolist() == [False]
    assert units(lines, 10, None)[0] == [(0, 7)]


def test_widen_grows_runs_of_windows_to_two_rows() -> None:
    scores = np.array([0.1, 0.3, 0.9, 0.2, np.nan])
    w = np.ones(5, dtype=bool)
    assert widen((2, 2), scores, w) == (1, 2)  # the hotter neighbour
    assert widen((3, 3), scores, w) == (2, 3)  # NaN counts lowest
    assert widen((1, 2), scores, w) == (1, 2)
    assert widen((2, 2), np.array([0.1, 0.3, 0.9, 0.3, 0.1]), w) == (1, 2)  # a tie takes the earlier
    segs = np.array([True, True, False, True, True])
    assert widen((2, 2), scores, segs) == (2, 2)  # a segment's edges are layout cues: never widened


def test_hot_span_keeps_the_stretch_of_hot_windows_around_the_best() -> None:
    w = np.ones(8, dtype=bool)
    scores = np.array([0.1, 0.1, 0.9, 0.8, 0.1, 0.1, 0.6, 0.1])
    assert hot_span(scores, 1.0, 0.5) == (2, 6)  # segments: first to last hot
    assert hot_span(scores, 1.0, 0.5, w) == (2, 3)  # two cold windows part the stray hot row
    bridged = np.array([0.1, 0.1, 0.9, 0.1, 0.7, 0.1, 0.1, 0.1])
    assert hot_span(bridged, 1.0, 0.5, w) == (2, 4)  # one cold window is bridged
    ends = np.array([0.9, 0.1, 0.1, 0.8, 0.1, 0.1, 0.1, 0.7])
    assert hot_span(ends, 1.0, 0.5, w) is None  # hot at both ends: spread, the block stays whole


def test_long_block_lines_is_validated() -> None:
    assert GroundingOptions(long_block_lines=None).long_block_lines is None
    with pytest.raises(GroundingError, match="long_block_lines must be a positive integer"):
        GroundingOptions(long_block_lines=0)
