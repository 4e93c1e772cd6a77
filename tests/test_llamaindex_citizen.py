"""Issue 13 on a real LanceDB with the word-patch double: fusion-safe hashes, empty indexes, reader metadata,
strict keywords, chat engines, a serialisable postprocessor with rerank events, hybrid retrieval, habits."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from llama_index.core.base.llms.types import CompletionResponse, LLMMetadata
from llama_index.core.callbacks import CallbackManager, CBEventType, LlamaDebugHandler
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.events.rerank import ReRankEndEvent, ReRankStartEvent
from llama_index.core.llms import CustomLLM, MockLLM
from llama_index.core.retrievers import QueryFusionRetriever
from llama_index.core.schema import Document, NodeRelationship, NodeWithScore, TextNode
from llama_index.core.vector_stores.types import FilterOperator, MetadataFilter, MetadataFilters
from llama_index.retrievers.bm25 import BM25Retriever

from llama_index_colret.errors import EmptyIndexError, FilterError, PDFError, StoreError
from llama_index_colret.grounded_search import search_grounded
from llama_index_colret.llamaindex import ColRetIndex, RegionGroundingPostprocessor
from llama_index_colret.search.fusion import reciprocal_rank_fusion
from llama_index_colret.store.lance import PageStore
from llama_index_colret.testing.double import WordPatchEmbedder
from tests import test_llamaindex

built = test_llamaindex.built  # the same module fixtures: the indexed corpus and the double
double = test_llamaindex.double


class ScriptedLLM(CustomLLM):
    """Answers every completion with ``reply`` (the query variants of QueryFusionRetriever)."""

    reply: str = ""

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata()

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self.reply)

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Iterator[CompletionResponse]:
        yield CompletionResponse(text=self.reply, delta=self.reply)


class Collect(BaseEventHandler):
    """Keeps every instrumentation event it sees."""

    events: list[BaseEvent] = []

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.events.append(event)


def pdf_page_documents(index: ColRetIndex) -> list[Document]:
    """One Document per PDF page with the metadata LlamaIndex's PDF readers set (page_label, file_path)."""
    docs = []
    for info in index.documents():
        pdf = pdfium.PdfDocument(info.path)
        for i in range(len(pdf)):
            text = pdf[i].get_textpage().get_text_range()
            meta = {"page_label": str(i + 1), "file_name": info.file_name, "file_path": info.path}
            docs.append(Document(text=text, metadata=meta))
        pdf.close()
    return docs


def test_hashes_ignore_the_query_and_fusion_sums_reciprocal_ranks(built: ColRetIndex, rare_word_corpus: dict) -> None:
    _, _, _, query = rare_word_corpus["queries"][1]
    words = query.split()
    variant = " ".join(reversed(words))
    a = built.as_retriever(top_k_regions=5).retrieve(query)
    b = built.as_retriever(top_k_regions=5).retrieve(f"{words[0]} {query}")  # other scores, same regions
    same = {n.node.node_id: n for n in b}
    shared = [n for n in a if n.node.node_id in same]
    assert shared and any(n.score != same[n.node.node_id].score for n in shared)
    assert all(n.node.hash == same[n.node.node_id].node.hash for n in shared)
    pa, pb = (built.as_retriever(grounded=False).retrieve(q)[0] for q in (query, f"{words[0]} {query}"))
    assert pa.node.node_id == pb.node.node_id and pa.node.hash == pb.node.hash and pa.score != pb.score
    fusion = QueryFusionRetriever(
        [built.as_retriever()],
        llm=ScriptedLLM(reply=f"{variant}\n{words[1]} {words[2]} {words[0]}"),
        num_queries=3,
        mode="reciprocal_rerank",
        use_async=False,
    )
    fused = fusion.retrieve(query)
    assert fused[0].node.node_id == a[0].node.node_id
    # LlamaIndex counts ranks from 0 with k = 60: first in all three lists is 3 / 60 (one hash per query: 1 / 60)
    assert fused[0].score == pytest.approx(3 / 60)
    assert len({n.node.node_id for n in fused}) == len(fused)


def test_reader_metadata_ref_doc_id_and_bm25_over_the_same_pdfs(built: ColRetIndex, rare_word_corpus: dict) -> None:
    bm25 = BM25Retriever.from_defaults(nodes=pdf_page_documents(built), similarity_top_k=1)
    for _, _, _, query in rare_word_corpus["queries"]:
        region = built.as_retriever().retrieve(query)[0].node
        page = built.as_retriever(grounded=False).retrieve(query)[0].node
        other = bm25.retrieve(query)[0].node
        for node in (region, page):
            m = node.metadata
            assert (m["file_path"], m["page_label"]) == (other.metadata["file_path"], other.metadata["page_label"])
            assert m["page_label"] == str(m["page_number"]) and m["file_path"] == m["path"]
            assert node.ref_doc_id == m["doc_id"]
        assert region.relationships[NodeRelationship.PARENT].node_id == page.node_id


