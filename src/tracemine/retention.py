"""Retention: drop old traces while keeping the run history and what kept findings need to be verified.

``prune(store, older_than_ns)`` keeps or drops **whole traces**; the cutoff is ``now - older_than``:

* a trace *cited* by a finding of a run started at or after the cutoff, or of the latest run with
  findings (an empty run after it does not let its citations go), is kept with all its spans; cited
  means named in the finding's trace ids or exemplars;
* a trace with a span at or after the cutoff is kept with all its spans (later runs judge whole traces);
* every other trace with spans older than the cutoff is dropped.

Detection runs whose window ended before the cutoff (without a window: made before it) are dropped with
their signals, except the latest run and those a kept trace needs for ``tracemine show``: the run each
citing ``mine`` run found its findings in, and the run ``show`` takes a kept trace's flags from (the
latest whose window holds one of its spans, :data:`tracemine.report.show.COVERING_DETECT_RUN`), so
``show`` prints the same flags after a prune as before. Orphans go too: signals of dropped traces,
cluster runs (and their clusters) whose detection run is gone, trace records without spans.

Run history (``mine_runs``, ``findings``), ingested-file fingerprints (a pruned file is not ingested
again), the quarantine, the embedding cache and tracker mappings are kept.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import orjson

_MIN_NS, _MAX_NS = -(2**63), 2**63 - 1


@dataclass
class PruneReport:
    """What :func:`prune` dropped and what it kept, and why (on a dry run: what it would do)."""

    cutoff_ns: int
    dry_run: bool = False
    spans_deleted: int = 0
    traces_deleted: int = 0
    citing_runs: list[int] = field(default_factory=list)
    """``mine`` runs whose citations are kept (started at or after the cutoff, or the latest with findings)."""
    cited_traces: int = 0
    """Traces with spans older than the cutoff, kept whole because a citing run's finding names them."""
    spans_kept_for_citations: int = 0
    straddling_traces: int = 0
    """Uncited traces with spans on both sides of the cutoff, kept whole."""
    spans_kept_whole: int = 0
    detect_runs_deleted: int = 0
    detect_runs_kept: list[int] = field(default_factory=list)
    """Detection runs that ended before the cutoff, kept because a kept trace or a citing run needs them."""
    signals_deleted: int = 0
    cluster_runs_deleted: int = 0
    trace_records_deleted: int = 0

    def lines(self) -> list[str]:
        """What was dropped and what was kept, and why, one statement a line (``tracemine prune``)."""
        from tracemine.formatting import format_count as n
        from tracemine.formatting import format_ns

        drop, keep = ("would drop", "would keep") if self.dry_run else ("dropped", "kept")
        runs = _ids(self.citing_runs)
        return [
            f"{drop} {n(self.spans_deleted)} span(s) of {n(self.traces_deleted)} trace(s) whose spans are all "
            f"older than the cutoff {format_ns(self.cutoff_ns)} and that no kept finding cites",
            f"{keep} {n(self.spans_kept_for_citations)} older span(s) of {n(self.cited_traces)} trace(s) cited by "
            + (f"the findings of mine run(s) {runs} (started since the cutoff, or the latest run with findings), so "
               "`tracemine show` still verifies them" if runs else "findings (there are no runs with findings)"),
            f"{keep} {n(self.spans_kept_whole)} older span(s) of {n(self.straddling_traces)} trace(s) that go on past "
            "the cutoff: traces are kept or dropped whole",
            f"{keep} {len(self.detect_runs_kept)} detection run(s) that ended before the cutoff"
            + (f" ({_ids(self.detect_runs_kept)}): kept traces or their findings take their flags from them"
               if self.detect_runs_kept else "")
            + f"; {drop} {n(self.detect_runs_deleted)} detection run(s) and {n(self.signals_deleted)} signal(s) of "
            "dropped runs or traces",
            f"{drop} {n(self.cluster_runs_deleted)} cluster run(s) whose detection run is gone and "
            f"{n(self.trace_records_deleted)} trace record(s) without spans",
            f"{keep} the run history (runs and findings), ingested-file fingerprints and the quarantine",
        ]


def _ids(ids: list[int], most: int = 8) -> str:
    """``#3, #4`` (the first and last three when there are more than ``most``)."""
    shown = [f"#{i}" for i in ids] if len(ids) <= most else [f"#{i}" for i in (*ids[:3], *ids[-3:])]
    if len(ids) > most:
        shown.insert(3, "…")
    return ", ".join(shown)


def _now_ns() -> int:
    return time.time_ns()


