"""End-to-end grounding and retrieval evaluation on generated pages with the word-patch double (known answers),
real Tesseract OCR on the rendered images, and a real LanceDB index in a temporary directory."""

from __future__ import annotations

import json
import math

import numpy as np
import pytesseract
import pytest
from PIL import Image

from llama_index_colret.eval.datasets import read_grounding_dataset, read_retrieval_dataset
from llama_index_colret.eval.run_grounding import (
    SYSTEMS,
    evaluate_grounding,
    grounding_report,
    image_dpi,
    image_regions,
    page_cases,
)
from llama_index_colret.eval.run_retrieval import evaluate_retrieval, retrieval_report
from llama_index_colret.grounding import GroundingOptions
from llama_index_colret.store.lance import PageStore
from llama_index_colret.testing.double import WordPatchEmbedder


@pytest.fixture(scope="module")
def double(eval_datasets: dict) -> WordPatchEmbedder:
    return WordPatchEmbedder(eval_datasets["pdfs"], extra_words=eval_datasets["extra_words"])


@pytest.fixture(scope="module")
def grounding_run(eval_datasets: dict, double: WordPatchEmbedder):
    questions = read_grounding_dataset(eval_datasets["grounding"])
    return questions, evaluate_grounding(questions, double, seed=3)


def test_image_regions_finds_the_paragraphs_by_ocr(eval_datasets: dict) -> None:
    questions = {q.id: q for q in read_grounding_dataset(eval_datasets["grounding"])}
    ev = questions["d0-p2"].evidence[0]
    with Image.open(ev.image) as im:
        assert image_dpi(im) == 150
        regions = image_regions(im.convert("RGB"))
    assert {r.source for r in regions} == {"ocr"}
    best = max(r.bbox.iou(ev.boxes[0]) for r in regions if r.level == "block")
    assert best > 0.85  # the OCR block of the third paragraph matches its drawn box
    assert any("zor" in r.text or "qua" in r.text for r in regions)


def test_double_grounds_every_paragraph_question(grounding_run, eval_datasets: dict) -> None:
    questions, run = grounding_run
    text = {q.id: q for q in run.scores["colret"] if q.kind == "text"}
    assert sorted(text) == sorted(eval_datasets["text_questions"])
    for q in text.values():
        assert q.values()["hit@0.5"] == 1.0, q.id  # the answer paragraph is among the selected regions
        assert q.values()["recall"] == 1.0, q.id
    m = run.results["colret"]["text"].metrics
    assert m["mean_iou"] > 0.85
    assert m["hit@0.5"] >= run.results["random"]["text"].metrics["hit@0.5"]


def test_systems_kinds_and_baselines_keep_the_same_counts(grounding_run) -> None:
    questions, run = grounding_run
    assert set(run.results) == set(SYSTEMS)
    assert set(run.results["colret"]) == {"all", "text", "table", "figure"}
    assert run.n_pages == len(questions) == run.results["colret"]["all"].n_questions
    for system in ("random", "bm25"):
        for a, b in zip(run.scores["colret"], run.scores[system], strict=True):
            assert [p.n_selected for p in a.pages] == [p.n_selected for p in b.pages]
            assert [p.n_candidates for p in a.pages] == [p.n_candidates for p in b.pages]
    tokens = run.results["colret"]["all"].tokens
    assert 0 < tokens["vs_all_regions"] <= 1
    assert tokens["pages_counted"] == len(questions)


def test_random_baseline_is_seeded(eval_datasets: dict, double: WordPatchEmbedder, grounding_run) -> None:
    questions, run = grounding_run
    again = evaluate_grounding(questions, double, seed=3, regions_for=lambda p, im: image_regions(im))
    assert again.results["random"]["all"].metrics == run.results["random"]["all"].metrics


