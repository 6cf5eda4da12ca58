"""Cause attribution: the LLM call that decided each signal, and the agent that made it.

A signal's ``span_ids`` say where a failure shows. Its *offending span* is the first cited step that is
a tool or LLM span, except for repetitions: a loop's evidence ``repetitions`` (or ``period``) and a
duplicate's ``reference_span_id`` mark the first call as the legitimate one, so the offending span is
the first call of the first *repeated* block. Its cause is then:

* an LLM span: itself (a latency outlier, a repeated message);
* a tool span with a ``tool_call_id``: the nearest preceding LLM turn whose output requests that id;
* otherwise (and for a tool span whose id no output names): the nearest LLM ancestor, else the nearest
  preceding LLM span sharing the deepest common ancestor (same parent first, then the agent step
  above it, up to the whole trace);
* an agent or chain span: the last LLM call inside it, else as above;
* ``None`` when no LLM span qualifies.

The agent is the offending span's ``agent_name``, else the nearest agent span (itself included) with an
``agent_name`` or name, else the trace's agent name. Values a detector already set are kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tracemine.detect.view import TraceView
from tracemine.model import Signal, Span, SpanKind

_STEP_KINDS = (SpanKind.TOOL, SpanKind.LLM)
_CONTAINER_KINDS = (SpanKind.AGENT, SpanKind.CHAIN)


def attribute(view: TraceView, signals: Iterable[Signal]) -> None:
    """Set ``cause_span_id`` and ``agent`` on ``signals`` of ``view``'s trace (in place, missing ones only)."""
    for signal in signals:
        if signal.cause_span_id is not None and signal.agent is not None:
            continue
        span = offending_span(view, signal)
        if span is None:
            continue
        if signal.cause_span_id is None:
            cause = cause_of(view, span)
            signal.cause_span_id = cause.span_id if cause is not None else None
        if signal.agent is None:
            signal.agent = agent_of(view, span)


def offending_span(view: TraceView, signal: Signal) -> Span | None:
    """The cited span whose decision the signal is about (see the module docstring)."""
    spans = view.spans_by_id
    cited = [spans[i] for i in _ordered_candidates(signal) if i in spans]
    if not cited:
        return None
    return next((s for s in cited if s.kind in _STEP_KINDS), cited[0])


def _ordered_candidates(signal: Signal) -> list[str]:
    """``span_ids`` with the first repeated call moved to the front when the evidence marks repetitions."""
    ids = list(signal.span_ids)
    evidence: dict[str, Any] = signal.evidence if isinstance(signal.evidence, dict) else {}
    repetitions = evidence.get("repetitions")
    period = evidence.get("period")
    reference = evidence.get("reference_span_id")
    first: Any = None
    if isinstance(repetitions, list) and len(repetitions) > 1 and isinstance(repetitions[1], list) and repetitions[1]:
        first = repetitions[1][0]
    elif isinstance(period, int) and not isinstance(period, bool) and 0 < period < len(ids):
        first = ids[period]
    elif isinstance(reference, str) and reference in ids:
        first = next((i for i in ids if i != reference), None)
    if isinstance(first, str):
        ids = [first, *(i for i in ids if i != first)]
    return ids


def cause_of(view: TraceView, span: Span) -> Span | None:
    """The LLM span that decided ``span`` (``None`` when none does)."""
    if span.kind == SpanKind.LLM:
        return span
    if span.tool_call_id:
        requested = _requesting_turn(view, span)
        if requested is not None:
            return requested
    if span.kind in _CONTAINER_KINDS:
        inside = _last_llm_inside(view, span)
        if inside is not None:
            return inside
    return _nearest_llm(view, span)


def _requesting_turn(view: TraceView, span: Span) -> Span | None:
    """The nearest LLM turn before ``span`` whose output requests its ``tool_call_id`` (ids can repeat)."""
    turns = view.llm_turns_calling(span.tool_call_id or "")
    if not turns:
        return None
    where = view.position[span.span_id]
    position = view.position
    before = [t for t in turns if position[t.span.span_id] < where]
    return (before[-1] if before else turns[0]).span


def _last_llm_inside(view: TraceView, container: Span) -> Span | None:
    for turn in reversed(view.llm_turns):
        if any(a.span_id == container.span_id for a in view.ancestors(turn.span)):
            return turn.span
    return None


def _nearest_llm(view: TraceView, span: Span) -> Span | None:
    """The nearest LLM ancestor, else the nearest preceding LLM span under the deepest shared ancestor."""
    chain = view.ancestors(span)
    for ancestor in chain:
        if ancestor.kind == SpanKind.LLM:
            return ancestor
    level_of = {a.span_id: level for level, a in enumerate(chain)}
    top = len(chain)  # the trace itself: a common ancestor of every span
    where = view.position[span.span_id]
    best: Span | None = None
    best_level = top + 1
    for turn in reversed(view.llm_turns):
        if view.position[turn.span.span_id] >= where:
            continue
        level = next((level_of[a.span_id] for a in view.ancestors(turn.span) if a.span_id in level_of), top)
        if level < best_level:
            best, best_level = turn.span, level
            if level == 0:
                break
    return best


def agent_of(view: TraceView, span: Span) -> str | None:
    """The agent that made ``span``'s call (see the module docstring)."""
    if span.agent_name:
        return span.agent_name
    for candidate in (span, *view.ancestors(span)):
        if candidate.kind == SpanKind.AGENT and (candidate.agent_name or candidate.name):
            return candidate.agent_name or candidate.name
    return view.agent_name
