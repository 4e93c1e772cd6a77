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

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..geometry import BBox
from .chars import SPACE, Chars, text_rotation, words_from_chars
from .layout import BOLD, ITALIC, MATH, Box, Word
from .thresholds import MIN_RULE_LENGTH

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


def _corner(b: Box) -> tuple[float, float]:
    """The top-left corner of a box."""
    return b.x0, b.y0


class _Frame:
    """Converts unrotated user-space rectangles into points on the page turned by ``rotation`` clockwise,
    via `BBox.from_pdf_rect`. The layout is done in the frame where the text runs left to right."""

    def __init__(self, page: pdfium.PdfPage, rotation: int = 0) -> None:
        x0, y0, x1, y1 = page.get_cropbox()
        self.page_box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        self.rotation = rotation % 360
        w, h = self.page_box[2] - self.page_box[0], self.page_box[3] - self.page_box[1]
        self.width, self.height = (w, h) if self.rotation in (0, 180) else (h, w)

        # the map is affine: calibrate it on three points of the page box, then apply it to arrays
        bx, by = self.page_box[0], self.page_box[1]
        o, ex, ey = (np.array(_corner(self.box(x, y, x, y))) for x, y in ((bx, by), (bx + 1, by), (bx, by + 1)))
        self._affine = np.stack([ex - o, ey - o, o - bx * (ex - o) - by * (ey - o)])  # (3, 2): per x, per y, offset

    def box(self, left: float, bottom: float, right: float, top: float) -> Box:
        """One user-space rectangle in the frame, in points (top-left origin)."""
        bb = BBox.from_pdf_rect(left, bottom, right, top, page_box=self.page_box, rotation=self.rotation)
        return Box(*bb.to_points(self.width, self.height))

    def boxes(self, rects: np.ndarray) -> np.ndarray:
        """`box` over ``(n, 4)`` user-space rects ``(left, bottom, right, top)`` -> ``(n, 4)`` boxes."""
        a = self._affine
        p = rects[:, [0, 1]] @ a[:2] + a[2]  # (n, 2) the (left, bottom) corner in the frame
        q = rects[:, [2, 3]] @ a[:2] + a[2]  # (n, 2) the (right, top) corner
        return np.concatenate([np.minimum(p, q), np.maximum(p, q)], axis=1)  # (n, 4)


BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demi", re.I)
ITALIC_NAME = re.compile(r"italic|oblique", re.I)
# math fonts: TeX's (Computer Modern and AMS symbols, fraktur, script, txfonts, pxfonts), and any face named
# "Math" (Latin Modern, Cambria, STIX, XITS, Palatino's, Mathematica's) or Symbol; after the subset tag
MATH_NAME = re.compile(r"^(?:[A-Z]{6}\+)?(?:cm(?:mi|sy|ex|bsy|mib)\d|ms[ab]m|eu[fsrx]m|rsfs|stmary|wasy"
                       r"|r?(?:tx|px|ntx)(?:mi|sy|ex)|symbol(?:mt)?\b|.*math)", re.I)  # fmt: skip
_FORCE_BOLD, _ITALIC_FLAG = 1 << 18, 1 << 6  # PDF font descriptor flags
_NAME = ctypes.create_string_buffer(256)
# private-use code points that symbol fonts draw as bullets (Symbol's bullet; Wingdings' squares, arrowheads
# and check mark): region text reads them as "•", like bullets coded as controls. Private-use letters
# (Symbol's Greek, Wingdings' 'l', 'n', 'q') stay: they are the same code points in both fonts.
PUA_BULLETS = [0xF0B7, 0xF0A7, 0xF0A8, 0xF0D8, 0xF0E8, 0xF0FC]


def _style(textpage: pdfium.PdfTextPage, i: int, cache: dict[tuple[bytes, int, int], int]) -> int:
    """Bold/italic/math bits of character ``i`` from its font: weight, descriptor flags and name (font size
    reads 1.0 in files that scale text with the text matrix, so size is no signal); ``cache`` keeps the
    bits of each (name, flags, weight) seen on the page, so names are decoded and matched once."""
    flags = ctypes.c_int()
    n = pdfium_c.FPDFText_GetFontInfo(textpage.raw, i, _NAME, len(_NAME), ctypes.byref(flags))
    key = (_NAME.value if 0 < n <= len(_NAME) else b"", flags.value, pdfium_c.FPDFText_GetFontWeight(textpage.raw, i))
    if key not in cache:
        name, flag, weight = key[0].decode("latin-1"), key[1], key[2]  # weight: -1 when unknown
        bold = weight >= 600 or flag & _FORCE_BOLD or BOLD_NAME.search(name)
        italic = flag & _ITALIC_FLAG or ITALIC_NAME.search(name)
        cache[key] = (BOLD if bold else 0) | (ITALIC if italic else 0) | (MATH if MATH_NAME.match(name) else 0)
    return cache[key]


