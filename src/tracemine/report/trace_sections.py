"""What the reports show of the cited traces themselves: each trace as ``tracemine show`` prints it (so the
HTML report can link a trace id to its own section), and each finding's cited spans grouped by trace.

Both are read from the archive once, after ranking, for the reported findings only, and bounded: at most
``limit`` traces get a section — every exemplar trace first (in rank order), then the other cited traces.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from rich.console import Console

from tracemine.model import Finding
from tracemine.summarise.redact import Redactor

MAX_TRACE_SECTIONS = 100
"""Traces shown in full in report.html (exemplars first); the others stay plain ids there."""
SECTION_WIDTH = 140
"""Characters per line of a trace section (it is shown in a scrolling ``<pre>``)."""


def section_order(findings: Sequence[Finding], limit: int = MAX_TRACE_SECTIONS) -> list[str]:
    """The traces to show, at most ``limit``: the exemplars of every finding (rank order), then the rest."""
    ordered: dict[str, None] = {}
    for f in findings:
        for ex in f.exemplars:
            ordered.setdefault(ex.trace_id)
    for f in findings:
        for trace_id in f.trace_ids:
            ordered.setdefault(trace_id)
    return list(ordered)[: max(limit, 0)]


def trace_sections(store: Any, findings: Sequence[Finding], redactor: Redactor,
                   limit: int = MAX_TRACE_SECTIONS) -> dict[str, str]:
    """``{trace_id: text}``: each selected trace rendered as ``tracemine show TRACE`` prints it (redacted,
    plain text, :data:`SECTION_WIDTH` columns)."""
    from tracemine.report.show import print_trace, trace_outcome, trace_signals

    out: dict[str, str] = {}
    for trace_id in section_order(findings, limit):
        spans = store.spans_of(trace_id)
        if not spans:
            continue
        buffer = io.StringIO()
        console = Console(file=buffer, width=SECTION_WIDTH, color_system=None, highlight=False, soft_wrap=True,
                          emoji=False, force_terminal=False)
        detect_id, signals = trace_signals(store, trace_id)
        print_trace(console, spans, signals, redactor, detect_id=detect_id, outcome=trace_outcome(store, trace_id))
        out[trace_id] = buffer.getvalue().rstrip() + "\n"
    return out


def cited_spans_by_trace(store: Any, finding: Finding) -> list[tuple[str, list[str]]]:
    """The finding's cited span ids grouped by the trace that holds them, traces in the finding's order and
    spans in citation order; a span no cited trace holds (pruned since) is left out."""
    if not finding.span_ids or not finding.trace_ids:
        return []
    rows = store.con.execute(
        "SELECT trace_id, span_id FROM spans WHERE trace_id IN (SELECT unnest(?)) AND span_id IN (SELECT unnest(?))",
        [list(finding.trace_ids), list(finding.span_ids)],
    ).fetchall()
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
