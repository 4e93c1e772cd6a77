"""OCR ingestion with real Tesseract on a generated page rasterised into a noisy, skewed image-only PDF."""

from __future__ import annotations

import re
from collections import Counter

import pytesseract
import pytest

from llama_index_colret.ingest.pdf import load_pdf
from llama_index_colret.testing.pdfgen import PageSpec, PageTruth, make_pdf, rasterize_pdf, sample_paragraphs


@pytest.fixture(scope="session")
def scanned(tmp_path_factory):
    d = tmp_path_factory.mktemp("ocr")
    truth = make_pdf(d / "clean.pdf", [PageSpec(paragraphs=sample_paragraphs(2, words_per_paragraph=40, seed=11))])
    rasterize_pdf(d / "clean.pdf", d / "scan.pdf", dpi=150, noise=8.0, skew_deg=0.3)
    mixed_truth = make_pdf(d / "mixed_src.pdf", [PageSpec(paragraphs=sample_paragraphs(1, seed=12))])
    return d, truth, mixed_truth


def _norm(text: str) -> list[str]:
    return [w for w in re.sub(r"[^\w\s]", "", text.lower()).split() if w]


def test_scanned_page_goes_to_ocr_with_good_lines_and_recall(scanned) -> None:
    d, truth, _ = scanned
    (page,) = load_pdf(d / "scan.pdf")  # ocr="auto": no text layer, so Tesseract reads it
    t: PageTruth = truth[0]
    assert page.error is None and page.regions and all(r.source == "ocr" for r in page.regions)
    lines = [r for r in page.regions if r.level == "line"]
    for tl in t.lines():
        assert max(tl.bbox.iou(r.bbox) for r in lines) >= 0.7, tl
    found = Counter(w for r in lines for w in _norm(r.text))
    want = Counter(w for w in _norm(" ".join(t.words)))
    recall = sum(min(n, found[w]) for w, n in want.items()) / sum(want.values())
    assert recall >= 0.95, recall
    blocks = [r for r in page.regions_at("block") if r.kind == "text"]
    assert len(blocks) == 2  # the two paragraphs as drawn


def test_never_means_no_ocr(scanned) -> None:
    d, _, _ = scanned
    (page,) = load_pdf(d / "scan.pdf", ocr="never")
    assert page.regions == [] and page.error is None


def test_always_ocrs_a_text_page(scanned) -> None:
    d, _, mixed = scanned
    (page,) = load_pdf(d / "mixed_src.pdf", ocr="always")
    assert page.regions and {r.source for r in page.regions} == {"ocr"}
    assert _norm(page.text)[:5] == _norm(mixed[0].blocks[0].text)[:5]


def test_failed_ocr_is_reported_and_other_pages_come_back(scanned, tmp_path, monkeypatch, caplog) -> None:
    """Two pages: a text page and a scan. With Tesseract missing the scan fails alone."""
    import pypdfium2 as pdfium

    d, _, _ = scanned
    doc = pdfium.PdfDocument(str(d / "mixed_src.pdf"))
    scan = pdfium.PdfDocument(str(d / "scan.pdf"))
    doc.import_pages(scan)
    doc.save(str(tmp_path / "two.pdf"))
    doc.close()
    scan.close()
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", str(tmp_path / "no-such-tesseract"))
    with caplog.at_level("WARNING"):
        pages = load_pdf(tmp_path / "two.pdf")
    assert [p.number for p in pages] == [1, 2]
    assert pages[0].regions and pages[0].error is None
    assert pages[1].regions == [] and "Tesseract is not installed" in (pages[1].error or "")
    assert "page 2" in caplog.text
