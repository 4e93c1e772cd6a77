"""The LlamaIndex layer on a real LanceDB: index, retriever (sync/async), filters, insert/delete/load,
query engines with MockLLM, multimodal figure crops, and a FunctionAgent driven by a scripted LLM.

The word-patch double gives known right answers; the tiny ColQwen2 model checks the real-model plumbing."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ChatMessage, ImageBlock, MessageRole, TextBlock, ToolCallBlock
from llama_index.core.llms.mock import MockFunctionCallingLLM, MockLLM
from llama_index.core.query_engine import CitationQueryEngine
from llama_index.core.schema import ImageNode, MetadataMode, NodeRelationship, NodeWithScore, TextNode
from llama_index.core.vector_stores.types import FilterCondition, FilterOperator, MetadataFilter, MetadataFilters

from llama_index_colret.errors import FilterError
from llama_index_colret.llamaindex import ColRetIndex, RegionGroundingPostprocessor
from llama_index_colret.llamaindex.nodes import HIDDEN_KEYS
from llama_index_colret.testing.double import WordPatchEmbedder


@pytest.fixture(scope="module")
def double(rare_word_corpus: dict) -> WordPatchEmbedder:
    c = rare_word_corpus
    fig = c["truth"][1][0].blocks_of("figure")[0]
    return WordPatchEmbedder(c["paths"], extra_words={(c["paths"][1], 1): [(fig.bbox, " ".join(c["chart_labels"]))]})


@pytest.fixture(scope="module")
def built(rare_word_corpus: dict, double: WordPatchEmbedder, tmp_path_factory: pytest.TempPathFactory) -> ColRetIndex:
    folder = tmp_path_factory.mktemp("pdfs")
    for p in rare_word_corpus["paths"]:
        shutil.copy(p, folder / p.name)
    uri = tmp_path_factory.mktemp("li") / "db"
    return ColRetIndex.from_pdfs(
        folder, embedder=double, uri=uri, metadata=lambda p: {"name": p.stem}, show_progress=False
    )


def name_filter(value: str, op: FilterOperator = FilterOperator.EQ) -> MetadataFilter:
    return MetadataFilter(key="name", value=value, operator=op)


def test_paragraph_query_returns_its_region_first_sync_and_async(built: ColRetIndex, rare_word_corpus: dict) -> None:
    retriever = built.as_retriever()
    doc_ids = {d.file_name: d.doc_id for d in built.documents()}
    for d, page, i, query in rare_word_corpus["queries"]:
        nodes = retriever.retrieve(query)
        top = nodes[0]
        m = top.node.metadata
        truth = rare_word_corpus["truth"][d][page - 1].blocks_of("text")[i].bbox
        assert (m["file_name"], m["page_number"]) == (f"doc{d}.pdf", page), query
        assert truth.iou(type(truth).from_list(m["bbox"])) > 0.8
        assert top.node.node_id.startswith(f"{doc_ids[f'doc{d}.pdf']}:p{page}:r")
        assert len({n.node.node_id for n in nodes}) == len(nodes)  # two regions never collapse
        assert [n.score for n in nodes] == sorted((n.score for n in nodes), reverse=True)
        assert top.score == pytest.approx(0.5 * m["region_relevance"] + 0.5 * m["page_score"])
        parent = top.node.relationships[NodeRelationship.PARENT]
        assert parent.node_id == f"{m['doc_id']}:p{page}"  # the page stays the PARENT (issue 13)
        assert top.node.relationships[NodeRelationship.SOURCE].node_id == m["doc_id"] == top.node.ref_doc_id
        assert set(HIDDEN_KEYS) <= set(top.node.excluded_llm_metadata_keys)
        llm_text = top.node.get_content(metadata_mode=MetadataMode.LLM)
        assert "page_number" in llm_text and "bbox_pt" in llm_text and "region_relevance" not in llm_text
        again = asyncio.run(retriever.aretrieve(query))
        assert [(n.node.node_id, n.score) for n in again] == [(n.node.node_id, n.score) for n in nodes]


def test_query_is_encoded_once_per_text(built: ColRetIndex) -> None:
    retriever = built.as_retriever()
    before = built.cache.misses
    retriever.retrieve("bright painted houses")
    retriever.retrieve("bright painted houses")
    assert built.cache.misses - before == 1


def test_page_nodes_and_postprocessor_equal_grounded_retrieval(built: ColRetIndex, rare_word_corpus: dict) -> None:
    _, page, _, query = rare_word_corpus["queries"][4]
    pages = built.as_retriever(grounded=False, top_k_pages=2).retrieve(query)
    assert [n.node.node_id.count(":r") for n in pages] == [0, 0]
    m = pages[0].node.metadata
    assert pages[0].node.node_id == f"{m['doc_id']}:p{m['page_number']}" and m["page_number"] == page
    assert pages[0].score == pytest.approx(m["maxsim"] / 3)  # a 3-word query: normalised MaxSim
    assert pages[0].node.text and m["name"] == "doc0"
    post = RegionGroundingPostprocessor(built.store, built.embedder, cache=built.cache)
    regions = post.postprocess_nodes(pages, query_str=query)
    direct = built.as_retriever(top_k_pages=2).retrieve(query)
    assert [(n.node.node_id, n.score) for n in regions] == [(n.node.node_id, n.score) for n in direct]
    one = RegionGroundingPostprocessor(built.store, built.embedder, top_k=1).postprocess_nodes(pages, query_str=query)
    assert len(one) == 1 and one[0].node.node_id == direct[0].node.node_id


def test_postprocessor_passes_foreign_nodes_through_and_grounds_each_page_once(
    built: ColRetIndex, rare_word_corpus: dict
) -> None:
    _, _, _, query = rare_word_corpus["queries"][4]
    pages = built.as_retriever(grounded=False, top_k_pages=2).retrieve(query)
    foreign = NodeWithScore(node=TextNode(id_="bm25-1", text="from another retriever"), score=7.0)
    post = RegionGroundingPostprocessor(built.store, built.embedder, cache=built.cache)
    regions = post.postprocess_nodes(pages, query_str=query)
    mixed = post.postprocess_nodes([pages[0], foreign, pages[1], pages[0]], query_str=query)
    assert [n.node.node_id for n in mixed] == [n.node.node_id for n in regions] + ["bm25-1"]
    again = post.postprocess_nodes(regions, query_str=query)  # region nodes stand for their pages
    assert {n.node.node_id for n in again} <= {n.node.node_id for n in regions}
    assert post.postprocess_nodes([foreign], query_str=query) == [foreign]


def test_metadata_filters_and_or_not_nested(built: ColRetIndex, rare_word_corpus: dict) -> None:
    _, _, _, query = rare_word_corpus["queries"][0]  # a doc0 paragraph

    def files(filters: MetadataFilters, k: int = 5) -> set[tuple[str, int]]:
        nodes = built.as_retriever(top_k_pages=k, grounded=False, filters=filters).retrieve(query)
        return {(n.node.metadata["file_name"], n.node.metadata["page_number"]) for n in nodes}

    everything = {("doc0.pdf", 1), ("doc0.pdf", 2), ("doc1.pdf", 1)}
    assert files(MetadataFilters(filters=[name_filter("doc1")])) == {("doc1.pdf", 1)}
    assert files(MetadataFilters(filters=[name_filter("doc1", FilterOperator.NE)])) == everything - {("doc1.pdf", 1)}
    page2 = MetadataFilter(key="page_number", value=2, operator=FilterOperator.GTE)
    either = MetadataFilters(filters=[name_filter("doc1"), page2], condition=FilterCondition.OR)
    assert files(either) == {("doc1.pdf", 1), ("doc0.pdf", 2)}
    nested = MetadataFilters(
        filters=[name_filter("doc0"), MetadataFilters(filters=[page2], condition=FilterCondition.NOT)],
        condition=FilterCondition.AND,
    )
    assert files(nested) == {("doc0.pdf", 1)}
    assert files(
        MetadataFilters(filters=[MetadataFilter(key="name", value=["doc0"], operator=FilterOperator.NIN)])
    ) == {("doc1.pdf", 1)}
    assert files(MetadataFilters(filters=[name_filter("doc0")]), k=1) == {("doc0.pdf", 1)}
    with pytest.raises(FilterError, match="'contains'"):
        built.as_retriever(filters=MetadataFilters(filters=[name_filter("doc", FilterOperator.CONTAINS)]))
    with pytest.raises(FilterError, match="unknown filter field 'colour'"):
        built.as_retriever(filters=MetadataFilters(filters=[MetadataFilter(key="colour", value="red")])).retrieve(query)
    assert (
        built.as_retriever(filters={"name": "doc1"}, grounded=False).retrieve(query)[0].node.metadata["name"] == "doc1"
    )


def test_insert_delete_load_documents(rare_word_corpus: dict, double: WordPatchEmbedder, tmp_path: Path) -> None:
    first, second = rare_word_corpus["paths"]
    index = ColRetIndex.from_pdfs(first, embedder=double, uri=tmp_path / "db", show_progress=False)
    assert [d.file_name for d in index.documents()] == ["doc0.pdf"]
    doc_id = index.insert_pdf(second, metadata={"topic": "orchards"})
    assert index.insert_pdf(second) == doc_id  # the same file again is a no-op
    assert sorted(d.n_pages for d in index.documents()) == [1, 2]
    reopened = ColRetIndex.load(tmp_path / "db", embedder=double)
    nodes = reopened.as_retriever(grounded=False).retrieve("orchard yield plums")
    assert nodes[0].node.metadata["doc_id"] == doc_id and nodes[0].node.metadata["topic"] == "orchards"
    assert reopened.delete_document(doc_id) == 1
    assert {n.node.metadata["file_name"] for n in reopened.as_retriever(grounded=False).retrieve("plums")} == {
        "doc0.pdf"
    }
    assert reopened.delete_document(index.documents()[0].doc_id) == 2
    assert reopened.as_retriever().retrieve("plums") == []  # an emptied index: no nodes (issue 13)


def test_query_engines_with_mock_llm(built: ColRetIndex, rare_word_corpus: dict) -> None:
    d, page, i, query = rare_word_corpus["queries"][2]
    engine = built.as_query_engine(llm=MockLLM(), top_k_pages=2, top_k_regions=2, response_mode="compact")
    response = engine.query(query)
    assert len(response.source_nodes) == 2 and str(response)
    assert response.source_nodes[0].node.metadata["page_number"] == page
    assert response.source_nodes[0].node.text == built.as_retriever().retrieve(query)[0].node.text
    cited = CitationQueryEngine.from_args(built, llm=MockLLM(), metadata_mode=MetadataMode.LLM)
    out = cited.query(query)
    first = out.source_nodes[0].node.get_content()
    assert first.startswith("Source 1:") and f"page_number: {page}" in first and "bbox_pt" in first


def test_multimodal_engine_hands_the_figure_crop_to_the_llm(built: ColRetIndex) -> None:
    nodes = built.as_retriever().retrieve("plums pears figs")
    fig = next(n for n in nodes if n.node.metadata["kind"] == "figure")
    assert isinstance(fig.node, ImageNode) and fig.node.metadata["page_number"] == 1
    blocks = fig.node.get_content_blocks()
    assert isinstance(blocks[0], ImageBlock) and any(isinstance(b, TextBlock) and "Orchard" in b.text for b in blocks)
    received: list[ChatMessage] = []

    def answer(messages: list[ChatMessage], **kwargs: object) -> ChatMessage:
        received.extend(messages)
        return ChatMessage(role=MessageRole.ASSISTANT, content="A bar chart of plums, pears and figs.")

    llm = MockFunctionCallingLLM(response_generator=answer, is_chat_model=True)
    engine = built.as_query_engine(llm=llm, multimodal=True)
    response = engine.query("plums pears figs")
    assert any(n.node.metadata["kind"] == "figure" for n in response.source_nodes)
    sent = [b for m in received for b in m.blocks]
    images = [b for b in sent if isinstance(b, ImageBlock)]
    assert images and images[0].resolve_image().read(8) == b"\x89PNG\r\n\x1a\n"


def test_function_agent_calls_the_tool_and_gets_cited_snippets(built: ColRetIndex, rare_word_corpus: dict) -> None:
    d, page, i, query = rare_word_corpus["queries"][5]
    seen: list[ChatMessage] = []

    def script(messages: list[ChatMessage], **kwargs: object) -> ChatMessage:
        tool_msgs = [m for m in messages if m.role == MessageRole.TOOL]
        if not tool_msgs:
            call = ToolCallBlock(tool_call_id="c1", tool_name="search_pdfs", tool_kwargs={"query": query})
            return ChatMessage(role=MessageRole.ASSISTANT, blocks=[call])
        seen.extend(tool_msgs)
        return ChatMessage(role=MessageRole.ASSISTANT, content="Answer [1]: " + tool_msgs[-1].content.splitlines()[0])

    agent = FunctionAgent(tools=[built.as_tool()], llm=MockFunctionCallingLLM(response_generator=script))

    async def run() -> object:
        return await agent.run(user_msg="Where is it said?")

    result = asyncio.run(run())
    text = str(result)
    assert f"doc{d}.pdf, p. {page}, box (" in text and text.startswith("Answer [1]: [1]")
    tool = built.as_tool()
    out = tool.call(query="plums pears figs")
    assert any(isinstance(b, ImageBlock) for b in out.blocks) and "pt" in out.blocks[0].text
    assert seen


def test_tiny_colqwen2_end_to_end(
    rare_word_corpus: dict, tiny_model_dir: Callable[[str], Path], tmp_path: Path
) -> None:
    model = str(tiny_model_dir("colqwen2"))
    index = ColRetIndex.from_pdfs(rare_word_corpus["paths"], embedder=model, uri=tmp_path / "db", show_progress=False)
    assert sum(d.n_pages for d in index.documents()) == 3
    loaded = ColRetIndex.load(tmp_path / "db")  # embedder=None: the recorded model
    assert loaded.embedder.model_name == index.embedder.model_name
    retriever = loaded.as_retriever(top_k_pages=2)
    nodes = retriever.retrieve("stone bridges")
    assert nodes and all(":r" in n.node.node_id for n in nodes)
    assert [n.node.node_id for n in asyncio.run(retriever.aretrieve("stone bridges"))] == [
        n.node.node_id for n in nodes
    ]
    pages = loaded.as_retriever(grounded=False, top_k_pages=3).retrieve("stone bridges")
    assert len(pages) == 3 and pages[0].score >= pages[-1].score
    response = loaded.as_query_engine(llm=MockLLM()).query("stone bridges")
    assert response.source_nodes


def test_package_import_stays_light_and_exports_lazily() -> None:
    import subprocess
    import sys

    code = (
        "import sys, llama_index_colret as c; light = not {'torch', 'llama_index', 'transformers'} & set(sys.modules); "
        "print(light, c.ColRetIndex.__name__, c.RegionGroundingPostprocessor.__name__, c.GroundingOptions.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "ColRetIndex", "RegionGroundingPostprocessor", "GroundingOptions"]