def _codes(raw: pdfium_c.FPDF_TEXTPAGE, n: int) -> list[int]:
    """The Unicode of every character: one `FPDFText_GetText` call when it maps one code unit to each
    character (it drops or blanks control characters and splits non-BMP ones), else one call per character."""
    buf = (ctypes.c_ushort * (n + 1))()
    if pdfium_c.FPDFText_GetText(raw, 0, n, buf) == n + 1:
        codes = np.frombuffer(buf, dtype=np.uint16)[:n]  # (n,) UTF-16 code units
        if not np.any((codes >= 0xD800) & (codes <= 0xDFFF) | (codes == 0xFFFE)):
            return codes.tolist()
    return [pdfium_c.FPDFText_GetUnicode(raw, i) for i in range(n)]


def _by_address(fn: ctypes._CFuncPtr, *argtypes: type) -> ctypes._CFuncPtr:
    """The same C function as ``fn`` with new argument types: pypdfium2's prototypes take typed pointers,
    so writing into one buffer at per-character offsets would need one ctypes object per pointer; with
    ``c_void_p`` arguments a plain integer address does."""
    return ctypes.CFUNCTYPE(fn.restype, *argtypes)(ctypes.cast(fn, ctypes.c_void_p).value)


_P = ctypes.c_void_p
_CHAR_BOX = _by_address(pdfium_c.FPDFText_GetCharBox, _P, ctypes.c_int, _P, _P, _P, _P)
_LOOSE_BOX = _by_address(pdfium_c.FPDFText_GetLooseCharBox, _P, ctypes.c_int, _P)


def read_chars(textpage: pdfium.PdfTextPage) -> Chars:
    """Every character with its loose and tight boxes (user space); spaces and empty controls as `SPACE`.

    A control character drawn with a real glyph reads as "-" inside a word (pdfium codes a hyphen that ends a
    line as U+0002) and as "•" where a word starts (symbol-font bullets whose Unicode reads U+0002), and so
    does a private-use bullet glyph of a symbol font (`PUA_BULLETS`). Spaces skip the box calls; boxes
    are written by pdfium straight into two arrays; the font style is read once per word (first character)."""
    n = pdfium_c.FPDFText_CountChars(textpage.raw)
    raw = ctypes.cast(textpage.raw, ctypes.c_void_p).value
    codes, styles = [SPACE] * n, [0] * n
    tight = np.zeros((n, 4), dtype=np.float64)  # (n, 4) left, right, bottom, top, as FPDFText_GetCharBox writes
    loose = np.zeros((n, 4), dtype=np.float32)  # (n, 4) left, top, right, bottom (FS_RECTF)
    t_at, l_at = tight.ctypes.data, loose.ctypes.data
    style, word_start, cache = 0, True, {}
    for i, u in enumerate(_codes(textpage.raw, n)):
        if u in _SPACES or u in (0xFFFD, 0xFFFE, 0xFFFF):
            word_start = True
            continue
        o = t_at + 32 * i
        _CHAR_BOX(raw, i, o, o + 8, o + 16, o + 24)
        if u < 0x20:  # a control character drawn with a glyph: a hyphen inside a word, else a bullet
            left, right, bottom, top = tight[i]
            if not (right > left and top > bottom):
                tight[i] = 0.0
                word_start = True
                continue
            u = 0x2022 if word_start else 0x2D
        if word_start:
            style, word_start = _style(textpage, i, cache), False
        _LOOSE_BOX(raw, i, l_at + 16 * i)
        codes[i], styles[i] = u, style
    c = np.array(codes, dtype=np.int64)  # (n,)
    c[np.isin(c, PUA_BULLETS)] = 0x2022
    return Chars(c, loose[:, [0, 3, 2, 1]].astype(np.float64), tight[:, [0, 2, 1, 3]],  # (n, 4) left, bottom,
                 np.array(styles, dtype=np.int64))  # right, top  # fmt: skip


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
        chars = read_chars(textpage)
    finally:
        textpage.close()
    page_rotation = page.get_rotation() % 360
    rot = text_rotation(chars, default=page_rotation)
    frame = _Frame(page, rot)
    words, n_chars = words_from_chars(chars, frame.boxes)
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
