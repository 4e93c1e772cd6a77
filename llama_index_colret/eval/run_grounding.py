"""Wiring of ``colret eval grounding``: each evidence page is embedded, grounded on the question and scored.

The dataset (BBox-DocVQA layout, see `eval.datasets`) gives page *images* with ground-truth boxes and the
correct page, so no retrieval is needed: each evidence image is embedded in memory, its regions come from
Tesseract OCR on the image (`image_regions`: words -> lines -> blocks and tables; an image has no embedded
pictures, so figures are found only as grounding hot spots), the question is encoded, `ground_page` and
`select` run with the given `GroundingOptions`, and `eval.metrics` scores the selection. Baselines on the
same candidates, with the same number of regions per page: seeded random selection and BM25 over region
text. Full-page image tokens are the embedder's image-token count (``grid.n_tokens``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from ..embed.types import Embedder, PageEmbedding, QueryEmbedding
from ..errors import DatasetError, OCRError
from ..geometry import BBox
from ..grounding import GroundingOptions, ground_page, select
from ..grounding.tables import estimate_tokens
from ..ingest.page import Region
from .bm25 import bm25_select, random_select
from .datasets import Evidence, GroundingQuestion
from .metrics import PageCase, QuestionScore, Summary, nan_to_none, score_question, summarize_by_kind
from .report import grounding_markdown, grounding_to_json

SYSTEMS: tuple[str, ...] = ("colret", "random", "bm25")
DEFAULT_OCR_DPI = 150
PUBLISHED = {
    "source": "BBox-DocVQA (arXiv:2512.02660), ColQwen3-4B, correct page given",
    "hit@0.5": 0.597,
    "mean_iou": 0.569,
    "comparable_fields": ["published_hit@0.5", "published_iou"],
}
RegionsFor = Callable[[Path, Image.Image], list[Region]]


def image_dpi(image: Image.Image, default: int = DEFAULT_OCR_DPI) -> int:
    """The resolution an image file declares (PNG pHYs / JPEG JFIF), else ``default``."""
    dpi = image.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        value = 0.0
    return int(round(value)) if 50 <= value <= 1200 else default


def image_regions(image: Image.Image, *, dpi: int | None = None, lang: str = "eng") -> list[Region]:
    """Regions of a page image from Tesseract OCR, in reading order (blocks with their lines, tables).

    ``dpi`` tells Tesseract the scan resolution (default: the image's own, else 150). Raises OCRError.
    """
    from ..ingest.ocr import ocr_words
    from ..ingest.regions import build_regions

    words = ocr_words(image, dpi=dpi or image_dpi(image), lang=lang)  # pixel boxes, top-left origin
    return build_regions(words, image.width, image.height, source="ocr")


def ocr_regions_for(dpi: int | None = None, lang: str = "eng") -> RegionsFor:
    """The default region source of the evaluation: `image_regions` on each evidence image."""

    def regions(path: Path, image: Image.Image) -> list[Region]:
        return image_regions(image, dpi=dpi, lang=lang)

    return regions


def _boxes(regions: Sequence[Region]) -> list[BBox]:
    return [r.bbox for r in regions]


def page_cases(
    question: str,
    query: QueryEmbedding,
    page: PageEmbedding,
    regions: Sequence[Region],
    ground_truth: Sequence[BBox],
    options: GroundingOptions,
    rng: np.random.Generator,
) -> dict[str, PageCase]:
    """Ground one evidence page and build the `PageCase` of every system (colret, random, bm25).

    Candidates are the grounding's covered candidates (regions of the chosen level plus hot spots); the
    baselines pick as many of them as colret kept, so only *which* regions differs.
    """
    g = ground_page(query, page, regions, options)
    selection = select([g], options)
    candidates = [g.regions[i] for i in np.flatnonzero(g.covered)]
    tokens = [estimate_tokens(r, options.figure_tokens) for r in candidates]
    k, image_tokens, region_tokens = selection.n_kept, page.grid.n_tokens, sum(tokens)

    def case(chosen: Sequence[Region], chosen_tokens: int) -> PageCase:
        boxes = _boxes(candidates)
        return PageCase(_boxes(chosen), boxes, list(ground_truth), chosen_tokens, region_tokens, image_tokens)

    rand = random_select(len(candidates), k, rng)
    bm25 = bm25_select(question, [r.text for r in candidates], k)
    return {
        "colret": case([s.region for s in selection.regions], selection.tokens_kept),
        "random": case([candidates[i] for i in rand], sum(tokens[i] for i in rand)),
        "bm25": case([candidates[i] for i in bm25], sum(tokens[i] for i in bm25)),
    }


@dataclass
class GroundingRun:
    """Everything one evaluation produced: question scores and summaries per system, counters, timings."""

    scores: dict[str, list[QuestionScore]]
    results: dict[str, dict[str, Summary]]
    n_pages: int
    region_failures: dict[str, str] = field(default_factory=dict)  # image path -> why it has no regions
    seconds: dict[str, float] = field(default_factory=dict)


def _open_image(ev: Evidence) -> Image.Image:
    if not ev.image.is_file():
        raise DatasetError(ev.image, f"page image of document {ev.doc!r}, page {ev.page} not found")
    with Image.open(ev.image) as im:
        im.load()
        return im.convert("RGB") if im.mode != "RGB" else im.copy()


def _chunks(questions: Sequence[GroundingQuestion], pages_per_chunk: int) -> list[list[int]]:
    """Question indices grouped so that each group holds about ``pages_per_chunk`` distinct images."""
    groups: list[list[int]] = [[]]
    seen: set[Path] = set()
    for i, q in enumerate(questions):
        new = {e.image for e in q.evidence} - seen
        if groups[-1] and len(seen) + len(new) > pages_per_chunk:
            groups.append([])
            seen = set()
        groups[-1].append(i)
        seen |= {e.image for e in q.evidence}
    return [g for g in groups if g]


def _encode_questions(
    questions: Sequence[GroundingQuestion], embedder: Embedder, batch: int, show_progress: bool
) -> list[QueryEmbedding]:
    out: list[QueryEmbedding] = []
    with tqdm(total=len(questions), desc="encoding questions", unit="q", disable=not show_progress) as bar:
        for start in range(0, len(questions), batch):
            chunk = questions[start : start + batch]
            out.extend(embedder.embed_queries([q.question for q in chunk]))
            bar.update(len(chunk))
    return out


def evaluate_grounding(
    questions: Sequence[GroundingQuestion],
    embedder: Embedder,
    options: GroundingOptions | None = None,
    *,
    regions_for: RegionsFor | None = None,
    seed: int = 0,
    pages_per_chunk: int = 8,
    workers: int = 2,
    show_progress: bool = False,
) -> GroundingRun:
    """Ground every question on each of its evidence pages and score colret and the baselines.

    ``regions_for(path, image)`` gives a page's regions (default: Tesseract OCR, run on ``workers``
    threads while the model embeds the same chunk of pages). A page whose OCR fails is kept with no
    regions (it scores 0) and is listed in `GroundingRun.region_failures`.
    """
    if not questions:
        raise ValueError("no questions to evaluate")
    options = options or GroundingOptions()
    regions_for = regions_for or ocr_regions_for()
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    queries = _encode_questions(questions, embedder, 16, show_progress)
    t_query = time.perf_counter() - t0
    cases: list[dict[str, list[PageCase]]] = [{s: [] for s in SYSTEMS} for _ in questions]
    failures: dict[str, str] = {}
    n_pages = sum(len(q.evidence) for q in questions)
    with (
        ThreadPoolExecutor(max_workers=max(1, workers)) as pool,
        tqdm(total=n_pages, desc="grounding pages", unit="page", disable=not show_progress) as bar,
    ):
        for group in _chunks(questions, pages_per_chunk):
            chunk = [(i, questions[i]) for i in group]
            for i, per in _ground_chunk(chunk, queries, embedder, pool, regions_for, options, rng, failures):
                for system, c in per.items():
                    cases[i][system].append(c)
                bar.update(1)
    scores = {s: [score_question(q.id, c[s], q.kinds) for q, c in zip(questions, cases, strict=True)] for s in SYSTEMS}
    total = time.perf_counter() - t0
    return GroundingRun(
        scores=scores,
        results={s: summarize_by_kind(v) for s, v in scores.items()},
        n_pages=n_pages,
        region_failures=failures,
        seconds={"total": total, "encode_questions": t_query, "per_page": (total - t_query) / n_pages},
    )


def _ground_chunk(
    chunk: Sequence[tuple[int, GroundingQuestion]],
    queries: Sequence[QueryEmbedding],
    embedder: Embedder,
    pool: ThreadPoolExecutor,
    regions_for: RegionsFor,
    options: GroundingOptions,
    rng: np.random.Generator,
    failures: dict[str, str],
) -> list[tuple[int, dict[str, PageCase]]]:
    """Cases of every evidence page of a chunk of questions: regions (in the pool) while the model embeds."""
    evidence = {e.image: e for _, q in chunk for e in q.evidence}  # distinct images, first appearance order
    images = {p: _open_image(e) for p, e in evidence.items()}
    pending = {p: pool.submit(regions_for, p, im) for p, im in images.items()}
    embedded = dict(zip(images, embedder.embed_pages(list(images.values())), strict=True))
    regions = {p: _collect(p, f, failures) for p, f in pending.items()}
    out = []
    for i, q in chunk:
        for ev in q.evidence:
            page = embedded[ev.image]
            out.append((i, page_cases(q.question, queries[i], page, regions[ev.image], ev.boxes, options, rng)))
    return out


def _collect(path: Path, future: Future[list[Region]], failures: dict[str, str]) -> list[Region]:
    """The regions an OCR job found; an OCR failure is recorded and gives no regions."""
    try:
        return future.result()
    except OCRError as exc:
        failures[str(path)] = str(exc)
        return []


def grounding_report(run: GroundingRun, meta: dict[str, Any], options: GroundingOptions) -> tuple[dict, str]:
    """The JSON document and markdown of a run: the shared report plus settings, references and per-question rows."""
    data = grounding_to_json(run.results)
    data.update(meta)
    data["options"] = asdict(options)
    data["n_pages"] = run.n_pages
    data["regions"] = meta.get("regions", "tesseract-ocr on the page image")
    data["image_tokens"] = "the embedder's image-token count per page (grid.n_tokens)"
    data["region_failures"] = run.region_failures
    data["seconds"] = run.seconds
    data["published_reference"] = PUBLISHED
    data["questions"] = [{"id": q.id, "kind": q.kind, **nan_to_none(q.values())} for q in run.scores["colret"]]
    head = [
        f"# Grounding evaluation: {meta.get('model', '?')} on {meta.get('dataset', '?')}",
        "",
        f"{len(run.scores['colret'])} questions, {run.n_pages} evidence pages; regions: {data['regions']}; "
        f"{len(run.region_failures)} pages without regions (OCR failed).",
        f"Published reference: {PUBLISHED['source']}: hit@0.5 = {PUBLISHED['hit@0.5']:.1%}, "
        f"mean IoU = {PUBLISHED['mean_iou']:.3f} (compare with the published_* columns).",
        "",
    ]
    return data, "\n".join(head) + "\n" + grounding_markdown(run.results)
