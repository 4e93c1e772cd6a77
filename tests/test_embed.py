"""ColEmbedder on tiny random checkpoints of every family: the vector contract, scores equal to
`processor.score_retrieval`, query augmentation, batching, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from llama_index_colret.embed.embedder import ColEmbedder, hub_reachable
from llama_index_colret.embed.types import Embedder
from llama_index_colret.errors import EmbeddingError, ModelLoadError
from llama_index_colret.testing.tiny_models import FAMILIES


def _page(width: int, height: int, seed: int) -> Image.Image:
    """A white page with a few random dark blocks (different pages embed differently)."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x, y = int(rng.integers(0, width - 60)), int(rng.integers(0, height - 30))
        draw.rectangle([x, y, x + 60, y + 30], fill=tuple(int(v) for v in rng.integers(0, 200, 3)))
    return img


@pytest.fixture(scope="module")
def embedders(tiny_model_dir) -> dict[str, ColEmbedder]:
    return {f: ColEmbedder.from_pretrained(tiny_model_dir(f), batch_size=2) for f in FAMILIES}


@pytest.fixture(scope="module")
def pages() -> list[Image.Image]:
    return [_page(1275, 1650, 0), _page(1650, 1275, 1), _page(612, 792, 2)]


QUERIES = ["what is the invoice total", "annual revenue growth", "date"]


@pytest.mark.parametrize("family", FAMILIES)
def test_page_vectors_follow_the_contract(family: str, embedders, pages) -> None:
    emb = embedders[family]
    assert isinstance(emb, Embedder)
    out = emb.embed_pages(pages)
    assert len(out) == len(pages)
    for page in out:
        assert page.vectors.dtype == np.float32 and page.vectors.shape[1] == emb.dim == 128
        np.testing.assert_allclose(np.linalg.norm(page.vectors, axis=1), 1.0, atol=1e-5)
        assert page.patch_positions.shape == (page.grid.n_rows * page.grid.n_cols,)
        assert len(set(page.patch_positions.tolist())) == page.grid.n_patches  # each cell its own vector
        assert page.vectors.shape[0] > page.grid.n_tokens  # prompt tokens are kept too


@pytest.mark.parametrize("family", FAMILIES)
def test_page_scores_equal_processor_score_retrieval(family: str, embedders, pages) -> None:
    emb = embedders[family]
    page_embs = emb.embed_pages(pages)
    query_embs = emb.embed_queries(QUERIES)
    ours = np.array([[(q.vectors @ p.vectors.T).max(axis=1).sum() for p in page_embs] for q in query_embs])
    ref = emb.processor.score_retrieval(
        [torch.from_numpy(q.vectors) for q in query_embs], [torch.from_numpy(p.vectors) for p in page_embs]
    )
    np.testing.assert_allclose(ours, ref.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("family", FAMILIES)
def test_batching_does_not_change_vectors(family: str, embedders, pages) -> None:
    emb = embedders[family]
    together = emb.embed_pages(pages[1:3])  # one batch of two page sizes, padded together
    alone = emb.embed_pages(pages[2:3])
    assert together[1].grid == alone[0].grid
    np.testing.assert_allclose(together[1].vectors, alone[0].vectors, atol=2e-4)
    np.testing.assert_array_equal(together[1].patch_positions, alone[0].patch_positions)


@pytest.mark.parametrize(("family", "first_token"), [("colqwen2", "Q"), ("colpali", "<bos>"), ("colmodernvbert", None)])
def test_queries_keep_ten_augmentation_tokens(family: str, first_token: str | None, embedders) -> None:
    """ColQwen2 and ColPali prefix the query (``Query: ``, ``<bos>Question: ``); ColModernVBert does not."""
    out = embedders[family].embed_queries(QUERIES)
    assert [len(q.tokens) for q in out] != [len(out[0].tokens)] * 3  # different lengths, padding dropped
    for text, q in zip(QUERIES, out, strict=True):
        assert q.tokens[0] == (first_token or text.split()[0])
        assert int(q.augmentation.sum()) == 10
        aug_tokens = {t for t, a in zip(q.tokens, q.augmentation, strict=True) if a}
        assert aug_tokens == {embedders[family].processor.query_augmentation_token}
        np.testing.assert_allclose(np.linalg.norm(q.vectors, axis=1), 1.0, atol=1e-5)
    assert "invoice" in out[0].tokens and not out[0].augmentation[out[0].tokens.index("invoice")]


def test_max_image_tokens_caps_the_colqwen2_grid(tiny_model_dir, pages) -> None:
    emb = ColEmbedder.from_pretrained(tiny_model_dir("colqwen2"), max_image_tokens=24)
    grid = emb.embed_pages(pages[:1])[0].grid
    assert grid.n_patches <= 24 and grid.n_rows > grid.n_cols  # portrait page, fewer cells than the default 70


def test_bad_inputs_raise_embedding_error(embedders) -> None:
    with pytest.raises(EmbeddingError, match="page 1: expected a PIL image, got str"):
        embedders["colpali"].embed_pages([_page(100, 100, 0), "page.png"])
    with pytest.raises(EmbeddingError, match="query 0: expected a string"):
        embedders["colpali"].embed_queries([3])
    assert embedders["colpali"].embed_pages([]) == []


def test_unreachable_hub_is_named_in_model_load_error() -> None:
    reachable, _ = hub_reachable(timeout=2.0)
    if reachable:
        pytest.skip("this machine reaches the Hugging Face hub; the message under test is the offline one")
    with pytest.raises(ModelLoadError, match=r"'nobody/no-such-colqwen'.*hub is not reachable"):
        ColEmbedder.from_pretrained("nobody/no-such-colqwen")


def test_missing_folder_and_unsupported_model_raise_model_load_error(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    with pytest.raises(ModelLoadError, match="not-a-model"):
        ColEmbedder.from_pretrained(folder)
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": 32}))
    with pytest.raises(ModelLoadError, match="model_type 'bert'; supported: colqwen2, colpali, colmodernvbert"):
        ColEmbedder.from_pretrained(folder)


def test_progress_bar_counts_pages(embedders, pages, capsys) -> None:
    embedders["colpali"].embed_pages(pages, show_progress=True)
    assert "3/3" in capsys.readouterr().err
