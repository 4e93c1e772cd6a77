"""Thin pypdfium2 reader: words, ruling lines and image boxes of one page, in points.

The layout runs in the frame where the page's text reads left to right: usually the displayed page, but
not always (``nics-background-checks-2015-11-rotated.pdf`` is a landscape table shown sideways by
``/Rotate 90``). Every box goes through `BBox.from_pdf_rect` (unrotated user space, crop box, rotation)
and `BBox.to_points`, so rotation and crop-box offsets are handled in `geometry.py` only; the regions are
turned into the displayed frame with `BBox.rotated`. Callers hold `PDFIUM_LOCK` (pdfium is not thread-safe).
"""

from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..geometry import BBox
from .layout import Box, Word
from .thresholds import MIN_RULE_LENGTH, WORD_BASELINE_JUMP, WORD_GAP

MAX_EDGES = 20000  # a page drawn from tens of thousands of segments is a drawing, not a table
_SPACES = {0x20, 0xA0, 0x09, 0x0A, 0x0D, 0x3000, 0xFEFF} | set(range(0x2000, 0x200C))


@dataclass
class TextLayer:
    """What the text layer of a page holds, in displayed points (top-left origin)."""

    width: float
    height: float
    words: list[Word] = field(default_factory=list)
    rules: list[Box] = field(default_factory=list)
    images: list[Box] = field(default_factory=list)
    drawings: list[Box] = field(default_factory=list)  # vector shapes other than rules: paths, shadings, forms
    n_chars: int = 0  # printable, non-space characters with a box
    rotation: int = 0  # clockwise turn from this frame to the displayed page

    @property
    def image_coverage(self) -> float:
        """Fraction of the page covered by the largest image (0 when none)."""
        areas = [max(0.0, min(b.x1, self.width) - max(b.x0, 0)) * max(0.0, min(b.y1, self.height) - max(b.y0, 0))
                 for b in self.images]  # fmt: skip
        return max(areas, default=0.0) / (self.width * self.height)


class _Frame:
    """Converts unrotated user-space rectangles into points on the page turned by ``rotation`` clockwise,
    via `BBox.from_pdf_rect`. The layout is done in the frame where the text runs left to right."""

    def __init__(self, page: pdfium.PdfPage, rotation: int = 0) -> None:
        x0, y0, x1, y1 = page.get_cropbox()
        self.page_box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        self.rotation = rotation % 360
        w, h = self.page_box[2] - self.page_box[0], self.page_box[3] - self.page_box[1]
        self.width, self.height = (w, h) if self.rotation in (0, 180) else (h, w)

    def box(self, left: float, bottom: float, right: float, top: float) -> Box:
        bb = BBox.from_pdf_rect(left, bottom, right, top, page_box=self.page_box, rotation=self.rotation)
        return Box(*bb.to_points(self.width, self.height))


Rect = tuple[float, float, float, float]
Char = tuple[int, Rect, Rect, int]  # (unicode, loose box, tight box, style bits), boxes in user space
BOLD, ITALIC = 1, 2  # style bits of a character (from its font)
_FORCE_BOLD, _ITALIC_FLAG = 1 << 18, 1 << 6  # PDF font descriptor flags
_BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demi", re.I)
_ITALIC_NAME = re.compile(r"italic|oblique", re.I)
_NAME = ctypes.create_string_buffer(256)


def _style(textpage: pdfium.PdfTextPage, i: int) -> int:
    """Bold/italic bits of character ``i`` from its font: weight, descriptor flags and name (font size
    reads 1.0 in files that scale text with the text matrix, so size is no signal)."""
    flags = ctypes.c_int()
    n = pdfium_c.FPDFText_GetFontInfo(textpage.raw, i, _NAME, len(_NAME), ctypes.byref(flags))
    name = _NAME.value.decode("latin-1") if 0 < n <= len(_NAME) else ""
    weight = pdfium_c.FPDFText_GetFontWeight(textpage.raw, i)  # -1 when unknown
    bold = weight >= 600 or flags.value & _FORCE_BOLD or _BOLD_NAME.search(name)
    italic = flags.value & _ITALIC_FLAG or _ITALIC_NAME.search(name)
    return (BOLD if bold else 0) | (ITALIC if italic else 0)


