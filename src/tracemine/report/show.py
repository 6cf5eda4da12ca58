"""``tracemine show``: one trace as a tree with the spans detectors flagged, or one stored finding in full.

Everything that comes from a trace (names, arguments, results, messages, detector evidence) is redacted
with a :class:`~tracemine.redact.Redactor` and printed as plain :class:`rich.text.Text`, so
rich markup in trace data (``[bold]``, ``[link=…]``) is shown as written, never interpreted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from rich.console import Console, Group
from rich.text import Text
from rich.tree import Tree

from tracemine.formatting import format_count, format_ns
from tracemine.model import (
    Finding,
    Severity,
    Signal,
    Span,
    SpanKind,
    Status,
    Trace,
    build_children,
    span_order_key,
)
from tracemine.placeholders import unmask
from tracemine.redact import Redactor
from tracemine.report.hints import command
from tracemine.store import traces as stored

#: Characters of an argument, result or message shown without ``--full``.
TRIM_CHARS = 200
#: A prefix shorter than this never matches (ids of 4–6 characters would match half the archive).
MIN_PREFIX = 8
#: Candidates listed when a prefix is ambiguous.
MAX_CANDIDATES = 20

SEVERITY_STYLE = {Severity.CRITICAL: "bold red", Severity.HIGH: "red", Severity.MEDIUM: "yellow", Severity.LOW: "cyan", "info": "dim"}
KIND_STYLE = {
    SpanKind.AGENT: "bold magenta", SpanKind.LLM: "bold blue", SpanKind.TOOL: "bold green",
    SpanKind.RETRIEVER: "green", SpanKind.CHAIN: "magenta", SpanKind.EMBEDDING: "blue",
    SpanKind.GUARDRAIL: "yellow", SpanKind.OTHER: "white",
}
_SPACE = re.compile(r"\s+")


# -- lookup ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class TraceCandidate:
    """A trace an id or prefix matched, with enough to tell candidates apart."""

    trace_id: str
    raw_trace_id: str | None
    spans: int
    start_ns: int | None
    root_name: str | None


@dataclass(slots=True)
class TraceLookup:
    """Result of :func:`find_trace`: ``how`` is ``trace_id``, ``raw_trace_id``, ``prefix`` or ``none``;
    ``trace_id`` is set when exactly one trace matched; ``candidates`` lists an ambiguous prefix's matches."""

    how: str
    trace_id: str | None = None
    candidates: list[TraceCandidate] = field(default_factory=list)


def find_trace(store: Any, ident: str) -> TraceLookup:
    """Resolve ``ident`` to a stored trace: the normalised id (exact, then lower-cased), the source's raw
    spelling (``raw_trace_id``), then a unique prefix of at least :data:`MIN_PREFIX` characters of either."""
    ident = ident.strip()
    if not ident:
        return TraceLookup("none")
    for candidate in dict.fromkeys((ident, ident.lower())):
        if stored.has_trace(store, candidate):
            return TraceLookup("trace_id", candidate)
    raw = stored.traces_with_raw_id(store, ident, 2)
    if len(raw) == 1:
        return TraceLookup("raw_trace_id", raw[0])
    if len(raw) > 1:  # two sources spelled different traces the same way: let the user pick
        return TraceLookup("raw_trace_id", None, _candidates(store, raw))
    if len(ident) < MIN_PREFIX:
        return TraceLookup("none")
    ids = stored.traces_with_prefix(store, ident, MAX_CANDIDATES + 1)
    if not ids:
        return TraceLookup("none")
    if len(ids) == 1:
        return TraceLookup("prefix", ids[0])
    return TraceLookup("prefix", None, _candidates(store, ids))


def _candidates(store: Any, trace_ids: list[str]) -> list[TraceCandidate]:
    rows = stored.trace_summaries(store, trace_ids)
    return [TraceCandidate(r[0], r[1], int(r[2]), r[3], r[4]) for r in rows]


