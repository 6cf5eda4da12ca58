"""What the reports show of the cited traces themselves: each trace as ``tracemine show`` prints it (so the
HTML report can link a trace id to its own section), and each finding's cited spans grouped by trace.

Both are read from the archive once, after ranking, for the reported findings only, and bounded: at most
``limit`` traces get a section — the findings' exemplar traces first (each finding's first, then each one's
second …), then the other cited traces.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from rich.console import Console

from tracemine.model import Finding
from tracemine.redact import Redactor

MAX_TRACE_SECTIONS = 50
"""Traces shown in full in report.html (exemplars first, round-robin over the findings); the others stay
plain ids there (rendering one takes ~20 ms)."""
SECTION_WIDTH = 140
"""Characters per line of a trace section (it is shown in a scrolling ``<pre>``)."""


def section_order(findings: Sequence[Finding], limit: int = MAX_TRACE_SECTIONS) -> list[str]:
    """The traces to show, at most ``limit``: every finding's first exemplar (rank order), then every
    finding's second, and so on; then the other cited traces."""
    ordered: dict[str, None] = {}
    depth = max((len(f.exemplars) for f in findings), default=0)
    for n in range(depth):
        for f in findings:
            if n < len(f.exemplars):
                ordered.setdefault(f.exemplars[n].trace_id)
    for f in findings:
        for trace_id in f.trace_ids:
            ordered.setdefault(trace_id)
    return list(ordered)[: max(limit, 0)]


def trace_sections(store: Any, findings: Sequence[Finding], redactor: Redactor,
                   limit: int = MAX_TRACE_SECTIONS) -> dict[str, str]:
    """``{trace_id: text}``: each selected trace rendered as ``tracemine show TRACE`` prints it (redacted,
    plain text, :data:`SECTION_WIDTH` columns), with the flags of the latest detection run — the run that
    found these findings, whose window holds every trace they cite. Spans and signals are read in one
    query each."""
    from tracemine.report.show import print_trace, trace_outcome

    ids = section_order(findings, limit)
    if not ids:
        return {}
    spans = store.spans_of_traces(ids)
    detect_id = store.latest_detect_id()
    flags: dict[str, list[Any]] = {}
    if detect_id is not None:
        wanted = set(ids)
        for signal in store.signals(detect_id):
            if signal.trace_id in wanted:
                flags.setdefault(signal.trace_id, []).append(signal)
    out: dict[str, str] = {}
    for trace_id in ids:
        if not spans.get(trace_id):
            continue
        buffer = io.StringIO()
        console = Console(file=buffer, width=SECTION_WIDTH, color_system=None, highlight=False, soft_wrap=True,
                          emoji=False, force_terminal=False)
        print_trace(console, spans[trace_id], flags.get(trace_id, []), redactor, detect_id=detect_id,
                    outcome=trace_outcome(store, trace_id))
        out[trace_id] = buffer.getvalue().rstrip() + "\n"
    return out


def cited_spans_by_trace(store: Any, finding: Finding) -> list[tuple[str, list[str]]]:
    """The finding's cited span ids grouped by the trace that holds them, traces in the finding's order and
    spans in citation order; a span no cited trace holds (pruned since) is left out."""
    if not finding.span_ids or not finding.trace_ids:
        return []
    from tracemine.store.traces import held_spans

    rows = held_spans(store, list(finding.trace_ids), list(finding.span_ids))
    holders: dict[str, set[str]] = {}
    for trace_id, span_id in rows:
        holders.setdefault(span_id, set()).add(trace_id)
    for ex in finding.exemplars:  # the exemplars say exactly which trace a span was cited in
        for span_id in ex.span_ids:
            if ex.trace_id in holders.get(span_id, ()):
                holders[span_id] = {ex.trace_id}
    grouped: dict[str, list[str]] = {t: [] for t in finding.trace_ids}
    for span_id in dict.fromkeys(finding.span_ids):
        for trace_id in sorted(holders.get(span_id, ())):
            grouped[trace_id].append(span_id)
    return [(t, spans) for t, spans in grouped.items() if spans]


def cited_spans(store: Any, findings: Sequence[Finding]) -> dict[str, list[tuple[str, list[str]]]]:
    """``{fingerprint: [(trace_id, [span_id, …]), …]}`` for every finding (see :func:`cited_spans_by_trace`)."""
    return {f.fingerprint: cited_spans_by_trace(store, f) for f in findings}
