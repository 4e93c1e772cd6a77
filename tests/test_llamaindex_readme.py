"""The README's Python snippet runs as written, with the tiny ColQwen2 model in place of the hub name."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_snippet() -> str:
    """The first Python block of the README's "In code" section."""
    section = README.read_text(encoding="utf-8").split("## In code", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert match, "the README's 'In code' section has no Python block"
    return match.group(1)


def test_readme_snippet_runs_with_mock_llm(
    rare_word_corpus: dict,
    tiny_model_dir: Callable[[str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    code = readme_snippet()
    assert '"vidore/colqwen2-v1.0-hf"' in code and '"reports/"' in code and "my_llm" not in code
    reports = tmp_path / "reports"
    reports.mkdir()
    for p in rare_word_corpus["paths"]:
        shutil.copy(p, reports / p.name)
    monkeypatch.chdir(tmp_path)
    exec(compile(code.replace("vidore/colqwen2-v1.0-hf", str(tiny_model_dir("colqwen2"))), "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert (tmp_path / "colret_index").is_dir()
    cited = [line for line in out if re.match(r"doc[01]\.pdf [12] \[", line)]
    assert out[0].startswith("Context information") and 1 <= len(cited) <= 5  # MockLLM echoes its prompt