def print_candidates(console: Console, ident: str, candidates: Sequence[TraceCandidate],
                     redactor: Redactor | None = None) -> None:
    """List the traces an ambiguous prefix matched (at most :data:`MAX_CANDIDATES`)."""
    red = redactor or Redactor()
    more = "more than " if len(candidates) > MAX_CANDIDATES else ""
    console.print(Text(f"{ident!r} matches {more}{min(len(candidates), MAX_CANDIDATES)} traces; give more characters:"))
    for c in candidates[:MAX_CANDIDATES]:
        line = Text("  ")
        line.append(c.trace_id, style="bold")
        if c.raw_trace_id and c.raw_trace_id != c.trace_id:
            line.append(f"  (raw {red.redact(c.raw_trace_id)})", style="dim")
        line.append(f"  {c.spans} span(s)  {format_ns(c.start_ns)}")
        if c.root_name:
            line.append(f"  {_one_line(red.redact(c.root_name), 60)}", style="dim")
        console.print(line)


def trace_signals(store: Any, trace_id: str) -> tuple[int | None, list[Signal]]:
    """The signals of ``trace_id`` from the latest detection run whose window covered the trace
    (:data:`tracemine.store.traces.COVERING_DETECT_RUN`; the latest run overall when none did), with that run's ``detect_id``; ``(None, [])`` without runs."""
    import duckdb

    try:
        detect_id = stored.covering_detect_run(store, trace_id)
        if detect_id is None:
            detect_id = store.latest_detect_id()
        if detect_id is None:
            return None, []
        return int(detect_id), store.signals(detect_id, trace_id)
    except duckdb.CatalogException:  # an archive written before detection existed
        return None, []


def missing_traces(store: Any, trace_ids: Sequence[str]) -> list[str]:
    """The ``trace_ids`` the archive no longer holds (a finding's citations dropped by ``tracemine prune``)."""
    if not trace_ids:
        return []
    held = stored.held_traces(store, list(trace_ids))
    return [t for t in trace_ids if t not in held]


def citing_finding(store: Any, trace_id: str) -> tuple[str, int] | None:
    """``(fingerprint, run_id)`` of the newest stored finding that cites ``trace_id``; ``None`` when none does."""
    if not trace_id:
        return None
    return stored.newest_citing_finding(store, orjson.dumps(trace_id).decode())


def trace_outcome(store: Any, trace_id: str) -> str | None:
    try:
        outcome = stored.outcome_of(store, trace_id)
    except Exception:  # the outcome is decoration; an old archive may lack the table
        return None
    return outcome if outcome and outcome != "unknown" else None


# -- text helpers ------------------------------------------------------------------------------------


def _one_line(text: str, limit: int | None) -> str:
    """Whitespace runs (newlines included) collapsed to one space; cut to ``limit`` characters."""
    flat = _SPACE.sub(" ", text).strip()
    if limit is not None and len(flat) > limit:
        return f"{flat[:limit]}… (+{len(flat) - limit} chars)"
    return flat


def _clean(redactor: Redactor, value: Any, full: bool) -> str:
    """Redact first (a secret cut in half would no longer be recognised), then collapse and trim."""
    return _one_line(redactor.redact(value), None if full else TRIM_CHARS)


def format_duration(ns: int | None) -> str:
    if ns is None:
        return ""
    if ns < 0:
        return f"{ns / 1e6:,.1f} ms"
    if ns < 1_000_000:
        return f"{ns / 1e3:,.0f} µs"
    if ns < 1_000_000_000:
        return f"{ns / 1e6:,.0f} ms"
    if ns < 120 * 1_000_000_000:
        return f"{ns / 1e9:,.2f} s"
    return f"{ns / 6e10:,.1f} min"


def _severity_style(severity: str) -> str:
    return SEVERITY_STYLE.get(str(severity).lower(), "yellow")


