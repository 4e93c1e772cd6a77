"""A long PDF through `index_pdfs` in chunks: peak memory against the document length, and a SIGKILL near the
end followed by a re-run (pages redone). Prints the figures and the ratio of the long run's peak RSS to the
short run's (target: about 1, memory bounded by the chunk, not the document).

Usage: ``python benchmarks/long_document.py [--pages 1500] [--short 150] [--chunk 64] [--dpi 50]``
(tiny random ColQwen2 built offline; each run is a subprocess so ``ru_maxrss`` is its own).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from llama_index_colret.testing.pdfgen import PageSpec, make_pdf, sample_paragraphs
from llama_index_colret.testing.tiny_models import build_tiny_model

RUN = """
import os, resource, signal, sys
from llama_index_colret.embed.embedder import ColEmbedder
from llama_index_colret.pipeline import index_pdfs
from llama_index_colret.store.lance import PageStore
model, db, pdf, chunk, dpi, kill_after = sys.argv[1:7]
inner = ColEmbedder.from_pretrained(model, batch_size=16)
class Counting:
    model_name, dim, model_id, pages = inner.model_name, inner.dim, inner.model_id, 0
    def embed_pages(self, images, show_progress=False):
        Counting.pages += len(images)
        if int(kill_after) and Counting.pages > int(kill_after):
            os.kill(os.getpid(), signal.SIGKILL)
        return inner.embed_pages(images)
store = PageStore.create(db, model_name=inner.model_name, dim=inner.dim, model_id=inner.model_id)
r = index_pdfs([pdf], store, Counting(), show_progress=False, batch_pages=16, chunk_pages=int(chunk), dpi=int(dpi))
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"embedded {Counting.pages} pages, stored {store.count()}, status {r.outcomes[0].status}, peak RSS {rss:.0f} MiB")
"""


def run(model: Path, db: Path, pdf: Path, chunk: int, dpi: int, kill_after: int = 0) -> tuple[int, str, float]:
    """One indexing subprocess: its return code, its last line and its wall time."""
    start = time.perf_counter()
    argv = [str(model), str(db), str(pdf), str(chunk), str(dpi), str(kill_after)]
    proc = subprocess.run([sys.executable, "-c", RUN, *argv], capture_output=True, text=True)
    lines = (proc.stdout or proc.stderr).strip().splitlines() or [""]
    return proc.returncode, lines[-1], time.perf_counter() - start


def main() -> None:
    """Build the PDFs, run short, long, killed and resumed, and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=1500)
    ap.add_argument("--short", type=int, default=150)
    ap.add_argument("--chunk", type=int, default=64)
    ap.add_argument("--dpi", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = build_tiny_model("colqwen2", root / "model")
        pdfs = {}
        for name, n in (("short", args.short), ("long", args.pages)):
            pdfs[name] = root / f"{name}.pdf"
            make_pdf(pdfs[name], [PageSpec(paragraphs=sample_paragraphs(1, seed=i % 50)) for i in range(n)])
        peaks = {}
        for name in ("short", "long"):
            code, line, wall = run(model, root / f"db-{name}", pdfs[name], args.chunk, args.dpi)
            print(f"{name} ({name == 'long' and args.pages or args.short} pages): rc {code}, {line}, {wall:.1f} s")
            peaks[name] = float(line.rsplit("peak RSS ", 1)[1].split()[0]) if "peak RSS" in line else float("nan")
        print(f"peak RSS long / short: {peaks['long'] / peaks['short']:.2f} (target about 1)")
        kill_at = args.pages - args.chunk // 2 - 10  # inside the last chunk or the one before
        code, line, wall = run(model, root / "db-kill", pdfs["long"], args.chunk, args.dpi, kill_after=kill_at)
        print(f"killed after embedding {kill_at}+ pages: rc {code} ({wall:.1f} s)")
        code, line, wall = run(model, root / "db-kill", pdfs["long"], args.chunk, args.dpi)
        print(f"re-run: rc {code}, {line}, {wall:.1f} s (at most one chunk = {args.chunk} pages should be redone)")


if __name__ == "__main__":
    main()
