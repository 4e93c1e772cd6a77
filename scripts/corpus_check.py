"""Run ingestion over every PDF of one or more folders and print, per file: pages, block regions per page,
kinds, text layer or OCR, or the one-line error. A PDF with a DocBank label file beside it (``NAME.txt``: one
token a line, ``token x0 y0 x1 y1 R G B font label``, boxes in 0..1000) also gets, for its page, how many
labelled elements are matched by one block region at IoU >= 0.5 (per label) and how many blocks hold
tokens of one label only; totals close the run.

Usage: ``python scripts/corpus_check.py DIR [DIR ...] [--password NAME=PW ...] [--draw OUTDIR]``
(``--draw`` saves the first two pages of each file with their block boxes drawn: red text, blue tables,
green figures, and for a DocBank page its labelled elements in thin orange). DocBank labels are weak (all
paragraph tokens of a page share one label), so `elements` rebuilds what a person would box: each outermost
``##LTFigure##`` box is a figure (the tokens inside it, tick labels and legends, are part of it); per label,
tokens connected on a line or across adjacent lines (a table or a display equation across its gaps, running
text across its own median line gap, so double-spaced lines stay one paragraph), cut into paragraphs at
first-line indents and into list items and references at their markers.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import ImageDraw

from llama_index_colret.errors import PDFError
from llama_index_colret.geometry import BBox
from llama_index_colret.ingest.page import Page
from llama_index_colret.ingest.pdf import load_pdf

COLORS = {"text": (220, 30, 30), "table": (30, 30, 220), "figure": (30, 160, 30)}
MATCH_IOU = 0.5


@dataclass(frozen=True)
class Token:
    """One DocBank token: its text, label and normalised box."""

    text: str
    label: str
    box: BBox


def read_tokens(path: Path) -> list[Token]:
    """Tokens of a DocBank label file (boxes in 0..1000 -> normalised): text tokens, plus one ``figure`` token
    per ``##LTFigure##`` box (pdfminer's figure objects); other graphics tokens (``##LTLine##``) are dropped."""
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) < 10 or (parts[0].startswith("##LT") and parts[0] != "##LTFigure##"):
            continue
        x0, y0, x1, y1 = (float(v) / 1000 for v in parts[1:5])
        label = "figure" if parts[0] == "##LTFigure##" else parts[9].strip()
        out.append(Token(parts[0], label, BBox(x0, y0, max(x1, x0), max(y1, y0))))
    return out


def _inside(box: BBox, outer: BBox, slack: float = 0.002) -> bool:
    """Whether ``box``'s centre lies inside ``outer`` (grown by ``slack``)."""
    x, y = box.center
    return outer.x0 - slack <= x <= outer.x1 + slack and outer.y0 - slack <= y <= outer.y1 + slack


def figure_boxes(tokens: list[Token]) -> list[BBox]:
    """The outermost figure boxes (a figure nested in another is part of it); one covering half the page
    or more is a page-wide form object, not a picture, and is left out."""
    figs = [t.box for t in tokens if t.label == "figure" and t.box.area < 0.5]
    outer = [f for f in figs if not any(g is not f and g.area > f.area and _inside(f, g) for g in figs)]
    return list(dict.fromkeys(outer))


# How far tokens of one element may sit apart, in token heights: (same line, between lines). A table or a
# display equation is one element across its column and line gaps; running text connects word to word.
REACH = {"table": (4.0, 2.0), "equation": (3.0, 1.0)}
LIST_MARKER = re.compile(r"^([•◦▪∗*·–—-]|\(?\d{1,2}[.)]|\(?[a-z][.)]|\(?[ivx]{1,4}\)|\[\d+\])$")


def elements(tokens: list[Token]) -> list[tuple[str, BBox]]:
    """What a person would box, as ``(label, box)``: each outermost figure (its tick labels and legends are
    part of it), and per label the tokens connected on a line or across adjacent lines (within ``REACH``;
    running text bridges its median line gap, so double-spaced lines stay one paragraph), cut into
    paragraphs at first-line indents and into list items or references at their markers."""
    figs = figure_boxes(tokens)
    out = [("figure", f) for f in figs]
    text = [t for t in tokens if t.label != "figure" and not any(_inside(t.box, f) for f in figs)]
    for label in sorted({t.label for t in text}):
        mine = [t for t in text if t.label == label]
        boxes = np.array([t.box.as_list() for t in mine])  # (n, 4)
        words = [t.text for t in mine]
        h = float(np.median(boxes[:, 3] - boxes[:, 1])) or 0.01
        for k in _components(boxes, h, label):
            out += [(label, box) for box in _cut(boxes[k], [words[i] for i in k], h, label)]
    return out


