"""Open and validate a PDF, and turn it into `Page`s with regions (text layer, or Tesseract OCR).

`load_pdf` opens the document once (bad files raise `PDFError` naming the file and the problem), reads the
text layer of every page with pypdfium2 and renders only the pages that need OCR: a page is OCR'd when
``ocr="always"``, or with ``ocr="auto"`` when its text layer is unusable: fewer than `MIN_CHARS` printable
characters, or fewer than `MIN_CHARS_ON_SCAN` while one image covers half the page or more (a scan with a
stray stamp or page number in its text layer). Evidence from the corpus: ``annotations.pdf`` (12 characters,
no image, everything visible is in the text layer) stays text layer; ``malformed-from-issue-932.pdf`` (7
characters over a full-page scan) goes to OCR; ``issue-842-example.pdf`` (141 characters, a logo covering
4 %) stays text layer.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import pypdfium2 as pdfium
from PIL import Image

from ..errors import OCRError, PDFError
from .document import PDFIUM_LOCK, open_document
from .layout import Word
from .ocr import ocr_words
from .page import Page, Region
from .pixels import is_blank, render_dpi
from .regions import build_regions
from .render import iter_page_images
from .text_layer import read_text_layer

log = logging.getLogger(__name__)

OcrMode = Literal["auto", "always", "never"]
OCR_MODES: tuple[str, ...] = ("auto", "always", "never")
MIN_CHARS = 5
MIN_CHARS_ON_SCAN = 50
SCAN_COVERAGE = 0.5
MAX_PAGE_PT = 200 * 14_400.0  # 200 x the PDF 1.7 page limit (14,400 pt = 200 in): larger is a broken MediaBox


def checked_page_size(path: str | Path, number: int, width_pt: float, height_pt: float) -> tuple[float, float]:
    """The page size in points when it is positive, finite and at most `MAX_PAGE_PT` a side; else a PDFError
    naming the file, page and size (a ``[0 0 0 0]`` or ``[0 0 1e30 1e30]`` MediaBox)."""
    ok = all(math.isfinite(v) and 0 < v <= MAX_PAGE_PT for v in (width_pt, height_pt))
    if not ok:
        raise PDFError(
            path, f"page size {width_pt:g} x {height_pt:g} pt is not a usable size (positive, at most "
            f"{MAX_PAGE_PT:g} pt a side); the MediaBox is broken", page=number,
        )  # fmt: skip
    return float(width_pt), float(height_pt)


def needs_ocr(n_chars: int, image_coverage: float) -> bool:
    """Whether a page's text layer is unusable (see the module docstring for the rule and its evidence)."""
    return n_chars < MIN_CHARS or (n_chars < MIN_CHARS_ON_SCAN and image_coverage >= SCAN_COVERAGE)


def _text_pages(
    path: Path, dpi: int, ocr: OcrMode, password: str | None, numbers: Sequence[int] | None
) -> tuple[list[Page], list[int]]:
    """Pages (``numbers``, 1-based; all when None) with text-layer regions, and the numbers of the pages that
    still need OCR."""
    pages, to_ocr = [], []
    with PDFIUM_LOCK:
        doc = open_document(path, password)
        try:
            for n in range(1, len(doc) + 1) if numbers is None else numbers:
                if not 1 <= n <= len(doc):
                    raise PDFError(path, f"page {n} does not exist (the document has {len(doc)} pages)")
                page = _load_page(doc, path, n)
                try:
                    out, wants_ocr = _read_page(path, page, n, dpi, ocr, password)
                finally:
                    page.close()
                pages.append(out)
                if wants_ocr:
                    to_ocr.append(out.number)
        finally:
            doc.close()
    return pages, to_ocr


def _load_page(doc: pdfium.PdfDocument, path: Path, number: int) -> pdfium.PdfPage:
    """Page ``number`` (1-based) of an open document; PDFError naming it when pdfium cannot load it (a page
    tree with a cycle, a broken page object)."""
    try:
        return doc[number - 1]
    except pdfium.PdfiumError as exc:
        raise PDFError(path, f"pdfium cannot load the page ({exc}); the page tree may be corrupt", page=number) from exc


