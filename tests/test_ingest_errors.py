"""Bad input: every unreadable PDF raises PDFError naming the file and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from llama_index_colret.errors import PDFError
from llama_index_colret.ingest.pdf import load_pdf
from llama_index_colret.ingest.render import iter_page_images
from llama_index_colret.testing.pdfgen import PageSpec, make_pdf, sample_paragraphs


def _zero_pages() -> bytes:
    """A well-formed PDF with no pages (written by pdfium itself)."""
    import io

    import pypdfium2 as pdfium

    buf = io.BytesIO()
    doc = pdfium.PdfDocument.new()
    doc.new_page(100, 100)
    doc.del_page(0)
    doc.save(buf)
    doc.close()
    return buf.getvalue()


def _encrypted(path: Path) -> Path:
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen.canvas import Canvas

    c = Canvas(str(path), pagesize=(612, 792), encrypt=pdfencrypt.StandardEncryption("secret", canPrint=1))
    c.drawString(72, 720, "classified text")
    c.showPage()
    c.save()
    return path


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty file"),
        (b"hello, I am a text file\n", "not a PDF"),
        (b"%PDF-1.7\n" + b"\x00garbage" * 50, "corrupt"),
        (_zero_pages(), "no pages"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "bad.pdf"
    path.write_bytes(content)
    with pytest.raises(PDFError, match=problem) as info:
        load_pdf(path)
    assert info.value.path == str(path) and str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PDFError, match="no such file"):
        load_pdf(tmp_path / "absent.pdf")


def test_encrypted_needs_the_right_password(tmp_path: Path) -> None:
    path = _encrypted(tmp_path / "locked.pdf")
    with pytest.raises(PDFError, match="password is required"):
        load_pdf(path)
    with pytest.raises(PDFError, match="wrong password"):
        load_pdf(path, password="nope")
    (page,) = load_pdf(path, password="secret")
    assert [r.text for r in page.regions_at("block")] == ["classified text"]
    assert page.render(dpi=36).size == (306, 396)  # rendering reuses the password


def test_bad_arguments(tmp_path: Path) -> None:
    path = tmp_path / "ok.pdf"
    make_pdf(path, [PageSpec(paragraphs=sample_paragraphs(1))])
    with pytest.raises(ValueError, match="ocr must be one of"):
        load_pdf(path, ocr="sometimes")  # type: ignore[arg-type]
    with pytest.raises(PDFError, match="page 3 does not exist"):
        list(iter_page_images(path, [3]))


def test_page_images_match_sizes_and_backends(tmp_path: Path) -> None:
    path = tmp_path / "three.pdf"
    make_pdf(path, [PageSpec(paragraphs=sample_paragraphs(1)), PageSpec(page_size="landscape"), PageSpec()])
    images = [im for _, im in iter_page_images(path, [1, 2, 3], dpi=72)]
    assert [im.size for im in images] == [(612, 792), (792, 612), (612, 792)]
    poppler = [im for _, im in iter_page_images(path, [2, 3], dpi=72, backend="poppler")]
    assert [im.size for im in poppler] == [(792, 612), (612, 792)]
    pages = load_pdf(path)
    assert pages[1].render(dpi=72).size == (792, 612)