def _chars(textpage: pdfium.PdfTextPage) -> list[Char]:
    """Every character with its loose and tight (ink) boxes; spaces and empty controls as ``(32, ...)``.

    A control character drawn with a real glyph (symbol-font bullets whose Unicode reads U+0002) is a
    bullet. The font style is read once per word (at the first character after a space)."""
    out: list[Char] = []
    style, word_start = 0, True
    for i in range(pdfium_c.FPDFText_CountChars(textpage.raw)):
        u = pdfium_c.FPDFText_GetUnicode(textpage.raw, i)
        if u < 0x20 and u not in (0x09, 0x0A, 0x0D):
            tight = textpage.get_charbox(i)
            u = 0x2022 if tight[2] > tight[0] and tight[3] > tight[1] else 32
        if u in _SPACES or u < 0x20 or u in (0xFFFD, 0xFFFE, 0xFFFF):
            out.append((32, (), (), 0))  # type: ignore[arg-type]
            word_start = True
            continue
        if word_start:
            style, word_start = _style(textpage, i), False
        out.append((u, textpage.get_charbox(i, loose=True), textpage.get_charbox(i), style))
    return out


def is_rtl(u: int) -> bool:
    """Whether a code point belongs to a right-to-left script (Hebrew, Arabic, Syriac, Thaana, N'Ko, ...)."""
    return 0x0590 <= u <= 0x08FF or 0xFB1D <= u <= 0xFDFF or 0xFE70 <= u <= 0xFEFF


def text_rotation(chars: list[Char], default: int) -> int:
    """The clockwise turn of the unrotated page that makes most text run left to right (0/90/180/270),
    voted by the step from each character to the next; ``default`` when there is no evidence. A leftward
    step between two right-to-left letters is upright text (Arabic, Hebrew), not text turned 180 degrees."""
    votes = {0: 0, 90: 0, 180: 0, 270: 0}
    prev, prev_u = None, 32
    for u, b, _, _ in chars:
        if u == 32:
            prev = None
            continue
        if prev is not None and is_rtl(u) and is_rtl(prev_u):
            votes[0] += 1
        elif prev is not None:
            dx = (b[0] + b[2] - prev[0] - prev[2]) / 2  # user space: x right, y up
            dy = (b[1] + b[3] - prev[1] - prev[3]) / 2
            size = max(b[2] - b[0], b[3] - b[1], prev[2] - prev[0], prev[3] - prev[1], 1e-6)
            if abs(dx) + abs(dy) < 2 * size:
                if abs(dx) >= abs(dy):
                    votes[0 if dx > 0 else 180] += 1
                else:  # text running up the unrotated page reads left to right after a 90 degree turn
                    votes[90 if dy > 0 else 270] += 1
        prev, prev_u = b, u
    best = max(votes, key=lambda r: votes[r])
    return best if votes[best] > 0 else default


def _words(chars: list[Char], frame: _Frame) -> tuple[list[Word], int]:
    """Characters -> words: cut at spaces, at jumps backwards or to another baseline, and at wide gaps.

    Right-to-left letters continue a word leftwards; a word keeps its characters in logical order, its
    loose box for layout and its tight box as ink."""
    words: list[Word] = []
    run: list[tuple[str, Box, Box, int]] = []  # (character, loose box, ink box, style bits)
    n_text = 0
    rtl = False

    def flush() -> None:
        if run:
            style = run[0][3]
            for *_, st in run:
                style &= st  # a word is bold or italic when all its characters are
            ink = _union([i for _, _, i, _ in run])
            words.append(Word("".join(c for c, *_ in run), *_union([b for _, b, _, _ in run]), ink, style, rtl))
            run.clear()

    for u, rect, tight, style in chars:
        if u == 32:
            flush()
            continue
        box = frame.box(*rect)
        if box.x1 - box.x0 <= 0 and box.y1 - box.y0 <= 0:
            continue
        ink = frame.box(*tight) if tight[2] > tight[0] and tight[3] > tight[1] else box
        n_text += 1
        if run:
            prev = run[-1][1]
            h = max(prev.y1 - prev.y0, box.y1 - box.y0, 1e-6)
            jump = abs((box.y0 + box.y1) - (prev.y0 + prev.y1)) / 2 > WORD_BASELINE_JUMP * h
            if rtl and is_rtl(u):
                apart = prev.x0 - box.x1 > WORD_GAP * h or box.x0 > prev.x1
            else:
                apart = box.x0 - prev.x1 > WORD_GAP * h or box.x1 < prev.x0
            if jump or apart:
                flush()
        if not run:
            rtl = is_rtl(u)
        run.append((chr(u) if u < 0x110000 else "\ufffd", box, ink, style))
    flush()
    return words, n_text


