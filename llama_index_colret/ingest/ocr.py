"""Thin Tesseract reader: words of a page image with font-height boxes, in pixels.

Tesseract runs as its own process with ``OMP_THREAD_LIMIT=1`` in *its* environment only (setting it in
ours would throttle torch's OpenMP pool later in the same process), so pages are OCR'd in parallel by the
caller. The binary is the one pytesseract is configured with (``pytesseract.pytesseract.tesseract_cmd``).

Each word has two boxes, as on the text layer: for layout, the box from its line's ascender top to
descender bottom (from the hOCR line metrics: baseline, ``x_size``, ``x_descenders``), so lines of "was" and
"Typhoid" group alike; and as ink (what regions report), Tesseract's own tight word box.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import xml.etree.ElementTree as ET

from PIL import Image

from ..errors import OCRError
from .layout import Word

MIN_CONFIDENCE = 30.0  # Tesseract word confidence (0-100) below which a word is noise
_NUM = r"(-?[\d.]+)"


def tesseract_cmd() -> str:
    """The Tesseract binary pytesseract is configured with (``tesseract`` on the PATH by default)."""
    import pytesseract

    return str(pytesseract.pytesseract.tesseract_cmd)


def run_tesseract(image: Image.Image, *, dpi: int, lang: str = "eng", timeout: float = 300.0) -> str:
    """hOCR of one image from a single-threaded Tesseract process; raises OCRError on any failure."""
    buf = io.BytesIO()
    image.convert("L").save(buf, "PNG")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    cmd = [tesseract_cmd(), "stdin", "stdout", "--dpi", str(dpi), "-l", lang, "hocr"]
    try:
        proc = subprocess.run(cmd, input=buf.getvalue(), capture_output=True, env=env, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise OCRError(f"Tesseract is not installed ({cmd[0]!r} not found); install tesseract-ocr") from exc
    except subprocess.TimeoutExpired as exc:
        raise OCRError(f"Tesseract took longer than {timeout:.0f} s") from exc
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        raise OCRError(f"Tesseract failed (exit {proc.returncode}): {err[-1] if err else 'no message'}")
    return proc.stdout.decode("utf-8", errors="replace")


def _props(title: str) -> dict[str, list[float]]:
    """hOCR ``title`` properties: ``"bbox 1 2 3 4; x_size 22"`` -> ``{"bbox": [1, 2, 3, 4], ...}``."""
    out = {}
    for part in title.split(";"):
        key, *vals = part.strip().split()
        if key and re.fullmatch(r"[a-z_]+", key):
            nums = [float(v) for v in vals if re.fullmatch(r"-?\d+(\.\d+)?", v)]
            out[key] = nums
    return out


def parse_hocr(hocr: str) -> list[Word]:
    """Words of an hOCR document with boxes from their line's baseline and font height (pixels)."""
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", hocr, count=1))
    words = []
    for el in root.iter():
        if el.get("class") not in ("ocr_line", "ocr_caption", "ocr_header", "ocr_textfloat"):
            continue
        line = _props(el.get("title", ""))
        lx0, _, _, ly1 = line["bbox"]
        slope, offset = (line.get("baseline") or [0.0, 0.0])[:2]
        size = (line.get("x_size") or [0.0])[0]
        desc = (line.get("x_descenders") or [0.0])[0]
        for w in el.iter():
            if w.get("class") != "ocrx_word":
                continue
            text = "".join(w.itertext()).strip()
            p = _props(w.get("title", ""))
            if not text or (p.get("x_wconf") or [100.0])[0] < MIN_CONFIDENCE:
                continue
            x0, y0, x1, y1 = p["bbox"]
            ink = (x0, y0, x1, y1)
            if size > 0:  # font box from the baseline under the word's centre
                base = ly1 + offset + slope * ((x0 + x1) / 2 - lx0)
                y0, y1 = min(y0, base - (size - desc)), max(y1, base + desc)
            words.append(Word(text, x0, y0, x1, y1, ink))
    return words


def ocr_words(image: Image.Image, *, dpi: int, lang: str = "eng") -> list[Word]:
    """Words of a page image (pixel boxes, top-left origin); raises OCRError when Tesseract fails."""
    return parse_hocr(run_tesseract(image, dpi=dpi, lang=lang))
