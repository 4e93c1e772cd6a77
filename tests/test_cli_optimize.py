"""`colret optimize` builds the first stage; `colret query --search two_stage` then answers like exact search
(the table is smaller than the candidate count, so the candidates cover it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llama_index_colret.cli import main
from llama_index_colret.store.lance import PageStore
from tests.test_cli_show_ask import QUESTION, sample_db  # noqa: F401  (the module-scoped tiny-model index)


def test_optimize_then_two_stage_query_equals_exact(sample_db: Path, capsys) -> None:  # noqa: F811
    assert main(["optimize", "--db", str(sample_db)]) == 0
    out = capsys.readouterr().out
    assert f"{PageStore.open(sample_db).count()} pages" in out and "trained" in out
    answers = {}
    for mode in ("exact", "two_stage", "auto"):
        assert main(["query", QUESTION, "--db", str(sample_db), "--top-k", "3", "--search", mode, "--json"]) == 0
        hits = json.loads(capsys.readouterr().out)["hits"]
        answers[mode] = [(h["doc_id"], h["page_number"], round(h["score"], 5)) for h in hits]
    assert answers["two_stage"] == answers["exact"] == answers["auto"]
    assert len(answers["exact"]) == 3
    assert main(["optimize", "--db", str(sample_db)]) == 0
    assert "already up to date" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:  # argparse refuses an unknown mode
        main(["query", QUESTION, "--db", str(sample_db), "--search", "fast"])
    assert refused.value.code == 2
