"""Ingestion speed on a generated 50-page PDF: text-layer path (render at 150 dpi + regions) and OCR path
(an image-only copy through Tesseract, parallel over pages). Prints pages per second and the ratio to the
targets for a 2-core machine (>= 50 pages/s text layer, >= 1.5 pages/s OCR).

With ``--ray``: full ingest (regions, render, embedding, LanceDB writes) of the same generated PDFs with the local
engine and with the Ray engine on a local cluster of this machine's cores, pages/s of each and their ratio
(tiny random ColQwen2 unless ``--model``; the Ray time includes starting the actors and loading their models,
not starting the cluster).

Usage: ``python benchmarks/ingest.py [--pages 50] [--ocr-pages 50] [--dpi 150]``,
``python benchmarks/ingest.py --ray [--docs 8] [--pages-per-doc 4] [--model M] [--actors 1]``
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from llama_index_colret.ingest.pdf import load_pdf
from llama_index_colret.ingest.render import iter_page_images
from llama_index_colret.testing.pdfgen import PageSpec, make_pdf, rasterize_pdf, sample_paragraphs

TEXT_TARGET = 50.0  # pages/s, 2 cores
OCR_TARGET = 1.5


def _specs(n: int, first_seed: int = 0) -> list[PageSpec]:
    table = [["Region", "Units", "Price"], ["north", "12", "3.50"], ["south", "7", "12.25"]]
    return [
        PageSpec(
            paragraphs=sample_paragraphs(4, words_per_paragraph=50, seed=first_seed + i), columns=1 + i % 2, table=table
        )
        for i in range(n)
    ]


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (Tesseract), user + system."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def text_layer_rate(path: Path, dpi: int) -> tuple[float, float, float]:
    """(pages/s for regions + render, seconds for regions, seconds for rendering)."""
    t0 = time.perf_counter()
    pages = load_pdf(path, dpi=dpi, ocr="never")
    t1 = time.perf_counter()
    for _number, _image in iter_page_images(path, [p.number for p in pages], dpi):
        pass
    t2 = time.perf_counter()
    return len(pages) / (t2 - t0), t1 - t0, t2 - t1


def ocr_rate(path: Path, dpi: int) -> tuple[float, int]:
    t0 = time.perf_counter()
    pages = load_pdf(path, dpi=dpi, ocr="auto")
    dt = time.perf_counter() - t0
    if any(p.error for p in pages) or not all(r.source == "ocr" for p in pages for r in p.regions):
        raise RuntimeError("the OCR benchmark did not OCR every page")
    return len(pages) / dt, sum(len(p.regions) for p in pages)


def engines(args: argparse.Namespace, tmp: Path) -> None:
    """Local against Ray engine on the same PDFs and model: pages/s of each (fresh index each) and the ratio."""
    import ray

    from llama_index_colret.embed.embedder import ColEmbedder
    from llama_index_colret.pipeline import index_pdfs
    from llama_index_colret.scale import RayOptions
    from llama_index_colret.store.lance import PageStore
    from llama_index_colret.testing.tiny_models import build_tiny_model

    pdfs = []
    for d in range(args.docs):
        pdfs.append(tmp / f"doc{d}.pdf")
        make_pdf(pdfs[-1], _specs(args.pages_per_doc, first_seed=d * args.pages_per_doc))  # distinct files
    model = args.model or str(build_tiny_model("colqwen2", tmp / "tiny"))
    embedder = ColEmbedder.from_pretrained(model)
    n_pages = args.docs * args.pages_per_doc
    rates = {}
    t0 = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    print(f"ray cluster start: {time.perf_counter() - t0:.1f} s (not counted)")
    for engine in ("local", "ray"):
        store = PageStore.create(tmp / f"db-{engine}", model_name=embedder.model_name, dim=embedder.dim)
        t0 = time.perf_counter()
        report = index_pdfs(
            pdfs, store, embedder, engine=engine, ray=RayOptions(num_actors=args.actors), show_progress=False
        )
        dt = time.perf_counter() - t0
        assert report.n_pages_added == n_pages, report.summary()
        rates[engine] = n_pages / dt
        print(f"{engine:>5} engine: {n_pages} pages in {dt:.1f} s, {rates[engine]:.2f} pages/s")
    ray.shutdown()
    print(f"ray / local: {rates['ray'] / rates['local']:.2f}x ({args.actors} actor(s), model {model})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=50)
    ap.add_argument("--ocr-pages", type=int, default=50)
    ap.add_argument("--dpi", type=int, default=150)
    ap.add_argument("--ray", action="store_true", help="compare the local and Ray engines on full ingest")
    ap.add_argument("--docs", type=int, default=8, help="with --ray: documents")
    ap.add_argument("--pages-per-doc", type=int, default=4, help="with --ray: pages per document")
    ap.add_argument("--model", default=None, help="with --ray: model (default: a tiny random ColQwen2)")
    ap.add_argument("--actors", type=int, default=1, help="with --ray: model actors")
    args = ap.parse_args()
    if args.ray:
        print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}")
        with tempfile.TemporaryDirectory() as tmp:
            engines(args, Path(tmp))
        return
    print(f"cores: {os.cpu_count()}, dpi: {args.dpi}, load average before: {os.getloadavg()[0]:.2f}")
    print("wall-clock rates suffer when other processes share the cores; CPU s/page does not")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "text.pdf"
        make_pdf(src, _specs(args.pages))
        c0 = cpu_seconds()
        rate, t_regions, t_render = text_layer_rate(src, args.dpi)
        cpu_text = (cpu_seconds() - c0) / args.pages
        print(
            f"text layer: {args.pages} pages, {rate:.1f} pages/s (regions {1000 * t_regions / args.pages:.1f} ms/page, "
            f"render {1000 * t_render / args.pages:.1f} ms/page, CPU {1000 * cpu_text:.1f} ms/page); "
            f"target {TEXT_TARGET:.0f} pages/s, "
            f"ratio {rate / TEXT_TARGET:.2f}"
        )
        scan_src = Path(tmp) / "ocr_src.pdf"
        make_pdf(scan_src, _specs(args.ocr_pages))
        scan = rasterize_pdf(scan_src, Path(tmp) / "scan.pdf", dpi=args.dpi)
        c0 = cpu_seconds()
        rate, n_regions = ocr_rate(scan, args.dpi)
        cpu_ocr = (cpu_seconds() - c0) / args.ocr_pages
        print(
            f"OCR: {args.ocr_pages} pages, {rate:.2f} pages/s ({n_regions} regions, CPU {cpu_ocr:.2f} s/page, "
            f"{os.cpu_count()} cores busy would give {(os.cpu_count() or 1) / cpu_ocr:.2f} pages/s); "
            f"target {OCR_TARGET} pages/s, "
            f"ratio {rate / OCR_TARGET:.2f}"
        )


if __name__ == "__main__":
    main()
