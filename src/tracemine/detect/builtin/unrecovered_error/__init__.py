"""``unrecovered_error``: an explicit error the agent did not retry or handle before finishing.

Units are the agent's steps — tool calls, LLM calls, nested agent spans — and the root. A unit whose
status is an explicit ERROR is *recovered* when a later unit of the same kind and name (the same tool,
with the same or corrected arguments; the same sub-agent) succeeded — for an LLM call, any later
successful LLM call (a retry or a fallback model). Otherwise it is
*handled* when some later tool call succeeded — a new call, not a repeat of one made before the error —
and the run then finished normally — root not in error and
a final answer that does not admit failure. What is neither recovered nor handled is flagged: one signal
per failing tool/model/sub-agent (naming each of its failed spans), with the root added when the run
itself ended in ERROR; a root in ERROR with no failing step is flagged on its own. A sub-agent in ERROR
is a failing unit only when no step inside it failed: otherwise its error is the step's, propagated.

A read whose error says there is no such thing and names it (``order 'ORD-9' not found``) has answered
(``not_found_is_answer``): reporting it, or asking the user, is what the agent should do. A bare
``404 Not Found`` names nothing (the endpoint may be wrong) and has answered only when a later model turn
or the final answer tells the user nothing was found (``handled_miss_is_answer``). A *write* told there is
no such thing failed (its change did not happen) — unless the agent told the user so: the thing it was
asked to change does not exist, a mistake in the request that the agent handled.

A call failing inside a cycle of tools (A → B → A → B …, :mod:`tracemine.detect.builtin.loop`) is the cycle's
finding, not an unrecovered error; one call retried again and again until the run gave up stays one.

A failure reported in a tool's *result* while its status is OK/unset (an error body, ``success: false``:
how the OpenAI Agents SDK and many frameworks report a failed tool) counts as an error here when the
run gave up on it (``admitted_result_errors``, :func:`~tracemine.detect.outcome.gave_up_on`): it is the
last failing call, its tool was not tried again, and the final answer admits failure (or, for the run's
last call, none is on record). The agent saw it and said so, so it is not silent — it went unrecovered.
A failure followed by a retry, or carried on from as if it worked, is judged by ``silent_failure``, and
so is a body showing its own HTTP error status or page under an OK span (silent whatever the agent did). With
``include_result_errors`` (off by default) any tool call whose result reports failure while its status
is OK/unset (a ``silent_failure``) also counts as an error here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from tracemine.detect.actions import loop_span_ids
from tracemine.detect.base import Detector
from tracemine.detect.builtin.argument_error import rejects_arguments
from tracemine.detect.builtin.loop import LoopDetectorParams
from tracemine.detect.builtin.unrecovered_error.evidence import UnrecoveredErrorEvidence
from tracemine.detect.outcome import (
    PAGE_FAILURES,
    Failure,
    admits_failure,
    call_failure,
    error_description,
    exception_events,
    excerpt,
    explicit_error,
    final_answer,
    gave_up_on,
    is_argument_rejection,
    not_found_failure,
    reported_status,
    reports_miss,
    says_missing,
    says_not_found,
)
from tracemine.detect.tool_roles import is_write_tool
from tracemine.detect.view import LlmTurn, ToolCall, TraceView
from tracemine.model import Severity, Signal, Span, SpanKind, span_order_key


class UnrecoveredErrorParams(BaseModel):
    """``detect.unrecovered_error`` (and ``detect.loop``, read to leave errors inside loops to the loop detector)."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True, validate_default=True)

    include_result_errors: bool = Field(False, description="also treat failures reported only in results as errors")
    include_llm_errors: bool = Field(True, description="failed LLM calls count as errors")
    not_found_is_answer: bool = Field(True, description="a read whose error names what does not exist (order 'X' "
                                      "not found) has answered")
    handled_miss_is_answer: bool = Field(True, description="a bare 404 has answered when the agent then told the "
                                         "user nothing was found")
    admitted_result_errors: bool = Field(True, description="a failure reported in the last tool result, then a "
                                         "final answer admitting failure")
    handled_by_other_tools: bool = Field(True, description="a later new successful call + a final answer not "
                                         "admitting failure")
    severity: Severity = Field(Severity.MEDIUM, description="severity of an unrecovered read error")
    severity_write: Severity = Field(Severity.HIGH, description="severity of an unrecovered write error")
    severity_run_failed: Severity = Field(Severity.HIGH, description="severity when the run itself failed")
    loop: LoopDetectorParams = Field(default_factory=LoopDetectorParams, description="the loop detector's settings")


