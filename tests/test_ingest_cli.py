"""`colret regions`: JSON shape, listing, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llama_index_colret.cli import main
from llama_index_colret.testing.pdfgen import PageSpec, make_pdf, sample_paragraphs


@pytest.fixture(scope="module")
def pdf(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "doc.pdf"
    table = [["name", "count"], ["apples", "12"], ["pears", "7"]]
    make_pdf(path, [PageSpec(paragraphs=sample_paragraphs(2, seed=3)), PageSpec(table=table)])
    return path


def test_json_blocks(pdf: Path, capsys) -> None:
    assert main(["regions", str(pdf), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["file"] == str(pdf) and [p["number"] for p in out["pages"]] == [1, 2]
    p1 = out["pages"][0]
    assert (p1["width_pt"], p1["height_pt"]) == (612.0, 792.0)
    assert len(p1["regions"]) == 2
    r = p1["regions"][0]
    assert set(r) == {"text", "bbox", "kind", "level", "source"} and len(r["bbox"]) == 4
    assert (r["kind"], r["level"], r["source"]) == ("text", "block", "text_layer")
    assert [r["kind"] for r in out["pages"][1]["regions"]] == ["table"]


def test_json_lines(pdf: Path, capsys) -> None:
    assert main(["regions", str(pdf), "--json", "--level", "line"]) == 0
    regions = json.loads(capsys.readouterr().out)["pages"][0]["regions"]
    assert len(regions) > 2 and all(r["level"] == "line" for r in regions)


def test_listing(pdf: Path, capsys) -> None:
    assert main(["regions", str(pdf)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("page 1 (612 x 792 pt): 2 regions") and "table" in out


def test_error_is_one_line(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "notes.pdf"
    bad.write_text("just text")
    assert main(["regions", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a PDF" in err and str(bad) in err and "Traceback" not in err
