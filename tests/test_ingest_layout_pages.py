"""Text-layer ingestion of pages that reproduce real layouts (testing/layout_pages.py): every element a person
would box comes out as one block region, line boxes hug the ink, and right-to-left text reads top down."""

from __future__ import annotations

from pathlib import Path

import pytest

from llama_index_colret.ingest.page import Page, Region
from llama_index_colret.ingest.pdf import load_pdf
from llama_index_colret.testing.layout_pages import ARABIC_FONT, BUILDERS
from llama_index_colret.testing.pdfgen import BlockTruth

ELEMENT_IOU = 0.8
LINE_IOU = 0.85


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, tuple[list[BlockTruth], Page]]:
    out = {}
    root = tmp_path_factory.mktemp("layout_pages")
    for name, build in BUILDERS.items():
        if name == "rtl" and not ARABIC_FONT.is_file():
            continue
        path, elements = build(root / f"{name}.pdf")
        out[name] = (elements, load_pdf(Path(path), ocr="never")[0])
    return out


def _page(built, name: str) -> tuple[list[BlockTruth], Page]:
    if name not in built:
        pytest.skip(f"{ARABIC_FONT} is missing (apt-get install fonts-dejavu-core)")
    return built[name]


def _best(element: BlockTruth, regions: list[Region]) -> tuple[float, Region | None]:
    scored = [(element.bbox.iou(r.bbox), r) for r in regions]
    return max(scored, key=lambda t: t[0], default=(0.0, None))


@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_element_is_one_block(built, name: str) -> None:
    elements, page = _page(built, name)
    blocks = page.regions_at("block")
    misses = []
    for e in elements:
        iou, r = _best(e, [b for b in blocks if b.kind == e.kind])
        if iou < ELEMENT_IOU:
            misses.append((e.role, e.text[:40], round(iou, 2), r.text[:40] if r else None))
    assert not misses, misses


@pytest.mark.parametrize("name", list(BUILDERS))
def test_block_count_is_what_a_person_would_box(built, name: str) -> None:
    elements, page = _page(built, name)
    assert len(page.regions_at("block")) == len(elements)


@pytest.mark.parametrize("name", [n for n in BUILDERS if n != "vector_chart"])
def test_line_boxes_hug_the_ink(built, name: str) -> None:
    elements, page = _page(built, name)
    lines = [r for r in page.regions if r.level == "line"]
    worst = min((_best_line(t.bbox, lines), t.text) for e in elements if e.kind == "text" for t in e.lines)
    assert worst[0] >= LINE_IOU, worst


def _best_line(box, lines: list[Region]) -> float:
    return max((box.iou(r.bbox) for r in lines), default=0.0)


def test_list_items_keep_their_markers(built) -> None:
    elements, page = _page(built, "bullet_list")
    texts = [r.text for r in page.regions_at("block")]
    items = [e.text for e in elements if e.role == "list_item"]
    assert [t for t in texts if t in items] == items  # control-character bullets read as "•"


def test_run_in_heading_stands_alone(built) -> None:
    elements, page = _page(built, "run_in_heading")
    assert [r.text for r in page.regions_at("block")] == [e.text for e in elements]


def test_table_in_one_column_keeps_to_its_column(built) -> None:
    elements, page = _page(built, "column_table")
    tables = [r for r in page.regions_at("block") if r.kind == "table"]
    assert [t.text for t in tables] == [e.text for e in elements if e.kind == "table"]


def test_vector_chart_and_logo_are_figures(built) -> None:
    elements, page = _page(built, "vector_chart")
    figures = [r for r in page.regions_at("block") if r.kind == "figure"]
    assert [f.text for f in figures] == ["", "Figure 1: Sales by region"]
    assert all(not r.text.startswith(("north", "south")) for r in page.regions_at("block"))  # labels belong to it


def test_right_to_left_reads_top_down(built) -> None:
    elements, page = _page(built, "rtl")
    blocks = page.regions_at("block")
    assert [b.text for b in blocks] == [e.text for e in elements]
    assert [b.bbox.y0 for b in blocks] == sorted(b.bbox.y0 for b in blocks)
