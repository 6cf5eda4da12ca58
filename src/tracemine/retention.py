"""Retention: drop old spans while keeping run history and the citations of recent findings.

``prune(store, older_than_ns)`` deletes spans (and the trace rows, signals and cluster runs that refer
only to them) older than the cutoff, except the spans of traces that a finding of a recent run cites —
so every finding still shown or published can be verified with ``tracemine show``. Findings, runs and
ingested-file fingerprints are kept (a pruned file is not ingested again).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass
class PruneReport:
    cutoff_ns: int
    spans_deleted: int
    traces_deleted: int
    spans_kept_for_citations: int
    cited_traces: int
    detect_runs_deleted: int
    dry_run: bool = False


def _cited_traces(store: Any, since_run_ns: int) -> set[str]:
    """Trace ids cited by findings of runs started at or after ``since_run_ns`` (and of the latest run with
    findings: an empty run after it does not let its citations go)."""
    con = store.con
    if not store.has_tables("mine_runs", "findings"):
        return set()
    rows = con.execute(
        """SELECT f.data FROM findings f JOIN mine_runs r USING (run_id)
           WHERE r.started_ns >= ? OR r.run_id = (SELECT max(run_id) FROM findings)""", [since_run_ns]
    ).fetchall()
    cited: set[str] = set()
    for (data,) in rows:
        cited.update(orjson.loads(data).get("trace_ids") or ())
    return cited


def prune(store: Any, older_than_ns: int, now_ns: int | None = None, dry_run: bool = False) -> PruneReport:
    """Delete spans whose time is before ``now - older_than_ns`` unless their trace is cited by a finding of
    a run started within that period (or of the latest run). One transaction."""
    now_ns = now_ns if now_ns is not None else time.time_ns()
    cutoff = now_ns - older_than_ns
    con = store.con
    cited = sorted(_cited_traces(store, cutoff))
    con.execute("CREATE OR REPLACE TEMP TABLE keep_traces (trace_id VARCHAR)")
    if cited:
        con.execute("INSERT INTO keep_traces SELECT unnest(?)", [cited])
    old = "time_ns < ? AND trace_id NOT IN (SELECT trace_id FROM keep_traces)"
    spans = int(con.execute(f"SELECT count(*) FROM spans WHERE {old}", [cutoff]).fetchone()[0])
    kept = int(con.execute(
        "SELECT count(*) FROM spans WHERE time_ns < ? AND trace_id IN (SELECT trace_id FROM keep_traces)", [cutoff]
    ).fetchone()[0])
    report = PruneReport(cutoff, spans, 0, kept, len(cited), 0, dry_run)
    if dry_run:
        return report
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"DELETE FROM spans WHERE {old}", [cutoff])
        report.traces_deleted = int(con.execute(
            "SELECT count(*) FROM traces WHERE trace_id NOT IN (SELECT DISTINCT trace_id FROM spans)").fetchone()[0])
        con.execute("DELETE FROM traces WHERE trace_id NOT IN (SELECT DISTINCT trace_id FROM spans)")
        # detection runs whose window ended before the cutoff: their signals point at deleted spans
        old_runs = [r[0] for r in con.execute(
            "SELECT detect_id FROM detect_runs WHERE coalesce(until_ns, created_ns) < ? "
            "AND detect_id <> (SELECT max(detect_id) FROM detect_runs)", [cutoff]).fetchall()]
        if old_runs:
            con.execute("DELETE FROM signals WHERE detect_id IN (SELECT unnest(?))", [old_runs])
            con.execute("DELETE FROM detect_runs WHERE detect_id IN (SELECT unnest(?))", [old_runs])
        report.detect_runs_deleted = len(old_runs)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    con.execute("CHECKPOINT")
    return report