def _components(boxes: np.ndarray, h: float, label: str) -> list[list[int]]:
    """Indices of ``boxes (n, 4)`` grouped into connected components under the label's reach."""
    same_line = (boxes[:, None, 1] < boxes[None, :, 3]) & (boxes[None, :, 1] < boxes[:, None, 3])  # (n, n)
    x_gap = np.maximum(boxes[:, None, 0] - boxes[None, :, 2], boxes[None, :, 0] - boxes[:, None, 2])  # (n, n)
    y_gap = np.maximum(boxes[:, None, 1] - boxes[None, :, 3], boxes[None, :, 1] - boxes[:, None, 3])  # (n, n)
    line_reach, gap_reach = REACH.get(label, (1.0, max(0.7, 1.3 * _line_gap(y_gap, x_gap, h))))
    near = (same_line & (x_gap < line_reach * h)) | ((x_gap < 0) & (y_gap < gap_reach * h))
    near |= np.eye(len(boxes), dtype=bool)
    comp = np.arange(len(boxes))
    while True:
        new = np.where(near, comp[None, :], len(boxes)).min(axis=1)  # (n,) smallest neighbour's component
        new = new[new]
        if np.array_equal(new, comp):
            break
        comp = new
    return [np.flatnonzero(comp == k).tolist() for k in np.unique(comp)]


def _line_gap(y_gap: np.ndarray, x_gap: np.ndarray, h: float) -> float:
    """The label's median gap between a token and the nearest token of the line below, in token heights
    (``y_gap``, ``x_gap``: ``(n, n)``); 0 when no token has one within two heights."""
    below = np.where((x_gap < 0) & (y_gap > 0) & (y_gap < 2 * h), y_gap, np.inf).min(axis=1)  # (n,)
    below = below[np.isfinite(below)]
    return float(np.median(below)) / h if len(below) else 0.0


def _cut(boxes: np.ndarray, words: list[str], h: float, label: str) -> list[BBox]:
    """One component's tokens ``(k, 4)`` cut into elements: a paragraph where a line starts indented (0.8
    to 4 token heights) below one that does not (LaTeX sets paragraphs with an indent and no gap); a list
    item or reference where a line starts with a marker, or (references) comes back to the left edge."""
    order = np.argsort((boxes[:, 1] + boxes[:, 3]) / 2, kind="stable")
    lines: list[list[int]] = []
    for i in order.tolist():
        cy = (boxes[i, 1] + boxes[i, 3]) / 2
        if lines and abs(cy - (boxes[lines[-1][0], 1] + boxes[lines[-1][0], 3]) / 2) < 0.5 * h:
            lines[-1].append(i)
        else:
            lines.append([i])
    left = boxes[:, 0].min()
    parts: list[list[int]] = []
    for k, ln in enumerate(lines):
        first = min(ln, key=lambda i: boxes[i, 0])
        indent = boxes[first, 0] - left
        prev_indent = boxes[lines[k - 1], 0].min() - left if k else 0.0
        if label in ("list", "reference"):
            new = bool(LIST_MARKER.match(words[first])) or (label == "reference" and indent < 0.8 * h <= prev_indent)
        else:
            new = 0.8 * h <= indent <= 4 * h and prev_indent < 0.8 * h
        if not parts or new:
            parts.append([])
        parts[-1] += ln
    return [BBox(*boxes[p, :2].min(axis=0), *boxes[p, 2:].max(axis=0)) for p in parts]


def docbank_scores(page: Page, tokens: list[Token]) -> tuple[Counter, Counter, int, int]:
    """(elements per label, matched elements per label, blocks holding tokens, blocks of one label only)."""
    blocks = page.regions_at("block")
    total, matched = Counter(), Counter()
    for label, box in elements(tokens):
        total[label] += 1
        if any(box.iou(b.bbox) >= MATCH_IOU for b in blocks):
            matched[label] += 1
    with_tokens = pure = 0
    centres = [(t.label, t.box.center) for t in tokens if t.label != "figure"]
    for b in blocks:
        bb = b.bbox
        labels = {label for label, (x, y) in centres if bb.x0 <= x <= bb.x1 and bb.y0 <= y <= bb.y1}
        with_tokens += bool(labels)
        pure += len(labels) == 1
    return total, matched, with_tokens, pure


