"""Adaptive granularity: a block handed over as the run of its line segments where the relevance concentrates.

A generated PDF (reportlab, Vera 10 pt) holds a hanging list of three two-line items and a bold run-in
heading above its body; lines come from the real text layer (`load_pdf`), the blocks are set here as the
union of their lines (so the test does not depend on how ingestion groups them), and the patch vectors come
from the word-patch double on the rendered page, so the right answers are known.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from llama_index_colret.geometry import BBox
from llama_index_colret.grounding import GroundingOptions, PageGrounding, ground_page, select
from llama_index_colret.grounding.granularity import block_lines, hot_span, segments
from llama_index_colret.grounding.tables import estimate_tokens
from llama_index_colret.ingest.page import Region
from llama_index_colret.ingest.pdf import load_pdf
from llama_index_colret.testing.double import WordPatchEmbedder

FILL = ["river", "valley", "holds", "old", "stone", "bridges", "where", "merchants", "crossed", "with", "grain",
        "salt", "each", "autumn"]  # fmt: skip
ITEM_WORDS = [("zorquix", "vexlumix"), ("brinoxix", "takpelix"), ("drufimix", "gakwumix")]
HEADING = "Quorvantine methods"


def _filler(seed: int, n: int) -> str:
    return " ".join(FILL[(seed + 3 * i) % len(FILL)] for i in range(n))


def _write(path: Path) -> None:
    """Three hanging two-line items (marker at 72 pt, text at 88 pt; item k's rare words on both its lines),
    then, 60 pt lower, a bold heading directly above four lines of body text."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    for name, file in (("Vera", "Vera.ttf"), ("VeraBd", "VeraBd.ttf")):
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, file))
    c = Canvas(str(path), pagesize=(612, 792), invariant=1)
    y = 100.0
    for k, (a, b) in enumerate(ITEM_WORDS):
        c.setFont("Vera", 10)
        c.drawString(72, 792 - y, f"- {_filler(k, 5)} {a} {_filler(k + 7, 5)}")
        c.drawString(88, 792 - y - 12.5, f"{_filler(k + 2, 2)} {b} {_filler(k + 4, 2)}")
        y += 25.0
    y += 60.0
    c.setFont("VeraBd", 10)
    c.drawString(72, 792 - y, HEADING)
    c.setFont("Vera", 10)
    for k in range(4):
        c.drawString(72, 792 - y - 12.5 * (k + 1), _filler(k, 11 if k < 3 else 4))
    c.showPage()
    c.save()


def _blocks(path: Path) -> list[Region]:
    """The page's text-layer lines grouped into the two blocks drawn (list, heading + body), ingestion order."""
    lines = [r for r in load_pdf(path, ocr="never")[0].regions if r.level == "line"]
    lines.sort(key=lambda r: (r.bbox.y0, r.bbox.x0))
    out: list[Region] = []
    for part in ([ln for ln in lines if ln.bbox.y0 < 0.25], [ln for ln in lines if ln.bbox.y0 >= 0.25]):
        text = " ".join(ln.text for ln in part)
        out += [Region(text, BBox.union_of([ln.bbox for ln in part])), *part]
    return out


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[WordPatchEmbedder, object, list[Region]]:
    path = tmp_path_factory.mktemp("granularity") / "list.pdf"
    _write(path)
    regions = _blocks(path)
    assert [len(ls) for ls in block_lines(regions, regions) if ls] == [6, 5]
    double = WordPatchEmbedder([path])
    embedding = double.embed_pages([load_pdf(path, ocr="never")[0].render(dpi=100)])[0]
    return double, embedding, regions


def _ground(page, query: str, options: GroundingOptions | None = None) -> PageGrounding:
    double, embedding, regions = page
    return ground_page(double.embed_queries([query])[0], embedding, regions, options or GroundingOptions())


def test_one_item_of_a_merged_list_is_handed_over_with_its_lines_union_box(page) -> None:
    _, _, regions = page
    lines = block_lines(regions, regions)[0]
    sel = select([_ground(page, "brinoxix takpelix")])
    top = sel.regions[0]
    assert top.granularity == "lines" and (top.run.first, top.run.last) == (2, 3)
    assert top.region.bbox == BBox.union_of([lines[2].bbox, lines[3].bbox])
    assert top.region.text == f"{lines[2].text} {lines[3].text}"
    assert top.granularity_metadata() == {"granularity": "lines", "lines": [3, 4], "block_lines": 6}


def test_relevance_spread_over_the_block_keeps_it_whole(page) -> None:
    _, _, regions = page
    top = select([_ground(page, "zorquix gakwumix")]).regions[0]  # items 1 and 3: both ends of the block
    assert top.run is None and top.granularity == "block"
    assert top.region == regions[0] and top.granularity_metadata() == {"granularity": "block"}


def test_a_run_in_heading_is_cut_from_its_body(page) -> None:
    _, _, regions = page
    heading_line = block_lines([regions[7]], regions)[0][0]
    top = select([_ground(page, HEADING)]).regions[0]
    assert top.region.text == HEADING and top.region.bbox == heading_line.bbox
    assert top.region.bbox.iou(regions[7].bbox) < 0.3  # the whole block (heading + body) would have been handed


