"""Retrieval metrics over ranked lists and graded qrels: nDCG@k, recall@k, MRR@k, latency figures.

Conventions follow BEIR / trec_eval so figures compare with published ViDoRe tables: the gain of a
document is its qrels grade (linear gain, not ``2^grade - 1``), the discount of rank ``i`` (1-based) is
``log2(i + 1)``, the ideal ranking sorts every judged document by grade, and a document is relevant
when its grade is ``> 0``. Queries without any relevant document are left out and counted; a judged
query missing from the run scores 0. Pure Python and numpy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .metrics import nan_to_none

Qrels = Mapping[str, Mapping[str, int]]  # query id -> document id -> grade


def _check_ranking(ranked: Sequence[str]) -> None:
    if len(set(ranked)) != len(ranked):
        dupes = sorted({d for d in ranked if ranked.count(d) > 1})
        raise ValueError(f"a ranking lists documents more than once: {dupes[:5]}")


def dcg_at_k(gains: Sequence[float], k: int) -> float:
    """Discounted cumulative gain of the first ``k`` gains: ``sum gain_i / log2(i + 1)``, i from 1."""
    g = np.asarray(gains[:k], dtype=np.float64)  # (min(k, n),)
    return float((g / np.log2(np.arange(2, len(g) + 2))).sum())


def ndcg_at_k(ranked: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    """nDCG@k of one ranking against one query's graded judgements (0 when nothing is relevant)."""
    _check_ranking(ranked)
    ideal = dcg_at_k(sorted((g for g in judged.values() if g > 0), reverse=True), k)
    if ideal == 0:
        return 0.0
    return dcg_at_k([max(judged.get(d, 0), 0) for d in ranked], k) / ideal


def recall_at_k(ranked: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    """Share of the relevant documents (grade > 0) found in the first ``k`` (0 when nothing is relevant)."""
    _check_ranking(ranked)
    relevant = {d for d, g in judged.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def mrr_at_k(ranked: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    """Reciprocal rank of the first relevant document within the first ``k``, else 0."""
    _check_ranking(ranked)
    for i, d in enumerate(ranked[:k], start=1):
        if judged.get(d, 0) > 0:
            return 1.0 / i
    return 0.0


@dataclass(frozen=True)
class RetrievalSummary:
    """Mean metrics over the evaluated queries, with counts and latency figures in seconds."""

    n_queries: int
    n_skipped: int
    n_missing: int
    metrics: dict[str, float]
    latency: dict[str, float]

    def to_dict(self) -> dict[str, object]:
        """JSON form; NaN becomes None."""
        return {
            "n_queries": self.n_queries,
            "n_skipped": self.n_skipped,
            "n_missing": self.n_missing,
            "metrics": nan_to_none(self.metrics),
            "latency_s": nan_to_none(self.latency),
        }


def latency_figures(seconds: Sequence[float]) -> dict[str, float]:
    """Mean, median, 95th percentile and max of per-query latencies (NaN when none were measured)."""
    if not seconds:
        return {"mean": math.nan, "p50": math.nan, "p95": math.nan, "max": math.nan}
    arr = np.asarray(seconds, dtype=np.float64)
    return {
        "mean": float(arr.mean()),
        "p50": float(np.percentile(arr, 50)),
        "p95": float(np.percentile(arr, 95)),
        "max": float(arr.max()),
    }


def evaluate_run(
    run: Mapping[str, Sequence[str]],
    qrels: Qrels,
    ks: Sequence[int] = (1, 5, 10),
    latencies: Sequence[float] = (),
) -> RetrievalSummary:
    """nDCG@k, recall@k and MRR@k averaged over the judged queries that have a relevant document.

    ``run`` maps a query id to its ranked document ids, best first; ``latencies`` are per-query seconds.
    """
    if any(k <= 0 for k in ks):
        raise ValueError(f"cut-offs must be positive, got {list(ks)}")
    judged = {q: j for q, j in qrels.items() if any(g > 0 for g in j.values())}
    sums: dict[str, float] = {}
    for qid, grades in judged.items():
        ranked = list(run.get(qid, ()))
        for k in ks:
            for name, fn in (("ndcg", ndcg_at_k), ("recall", recall_at_k), ("mrr", mrr_at_k)):
                key = f"{name}@{k}"
                sums[key] = sums.get(key, 0.0) + fn(ranked, grades, k)
    n = len(judged)
    metrics = {key: (total / n) for key, total in sums.items()} if n else {}
    return RetrievalSummary(
        n_queries=n,
        n_skipped=len(qrels) - n,
        n_missing=sum(q not in run for q in judged),
        metrics=metrics,
        latency=latency_figures(latencies),
    )