@dataclass(slots=True)
class Unit:
    """One step of the run, as this detector sees it."""

    span: Span
    kind: str  # tool / llm / agent
    name: str
    failed: bool
    reason: str = ""
    result_text: str = ""
    call_key: str = ""


@dataclass(slots=True)
class Group:
    """The failed units of one tool (or model, or sub-agent) that were never followed by a success."""

    kind: str
    name: str
    units: list[Unit] = field(default_factory=list)


class UnrecoveredErrorDetector(Detector):
    """Explicit errors with no successful retry or recovery before the run finished."""

    name = "unrecovered_error"
    kinds = ("unrecovered_error",)
    wording = "wording.j2"
    uses_window_stats = False
    error_families = True  # an outage needs retries or a fallback, a denial a credential: other fixes
    reads_settings_of = ("loop",)
    params_model: ClassVar[type[UnrecoveredErrorParams]] = UnrecoveredErrorParams
    evidence_model: ClassVar[type[UnrecoveredErrorEvidence]] = UnrecoveredErrorEvidence
    params: UnrecoveredErrorParams

    def detect(self, view: TraceView) -> Iterable[Signal]:
        root = view.root
        root_failed = root is not None and root.kind not in (SpanKind.TOOL, SpanKind.LLM) and explicit_error(root)
        answer = final_answer(view)
        run_admits_failure = admits_failure(answer)
        units = self._units(view)
        groups: dict[tuple[str, str], Group] = {}
        for i, unit in enumerate(units):
            if not unit.failed:
                continue
            later = units[i + 1:]
            # a later success that merely repeats a call made before the error brings nothing new
            stale = {u.call_key for u in units[:i] if u.call_key} - {unit.call_key}
            fresh = [u for u in later if not u.failed and u.call_key not in stale]
            if any(u.kind == unit.kind and (u.name == unit.name or u.kind == "llm") for u in fresh):
                continue  # retried (or corrected) successfully; any model answering later recovers an LLM error
            handled = (
                self.params.handled_by_other_tools
                and any(u.kind == "tool" for u in fresh)
                and not root_failed
                and not run_admits_failure
            )
            if handled:
                continue
            groups.setdefault((unit.kind, unit.name), Group(unit.kind, unit.name)).units.append(unit)
        ordered = sorted(groups.values(), key=lambda g: span_order_key(g.units[-1].span))
        signals = []
        for group in ordered:
            with_root = root_failed and group is ordered[-1]
            signals.append(self._signal(view, group, units, root if with_root else None, answer))
        if root_failed and not ordered and root is not None:
            signals.append(self._root_signal(view, root, units, answer))
        return signals

    def _answered(self, view: TraceView, call: ToolCall, reason: str) -> bool:
        """A read whose error says there is no such thing, naming it: an answer the agent may report or act
        on (what it does next is the ``silent_failure`` detector's ``ignored_not_found``), not a failure. A
        write that misses failed, unless the agent told the user the thing does not exist (handled)."""
        if not self.params.not_found_is_answer:
            return False
        if is_write_tool(call.tool, view.tool_definitions.get(call.tool)) and not reports_miss(view, call):
            return False
        texts = [reason, *(m for _, m in exception_events(call.span)), call.result_text]
        if any(text and says_not_found(text, call.args) for text in texts):
            return True
        # a bare "404 Not Found" names nothing (the endpoint may be wrong) unless the agent told the user
        # that nothing was found
        return self.params.handled_miss_is_answer and says_missing(
            call.result, call.span.tool_result, Failure("error_text", reason), call.args) and reports_miss(view, call)

    def _units(self, view: TraceView) -> list[Unit]:
        """Tool calls, LLM calls (optional) and nested agent spans, in execution order."""
        include_results = self.params.include_result_errors
        given_up = gave_up_on(view) if self.params.admitted_result_errors else None
        params = self.params.loop
        if given_up is not None and given_up.span.span_id in loop_span_ids(view, params):
            given_up = None  # repeated to the end: the loop's finding names its error
        # a call failing inside a cycle of tools (A → B → A → B …) is the cycle's finding; one call retried
        # again and again until the run gave up stays a failure "after N attempts"
        in_loops = loop_span_ids(view, params, min_period=2) if len(view.tool_calls) > 3 else set()
        units: list[Unit] = []
        for step in view.steps:
            if isinstance(step, ToolCall):
                failed = explicit_error(step.span) and step.span.span_id not in in_loops
                reason = error_description(step.span) if failed else ""
                if failed and (self._answered(view, step, reason) or rejects_arguments(step)):
                    failed, reason = False, ""  # an answer, or a rejected call: argument_error's finding
                if not failed and step.span.span_id not in in_loops and (include_results or step is given_up):
                    failure = call_failure(step)
                    if failure is not None and failure.mechanism not in PAGE_FAILURES \
                            and not not_found_failure(failure, step.result, step.args) \
                            and not self._answered(view, step, failure.reason) \
                            and not is_argument_rejection(failure, step.result) and not rejects_arguments(step):
                        failed, reason = True, failure.reason  # a rejected call is argument_error's finding
                units.append(Unit(step.span, "tool", step.tool, failed, reason, step.result_text,
                                  f"{step.tool}\x00{step.args_key}"))
            elif isinstance(step, LlmTurn) and self.params.include_llm_errors:
                failed = explicit_error(step.span)
                units.append(Unit(step.span, "llm", step.span.model or step.span.name, failed,
                                  error_description(step.span) if failed else "", step.output_text))
        root = view.root
        for span in view.trace.spans:
            if span.kind == SpanKind.AGENT and span is not root:
                # an error that rose from a failed step inside the sub-agent is that step's failure, not one
                # of its own (exceptions propagate up through their parents)
                failed = explicit_error(span) and not any(
                    explicit_error(d) for d in view.descendants(span.span_id)
                    if d.kind in (SpanKind.TOOL, SpanKind.LLM, SpanKind.AGENT))
                units.append(Unit(span, "agent", span.agent_name or span.name, failed,
                                  error_description(span) if failed else "", span.output or ""))
        units.sort(key=lambda u: span_order_key(u.span))
        return units

    def _signal(self, view: TraceView, group: Group, units: list[Unit], root: Span | None, answer: str) -> Signal:
        last = group.units[-1]
        position = next(i for i, u in enumerate(units) if u is last)
        steps_after = len(units) - position - 1
        span_ids = [u.span.span_id for u in group.units] + ([root.span_id] if root is not None else [])
        final_status = reported_status(view.root) if view.root is not None else "unknown"
        write = group.kind == "tool" and is_write_tool(group.name, view.tool_definitions.get(group.name))
        if root is not None:
            severity = self.params.severity_run_failed
        else:
            severity = self.params.severity_write if write else self.params.severity
        evidence: dict[str, Any] = {
            "tool": group.name if group.kind == "tool" else None,
            "step_kind": group.kind,
            "error": last.reason,
            "span_ids": span_ids,
            "failed_attempts": len(group.units),
            "steps_after": steps_after,
            "retried": len(group.units) > 1,
            "recovered": False,
            "final_status": final_status,
            "run_failed": root is not None,
            "final_answer_admits_failure": admits_failure(answer),
            "final_answer_excerpt": excerpt(answer, 200),
            "write": write,
            # retried or not, ending the run in ERROR or apologising: one fix per step and error family
            "fix_mechanism": f"{group.kind}_failure_unrecovered",
        }
        if group.kind != "tool":
            evidence[group.kind] = group.name
        subject = {"tool": "tool", "llm": "LLM call to", "agent": "sub-agent"}[group.kind]
        attempts = f" after {len(group.units)} attempts" if len(group.units) > 1 else ""
        ending = "the run ended in ERROR" if root is not None else "the agent finished without recovering"
        text = f"{subject} {group.name} failed{attempts} with {last.reason} and {ending}"
        return self.signal(view, "unrecovered_error", span_ids, severity, evidence, text)

    def _root_signal(self, view: TraceView, root: Span, units: list[Unit], answer: str) -> Signal:
        reason = error_description(root)
        name = root.agent_name or root.name
        evidence: dict[str, Any] = {"agent": name,
            "tool": None, "step_kind": "agent", "error": reason, "span_ids": [root.span_id], "failed_attempts": 1,
            "steps_after": 0, "retried": False, "recovered": False, "final_status": reported_status(root),
            "run_failed": True, "final_answer_admits_failure": admits_failure(answer),
            "final_answer_excerpt": excerpt(answer, 200), "steps": len(units), "write": False,
            "fix_mechanism": "run_error",
        }
        text = f"agent run {name} ended in ERROR with {reason}"
        return self.signal(view, "unrecovered_error", [root.span_id], self.params.severity_run_failed, evidence, text)
