"""The pdfium lock and opening a document: the leaf every pypdfium2 caller in the library stands on.

pdfium is not thread-safe, so every pypdfium2 call runs under `PDFIUM_LOCK`; `open_document` turns every way
a file can fail to open into one `PDFError` naming the file and the problem.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..errors import PDFError

PDFIUM_LOCK = threading.RLock()
"""pdfium is not thread-safe: every pypdfium2 call in the library runs under this lock."""


def open_document(path: str | Path, password: str | None = None) -> pdfium.PdfDocument:
    """The opened document, or PDFError saying why not (missing, not a PDF, corrupt, encrypted, no pages).

    Call with `PDFIUM_LOCK` held; the caller closes the document.
    """
    p = Path(path)
    if not p.is_file():
        raise PDFError(p, "no such file" if not p.exists() else "not a regular file")
    with open(p, "rb") as fh:
        head = fh.read(1024)
    if not head:
        raise PDFError(p, "empty file (0 bytes), not a PDF")
    if b"%PDF-" not in head:
        raise PDFError(p, "not a PDF file (no %PDF- header)")
    try:
        doc = pdfium.PdfDocument(str(p), password=password)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == pdfium_c.FPDF_ERR_PASSWORD:
            problem = "encrypted: wrong password" if password else "encrypted: a password is required"
        elif code == pdfium_c.FPDF_ERR_SECURITY:
            problem = "encrypted with an unsupported security handler"
        elif _pageless(p):  # pdfium refuses a document whose page tree is empty, with a stale error code
            problem = "the PDF has no pages"
        else:
            problem = f"corrupt or unreadable PDF ({exc})"
        raise PDFError(p, problem) from exc
    if len(doc) == 0:
        doc.close()
        raise PDFError(p, "the PDF has no pages")
    return doc


def _pageless(path: Path) -> bool:
    """Whether a PDF that pdfium refused has a page tree node (``/Type /Pages``) counting zero pages."""
    trees = re.findall(rb"<<[^<>]*/Type\s*/Pages\b[^<>]*>>", path.read_bytes())
    return bool(trees) and all(re.search(rb"/Count\s*0\b", t) for t in trees)
