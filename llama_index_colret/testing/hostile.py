"""Hostile PDFs written byte by byte (no library would write them): a page tree with a cycle, broken
MediaBoxes, a truncated file, a flate bomb, huge pages. Used by the hostile-input tests and benchmarks."""

from __future__ import annotations

import zlib
from pathlib import Path

CONTENT = b"BT /F1 24 Tf 72 72 Td (hostile) Tj ET"
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF file of ``objects`` (object 1 is the catalog) with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _stream(data: bytes, compress: bool = False) -> bytes:
    """A stream object holding ``data`` (flate-compressed when ``compress``)."""
    if compress:
        data = zlib.compress(data, 9)
        return b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(data), data)
    return b"<< /Length %d >>\nstream\n%s\nendstream" % (len(data), data)


def one_page_pdf(media_box: str, content: bytes = CONTENT, compress: bool = False) -> bytes:
    """A one-page PDF with MediaBox ``media_box`` (e.g. ``"0 0 612 792"``) drawing ``content``."""
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [%s] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        page % media_box.encode(),
        _stream(content, compress),
        FONT,
    ])  # fmt: skip


def cyclic_page_tree_pdf() -> bytes:
    """Two pages announced; the second kid of the page tree is the page tree itself (a cycle)."""
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << >> >>"
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>",
        page,
        _stream(CONTENT),
        FONT,
    ])  # fmt: skip


def flate_bomb_pdf(inflated_bytes: int = 64 << 20) -> bytes:
    """A page whose content stream inflates from ~``inflated_bytes / 1000`` to ``inflated_bytes`` of spaces."""
    return one_page_pdf("0 0 612 792", CONTENT + b" " * inflated_bytes, compress=True)


def write_hostile_set(folder: Path) -> dict[str, Path]:
    """Write every hostile file into ``folder``: ``{name: path}``."""
    folder.mkdir(parents=True, exist_ok=True)
    good = one_page_pdf("0 0 612 792")
    files = {
        "cycle": cyclic_page_tree_pdf(),
        "zero-mediabox": one_page_pdf("0 0 0 0"),
        "negative-mediabox": one_page_pdf("0 0 -612 -792"),
        "huge-mediabox": one_page_pdf("0 0 1e30 1e30"),
        "truncated": good[: len(good) // 2],
        "flate-bomb": flate_bomb_pdf(),
        "poster-100in": one_page_pdf("0 0 7200 7200"),
        "good": good,
        "blank-40": blank_pdf(40),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / f"{name}.pdf"
        paths[name].write_bytes(data)
    return paths


def blank_pdf(n_pages: int, side_pt: float = 72.0) -> bytes:
    """``n_pages`` empty square pages of ``side_pt`` points (no text layer: every page is an OCR candidate)."""
    kids = b" ".join(b"%d 0 R" % (4 + i) for i in range(n_pages))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] /Contents 3 0 R /Resources << >> >>"
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n_pages),
        _stream(b""),
        *[page % (side_pt, side_pt)] * n_pages,
    ])  # fmt: skip