def draw_boxes(page: Page, out: Path, truth: list[tuple[str, BBox]] = (), dpi: int = 100) -> Path:
    """Render ``page`` and draw its block-level region boxes on it (red text, blue tables, green figures),
    and the labelled elements ``truth`` in thin orange with their label."""
    img = page.render(dpi)
    draw = ImageDraw.Draw(img)
    for label, box in truth:
        x0, y0, x1, y1 = box.to_pixels(img.width, img.height)
        draw.rectangle((x0 - 2, y0 - 2, x1 + 2, y1 + 2), outline=(255, 140, 0), width=1)
        draw.text((x0, max(y0 - 11, 0)), label[:4], fill=(255, 140, 0))
    for r in page.regions_at("block"):
        draw.rectangle(r.bbox.to_pixels(img.width, img.height), outline=COLORS[r.kind], width=2)
    img.save(out)
    return out


@dataclass
class Totals:
    """DocBank figures summed over the run."""

    total: Counter
    matched: Counter
    with_tokens: int = 0
    pure: int = 0


def check(path: Path, password: str | None, draw_dir: Path | None, totals: Totals) -> str:
    """The summary line(s) for one file."""
    t0 = time.perf_counter()
    try:
        pages = load_pdf(path, password=password)
    except PDFError as exc:
        return f"{path.name}: ERROR {exc.problem}"
    kinds = Counter(r.kind for p in pages for r in p.regions_at("block"))
    sources = Counter(r.source for p in pages for r in p.regions)
    errors = [f"p{p.number}: {p.error}" for p in pages if p.error]
    labels = path.with_suffix(".txt")
    tokens = read_tokens(labels) if labels.is_file() else []
    if draw_dir is not None:
        for p in pages[:2]:
            draw_boxes(p, draw_dir / f"{path.stem}-p{p.number}.png", elements(tokens) if p is pages[0] else [])
    how = "+".join(sorted(sources)) or "no regions"
    kinds_s = ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())) or "none"
    per_page = " ".join(str(len(p.regions_at("block"))) for p in pages[:20]) + (" ..." if len(pages) > 20 else "")
    tail = f"  errors: {'; '.join(errors)}" if errors else ""
    out = f"{path.name}: {len(pages)} pages, {how}, blocks {kinds_s}, per page [{per_page}]"
    out += f"  ({time.perf_counter() - t0:.2f} s){tail}"
    if tokens and pages:
        total, matched, with_tokens, pure = docbank_scores(pages[0], tokens)
        totals.total += total
        totals.matched += matched
        totals.with_tokens += with_tokens
        totals.pure += pure
        by_label = ", ".join(f"{k} {matched[k]}/{total[k]}" for k in sorted(total))
        out += f"\n    docbank: {sum(matched.values())}/{sum(total.values())} elements matched ({by_label}); "
        out += f"{pure}/{with_tokens} blocks of one label"
    return out


def main(argv: list[str] | None = None) -> int:
    """Check every PDF of the given folders; print the DocBank totals when any label file was seen."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dirs", type=Path, nargs="+")
    ap.add_argument("--password", action="append", default=[], help="FILE_NAME=PASSWORD (repeatable)")
    ap.add_argument("--draw", type=Path, default=None, help="folder for renders with boxes drawn")
    args = ap.parse_args(argv)
    passwords = dict(p.split("=", 1) for p in args.password)
    if args.draw:
        args.draw.mkdir(parents=True, exist_ok=True)
    totals = Totals(Counter(), Counter())
    for folder in args.dirs:
        for path in sorted(folder.glob("*.pdf")):
            print(check(path, passwords.get(path.name), args.draw, totals), flush=True)
    if totals.total:
        by_label = ", ".join(f"{k} {totals.matched[k]}/{totals.total[k]}" for k in sorted(totals.total))
        n, m = sum(totals.total.values()), sum(totals.matched.values())
        pure = 100 * totals.pure / max(totals.with_tokens, 1)
        print(f"docbank total: {m}/{n} elements matched at IoU >= {MATCH_IOU} ({100 * m / n:.0f} %: {by_label}); "
              f"{totals.pure}/{totals.with_tokens} blocks of one label ({pure:.0f} %)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
