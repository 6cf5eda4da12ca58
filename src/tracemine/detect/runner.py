"""Run detectors over a window of the archive: a statistics pass, then a judging pass, trace by trace —
in one pass here, or per trace shard through a backend (:func:`detect_window`)."""

from __future__ import annotations

import pickle
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracemine.detect.base import Detector, one_account_per_span
from tracemine.detect.cause import attribute
from tracemine.detect.registry import build
from tracemine.detect.view import TraceView
from tracemine.model import Signal, Trace, span_order_key
from tracemine.store import Store
from tracemine.timewindow import Window

if TYPE_CHECKING:
    from tracemine.backends.base import Backend

ProgressFn = Callable[[str, int, int], None]
"""``progress(pass_name, traces_done, traces_total)``"""


@dataclass
class DetectReport:
    detect_id: int | None
    window: Window | None
    detectors: list[str]
    traces: int = 0
    spans: int = 0
    signals: list[Signal] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    error_examples: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def absorb(self, other: DetectReport) -> None:
        """Add another shard's counts (traces, spans, detector errors) to this report."""
        self.traces += other.traces
        self.spans += other.spans
        self.errors.update(other.errors)
        for name, example in other.error_examples.items():
            self.error_examples.setdefault(name, example)


def observe_shard(traces: Iterable[Trace], detectors: list[Detector], report: DetectReport,
                  progress: ProgressFn | None = None, total: int = 0) -> list[Detector]:
    """First pass over one shard: the window statistics of ``detectors`` (those that use them) are
    accumulated in place; returns ``detectors``. Exceptions are counted per detector in ``report``."""
    stats_users = [d for d in detectors if d.uses_window_stats]
    if not stats_users:
        return detectors
    for done, trace in enumerate(traces, start=1):
        view = _view(trace)
        for detector in stats_users:
            _guard(report, detector, "observe", view, lambda d=detector, v=view: d.observe(v))
        if progress and done % 500 == 0:
            progress("statistics", done, total)
    return detectors


def mergeable(detector: Detector) -> bool:
    """Whether a detector's window statistics survive sharding (it keeps none, or implements ``merge``)."""
    return not detector.uses_window_stats or type(detector).merge is not Detector.merge


def merge_stats(detectors: list[Detector], shards: Iterable[list[Detector]], report: DetectReport) -> list[Detector]:
    """Fold the first-pass statistics of each shard's detectors (same names, same order) into
    ``detectors``, shard by shard in the order given, then finalise them for the second pass."""
    for other in shards:
        for mine, theirs in zip(detectors, other, strict=True):
            if mine.uses_window_stats:
                _guard(report, mine, "merge", None, lambda m=mine, t=theirs: m.merge(t))
    for detector in detectors:
        _guard(report, detector, "finalize", None, detector.finalize)
    return detectors


def detect_shard(traces: Iterable[Trace], detectors: list[Detector], report: DetectReport,
                 progress: ProgressFn | None = None, total: int = 0) -> list[Signal]:
    """Second pass over one shard: every detector judges each trace (in the order given) against the
    finalised statistics; the signals come out trace by trace, in detector order within a trace, each
    with its cause span and agent (:func:`tracemine.detect.cause.attribute`)."""
    signals: list[Signal] = []
    for done, trace in enumerate(traces, start=1):
        view = _view(trace)
        report.traces += 1
        report.spans += len(trace.spans)
        first = len(signals)
        for detector in detectors:
            found = _guard(report, detector, "detect", view, lambda d=detector, v=view: list(d.detect(v)))
            if found:
                signals.extend(found)
        if len(signals) > first:
            signals[first:] = one_account_per_span(signals[first:], detectors)
            _attribute(report, view, signals[first:])
        if progress and done % 500 == 0:
            progress("detect", done, total)
    return signals


def detect_traces(
    traces: Callable[[], Iterable[Trace]],
    detectors: list[Detector],
    report: DetectReport,
    progress: ProgressFn | None = None,
    total: int = 0,
) -> list[Signal]:
    """Both passes over ``traces()`` (called once per pass) as one shard; exceptions are counted per
    detector."""
    if any(d.uses_window_stats for d in detectors):
        observe_shard(traces(), detectors, report, progress, total)
    merge_stats(detectors, [], report)
    signals = detect_shard(traces(), detectors, report, progress, total)
    if progress:
        progress("detect", report.traces, total)
    return signals


def _view(trace: Trace) -> TraceView:
    """The detectors' view of ``trace``, its spans put in execution order first (start, sequence, span
    id) so that signals never depend on the order storage returned the spans in (a trace read from the
    archive or from a shard's Parquet partition gives the same signals)."""
    trace.spans.sort(key=span_order_key)
    return TraceView.build(trace)


def _attribute(report: DetectReport, view: TraceView, signals: list[Signal]) -> None:
    """Cause spans and agents of one trace's signals; a failure is counted (as ``cause``), not raised."""
    try:
        attribute(view, signals)
    except Exception as exc:  # the signals stand without a cause
        report.errors["cause"] += 1
        report.error_examples.setdefault("cause", f"attribute on trace {view.trace_id}: {type(exc).__name__}: {exc}")