def test_filters_on_page_label_and_file_path(built: ColRetIndex, rare_word_corpus: dict) -> None:
    _, _, _, query = rare_word_corpus["queries"][0]

    def pages(*filters: MetadataFilter) -> set[tuple[str, str]]:
        retriever = built.as_retriever(top_k_pages=5, grounded=False, filters=MetadataFilters(filters=list(filters)))
        return {(n.node.metadata["file_name"], n.node.metadata["page_label"]) for n in retriever.retrieve(query)}

    doc1 = next(d.path for d in built.documents() if d.file_name == "doc1.pdf")
    assert pages(MetadataFilter(key="page_label", value="2")) == {("doc0.pdf", "2")}
    assert pages(MetadataFilter(key="page_label", value=["1"], operator=FilterOperator.IN)) == {
        ("doc0.pdf", "1"),
        ("doc1.pdf", "1"),
    }
    assert pages(MetadataFilter(key="file_path", value=doc1)) == {("doc1.pdf", "1")}
    assert pages(
        MetadataFilter(key="file_path", value=doc1, operator=FilterOperator.NE),
        MetadataFilter(key="page_label", value="1"),
    ) == {("doc0.pdf", "1")}
    with pytest.raises(FilterError, match="page_label.*'ii'"):
        built.as_retriever(filters=MetadataFilters(filters=[MetadataFilter(key="page_label", value="ii")]))


def test_insert_and_delete_ref_doc(rare_word_corpus: dict, double: WordPatchEmbedder, tmp_path: Path) -> None:
    first, second = rare_word_corpus["paths"]
    index = ColRetIndex.from_pdfs(first, embed_model=double, uri=tmp_path / "db", show_progress=False)
    doc = Document(text="", metadata={"file_path": str(second), "page_label": "1", "topic": "orchards"})
    doc_id = index.insert(doc)
    node = index.as_retriever(grounded=False).retrieve("orchard yield plums")[0].node
    assert (
        node.ref_doc_id == doc_id
        and node.metadata["topic"] == "orchards"
        and "page_label" not in index.documents()[[d.doc_id for d in index.documents()].index(doc_id)].metadata
    )
    index.delete_ref_doc(node.ref_doc_id, delete_from_docstore=True)
    assert [d.file_name for d in index.documents()] == ["doc0.pdf"]
    with pytest.raises(ValueError, match="file_path"):
        index.insert(Document(text="no file"))
    with pytest.raises(TypeError, match="'purge'"):
        index.delete_ref_doc(doc_id, purge=True)


