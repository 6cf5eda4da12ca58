"""The local backend: every stage function runs in this process (ingest keeps its own process pool)."""

from __future__ import annotations

from tracemine.backends.base import Backend


class LocalBackend(Backend):
    """In-process. ``shards=1`` (the default) runs detection exactly as
    :func:`~tracemine.detect.runner.run_detection`; more shards run the sharded passes one shard after
    the other (the Ray backend's code path, in-process: useful to check that sharding changes nothing)."""

    name = "local"

    def __init__(self, shards: int = 1) -> None:
        if shards < 1:
            raise ValueError(f"shards must be positive, got {shards}")
        self.shards = shards

    def detect_shards(self, spans: int) -> int:
        return self.shards
