"""Shared pytest fixtures. Each helper appends its own fixtures below; keep them session-scoped when costly."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from llama_index_colret.testing.tiny_models import build_tiny_model


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``tiny_model_dir(family) -> Path``: a tiny random checkpoint ("colqwen2", "colpali", "colmodernvbert"),
    built once per test session and loadable with ``ColEmbedder.from_pretrained``."""
    built: dict[str, Path] = {}

    def get(family: str) -> Path:
        if family not in built:
            built[family] = build_tiny_model(family, tmp_path_factory.mktemp(f"tiny-{family}"))
        return built[family]

    return get


@pytest.fixture(scope="session")
def rare_word_corpus(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two generated PDFs whose paragraphs each carry three made-up words found nowhere else (so a query of
    them has one right region), the second with a captioned bar chart. Returns ``{"paths", "truth",
    "queries": [(pdf index, page number, paragraph index, query)], "chart_labels"}`` (LlamaIndex layer tests)."""
    from llama_index_colret.testing.pdfgen import ChartSpec, PageSpec, make_pdf, sample_paragraphs

    syllables = ["zor", "qua", "vex", "lum", "bri", "tak", "nox", "pel", "dru", "fim"]
    words = iter(f"{syllables[i % 10]}{syllables[(i // 10) % 10]}ite" for i in range(100))
    root = tmp_path_factory.mktemp("rare-word-corpus")
    paths, truth, queries = [], [], []
    layouts = [[("letter", 1, 3), ("a4", 2, 4)], [("letter", 1, 2)]]
    for d, pages in enumerate(layouts):
        specs = []
        for p, (size, cols, n) in enumerate(pages):
            paras = sample_paragraphs(n, words_per_paragraph=30, seed=10 * d + p)
            for i in range(n):
                picks = [next(words) for _ in range(3)]
                tokens = paras[i].split()
                for k, w in enumerate(picks):
                    tokens.insert((k + 1) * len(tokens) // 4, w)
                paras[i] = " ".join(tokens)
                queries.append((d, p + 1, i, " ".join(picks)))
            chart = ChartSpec([3, 5, 2], ["plums", "pears", "figs"], caption="Figure 1: Orchard yield") if d else None
            specs.append(PageSpec(paragraphs=paras, columns=cols, page_size=size, font_size=10, chart=chart))
        path = root / f"doc{d}.pdf"
        truth.append(make_pdf(path, specs))
        paths.append(path)
    return {"paths": paths, "truth": truth, "queries": queries, "chart_labels": ["plums", "pears", "figs"]}


@pytest.fixture(scope="session")
def eval_datasets(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A tiny grounding dataset and a tiny retrieval dataset over the same rendered pages (150 dpi PNGs) of two
    generated PDFs (letter one-column with a ruled table; landscape two-column with a chart). Each paragraph
    and the table carry two made-up words found nowhere else; questions and queries are those words.
    Returns ``{"pdfs", "grounding", "retrieval", "extra_words", "text_questions"}`` (eval tests)."""
    from pdf2image import convert_from_path

    from llama_index_colret.eval.datasets import (
        Evidence,
        GroundingQuestion,
        RetrievalDataset,
        write_grounding_dataset,
        write_retrieval_dataset,
    )
    from llama_index_colret.geometry import BBox
    from llama_index_colret.testing.pdfgen import ChartSpec, PageSpec, make_pdf, sample_paragraphs

    root = tmp_path_factory.mktemp("eval-datasets")
    syll = ["zor", "qua", "vex", "lum", "bri", "tak", "nox", "pel", "dru", "fim"]
    rare = iter(f"{syll[i % 10]}{syll[(i // 10) % 10]}{syll[(i // 3) % 10]}ax" for i in range(100))
    table = [["Item", "Count"], [next(rare), "3"], [next(rare), "5"]]
    chart_words = [next(rare), next(rare)]
    specs, picks = [], []
    for size, cols, seed in (("letter", 1, 1), ("landscape", 2, 2)):
        paras = sample_paragraphs(4, words_per_paragraph=28, seed=seed)
        page_picks = []
        for i, text in enumerate(paras):
            words = [next(rare), next(rare)]
            tokens = text.split()
            tokens.insert(len(tokens) // 3, words[0])
            tokens.insert(2 * len(tokens) // 3, words[1])
            paras[i] = " ".join(tokens)
            page_picks.append(" ".join(words))
        picks.append(page_picks)
        chart = ChartSpec([3, 5], chart_words, caption="Figure 1: Yield") if cols == 2 else None
        specs.append(
            PageSpec(paragraphs=paras, columns=cols, page_size=size, table=table if cols == 1 else None, chart=chart)
        )
    images_dir = root / "images"
    images_dir.mkdir()
    pdfs, questions, corpus, qrels, queries = [], [], {}, {}, {}
    extra_words: dict = {}
    for d, spec in enumerate(specs):
        pdf = root / f"doc{d}.pdf"
        truth = make_pdf(pdf, [spec])[0]
        pdfs.append(pdf)
        image = convert_from_path(str(pdf), dpi=150)[0]
        path = images_dir / f"doc{d}-p1.png"
        image.save(path, dpi=(150, 150))
        w, h = image.size
        corpus[f"doc{d}-p1"] = path

        def evidence(box: BBox, kind: str, path=path, w=w, h=h, d=d) -> tuple:
            return (Evidence(path, 1, f"doc{d}", (box.to_pixels(w, h),), (kind,), w, h),)

        for i, block in enumerate(truth.blocks_of("text")[:4]):
            qid = f"d{d}-p{i}"
            questions.append(GroundingQuestion(qid, picks[d][i], evidence(block.bbox, "text")))
            queries[qid], qrels[qid] = picks[d][i], {f"doc{d}-p1": 1}
        for block in truth.blocks_of("table"):
            words = " ".join(r[0] for r in table[1:])
            questions.append(GroundingQuestion(f"d{d}-table", words, evidence(block.bbox, "table")))
        for block in truth.blocks_of("figure"):
            extra_words[(pdf, 1)] = [(block.bbox, " ".join(chart_words))]
            questions.append(GroundingQuestion(f"d{d}-figure", " ".join(chart_words), evidence(block.bbox, "figure")))
    grounding = root / "grounding"
    write_grounding_dataset(grounding, questions)
    retrieval = root / "retrieval"
    write_retrieval_dataset(retrieval, RetrievalDataset(queries, corpus, qrels))
    return {
        "pdfs": pdfs,
        "grounding": grounding,
        "retrieval": retrieval,
        "extra_words": extra_words,
        "text_questions": [q.id for q in questions if q.evidence[0].kinds == ("text",)],
    }


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[str]:
    """A local Ray cluster of 2 CPUs, started once per test session and shut down after it; yields the GCS
    address other processes join it with (Ray engine tests)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@dataclass(frozen=True)
class S3Server:
    """A real S3-compatible server (moto's server mode) on 127.0.0.1: its endpoint and fixed credentials."""

    endpoint: str
    key: str = "colret-test-key"
    secret: str = "colret-test-secret"
    region: str = "us-east-1"

    @property
    def storage_options(self) -> dict[str, str]:
        """LanceDB storage options that reach this server."""
        return {
            "aws_endpoint": self.endpoint,
            "aws_access_key_id": self.key,
            "aws_secret_access_key": self.secret,
            "aws_region": self.region,
            "allow_http": "true",
        }

    @property
    def environment(self) -> dict[str, str]:
        """The same as the usual AWS_* environment variables."""
        return {
            "AWS_ENDPOINT": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.key,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_REGION": self.region,
            "AWS_ALLOW_HTTP": "true",
        }

    def new_bucket(self, name: str) -> str:
        """Create bucket ``name``; return ``s3://name``."""
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.key,
            aws_secret_access_key=self.secret,
            region_name=self.region,
        )
        client.create_bucket(Bucket=name)
        return f"s3://{name}"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server on 127.0.0.1 and a free port, for the session (object-storage tests)."""
    server_mod = pytest.importorskip("moto.server")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per HTTP request
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield S3Server(f"http://127.0.0.1:{port}")
    finally:
        server.stop()
