"""grounded_search end to end: generated PDFs indexed by the real pipeline into a real LanceDB with the
word-patch double, so the right page and region for each query are known."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from llama_index_colret.embed.types import PageEmbedding
from llama_index_colret.errors import EmptyIndexError, FilterError
from llama_index_colret.grounded_search import QueryCache, crop, search_grounded, selection_to_dicts
from llama_index_colret.grounding import GroundingOptions, ground_page
from llama_index_colret.grounding.ground import normalised_page_score
from llama_index_colret.pipeline import index_pdfs
from llama_index_colret.store.lance import PageStore
from llama_index_colret.testing.double import WordPatchEmbedder


class CountingDouble(WordPatchEmbedder):
    """The double, counting query encodings (to prove the cache works)."""

    calls = 0

    def embed_queries(self, texts):  # type: ignore[no-untyped-def]
        type(self).calls += len(texts)
        return super().embed_queries(texts)


@pytest.fixture(scope="module")
def indexed(rare_word_corpus: dict, tmp_path_factory: pytest.TempPathFactory) -> tuple[PageStore, WordPatchEmbedder]:
    c = rare_word_corpus
    fig = c["truth"][1][0].blocks_of("figure")[0]
    emb = CountingDouble(c["paths"], extra_words={(c["paths"][1], 1): [(fig.bbox, " ".join(c["chart_labels"]))]})
    store = PageStore.create(tmp_path_factory.mktemp("gs") / "db", model_name=emb.model_name, dim=emb.dim)
    report = index_pdfs(c["paths"], store, emb, show_progress=False, metadata=lambda p: {"name": p.stem})
    assert len(report.added) == 2
    return store, emb


def test_each_paragraph_query_grounds_its_paragraph_first(indexed, rare_word_corpus: dict) -> None:
    store, emb = indexed
    c = rare_word_corpus
    for d, page, i, query in c["queries"]:
        hits, sel = search_grounded(store, emb, query, top_k=3)
        top = sel.regions[0]
        rec = hits[top.page_index].record
        truth_box = c["truth"][d][page - 1].blocks_of("text")[i].bbox
        assert (rec.file_name, rec.page_number) == (f"doc{d}.pdf", page), query
        assert top.region.bbox.iou(truth_box) > 0.8, query
        assert hits[0].record.page_number == page and hits[0].hit.file_name == f"doc{d}.pdf"


def test_grounding_equals_a_reference_on_the_stored_vectors(indexed) -> None:
    store, emb = indexed
    hits, sel = search_grounded(store, emb, "orchard yield plums", top_k=2)
    q = emb.embed_queries(["orchard yield plums"])[0]
    for h in hits:
        rec = h.record
        page = PageEmbedding(rec.vectors.astype(np.float32), rec.patch_positions, rec.grid)
        assert h.hit.normalized_score == pytest.approx(normalised_page_score(q.vectors, page.vectors), abs=1e-4)
        ref = ground_page(q, page, rec.regions)
        np.testing.assert_allclose(h.grounding.scores, ref.scores, atol=1e-5)
        assert [r.bbox for r in h.grounding.regions] == [r.bbox for r in ref.regions]
    assert sel.regions[0].combined == pytest.approx(0.5 * sel.regions[0].relevance + 0.5 * sel.regions[0].page_score)


def test_figure_query_crops_the_chart(indexed, rare_word_corpus: dict) -> None:
    store, emb = indexed
    hits, sel = search_grounded(store, emb, "plums pears figs", top_k=1)
    fig = next(s for s in sel.regions if s.region.kind == "figure")
    truth = rare_word_corpus["truth"][1][0].blocks_of("figure")[0].bbox
    assert fig.region.bbox.iou(truth) > 0.8
    rec = hits[fig.page_index].record
    image = crop(rec, fig.region.bbox)
    x0, y0, x1, y1 = fig.region.bbox.to_pixels(rec.image_width, rec.image_height)
    assert image.size == (x1 - x0, y1 - y0)
    pixels = np.asarray(image.convert("L"))  # (h, w): a chart, not blank paper
    assert pixels.min() < 128 and pixels.std() > 10


def test_dicts_are_json_with_points_and_filters_apply(indexed, rare_word_corpus: dict) -> None:
    store, emb = indexed
    d, page, i, query = rare_word_corpus["queries"][0]
    hits, sel = search_grounded(store, emb, query, top_k=3, options=GroundingOptions(top_k=2))
    rows = selection_to_dicts(hits, sel)
    assert len(rows) == 2 and json.loads(json.dumps(rows)) == rows
    first = rows[0]
    assert set(first) >= {
        "text",
        "bbox",
        "bbox_pt",
        "kind",
        "region_relevance",
        "score",
        "page_number",
        "file_name",
        "doc_id",
    }
    assert first["bbox_pt"] == pytest.approx(
        [v * s for v, s in zip(first["bbox"], (612, 792, 612, 792), strict=True)], abs=0.05
    )
    assert first["score"] >= rows[1]["score"]
    other, _ = search_grounded(store, emb, query, top_k=3, filters={"name": "doc1"})
    assert {h.record.file_name for h in other} == {"doc1.pdf"}
    with pytest.raises(FilterError, match="nope"):
        search_grounded(store, emb, query, filters={"nope": 1})


def test_cache_encodes_a_query_once(indexed) -> None:
    store, emb = indexed
    cache = QueryCache()
    before = CountingDouble.calls
    for _ in range(3):
        search_grounded(store, emb, "stone bridges", cache=cache)
    assert CountingDouble.calls - before == 1 and cache.misses == 1


def test_empty_index_is_a_clear_error(tmp_path: Path, indexed) -> None:
    _, emb = indexed
    empty = PageStore.create(tmp_path / "empty", model_name=emb.model_name, dim=emb.dim)
    with pytest.raises(EmptyIndexError, match=r"has no pages; add PDFs with `colret index"):
        search_grounded(empty, emb, "anything")
