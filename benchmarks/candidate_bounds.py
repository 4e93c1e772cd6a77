"""How many candidates must two-stage search re-score at 10k-100k pages, with a *perfect* first stage?

`benchmarks/scale.py` measures two-stage search as built; this separates its losses. On the table
`scale.py` builds (the synthetic word-patch corpus: see that script for why it is representative), one
streamed float32 pass over the first ``--pages`` pages scores 30 queries exactly and by three stand-ins
for a first stage, each computed exactly (brute force, so no ANN error is included):

- content, full vectors: MaxSim of the query's content vectors only (augmentation tokens left out, as the
  ANN query leaves them out), on every stored vector: the best any content-vector first stage can do;
- content, pooled pairs: the same on the stored first-stage column (`search.first_stage.pooled_rows`):
  the best an ANN on that column can do (what LanceDB's IVF-RQ approximates);
- sign bits, all vectors: every query vector against the sign of every stored vector (1 bit per
  dimension): a compact middle stage between the ANN and the float16 re-score.

For each it prints recall@10 against exact MaxSim when its top C pages are re-scored exactly. Then it
times what a re-score costs per page on this table (LanceDB take by row id plus float32 MaxSim), so
"C candidates" reads as milliseconds.

    python benchmarks/candidate_bounds.py --db /work/scratch/scale --pages 11000 30000 100000
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from llama_index_colret.search.hits import content_vectors
from llama_index_colret.search.scan import rescore_rows
from llama_index_colret.store.lance import PageStore
from llama_index_colret.store.packed import PackedVectors
from llama_index_colret.store.row_ids import iter_rows
from llama_index_colret.testing.corpus import SyntheticCorpus

N_QUERIES = 30
CANDIDATES = (10, 30, 100, 300, 1000, 3000)
STAGES = ("content, full vectors", "content, pooled pairs", "sign bits, all vectors")
PAGES_PER_DOC = 100  # as benchmarks/scale.py writes the corpus


def page_max(sims: torch.Tensor, n_pages: int) -> torch.Tensor:
    """Per-page max of ``sims`` ``(n_pages * n_per_page, n_q)`` for pages of one length: ``(n_pages, n_q)``."""
    return sims.view(n_pages, -1, sims.shape[1]).amax(dim=1)  # (n_pages, n_per_page, n_q) -> (n_pages, n_q)


def flat(column: object, dim: int) -> torch.Tensor:
    """A ``list<fixed_size_list<float16, dim>>`` column of equal-length pages as float32 ``(n_total, dim)``."""
    return torch.from_numpy(PackedVectors.from_column(column, dim).vectors.astype(np.float32))  # (n_total, dim)


def scores_by_stage(store: PageStore, queries: list, n_pages: int) -> tuple[list, dict[str, list[np.ndarray]]]:
    """Page keys and, per query, the exact scores ``(n_pages,)`` and each stage's scores, in one pass."""
    q_all = torch.from_numpy(np.concatenate([cq.embedding.vectors for cq in queries]))  # (sum n_q, dim)
    q_bf = q_all.to(torch.bfloat16)  # the stand-ins are approximations: bf16 products suffice
    ends = np.cumsum([cq.embedding.vectors.shape[0] for cq in queries])
    spans = [(e - cq.embedding.vectors.shape[0], e) for cq, e in zip(queries, ends, strict=True)]
    content = [torch.from_numpy(~cq.embedding.augmentation) for cq in queries]
    parts: dict[str, list[list[torch.Tensor]]] = {k: [[] for _ in queries] for k in ("exact", *STAGES)}
    keys: list[tuple[str, int]] = []
    last_doc = f"doc{(n_pages - 1) // PAGES_PER_DOC:07d}"
    filters = {"doc_id": {"<=": last_doc}}
    for batch in iter_rows(store, ["doc_id", "page_number", "vectors", "first_stage"], filters, batch_pages=512):
        n = batch.num_rows
        keys += list(zip(batch.column("doc_id").to_pylist(), batch.column("page_number").to_pylist(), strict=True))
        x = flat(batch.column("vectors"), store.dim)  # (n * n_vectors, dim)
        full = page_max(x @ q_all.T, n)  # (n, sum n_q)
        sign = page_max(torch.sign(x).to(torch.bfloat16) @ q_bf.T, n).float()  # (n, sum n_q)
        pooled = page_max(flat(batch.column("first_stage"), store.dim).to(torch.bfloat16) @ q_bf.T, n).float()
        for i, (a, b) in enumerate(spans):
            parts["exact"][i].append(full[:, a:b].sum(1))
            parts[STAGES[0]][i].append(full[:, a:b][:, content[i]].sum(1))
            parts[STAGES[1]][i].append(pooled[:, a:b][:, content[i]].sum(1))
            parts[STAGES[2]][i].append(sign[:, a:b].sum(1))
    return keys, {k: [torch.cat(p).numpy() for p in v] for k, v in parts.items()}