# -- traces ------------------------------------------------------------------------------------------


def _span_header(span: Span, red: Redactor) -> Text:
    kind = span.kind.value if isinstance(span.kind, SpanKind) else str(span.kind)
    line = Text()
    line.append(kind, style=KIND_STYLE.get(span.kind, "white"))
    line.append(" ")
    line.append(_one_line(red.redact(span.name), 120) or "(unnamed)", style="bold")
    if span.tool_name and span.tool_name != span.name:
        line.append("  tool=")
        line.append(_one_line(red.redact(span.tool_name), 80), style="green")
    if span.status == Status.ERROR:
        line.append("  ERROR", style="bold red")
    elif span.status == Status.OK:
        line.append("  ok", style="green")
    else:
        line.append("  unset", style="dim")
    if span.status_source != "explicit" and span.status != Status.UNSET:
        line.append(" (inferred)", style="dim")
    duration = format_duration(span.duration_ns)
    if duration:
        line.append(f"  {duration}", style="cyan")
    if span.model:
        line.append("  model=")
        line.append(_one_line(red.redact(span.model), 60), style="blue")
    tokens = [f"{label} {value:,}" for label, value in (
        ("in", span.input_tokens), ("out", span.output_tokens),
    ) if value is not None]
    if span.total_tokens is not None and not tokens:
        tokens.append(f"total {span.total_tokens:,}")
    if tokens:
        line.append(f"  tokens {' / '.join(tokens)}", style="blue")
    if span.cost_usd:
        line.append(f"  ${span.cost_usd:,.4f}", style="blue")
    line.append(f"  {span.span_id}", style="dim")
    return line


def _field(label: str, value: Any, red: Redactor, full: bool, style: str = "") -> Text:
    line = Text()
    line.append(f"{label}: ", style="dim")
    line.append(_clean(red, value, full), style=style)
    return line


def _span_body(span: Span, red: Redactor, full: bool) -> list[Text]:
    lines: list[Text] = []
    if span.status_message:
        lines.append(_field("status", span.status_message, red, full, "red" if span.status == Status.ERROR else ""))
    if span.tool_arguments is not None:
        lines.append(_field("args", span.tool_arguments, red, full))
    if span.tool_result is not None:
        lines.append(_field("result", span.tool_result, red, full, "red" if span.status == Status.ERROR else ""))
    if span.kind in (SpanKind.LLM, SpanKind.AGENT) or span.tool_name is None:
        if full and span.input:
            lines.append(_field("input", span.input, red, full))
        if span.output and span.tool_result is None:
            lines.append(_field("output", span.output, red, full))
    if full and span.events:
        for event in span.events:
            name = event.get("name", "event") if isinstance(event, dict) else "event"
            lines.append(_field(f"event {red.redact(name)}", red.redact_value(event), red, full))
    if span.truncated:
        lines.append(Text("(payload truncated at ingest)", style="dim"))
    return lines


def _signal_line(number: int, signal: Signal, red: Redactor, full: bool, first: bool) -> Text:
    style = _severity_style(signal.severity)
    line = Text()
    line.append(f"⚑ #{number} {signal.kind}", style=f"{style} bold")
    line.append(f" ({signal.severity}, {signal.detector})", style=style)
    if first:
        line.append(": ")
        line.append(_clean(red, unmask(signal.text, signal.evidence), full), style=style)
    else:
        line.append(" (see above)", style="dim")
    return line


def _short_id(span_id: str) -> str:
    """A span id cut to 8 characters (the full id stays on the span's own line, where searches find it)."""
    return span_id if len(span_id) <= 10 else f"{span_id[:8]}…"


