"""Trace shards (see ARCHITECTURE.md, 'Backends and shards'): the unit of parallel work is a hash of the
trace id.

``shard_of`` (Python) and ``shard_sql`` (DuckDB) compute the same number — the first 32 bits of the
MD5 of the trace id, modulo the shard count — so partitions written by DuckDB and shards computed by a
worker always agree, on any machine and any version (unlike DuckDB's ``hash()``).
"""

from __future__ import annotations

import hashlib
import math


def shard_of(trace_id: str, shards: int) -> int:
    """The shard of ``trace_id`` among ``shards``."""
    return int(hashlib.md5(trace_id.encode("utf-8")).hexdigest()[:8], 16) % shards


def shard_sql(shards: int, column: str = "trace_id") -> str:
    """A DuckDB expression equal to :func:`shard_of` of ``column``."""
    return f"(CAST(('0x' || substr(md5({column}), 1, 8)) AS UBIGINT) % {int(shards)})"


def default_shards(spans: int, workers: int, spans_per_shard: int = 500_000) -> int:
    """Shards for a window of ``spans``: at least two per worker (so a slow shard does not idle the
    others), more when a shard would exceed ``spans_per_shard`` (bounds a worker's memory)."""
    return max(1, 2 * max(workers, 1), math.ceil(spans / max(spans_per_shard, 1)))
