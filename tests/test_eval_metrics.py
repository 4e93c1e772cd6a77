"""Grounding and retrieval metrics, baselines and report rendering on hand-made cases with known values."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llama_index_colret.eval.areas import covered_fraction, iou_matrix, union_area, union_iou, union_overlap
from llama_index_colret.eval.bm25 import BM25, bm25_select, random_baseline, random_select, tokenize
from llama_index_colret.eval.metrics import (
    PageCase,
    question_kind,
    score_page,
    score_question,
    summarize,
    summarize_by_kind,
)
from llama_index_colret.eval.ranking import evaluate_run, mrr_at_k, ndcg_at_k, recall_at_k
from llama_index_colret.eval.report import (
    grounding_markdown,
    grounding_to_json,
    retrieval_markdown,
    retrieval_to_json,
    write_report,
)
from llama_index_colret.geometry import BBox


def B(*v: float) -> BBox:
    return BBox(*v)


# -- exact areas --------------------------------------------------------------------------------------


def test_union_area_counts_overlap_once() -> None:
    assert union_area([B(0, 0, 0.5, 0.5), B(0.25, 0.25, 0.75, 0.75)]) == pytest.approx(0.4375)
    assert union_area([B(0, 0, 0.5, 0.5), B(0.1, 0.1, 0.2, 0.2)]) == pytest.approx(0.25)  # nested
    assert union_area([B(0, 0, 0.1, 0.1), B(0.5, 0.5, 0.6, 0.6)]) == pytest.approx(0.02)  # disjoint
    assert union_area([]) == 0.0


def test_union_iou_and_coverage_by_hand() -> None:
    assert union_iou([B(0, 0, 0.5, 0.5)], [B(0, 0, 0.5, 0.25)]) == pytest.approx(0.5)
    # two strips cover an L of 3/4 of the square [0, .5]^2
    frac = covered_fraction([B(0, 0, 0.5, 0.5)], [B(0, 0, 0.25, 1), B(0, 0, 1, 0.25)])
    assert frac == pytest.approx([0.75])
    assert covered_fraction([B(0.2, 0.2, 0.2, 0.4)], [B(0, 0, 1, 1)]) == pytest.approx([0.0])  # zero-area target
    assert iou_matrix([B(0, 0, 0.5, 0.5)], [B(0, 0, 0.5, 0.25), B(0.6, 0.6, 1, 1)]) == pytest.approx(
        np.array([[0.5, 0.0]])
    )


edge_pair = st.tuples(st.integers(0, 15), st.integers(1, 16)).map(lambda t: (min(t[0], t[1] - 1), t[1]))
grid_box = st.tuples(edge_pair, edge_pair).map(lambda t: (t[0][0], t[1][0], t[0][1], t[1][1]))  # x0, y0, x1, y1


def _raster(boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
    mask = np.zeros((16, 16), dtype=bool)  # (rows = y, cols = x) on a 16 x 16 lattice
    for x0, y0, x1, y1 in boxes:
        mask[y0:y1, x0:x1] = True
    return mask


@settings(max_examples=60, deadline=None)
@given(st.lists(grid_box, max_size=6), st.lists(grid_box, max_size=6))
def test_union_overlap_equals_raster_reference(a: list, b: list) -> None:
    """On boxes snapped to a 1/16 lattice a raster is exact, so the two must agree to rounding."""
    to_bbox = [[B(*(v / 16 for v in t)) for t in s] for s in (a, b)]
    inter, area_a, area_b, union = union_overlap(*to_bbox)
    ra, rb = _raster(a), _raster(b)
    cell = 1 / 256
    assert inter == pytest.approx((ra & rb).sum() * cell, abs=1e-12)
    assert area_a == pytest.approx(ra.sum() * cell, abs=1e-12)
    assert area_b == pytest.approx(rb.sum() * cell, abs=1e-12)
    assert union == pytest.approx((ra | rb).sum() * cell, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(grid_box, min_size=1, max_size=4), st.lists(grid_box, max_size=6))
def test_covered_fraction_equals_raster_reference(targets: list, cover: list) -> None:
    frac = covered_fraction([B(*(v / 16 for v in t)) for t in targets], [B(*(v / 16 for v in t)) for t in cover])
    rc = _raster(cover)
    for f, t in zip(frac, targets, strict=True):
        rt = _raster([t])
        assert f == pytest.approx((rt & rc).sum() / rt.sum(), abs=1e-12)


# -- page metrics -------------------------------------------------------------------------------------


def test_half_box_selection_has_iou_one_half() -> None:
    s = score_page(
        PageCase(selected=[B(0, 0, 0.5, 0.25)], candidates=[B(0, 0, 0.5, 0.25)], ground_truth=[B(0, 0, 0.5, 0.5)])
    )
    assert s.best_iou == pytest.approx(0.5)
    assert s.hits == (1.0, 1.0, 0.0)  # thresholds 0.25, 0.5, 0.7
    assert s.precision == 1.0  # the selection lies wholly inside the ground truth
    assert s.recall == 1.0  # half of the box is covered: coverage 0.5 >= 0.5
    assert s.union_iou == pytest.approx(0.5)
    assert s.area_precision == pytest.approx(1.0) and s.area_recall == pytest.approx(0.5)


def test_more_regions_never_lower_best_iou_but_lower_precision() -> None:
    gt = [B(0, 0, 0.5, 0.5)]
    one = score_page(PageCase([B(0, 0, 0.5, 0.25)], [B(0, 0, 0.5, 0.25)], gt))
    extra = [B(0, 0, 0.5, 0.25), B(0.6, 0.6, 0.9, 0.9)]
    two = score_page(PageCase(extra, extra, gt))
    assert two.best_iou == one.best_iou and two.hits == one.hits
    assert two.precision == pytest.approx(0.5)
    assert two.union_iou == pytest.approx(0.125 / (0.25 + 0.09))


def test_lines_inside_a_paragraph_count_by_coverage() -> None:
    gt = [B(0.1, 0.1, 0.9, 0.4)]  # area 0.24
    lines = [B(0.1, 0.1, 0.9, 0.15), B(0.1, 0.2, 0.9, 0.25), B(0.1, 0.6, 0.9, 0.65)]  # 0.04 each
    s = score_page(PageCase(lines, lines, gt))
    assert s.precision == pytest.approx(2 / 3)  # two lines inside the paragraph, one outside
    assert s.recall == 0.0  # only 1/3 of the paragraph is selected
    assert s.area_precision == pytest.approx(2 / 3)
    assert s.area_recall == pytest.approx(1 / 3)
    assert s.union_iou == pytest.approx(0.08 / 0.28)
    assert s.best_iou == pytest.approx(0.04 / 0.24)  # one line against the paragraph


def test_box_that_no_region_can_reach() -> None:
    gt = [B(0.6, 0.6, 0.9, 0.9)]
    candidates = [B(0, 0, 1, 0.5), B(0.6, 0.6, 0.9, 0.7)]  # the second reaches a third of the box
    s = score_page(PageCase([B(0, 0, 1, 0.5)], candidates, gt))
    assert s.ceiling_iou == pytest.approx(1 / 3)
    assert s.ceiling_hits == (1.0, 0.0, 0.0)
    assert s.hits == (0.0, 0.0, 0.0) and s.best_iou == 0.0
    assert s.oracle_recall == 0.0  # the only on-target candidate covers 1/3 < 0.5
    assert s.oracle_union_iou == pytest.approx(1 / 3)
    assert s.precision == 0.0


def test_empty_selection() -> None:
    s = score_page(PageCase([], [B(0, 0, 1, 0.5)], [B(0, 0, 0.5, 0.5)]))
    assert math.isnan(s.precision) and math.isnan(s.area_precision)
    assert (s.recall, s.best_iou, s.union_iou, s.hits) == (0.0, 0.0, 0.0, (0.0, 0.0, 0.0))
    assert s.n_selected == 0 and s.selection_rate == 0.0


def test_multi_box_page_scores_each_box() -> None:
    gt = [B(0, 0, 0.5, 0.5), B(0.5, 0.5, 1, 1)]
    s = score_page(PageCase([B(0, 0, 0.5, 0.5)], [B(0, 0, 0.5, 0.5)], gt))
    assert s.hits[1] == 0.5 and s.best_iou == 0.5  # one of two boxes found
    assert s.published_iou == 1.0  # the published mean IoU leaves the missed box out


def test_published_mean_iou_leaves_misses_out() -> None:
    gt = [B(0, 0, 0.5, 0.5), B(0.5, 0.5, 1, 1)]
    sel = [B(0, 0, 0.5, 0.1), B(0.5, 0.5, 1, 0.8)]  # IoU 0.2 with the first box, 0.6 with the second
    s = score_page(PageCase(sel, sel, gt))
    assert s.best_iou == pytest.approx(0.4) and s.published_iou == pytest.approx(0.6)
    assert s.hits == (0.5, 0.5, 0.0)


def test_page_without_ground_truth_or_bad_coverage_is_rejected() -> None:
    with pytest.raises(ValueError, match="ground-truth"):
        score_page(PageCase([B(0, 0, 1, 1)], [B(0, 0, 1, 1)], []))
    with pytest.raises(ValueError, match="coverage"):
        score_page(PageCase([], [], [B(0, 0, 1, 1)]), coverage=0.0)


# -- questions and summaries --------------------------------------------------------------------------


def _page(hit: bool, tokens: tuple[int, int, int] | None = None) -> PageCase:
    gt = [B(0.2, 0.2, 0.4, 0.4)]
    sel = [B(0.2, 0.2, 0.4, 0.4)] if hit else [B(0.6, 0.6, 0.8, 0.8)]
    cand = [B(0.2, 0.2, 0.4, 0.4), B(0.6, 0.6, 0.8, 0.8), B(0, 0.9, 1, 1), B(0, 0, 1, 0.1)]
    t = tokens or (None, None, None)
    return PageCase(sel, cand, gt, selected_tokens=t[0], region_tokens=t[1], image_tokens=t[2])


def test_two_page_question_is_averaged_over_its_pages() -> None:
    q = score_question("q", [_page(True), _page(False)], kinds=["text", "text"])
    v = q.values()
    assert v["mean_iou"] == pytest.approx(0.5) and v["hit@0.5"] == pytest.approx(0.5)
    assert v["precision"] == pytest.approx(0.5) and v["recall"] == pytest.approx(0.5)
    assert v["published_hit@0.5"] == 1.0  # the published metric looks at the first page only
    flipped = score_question("q", [_page(False), _page(True)], kinds=["text"]).values()
    assert flipped["published_hit@0.5"] == 0.0 and flipped["hit@0.5"] == pytest.approx(0.5)
    assert q.kind == "text"


def test_question_kind() -> None:
    assert question_kind(["table", "table"]) == "table"
    assert question_kind(["text", "figure"]) == "mixed"
    assert question_kind([]) == "unknown"


def test_summary_per_kind_and_tokens() -> None:
    qs = [
        score_question("a", [_page(True, (10, 40, 100))], kinds=["text"]),
        score_question("b", [_page(False, (30, 60, 100))], kinds=["table"]),
        score_question("c", [_page(True, (20, 50, 100)), PageCase([], [B(0, 0, 1, 1)], [B(0, 0, 0.5, 0.5)])], ["text"]),
    ]
    by_kind = summarize_by_kind(qs)
    assert list(by_kind) == ["all", "table", "text"]
    assert by_kind["text"].n_questions == 2 and by_kind["table"].metrics["hit@0.5"] == 0.0
    all_ = by_kind["all"]
    assert all_.n_pages == 4 and all_.n_empty_selections == 1
    # question c: pages (1, 0) -> 0.5; mean over a, b, c = (1 + 0 + 0.5) / 3
    assert all_.metrics["hit@0.5"] == pytest.approx(0.5)
    # precision of question c ignores the empty page: (1 + 0 + 1) / 3
    assert all_.metrics["precision"] == pytest.approx(2 / 3)
    # the page without token counts is left out of the token totals
    assert all_.tokens["pages_counted"] == 3
    assert all_.tokens["vs_all_regions"] == pytest.approx(60 / 150)
    assert all_.tokens["vs_page_image"] == pytest.approx(60 / 300)
    assert all_.metrics["kept"] == pytest.approx((1 + 1 + 0.5) / 3)


def test_summary_of_nothing_is_empty() -> None:
    s = summarize([])
    assert s.n_questions == 0 and s.metrics == {}


# -- retrieval ----------------------------------------------------------------------------------------


def test_ndcg_hand_computed() -> None:
    judged = {"d1": 2, "d2": 1, "d4": 1}
    ranked = ["d3", "d1", "d2"]
    dcg = 0 + 2 / math.log2(3) + 1 / 2
    idcg = 2 + 1 / math.log2(3) + 1 / 2
    assert ndcg_at_k(ranked, judged, 3) == pytest.approx(dcg / idcg)  # 0.5628
    assert ndcg_at_k(ranked, judged, 1) == 0.0
    assert ndcg_at_k(["d1", "d2", "d4"], judged, 3) == pytest.approx(1.0)
    assert recall_at_k(ranked, judged, 3) == pytest.approx(2 / 3)
    assert mrr_at_k(ranked, judged, 10) == pytest.approx(0.5)
    assert mrr_at_k(ranked, judged, 1) == 0.0
    with pytest.raises(ValueError, match="more than once"):
        ndcg_at_k(["d1", "d1"], judged, 2)


def test_evaluate_run_skips_unjudged_and_zeroes_missing() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 0}}
    run = {"q1": ["a", "x"], "q3": ["c"]}
    s = evaluate_run(run, qrels, ks=(1, 5), latencies=[0.1, 0.3])
    assert (s.n_queries, s.n_skipped, s.n_missing) == (2, 1, 1)
    assert s.metrics["ndcg@1"] == pytest.approx(0.5) and s.metrics["recall@5"] == pytest.approx(0.5)
    assert s.latency["mean"] == pytest.approx(0.2) and s.latency["max"] == pytest.approx(0.3)
    with pytest.raises(ValueError, match="positive"):
        evaluate_run(run, qrels, ks=(0,))


# -- baselines ----------------------------------------------------------------------------------------


def test_bm25_finds_the_known_best_region() -> None:
    texts = [
        "Annual report of the company",
        "Revenue in the third quarter rose to 12 million dollars",
        "Board of directors and governance",
        "Revenue",
        "",
    ]
    bm = BM25(texts)
    assert bm.top_k("third quarter revenue", 2) == [1, 3]
    assert bm.scores("")[0] == 0.0 and bm.scores("zebra").sum() == 0.0
    # a hand computation for region 3 ("Revenue"): N=5, df=2, |d|=1, avgdl=(5+10+5+1+0)/5=4.2
    idf = math.log(1 + (5 - 2 + 0.5) / (2 + 0.5))
    expected = idf * 1 * 2.5 / (1 + 1.5 * (1 - 0.75 + 0.75 * 1 / 4.2))
    assert bm.scores("revenue")[3] == pytest.approx(expected)
    assert bm25_select("board governance", texts, 1) == [2]
    assert tokenize("Q3-Revenue, 12%") == ["q3", "revenue", "12"]


def test_bm25_ties_go_to_reading_order_and_bad_settings_fail() -> None:
    assert BM25(["alpha beta", "alpha beta", "gamma"]).top_k("alpha", 3) == [0, 1, 2]
    with pytest.raises(ValueError, match="k1"):
        BM25(["a"], b=1.5)


def test_random_baseline_is_seeded_and_matches_counts() -> None:
    a = random_baseline([2, 0, 5], [10, 3, 5], seed=7)
    b = random_baseline([2, 0, 5], [10, 3, 5], seed=7)
    assert a == b and [len(x) for x in a] == [2, 0, 5] and a[2] == [0, 1, 2, 3, 4]
    assert len(set(a[0])) == 2 and all(0 <= i < 10 for i in a[0])
    with pytest.raises(ValueError, match="cannot draw"):
        random_select(3, 4, np.random.default_rng(0))


# -- report -------------------------------------------------------------------------------------------


def test_grounding_report_json_and_markdown(tmp_path) -> None:
    qs = [
        score_question("a", [_page(True, (10, 40, 100))], kinds=["text"]),
        score_question("b", [PageCase([], [B(0, 0, 1, 1)], [B(0, 0, 0.5, 0.5)])], kinds=["figure"]),
    ]
    results = {"colret": summarize_by_kind(qs), "random": summarize_by_kind(qs[:1])}
    doc = grounding_to_json(results)
    assert doc["systems"]["colret"]["figure"]["metrics"]["precision"] is None  # NaN becomes null
    md = grounding_markdown(results)
    rows = [line for line in md.splitlines() if line.startswith("| colret") or line.startswith("| random")]
    assert [r.split(" | ")[1] for r in rows] == ["all", "figure", "text", "all", "text"]
    assert "| colret | text | 1 | 1 | 100.0% | 100.0% | 100.0% | 1.000 |" in md
    json_path, md_path = write_report(doc, md, tmp_path / "out" / "grounding")
    assert json.loads(json_path.read_text())["task"] == "grounding"
    assert md_path.read_text() == md


def test_retrieval_report() -> None:
    s = evaluate_run({"q": ["a", "b"]}, {"q": {"b": 1}}, ks=(1, 10), latencies=[0.25])
    md = retrieval_markdown({"colret": s})
    assert md.splitlines()[0] == (
        "| system | queries | mrr@1 | mrr@10 | ndcg@1 | ndcg@10 | recall@1 | recall@10 "
        "| latency mean (ms) | latency p95 (ms) |"
    )
    assert "| colret | 1 | 0.000 | 0.500 | 0.000 | 0.631 | 0.000 | 1.000 | 250.0 | 250.0 |" in md
    assert retrieval_to_json({"colret": s})["systems"]["colret"]["n_queries"] == 1
