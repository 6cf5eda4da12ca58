"""What every backend does the same way; a backend only decides who runs the stage functions
(:meth:`Backend.map`), how many trace shards there are, where shard partitions are staged and which
``encode`` the embedding stage calls."""

from __future__ import annotations

import pickle
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tracemine.pipeline import MineError

if TYPE_CHECKING:
    import numpy as np

    from tracemine.config import IngestSettings
    from tracemine.detect.runner import DetectReport
    from tracemine.ingest.loader import IngestReport
    from tracemine.store import Store
    from tracemine.timewindow import Window

T = TypeVar("T")
R = TypeVar("R")
DetectProgress = Callable[[str, int, int], None]


class BackendError(MineError):
    """A backend cannot run (Ray missing or unreachable, bad backend settings)."""


class Backend:
    """The local behaviour; subclasses override :meth:`map` and friends."""

    name = "local"

    # -- who runs the work -----------------------------------------------------------------------------

    def start(self) -> None:
        """Acquire resources (a Ray connection); called before the first stage."""

    def close(self) -> None:
        """Release what :meth:`start` acquired."""

    def __enter__(self) -> Backend:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """``fn`` over ``items``, results in ``items``' order (in-process here)."""
        return map(fn, items)

    def detect_shards(self, spans: int) -> int:
        """How many trace shards to detect over for a window of ``spans`` (1 = one in-process pass)."""
        return 1

    def share(self, blob: bytes) -> Any:
        """``blob`` as every task of a :meth:`map` should receive it (stored once in Ray's object store)."""
        return blob

    def staging_root(self, store: Store) -> str:
        """A fresh location for a window's shard partitions, readable by whoever runs the shards."""
        base = Path(store.path).resolve().parent if store.path != ":memory:" else None
        return tempfile.mkdtemp(prefix=".tracemine-shards-", dir=base)

    def embedder(self, embedder: Any) -> Any:
        """The object whose ``encode`` the embedding stage calls (the embedder itself here)."""
        return embedder

    def embed_chunk(self) -> int:
        from tracemine.embed.batch import DEFAULT_CHUNK

        return DEFAULT_CHUNK

    # -- stages --------------------------------------------------------------------------------------

    def ingest(self, paths: Sequence[str], store: Store, settings: IngestSettings | None = None,
               progress: Callable[[int, int], None] | None = None) -> IngestReport:
        """Ingest ``paths``: trace files, folders and globs (the ordinary readers), Parquet partitions
        (``tracemine export --parquet`` output or any Parquet file of archive spans) and filesystem URLs
        (``s3://bucket/day=…/``: Parquet read in place, JSON-lines copied to a temporary folder first),
        all through :func:`tracemine.ingest.loader.ingest_paths` as ``tracemine ingest`` reads them."""
        from tracemine.export import fetch_files

        local, parquet, remote = plan_inputs(paths)
        with tempfile.TemporaryDirectory(prefix="tracemine-fetch-") as tmp:
            readable = list(local) + [str(p) for p in fetch_files(remote, tmp)]
            return self.ingest_files(readable, store, settings, progress, partitions=parquet)

    def ingest_files(self, paths: list[str], store: Store, settings: IngestSettings | None,
                     progress: Callable[[int, int], None] | None, partitions: Sequence[str] = ()) -> IngestReport:
        """:func:`tracemine.ingest.loader.ingest_paths` of local ``paths`` (Parquet files among them
        imported as tables) and of ``partitions`` (Parquet URLs), partition reads through :meth:`map`."""
        from tracemine.ingest.loader import ingest_paths

        return ingest_paths(paths, store, settings, progress, partitions=partitions, map_partitions=self.map)

    def detect(self, store: Store, window: Window | None, names: list[str] | None = None,
               settings: dict[str, dict[str, Any]] | None = None, progress: DetectProgress | None = None,
               save: bool = True) -> DetectReport:
        """Run the detectors over ``window`` and store the signals: one pass in-process when
        :meth:`detect_shards` says 1, else the sharded passes through :meth:`map`."""
        from tracemine.detect.runner import run_detection

        spans = store.stats(window).spans
        shards = self.detect_shards(spans)
        if shards <= 1 or spans == 0:
            return run_detection(store, window, names, settings, progress, save)
        return self.detect_sharded(store, window, names, settings, progress, save, shards)

    def detect_sharded(self, store: Store, window: Window | None, names: list[str] | None,
                       settings: dict[str, dict[str, Any]] | None, progress: DetectProgress | None,
                       save: bool, shards: int) -> DetectReport:
        """The window's traces exported as Parquet partitions by shard; first pass per shard, statistics
        merged in shard order and finalised here, second pass per shard; signals in trace-id order."""
        from tracemine.detect.registry import build
        from tracemine.detect.runner import (
            DetectReport,
            merge_stats,
            mergeable,
            observe_shard,
            save_detection,
        )
        from tracemine.export import export_parquet, remove

        started = time.perf_counter()
        detectors = build(names, settings or {})
        report = DetectReport(None, window, [d.name for d in detectors])
        root = self.staging_root(store)
        try:
            staged = export_parquet(store, root, window, shards, by_day=False, row_order=True)
            ids = staged.shard_ids
            total = len(ids)
            fresh = pickle.dumps(detectors)
            if any(d.uses_window_stats for d in detectors) and all(mergeable(d) for d in detectors):
                observed = []
                for done, (stats, shard_report) in enumerate(self.map(_observe_task, [(root, s, fresh) for s in ids]), 1):
                    observed.append(stats)
                    report.absorb(shard_report)
                    if progress:
                        progress("statistics", done, total)
                merge_stats(detectors, observed, report)
            else:
                # a detector keeping statistics it cannot merge: the first pass runs here, over the archive
                observe_shard(store.iter_traces(window), detectors, report)
                merge_stats(detectors, [], report)
            judged = self.share(pickle.dumps(detectors))
            signals = []
            for done, (found, shard_report) in enumerate(self.map(_detect_task, [(root, s, judged) for s in ids]), 1):
                signals.extend(found)
                report.absorb(shard_report)
                if progress:
                    progress("detect", done, total)
        finally:
            remove(root)
        signals.sort(key=lambda s: s.trace_id)  # stable: detector order within a trace is kept
        report.signals = signals
        report.seconds = time.perf_counter() - started
        if save:
            save_detection(store, report)
        return report

    def embed_texts(self, texts: list[str], store: Store | None, embedder: Any,
                    progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """:func:`tracemine.embed.embed_texts` (dedup and vector cache on the driver) with this
        backend's ``encode`` for the missing texts."""
        from tracemine.embed import embed_texts

        runner = self.embedder(embedder)
        vectors = embed_texts(texts, store, runner, progress, chunk_size=self.embed_chunk())
        if runner is not embedder:
            embedder.last_stats = runner.last_stats
        return vectors


# -- shard tasks (module level: a Ray worker imports them by name) ------------------------------------


def _observe_task(args: tuple[str, int, bytes]) -> tuple[list[Any], DetectReport]:
    """First pass over one staged shard: the shard's detectors (with their statistics) and counts."""
    from tracemine.detect.runner import DetectReport, observe_shard
    from tracemine.export import read_shard_traces

    root, shard, blob = args
    detectors = pickle.loads(blob)
    report = DetectReport(None, None, [d.name for d in detectors])
    observe_shard(read_shard_traces(root, shard), detectors, report)
    return detectors, report


def _detect_task(args: tuple[str, int, Any]) -> tuple[list[Any], DetectReport]:
    """Second pass over one staged shard with the merged, finalised detectors (pickled bytes, or a Ray
    object reference to them)."""
    from tracemine.detect.runner import DetectReport, detect_shard
    from tracemine.export import read_shard_traces

    root, shard, blob = args
    if not isinstance(blob, bytes):
        import ray

        blob = ray.get(blob)
    detectors = pickle.loads(blob)
    report = DetectReport(None, None, [d.name for d in detectors])
    signals = detect_shard(read_shard_traces(root, shard), detectors, report)
    return signals, report


# -- inputs ----------------------------------------------------------------------------------------


def plan_inputs(paths: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """``(local paths, remote Parquet partition files, remote text files)`` from what the user gave. Local
    paths are classified by :func:`tracemine.ingest.loader.ingest_paths` (Parquet files among them are
    imported as partitions, as ``tracemine ingest`` does); URLs are listed here."""
    from tracemine.export import TEXT_SUFFIXES, list_files

    local: list[str] = []
    parquet: list[str] = []
    remote: list[str] = []
    for raw in paths:
        if "://" in raw:
            try:
                files = list_files(raw)
            except Exception as exc:  # PartitionError, or a filesystem's own error
                raise MineError(f"cannot list {raw}: {exc}") from exc
            parquet += [f for f in files if f.lower().endswith(".parquet")]
            remote += [f for f in files if f.lower().endswith(TEXT_SUFFIXES)]
            continue
        local.append(raw)
    return local, parquet, remote

