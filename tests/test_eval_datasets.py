"""Readers and writers of the grounding (BBox-DocVQA-like) and retrieval (BEIR-like) evaluation layouts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from llama_index_colret.errors import DatasetError
from llama_index_colret.eval.datasets import (
    Evidence,
    GroundingQuestion,
    RetrievalDataset,
    read_grounding_dataset,
    read_retrieval_dataset,
    write_grounding_dataset,
    write_retrieval_dataset,
)
from llama_index_colret.eval.metrics import PageCase, score_question
from llama_index_colret.geometry import BBox


def _png(path: Path, size: tuple[int, int] = (200, 400)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, "white").save(path)
    return path


def _write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


# -- grounding ----------------------------------------------------------------------------------------


def test_grounding_round_trip(tmp_path: Path) -> None:
    img_a, img_b = _png(tmp_path / "images" / "a.png"), _png(tmp_path / "images" / "b.png", (300, 300))
    q = GroundingQuestion(
        id="q1",
        question="What rose?",
        evidence=(
            Evidence(img_a, 3, "doc", ((0.0, 0.0, 100.0, 100.0),), ("text",), 200, 400),
            Evidence(img_b, 4, "doc", ((150.0, 0.0, 300.0, 150.0), (0, 0, 30, 30)), ("table", "figure"), 300, 300),
        ),
        answer="revenue",
    )
    write_grounding_dataset(tmp_path, [q])
    line = json.loads((tmp_path / "questions.jsonl").read_text())
    assert line["evidence"][0]["image"] == "images/a.png"  # relative to the dataset folder
    (back,) = read_grounding_dataset(tmp_path)
    assert back == q
    assert back.evidence[0].boxes == [BBox(0.0, 0.0, 0.5, 0.25)]
    assert back.evidence[1].boxes[0] == BBox(0.5, 0.0, 1.0, 0.5)
    assert back.kinds == ["text", "table", "figure"]


def test_size_comes_from_the_image_and_kinds_default_to_text(tmp_path: Path) -> None:
    _png(tmp_path / "p.png", (400, 200))
    rec = {"id": "x", "question": "?", "evidence": [{"image": "p.png", "page": 1, "boxes": [[0, 0, 200, 100]]}]}
    _write_jsonl(tmp_path / "questions.jsonl", [rec])
    (q,) = read_grounding_dataset(tmp_path)
    assert (q.evidence[0].width, q.evidence[0].height) == (400, 200)
    assert q.evidence[0].boxes == [BBox(0.0, 0.0, 0.5, 0.5)] and q.kinds == ["text"]


def _bbox_docvqa_record() -> dict:
    """A record shaped like the BBox-DocVQA release (field names and the ``subimg_tpye`` spelling as published)."""
    return {
        "query": "Which method wins in Table 2 and what does Figure 3 show?",
        "question": "Which method wins in Table 2 and what does Figure 3 show?",
        "answer": "Ours; the loss curve",
        "category": "cs",
        "doc_name": "2311.07631",
        "evidence_page": [5, 6],
        "image_paths": ["cs/2311.07631/2311.07631_5.png", "cs/2311.07631/2311.07631_6.png"],
        "bbox": [[[100, 200, 700, 500]], [[50, 60, 250, 160], [300, 300, 500, 700]]],
        "subimg_tpye": [["table"], ["image", "text"]],
    }


def test_reads_the_bbox_docvqa_release_format(tmp_path: Path) -> None:
    _png(tmp_path / "cs/2311.07631/2311.07631_5.png", (1000, 1000))
    _png(tmp_path / "cs/2311.07631/2311.07631_6.png", (500, 1000))
    _write_jsonl(tmp_path / "BBox_DocVQA_Bench.jsonl", [_bbox_docvqa_record()])
    (q,) = read_grounding_dataset(tmp_path)
    assert q.id == "2311.07631#1" and q.category == "cs" and q.answer == "Ours; the loss curve"
    assert [e.page for e in q.evidence] == [5, 6] and q.evidence[0].doc == "2311.07631"
    assert q.evidence[0].boxes == [BBox(0.1, 0.2, 0.7, 0.5)]
    assert q.evidence[1].boxes == [BBox(0.1, 0.06, 0.5, 0.16), BBox(0.6, 0.3, 1.0, 0.7)]
    assert q.kinds == ["table", "figure", "text"]  # the release's "image" is our "figure"


def test_two_page_question_from_a_dataset_scores_per_page(tmp_path: Path) -> None:
    """Read a two-page question, select the right box on page 1 only: half the question is grounded."""
    _png(tmp_path / "cs/2311.07631/2311.07631_5.png", (1000, 1000))
    _png(tmp_path / "cs/2311.07631/2311.07631_6.png", (500, 1000))
    _write_jsonl(tmp_path / "BBox_DocVQA_Bench.jsonl", [_bbox_docvqa_record()])
    (q,) = read_grounding_dataset(tmp_path)
    page1, page2 = q.evidence
    cases = [
        PageCase(selected=page1.boxes, candidates=page1.boxes, ground_truth=page1.boxes),
        PageCase(selected=[BBox(0, 0.9, 1, 1)], candidates=[BBox(0, 0.9, 1, 1)], ground_truth=page2.boxes),
    ]
    v = score_question(q.id, cases, q.kinds).values()
    assert v["hit@0.5"] == pytest.approx(0.5) and v["published_hit@0.5"] == 1.0
    assert score_question(q.id, cases, q.kinds).kind == "mixed"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.update(bbox=[[[700, 200, 100, 500]], r["bbox"][1]]), "empty or inverted"),
        (lambda r: r.update(bbox=[[[100, 200, 1900, 500]], r["bbox"][1]]), "outside its 1000x1000 image"),
        (lambda r: r.update(subimg_tpye=[["table"], ["image"]]), "1 kinds for 2 boxes"),
        (lambda r: r.update(subimg_tpye=[["table"], ["image", "formula"]]), "unknown region kind 'formula'"),
        (lambda r: r.update(evidence_page=[5]), "per-page lists disagree"),
        (lambda r: r.update(image_paths=["missing.png", r["image_paths"][1]]), "missing.png not found"),
        (lambda r: r.pop("query") and r.pop("question"), "missing field 'question' or 'query'"),
    ],
)
def test_bad_grounding_records_name_file_line_and_problem(tmp_path: Path, mutate, message: str) -> None:
    _png(tmp_path / "cs/2311.07631/2311.07631_5.png", (1000, 1000))
    _png(tmp_path / "cs/2311.07631/2311.07631_6.png", (500, 1000))
    bad = _bbox_docvqa_record()
    mutate(bad)
    path = _write_jsonl(tmp_path / "BBox_DocVQA_Bench.jsonl", [_bbox_docvqa_record(), bad])
    with pytest.raises(DatasetError, match=message) as info:
        read_grounding_dataset(tmp_path)
    assert str(info.value).startswith(f"{path}, line 2: ")


def test_bad_json_duplicate_ids_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "questions.jsonl").write_text('{"id": "a"\n', encoding="utf-8")
    with pytest.raises(DatasetError, match="line 1: not valid JSON"):
        read_grounding_dataset(tmp_path)
    _png(tmp_path / "p.png")
    rec = {"id": "a", "question": "?", "evidence": [{"image": "p.png", "boxes": [[0, 0, 10, 10]]}]}
    _write_jsonl(tmp_path / "questions.jsonl", [rec, rec])
    with pytest.raises(DatasetError, match="line 2: duplicate question id 'a'"):
        read_grounding_dataset(tmp_path)
    with pytest.raises(DatasetError, match="dataset folder not found"):
        read_grounding_dataset(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError, match="exactly one .jsonl"):
        read_grounding_dataset(empty)


# -- retrieval ----------------------------------------------------------------------------------------


def test_retrieval_round_trip(tmp_path: Path) -> None:
    corpus = {f"p{i}": _png(tmp_path / "pages" / f"p{i}.png") for i in range(3)}
    data = RetrievalDataset(
        queries={"q1": "revenue in q3", "q2": "board members"},
        corpus=corpus,
        qrels={"q1": {"p0": 2, "p1": 1}, "q2": {"p2": 1}},
    )
    write_retrieval_dataset(tmp_path, data)
    assert (tmp_path / "qrels.tsv").read_text().splitlines()[:2] == ["query-id\tcorpus-id\tscore", "q1\tp0\t2"]
    assert read_retrieval_dataset(tmp_path) == data


def test_reads_beir_qrels_folder_and_vidore_field_names(tmp_path: Path) -> None:
    _png(tmp_path / "img" / "a.png")
    _write_jsonl(tmp_path / "queries.jsonl", [{"query-id": "1", "query": "what?"}])
    _write_jsonl(tmp_path / "corpus.jsonl", [{"corpus-id": "7", "image": "img/a.png", "title": "ignored"}])
    (tmp_path / "qrels").mkdir()
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n1\t7\t1\n", encoding="utf-8")
    data = read_retrieval_dataset(tmp_path)
    assert data.queries == {"1": "what?"} and data.qrels == {"1": {"7": 1}}
    assert data.corpus["7"] == tmp_path / "img" / "a.png"
    with pytest.raises(DatasetError, match=r"no qrels: expected qrels.tsv or qrels/dev.tsv"):
        read_retrieval_dataset(tmp_path, split="dev")


def test_bad_retrieval_data_is_named(tmp_path: Path) -> None:
    _png(tmp_path / "a.png")
    _write_jsonl(tmp_path / "queries.jsonl", [{"_id": "q", "text": "?"}])
    _write_jsonl(tmp_path / "corpus.jsonl", [{"_id": "a", "image": "a.png"}])
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("query-id\tcorpus-id\tscore\nq\tzzz\t1\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"corpus ids \['zzz'\] of query 'q'"):
        read_retrieval_dataset(tmp_path)
    qrels.write_text("query-id\tcorpus-id\tscore\nq\ta\thigh\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="line 2: score 'high' is not a number"):
        read_retrieval_dataset(tmp_path)
    _write_jsonl(tmp_path / "corpus.jsonl", [{"_id": "a", "image": "gone.png"}])
    with pytest.raises(DatasetError, match="gone.png not found"):
        read_retrieval_dataset(tmp_path)