def _read_page(
    path: Path, page: pdfium.PdfPage, number: int, dpi: int, ocr: OcrMode, password: str | None
) -> tuple[Page, bool]:
    """One page with its text-layer regions, and whether it needs OCR instead."""
    x0, y0, x1, y1 = page.get_cropbox()  # pdfium draws a broken box as a letter page, the text layer divides by it
    checked_page_size(path, number, abs(x1 - x0), abs(y1 - y0))
    w, h = checked_page_size(path, number, *page.get_size())
    shown = int(render_dpi(w, h, dpi))  # the resolution every render of this page gets (pixel cap)
    out = Page(path, number, w, h, rotation=page.get_rotation(), dpi=shown, password=password)
    if ocr == "always":
        return out, True
    layer = read_text_layer(page)
    if ocr == "auto" and needs_ocr(layer.n_chars, layer.image_coverage):
        return out, True
    out.regions = build_regions(
        layer.words,
        layer.width,
        layer.height,
        source="text_layer",
        rules=layer.rules,
        images=layer.images,
        drawings=layer.drawings,
        rotation=layer.rotation,
    )
    return out, False


def _ocr_page(image: Image.Image, number: int, dpi: int) -> list[Region]:
    """Regions of one rendered page from Tesseract's words."""
    words: list[Word] = ocr_words(image, dpi=dpi)
    return build_regions(words, image.width, image.height, source="ocr")


def _run_ocr(pages: list[Page], numbers: list[int], dpi: int, password: str | None, workers: int) -> None:
    """OCR the given pages in parallel (render in this thread, Tesseract in `workers` threads)."""
    by_number = {p.number: p for p in pages}
    pending: dict[int, Future] = {}

    def collect(done: Callable[[int], bool]) -> None:
        for n in [n for n in pending if done(n)]:
            page = by_number[n]
            try:
                page.regions = pending.pop(n).result()
            except OCRError as exc:
                page.regions, page.error = [], f"OCR failed: {exc}"
                log.warning("%s, page %d: %s", page.path, n, page.error)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for n, image in iter_page_images(pages[0].path, numbers, dpi, password):
            if is_blank(image):  # nothing to read: no Tesseract call (1,000 blank pages were 98 s)
                by_number[n].regions = []
                continue
            pending[n] = pool.submit(_ocr_page, image, n, by_number[n].dpi)
            while len(pending) >= 2 * workers:  # bounded: at most 2 images per worker in memory
                next(iter(pending.values())).exception()
                collect(lambda k: pending[k].done())
        collect(lambda k: True)


def load_pdf(
    path: str | Path,
    *,
    dpi: int = 150,
    ocr: OcrMode = "auto",
    password: str | None = None,
    workers: int | None = None,
    numbers: Sequence[int] | None = None,
) -> list[Page]:
    """Pages of a PDF with regions in reading order; images are rendered on demand (`Page.render`).

    ``ocr``: ``"auto"`` (OCR pages without a usable text layer), ``"always"`` or ``"never"``. OCR runs on
    ``workers`` threads (default: the CPU count), each driving a single-threaded Tesseract. A page whose
    OCR fails keeps no regions and says why in `Page.error` (a warning is logged); the others come back.
    ``numbers``: only these 1-based pages, in that order (the pipeline loads a document chunk by chunk).
    Raises PDFError for a missing, non-PDF, corrupt, encrypted (without the right password) or empty file,
    and for a page pdfium cannot load or whose size is zero, negative, non-finite or absurd.
    """
    if ocr not in OCR_MODES:
        raise ValueError(f"ocr must be one of {OCR_MODES}, got {ocr!r}")
    if dpi <= 0:
        raise ValueError(f"dpi must be positive, got {dpi}")
    path = Path(path)
    pages, to_ocr = _text_pages(path, dpi, ocr, password, numbers)
    if to_ocr:
        _run_ocr(pages, to_ocr, dpi, password, max(1, workers or os.cpu_count() or 1))
    return pages
