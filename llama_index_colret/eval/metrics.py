"""Grounding metrics: how well the selected regions of a page match its ground-truth evidence boxes.

Per evidence page (`score_page`), with S the selected region boxes, C all candidate region boxes and
G the ground-truth boxes, all normalised `BBox`es:

- **best-selected IoU** of a GT box g: ``max_{s in S} IoU(s, g)`` (0 when nothing is selected). The page
  value is the mean over its GT boxes, and the **hit rate at t** is the fraction of its GT boxes whose
  best-selected IoU is ``>= t``. Selecting more regions can only raise it: it ignores precision.
- **precision / recall** of the selection, by *coverage* with one threshold ``tau`` (default 0.5): a
  selected region is a true positive when ``>= tau`` of its own area lies inside the union of G; a GT
  box is recalled when ``>= tau`` of its area lies inside the union of S. Coverage, not IoU, because
  regions and GT boxes differ in granularity: a line inside a GT paragraph is right to select yet has
  a tiny IoU with it, and a GT box spanning five selected lines is fully found though no single line
  matches it. Precision is NaN (undefined) for an empty selection and is left out of averages; the
  report counts empty selections separately.
- **union IoU**: exact IoU of the union of S with the union of G, plus area precision
  ``|∪S ∩ ∪G| / |∪S|`` and area recall ``|∪S ∩ ∪G| / |∪G|``.
- **candidate ceiling**: the best-selected IoU and hits with S = C (the best any selector of these
  regions can reach), and the **oracle** selection (every candidate that would be a true positive):
  its recall and union IoU.
- **budget**: regions kept, selection rate ``|S| / |C|``, and tokens handed to the generator when given.

A question is scored per evidence page and its page values are averaged (`score_question`); a
two-page question thus weighs both pages equally. The published BBox-DocVQA localisation figure
(Georgiou 2025, arXiv:2512.02660: 59.7% hit rate at IoU 0.5 and mean IoU 0.569 for ColQwen3-4B with
the page given) is computed differently. In the public benchmark code of its Snappy repository
(benchmarks/evaluation.py and loaders/bbox_docvqa.py at commit 48fa876; we cannot tell whether that
exact commit made the figure) the hit rate uses the same best-selected rule per GT box ("set
coverage"), but the loader files a question's boxes under its *first* evidence page and keeps only
single-page questions by default, and the mean IoU averages only the GT boxes matched at the lowest
threshold (misses are left out instead of counting 0). ``published_*`` fields reproduce that view:
first evidence page only, and ``published_iou`` = mean best IoU over the GT boxes whose best IoU
reaches the lowest threshold (0 when none does). The default fields are the stricter, honest ones.
Pure numpy: imports neither LanceDB, transformers nor llama_index.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..geometry import BBox
from .areas import as_boxes, covered_fraction, iou_matrix, union_overlap

THRESHOLDS: tuple[float, ...] = (0.25, 0.5, 0.7)
COVERAGE: float = 0.5


@dataclass(frozen=True)
class PageCase:
    """One evidence page to score: selected, candidate and ground-truth boxes, and optional token counts.

    ``selected_tokens`` are the generator tokens of the selected regions, ``region_tokens`` those of all
    candidate regions, ``image_tokens`` those of the full page image.
    """

    selected: Sequence[BBox]
    candidates: Sequence[BBox]
    ground_truth: Sequence[BBox]
    selected_tokens: int | None = None
    region_tokens: int | None = None
    image_tokens: int | None = None


@dataclass(frozen=True)
class PageScore:
    """Every grounding metric of one evidence page; ``hits`` and ``ceiling_hits`` follow ``thresholds``."""

    thresholds: tuple[float, ...]
    best_iou: float
    hits: tuple[float, ...]
    published_iou: float
    precision: float
    recall: float
    area_precision: float
    area_recall: float
    union_iou: float
    ceiling_iou: float
    ceiling_hits: tuple[float, ...]
    oracle_recall: float
    oracle_union_iou: float
    n_selected: int
    n_candidates: int
    n_gt: int
    selected_tokens: int | None = None
    region_tokens: int | None = None
    image_tokens: int | None = None

    @property
    def selection_rate(self) -> float:
        """Share of the candidate regions that were selected (NaN for a page without candidates)."""
        return self.n_selected / self.n_candidates if self.n_candidates else math.nan

    def values(self) -> dict[str, float]:
        """The quality metrics as flat named floats (``hit@0.5``, ``precision``, ...) for averaging."""
        out = {
            "mean_iou": self.best_iou,
            "precision": self.precision,
            "recall": self.recall,
            "area_precision": self.area_precision,
            "area_recall": self.area_recall,
            "union_iou": self.union_iou,
            "ceiling_iou": self.ceiling_iou,
            "oracle_recall": self.oracle_recall,
            "oracle_union_iou": self.oracle_union_iou,
            "kept": float(self.n_selected),
            "candidates": float(self.n_candidates),
            "selection_rate": self.selection_rate,
        }
        for t, hit, ceil in zip(self.thresholds, self.hits, self.ceiling_hits, strict=True):
            out[f"hit@{t:g}"] = hit
            out[f"ceiling_hit@{t:g}"] = ceil
        return out


def _best_iou(selected: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Best IoU of each GT box over the selected boxes: shape ``(n_gt,)``; zeros when none is selected."""
    if len(selected) == 0:
        return np.zeros(len(gt))
    return iou_matrix(selected, gt).max(axis=0)  # (n_selected, n_gt) -> (n_gt,)


