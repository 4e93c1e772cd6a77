"""No import cycle through `llama_index_colret.ingest`, counting imports inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "llama_index_colret"


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Package modules imported anywhere in a file (module level or inside functions)."""
    me = _module(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)] if node.level else []
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names = [f"{target}.{a.name}" for a in node.names]
            out |= {n for n in names if (PACKAGE.parent / n.replace(".", "/")).with_suffix(".py").is_file()}
            out.add(target)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return {m for m in out if m.startswith("llama_index_colret") and m != me}


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in PACKAGE.rglob("*.py")}
    return {m: {t for t in _imports(p) if t in files} for m, p in files.items()}


def _cycle_through(graph: dict[str, set[str]], prefix: str) -> list[str] | None:
    """A cycle of plain modules (package ``__init__`` re-exports excluded) that visits ``prefix``, or None."""
    plain = {m: {t for t in ts if not (PACKAGE.parent / t.replace(".", "/") / "__init__.py").is_file()}
             for m, ts in graph.items()}  # fmt: skip
    for start in [m for m in plain if m.startswith(prefix)]:
        stack = [(start, [start])]
        seen = set()
        while stack:
            node, path = stack.pop()
            for nxt in plain.get(node, ()):
                if nxt == start:
                    return [*path, start]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    return None


def test_ingest_has_no_import_cycle() -> None:
    graph = _graph()
    assert "llama_index_colret.ingest.document" in graph["llama_index_colret.ingest.render"]
    assert _cycle_through(graph, "llama_index_colret.ingest") is None