def _cause_line(number: int, signal: Signal, red: Redactor) -> Text:
    """``◆ cause of #n kind on span ID…``: this LLM call decided the failure another span shows."""
    line = Text()
    line.append(f"◆ cause of #{number} {signal.kind}", style="bold magenta")
    shown = [s for s in signal.span_ids if s != signal.cause_span_id]
    if shown:
        more = f" (+{len(shown) - 1} more)" if len(shown) > 1 else ""
        line.append(f" on span {_short_id(red.redact(shown[0]))}{more}", style="magenta")
    if signal.agent:
        line.append(f", agent {_one_line(red.redact(signal.agent), 80)}", style="dim")
    return line


def build_trace_tree(trace: Trace, signals: Sequence[Signal], redactor: Redactor | None = None,
                     full: bool = False, title: Text | None = None) -> Tree:
    """The trace as a :class:`rich.tree.Tree`: children nested by parent id in execution order, flagged
    spans highlighted with each signal's kind, severity and (on the first span it cites) its evidence, and
    each signal's cause span (the LLM call that decided it) marked ``◆``."""
    red = redactor or Redactor()
    flagged: dict[str, list[int]] = {}
    causes: dict[str, list[int]] = {}
    for number, signal in enumerate(signals, 1):
        for span_id in dict.fromkeys(signal.span_ids):
            flagged.setdefault(span_id, []).append(number)
        if signal.cause_span_id is not None:
            causes.setdefault(signal.cause_span_id, []).append(number)
    evidence_shown: set[int] = set()
    tree = Tree(title or Text(f"trace {trace.trace_id}", style="bold"), guide_style="dim")
    children = trace.children or build_children(trace.spans)
    seen: set[int] = set()

    def node_label(span: Span) -> Group:
        header = _span_header(span, red)
        numbers = flagged.get(span.span_id, [])
        caused = causes.get(span.span_id, [])
        if numbers:
            header.stylize("on grey15")
            header = Text("▶ ", style="bold yellow") + header
        elif caused:
            header = Text("◆ ", style="bold magenta") + header
        parts: list[Text] = [header]
        for number in numbers:
            parts.append(_signal_line(number, signals[number - 1], red, full, number not in evidence_shown))
            evidence_shown.add(number)
        parts.extend(_cause_line(number, signals[number - 1], red) for number in caused)
        parts.extend(_span_body(span, red, full))
        return Group(*parts)

    # Iterative depth-first walk (deep traces must not hit the recursion limit); spans caught in a parent
    # cycle are unreachable from the roots and are shown at top level afterwards.
    def attach(parent: Tree, roots: Iterable[Span]) -> None:
        stack: list[tuple[Tree, Span]] = [(parent, s) for s in reversed(list(roots))]
        while stack:
            node, span = stack.pop()
            if id(span) in seen:
                continue
            seen.add(id(span))
            branch = node.add(node_label(span))
            kids = children.get(span.span_id, [])
            stack.extend((branch, kid) for kid in reversed(kids) if kid is not span)

    attach(tree, children.get(None, []))
    leftover = [s for s in sorted(trace.spans, key=span_order_key) if id(s) not in seen]
    while leftover:
        attach(tree, leftover[:1])
        leftover = [s for s in leftover if id(s) not in seen]
    return tree


