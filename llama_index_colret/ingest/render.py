"""Page images: render PDF pages to RGB PIL images, one document open per call.

The default backend is pdfium (pypdfium2, in process): ~6 ms per letter page at 150 dpi on one core,
against ~22 ms for poppler through pdf2image with two threads (it spawns ``pdftoppm`` and decodes PPM
files), and it draws exactly the page the text layer was read from. ``backend="poppler"`` renders each
contiguous run of page numbers in one ``pdftoppm`` call (``first_page``/``last_page``) and stays available
for PDFs that pdfium draws badly. Both draw the page rotated by its ``/Rotate`` and cut to its crop box.
Both cap the pixels of a page (`pixels.render_dpi`: at most 40 Mpx and 20,000 px a side, the dpi scaled
down above that), so a huge page costs at most ~160 MB as a bitmap.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

from PIL import Image

from ..errors import PDFError
from .document import PDFIUM_LOCK, open_document
from .pixels import render_dpi

Backend = Literal["pdfium", "poppler"]


def _runs(numbers: Sequence[int]) -> list[tuple[int, int]]:
    """Contiguous runs ``(first, last)`` of 1-based page numbers, in the given order."""
    runs: list[tuple[int, int]] = []
    for n in numbers:
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


def iter_page_images(
    path: str | Path,
    numbers: Sequence[int],
    dpi: int = 150,
    password: str | None = None,
    *,
    backend: Backend = "pdfium",
) -> Iterator[tuple[int, Image.Image]]:
    """``(number, image)`` for each requested 1-based page, in the given order, one at a time (memory stays
    at one page for pdfium, one contiguous run for poppler); raises PDFError for a page that does not exist."""
    if dpi <= 0:
        raise ValueError(f"dpi must be positive, got {dpi}")
    if backend not in ("pdfium", "poppler"):
        raise ValueError(f"backend must be 'pdfium' or 'poppler', got {backend!r}")
    with PDFIUM_LOCK:
        doc = open_document(path, password)
        n_pages = len(doc)
        for n in numbers:
            if not 1 <= n <= n_pages:
                doc.close()
                raise PDFError(path, f"page {n} does not exist (the document has {n_pages} pages)")
        if backend == "poppler":
            capped = min(render_dpi(*doc.get_page_size(n - 1), dpi) for n in numbers) if numbers else dpi
            doc.close()
    if backend == "poppler":
        yield from _poppler(path, numbers, capped, password)
        return
    try:
        for n in numbers:
            with PDFIUM_LOCK:
                page = doc[n - 1]
                try:
                    scale = render_dpi(*page.get_size(), dpi) / 72.0
                    bitmap = page.render(scale=scale, may_draw_forms=True)
                    image = bitmap.to_pil().convert("RGB")
                finally:
                    page.close()
            yield n, image
    finally:
        with PDFIUM_LOCK:
            doc.close()


def _poppler(path: str | Path, numbers: Sequence[int], dpi: float, password: str | None):
    from pdf2image import convert_from_path
    from pdf2image.exceptions import PDFPageCountError, PDFSyntaxError

    for first, last in _runs(numbers):
        try:
            images = convert_from_path(
                str(path), dpi=dpi, first_page=first, last_page=last, userpw=password,
                thread_count=min(2, last - first + 1),
            )  # fmt: skip
        except (PDFPageCountError, PDFSyntaxError) as exc:
            raise PDFError(path, f"poppler cannot render pages {first}-{last}: {exc}") from exc
        for n, img in zip(range(first, last + 1), images, strict=True):
            yield n, img.convert("RGB")
