"""Trajectory findings: clusters of failing runs whose paths fail far more often than the window's other
runs, named by the steps that set them apart from successful runs (outcome-aware; see ARCHITECTURE.md,
'Where concepts live').

The clustering stage already groups failing trajectories (``mine.trajectories``: each flagged or failed
trace as its compressed sequence of steps, embedded and clustered; :mod:`tracemine.render`). Where the
window's traces carry outcomes, each trajectory leaf with at least ``min_traces`` traces is compared
with the rest of the window (:func:`tracemine.lift.lift_of`); a leaf whose failure-rate difference has
a 95 % lower bound above ``min_lift`` stands out. Its *distinguishing steps* are the steps (tool and
outcome, repeats normalised) present in at least half of its runs and at most half as often in a
bounded sample of successful runs (``success_sample``), largest difference first.

Each run of such a leaf becomes one signal of kind ``trajectory`` (citing the run's root span, with
the path, the distinguishing steps — the finding's ``family`` — and the counts as evidence), so the
findings stage treats it like any other: verified citations, one finding per agent and path, themes,
summaries. A trajectory a detector's finding already explains is left out there.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from tracemine.detect.base import Detector
from tracemine.lift import lift_of
from tracemine.model import Signal

_REPEAT = re.compile(r" ×\d+")


def steps_of(text: str) -> set[str]:
    """The distinct steps of a trajectory text (``a ok | b error ×3 (same result) | end ok``), repeat
    counts normalised, the final ``end …`` item left out (it restates the outcome)."""
    return {_REPEAT.sub(" ×n", item.strip()) for item in text.split(" | ")
            if item.strip() and not item.startswith(("end ", "… "))}


def distinguishing_steps(cluster: Sequence[set[str]], successes: Sequence[set[str]], k: int = 3) -> list[str]:
    """Steps in at least half of ``cluster`` and at most half as often in ``successes``, best first."""
    if not cluster:
        return []
    inside = Counter(step for steps in cluster for step in steps)
    outside = Counter(step for steps in successes for step in steps)
    scored = []
    for step, n in inside.items():
        share = n / len(cluster)
        other = outside[step] / len(successes) if successes else 0.0
        if share >= 0.5 and other <= share / 2:
            scored.append((share - other, step))
    return [step for _, step in sorted(scored, key=lambda t: (-t[0], t[1]))[:k]]


def _roots(store: Any, trace_ids: Sequence[str]) -> dict[str, str]:
    from tracemine.store.traces import root_span_ids

    return root_span_ids(store, sorted(trace_ids))


def _rendered(store: Any, trace_ids: Sequence[str]) -> dict[str, str]:
    """Trace id → trajectory text (:func:`tracemine.render.trajectory_text`), read in one query."""
    from tracemine.detect.view import TraceView
    from tracemine.model import Trace
    from tracemine.render import trajectory_text
    from tracemine.store.archive import row_to_span
    from tracemine.store.traces import span_rows

    if not trace_ids:
        return {}
    rows = span_rows(store, sorted(set(trace_ids)))
    by_trace: dict[str, list[Any]] = {}
    for row in rows:
        by_trace.setdefault(row["trace_id"], []).append(row_to_span(row))
    return {t: trajectory_text(TraceView.build(Trace(t, spans))) for t, spans in sorted(by_trace.items())}


def trajectory_signals(store: Any, clusters: Any, outcomes: dict[str, bool], *, min_traces: int = 5,
                       min_lift: float = 0.0, success_sample: int = 1000) -> list[Signal]:
    """Signals of kind ``trajectory`` for the runs of the trajectory leaves that stand out (see the module
    docstring); none without outcomes of both kinds or without a trajectory clustering."""
    if clusters is None or not clusters.item_ids or not outcomes:
        return []
    known, failed_total = len(outcomes), sum(outcomes.values())
    if failed_total in (0, known):
        return []
    leaves = [n for n in clusters.nodes.values() if n.level == "leaf" and n.size >= min_traces]
    picked: list[tuple[Any, list[str], Any]] = []
    for leaf in sorted(leaves, key=lambda n: n.id):
        traces = sorted({clusters.item_ids[i] for i in leaf.members})
        with_known = [t for t in traces if t in outcomes]
        failed_in = sum(outcomes[t] for t in with_known)
        if len(with_known) < min_traces or len(with_known) == known:
            continue
        lift = lift_of(failed_in, len(with_known), failed_total - failed_in, known - len(with_known))
        if lift.ci_low > min_lift:
            picked.append((leaf, traces, lift))
    if not picked:
        return []
    success_ids = sorted(t for t, failed in outcomes.items() if not failed)[:success_sample]
    successes = [steps_of(text) for text in _rendered(store, success_ids).values()]
    rendered = _rendered(store, [t for _, traces, _ in picked for t in traces])
    roots = _roots(store, [t for _, traces, _ in picked for t in traces])
    out: list[Signal] = []
    for leaf, traces, lift in picked:
        steps = distinguishing_steps([steps_of(rendered.get(t, "")) for t in traces], successes)
        if not steps:
            continue  # nothing sets these runs apart from successful ones: not a path to name
        path = " → ".join(steps)
        for trace_id in traces:
            root = roots.get(trace_id)
            if root is None:
                continue
            evidence = {"mechanism": "failing_path", "family": path, "steps": steps, "cluster": leaf.id,
                        "trajectory": (rendered.get(trace_id) or "")[:400], "failed_with": lift.failed_with,
                        "known_with": lift.known_with, "rate_with": round(lift.rate_with, 4),
                        "rate_without": round(lift.rate_without, 4), "ci_low": round(lift.ci_low, 4),
                        "failed": outcomes.get(trace_id)}
            text = (f"runs that go {path} fail {lift.rate_with:.0%} of the time "
                    f"({lift.failed_with} of {lift.known_with}) vs {lift.rate_without:.0%} of the other runs")
            severity = "high" if lift.difference >= 0.5 else "medium"
            out.append(Signal(detector="trajectory", kind="trajectory", trace_id=trace_id, span_ids=[root],
                              severity=severity, evidence=evidence, text=text))
    return out



class TrajectorySignals(Detector):
    """What trajectory signals mean downstream (they come from the trajectory clusters, not from a
    detector's pass over the window): correlations that the failure findings, outliers and contrasts on
    the same traces explain."""

    name = "trajectory"
    kinds = ("trajectory",)
    wording = "templates/trajectory.j2"
    facts_order = 60
    explained_level = 2

    @classmethod
    def facts(cls, evidences: Sequence[Any], texts: Any, top: int) -> dict[str, Any]:
        """``trajectory``: the distinguishing steps and the cluster's failure rates (shared by its
        members)."""
        from tracemine.summarise.aggregate import number

        ev = next((ev for ev in evidences
                   if isinstance(ev.get("steps"), list) and isinstance(ev.get("rate_with"), float)), None)
        if ev is None:
            return {}
        return {"trajectory": {
            "steps": [texts.clean(str(s)) for s in ev["steps"][:5]], "rate_with": ev["rate_with"],
            "rate_without": number(ev.get("rate_without")), "failed_with": number(ev.get("failed_with")),
            "known_with": number(ev.get("known_with"))}}