@pytest.mark.parametrize("how", ["never filled", "emptied by deletes"])
def test_empty_index_gives_no_nodes_an_empty_response_and_a_plain_tool_answer(
    how: str, rare_word_corpus: dict, double: WordPatchEmbedder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    paths = [] if how == "never filled" else rare_word_corpus["paths"][:1]
    index = ColRetIndex.from_pdfs(paths, embedder=double, uri=tmp_path / "db", show_progress=False)
    for d in index.documents():
        index.delete_ref_doc(d.doc_id)
    assert index.store.count() == 0
    with caplog.at_level(logging.WARNING, logger="llama_index_colret"):
        assert index.as_retriever().retrieve("plums") == []
        assert asyncio.run(index.as_retriever(grounded=False).aretrieve("plums")) == []
        response = index.as_query_engine(llm=MockLLM()).query("plums")
        assert str(response) == "Empty Response" and response.source_nodes == []
        out = index.as_tool().call(query="plums")
    assert "no documents are indexed" in out.blocks[0].text.lower() and not out.is_error
    assert any("no documents are indexed" in r.getMessage() for r in caplog.records)
    with pytest.raises(EmptyIndexError, match="colret index PDF"):  # what the CLI reports, with its hint
        search_grounded(index.store, double, "plums")


def test_unknown_keywords_fail_before_any_model_loads(built: ColRetIndex, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="'similarty_top_k'.*valid:.*top_k_pages"):
        built.as_retriever(similarty_top_k=1)
    with pytest.raises(TypeError, match="'similarty_top_k'"):
        built.as_query_engine(llm=MockLLM(), similarty_top_k=1)
    with pytest.raises(TypeError, match="'similarty_top_k'"):
        built.as_chat_engine(llm=MockLLM(), similarty_top_k=1)
    with pytest.raises(TypeError, match="'persist_dir'.*valid:.*dpi"):  # a model load would fail differently
        ColRetIndex.from_pdfs([], embedder=str(tmp_path / "no-model"), uri=tmp_path / "db", persist_dir="x")
    assert not (tmp_path / "db").exists()
    with pytest.raises(TypeError, match="not both"):
        ColRetIndex.from_pdfs([], embedder="a", embed_model="b", uri=tmp_path / "db")
    with pytest.raises(TypeError, match="both 'similarity_top_k' and 'top_k_pages'"):
        built.as_retriever(similarity_top_k=1, top_k_pages=1)


def test_page_and_region_counts_and_their_deprecated_aliases(built: ColRetIndex, rare_word_corpus: dict) -> None:
    _, _, _, query = rare_word_corpus["queries"][3]
    pages = built.as_retriever(top_k_pages=2, grounded=False).retrieve(query)
    regions = built.as_retriever(top_k_pages=2, top_k_regions=1).retrieve(query)
    assert len(pages) == 2 and len(regions) == 1 < len(built.as_retriever(top_k_pages=2).retrieve(query))
    with pytest.warns(DeprecationWarning, match="'similarity_top_k' is deprecated, use 'top_k_pages'"):
        old_pages = built.as_retriever(similarity_top_k=2, grounded=False).retrieve(query)
    with pytest.warns(DeprecationWarning, match="'top_k' is deprecated, use 'top_k_regions'"):
        old_regions = built.as_retriever(similarity_top_k=2, top_k=1).retrieve(query)
    assert [n.node.node_id for n in old_pages] == [n.node.node_id for n in pages]
    assert [n.node.node_id for n in old_regions] == [n.node.node_id for n in regions]


def test_callback_manager_and_verbose_are_honoured(
    built: ColRetIndex, rare_word_corpus: dict, caplog: pytest.LogCaptureFixture
) -> None:
    _, _, _, query = rare_word_corpus["queries"][0]
    debug = LlamaDebugHandler()
    built.as_retriever(callback_manager=CallbackManager([debug])).retrieve(query)
    assert len(debug.get_event_pairs(CBEventType.RETRIEVE)) == 1
    engine_debug = LlamaDebugHandler()
    built.as_query_engine(llm=MockLLM(), callback_manager=CallbackManager([engine_debug])).query(query)
    assert engine_debug.get_event_pairs(CBEventType.RETRIEVE) and engine_debug.get_event_pairs(CBEventType.QUERY)
    with caplog.at_level(logging.INFO, logger="llama_index_colret"):
        built.as_retriever().retrieve(query)
        quiet = len(caplog.records)
        built.as_retriever(verbose=True).retrieve(query)
    assert quiet == 0 and any("doc0.pdf" in r.getMessage() for r in caplog.records)


def test_chat_engine_over_two_turns(built: ColRetIndex, rare_word_corpus: dict) -> None:
    (d1, p1, _, q1), (d2, p2, _, q2) = rare_word_corpus["queries"][0], rare_word_corpus["queries"][5]
    engine = built.as_chat_engine(llm=MockLLM(), top_k_pages=2, top_k_regions=4)
    first = engine.chat(q1)
    assert (first.source_nodes[0].node.metadata["file_name"], first.source_nodes[0].node.metadata["page_number"]) == (
        f"doc{d1}.pdf",
        p1,
    )
    second = engine.chat(q2)
    cited = {(n.node.metadata["file_name"], n.node.metadata["page_number"]) for n in second.source_nodes}
    assert (f"doc{d2}.pdf", p2) in cited
    assert [m.content for m in engine.chat_history][::2] == [q1, q2] and len(engine.chat_history) == 4
    assert all(":r" in n.node.node_id for n in first.source_nodes + second.source_nodes)
    context = built.as_chat_engine(chat_mode="context", llm=MockLLM())
    assert context.chat(q2).source_nodes[0].node.metadata["page_number"] == p2


def test_postprocessor_round_trip_and_rerank_events(built: ColRetIndex, rare_word_corpus: dict) -> None:
    _, _, _, query = rare_word_corpus["queries"][4]
    post = RegionGroundingPostprocessor.from_index(built, top_k_regions=2, relative_alpha=0.7)
    data = json.loads(json.dumps(post.to_dict()))
    assert data["class_name"] == "RegionGroundingPostprocessor" and data["uri"] == str(built.store.uri)
    assert data["grounding"]["top_k"] == 2 and data["grounding"]["relative_alpha"] == 0.7
    back = RegionGroundingPostprocessor.from_dict(data, embedder=built.embedder)
    assert back.options == post.options and back.model_name == built.embedder.model_name
    pages = built.as_retriever(grounded=False, top_k_pages=2).retrieve(query)
    handler = Collect()
    root = get_dispatcher()
    root.add_event_handler(handler)
    try:
        out = post.postprocess_nodes(pages, query_str=query)
    finally:
        root.event_handlers.remove(handler)
    again = back.postprocess_nodes(pages, query_str=query)
    assert len(out) == 2 and [(n.node.node_id, n.score) for n in again] == [(n.node.node_id, n.score) for n in out]
    starts = [e for e in handler.events if isinstance(e, ReRankStartEvent)]
    ends = [e for e in handler.events if isinstance(e, ReRankEndEvent)]
    assert len(starts) == len(ends) == 1 and starts[0].top_n == 2
    assert [n.node.node_id for n in starts[0].nodes] == [n.node.node_id for n in pages]
    assert [n.node.node_id for n in ends[0].nodes] == [n.node.node_id for n in out]
    with pytest.raises(TypeError, match="uri="):
        RegionGroundingPostprocessor()


def test_hybrid_fuses_visual_and_full_text_rankings(built: ColRetIndex, rare_word_corpus: dict) -> None:
    d, page, i, query = rare_word_corpus["queries"][2]
    store = built.store
    visual = built.as_retriever(grounded=False, top_k_pages=3).retrieve(query)
    text = store.text_search(query, k=3)
    expected = reciprocal_rank_fusion(
        [[(n.node.metadata["doc_id"], n.node.metadata["page_number"]) for n in visual], [(a, b) for a, b, _ in text]]
    )
    hybrid = built.as_retriever(grounded=False, top_k_pages=3, hybrid=True).retrieve(query)
    got = [((n.node.metadata["doc_id"], n.node.metadata["page_number"]), n.score) for n in hybrid]
    assert [k for k, _ in got] == [k for k, _ in expected]
    assert [s for _, s in got] == pytest.approx([s for _, s in expected])
    top = built.as_retriever(hybrid=True).retrieve(query)[0].node.metadata
    assert (top["file_name"], top["page_number"]) == (f"doc{d}.pdf", page)
    only_doc1 = built.as_retriever(grounded=False, hybrid=True, filters={"name": "doc1"}).retrieve(query)
    assert {n.node.metadata["file_name"] for n in only_doc1} == {"doc1.pdf"}
    assert built.as_retriever(hybrid=True).retrieve("What was the 'wheat' yield in 1860?")  # punctuation is fine


def test_library_habits(
    built: ColRetIndex, tmp_path: Path, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "nowhere" / "db"
    with pytest.raises(EmptyIndexError, match="no colret index"):
        PageStore.open(missing)
    with pytest.raises(EmptyIndexError):
        ColRetIndex.load(missing, embedder=built.embedder)
    assert not PageStore.exists(missing) and not (tmp_path / "nowhere").exists()
    a_file = tmp_path / "index.txt"
    a_file.write_text("not an index")
    for call in (lambda: PageStore.open(a_file), lambda: PageStore.exists(a_file)):
        with pytest.raises(StoreError, match="is a file, not an index directory"):
            call()
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4 this is not really a pdf")
    with caplog.at_level(logging.WARNING, logger="llama_index_colret"), pytest.raises(PDFError) as err:
        built.insert_pdf(bad)
    assert str(err.value).count(str(bad)) == 1
    assert [r.getMessage().count(str(bad)) for r in caplog.records] == [1]
    assert capsys.readouterr().out == ""


def test_foreign_nodes_with_reader_metadata_do_not_break_grounding(built: ColRetIndex) -> None:
    foreign = NodeWithScore(node=TextNode(text="x", metadata={"page_label": "1", "file_path": "/a.pdf"}), score=1.0)
    post = RegionGroundingPostprocessor.from_index(built)
    assert post.postprocess_nodes([foreign], query_str="plums") == [foreign]


def test_cli_reports_a_file_db_and_a_missing_db_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from llama_index_colret.cli import main

    a_file = tmp_path / "db.txt"
    a_file.write_text("x")
    for db, problem in ((a_file, "is a file, not an index directory"), (tmp_path / "none" / "db", "colret index")):
        assert main(["query", "plums", "--db", str(db)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and problem in err[0] and "Traceback" not in err[0]
    assert not (tmp_path / "none").exists()


def test_postprocessor_from_dict_alone_reopens_the_index_and_loads_its_model(
    rare_word_corpus: dict, tiny_model_dir: Any, tmp_path: Path
) -> None:
    model = str(tiny_model_dir("colqwen2"))
    index = ColRetIndex.from_pdfs(
        rare_word_corpus["paths"][1], embed_model=model, uri=tmp_path / "db", show_progress=False
    )
    data = json.loads(RegionGroundingPostprocessor.from_index(index, top_k_regions=1).to_json())
    back = RegionGroundingPostprocessor.from_dict(data)  # no store, no embedder: both from the fields
    assert back.model_name == model and back.options.top_k == 1
    pages = index.as_retriever(grounded=False).retrieve("orchard yield")
    out = back.postprocess_nodes(pages, query_str="orchard yield")
    assert len(out) == 1 and out[0].node.ref_doc_id == index.documents()[0].doc_id
