"""The Ray backend: the same stage functions as Ray tasks, over Parquet shard partitions.

- ingest: each file task (:func:`tracemine.ingest.loader.run_task`) and each Parquet partition
  (:func:`tracemine.export.read_partition`) is a Ray task returning Arrow tables through the object
  store; the driver appends them to the DuckDB archive in task order (so the archive is the same as a
  local ingest's, duplicates included);
- detect: the window's traces are exported from the archive as Parquet partitions by trace shard
  (``backend.staging``: a folder next to the archive by default, or a URL every worker can read, e.g.
  ``s3://bucket/tracemine-staging``); one task per shard runs the first pass, the driver merges the
  statistics in shard order, one task per shard runs the second pass;
- embed: the driver deduplicates and looks up the vector cache; the missing texts go to embedding
  actors (one model load per actor) in slices of whole model batches.

Settings (``backend:`` in the YAML settings, or keyword arguments): ``shards`` (default: 2 per worker
CPU, more when a shard would exceed ``spans_per_shard`` = 500,000 spans), ``staging``, ``embed_actors``
(default: the cluster's CPUs, at most 8), ``num_cpus`` (for a Ray instance started here).
On a remote cluster (``ray://host:10001``) the workers need tracemine installed (same version) and a
``staging`` URL they can read.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from tracemine.backends.base import Backend, BackendError
from tracemine.backends.shards import default_shards

if TYPE_CHECKING:
    from tracemine.config import IngestSettings
    from tracemine.ingest.loader import IngestReport
    from tracemine.store import Store

T = TypeVar("T")
R = TypeVar("R")

INSTALL_HINT = 'the Ray backend needs Ray: pip install "tracemine[ray]"  (or: pip install "ray[data]>=2.30")'


def require_ray() -> Any:
    """The ``ray`` module, or a :class:`BackendError` saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise BackendError(INSTALL_HINT) from exc
    return ray


class RayBackend(Backend):
    """Ray tasks and actors on a local Ray instance or a cluster (``address``: ``auto``, ``ray://…``)."""

    name = "ray"

    def __init__(self, address: str | None = None, shards: int | None = None, spans_per_shard: int = 500_000,
                 staging: str | None = None, embed_actors: int | None = None, num_cpus: int | None = None) -> None:
        self.address = address
        self.shards = shards
        self.spans_per_shard = spans_per_shard
        self.staging = staging
        self.embed_actors = embed_actors
        self.num_cpus = num_cpus
        self._ray: Any = None
        self._started_ray = False
        self._actors: list[Any] = []
        self._remote: dict[Any, Any] = {}

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._ray is not None:
            return
        ray = require_ray()
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "ignore_reinit_error": True,
                                       "logging_level": "WARNING", "log_to_driver": False}
            address = self.address or os.environ.get("RAY_ADDRESS")
            if address:
                options["address"] = address
            elif self.num_cpus:
                options["num_cpus"] = self.num_cpus
            try:
                ray.init(**options)
            except Exception as exc:  # ConnectionError, a bad address, a cluster of another version
                raise BackendError(f"cannot start or reach Ray ({address or 'local'}): {exc}") from exc
            self._started_ray = True
        self._ray = ray

    def close(self) -> None:
        ray = self._ray
        if ray is None:
            return
        for actor in self._actors:
            with contextlib.suppress(Exception):
                ray.kill(actor)
        self._actors = []
        self._remote = {}
        if self._started_ray:
            ray.shutdown()
        self._ray = None
        self._started_ray = False

    @property
    def workers(self) -> int:
        """CPUs of the Ray cluster."""
        self.start()
        return max(1, int(self._ray.cluster_resources().get("CPU", 1)))

    # -- who runs the work -----------------------------------------------------------------------------

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """``fn`` over ``items`` as Ray tasks (one CPU each), at most two per CPU in flight, results in
        ``items``' order."""
        self.start()
        ray = self._ray
        remote = self._remote.get(fn)
        if remote is None:
            remote = self._remote[fn] = ray.remote(num_cpus=1, max_retries=1)(fn)
        window = 2 * self.workers
        pending: deque[Any] = deque()
        iterator = iter(items)
        for item in iterator:
            pending.append(remote.remote(item))
            if len(pending) >= window:
                break
        while pending:
            result = ray.get(pending.popleft())
            nxt = next(iterator, _END)
            if nxt is not _END:
                pending.append(remote.remote(nxt))
            yield result

    def share(self, blob: bytes) -> Any:
        self.start()
        return self._ray.put(blob)

    def detect_shards(self, spans: int) -> int:
        return self.shards or default_shards(spans, self.workers, self.spans_per_shard)

    def staging_root(self, store: Store) -> str:
        if not self.staging:
            return super().staging_root(store)
        if "://" in self.staging:
            return f"{self.staging.rstrip('/')}/tracemine-shards-{uuid.uuid4().hex}"
        os.makedirs(self.staging, exist_ok=True)
        return tempfile.mkdtemp(prefix=".tracemine-shards-", dir=self.staging)

    def ingest_files(self, paths: list[str], store: Store, settings: IngestSettings | None,
                     progress: Callable[[int, int], None] | None, partitions: Sequence[str] = ()) -> IngestReport:
        """:func:`tracemine.ingest.loader.ingest_paths` with its file tasks and Parquet partitions run as
        Ray tasks."""
        from tracemine.ingest import loader

        def ray_results(tasks: Iterable[Any], total: int, settings: Any, ingest_id: int, fallback_time_ns: int,
                        spill_dir: str) -> Iterator[Any]:
            return self.map(_run_ingest_task, ((task, settings, ingest_id, fallback_time_ns) for task in tasks))

        return loader.ingest_paths(paths, store, settings, progress, results=ray_results, partitions=partitions,
                                   map_partitions=self.map)

    def embedder(self, embedder: Any) -> Any:
        """The built-in model's ``encode`` on embedding actors; another embedder encodes on the driver."""
        from tracemine.embed.model import Embedder

        return _RayEncoder(embedder, self) if isinstance(embedder, Embedder) else embedder

    def embed_chunk(self) -> int:
        from tracemine.embed.batch import DEFAULT_CHUNK

        return DEFAULT_CHUNK * self._actor_count()

    # -- embedding actors ------------------------------------------------------------------------------

    def _actor_count(self) -> int:
        return max(1, self.embed_actors or min(self.workers, 8))

    def _embed_actors(self, embedder: Any) -> list[Any]:
        if not self._actors:
            ray = self._ray
            actor = ray.remote(num_cpus=1)(_EmbedWorker)
            config = {"model": str(embedder.model) if embedder.model is not None else None,
                      "batch_size": embedder.batch_size, "precision": embedder.precision,
                      "max_seq_length": embedder.max_seq_length}
            self._actors = [actor.remote(config) for _ in range(self._actor_count())]
        return self._actors


