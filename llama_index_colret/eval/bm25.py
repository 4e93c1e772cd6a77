"""Baseline region selectors for the grounding evaluation: Okapi BM25 over region text, and seeded random.

Both pick, on each page, exactly as many regions as the method under test kept there, so the
comparison isolates *which* regions are chosen from *how many*. Pure Python and numpy.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens (unicode letters, digits and underscore); no stemming, no stop words."""
    return _TOKEN.findall(text.lower())


class BM25:
    """Okapi BM25 over a small corpus (the regions of a page, or of a document).

    ``score(q, d) = sum_{t in q} idf(t) * tf(t, d) * (k1 + 1) / (tf(t, d) + k1 * (1 - b + b * |d| / avgdl))``
    with ``idf(t) = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))`` (the non-negative Lucene form, so a term
    found in most regions still counts a little instead of subtracting). ``k1 = 1.5`` saturates repeated
    terms; ``b = 0.75`` normalises by region length, so a short line that names the query term is not
    drowned by a long paragraph that mentions it once. A query term repeated counts once per repetition.
    """

    def __init__(self, texts: Sequence[str], k1: float = 1.5, b: float = 0.75) -> None:
        if k1 < 0 or not 0.0 <= b <= 1.0:
            raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        self.k1, self.b = k1, b
        self._docs = [Counter(tokenize(t)) for t in texts]
        self._lengths = np.array([sum(d.values()) for d in self._docs], dtype=np.float64)  # (n_docs,)
        self._avgdl = float(self._lengths.mean()) if len(self._docs) and self._lengths.sum() > 0 else 1.0
        df: Counter[str] = Counter()
        for d in self._docs:
            df.update(d.keys())
        n = len(self._docs)
        self._idf = {t: math.log(1.0 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}

    def __len__(self) -> int:
        return len(self._docs)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every text for ``query``: shape ``(n_texts,)``; 0 for a text sharing no term."""
        out = np.zeros(len(self._docs))
        norm = self.k1 * (1.0 - self.b + self.b * self._lengths / self._avgdl)  # (n_docs,)
        for term in tokenize(query):
            idf = self._idf.get(term)
            if idf is None:
                continue
            tf = np.array([d.get(term, 0) for d in self._docs], dtype=np.float64)  # (n_docs,)
            out += idf * tf * (self.k1 + 1.0) / (tf + norm)
        return out

    def top_k(self, query: str, k: int) -> list[int]:
        """Indices of the ``k`` best texts, best first; ties go to the earlier text (reading order)."""
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        s = self.scores(query)
        order = np.lexsort((np.arange(len(s)), -s))  # by score descending, then index ascending
        return [int(i) for i in order[:k]]


def bm25_select(query: str, texts: Sequence[str], k: int, k1: float = 1.5, b: float = 0.75) -> list[int]:
    """The BM25 baseline on one page: indices of the ``k`` regions whose text best matches ``query``."""
    return BM25(texts, k1=k1, b=b).top_k(query, k)


def random_select(n_candidates: int, k: int, rng: np.random.Generator) -> list[int]:
    """The random baseline on one page: ``k`` distinct region indices drawn uniformly, sorted."""
    if not 0 <= k <= n_candidates:
        raise ValueError(f"cannot draw {k} regions out of {n_candidates}")
    return sorted(int(i) for i in rng.choice(n_candidates, size=k, replace=False))


def random_baseline(kept: Sequence[int], candidates: Sequence[int], seed: int = 0) -> list[list[int]]:
    """Random selections for a run of pages: as many regions per page as the method kept, one seeded stream.

    ``kept[i]`` and ``candidates[i]`` are the method's selected and total region counts on page ``i``;
    matching each page's count gives the same selection rate page by page and overall.
    """
    if len(kept) != len(candidates):
        raise ValueError(f"{len(kept)} kept counts for {len(candidates)} pages")
    rng = np.random.default_rng(seed)
    return [random_select(n, k, rng) for k, n in zip(kept, candidates, strict=True)]