def _guard(report: DetectReport, detector: Detector, stage: str, view: TraceView | None, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception as exc:  # one odd trace must not stop a nightly run
        report.errors[detector.name] += 1
        where = f" on trace {view.trace_id}" if view is not None else ""
        report.error_examples.setdefault(detector.name, f"{stage}{where}: {type(exc).__name__}: {exc}")
        return None


def run_detection(
    store: Store,
    window: Window | None,
    names: list[str] | None = None,
    settings: dict[str, dict[str, Any]] | None = None,
    progress: ProgressFn | None = None,
    save: bool = True,
    cache_spans: int = 200_000,
) -> DetectReport:
    """Run the named detectors (all by default) on the traces touching ``window`` and store the signals."""
    started = time.perf_counter()
    detectors = build(names, settings or {})
    report = DetectReport(None, window, [d.name for d in detectors])
    total = len(store.trace_ids(window))
    spans = store.stats(window).spans if any(d.uses_window_stats for d in detectors) else 0
    if 0 < spans <= cache_spans:
        # small windows are read once and kept for both passes (reading dominates otherwise)
        cached = list(store.iter_traces(window))
        source: Callable[[], Iterable[Trace]] = lambda: cached  # noqa: E731
    else:
        source = lambda: store.iter_traces(window)  # noqa: E731
    report.signals = detect_traces(source, detectors, report, progress, total)
    report.seconds = time.perf_counter() - started
    if save:
        save_detection(store, report)
    return report


def save_detection(store: Store, report: DetectReport) -> int:
    """Store ``report``'s signals and counts as one detection run; sets and returns its ``detect_id``."""
    report.detect_id = store.save_signals(
        report.window, report.detectors, report.signals,
        {"traces": report.traces, "spans": report.spans, "errors": dict(report.errors), "seconds": report.seconds},
    )
    return report.detect_id


def detect_window(store: Store, window: Window | None, names: list[str] | None = None,
                  settings: dict[str, dict[str, Any]] | None = None, progress: ProgressFn | None = None,
                  save: bool = True, backend: Backend | None = None) -> DetectReport:
    """Run the detectors over ``window`` and store the signals: one pass in-process without ``backend`` or
    when its ``detect_shards`` says 1, else :func:`detect_sharded` through it."""
    if backend is None:
        return run_detection(store, window, names, settings, progress, save)
    spans = store.stats(window).spans
    shards = backend.detect_shards(spans)
    if shards <= 1 or spans == 0:
        return run_detection(store, window, names, settings, progress, save)
    return detect_sharded(store, window, names, settings, progress, save, backend, shards)


def detect_sharded(store: Store, window: Window | None, names: list[str] | None,
                   settings: dict[str, dict[str, Any]] | None, progress: ProgressFn | None, save: bool,
                   backend: Backend, shards: int) -> DetectReport:
    """The window's traces exported as Parquet partitions by shard (where ``backend`` stages them); the
    first pass per shard through ``backend.map``, statistics merged in shard order and finalised here,
    the second pass per shard with the finalised detectors shared once; signals in trace-id order, so
    they are the same as one pass's."""
    from tracemine.export import export_parquet, remove

    started = time.perf_counter()
    detectors = build(names, settings or {})
    report = DetectReport(None, window, [d.name for d in detectors])
    root = backend.staging_root(store)
    try:
        staged = export_parquet(store, root, window, shards, by_day=False, row_order=True)
        ids = staged.shard_ids
        total = len(ids)
        fresh = pickle.dumps(detectors)
        if any(d.uses_window_stats for d in detectors) and all(mergeable(d) for d in detectors):
            observed = []
            for done, (stats, shard_report) in enumerate(backend.map(observe_task, [(root, s, fresh) for s in ids]), 1):
                observed.append(stats)
                report.absorb(shard_report)
                if progress:
                    progress("statistics", done, total)
            merge_stats(detectors, observed, report)
        else:
            # a detector keeping statistics it cannot merge: the first pass runs here, over the archive
            observe_shard(store.iter_traces(window), detectors, report)
            merge_stats(detectors, [], report)
        judged = backend.share(pickle.dumps(detectors))
        signals = []
        for done, (found, shard_report) in enumerate(backend.map(detect_task, [(root, s, judged) for s in ids]), 1):
            signals.extend(found)
            report.absorb(shard_report)
            if progress:
                progress("detect", done, total)
    finally:
        remove(root)
    signals.sort(key=lambda s: s.trace_id)  # stable: detector order within a trace is kept
    report.signals = signals
    report.seconds = time.perf_counter() - started
    if save:
        save_detection(store, report)
    return report


# -- shard tasks (module level: a Ray worker imports them by name) ------------------------------------


def observe_task(args: tuple[str, int, bytes]) -> tuple[list[Detector], DetectReport]:
    """First pass over one staged shard: the shard's detectors (with their statistics) and counts."""
    from tracemine.export import read_shard_traces

    root, shard, blob = args
    detectors = pickle.loads(blob)
    report = DetectReport(None, None, [d.name for d in detectors])
    observe_shard(read_shard_traces(root, shard), detectors, report)
    return detectors, report


def detect_task(args: tuple[str, int, Any]) -> tuple[list[Signal], DetectReport]:
    """Second pass over one staged shard with the merged, finalised detectors (pickled bytes, or a Ray
    object reference to them)."""
    from tracemine.export import read_shard_traces

    root, shard, blob = args
    if not isinstance(blob, bytes):
        import ray

        blob = ray.get(blob)
    detectors = pickle.loads(blob)
    report = DetectReport(None, None, [d.name for d in detectors])
    signals = detect_shard(read_shard_traces(root, shard), detectors, report)
    return signals, report
