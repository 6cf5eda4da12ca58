"""The queries of :func:`tracemine.retention.prune`: which runs cite which traces, the prune plan (temp
tables ``prune_old``, ``prune_drop``, ``prune_runs``), what it would drop, and the deletion itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracemine.store.archive import Store

_MIN_NS, _MAX_NS = -(2**63), 2**63 - 1


def citing_runs(store: Store, cutoff_ns: int) -> list[tuple[int, int | None]]:
    """``(run_id, detect_id)`` of the runs whose citations are kept: started at or after the cutoff, and
    the latest run with findings."""
    if not store.has_tables("mine_runs", "findings"):
        return []
    return [(int(r[0]), r[1]) for r in store.con.execute(
        """SELECT run_id, detect_id FROM mine_runs
           WHERE started_ns >= ? OR run_id = (SELECT max(run_id) FROM findings) ORDER BY run_id""",
        [cutoff_ns]).fetchall()]


def finding_data_of_runs(store: Store, runs: list[int]) -> list[str]:
    """The stored findings (JSON) of ``runs``."""
    return [r[0] for r in store.con.execute("SELECT data FROM findings WHERE run_id IN (SELECT unnest(?))",
                                            [runs]).fetchall()]


def plan(store: Store, cutoff: int, cited: set[str], citing_detect_ids: list[int]) -> None:
    """Temp tables: ``prune_old`` (each trace with a span before the cutoff: its old spans, whether it is
    cited and whether it reaches past the cutoff), ``prune_drop`` (the traces to drop) and
    ``prune_runs`` (detection runs that ended before the cutoff, ``needed`` when they are kept)."""
    con = store.con
    con.execute("CREATE OR REPLACE TEMP TABLE prune_cited (trace_id VARCHAR PRIMARY KEY)")
    if cited:
        con.execute("INSERT INTO prune_cited SELECT unnest(?)", [sorted(cited)])
    con.execute(
        """CREATE OR REPLACE TEMP TABLE prune_old AS
           SELECT trace_id, count(*) FILTER (WHERE time_ns < $1) AS old_spans, max(time_ns) >= $1 AS straddles,
                  trace_id IN (SELECT trace_id FROM prune_cited) AS cited
           FROM spans GROUP BY trace_id HAVING min(time_ns) < $1""", [cutoff])
    con.execute("CREATE OR REPLACE TEMP TABLE prune_drop AS "
                "SELECT trace_id FROM prune_old WHERE NOT cited AND NOT straddles")
    # the run `show` takes each kept trace's flags from, and the runs the citing runs found findings in
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE prune_runs AS
            WITH shown AS (
                SELECT max(r.detect_id) AS detect_id
                FROM (SELECT trace_id, time_ns FROM spans ANTI JOIN prune_drop USING (trace_id)) s
                JOIN detect_runs r ON s.time_ns >= coalesce(r.since_ns, {_MIN_NS})
                                  AND s.time_ns < coalesce(r.until_ns, {_MAX_NS})
                GROUP BY s.trace_id)
            SELECT detect_id, detect_id IN (SELECT detect_id FROM shown) OR detect_id IN (SELECT unnest($2)) AS needed
            FROM detect_runs
            WHERE coalesce(until_ns, created_ns) < $1 AND detect_id <> (SELECT max(detect_id) FROM detect_runs)""",
        [cutoff, citing_detect_ids])


def _orphan_cluster_runs(store: Store) -> str | None:
    """SQL selecting the cluster runs whose detection run is gone (``None`` without cluster tables)."""
    if not store.has_tables("cluster_runs", "clusters"):
        return None
    return ("SELECT cluster_run_id FROM cluster_runs WHERE detect_id IS NOT NULL AND (detect_id NOT IN "
            "(SELECT detect_id FROM detect_runs) OR detect_id IN (SELECT detect_id FROM prune_runs WHERE NOT needed))")


_GONE_RUNS = "detect_id IN (SELECT detect_id FROM prune_runs WHERE NOT needed)"
_GONE_SIGNALS = f"{_GONE_RUNS} OR trace_id IN (SELECT trace_id FROM prune_drop)"


@dataclass
class PlannedPrune:
    """What the plan (:func:`plan`) drops and keeps."""

    traces_deleted: int
    spans_deleted: int
    cited_traces: int
    spans_kept_for_citations: int
    straddling_traces: int
    spans_kept_whole: int
    detect_runs_kept: list[int]
    detect_runs_deleted: int
    signals_deleted: int
    cluster_runs_deleted: int
    trace_records_deleted: int


def planned(store: Store) -> PlannedPrune:
    """Count what the plan drops and keeps."""
    counts = store.one(
        """SELECT count(*) FILTER (WHERE NOT cited AND NOT straddles), sum(old_spans) FILTER (WHERE NOT cited AND NOT straddles),
                  count(*) FILTER (WHERE cited), sum(old_spans) FILTER (WHERE cited),
                  count(*) FILTER (WHERE straddles AND NOT cited), sum(old_spans) FILTER (WHERE straddles AND NOT cited)
           FROM prune_old""")
    traces, spans, cited, cited_spans, straddling, whole = (int(c or 0) for c in counts or (0,) * 6)
    orphans = _orphan_cluster_runs(store)
    return PlannedPrune(
        traces_deleted=traces, spans_deleted=spans, cited_traces=cited, spans_kept_for_citations=cited_spans,
        straddling_traces=straddling, spans_kept_whole=whole,
        detect_runs_kept=[int(r[0]) for r in store.con.execute(
            "SELECT detect_id FROM prune_runs WHERE needed ORDER BY 1").fetchall()],
        detect_runs_deleted=int(store.scalar("SELECT count(*) FROM prune_runs WHERE NOT needed") or 0),
        signals_deleted=int(store.scalar(f"SELECT count(*) FROM signals WHERE {_GONE_SIGNALS}") or 0),
        cluster_runs_deleted=int(store.scalar(f"SELECT count(*) FROM ({orphans})") or 0) if orphans else 0,
        trace_records_deleted=int(store.scalar(
            "SELECT count(*) FROM traces WHERE trace_id IN (SELECT trace_id FROM prune_drop) "
            "OR trace_id NOT IN (SELECT trace_id FROM spans)") or 0),
    )


def execute_plan(store: Store) -> None:
    """Delete what the plan drops, in one transaction, then checkpoint (the file shrinks)."""
    con = store.con
    orphans = _orphan_cluster_runs(store)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM spans WHERE trace_id IN (SELECT trace_id FROM prune_drop)")
        con.execute("DELETE FROM traces WHERE trace_id NOT IN (SELECT trace_id FROM spans)")
        con.execute(f"DELETE FROM signals WHERE {_GONE_SIGNALS}")
        if orphans:
            con.execute(f"DELETE FROM clusters WHERE cluster_run_id IN ({orphans})")
            con.execute(f"DELETE FROM cluster_runs WHERE cluster_run_id IN ({orphans})")
            con.execute("DELETE FROM clusters WHERE cluster_run_id NOT IN (SELECT cluster_run_id FROM cluster_runs)")
        con.execute(f"DELETE FROM detect_runs WHERE {_GONE_RUNS}")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    con.execute("CHECKPOINT")
