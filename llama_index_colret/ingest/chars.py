"""Pure character-level text-layer logic: which way the text runs, and characters -> words.

Input is the characters of one page as arrays (`Chars`), boxes in PDF user space (x right, y up); no I/O.
A word keeps its characters in logical order, its loose box (font ascent/descent) for layout and the union
of its tight glyph boxes as ink. Right-to-left letters (Arabic, Hebrew) step leftwards: that is upright
text, not text turned 180 degrees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .layout import Word
from .thresholds import WORD_BASELINE_JUMP, WORD_GAP

SPACE = 32  # the code of every space, generated break and empty control character


@dataclass
class Chars:
    """The characters of a page: codes ``(n,)`` (`SPACE` for spaces), loose and tight boxes ``(n, 4)`` as
    ``(left, bottom, right, top)`` in user space, and style bits ``(n,)`` (`layout.BOLD`/`ITALIC`)."""

    codes: np.ndarray
    loose: np.ndarray
    tight: np.ndarray
    styles: np.ndarray


def rtl_mask(codes: np.ndarray) -> np.ndarray:
    """``(n,)`` whether each code point is right-to-left script (Hebrew, Arabic, Syriac, Thaana, N'Ko, ...)."""
    return (
        ((codes >= 0x0590) & (codes <= 0x08FF))
        | ((codes >= 0xFB1D) & (codes <= 0xFDFF))
        | ((codes >= 0xFE70) & (codes <= 0xFEFF))
    )


def text_rotation(chars: Chars, default: int) -> int:
    """The clockwise turn of the unrotated page that makes most text run left to right (0/90/180/270),
    voted by the step from each character to the next within a word; ``default`` without evidence. A
    leftward step between two right-to-left letters votes for upright text."""
    c, b = chars.codes, chars.loose
    if len(c) < 2:
        return default
    pair = (c[1:] != SPACE) & (c[:-1] != SPACE)  # (n-1,) consecutive characters of one word
    dx = (b[1:, 0] + b[1:, 2] - b[:-1, 0] - b[:-1, 2]) / 2  # (n-1,)
    dy = (b[1:, 1] + b[1:, 3] - b[:-1, 1] - b[:-1, 3]) / 2
    sizes = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])  # (n,)
    size = np.maximum(np.maximum(sizes[1:], sizes[:-1]), 1e-6)
    rtl = rtl_mask(c)
    rtl_pair = pair & rtl[1:] & rtl[:-1]
    step = pair & ~rtl_pair & (np.abs(dx) + np.abs(dy) < 2 * size)
    horizontal = np.abs(dx) >= np.abs(dy)
    votes = {
        0: int(np.sum(step & horizontal & (dx > 0)) + np.sum(rtl_pair)),
        180: int(np.sum(step & horizontal & (dx <= 0))),
        90: int(np.sum(step & ~horizontal & (dy > 0))),  # text running up reads left to right turned 90
        270: int(np.sum(step & ~horizontal & (dy <= 0))),
    }
    best = max(votes, key=lambda r: votes[r])
    return best if votes[best] > 0 else default


Frame = Callable[[np.ndarray], np.ndarray]  # (n, 4) user-space rects -> (n, 4) boxes x0, y0, x1, y1 top-left


def words_from_chars(chars: Chars, to_frame: Frame) -> tuple[list[Word], int]:
    """Characters -> words in the layout frame: cut at spaces, at jumps to another baseline, at gaps wider
    than `WORD_GAP` and at steps backwards (leftwards; rightwards between right-to-left letters); returns the
    words and the count of characters with a box."""
    loose = to_frame(chars.loose)  # (n, 4) x0, y0, x1, y1
    drawn = (chars.codes != SPACE) & ((loose[:, 2] > loose[:, 0]) | (loose[:, 3] > loose[:, 1]))  # (n,)
    idx = np.flatnonzero(drawn)  # (m,) the characters that make words
    if idx.size == 0:
        return [], 0
    spaces = np.cumsum(chars.codes == SPACE)  # (n,) spaces up to each character
    b, rtl = loose[idx], rtl_mask(chars.codes[idx])  # (m, 4), (m,)
    p, q = b[:-1], b[1:]  # (m-1, 4) previous and current character
    h = np.maximum(np.maximum(p[:, 3] - p[:, 1], q[:, 3] - q[:, 1]), 1e-6)
    jump = np.abs(q[:, 1] + q[:, 3] - p[:, 1] - p[:, 3]) / 2 > WORD_BASELINE_JUMP * h
    both_rtl = rtl[1:] & rtl[:-1]
    ltr_apart = (q[:, 0] - p[:, 2] > WORD_GAP * h) | (q[:, 2] < p[:, 0])
    rtl_apart = (p[:, 0] - q[:, 2] > WORD_GAP * h) | (q[:, 0] > p[:, 2])
    cut = (spaces[idx[1:]] != spaces[idx[:-1]]) | jump | np.where(both_rtl, rtl_apart, ltr_apart)  # (m-1,)
    starts = np.concatenate([[0], np.flatnonzero(cut) + 1])  # (n_words,) first character of each word
    tight = to_frame(chars.tight)[idx]  # (m, 4)
    t = chars.tight[idx]
    ink = np.where(((t[:, 2] > t[:, 0]) & (t[:, 3] > t[:, 1]))[:, None], tight, b)  # (m, 4) loose when no ink
    lo = np.minimum.reduceat(b[:, :2], starts).tolist()  # (n_words, 2)
    hi = np.maximum.reduceat(b[:, 2:], starts).tolist()
    ink_lo = np.minimum.reduceat(ink[:, :2], starts).tolist()
    ink_hi = np.maximum.reduceat(ink[:, 2:], starts).tolist()
    style = np.bitwise_and.reduceat(chars.styles[idx], starts).tolist()  # bold/italic when all characters are
    text = "".join(chr(c) if c < 0x110000 else "\ufffd" for c in chars.codes[idx].tolist())
    ends = [*starts[1:].tolist(), len(idx)]
    first_rtl = rtl[starts].tolist()
    words = [
        Word(text[a:e], *lo[k], *hi[k], (*ink_lo[k], *ink_hi[k]), style[k], first_rtl[k])
        for k, (a, e) in enumerate(zip(starts.tolist(), ends, strict=True))
    ]
    return words, int(idx.size)
