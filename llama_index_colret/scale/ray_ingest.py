"""Ingest on a Ray cluster: the local pipeline's per-document steps (`documents.py`) spread over Ray Data.

PDF paths -> a preparation task per document (CPU: hash, skip when stored, count pages, then each chunk's
regions, render and PNGs, yielded one chunk at a time) -> model actors, one model each (a GPU each when the
cluster has GPUs), embedding a chunk with the same batches as local ingest -> the driver, which claims the
document in the store when its first chunk arrives (`PageStore.begin_document`), stages each chunk
(`DocumentWriter.write_chunk`) and publishes the document in one commit when its last chunk is in.

Writes stay on the driver, through the store's one write path: the same table and schema as local ingest,
content-hash dedup, claims that keep two writers from doubling a document, readers that only see whole
documents; the driver spends milliseconds per page where a model spends 0.05-17 s. lance-ray (PyPI 0.5)
writes Ray Data blocks as Lance fragments committed once at the end of a job: it would bypass that write path
(claims, staging, metadata columns) and a killed job would commit nothing, so it does not fit.

Resuming: a file whose hash is stored is skipped in its preparation task, before it is rendered or embedded
(the hashes are read once at the start); a killed actor is restarted by Ray Data and its chunk retried; a killed
driver leaves whole documents and stages that the next run resumes (pages it staged are not staged twice,
though the Ray engine renders and embeds them again: it learns what is staged only when it claims).
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
from typing import Any

from tqdm.auto import tqdm

from ..documents import (
    Chunk,
    DocumentOutcome,
    MetadataSpec,
    OpenDocument,
    claim_document,
    embed_chunk,
    finish,
    n_chunks,
    prepared_chunks,
    stage_chunk,
)
from ..embed.types import Embedder
from ..errors import ClusterError, IndexMismatchError
from ..store.lance import PageStore

logger = logging.getLogger(__name__)
RAY_EXTRA = "pip install 'llama-index-colret[ray]'"
ACTOR_TASK_RETRIES = 3  # a chunk that kills its actor this many times fails the run instead of looping
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
        """Refuse counts no cluster can honour (ValueError naming the field)."""
        if self.num_actors is not None and self.num_actors < 1:
            raise ValueError(f"num_actors must be at least 1, got {self.num_actors}")
        for name in ("cpus_per_actor", "cpus_per_task"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.gpus_per_actor is not None and self.gpus_per_actor < 0:
            raise ValueError(f"gpus_per_actor must be >= 0, got {self.gpus_per_actor}")


class StoredHashes:
    """The stored ``content_hash -> doc_id`` read once on the driver: the ``has_document`` of preparation tasks
    (they cannot hold the table), so a stored file is skipped before it is loaded or embedded."""

    def __init__(self, known: Mapping[str, str]) -> None:
        """Hold a copy of ``known`` (it is pickled into every preparation task)."""
        self.known = dict(known)

    def has_document(self, content_hash: str) -> str | None:
        """The doc_id stored under ``content_hash`` when this run started, or None."""
        return self.known.get(content_hash)


def index_with_ray(
    paths: Sequence[Path],
    store: PageStore,
    embedder: Embedder,
    settings: Mapping[str, Any],
    metadata: MetadataSpec,
    batch_pages: int,
    options: RayOptions,
    show_progress: bool = True,
) -> list[DocumentOutcome]:
    """Index ``paths`` on Ray with the preparation ``settings`` (``dpi``, ``ocr``, ``password``,
    ``chunk_pages``); one outcome per path, in the order of ``paths``.

    Documents are claimed, staged and published by this process as their chunks arrive; an interrupted run
    (or any error the steps do not turn into a failed document) leaves whole documents and resumable stages."""
    ray = _ray(options.address)
    if not paths:
        return []
    stored = StoredHashes({d.content_hash: d.doc_id for d in store.documents()})
    prepare = partial(prepared_chunks, stored=stored, **settings)
    factory = options.embedder_factory or default_factory(embedder)
    run = _Run(store, metadata, int(settings["chunk_pages"]))
    try:
        with (
            _quiet_ray_data(ray),
            tqdm(total=len(paths), unit="doc", desc="indexing (ray)", disable=not show_progress) as bar,
        ):
            for i, chunk in _results(_dataset(ray, paths, prepare, factory, batch_pages, options), store):
                outcome = run.take(i, chunk)
                if outcome is not None:
                    bar.set_postfix(pages=run.pages, refresh=False)
                    bar.update(1)
    finally:  # an interrupted run leaves its stages to be resumed by the next one
        run.release()
    return [run.outcomes[i] for i in range(len(paths))]


class _Run:
    """The driver's side of a run: the claimed documents, their chunks still to come, and the outcomes."""

    def __init__(self, store: PageStore, metadata: MetadataSpec, chunk_pages: int) -> None:
        """Nothing open yet; ``chunk_pages`` tells how many chunks each document arrives in."""
        self.store, self.metadata, self.chunk_pages = store, metadata, chunk_pages
        self.open: dict[int, tuple[OpenDocument, int]] = {}  # path index -> (claimed document, chunks to come)
        self.outcomes: dict[int, DocumentOutcome] = {}
        self.seen: set[str] = set()  # content hashes claimed in this run: a file listed twice is a duplicate
        self.pages = 0

    def take(self, i: int, chunk: Chunk) -> DocumentOutcome | None:
        """Account for one embedded chunk of path ``i``: claim on its first chunk, stage, publish on its last;
        the document's outcome once it has one."""
        if i in self.outcomes:
            return None  # a document that needed no more work (busy, stored, failed): later chunks are moot
        if i not in self.open:
            doc = (
                chunk.doc
                if chunk.doc.outcome is not None
                else claim_document(chunk.doc, self.store, self.metadata, self.seen)
            )
            self.open[i] = (doc, n_chunks(doc.n_pages, self.chunk_pages))
        doc, left = self.open[i]
        if doc.outcome is None:
            doc.error = doc.error or chunk.doc.error  # a preparation or embedding failure on the worker
            stage_chunk(chunk, doc)
            left -= 1
        if doc.outcome is None and left > 0 and doc.error is None:
            self.open[i] = (doc, left)
            return None
        del self.open[i]
        outcome = finish(doc, self.store)
        if outcome.status == "failed":
            logger.warning("skipped %s", outcome.describe())
        self.outcomes[i] = outcome
        self.pages += outcome.n_pages
        return outcome

    def release(self) -> None:
        """Stop writing the documents still open, keeping their stages for the next run."""
        for doc, _ in self.open.values():
            if doc.writer is not None:
                doc.writer.release()


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
    prepare: Callable[[Path], Iterator[Chunk]],
    factory: Callable[[], Embedder],
    batch_pages: int,
    options: RayOptions,
) -> Any:
    """The Ray Data plan: one preparation task per document, then the model actors (never fused into one)."""
    gpus = options.gpus_per_actor
    cluster_gpus = int(ray.cluster_resources().get("GPU", 0))
    if gpus is None:
        gpus = 1.0 if cluster_gpus else 0.0
    items = [{"index": i, "path": str(p)} for i, p in enumerate(paths)]
    ds = ray.data.from_items(items, override_num_blocks=len(items))
    # Ray Data fuses a task operator into the next actor operator when their remote arguments agree; max_calls
    # (a fresh preparation worker every PREPARE_CALLS documents, bounding what pdfium or Tesseract may leak)
    # keeps preparation in its own CPU tasks, so rendering and OCR overlap with the model
    ds = ds.map_batches(
        _prepare_batch,
        batch_size=1,
        fn_kwargs={"prepare": prepare},
        num_cpus=options.cpus_per_task,
        max_calls=PREPARE_CALLS,
    )
    with warnings.catch_warnings():  # max_task_retries has no named parameter yet (the extra pins ray < 2.64)
        warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated", category=DeprecationWarning)
        return ds.map(
            EmbedActor,
            fn_constructor_kwargs={"factory": factory, "batch_pages": batch_pages},
            compute=ray.data.ActorPoolStrategy(size=options.num_actors or max(1, cluster_gpus)),
            num_cpus=options.cpus_per_actor,
            num_gpus=gpus,
            max_task_retries=ACTOR_TASK_RETRIES,
        )