def _citing_runs(store: Any, cutoff_ns: int) -> list[tuple[int, int | None]]:
    """``(run_id, detect_id)`` of the runs whose citations are kept: started at or after the cutoff, and
    the latest run with findings."""
    if not store.has_tables("mine_runs", "findings"):
        return []
    return [(int(r[0]), r[1]) for r in store.con.execute(
        """SELECT run_id, detect_id FROM mine_runs
           WHERE started_ns >= ? OR run_id = (SELECT max(run_id) FROM findings) ORDER BY run_id""",
        [cutoff_ns]).fetchall()]


def _cited_traces(store: Any, runs: list[int]) -> set[str]:
    """Trace ids the findings of ``runs`` name (their trace ids and exemplars)."""
    if not runs:
        return set()
    cited: set[str] = set()
    for (data,) in store.con.execute("SELECT data FROM findings WHERE run_id IN (SELECT unnest(?))",
                                     [runs]).fetchall():
        doc = orjson.loads(data)
        cited.update(doc.get("trace_ids") or ())
        cited.update(e["trace_id"] for e in doc.get("exemplars") or () if e.get("trace_id"))
    return cited


def _plan(store: Any, cutoff: int, cited: set[str], citing_detect_ids: list[int]) -> None:
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


def _orphan_cluster_runs(store: Any) -> str | None:
    """SQL selecting the cluster runs whose detection run is gone (``None`` without cluster tables)."""
    if not store.has_tables("cluster_runs", "clusters"):
        return None
    return ("SELECT cluster_run_id FROM cluster_runs WHERE detect_id IS NOT NULL AND (detect_id NOT IN "
            "(SELECT detect_id FROM detect_runs) OR detect_id IN (SELECT detect_id FROM prune_runs WHERE NOT needed))")


def prune(store: Any, older_than_ns: int, now_ns: int | None = None, dry_run: bool = False) -> PruneReport:
    """Drop the traces, detection runs and orphans described in the module docstring, in one transaction;
    returns what was (with ``dry_run``: would be) dropped and kept."""
    con = store.con
    cutoff = (now_ns if now_ns is not None else _now_ns()) - older_than_ns
    citing = _citing_runs(store, cutoff)
    report = PruneReport(cutoff, dry_run, citing_runs=[r for r, _ in citing])
    _plan(store, cutoff, _cited_traces(store, report.citing_runs), sorted({d for _, d in citing if d is not None}))
    counts = store.one(
        """SELECT count(*) FILTER (WHERE NOT cited AND NOT straddles), sum(old_spans) FILTER (WHERE NOT cited AND NOT straddles),
                  count(*) FILTER (WHERE cited), sum(old_spans) FILTER (WHERE cited),
                  count(*) FILTER (WHERE straddles AND NOT cited), sum(old_spans) FILTER (WHERE straddles AND NOT cited)
           FROM prune_old""")
    (report.traces_deleted, report.spans_deleted, report.cited_traces, report.spans_kept_for_citations,
     report.straddling_traces, report.spans_kept_whole) = (int(c or 0) for c in counts or (0,) * 6)
    report.detect_runs_kept = [int(r[0]) for r in con.execute(
        "SELECT detect_id FROM prune_runs WHERE needed ORDER BY 1").fetchall()]
    report.detect_runs_deleted = int(store.scalar("SELECT count(*) FROM prune_runs WHERE NOT needed") or 0)
    gone_runs = "detect_id IN (SELECT detect_id FROM prune_runs WHERE NOT needed)"
    gone_signals = f"{gone_runs} OR trace_id IN (SELECT trace_id FROM prune_drop)"
    report.signals_deleted = int(store.scalar(f"SELECT count(*) FROM signals WHERE {gone_signals}") or 0)
    orphans = _orphan_cluster_runs(store)
    if orphans:
        report.cluster_runs_deleted = int(store.scalar(f"SELECT count(*) FROM ({orphans})") or 0)
    report.trace_records_deleted = int(store.scalar(
        "SELECT count(*) FROM traces WHERE trace_id IN (SELECT trace_id FROM prune_drop) "
        "OR trace_id NOT IN (SELECT trace_id FROM spans)") or 0)
    if dry_run:
        return report
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM spans WHERE trace_id IN (SELECT trace_id FROM prune_drop)")
        con.execute("DELETE FROM traces WHERE trace_id NOT IN (SELECT trace_id FROM spans)")
        con.execute(f"DELETE FROM signals WHERE {gone_signals}")
        if orphans:
            con.execute(f"DELETE FROM clusters WHERE cluster_run_id IN ({orphans})")
            con.execute(f"DELETE FROM cluster_runs WHERE cluster_run_id IN ({orphans})")
            con.execute("DELETE FROM clusters WHERE cluster_run_id NOT IN (SELECT cluster_run_id FROM cluster_runs)")
        con.execute(f"DELETE FROM detect_runs WHERE {gone_runs}")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    con.execute("CHECKPOINT")
    return report