def _matched_mean(best: np.ndarray, floor: float) -> float:
    """Mean of the best IoUs that reach ``floor`` (the published mean IoU), 0 when none does."""
    matched = best[best >= floor]
    return float(matched.mean()) if len(matched) else 0.0


def _hits(best: np.ndarray, thresholds: Sequence[float]) -> tuple[float, ...]:
    return tuple(float((best >= t).mean()) for t in thresholds)


def score_page(case: PageCase, thresholds: Sequence[float] = THRESHOLDS, coverage: float = COVERAGE) -> PageScore:
    """All grounding metrics of one evidence page (see the module docstring for the definitions)."""
    if not case.ground_truth:
        raise ValueError("a page needs at least one ground-truth box to be scored")
    if not 0.0 < coverage <= 1.0:
        raise ValueError(f"coverage must be in (0, 1], got {coverage}")
    sel, cand, gt = as_boxes(case.selected), as_boxes(case.candidates), as_boxes(case.ground_truth)
    best = _best_iou(sel, gt)  # (n_gt,)
    ceiling = _best_iou(cand, gt)  # (n_gt,)
    tp = covered_fraction(sel, gt) >= coverage  # (n_selected,)
    recalled = covered_fraction(gt, sel) >= coverage  # (n_gt,)
    oracle = cand[covered_fraction(cand, gt) >= coverage]  # (n_oracle, 4)
    inter, a_sel, a_gt, union = union_overlap(sel, gt)
    o_inter, _, _, o_union = union_overlap(oracle, gt)
    return PageScore(
        thresholds=tuple(thresholds),
        best_iou=float(best.mean()),
        hits=_hits(best, thresholds),
        published_iou=_matched_mean(best, min(thresholds)),
        precision=float(tp.mean()) if len(sel) else math.nan,
        recall=float(recalled.mean()),
        area_precision=inter / a_sel if a_sel > 0 else math.nan,
        area_recall=inter / a_gt if a_gt > 0 else 0.0,
        union_iou=inter / union if union > 0 else 0.0,
        ceiling_iou=float(ceiling.mean()),
        ceiling_hits=_hits(ceiling, thresholds),
        oracle_recall=float((covered_fraction(gt, oracle) >= coverage).mean()),
        oracle_union_iou=o_inter / o_union if o_union > 0 else 0.0,
        n_selected=len(sel),
        n_candidates=len(cand),
        n_gt=len(gt),
        selected_tokens=case.selected_tokens,
        region_tokens=case.region_tokens,
        image_tokens=case.image_tokens,
    )


