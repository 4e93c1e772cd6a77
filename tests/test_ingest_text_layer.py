"""Text-layer ingestion against generated PDFs whose truth comes from reportlab's font metrics."""

from __future__ import annotations

import pytest

from llama_index_colret.geometry import BBox
from llama_index_colret.ingest.page import Page, Region
from llama_index_colret.ingest.pdf import load_pdf
from llama_index_colret.testing.pdfgen import ChartSpec, PageSpec, PageTruth, make_pdf, sample_paragraphs

TABLE = [["Region", "Units", "Price"], ["north", "12", "3.50"], ["south", "7", "12.25"], ["east", "140", "0.75"]]
SPECS = {
    "one_column": PageSpec(paragraphs=sample_paragraphs(3, seed=1)),
    "two_columns": PageSpec(paragraphs=sample_paragraphs(4, words_per_paragraph=35, seed=2), columns=2),
    "table": PageSpec(paragraphs=sample_paragraphs(1, seed=3), table=TABLE),
    "small_font": PageSpec(paragraphs=sample_paragraphs(2, seed=4), font_size=8),
    "large_font": PageSpec(paragraphs=sample_paragraphs(2, words_per_paragraph=30, seed=5), font_size=18),
    "landscape": PageSpec(paragraphs=sample_paragraphs(2, seed=6), page_size="landscape"),
    "a4": PageSpec(paragraphs=sample_paragraphs(2, seed=7), page_size="a4", columns=2),
    "chart": PageSpec(
        paragraphs=sample_paragraphs(1, seed=8),
        chart=ChartSpec([3, 5, 2], ["north", "south", "east"], "Figure 2: Sales"),
    ),
}
NAMES = list(SPECS)


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> tuple[list[PageTruth], list[Page]]:
    path = tmp_path_factory.mktemp("ingest") / "layouts.pdf"
    truth = make_pdf(path, list(SPECS.values()))
    return truth, load_pdf(path, ocr="never")


def _best(box: BBox, regions: list[Region]) -> tuple[float, Region]:
    return max(((box.iou(r.bbox), r) for r in regions), key=lambda t: t[0])


@pytest.mark.parametrize("name", NAMES)
def test_page_size_and_source(generated, name: str) -> None:
    truth, pages = generated
    i = NAMES.index(name)
    assert pages[i].number == i + 1
    assert (pages[i].width_pt, pages[i].height_pt) == pytest.approx((truth[i].width_pt, truth[i].height_pt), abs=0.01)
    assert pages[i].regions and all(r.source == "text_layer" for r in pages[i].regions)


@pytest.mark.parametrize("name", NAMES)
def test_lines_match_truth(generated, name: str) -> None:
    truth, pages = generated
    i = NAMES.index(name)
    lines = [r for r in pages[i].regions if r.level == "line"]
    for t in truth[i].lines():
        iou, r = _best(t.bbox, lines)
        assert iou >= 0.9 and r.text == t.text, (t, r, iou)


@pytest.mark.parametrize("name", NAMES)
def test_blocks_are_paragraphs_in_reading_order(generated, name: str) -> None:
    truth, pages = generated
    i = NAMES.index(name)
    blocks = [r for r in pages[i].regions_at("block") if r.kind == "text"]
    expected = truth[i].blocks_of("text")
    assert [b.text for b in blocks] == [t.text for t in expected]
    for b, t in zip(blocks, expected, strict=True):
        assert b.bbox.iou(t.bbox) >= 0.9


def test_two_columns_never_merge(generated) -> None:
    truth, pages = generated
    page = pages[NAMES.index("two_columns")]
    for b in page.regions_at("block"):
        assert b.bbox.x1 < 0.5 or b.bbox.x0 > 0.5, b  # every block stays on its side of the gutter


def test_ruled_table_is_one_region_with_cells(generated) -> None:
    truth, pages = generated
    i = NAMES.index("table")
    tables = [r for r in pages[i].regions if r.kind == "table"]
    (t,) = truth[i].blocks_of("table")
    assert len(tables) == 1 and tables[0].level == "block"
    assert tables[0].text == "Region | Units | Price\nnorth | 12 | 3.50\nsouth | 7 | 12.25\neast | 140 | 0.75"
    assert tables[0].text == t.text and tables[0].bbox.iou(t.bbox) >= 0.95
    cells = {r.text for r in pages[i].regions_at("line") if r.kind == "text"}
    assert {c.text for c in t.lines} <= cells  # the cells are also line-level regions


def test_chart_is_a_figure_with_its_caption(generated) -> None:
    truth, pages = generated
    i = NAMES.index("chart")
    figures = [r for r in pages[i].regions if r.kind == "figure"]
    (t,) = truth[i].blocks_of("figure")
    assert len(figures) == 1
    assert figures[0].text == "Figure 2: Sales" and figures[0].bbox.iou(t.bbox) >= 0.95


def test_rotated_page_boxes_follow_the_rendered_view(tmp_path) -> None:
    """A page drawn upright and shown with /Rotate 90: boxes are in the displayed (rotated) frame."""
    import pypdfium2 as pdfium

    path = tmp_path / "rot.pdf"
    truth = make_pdf(path, [SPECS["one_column"]])[0]
    doc = pdfium.PdfDocument(str(path))
    doc[0].set_rotation(90)
    rotated = tmp_path / "rotated.pdf"
    doc.save(str(rotated))
    doc.close()
    (page,) = load_pdf(rotated, ocr="never")
    assert (page.width_pt, page.height_pt, page.rotation) == (792.0, 612.0, 90)
    lines = [r for r in page.regions if r.level == "line"]
    for t in truth.lines():
        iou, r = _best(t.bbox.rotated(90), lines)
        assert iou >= 0.9 and r.text == t.text
    img = page.render(dpi=72)
    assert img.size == (792, 612)
    x0, y0, x1, y1 = lines[0].bbox.to_pixels(*img.size)
    ink = img.convert("L").crop((x0, y0, x1, y1))
    assert ink.getextrema()[0] < 100  # the box sits on drawn text in the rendered view


def test_page_text_and_levels(generated) -> None:
    truth, pages = generated
    page = pages[NAMES.index("one_column")]
    assert page.text == "\n".join(b.text for b in truth[0].blocks_of("text"))
    assert all(r.level == "line" or r.kind != "text" for r in page.regions_at("line"))


def test_math_fonts_are_told_by_name() -> None:
    from llama_index_colret.ingest.text_layer import MATH_NAME

    math = ["CMMI10", "ABCDEF+CMSY7", "CMEX10", "CMMIB10", "MSBM10", "LMMathItalic10-Regular", "CambriaMath",
            "STIXTwoMath-Regular", "SymbolMT", "txsy", "rtxmi", "stmary10"]  # fmt: skip
    text = ["CMR10", "CMTI12", "CMBX10", "NimbusRomNo9L-Regu", "Helvetica", "SFRM1000", "TimesNewRomanPSMT"]
    assert [n for n in math if not MATH_NAME.match(n)] == []
    assert [n for n in text if MATH_NAME.match(n)] == []
