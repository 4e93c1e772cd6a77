"""`PageKeys` and `PackedVectors`: an Arrow column to packed float16 vectors, taking subsets, joining keys."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from llama_index_colret.search.maxsim import maxsim_packed, pack
from llama_index_colret.store.packed import PackedVectors, PageKeys

from .test_store import DIM, unit_rows


def test_column_to_packed_vectors_and_take() -> None:
    rng = np.random.default_rng(0)
    pages = [unit_rows(rng, n).astype(np.float16) for n in (3, 1, 4)]
    column = pa.array([p.tolist() for p in pages], type=pa.list_(pa.list_(pa.float16(), DIM)))
    packed = PackedVectors.from_column(pa.chunked_array([column[:2], column[2:]]), DIM)
    vectors, offsets = pack(pages)
    np.testing.assert_array_equal(packed.vectors, vectors)
    assert packed.offsets.tolist() == offsets.tolist() == [0, 3, 4, 8] and packed.n_pages == 3
    sub = packed.take(np.array([2, 0]))
    np.testing.assert_array_equal(sub.vectors, np.concatenate([pages[2], pages[0]]))
    assert sub.offsets.tolist() == [0, 4, 7]
    q = unit_rows(rng, 2)
    np.testing.assert_allclose(maxsim_packed(q, sub.vectors, sub.offsets), maxsim_packed(q, vectors, offsets)[[2, 0]])
    assert packed.take(np.array([], np.int64)).offsets.tolist() == [0]


def test_page_keys_take_and_concat() -> None:
    keys = PageKeys(["a", "b", "c"], np.array([1, 2, 3]), ["a.pdf", "b.pdf", "c.pdf"], ["/a", "/b", "/c"])
    both = PageKeys.concat([keys.take(np.array([2])), keys.take(np.array([0, 1]))])
    assert (both.doc_ids, both.page_numbers.tolist(), both.paths) == (["c", "a", "b"], [3, 1, 2], ["/c", "/a", "/b"])
    assert PageKeys.concat([]).n_pages == 0 and keys.take(np.array([], np.int64)).page_numbers.dtype == np.int64