def _union(boxes: list[Box]) -> tuple[float, float, float, float]:
    b = Box.around(boxes)
    return b.x0, b.y0, b.x1, b.y1


def _path_edges(obj: pdfium.PdfObject) -> list[tuple[float, float, float, float]]:
    """Axis-aligned straight edges of a path object in user space: ``(x0, y0, x1, y1)`` each.

    Unstroked (fill-only) sub-paths count only when thin (a filled rule); big filled shapes are not rules.
    """
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDFPath_GetDrawMode(obj.raw, ctypes.byref(fill), ctypes.byref(stroke))
    m = obj.get_matrix()
    x, y = ctypes.c_float(), ctypes.c_float()
    subpaths: list[list[tuple[float, float]]] = []
    for i in range(pdfium_c.FPDFPath_CountSegments(obj.raw)):
        seg = pdfium_c.FPDFPath_GetPathSegment(obj.raw, i)
        pdfium_c.FPDFPathSegment_GetPoint(seg, ctypes.byref(x), ctypes.byref(y))
        pt = (m.a * x.value + m.c * y.value + m.e, m.b * x.value + m.d * y.value + m.f)
        kind = pdfium_c.FPDFPathSegment_GetType(seg)
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO or not subpaths:
            subpaths.append([pt])
        elif kind == pdfium_c.FPDF_SEGMENT_LINETO:
            subpaths[-1].append(pt)
        else:  # a curve: its end point starts a new straight run
            subpaths.append([pt])
        if pdfium_c.FPDFPathSegment_GetClose(seg) and len(subpaths[-1]) > 1:
            subpaths[-1].append(subpaths[-1][0])
    edges = []
    for pts in subpaths:
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        if not stroke.value and min(max(xs) - min(xs), max(ys) - min(ys)) > MIN_RULE_LENGTH:
            continue
        for (ax, ay), (bx, by) in zip(pts, pts[1:], strict=False):
            if abs(ax - bx) < 0.5 or abs(ay - by) < 0.5:
                edges.append((min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)))
    return edges


def read_text_layer(page: pdfium.PdfPage) -> TextLayer:
    """Words, ruling lines (axis-aligned path edges) and image boxes of a page, in points of the frame in
    which its text reads left to right (`TextLayer.rotation` turns that frame into the displayed page)."""
    textpage = page.get_textpage()
    try:
        chars = _chars(textpage)
    finally:
        textpage.close()
    page_rotation = page.get_rotation() % 360
    rot = text_rotation(chars, default=page_rotation)
    frame = _Frame(page, rot)
    words, n_chars = _words(chars, frame)
    layer = TextLayer(frame.width, frame.height, words, n_chars=n_chars, rotation=(page_rotation - rot) % 360)
    n_edges = 0
    kinds = [pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_SHADING,
             pdfium_c.FPDF_PAGEOBJ_FORM]  # fmt: skip
    for obj in page.get_objects(filter=kinds, max_depth=0):
        if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            layer.images.append(frame.box(*obj.get_bounds()))
        elif obj.type != pdfium_c.FPDF_PAGEOBJ_PATH:
            layer.drawings.append(frame.box(*obj.get_bounds()))
        elif n_edges < MAX_EDGES:
            edges = _path_edges(obj)
            n_edges += len(edges)
            layer.rules += [frame.box(*e) for e in edges]
            box = frame.box(*obj.get_bounds())
            if min(box.x1 - box.x0, box.y1 - box.y0) > MIN_RULE_LENGTH:  # a shape, not a line
                layer.drawings.append(box)
    return layer