_END = object()


def _run_ingest_task(args: tuple[Any, Any, int, int]) -> Any:
    """One ingest file task on a Ray worker (Arrow tables returned through the object store)."""
    from tracemine.ingest.loader import run_task

    task, settings, ingest_id, fallback_time_ns = args
    return run_task(task, settings, ingest_id, fallback_time_ns, None)


class _EmbedWorker:
    """A Ray actor holding one loaded model (one CPU thread)."""

    def __init__(self, config: dict[str, Any]) -> None:
        from tracemine.embed import Embedder

        self.embedder = Embedder(threads=1, **config)

    def encode(self, texts: list[str]) -> tuple[np.ndarray, float]:
        before = self.embedder.load_seconds
        vectors = self.embedder.encode(texts)
        return vectors, self.embedder.load_seconds - before


class _RayEncoder:
    """Looks like an :class:`~tracemine.embed.Embedder` to :func:`~tracemine.embed.embed_texts` (same
    ``model_id``, so the same vector cache) but encodes each chunk on the embedding actors, split into
    whole model batches in order."""

    def __init__(self, embedder: Any, backend: RayBackend) -> None:
        self.inner = embedder
        self.backend = backend
        self.load_seconds = 0.0
        self.last_stats: Any = None
        self._dim: int | None = None

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dim(self) -> int | None:
        return self._dim

    def encode(self, texts: list[str]) -> np.ndarray:
        ray = self.backend._ray
        actors = self.backend._embed_actors(self.inner)
        batch = self.inner.batch_size
        per = max(batch, math.ceil(len(texts) / len(actors) / batch) * batch)
        refs = [actors[i % len(actors)].encode.remote(texts[start:start + per])
                for i, start in enumerate(range(0, len(texts), per))]
        parts = ray.get(refs)
        self.load_seconds += max((load for _, load in parts), default=0.0)
        vectors = np.concatenate([v for v, _ in parts]) if parts else np.zeros((0, self._dim or 0), np.float32)
        self._dim = int(vectors.shape[1]) if vectors.ndim == 2 and len(vectors) else self._dim
        return vectors
