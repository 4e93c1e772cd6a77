"""Rendering of evaluation results: a JSON document and markdown tables (one row per system and kind)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .metrics import COVERAGE, THRESHOLDS, Summary
from .ranking import RetrievalSummary

GroundingResults = Mapping[str, Mapping[str, Summary]]  # system -> kind ("all", "text", ...) -> summary

GROUNDING_NOTES = (
    "hit@t and mean IoU use the best selected region per ground-truth box, averaged over a page's boxes "
    "and then over a question's evidence pages; selecting more regions never lowers them.",
    "published_* reproduces the published BBox-DocVQA figure's protocol as found in its public code: "
    "first evidence page only, and a mean IoU over the matched ground-truth boxes only.",
    "precision/recall count regions by coverage: a selected region is correct when at least `coverage` of "
    "its area lies in the ground truth; a ground-truth box is found when at least `coverage` of it is selected.",
    "ceiling: the same best-region metric with every candidate region selected; oracle: every candidate "
    "that would count as correct.",
    "tokens: totals over the pages that report token counts; vs_* is selected tokens divided by the tokens "
    "of all regions, or of the full page image.",
)


def _fixed(value: float | None, digits: int) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:.{digits}f}"


def _num(value: float | None, percent: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * value:.1f}%" if percent else f"{value:.3f}"


def grounding_to_json(
    results: GroundingResults, thresholds: Sequence[float] = THRESHOLDS, coverage: float = COVERAGE
) -> dict[str, Any]:
    """The JSON document of a grounding evaluation: settings, notes and every summary (NaN as null)."""
    return {
        "task": "grounding",
        "thresholds": list(thresholds),
        "coverage": coverage,
        "notes": list(GROUNDING_NOTES),
        "systems": {name: {kind: s.to_dict() for kind, s in by_kind.items()} for name, by_kind in results.items()},
    }


def grounding_markdown(results: GroundingResults, thresholds: Sequence[float] = THRESHOLDS) -> str:
    """A markdown table with one row per system and question kind (``all`` first), then the notes."""
    hit_cols = [f"hit@{t:g}" for t in thresholds]
    header = [
        "system",
        "kind",
        "questions",
        "pages",
        *hit_cols,
        "mean IoU",
        "published hit@0.5",
        "published IoU",
        "precision",
        "recall",
        "union IoU",
        "ceiling IoU",
        "ceiling hit@0.5",
        "kept/page",
        "selection rate",
        "tokens vs regions",
        "tokens vs page",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, by_kind in results.items():
        kinds = ["all", *sorted(k for k in by_kind if k != "all")] if "all" in by_kind else sorted(by_kind)
        for kind in kinds:
            s = by_kind[kind]
            m = s.metrics
            row = [
                name,
                kind,
                str(s.n_questions),
                str(s.n_pages),
                *(_num(m.get(c), percent=True) for c in hit_cols),
                _num(m.get("mean_iou")),
                _num(m.get("published_hit@0.5"), percent=True),
                _num(m.get("published_iou")),
                _num(m.get("precision"), percent=True),
                _num(m.get("recall"), percent=True),
                _num(m.get("union_iou")),
                _num(m.get("ceiling_iou")),
                _num(m.get("ceiling_hit@0.5"), percent=True),
                _fixed(m.get("kept"), 1),
                _num(m.get("selection_rate"), percent=True),
                _num(s.tokens.get("vs_all_regions"), percent=True),
                _num(s.tokens.get("vs_page_image"), percent=True),
            ]
            lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.extend(f"- {note}" for note in GROUNDING_NOTES)
    return "\n".join(lines) + "\n"


def retrieval_to_json(results: Mapping[str, RetrievalSummary]) -> dict[str, Any]:
    """The JSON document of a retrieval evaluation, one entry per system."""
    return {"task": "retrieval", "systems": {name: s.to_dict() for name, s in results.items()}}


def _metric_order(key: str) -> tuple[str, int]:
    name, _, k = key.partition("@")
    return (name, int(k) if k.isdigit() else 0)


def retrieval_markdown(results: Mapping[str, RetrievalSummary]) -> str:
    """A markdown table with one row per system: every metric it reports, then latency in milliseconds."""
    keys = sorted({k for s in results.values() for k in s.metrics}, key=_metric_order)
    header = ["system", "queries", *keys, "latency mean (ms)", "latency p95 (ms)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, s in results.items():
        row = [name, str(s.n_queries), *(_num(s.metrics.get(k)) for k in keys)]
        row += [_fixed(1000 * s.latency["mean"], 1), _fixed(1000 * s.latency["p95"], 1)]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def write_report(data: Mapping[str, Any], markdown: str, out: str | Path) -> tuple[Path, Path]:
    """Write ``out`` as JSON (``.json`` added if missing) and the markdown beside it (``.md``)."""
    out = Path(out)
    json_path = out if out.suffix == ".json" else out.with_suffix(out.suffix + ".json")
    md_path = json_path.with_suffix(".md")
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    md_path.write_text(markdown, encoding="utf-8")
    return json_path, md_path
