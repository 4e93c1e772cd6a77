"""`colret eval grounding|retrieval --data DIR --model M [--out FILE]`: evaluate on a benchmark dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import GroundingError
from ..grounding import GroundingOptions
from .common import add_command, add_device_option, add_pairs_option, positive_int

HELP = "evaluate grounding or retrieval on a dataset"
DESCRIPTION = (
    "Evaluate on a dataset: `grounding` (BBox-DocVQA layout: the correct page is given, regions "
    "are scored against ground-truth boxes) or `retrieval` (BEIR/ViDoRe layout: nDCG, recall, latency)."
)
run = None  # `colret eval` itself does nothing: its subcommands run


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The `grounding` and `retrieval` subcommands of `colret eval` and their arguments."""
    sub = p.add_subparsers(dest="eval_task", required=True, metavar="TASK")
    g = add_command(
        sub,
        "grounding",
        run_grounding,
        help="region grounding on page images with ground-truth boxes",
        description="For each question, each evidence page image is OCR'd (Tesseract) into regions, embedded, "
        "grounded on the question and selected with the grounding options; reports hit rate at IoU 0.25/0.5/0.7, "
        "mean IoU, precision/recall, union IoU, regions and tokens kept, the candidate ceiling, and random and "
        "BM25 baselines, overall and per kind (text, table, figure).",
    )
    _common(g)
    g.add_argument(
        "--ocr-dpi",
        type=positive_int,
        default=None,
        help="resolution Tesseract assumes (default: the image's, else 150)",
    )
    g.add_argument("--seed", type=int, default=0, help="seed of the random baseline (default: 0)")
    add_pairs_option(
        g,
        "--option",
        "NAME=VALUE",
        "override a grounding option, e.g. top_k=5 or relative_alpha=none (repeatable); "
        f"names: {', '.join(GroundingOptions.field_names())}",
    )
    r = add_command(
        sub,
        "retrieval",
        run_retrieval,
        help="page retrieval on a BEIR/ViDoRe-style corpus of page images",
        description="Index the corpus images into a page store (temporary unless --db), search every judged "
        "query by exact MaxSim and report nDCG@k, recall@k, MRR@k and query latency (median, p95).",
    )
    _common(r)
    r.add_argument("--k", type=_ks, default=[1, 5, 10], help="comma-separated cut-offs (default: 1,5,10)")
    r.add_argument("--split", default="test", help="qrels split when the dataset has qrels/<split>.tsv")
    r.add_argument("--db", default=None, help="keep the index here (must be new or empty) instead of a temp dir")
    r.add_argument("--ocr", action="store_true", help="OCR corpus images into stored regions (default: none)")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="dataset folder (or, for grounding, its JSONL file)")
    p.add_argument("--model", required=True, help="model name or local path (ColQwen2, ColPali, ColModernVBert)")
    p.add_argument("--out", default=None, help="write the JSON report here and the markdown beside it (.md)")
    p.add_argument("--limit", type=positive_int, default=None, help="evaluate only the first N questions or queries")
    add_device_option(p)
    p.add_argument("--batch-size", type=positive_int, default=4, help="pages per model forward pass (default: 4)")
    p.add_argument("--max-image-tokens", type=int, default=None, help="ColQwen2 image-token cap (default: 768)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _value(raw: str, current: Any) -> Any:
    """Parse an option value as the type of the field's default (``none`` for None)."""
    if raw.strip().lower() in ("none", "null", "off"):
        return None
    if isinstance(current, bool):
        if raw.lower() not in ("true", "false", "1", "0", "yes", "no", "on"):
            raise GroundingError(f"expected true or false, got {raw!r}")
        return raw.lower() in ("true", "1", "yes", "on")
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            continue
    return raw


def parse_options(pairs: list[str]) -> GroundingOptions:
    """`GroundingOptions` with ``NAME=VALUE`` overrides; GroundingError names a bad name or value."""
    base = GroundingOptions()
    changes: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in GroundingOptions.field_names():
            valid = ", ".join(GroundingOptions.field_names())
            raise GroundingError(f"--option {pair!r}: expected NAME=VALUE with NAME one of {valid}")
        changes[name] = _value(raw.strip(), getattr(base, name))
    return base.replace(**changes)


def _embedder(args: argparse.Namespace) -> Any:
    """The model named by ``--model``, loaded with ``--device``, ``--batch-size`` and ``--max-image-tokens``."""
    from ..embed.embedder import ColEmbedder

    return ColEmbedder.from_pretrained(
        args.model, device=args.device, batch_size=args.batch_size, max_image_tokens=args.max_image_tokens
    )


def _emit(data: dict[str, Any], markdown: str, out: str | None) -> None:
    """Print the markdown report; with ``--out`` also write the JSON and the markdown beside it."""
    from ..eval.report import write_report

    if out:
        json_path, md_path = write_report(data, markdown, out)
        print(f"wrote {json_path} and {md_path}", file=sys.stderr)
    sys.stdout.write(markdown)


def _ks(raw: str) -> list[int]:
    """``"1,5,10"`` -> ``[1, 5, 10]`` (argparse type: a bad value is a usage error)."""
    try:
        ks = sorted({int(v) for v in raw.split(",") if v.strip()})
    except ValueError:
        ks = []
    if not ks or ks[0] < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {raw!r}")
    return ks


def run_grounding(args: argparse.Namespace) -> int:
    """Evaluate grounding on a BBox-DocVQA-layout dataset; print the markdown table, write JSON with --out."""
    from ..eval.datasets import read_grounding_dataset
    from ..eval.run_grounding import evaluate_grounding, grounding_report, ocr_regions_for

    options = parse_options(args.option)  # bad options fail before the model loads
    questions = read_grounding_dataset(args.data)[: args.limit]
    embedder = _embedder(args)
    run = evaluate_grounding(
        questions,
        embedder,
        options,
        regions_for=ocr_regions_for(dpi=args.ocr_dpi),
        seed=args.seed,
        pages_per_chunk=max(8, args.batch_size),
        show_progress=not args.quiet,
    )
    meta = {"model": args.model, "dataset": str(Path(args.data)), "seed": args.seed}
    data, markdown = grounding_report(run, meta, options)
    _emit(data, markdown, args.out)
    return 0


def run_retrieval(args: argparse.Namespace) -> int:
    """Evaluate retrieval on a BEIR/ViDoRe-layout dataset; print the markdown table, write JSON with --out."""
    from ..eval.datasets import RetrievalDataset, read_retrieval_dataset
    from ..eval.run_retrieval import evaluate_retrieval, retrieval_report

    data = read_retrieval_dataset(args.data, split=args.split)
    if args.limit is not None:
        kept = list(data.qrels)[: args.limit]
        data = RetrievalDataset(data.queries, data.corpus, {q: data.qrels[q] for q in kept})
    embedder = _embedder(args)
    result = evaluate_retrieval(data, embedder, ks=args.k, db=args.db, ocr=args.ocr, show_progress=not args.quiet)
    meta = {
        "model": args.model,
        "dataset": str(Path(args.data)),
        "ks": args.k,
        "regions": "tesseract-ocr" if args.ocr else "none stored (page images have no text layer; --ocr to OCR them)",
    }
    report, markdown = retrieval_report(result, meta)
    _emit(report, markdown, args.out)
    return 0
