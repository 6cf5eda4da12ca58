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
latest whose window holds one of its spans, :data:`tracemine.store.traces.COVERING_DETECT_RUN`), so
``show`` prints the same flags after a prune as before. Orphans go too: signals of dropped traces,
cluster runs (and their clusters) whose detection run is gone, trace records without spans.

Run history (``mine_runs``, ``findings``), ingested-file fingerprints (a pruned file is not ingested
again), the quarantine, the embedding cache and tracker mappings are kept.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from tracemine.store import retention as store_retention


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


def _cited_traces(store: Any, runs: list[int]) -> set[str]:
    """Trace ids the findings of ``runs`` name (their trace ids and exemplars)."""
    if not runs:
        return set()
    cited: set[str] = set()
    for data in store_retention.finding_data_of_runs(store, runs):
        doc = orjson.loads(data)
        cited.update(doc.get("trace_ids") or ())
        cited.update(e["trace_id"] for e in doc.get("exemplars") or () if e.get("trace_id"))
    return cited


def prune(store: Any, older_than_ns: int, now_ns: int | None = None, dry_run: bool = False) -> PruneReport:
    """Drop the traces, detection runs and orphans described in the module docstring, in one transaction;
    returns what was (with ``dry_run``: would be) dropped and kept."""
    cutoff = (now_ns if now_ns is not None else _now_ns()) - older_than_ns
    citing = store_retention.citing_runs(store, cutoff)
    report = PruneReport(cutoff, dry_run, citing_runs=[r for r, _ in citing])
    store_retention.plan(store, cutoff, _cited_traces(store, report.citing_runs),
                         sorted({d for _, d in citing if d is not None}))
    for name, value in asdict(store_retention.planned(store)).items():
        setattr(report, name, value)
    if not dry_run:
        store_retention.execute_plan(store)
    return report