def test_block_granularity_hands_over_whole_blocks(page) -> None:
    g = _ground(page, "brinoxix takpelix", GroundingOptions(granularity="block"))
    top = select([g], GroundingOptions(granularity="block")).regions[0]
    assert top.run is None and top.region == page[2][0]


def test_the_token_budget_counts_the_trimmed_text(page) -> None:
    _, _, regions = page
    g = _ground(page, "brinoxix takpelix")
    sel = select([g], GroundingOptions(top_k=1))
    top = sel.regions[0]
    assert top.tokens == math.ceil(len(top.region.text) / 4) < estimate_tokens(regions[0])
    assert sel.tokens_kept == top.tokens
    assert sel.tokens_total == sum(estimate_tokens(g.regions[i]) for i in np.flatnonzero(g.covered))
    # a budget the item fits and the whole list overflows: the trimmed item is what the budget charges
    budget = select([g], GroundingOptions(token_budget=top.tokens))
    assert budget.tokens_kept == top.tokens and [s.run for s in budget.regions] == [top.run]


def _line(x0: float, y0: float, x1: float) -> Region:
    return Region("w", BBox(x0, y0, x1, y0 + 0.012), level="line")


def test_segments_follow_hanging_lists_first_line_indents_and_short_lines() -> None:
    hanging = [_line(0.10, 0.1 + 0.015 * k, 0.85 if k % 2 == 0 else 0.50) for k in range(6)]
    hanging = [Region(r.text, BBox(0.10 if k % 2 == 0 else 0.13, r.bbox.y0, r.bbox.x1, r.bbox.y1), level="line")
               for k, r in enumerate(hanging)]  # fmt: skip
    assert segments(hanging) == [(0, 1), (2, 3), (4, 5)]
    justified = [_line(0.13 if k in (0, 3) else 0.10, 0.1 + 0.015 * k, 0.88) for k in range(6)]
    assert segments(justified) == [(0, 2), (3, 5)]  # first-line indents, every line full
    ragged = [_line(0.10, 0.1 + 0.015 * k, 0.88 - 0.03 * (k % 2)) for k in range(5)] + [_line(0.10, 0.2, 0.3)]
    assert segments(ragged) == [(0, 5)]  # a clean paragraph is one segment
    heading = [_line(0.10, 0.1, 0.30), *[_line(0.10, 0.115 + 0.015 * k, 0.88) for k in range(3)]]
    assert segments(heading) == [(0, 0), (1, 3)]
    assert segments([]) == []


def test_hot_span_rules() -> None:
    assert hot_span(np.array([0.5, 0.9, 0.5]), 1.0, 0.5) == (1, 1)
    assert hot_span(np.array([0.9, 0.2, 0.9]), 1.0, 0.5) is None  # both ends hot: spread
    assert hot_span(np.array([0.8, 0.9, 0.2]), 1.0, 0.5) == (0, 1)
    assert hot_span(np.array([0.5, 0.6, 0.5]), 1.0, 0.5) is None  # contrast 0.1 < a quarter of the page range
    assert hot_span(np.array([0.5, 0.6, 0.5]), 0.2, 0.5) == (1, 1)  # the same block on a flatter page
    assert hot_span(np.array([0.5, 0.5]), 0.0, 0.5) is None  # flat page
    assert hot_span(np.array([0.9]), 1.0, 0.5) is None  # one segment
    assert hot_span(np.array([np.nan, 0.9, 0.1]), 1.0, 0.5) == (1, 1)


def test_lines_belong_to_the_text_block_they_follow_and_lie_in() -> None:
    block = Region("a b", BBox(0.1, 0.1, 0.9, 0.2))
    table = Region("t", BBox(0.1, 0.3, 0.9, 0.4), kind="table")
    inside, outside = _line(0.1, 0.12, 0.8), _line(0.1, 0.5, 0.8)
    cell = _line(0.1, 0.32, 0.3)
    regions = [block, inside, outside, table, cell]
    assert block_lines([block, table], regions) == [[inside], []]
    assert block_lines([Region("x", BBox(0, 0, 1, 1))], regions) == [[]]  # not among the regions


def test_page_grounding_checks_runs_against_candidates() -> None:
    regions = [Region("a", BBox(0, 0, 1, 1))]
    g = PageGrounding(np.zeros((1, 1)), regions, np.zeros(1), np.ones(1, bool))
    assert g.runs == [None] and g.offered(0) is regions[0]
    with pytest.raises(ValueError, match="2 line runs for 1 candidate"):
        PageGrounding(np.zeros((1, 1)), regions, np.zeros(1), np.ones(1, bool), runs=[None, None])


def test_level_line_never_trims(page) -> None:
    g = _ground(page, "brinoxix takpelix", GroundingOptions(level="line"))
    assert all(r is None for r in g.runs)
