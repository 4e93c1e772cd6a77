"""The repository keeps its promises: CI runs exactly the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_the_readme_test_command() -> None:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    commands = [ln.strip() for b in blocks for ln in b.splitlines() if "pytest" in ln]
    assert commands == ["bash scripts/setup.sh && .venv/bin/python -m pytest"]
    ci = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert commands[0] in ci
