"""Cluster results in the archive: one row per clustering run (the whole result as JSON, so it loads
back exactly) and one row per node (for queries, reports and summarisation). The tables are in
:data:`tracemine.store.schema.CLUSTER_DDL`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa

if TYPE_CHECKING:
    from tracemine.cluster.result import ClusterResult
    from tracemine.store.archive import Store

def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY).decode()


def save_clusters(store: Store, result: ClusterResult, detect_id: int | None = None, model: str | None = None) -> int:
    """Store ``result`` in one transaction; returns its ``cluster_run_id``."""
    con = store.con
    nodes = list(result.nodes.values())
    con.execute("BEGIN TRANSACTION")
    try:
        run_id = int(con.execute("SELECT coalesce(max(cluster_run_id), 0) + 1 FROM cluster_runs").fetchall()[0][0])
        con.execute(
            "INSERT INTO cluster_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, time.time_ns(), result.subject, detect_id, model, result.n_items, len(result.leaves),
             len(result.parents), len(result.unclustered), float(result.stats.get("seconds", 0.0)),
             _json(result.to_json())],
        )
        if nodes:
            con.register("cluster_batch", pa.table({
                "cluster_run_id": pa.array([run_id] * len(nodes), pa.int64()),
                "cluster_id": [n.id for n in nodes],
                "subject": [n.subject for n in nodes],
                "level": [n.level for n in nodes],
                "kind": [n.kind for n in nodes],
                "parent_id": [n.parent for n in nodes],
                "size": pa.array([n.size for n in nodes], pa.int64()),
                "traces": pa.array([n.traces for n in nodes], pa.int64()),
                "members": pa.array([n.members for n in nodes], pa.list_(pa.int64())),
                "exemplars": pa.array([n.exemplars for n in nodes], pa.list_(pa.int64())),
                "exemplar_texts": pa.array([n.exemplar_texts for n in nodes], pa.list_(pa.string())),
                "keywords": pa.array([n.keywords for n in nodes], pa.list_(pa.string())),
                "tools": [_json(n.tools) for n in nodes],
                "models": [_json(n.models) for n in nodes],
                "severities": [_json(n.severities) for n in nodes],
                "split": [_json(n.split) for n in nodes],
            }))
            try:
                con.execute("INSERT INTO clusters SELECT * FROM cluster_batch")
            finally:
                con.unregister("cluster_batch")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return run_id


def load_clusters(store: Store, cluster_run_id: int | None = None, subject: str = "signals") -> ClusterResult | None:
    """A stored result: ``cluster_run_id``, or the latest run of ``subject``; ``None`` when there is none
    (works on read-only stores)."""
    if not store.has_tables("cluster_runs"):
        return None
    if cluster_run_id is None:
        row = store.one(
            "SELECT result FROM cluster_runs WHERE subject = ? ORDER BY cluster_run_id DESC LIMIT 1", [subject])
    else:
        row = store.one("SELECT result FROM cluster_runs WHERE cluster_run_id = ?", [cluster_run_id])
    if row is None:
        return None
    from tracemine.cluster.result import ClusterResult  # the cluster package imports this module

    return ClusterResult.from_json(orjson.loads(row[0]))
