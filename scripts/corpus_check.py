"""Run ingestion over every PDF of one or more folders and print, per file: pages, block regions per page,
kinds, text layer or OCR, or the one-line error. A PDF with a DocBank label file beside it (``NAME.txt``: one
token a line, ``token x0 y0 x1 y1 R G B font label``, boxes in 0..1000) also gets, for its page, how many
labelled elements are matched by one block region at IoU >= 0.5 (per label) and how many blocks hold
tokens of one label only; totals close the run.

Usage: ``python scripts/corpus_check.py DIR [DIR ...] [--password NAME=PW ...] [--draw OUTDIR]``
(``--draw`` saves the first two pages of each file with their block boxes drawn: red text, blue tables,
green figures). DocBank labels are weak (all paragraph tokens of a page share one label), so an element
here is a connected run of same-label tokens, cut where a line starts with a first-line indent.
"""

from __future__ import annotations

import argparse
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
    """One DocBank token: its label and normalised box."""

    label: str
    box: BBox


def read_tokens(path: Path) -> list[Token]:
    """Text tokens of a DocBank label file (boxes in 0..1000 -> normalised)."""
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 10 and not parts[0].startswith("##LT"):  # pdfminer's graphics tokens (##LTLine##)
            x0, y0, x1, y1 = (float(v) / 1000 for v in parts[1:5])
            out.append(Token(parts[9], BBox(x0, y0, max(x1, x0), max(y1, y0))))
    return out


def elements(tokens: list[Token]) -> list[tuple[str, BBox]]:
    """Labelled elements: tokens of one label connected on a line (gap under one token height) or across
    adjacent lines (overlapping in x, gap under 0.7 height), cut at first-line indents; each as
    ``(label, union box)``."""
    out = []
    for label in sorted({t.label for t in tokens}):
        boxes = np.array([t.box.as_list() for t in tokens if t.label == label])  # (n, 4)
        h = float(np.median(boxes[:, 3] - boxes[:, 1])) or 0.01
        same_line = (boxes[:, None, 1] < boxes[None, :, 3]) & (boxes[None, :, 1] < boxes[:, None, 3])  # (n, n)
        x_gap = np.maximum(boxes[:, None, 0] - boxes[None, :, 2], boxes[None, :, 0] - boxes[:, None, 2])
        y_gap = np.maximum(boxes[:, None, 1] - boxes[None, :, 3], boxes[None, :, 1] - boxes[:, None, 3])
        near = (same_line & (x_gap < h)) | ((x_gap < 0) & (y_gap < 0.7 * h)) | np.eye(len(boxes), dtype=bool)
        labels = np.arange(len(boxes))
        while True:
            new = np.where(near, labels[None, :], len(boxes)).min(axis=1)  # (n,) smallest neighbour label
            new = new[new]
            if np.array_equal(new, labels):
                break
            labels = new
        for k in np.unique(labels):
            out += [(label, box) for box in _paragraphs(boxes[labels == k], h)]
    return out


def _paragraphs(boxes: np.ndarray, h: float) -> list[BBox]:
    """One component's tokens ``(k, 4)`` cut into paragraphs where a line starts indented (by 0.8 to 4
    token heights from the component's left edge) below a line that does not: LaTeX sets paragraphs with
    a first-line indent and no gap, so the labels alone would merge them."""
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
        indent = boxes[ln, 0].min() - left
        prev_indent = boxes[lines[k - 1], 0].min() - left if k else 0.0
        if not parts or (0.8 * h <= indent <= 4 * h and prev_indent < 0.8 * h):
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
    centres = [(t.label, t.box.center) for t in tokens]
    for b in blocks:
        bb = b.bbox
        labels = {label for label, (x, y) in centres if bb.x0 <= x <= bb.x1 and bb.y0 <= y <= bb.y1}
        with_tokens += bool(labels)
        pure += len(labels) == 1
    return total, matched, with_tokens, pure


def draw_boxes(page: Page, out: Path, dpi: int = 100) -> Path:
    """Render ``page`` and draw its block-level region boxes on it (red text, blue tables, green figures)."""
    img = page.render(dpi)
    draw = ImageDraw.Draw(img)
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
    if draw_dir is not None:
        for p in pages[:2]:
            draw_boxes(p, draw_dir / f"{path.stem}-p{p.number}.png")
    how = "+".join(sorted(sources)) or "no regions"
    kinds_s = ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())) or "none"
    per_page = " ".join(str(len(p.regions_at("block"))) for p in pages[:20]) + (" ..." if len(pages) > 20 else "")
    tail = f"  errors: {'; '.join(errors)}" if errors else ""
    out = f"{path.name}: {len(pages)} pages, {how}, blocks {kinds_s}, per page [{per_page}]"
    out += f"  ({time.perf_counter() - t0:.2f} s){tail}"
    labels = path.with_suffix(".txt")
    if labels.is_file() and pages:
        total, matched, with_tokens, pure = docbank_scores(pages[0], read_tokens(labels))
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
