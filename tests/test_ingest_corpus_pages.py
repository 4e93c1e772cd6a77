"""Text-layer ingestion of generated pages that reproduce corpus defects (testing/corpus_pages.py): each
element is one block, and symbol-font bullets and line-end hyphens read as printed."""

from __future__ import annotations

import pytest

from llama_index_colret.ingest.pdf import load_pdf
from llama_index_colret.testing.corpus_pages import BUILDERS

ELEMENT_IOU = 0.8


@pytest.mark.parametrize("name", list(BUILDERS))
def test_every_element_is_one_block_with_its_text(tmp_path, name: str) -> None:
    path, elements = BUILDERS[name](tmp_path / f"{name}.pdf")
    blocks = load_pdf(path, ocr="never")[0].regions_at("block")
    assert [b.text for b in blocks] == [e.text for e in elements]
    assert all(e.bbox.iou(b.bbox) >= ELEMENT_IOU for e, b in zip(elements, blocks, strict=True))


def test_private_use_bullets_and_line_end_hyphens_read_as_printed(tmp_path) -> None:
    path, _ = BUILDERS["symbol_font"](tmp_path / "symbol_font.pdf")
    text = " ".join(r.text for r in load_pdf(path, ocr="never")[0].regions_at("block"))
    assert text.count("• ") == 3 and "\uf0b7" not in text
    assert "signifi- cant" in text and "measure- ment" in text


def test_tick_labels_of_plots_side_by_side_are_no_table(tmp_path) -> None:
    path, _ = BUILDERS["twin_plots"](tmp_path / "twin_plots.pdf")
    blocks = load_pdf(path, ocr="never")[0].regions_at("block")
    assert [b.kind for b in blocks] == ["text", "figure", "figure", "text", "text"]
