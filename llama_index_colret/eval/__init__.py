"""Evaluation: grounding and retrieval metrics, dataset layouts, baselines and reports.

Pure parts only (numpy, PIL for image sizes): the `colret eval ...` commands wire them to an index.
"""

from .bm25 import BM25, bm25_select, random_baseline, random_select
from .datasets import (
    Evidence,
    GroundingQuestion,
    RetrievalDataset,
    read_grounding_dataset,
    read_retrieval_dataset,
    write_grounding_dataset,
    write_retrieval_dataset,
)
from .metrics import (
    COVERAGE,
    THRESHOLDS,
    PageCase,
    PageScore,
    QuestionScore,
    Summary,
    score_page,
    score_question,
    summarize,
    summarize_by_kind,
)
from .ranking import RetrievalSummary, evaluate_run, mrr_at_k, ndcg_at_k, recall_at_k
from .report import grounding_markdown, grounding_to_json, retrieval_markdown, retrieval_to_json, write_report

__all__ = [
    "BM25",
    "COVERAGE",
    "THRESHOLDS",
    "Evidence",
    "GroundingQuestion",
    "PageCase",
    "PageScore",
    "QuestionScore",
    "RetrievalDataset",
    "RetrievalSummary",
    "Summary",
    "bm25_select",
    "evaluate_run",
    "grounding_markdown",
    "grounding_to_json",
    "mrr_at_k",
    "ndcg_at_k",
    "random_baseline",
    "random_select",
    "read_grounding_dataset",
    "read_retrieval_dataset",
    "recall_at_k",
    "retrieval_markdown",
    "retrieval_to_json",
    "score_page",
    "score_question",
    "summarize",
    "summarize_by_kind",
    "write_grounding_dataset",
    "write_report",
    "write_retrieval_dataset",
]
