"""Ingest on a Ray cluster: the local pipeline's per-document steps spread over Ray Data.

PDF paths -> ``prepare`` (hash, stored-hash lookup, regions, render, PNG encode) in CPU tasks, one per
document -> ``embed`` on actors, one model each (a GPU each when the cluster has GPUs) -> ``write`` on the
driver, one `PageStore.add_document` per document. The steps are the local pipeline's own functions, handed
in by `pipeline.index_pdfs` (this module never imports the pipeline, so no import cycle).

Writes stay on the driver: each document is committed by the same ``add_document`` as local ingest (same
schema, content-hash dedup, metadata columns, full-text index), so it is whole or absent by construction, and
the driver spends milliseconds per page where a model spends 0.05-17 s. lance-ray (PyPI 0.5) writes Ray Data
blocks as Lance fragments committed once at the end of the job: it bypasses ``add_document`` (its dedup and
metadata columns) and a killed job commits nothing, so it does not fit a resumable, document-atomic ingest.

Resuming: a file whose hash is stored is skipped in its preparation task, before any model sees it (the
hashes are read once from the table at the start); a killed actor is restarted by Ray Data and its document
retried; a killed driver leaves only whole documents and the next run skips them.
"""

from __future__ import annotations

import logging
import pickle
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from tqdm.auto import tqdm

from ..embed.types import Embedder, PageEmbedding
from ..errors import ClusterError, IndexMismatchError
from ..store.lance import PageStore

if TYPE_CHECKING:
    from ..pipeline import DocumentOutcome, MetadataSpec, PreparedDocument

logger = logging.getLogger(__name__)
RAY_EXTRA = "pip install 'llama-index-colret[ray]'"
ACTOR_TASK_RETRIES = 3  # a document that kills its actor this many times fails the run instead of looping
PREPARE_CALLS = 32  # documents a preparation worker process handles before Ray replaces it


