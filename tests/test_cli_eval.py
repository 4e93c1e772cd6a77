"""`colret eval grounding|retrieval` end to end on tiny datasets with a tiny offline ColQwen2 checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llama_index_colret.cli import main
from llama_index_colret.cli.eval import parse_options
from llama_index_colret.errors import GroundingError


def _in_unit(value: float | None) -> bool:
    return value is None or 0.0 <= value <= 1.0


def test_eval_grounding_end_to_end(eval_datasets: dict, tiny_model_dir, tmp_path: Path, capsys) -> None:
    out = tmp_path / "report"
    argv = ["eval", "grounding", "--data", str(eval_datasets["grounding"]), "--model", str(tiny_model_dir("colqwen2"))]
    assert main([*argv, "--out", str(out), "--quiet", "--option", "top_k=2", "--seed", "1"]) == 0
    data = json.loads((tmp_path / "report.json").read_text())
    md = (tmp_path / "report.md").read_text()
    assert capsys.readouterr().out == md
    assert data["task"] == "grounding" and data["options"]["top_k"] == 2 and data["seed"] == 1
    assert set(data["systems"]) == {"colret", "random", "bm25"}
    assert set(data["systems"]["colret"]) == {"all", "text", "table", "figure"}
    summary = data["systems"]["colret"]["all"]
    assert summary["n_questions"] == 10 and summary["n_pages"] == 10
    m = summary["metrics"]
    for key in ("hit@0.25", "hit@0.5", "hit@0.7", "mean_iou", "recall", "union_iou", "ceiling_iou", "selection_rate"):
        assert _in_unit(m[key]), key
    assert m["hit@0.25"] >= m["hit@0.5"] >= m["hit@0.7"]
    assert m["ceiling_iou"] >= m["mean_iou"] and 1 <= m["kept"] <= 2
    tokens = summary["tokens"]
    assert 0 < tokens["vs_all_regions"] <= 1 and tokens["vs_page_image"] > 0
    assert tokens["page_image_per_page"] > 0  # the tiny model's image-token count
    # BM25 on the rare words finds every paragraph's own block whatever the model does: a known value.
    assert data["systems"]["bm25"]["text"]["metrics"]["hit@0.5"] == 1.0
    assert "| colret | all |" in md and "59.7%" in md


def test_eval_retrieval_end_to_end(eval_datasets: dict, tiny_model_dir, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    model = str(tiny_model_dir("colqwen2"))
    argv = ["eval", "retrieval", "--data", str(eval_datasets["retrieval"]), "--model", model, "--k", "1,2"]
    assert main([*argv, "--out", str(out), "--quiet", "--db", str(tmp_path / "idx")]) == 0
    data = json.loads(out.read_text())
    s = data["systems"]["colret"]
    assert s["n_queries"] == 8 and data["ks"] == [1, 2]
    assert set(s["metrics"]) == {f"{n}@{k}" for n in ("ndcg", "recall", "mrr") for k in (1, 2)}
    assert all(_in_unit(v) for v in s["metrics"].values())
    assert s["metrics"]["recall@2"] == 1.0  # two pages in the corpus: the right one is always in the top 2
    lat = s["latency_s"]
    assert 0 < lat["p50"] <= lat["p95"] and data["search_latency_s"]["p50"] > 0
    assert data["regions"].startswith("none stored")
    assert (tmp_path / "r.md").read_text().startswith("# Retrieval evaluation")


def test_eval_limit_and_errors(eval_datasets: dict, tiny_model_dir, tmp_path: Path, capsys) -> None:
    model = str(tiny_model_dir("colqwen2"))
    data = str(eval_datasets["grounding"])
    assert main(["eval", "grounding", "--data", data, "--model", model, "--option", "top_k=zero"]) == 2
    assert "top_k" in capsys.readouterr().err
    assert main(["eval", "grounding", "--data", str(tmp_path / "missing"), "--model", model]) == 2
    assert "dataset folder not found" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["eval", "retrieval", "--data", data, "--model", model, "--k", "0,5"])
    assert exc.value.code == 2
    out = tmp_path / "one.json"
    argv = ["eval", "grounding", "--data", data, "--model", model, "--limit", "1", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    assert json.loads(out.read_text())["systems"]["colret"]["all"]["n_questions"] == 1


def test_parse_options() -> None:
    opts = parse_options(["top_k=5", "relative_alpha=none", "hotspots=false", "patch-reduce=mean", "page_weight=0.25"])
    assert (opts.top_k, opts.relative_alpha, opts.hotspots, opts.patch_reduce) == (5, None, False, "mean")
    assert opts.page_weight == 0.25
    with pytest.raises(GroundingError, match="one of"):
        parse_options(["nonsense=1"])
    with pytest.raises(GroundingError, match="patch_reduce"):
        parse_options(["patch_reduce=median"])