def recall_at(exact: np.ndarray, stage: np.ndarray, c: int) -> float:
    """Share of the exact top 10 among the stage's top ``c`` (what an exact re-score of them keeps)."""
    top10 = set(np.argsort(-exact)[:10].tolist())
    return len(top10 & set(np.argsort(-stage)[:c].tolist())) / 10


def rescore_ms_per_page(store: PageStore, queries: list, n_pages: int, c: int = 300) -> float:
    """Median milliseconds per page of the exact re-score (take by row id + float32 MaxSim) of ``c`` pages."""
    rows = np.concatenate([b.column("_rowid").to_numpy() for b in iter_rows(store, ["page_number"])])[:n_pages]
    rng = np.random.default_rng(0)
    times = []
    for cq in queries[:10]:
        pick = rng.choice(rows, c, replace=False)
        t = time.perf_counter()
        rescore_rows(store, cq.embedding.vectors, pick)
        times.append((time.perf_counter() - t) / c * 1e3)
    return statistics.median(times)


def report(store: PageStore, n_pages: int, truth_out: str | None) -> None:
    """Print the recall table and the re-score cost at ``n_pages``; ``truth_out``: a JSON file to write the
    exact top 10 of each query to (``{pages: [[doc_id, page_number], ...] per query]}``), for other scripts."""
    queries = SyntheticCorpus().queries(N_QUERIES, n_pages, seed=11)
    for cq in queries:  # the ANN query leaves augmentation out: check the corpus still marks it
        assert content_vectors(cq.embedding, cq.embedding.vectors).shape[0] < cq.embedding.vectors.shape[0]
    t = time.perf_counter()
    keys, by_stage = scores_by_stage(store, queries, n_pages)
    if truth_out:
        path = Path(truth_out)
        saved = json.loads(path.read_text()) if path.exists() else {}
        saved[str(n_pages)] = [[keys[i] for i in np.argsort(-e)[:10]] for e in by_stage["exact"]]
        path.write_text(json.dumps(saved))
    print(f"{n_pages} pages (one float32 pass: {time.perf_counter() - t:.0f} s); recall@10 vs exact at C candidates:")
    print("  " + " " * 24 + "".join(f"C={c:<7}" for c in CANDIDATES))
    for stage in STAGES:
        row = [
            np.mean([recall_at(e, s, c) for e, s in zip(by_stage["exact"], by_stage[stage], strict=True)])
            for c in CANDIDATES
        ]
        print(f"  {stage:<24}" + "".join(f"{r:<9.3f}" for r in row))
    ms = rescore_ms_per_page(store, queries, n_pages)
    print(
        f"  exact re-score: {ms:.2f} ms per page (take by row id + float32 MaxSim, 300 random pages): "
        + ", ".join(f"C={c}: {c * ms:.0f} ms" for c in (100, 300, 1000)),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="a database benchmarks/scale.py built (pages of 100-page docs)")
    parser.add_argument("--pages", type=int, nargs="+", default=[11_000], help="first N pages of the table")
    parser.add_argument("--truth-out", help="JSON file to add each size's exact top 10 per query to")
    args = parser.parse_args()
    store = PageStore.open(args.db)
    torch.set_num_threads(2)
    for n in args.pages:
        if n > store.count():
            raise SystemExit(f"{args.db} holds {store.count()} pages, fewer than {n}")
        report(store, n, args.truth_out)


if __name__ == "__main__":
    main()
