"""`colret query "QUESTION" --db DIR`: the pages that answer best, by exact MaxSim."""

from __future__ import annotations

import argparse
from typing import Any

from ..search.searcher import SEARCH_MODES, searcher_for
from ..store.lance import PageStore
from .common import (
    add_index_options,
    add_pairs_option,
    model_revision,
    parse_pairs,
    positive_int,
    print_json,
    print_snippets,
    storage_options,
)

HELP = "find the pages that answer a question"
DESCRIPTION = (
    "Embed the question with the index's model and rank every stored page by exact MaxSim. "
    "score is the raw MaxSim; normalized_score divides it by the number of query vectors."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of `colret query`."""
    p.add_argument("question", help="the question or search text")
    add_index_options(p)
    p.add_argument("--top-k", type=positive_int, default=5, help="number of pages (default: 5)")
    add_pairs_option(
        p,
        "--filter",
        "FIELD=VALUE",
        "keep pages whose field (file_name, doc_id, page_number, or a metadata key) equals VALUE (repeatable)",
    )
    p.add_argument(
        "--search",
        choices=SEARCH_MODES,
        default="auto",
        help="exact (bf16 scan, float32 re-score), two_stage (ANN candidates, exact re-score; needs "
        "`colret optimize`), or auto: exact up to 5,000 pages, two-stage above (default: auto)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--grounded",
        action="store_true",
        help="also ground the question on each page: add the selected regions (text, bbox, kind, "
        "region_relevance, score) to each hit in JSON, or print them as snippets with page and box",
    )
    p.add_argument("--regions", type=int, default=3, help="with --grounded: regions kept over all pages (default: 3)")


def run(args: argparse.Namespace) -> int:
    """Print the top pages; 0 on success (also when no page matches the filter)."""
    from ..embed.embedder import resolve_embedder
    from ..embed.identity import model_identity

    store = PageStore.open(
        args.db,
        model_name=args.model,
        model_id=model_identity(args.model, args.model_revision) if args.model else None,
        storage_options=storage_options(args),
    )
    filters = parse_pairs(args.filter, "--filter") or None
    store.where(filters)  # a bad filter fails before the model loads
    embedder = resolve_embedder(
        args.model, store.model_name, device=args.device, revision=model_revision(args, store.model_id)
    )
    store.check_model(embedder.model_name, getattr(embedder, "model_id", None))  # the commit loaded, now known
    query = embedder.embed_queries([args.question])[0]
    hits = searcher_for(store, args.search, cache=False).search(query, k=args.top_k, filters=filters)
    if args.grounded:
        return _print_grounded(args, store, query, hits)
    if args.json:
        print_json({"query": args.question, "hits": [h.to_dict() for h in hits]})
        return 0
    if not hits:
        print("no page matches")
    for rank, h in enumerate(hits, 1):
        scores = f"score {h.score:.4f}  (normalized {h.normalized_score:.4f})"
        print(f"{rank:>3}. {h.file_name}  page {h.page_number}  {scores}  doc {h.doc_id}")
    return 0


def _print_grounded(args: argparse.Namespace, store: PageStore, query: Any, hits: list[Any]) -> int:
    """``--grounded``: each hit with its selected regions, as JSON or as snippets with page and box."""
    from ..grounded_search import ground_hits, region_dict
    from ..grounding import GroundingOptions, select

    grounded = ground_hits(hits, query, store, GroundingOptions(top_k=args.regions))
    selection = select([g.grounding for g in grounded], GroundingOptions(top_k=args.regions))
    if not args.json:
        for rank, h in enumerate(hits, 1):
            print(f"{rank:>3}. {h.file_name}  page {h.page_number}  normalized score {h.normalized_score:.4f}")
        print("regions:")
        print_snippets(grounded, selection)
        return 0
    out = []
    for p, h in enumerate(hits):
        hit = h.to_dict()
        hit["regions"] = [region_dict(grounded[p], s) for s in selection.regions if s.page_index == p]
        out.append(hit)
    print_json({"query": args.question, "hits": out})
    return 0
