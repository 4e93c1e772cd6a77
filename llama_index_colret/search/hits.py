"""What every search mode returns (`PageHit`) and what every mode checks first (the query matrix)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..embed.types import QueryEmbedding
from ..errors import IndexMismatchError
from ..store.lance import PageStore
from ..store.packed import PageKeys
from ..store.records import PageRecord
from ..store.schema import ZERO_NORM
from .maxsim import top_k


@dataclass(frozen=True)
class PageHit:
    """One retrieved page: identity, raw MaxSim and MaxSim per query vector; `record()` loads the page."""

    doc_id: str
    page_number: int
    file_name: str
    path: str
    score: float
    normalized_score: float
    n_query_vectors: int
    store: PageStore | None = field(default=None, repr=False, compare=False)

    def record(self) -> PageRecord:
        """The stored page (vectors, grid, regions, image) this hit points at."""
        if self.store is None:
            raise ValueError(f"hit {self.doc_id} p.{self.page_number} carries no store to load the page from")
        return self.store.get_page(self.doc_id, self.page_number)

    def to_dict(self) -> dict[str, object]:
        """The JSON form used by ``colret query --json``."""
        return {
            "doc_id": self.doc_id,
            "file_name": self.file_name,
            "path": self.path,
            "page_number": self.page_number,
            "score": self.score,
            "normalized_score": self.normalized_score,
        }


def query_matrix(query: QueryEmbedding | np.ndarray, store: PageStore) -> np.ndarray:
    """The query as float32 ``(n_kept, dim)``: all-zero vectors dropped (they add nothing to MaxSim), a
    clear error for a wrong shape, dim or non-finite values."""
    q = np.asarray(query.vectors if isinstance(query, QueryEmbedding) else query, dtype=np.float32)
    if q.ndim != 2:
        raise ValueError(f"a query must be (n_query_vectors, dim), got shape {q.shape}")
    if q.shape[1] != store.dim:
        raise IndexMismatchError(
            f"{store.uri}: query vectors are {q.shape[1]}-d, the index holds {store.dim}-d "
            f"vectors of {store.model_name!r}"
        )
    if not np.isfinite(q).all():
        raise ValueError("query vectors must be finite")
    q = _nonzero(q)  # (n_kept, dim): zero vectors are never queried
    if q.shape[0] == 0:
        raise ValueError("the query has no non-zero vectors")
    return q


def content_vectors(query: QueryEmbedding | np.ndarray, checked: np.ndarray) -> np.ndarray:
    """The query vectors that can point at a page: the non-augmentation, non-zero ones ``(n_content, dim)`` of a
    `QueryEmbedding`; ``checked`` (the `query_matrix` of ``query``) for a bare array or an all-augmentation query."""
    if not isinstance(query, QueryEmbedding):
        return checked
    words = ~np.asarray(query.augmentation, dtype=bool)  # (n_tokens,)
    content = _nonzero(np.asarray(query.vectors, dtype=np.float32)[words])  # (n_kept, dim)
    return content if content.shape[0] else checked


def _nonzero(q: np.ndarray) -> np.ndarray:
    """The rows of ``q`` ``(n, dim)`` with a norm of at least `ZERO_NORM` (a zero vector adds nothing to MaxSim)."""
    return q[np.linalg.norm(q, axis=1) >= ZERO_NORM]  # (n_kept, dim)


def hits_from(keys: PageKeys, scores: np.ndarray, k: int, n_q: int, store: PageStore) -> list[PageHit]:
    """The ``k`` best of the scored pages as hits, best first (ties: doc_id, then page number); the
    normalised score divides by the ``n_q`` query vectors kept."""
    best = top_k(scores, keys.doc_ids, keys.page_numbers, k)
    return [
        PageHit(
            doc_id=keys.doc_ids[i],
            page_number=int(keys.page_numbers[i]),
            file_name=keys.file_names[i],
            path=keys.paths[i],
            score=float(scores[i]),
            normalized_score=float(scores[i]) / n_q,
            n_query_vectors=n_q,
            store=store,
        )
        for i in best
    ]
