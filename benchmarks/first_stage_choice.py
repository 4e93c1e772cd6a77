"""Which compact page representation should give two-stage search its candidates? Measured, not assumed.

On the synthetic word-patch corpus (see benchmarks/scale.py for why it is representative), for each
representation this prints recall@10 against exact MaxSim when the top C pages by the representation
(brute force, no ANN error) are re-scored exactly, for C = 50, 100, 200, 400, and the vectors per page:

- mean: one mean vector per page, scored against the sum of the query vectors (single-vector ANN);
- MUVERA: fixed-dimensional encodings (R=20 repetitions x 2^5 SimHash buckets x 16 projected dims = 10,240-d);
- pooled 2x2: square pooling of the patch grid (15 x 12 vectors), MaxSim on pooled vectors;
- pooled 1xP: P adjacent cells of one grid row (a text line) pooled, P = 2, 3, 4, 6, MaxSim on pooled.

    python benchmarks/first_stage_choice.py [--blocks 32] [--queries 60]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from llama_index_colret.testing.corpus import BLOCK, SyntheticCorpus

CANDIDATES = (50, 100, 200, 400)


def _norm(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=-1, keepdim=True)


def muvera(x: torch.Tensor, is_query: bool, reps: int = 20, k_sim: int = 5, d_proj: int = 16) -> torch.Tensor:
    """MUVERA FDE of multivectors ``(..., n, dim)`` -> ``(..., reps * 2^k_sim * d_proj)`` (sum for queries,
    mean per bucket for documents, as in the paper; empty buckets stay zero)."""
    gen = torch.Generator().manual_seed(0)
    out = []
    for _ in range(reps):
        planes = torch.randn(x.shape[-1], k_sim, generator=gen)  # (dim, k_sim)
        proj = torch.randn(x.shape[-1], d_proj, generator=gen) / d_proj**0.5  # (dim, d_proj)
        bucket = ((x @ planes > 0).long() * (2 ** torch.arange(k_sim))).sum(-1)  # (..., n)
        onehot = torch.nn.functional.one_hot(bucket, 2**k_sim).float()  # (..., n, B)
        sums = onehot.transpose(-1, -2) @ (x @ proj)  # (..., B, d_proj)
        if not is_query:
            sums = sums / onehot.sum(-2)[..., None].clamp(min=1)
        out.append(sums.flatten(-2))  # (..., B * d_proj)
    return torch.cat(out, -1)


def representations(pages: torch.Tensor, n_prompt: int, rows: int, cols: int) -> dict[str, torch.Tensor]:
    """Pooled multivector representations ``(n_pages, m, dim)`` of ``pages`` ``(n_pages, n_vectors, dim)``."""
    n = pages.shape[0]
    cells = pages[:, n_prompt:].reshape(n, rows, cols, -1)  # (n_pages, rows, cols, dim)
    reps = {"pooled 2x2": _norm(cells[:, : rows // 2 * 2].reshape(n, rows // 2, 2, cols // 2, 2, -1).mean((2, 4)))}
    for p in (2, 3, 4, 6):
        reps[f"pooled 1x{p}"] = _norm(cells.reshape(n, rows, cols // p, p, -1).mean(3))
    return {k: v.reshape(n, -1, v.shape[-1]) for k, v in reps.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blocks", type=int, default=32, help=f"corpus blocks of {BLOCK} pages (default 32)")
    parser.add_argument("--queries", type=int, default=60)
    args = parser.parse_args()
    corpus = SyntheticCorpus()
    s = corpus.spec
    pages = torch.from_numpy(corpus.pages(0, args.blocks).astype(np.float32))  # (n_pages, n_vectors, dim)
    n = pages.shape[0]
    reps = representations(pages, s.n_prompt, s.n_rows, s.n_cols)
    fde = torch.cat([muvera(pages[i : i + 256], False) for i in range(0, n, 256)])  # (n_pages, fde_dim)
    mean = pages.mean(1)  # (n_pages, dim)
    recall: dict[str, dict[int, list[float]]] = {k: {c: [] for c in CANDIDATES} for k in ["mean", "MUVERA", *reps]}
    for cq in corpus.queries(args.queries, n, seed=1):
        q = torch.from_numpy(cq.embedding.vectors)  # (n_q, dim)
        exact = (pages.reshape(-1, s.dim) @ q.T).view(n, s.n_vectors, -1).amax(1).sum(1)  # (n_pages,)
        top = set(torch.topk(exact, 10).indices.tolist())
        scores = {"mean": mean @ q.sum(0), "MUVERA": fde @ muvera(q[None], True)[0]}
        for name, r in reps.items():
            scores[name] = (r.reshape(-1, s.dim) @ q.T).view(n, r.shape[1], -1).amax(1).sum(1)
        for name, sc in scores.items():
            for c in CANDIDATES:
                recall[name][c].append(len(top & set(torch.topk(sc, c).indices.tolist())) / 10)
    sizes = {"mean": 1, "MUVERA": f"1 ({fde.shape[1]}-d)"} | {k: v.shape[1] for k, v in reps.items()}
    print(f"{n} pages, {args.queries} queries: recall@10 against exact after re-scoring the top C exactly")
    for name, by_c in recall.items():
        figures = "  ".join(f"C={c}: {np.mean(v):.3f}" for c, v in by_c.items())
        print(f"{name:>12} ({sizes[name]} vectors/page)  {figures}")


if __name__ == "__main__":
    main()