def print_trace(console: Console, spans: list[Span], signals: Sequence[Signal], redactor: Redactor | None = None,
                full: bool = False, detect_id: int | None = None, outcome: str | None = None,
                matched: str | None = None, db: str | None = None) -> None:
    """Print a trace (its spans as loaded from the store) with the given detector signals."""
    red = redactor or Redactor()
    trace = Trace(spans[0].trace_id if spans else "", spans)
    ordered = trace.ordered()
    errors = sum(1 for s in spans if s.status == Status.ERROR)
    starts = [s.start_ns for s in spans if s.start_ns is not None]
    ends = [s.end_ns for s in spans if s.end_ns is not None]
    title = Text()
    title.append(f"trace {trace.trace_id}", style="bold")
    raw = next((s.raw_trace_id for s in ordered if s.raw_trace_id and s.raw_trace_id != s.trace_id), None)
    if raw:
        title.append(f"  (raw id {_one_line(red.redact(raw), 80)})", style="dim")
    facts = [f"{len(spans)} span(s)"]
    if errors:
        facts.append(f"{errors} error(s)")
    if starts:
        facts.append(f"started {format_ns(min(starts))}")
    if starts and ends:
        facts.append(f"took {format_duration(max(ends) - min(starts))}")
    if outcome:
        facts.append(f"outcome {outcome}")
    fmt = next((s.source.format for s in ordered if s.source and s.source.format), None)
    if fmt:
        facts.append(f"format {fmt}")
    title.append("\n" + ", ".join(facts), style="dim")
    if matched and matched != "trace_id":
        title.append(f" (matched by {matched})", style="dim")
    # soft_wrap=False: long arguments and results wrap inside the tree instead of being cropped
    console.print(build_trace_tree(trace, signals, red, full, title), soft_wrap=False)
    _print_signal_summary(console, signals, {s.span_id for s in spans}, detect_id, red, full, db)


def _print_signal_summary(console: Console, signals: Sequence[Signal], span_ids: set[str], detect_id: int | None,
                          red: Redactor, full: bool, db: str | None = None) -> None:
    if detect_id is None:
        console.print(Text(f"no detection run in the archive: run `{command('detect', db=db)}` to flag spans",
                           style="dim"))
        return
    if not signals:
        console.print(Text(f"no signals for this trace in detection run #{detect_id}", style="green"))
        return
    console.print(Text(f"{len(signals)} signal(s) from detection run #{detect_id}:", style="bold"))
    for number, signal in enumerate(signals, 1):
        style = _severity_style(signal.severity)
        line = Text("  ")
        line.append(f"#{number} {signal.kind}", style=f"{style} bold")
        line.append(f" ({signal.severity}, {signal.detector}) ", style=style)
        line.append(_clean(red, unmask(signal.text, signal.evidence), full))
        cited = [s for s in signal.span_ids if s in span_ids]
        if cited:
            line.append(f"  spans: {', '.join(cited)}", style="dim")
        missing = [s for s in signal.span_ids if s not in span_ids]
        if missing:
            line.append(f"  (not in trace: {', '.join(missing)})", style="dim red")
        if signal.cause_span_id is not None:
            line.append(f"  cause: {signal.cause_span_id}", style="magenta" if signal.cause_span_id in span_ids else "dim red")
        if signal.agent:
            line.append(f"  agent: {_one_line(red.redact(signal.agent), 80)}", style="dim")
        console.print(line)


# -- findings ----------------------------------------------------------------------------------------


def _heading(label: str) -> Text:
    return Text(label, style="bold underline")


def _prose(console: Console, label: str, text: str, red: Redactor) -> None:
    if not text:
        return
    console.print(_heading(label))
    console.print(Text(red.redact(text).strip()))
    console.print()


def _id_block(console: Console, label: str, ids: Sequence[str]) -> None:
    console.print(_heading(f"{label} ({len(ids)})"))
    if ids:
        console.print(Text("\n".join(ids)), soft_wrap=True)
    else:
        console.print(Text("—", style="dim"))
    console.print()


