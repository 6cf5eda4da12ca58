"""Execution backends: who runs the per-shard stage functions (see ARCHITECTURE.md, 'Backends and shards').

Ingest, detect and embed run per unit of work — an input file or byte range, a Parquet partition, a
trace shard, a chunk of unique texts — through *the same stage functions* whatever the backend:

- ingest: :func:`tracemine.ingest.loader.run_task` per file task, :func:`tracemine.export.read_partition`
  per Parquet partition;
- detect: :func:`tracemine.detect.runner.detect_window` maps ``observe_task`` over the trace shards
  through :meth:`Backend.map`, merges the statistics (in shard order) on the driver, shares the
  finalised detectors (:meth:`Backend.share`) and maps ``detect_task``; signals are put back in
  trace-id order, so they, and the findings built from them, are the same as one pass's;
- embed: :func:`tracemine.embed.embed_texts` deduplicates and looks up the vector cache on the driver;
  only the missing unique texts are encoded, chunk by chunk, by ``Embedder.encode``.

:class:`LocalBackend` runs them in this process (one shard by default: exactly
:func:`~tracemine.detect.runner.run_detection`); :class:`~tracemine.backends.ray.RayBackend` runs them
as Ray tasks (and embedding actors) over Parquet shard partitions exported from the archive. The DuckDB
archive stays the single source of truth on the driver; clustering, summarising and ranking run there
on the gathered signals and vectors.

>>> import tracemine
>>> tracemine.mine(["./traces"], backend="ray")                      # doctest: +SKIP
>>> from tracemine.backends.ray import RayBackend
>>> tracemine.mine(db="a.duckdb", backend=RayBackend(address="auto", shards=64))  # doctest: +SKIP

Ray is optional (``pip install "tracemine[ray]"``) and imported only when a Ray backend starts.
"""

from __future__ import annotations

from typing import Any

from tracemine.backends.base import Backend, BackendError
from tracemine.backends.local import LocalBackend

BACKENDS = ("local", "ray")


def get_backend(spec: str | Backend | None = None, address: str | None = None,
                settings: dict[str, Any] | None = None) -> Backend:
    """A backend from a name (``"local"``, ``"ray"``) or an instance (returned as it is).

    ``address`` is the Ray cluster (``auto``, ``ray://host:10001``; default: ``RAY_ADDRESS`` or a local
    Ray instance); ``settings`` the ``backend:`` section of the YAML settings (``shards``,
    ``spans_per_shard``, ``staging``, ``embed_actors``, ``num_cpus``)."""
    if isinstance(spec, Backend):
        return spec
    name = (spec or "local").strip().lower()
    options = dict(settings or {})
    if name == "local":
        return LocalBackend(shards=int(options.get("shards", 1) or 1))
    if name == "ray":
        from tracemine.backends.ray import RayBackend

        allowed = {"shards", "spans_per_shard", "staging", "embed_actors", "num_cpus", "address"}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise BackendError(f"unknown backend settings {unknown}; allowed: {sorted(allowed)}")
        address = address or options.pop("address", None)
        options.pop("address", None)
        return RayBackend(address=address, **options)
    raise BackendError(f"unknown backend {spec!r}; choose one of {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "Backend", "BackendError", "LocalBackend", "get_backend"]