@dataclass(frozen=True)
class QuestionScore:
    """A question's page scores; ``kind`` is its evidence kind (text, table, figure, or mixed)."""

    id: str
    kind: str
    pages: tuple[PageScore, ...]

    def __post_init__(self) -> None:
        if not self.pages:
            raise ValueError(f"question {self.id!r} has no scored evidence page")

    def values(self) -> dict[str, float]:
        """Each page metric averaged over the evidence pages (NaN pages left out), plus the published view."""
        per_page = [p.values() for p in self.pages]
        out = {k: _nanmean([v[k] for v in per_page]) for k in per_page[0]}
        first = self.pages[0]  # the published metric scores the first evidence page only
        out["published_iou"] = first.published_iou
        for t, hit in zip(first.thresholds, first.hits, strict=True):
            out[f"published_hit@{t:g}"] = hit
        return out


def question_kind(kinds: Sequence[str]) -> str:
    """One kind for a question from its GT box kinds: the common kind, or ``mixed``."""
    distinct = sorted(set(kinds))
    if not distinct:
        return "unknown"
    return distinct[0] if len(distinct) == 1 else "mixed"


def score_question(
    qid: str,
    pages: Sequence[PageCase],
    kinds: Sequence[str] = (),
    thresholds: Sequence[float] = THRESHOLDS,
    coverage: float = COVERAGE,
) -> QuestionScore:
    """Score every evidence page of a question on its own boxes; ``kinds`` are the GT box kinds."""
    scored = tuple(score_page(p, thresholds, coverage) for p in pages)
    return QuestionScore(id=qid, kind=question_kind(kinds), pages=scored)


def _nanmean(values: Sequence[float]) -> float:
    arr = np.asarray(values, dtype=np.float64)
    ok = ~np.isnan(arr)
    return float(arr[ok].mean()) if ok.any() else math.nan


def nan_to_none(values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``values`` with float NaN as None (JSON has no NaN; an undefined figure becomes null)."""
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in values.items()}


def _ratio(num: int, den: int) -> float:
    return num / den if den else math.nan


@dataclass(frozen=True)
class Summary:
    """Averages over a set of questions: ``metrics`` by name, plus counts and token totals."""

    n_questions: int
    n_pages: int
    n_empty_selections: int
    metrics: dict[str, float]
    tokens: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """JSON form; NaN becomes None."""
        return {
            "n_questions": self.n_questions,
            "n_pages": self.n_pages,
            "n_empty_selections": self.n_empty_selections,
            "metrics": nan_to_none(self.metrics),
            "tokens": nan_to_none(self.tokens),
        }


def _token_totals(pages: Sequence[PageScore]) -> dict[str, float]:
    """Token totals over the pages that report all three counts, and the ratios of selected tokens to them."""
    counted = [p for p in pages if None not in (p.selected_tokens, p.region_tokens, p.image_tokens)]
    sel = sum(int(p.selected_tokens or 0) for p in counted)
    reg = sum(int(p.region_tokens or 0) for p in counted)
    img = sum(int(p.image_tokens or 0) for p in counted)
    return {
        "pages_counted": float(len(counted)),
        "selected_per_page": _ratio(sel, len(counted)),
        "all_regions_per_page": _ratio(reg, len(counted)),
        "page_image_per_page": _ratio(img, len(counted)),
        "vs_all_regions": _ratio(sel, reg),
        "vs_page_image": _ratio(sel, img),
    }


def summarize(questions: Sequence[QuestionScore]) -> Summary:
    """Mean of every question metric over ``questions`` (each question weighs 1) and token totals."""
    pages = [p for q in questions for p in q.pages]
    per_q = [q.values() for q in questions]
    keys = list(per_q[0]) if per_q else []
    return Summary(
        n_questions=len(questions),
        n_pages=len(pages),
        n_empty_selections=sum(p.n_selected == 0 for p in pages),
        metrics={k: _nanmean([v[k] for v in per_q]) for k in keys},
        tokens=_token_totals(pages),
    )


def summarize_by_kind(questions: Sequence[QuestionScore]) -> dict[str, Summary]:
    """``{"all": ..., "<kind>": ...}``: the overall summary and one per question kind, kinds sorted."""
    out = {"all": summarize(questions)}
    for kind in sorted({q.kind for q in questions}):
        out[kind] = summarize([q for q in questions if q.kind == kind])
    return out