@dataclass(frozen=True)
class RayOptions:
    """How the Ray engine uses the cluster.

    ``address``: `ray.init` address (None: the cluster this process already joined, ``RAY_ADDRESS``, a
    ``ray start`` cluster on this machine, or a new local one). ``num_actors``: model actors (None: one per
    GPU, or 1 without GPUs). ``gpus_per_actor`` (None: 1 when the cluster has GPUs, else 0),
    ``cpus_per_actor``, ``cpus_per_task`` (each document's preparation). ``embedder_factory``: a picklable
    zero-argument callable that builds an actor's model (None: the driver's `ColEmbedder` reloaded from its
    name, or any other embedder object shipped as it is).
    """

    address: str | None = None
    num_actors: int | None = None
    gpus_per_actor: float | None = None
    cpus_per_actor: float = 1.0
    cpus_per_task: float = 1.0
    embedder_factory: Callable[[], Embedder] | None = None

    def __post_init__(self) -> None:
        if self.num_actors is not None and self.num_actors < 1:
            raise ValueError(f"num_actors must be at least 1, got {self.num_actors}")
        for name in ("cpus_per_actor", "cpus_per_task"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.gpus_per_actor is not None and self.gpus_per_actor < 0:
            raise ValueError(f"gpus_per_actor must be >= 0, got {self.gpus_per_actor}")


class IngestSteps(NamedTuple):
    """The local pipeline's per-document functions: ``prepare(path, store=lookup)``, ``embed(doc, embedder,
    batch_pages)`` (embeddings or a failed outcome) and ``write(doc, embeddings, store, metadata)``."""

    prepare: Callable[..., PreparedDocument]
    embed: Callable[[PreparedDocument, Embedder, int], list[PageEmbedding] | DocumentOutcome]
    write: Callable[[PreparedDocument, Sequence[PageEmbedding], PageStore, MetadataSpec], DocumentOutcome]


class StoredHashes:
    """The stored ``content_hash -> doc_id`` read once on the driver: the ``has_document`` of preparation tasks
    (they cannot hold the table), so a stored file is skipped before it is loaded or embedded."""

    def __init__(self, known: Mapping[str, str]) -> None:
        self.known = dict(known)

    def has_document(self, content_hash: str) -> str | None:
        """The doc_id stored under ``content_hash`` when this run started, or None."""
        return self.known.get(content_hash)


def index_with_ray(
    paths: Sequence[Path],
    store: PageStore,
    embedder: Embedder,
    steps: IngestSteps,
    *,
    metadata: MetadataSpec,
    batch_pages: int,
    show_progress: bool,
    options: RayOptions,
) -> list[DocumentOutcome]:
    """Run ``steps`` over ``paths`` on Ray; return one outcome per path, in the order of ``paths``.

    Documents are written on this process as their embeddings arrive (whole, one write each); an exception
    other than a per-document library error stops the run with only whole documents written."""
    ray = _ray(options.address)
    if not paths:
        return []
    known = StoredHashes({d.content_hash: d.doc_id for d in store.documents()})
    factory = options.embedder_factory or default_factory(embedder)
    outcomes: dict[int, DocumentOutcome] = {}
    pages = 0
    with (
        _quiet_ray_data(ray),
        tqdm(total=len(paths), unit="doc", desc="indexing (ray)", disable=not show_progress) as bar,
    ):
        rows = _dataset(ray, paths, partial(steps.prepare, store=known), factory, steps.embed, batch_pages, options)
        for i, doc, result in _results(rows, store.model_name, store.dim):
            outcome = result if not isinstance(result, list) else steps.write(doc, result, store, metadata)
            if outcome.status == "failed":
                logger.warning("skipped %s", outcome.describe())
            outcomes[i] = outcome
            pages += outcome.n_pages
            bar.set_postfix(pages=pages, refresh=False)
            bar.update(1)
    return [outcomes[i] for i in range(len(paths))]


def default_factory(embedder: Embedder) -> Callable[[], Embedder]:
    """How an actor gets its model: a `ColEmbedder` is reloaded from its name with its settings (on the actor's
    device); any other embedder is shipped to the actors as it is (it must pickle)."""
    from ..embed.embedder import ColEmbedder

    if isinstance(embedder, ColEmbedder):
        return partial(
            ColEmbedder.from_pretrained,
            embedder.model_name,
            batch_size=embedder.batch_size,
            max_image_tokens=embedder.max_image_tokens,
        )
    return partial(_as_given, embedder)


def _as_given(embedder: Embedder) -> Embedder:
    """The embedder itself (the factory of an embedder shipped by value)."""
    return embedder


def _ray(address: str | None) -> Any:
    """The ``ray`` module, joined to a cluster (`ClusterError` when Ray is missing or the address unreachable)."""
    try:
        import ray
        import ray.data  # noqa: F401  (Ray Data is the `ray[data]` part of the extra)
    except ImportError as exc:
        raise ClusterError(f"engine='ray' needs Ray Data: {RAY_EXTRA} ({exc})") from exc
    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ClusterError(f"cannot join the Ray cluster at {address or 'the default address'}: {exc}") from exc
    return ray


def _dataset(
    ray: Any,
    paths: Sequence[Path],
    prepare: Callable[[Path], PreparedDocument],
    factory: Callable[[], Embedder],
    embed: Callable[[PreparedDocument, Embedder, int], Any],
    batch_pages: int,
    options: RayOptions,
) -> Any:
    """The Ray Data plan: one preparation task per document, then the model actors (never fused into one)."""
    gpus = options.gpus_per_actor
    cluster_gpus = int(ray.cluster_resources().get("GPU", 0))
    if gpus is None:
        gpus = 1.0 if cluster_gpus else 0.0
    n_actors = options.num_actors or max(1, cluster_gpus)
    items = [{"index": i, "path": str(p)} for i, p in enumerate(paths)]
    ds = ray.data.from_items(items, override_num_blocks=len(items))
    # Ray Data fuses a task operator into the next actor operator when their remote arguments agree; max_calls
    # (a fresh preparation worker every PREPARE_CALLS documents, bounding what pdfium or Tesseract may leak)
    # keeps preparation in its own CPU tasks, so rendering and OCR overlap with the model
    ds = ds.map(_prepare_row, fn_kwargs={"prepare": prepare}, num_cpus=options.cpus_per_task, max_calls=PREPARE_CALLS)
    with warnings.catch_warnings():  # max_task_retries has no named parameter yet (the extra pins ray < 2.64)
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated", category=DeprecationWarning)
        return ds.map(
            EmbedActor,
            fn_constructor_kwargs={"factory": factory, "embed": embed, "batch_pages": batch_pages},
            compute=ray.data.ActorPoolStrategy(size=n_actors),
            num_cpus=options.cpus_per_actor,
            num_gpus=gpus,
            max_task_retries=ACTOR_TASK_RETRIES,
        )


def _prepare_row(row: dict[str, Any], prepare: Callable[[Path], PreparedDocument]) -> dict[str, Any]:
    """A preparation task: the prepared document, pickled (pages, regions and PNGs travel as one value)."""
    return {"index": row["index"], "doc": pickle.dumps(prepare(Path(row["path"])))}


class EmbedActor:
    """A model actor: builds its embedder once, then embeds each prepared document that needs the model."""

    def __init__(self, factory: Callable[[], Embedder], embed: Callable[..., Any], batch_pages: int) -> None:
        self.embedder = factory()
        self.embed = embed
        self.batch_pages = batch_pages

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        """``(doc, embeddings or outcome, model name, dim)`` pickled: a stored or failed document passes through."""
        doc = pickle.loads(row["doc"])
        result = doc.outcome or self.embed(doc, self.embedder, self.batch_pages)
        identity = (self.embedder.model_name, int(self.embedder.dim))
        return {"index": row["index"], "doc": pickle.dumps((doc, result, identity))}


def _results(rows: Any, model_name: str, dim: int) -> Iterator[tuple[int, PreparedDocument, Any]]:
    """``(index, doc, embeddings or outcome)`` as the actors finish; `IndexMismatchError` when an actor's model
    is not the index's (before anything it embedded is written)."""
    for row in rows.iter_rows():
        doc, result, (actor_model, actor_dim) = pickle.loads(row["doc"])
        if isinstance(result, list) and (actor_model, actor_dim) != (model_name, dim):
            raise IndexMismatchError(
                f"the index holds {dim}-d vectors of {model_name!r}; a Ray actor loaded {actor_model!r} ({actor_dim}-d)"
            )
        yield int(row["index"]), doc, result


@contextmanager
def _quiet_ray_data(ray: Any) -> Iterator[None]:
    """Ray Data's own progress bars off for the run (the driver shows one bar of documents), then restored."""
    ctx = ray.data.DataContext.get_current()
    saved = ctx.enable_progress_bars
    ctx.enable_progress_bars = False
    try:
        yield
    finally:
        ctx.enable_progress_bars = saved