def _prepare_batch(batch: dict[str, Any], prepare: Callable[[Path], Iterator[Chunk]]) -> Iterator[dict[str, list[Any]]]:
    """A preparation task over one document: each prepared chunk, pickled, as soon as it is ready (so a worker
    holds one chunk's PNGs at a time)."""
    for i, path in zip(batch["index"], batch["path"], strict=True):
        for chunk in prepare(Path(str(path))):
            yield {"index": [int(i)], "chunk": [pickle.dumps(chunk)]}


class EmbedActor:
    """A model actor: builds its embedder once, then embeds each prepared chunk that needs the model."""

    def __init__(self, factory: Callable[[], Embedder], batch_pages: int) -> None:
        """Load this actor's model (once: Ray Data reuses the actor for many chunks)."""
        self.embedder = factory()
        self.batch_pages = batch_pages

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        """The chunk with its embeddings (a stored or failed document passes through) and the model's identity."""
        chunk = embed_chunk(pickle.loads(row["chunk"]), self.embedder, self.batch_pages)
        identity = (self.embedder.model_name, getattr(self.embedder, "model_id", None), int(self.embedder.dim))
        return {"index": row["index"], "chunk": pickle.dumps((chunk, identity))}


def _results(rows: Any, store: PageStore) -> Iterator[tuple[int, Chunk]]:
    """``(path index, embedded chunk)`` as the actors finish; `IndexMismatchError` when an actor's model is not
    the index's (before anything it embedded is staged)."""
    for row in rows.iter_rows():
        chunk, (model, model_id, dim) = pickle.loads(row["chunk"])
        if chunk.embeddings:
            store.check_model(model, model_id)  # the same model under any path; other weights are refused
            if dim != store.dim:
                raise IndexMismatchError(
                    f"{store.uri}: the index holds {store.dim}-d vectors; a Ray actor gives {dim}-d"
                )
        yield int(row["index"]), chunk


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
