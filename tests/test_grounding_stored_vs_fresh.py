"""Grounding from stored vectors equals grounding on a fresh encoding of the page (tiny ColQwen2, ColPali).

This is the promise that no page is re-encoded at query time: the float16 vectors, patch positions and grid
in LanceDB give the same relevance map and region scores as running the model on the page image again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from llama_index_colret.embed.embedder import ColEmbedder
from llama_index_colret.grounded_search import search_grounded
from llama_index_colret.grounding import GroundingOptions, ground_page
from llama_index_colret.ingest.pdf import load_pdf
from llama_index_colret.pipeline import index_pdfs
from llama_index_colret.store.lance import PageStore
from llama_index_colret.testing.pdfgen import PageSpec, make_pdf, sample_paragraphs


@pytest.mark.parametrize("family", ["colqwen2", "colpali"])
def test_region_relevance_from_store_equals_fresh_encoding(
    family: str, tiny_model_dir: Callable[[str], Path], tmp_path: Path
) -> None:
    pdf = tmp_path / "doc.pdf"
    make_pdf(pdf, [PageSpec(paragraphs=sample_paragraphs(4, seed=s), columns=1 + s % 2) for s in range(2)])
    embedder = ColEmbedder.from_pretrained(tiny_model_dir(family), device="cpu")
    store = PageStore.create(tmp_path / "db", model_name=embedder.model_name, dim=embedder.dim)
    assert index_pdfs([pdf], store, embedder, show_progress=False).n_pages_added == 2
    options = GroundingOptions(level="line", hotspots=False)
    question = "the harbour records of the lower town"

    hits, _ = search_grounded(store, embedder, question, top_k=2, options=options)
    pages = {p.number: p for p in load_pdf(pdf)}
    query = embedder.embed_queries([question])[0]
    for hit in hits:
        page = pages[hit.record.page_number]
        fresh = embedder.embed_pages([page.render()])[0]  # the PDF rendered and encoded again
        again = ground_page(query, fresh, page.regions, options, page_score=hit.hit.normalized_score)
        stored = hit.grounding
        assert [r.bbox.as_list() for r in stored.regions] == [r.bbox.as_list() for r in again.regions]
        assert len(stored.regions) > 5  # stored boxes are rounded to 5 digits
        np.testing.assert_allclose(stored.relevance_map, again.relevance_map, atol=2e-3)
        np.testing.assert_allclose(stored.scores, again.scores, atol=2e-3)
        assert not np.allclose(stored.scores, stored.scores[0])  # regions really differ from each other