def test_page_cases_reference_values(eval_datasets: dict, double: WordPatchEmbedder) -> None:
    q = next(q for q in read_grounding_dataset(eval_datasets["grounding"]) if q.id == "d1-p1")
    ev = q.evidence[0]
    with Image.open(ev.image) as im:
        image = im.convert("RGB")
    page = double.embed_pages([image])[0]
    query = double.embed_queries([q.question])[0]
    options = GroundingOptions(top_k=1)
    cases = page_cases(q.question, query, page, image_regions(image), ev.boxes, options, np.random.default_rng(0))
    colret = cases["colret"]
    assert len(colret.selected) == 1 and colret.selected[0].iou(ev.boxes[0]) > 0.85
    assert cases["bm25"].selected == colret.selected  # both rare words are in that paragraph's text only
    assert colret.image_tokens == page.grid.n_tokens
    assert colret.selected_tokens < colret.region_tokens


def test_ocr_failure_is_recorded_not_fatal(
    eval_datasets: dict, double: WordPatchEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    questions = read_grounding_dataset(eval_datasets["grounding"])[:2]
    run = evaluate_grounding(questions, double)
    assert len(run.region_failures) == 1 and "not installed" in next(iter(run.region_failures.values()))
    pages = [p for q in run.scores["colret"] for p in q.pages]
    figure = GroundingOptions().figure_tokens  # without OCR regions, only hot-spot crops remain as candidates
    assert all(p.region_tokens == figure * p.n_candidates for p in pages)


def test_grounding_report_is_strict_json(grounding_run) -> None:
    _, run = grounding_run
    data, md = grounding_report(run, {"model": "double", "dataset": "tiny"}, GroundingOptions())
    text = json.dumps(data, allow_nan=False)
    back = json.loads(text)
    assert back["task"] == "grounding" and back["options"]["top_k"] == 3
    assert set(back["systems"]) == set(SYSTEMS)
    assert back["published_reference"]["hit@0.5"] == pytest.approx(0.597)
    assert len(back["questions"]) == run.results["colret"]["all"].n_questions
    assert "| colret | all |" in md and "| bm25 | text |" in md


def test_retrieval_with_the_double_finds_each_page(eval_datasets: dict, double: WordPatchEmbedder, tmp_path) -> None:
    data = read_retrieval_dataset(eval_datasets["retrieval"])
    result = evaluate_retrieval(data, double, ks=(1, 2), db=tmp_path / "idx", pages_per_doc=1)
    assert result.summary.n_queries == len(data.qrels) == 8
    assert result.summary.metrics["ndcg@1"] == 1.0 and result.summary.metrics["recall@1"] == 1.0
    for qid, ranked in result.run.items():
        assert ranked[0] == next(iter(data.qrels[qid])) and len(ranked) == 2
    lat = result.summary.latency
    assert 0 < lat["p50"] <= lat["p95"] <= lat["max"]
    assert 0 < result.search_latency["p50"] <= lat["max"]
    store = PageStore.open(tmp_path / "idx")
    assert store.count() == 2 and len(store.documents()) == 2
    assert all(not store.get_page(d.doc_id, 1).regions for d in store.documents())  # no regions by default
    report, md = retrieval_report(result, {"model": "double", "dataset": "tiny", "regions": "none"})
    json.dumps(report, allow_nan=False)
    assert report["systems"]["colret"]["metrics"]["ndcg@2"] == 1.0 and "median" in md


def test_retrieval_with_ocr_stores_regions(eval_datasets: dict, double: WordPatchEmbedder, tmp_path) -> None:
    data = read_retrieval_dataset(eval_datasets["retrieval"])
    result = evaluate_retrieval(data, double, ks=(1,), db=tmp_path / "idx", ocr=True)
    assert not result.region_failures
    page = PageStore.open(tmp_path / "idx").get_page("corpus-00000", 1)
    assert page.regions and {r.source for r in page.regions} == {"ocr"}
    assert not math.isnan(result.summary.metrics["mrr@1"])


def test_retrieval_refuses_a_used_index(eval_datasets: dict, double: WordPatchEmbedder, tmp_path) -> None:
    data = read_retrieval_dataset(eval_datasets["retrieval"])
    evaluate_retrieval(data, double, ks=(1,), db=tmp_path / "idx")
    with pytest.raises(ValueError, match="must start empty"):
        evaluate_retrieval(data, double, ks=(1,), db=tmp_path / "idx")
