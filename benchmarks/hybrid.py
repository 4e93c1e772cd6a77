"""Hybrid retrieval (visual MaxSim fused with full-text BM25 by reciprocal rank fusion) against visual only.

The documents and questions are those of ``benchmarks/grounding.py`` (generated pages with rare words planted
in paragraphs, table cells and chart labels; the `WordPatchEmbedder` double "sees" the chart labels, which
the PDF text layer lacks). Each question is asked two ways: as written (its rare words) and *diluted*
(the rare words inside a long question of common words found on every page, which adds MaxSim noise that
BM25's IDF ignores). For each, with ``hybrid`` off and on, it prints page success@k (the answer page among the
first k pages) and region success@3 (at least half the answer box under the 3 region nodes handed on), by
question kind, and the ratio hybrid / visual measured in the same run.

Run: ``python benchmarks/hybrid.py`` (about a minute on 2 cores); ``--rounds N`` repeats the six layouts.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from grounding import build  # noqa: E402  (the grounding benchmark's generated documents and questions)

from llama_index_colret.eval.datasets import GroundingQuestion  # noqa: E402
from llama_index_colret.geometry import BBox  # noqa: E402
from llama_index_colret.llamaindex import ColRetIndex  # noqa: E402
from llama_index_colret.testing.double import WordPatchEmbedder  # noqa: E402

KS = (1, 3, 5)
DILUTE = "what does the report of the year say about {} and how is it described in the text of the page"


def page_successes(index: ColRetIndex, q: GroundingQuestion, text: str, hybrid: bool) -> dict[str, bool]:
    """``success@k`` for each k in KS (the answer page among the first k page nodes), and region success@3."""
    answer = (f"{q.evidence[0].doc}.pdf", q.evidence[0].page)
    pages = index.as_retriever(grounded=False, top_k_pages=max(KS), hybrid=hybrid).retrieve(text)
    found = [(n.node.metadata["file_name"], n.node.metadata["page_number"]) for n in pages]
    out = {f"page@{k}": answer in found[:k] for k in KS}
    regions = index.as_retriever(top_k_pages=3, top_k_regions=3, hybrid=hybrid).retrieve(text)
    box = q.evidence[0].boxes[0]
    covered = sum(
        box.intersection_area(BBox.from_list(n.node.metadata["bbox"]))
        for n in regions
        if (n.node.metadata["file_name"], n.node.metadata["page_number"]) == answer
    )
    out["region@3"] = covered >= 0.5 * box.area
    return out


def run(index: ColRetIndex, questions: list[GroundingQuestion], diluted: bool) -> dict[str, dict[str, dict]]:
    """``{mode: {kind: {metric: rate}}}`` for mode visual / hybrid."""
    table: dict[str, dict[str, dict]] = {}
    for mode, hybrid in (("visual", False), ("hybrid", True)):
        sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        counts: dict[str, int] = defaultdict(int)
        for q in questions:
            text = DILUTE.format(q.question) if diluted else q.question
            kind = q.evidence[0].kinds[0]
            for metric, ok in page_successes(index, q, text, hybrid).items():
                for k in (kind, "all"):
                    sums[k][metric] += ok
            counts[kind] += 1
            counts["all"] += 1
        table[mode] = {k: {m: v / counts[k] for m, v in sums[k].items()} for k in sums}
    return table


def show(title: str, table: dict[str, dict[str, dict]]) -> None:
    """Print one block: per kind, visual and hybrid rates and the ratio hybrid / visual."""
    metrics = [f"page@{k}" for k in KS] + ["region@3"]
    print(f"\n{title}")
    print(f"{'kind':<8} {'mode':<7} " + " ".join(f"{m:>9}" for m in metrics))
    for kind in sorted(table["visual"], key=lambda k: (k != "all", k)):
        for mode in ("visual", "hybrid"):
            print(f"{kind:<8} {mode:<7} " + " ".join(f"{table[mode][kind][m]:9.3f}" for m in metrics))
        ratio = [
            table["hybrid"][kind][m] / table["visual"][kind][m] if table["visual"][kind][m] else float("nan")
            for m in metrics
        ]
        print(f"{kind:<8} {'ratio':<7} " + " ".join(f"{r:9.3f}" for r in ratio))


def main(argv: list[str] | None = None) -> int:
    """Build the corpus, index it with the double, print both tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="repetitions of the six layouts (default: 2)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        questions, pdfs, extra, _ = build(root, args.rounds)
        double = WordPatchEmbedder(pdfs, extra_words=extra)
        index = ColRetIndex.from_pdfs(pdfs, embedder=double, uri=root / "db", show_progress=False)
        kinds = defaultdict(int)
        for q in questions:
            kinds[q.evidence[0].kinds[0]] += 1
        print(f"hybrid benchmark: {len(pdfs)} pages, {len(questions)} questions {dict(kinds)}, WordPatchEmbedder")
        print("fusion: RRF, k = 60, visual weight 1, text weight 1 (llama_index_colret.search.fusion)")
        show("questions as written (their rare words)", run(index, questions, diluted=False))
        show(f"diluted questions: {DILUTE.format('<rare words>')!r}", run(index, questions, diluted=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