def print_finding(console: Console, finding: Finding, redactor: Redactor | None = None, db: str | None = None) -> None:
    """Print a finding in full: facts, prose, impact, where it happens, exemplars and every cited id.

    Finding text is redacted again (it is cheap and idempotent) and printed as plain text; the
    ``tracemine show`` hints name ``db`` when it is not the default archive."""
    red = redactor or Redactor()
    f = finding
    title = Text()
    title.append(red.redact(f.title), style="bold")
    console.print(title)
    line = Text()
    line.append("fingerprint ", style="dim")
    line.append(f.fingerprint, style="bold")
    line.append("  status ", style="dim")
    line.append(f.status)
    line.append("  severity ", style="dim")
    line.append(f.severity, style=_severity_style(f.severity))
    line.append("  score ", style="dim")
    line.append(f"{f.score:.3f}")
    console.print(line)
    facts = Text()
    facts.append("kinds ", style="dim")
    facts.append(", ".join(f.kinds) or "—")
    facts.append("  clusters ", style="dim")
    facts.append(", ".join(f.cluster_ids) or "—")
    facts.append("  summariser ", style="dim")
    facts.append(f.summariser)
    console.print(facts)
    console.print()
    _prose(console, "Summary", f.summary, red)
    _prose(console, "Mechanism", f.mechanism, red)
    _prose(console, "Recommended fix", f.recommended_fix, red)

    imp = f.impact
    console.print(_heading("Impact"))
    console.print(Text(
        f"traces {format_count(imp.traces)} of {format_count(imp.window_traces)} ({imp.trace_share:.1%}), "
        f"signals {format_count(imp.signals)}, tokens wasted {format_count(imp.tokens_wasted)}, "
        f"latency wasted {format_duration(int(imp.latency_wasted_ms * 1e6))}, "
        f"cost wasted ${imp.cost_wasted_usd:,.4f}"
    ))
    console.print()
    console.print(_heading("Where"))
    for label, values in (("tools", f.tools), ("agents", f.agents), ("models", f.models)):
        row = Text()
        row.append(f"{label}: ", style="dim")
        row.append(red.redact(", ".join(values)) if values else "—")
        console.print(row)
    seen = Text()
    seen.append("first seen: ", style="dim")
    seen.append(format_ns(f.first_seen_ns))
    seen.append("  last seen: ", style="dim")
    seen.append(format_ns(f.last_seen_ns))
    console.print(seen)
    console.print()
    console.print(_heading(f"Exemplars ({len(f.exemplars)})"))
    for i, ex in enumerate(f.exemplars, 1):
        head = Text(f"{i}. trace ")
        head.append(ex.trace_id, style="bold")
        if ex.span_ids:
            head.append("  spans ")
            head.append(", ".join(ex.span_ids))
        console.print(head)
        for excerpt_line in red.redact(ex.excerpt).splitlines() or [""]:
            console.print(Text("   " + excerpt_line, style="dim"))
        console.print(Text("   " + command("show", ex.trace_id, db=db), style="cyan"), soft_wrap=True)
    if not f.exemplars:
        console.print(Text("—", style="dim"))
    console.print()
    _id_block(console, "Trace ids", f.trace_ids)
    _id_block(console, "Span ids", f.span_ids)


def print_fix(console: Console, record: Any, redactor: Redactor | None = None, heading: bool = True) -> None:
    """A recorded fix (:class:`tracemine.fixes.FixRecord`) and the last run's verdict on it: the status,
    the rates before and after with the p-value, the note and link (redacted, plain text)."""
    from tracemine.report.markdown import fix_text
    from tracemine.report.terminal import FIX_STYLE

    red = redactor or Redactor()
    if heading:
        console.print()
        console.print(_heading("Fix"))
    line = Text()
    status = record.status or "not checked yet"
    line.append(status, style=FIX_STYLE.get(status, "dim"))
    line.append(f"  {record.fingerprint}", style="bold")
    title = (record.check or {}).get("title")
    if title:
        line.append(f"  {red.redact(title)}")
    console.print(line)
    detail = Text("  ")
    if record.check:
        detail.append(fix_text(record.check))
        detail.append(f" (mine run {record.run_id})", style="dim")
    else:
        detail.append(f"shipped {format_ns(record.at_ns)}; the next `tracemine mine` checks it", style="dim")
    console.print(detail)
    for label, value in (("note", record.note), ("ref", record.ref)):
        if value:
            row = Text("  ")
            row.append(f"{label}: ", style="dim")
            row.append(red.redact(value))
            console.print(row)
