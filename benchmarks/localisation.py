"""Failure localisation: do signals point at the step a human labelled as the failure?

    .venv/bin/python benchmarks/localisation.py

Ingests the 29 failed AgentRx τ-retail runs (../shared/datasets/agentrx-tau-retail/tau_dataset_failed.json),
runs every detector, and compares each signal's **cause span** (the LLM call that decided it, see
``tracemine.detect.cause``) and **symptom span** (the first span it cites) with the human step labels in
``tau_ground_truth.json``. Only labelled failures in runs that tracemine flags (at least one signal) count.
Per failure category it prints the share of labelled failures where some signal of the run has

* ``cause``: its cause span at the labelled step;
* ``symptom``: its first cited span at the labelled step (``any cited``: any span it cites);
* ``±1``: its cause or first cited span within one step of the labelled one;
* ``about``: labelled failures some signal is about (it cites, or is caused by, a span within one step of
  the labelled one) and ``cause|about``: the share of those where a signal's cause span is exactly the
  labelled step — the issue's "the cause span is the labelled step in the labelled failures it flags".
  The first columns count every labelled failure of a flagged run, also those no signal is about.

Step ↔ span mapping: ``step_number`` is the 1-based index into ``traj`` (AgentRx messages also carry
``index`` = position + 1; checked on every message of the file). The τ-bench reader keeps each message's
0-based position as the span attribute ``tau.traj_index``: an assistant message is an LLM span, a
``tool`` message the TOOL span of the call it answers (the call's span sits at its result), system and
user messages OTHER spans. So a span's step is ``tau.traj_index + 1``; the root AGENT span has no step.
Span ``sequence`` equals the traj index only while every tool call is answered once, so it is not used.

Nothing here is tuned: the figures are printed whatever they are. Exits 0 with a message when
../shared is absent.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracemine.detect.runner import run_detection
from tracemine.ingest.loader import ingest_paths
from tracemine.model import Signal
from tracemine.store import Store

SHARED = Path(__file__).resolve().parents[2] / "shared"
DATA = SHARED / "datasets" / "agentrx-tau-retail"
RUNS = DATA / "tau_dataset_failed.json"
LABELS = DATA / "tau_ground_truth.json"


@dataclass
class Tally:
    failures: int = 0
    cause: int = 0
    symptom: int = 0
    any_cited: int = 0
    near: int = 0
    about: int = 0  # failures a signal is about: it cites, or is caused by, a span within ±1 of the step
    about_cause: int = 0  # …of which a signal's cause span is the labelled step
    kinds: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def span_steps(store: Store) -> tuple[dict[str, dict[str, int]], dict[str, str]]:
    """``trace_id → {span_id: step}`` (1-based traj position) and ``task_id → trace_id``."""
    steps: dict[str, dict[str, int]] = {}
    tasks: dict[str, str] = {}
    for trace in store.iter_traces(None):
        mapping: dict[str, int] = {}
        for span in trace.spans:
            attrs: dict[str, Any] = span.attributes or {}
            if isinstance(attrs.get("tau.traj_index"), int):
                mapping[span.span_id] = attrs["tau.traj_index"] + 1
            if "tau.task_id" in attrs:
                tasks[str(attrs["tau.task_id"])] = trace.trace_id
        steps[trace.trace_id] = mapping
    return steps, tasks


def score_failure(step: int, signals: list[Signal], steps: dict[str, int]) -> tuple[bool, bool, bool, bool, bool]:
    """(cause hit, first-cited hit, any-cited hit, cause or first cited within ±1, some signal about it: a
    cited or cause span within ±1) for one labelled step."""
    def at(span_id: str | None) -> int | None:
        return steps.get(span_id) if span_id is not None else None

    causes = [at(s.cause_span_id) for s in signals]
    firsts = [at(s.span_ids[0]) if s.span_ids else None for s in signals]
    cited = [at(i) for s in signals for i in s.span_ids]
    near = [x for x in causes + firsts if x is not None and abs(x - step) <= 1]
    about = [x for x in causes + cited if x is not None and abs(x - step) <= 1]
    return step in causes, step in firsts, step in cited, bool(near), bool(about)


def localise(store: Store) -> dict[str, Tally]:
    report = run_detection(store, None)
    steps, tasks = span_steps(store)
    by_trace: dict[str, list[Signal]] = defaultdict(list)
    for signal in report.signals:
        by_trace[signal.trace_id].append(signal)
    tallies: dict[str, Tally] = defaultdict(Tally)
    labels = json.loads(LABELS.read_text())
    for run in labels:
        trace_id = tasks.get(str(run["trajectory_id"]))
        signals = by_trace.get(trace_id or "", [])
        if not signals:
            continue
        for failure in run["failures"]:
            hits = score_failure(int(failure["step_number"]), signals, steps[trace_id or ""])
            for tally in (tallies[failure["failure_category"]], tallies["all"]):
                tally.failures += 1
                tally.cause += hits[0]
                tally.symptom += hits[1]
                tally.any_cited += hits[2]
                tally.near += hits[3]
                tally.about += hits[4]
                tally.about_cause += hits[4] and hits[0]
    flagged = sum(1 for run in labels if by_trace.get(tasks.get(str(run["trajectory_id"])) or ""))
    print(f"{len(report.signals)} signals in {len(by_trace)} of {report.traces} runs; "
          f"{flagged} of {len(labels)} labelled runs flagged")
    return tallies


def print_table(tallies: dict[str, Tally]) -> None:
    print(f"{'failure category':36s} {'labels':>6s} {'cause':>7s} {'symptom':>8s} {'any cited':>10s} {'±1':>7s}"
          f" {'about':>6s} {'cause|about':>11s}")
    order = [*sorted((k for k in tallies if k != "all"), key=lambda k: -tallies[k].failures), "all"]
    for name in order:
        t = tallies[name]
        if not t.failures:
            continue

        def share(n: int, t: Tally = t) -> str:
            return f"{n / t.failures:6.1%}"

        about = f"{t.about_cause / t.about:6.1%}" if t.about else "     -"
        print(f"{name:36s} {t.failures:6d} {share(t.cause):>7s} {share(t.symptom):>8s} "
              f"{share(t.any_cited):>10s} {share(t.near):>7s} {t.about:6d} {about:>11s}")


def main() -> int:
    if not RUNS.is_file() or not LABELS.is_file():
        print(f"skipped: {DATA} is not available (../shared is absent)")
        return 0
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "loc.duckdb") as store:
        ingest_paths([str(RUNS)], store)
        tallies = localise(store)
    print_table(tallies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
