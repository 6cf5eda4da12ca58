"""What every backend does the same way; a backend only runs work: who runs a function over items
(:meth:`Backend.map`), how an object is shared with them (:meth:`Backend.share`), how many trace shards
there are, where shard partitions are staged and which ``encode`` the embedding stage calls. Sharded
detection itself lives in :func:`tracemine.detect.runner.detect_window`."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tracemine.errors import MineError

if TYPE_CHECKING:
    import numpy as np

    from tracemine.config import IngestSettings
    from tracemine.ingest.loader import IngestReport
    from tracemine.store import Store

T = TypeVar("T")
R = TypeVar("R")


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

