"""Run detectors over a window of the archive: a statistics pass, then a judging pass, trace by trace."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tracemine.detect.base import Detector
from tracemine.detect.registry import build
from tracemine.detect.view import TraceView
from tracemine.model import Signal, Trace
from tracemine.store import Store
from tracemine.timewindow import Window

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


def detect_traces(
    traces: Callable[[], Iterable[Trace]],
    detectors: list[Detector],
    report: DetectReport,
    progress: ProgressFn | None = None,
    total: int = 0,
) -> list[Signal]:
    """Both passes over ``traces()`` (called once per pass); exceptions are counted per detector."""
    if any(d.uses_window_stats for d in detectors):
        stats_users = [d for d in detectors if d.uses_window_stats]
        for done, trace in enumerate(traces(), start=1):
            view = TraceView.build(trace)
            for detector in stats_users:
                _guard(report, detector, "observe", view, lambda d=detector, v=view: d.observe(v))
            if progress and done % 500 == 0:
                progress("statistics", done, total)
    for detector in detectors:
        _guard(report, detector, "finalize", None, detector.finalize)
    signals: list[Signal] = []
    for done, trace in enumerate(traces(), start=1):
        view = TraceView.build(trace)
        report.traces += 1
        report.spans += len(trace.spans)
        for detector in detectors:
            found = _guard(report, detector, "detect", view, lambda d=detector, v=view: list(d.detect(v)))
            if found:
                signals.extend(found)
        if progress and done % 500 == 0:
            progress("detect", done, total)
    if progress:
        progress("detect", report.traces, total)
    return signals


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
        report.detect_id = store.save_signals(
            window, report.detectors, report.signals,
            {"traces": report.traces, "spans": report.spans, "errors": dict(report.errors), "seconds": report.seconds},
        )
    return report
