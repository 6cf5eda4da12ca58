"""A detector's view of one trace: the agent's steps in execution order, with tool calls decoded and
their arguments and results in canonical form, LLM turns, and the tools the agent was given."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from tracemine.detect.args import canonical
from tracemine.ingest.decode import decode_value
from tracemine.ingest.mappers.common import normalize_tool_definitions
from tracemine.model import Span, SpanKind, Status, Trace, span_order_key


@dataclass(slots=True)
class ToolCall:
    """One tool invocation. ``step`` is its position among all steps, ``index`` among tool calls."""

    step: int
    index: int
    span: Span
    tool: str
    args: Any
    args_key: str
    result: Any
    result_text: str
    result_key: str

    @property
    def failed(self) -> bool:
        """The source marked the span as an error (explicitly or by an exception event)."""
        return self.span.status == Status.ERROR

    @property
    def duration_ns(self) -> int | None:
        return self.span.duration_ns


@dataclass(slots=True)
class LlmTurn:
    """One LLM call and what it produced."""

    step: int
    index: int
    span: Span
    output_text: str
    output_key: str


Step = ToolCall | LlmTurn


@dataclass
class TraceView:
    """Everything detectors read about one trace (built once, shared by every detector)."""

    trace: Trace
    steps: list[Step] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    llm_turns: list[LlmTurn] = field(default_factory=list)

    @classmethod
    def build(cls, trace: Trace) -> TraceView:
        view = cls(trace)
        for span in sorted(trace.spans, key=span_order_key):
            if span.kind == SpanKind.TOOL:
                result_text = span.tool_result or ""
                call = ToolCall(
                    step=len(view.steps),
                    index=len(view.tool_calls),
                    span=span,
                    tool=span.tool_name or span.name or "?",
                    args=decode_value(span.tool_arguments) if span.tool_arguments is not None else None,
                    args_key=canonical(span.tool_arguments),
                    result=decode_value(span.tool_result) if span.tool_result is not None else None,
                    result_text=result_text,
                    result_key=canonical(span.tool_result),
                )
                view.steps.append(call)
                view.tool_calls.append(call)
            elif span.kind == SpanKind.LLM:
                output = span.output or ""
                turn = LlmTurn(step=len(view.steps), index=len(view.llm_turns), span=span, output_text=output,
                               output_key=canonical(output))
                view.steps.append(turn)
                view.llm_turns.append(turn)
        return view

    @property
    def trace_id(self) -> str:
        return self.trace.trace_id

    @property
    def root(self) -> Span | None:
        return self.trace.root

    @cached_property
    def spans_by_id(self) -> dict[str, Span]:
        return {s.span_id: s for s in self.trace.spans}

    def children(self, span_id: str) -> list[Span]:
        return self.trace.children.get(span_id, [])

    def descendants(self, span_id: str) -> list[Span]:
        out: list[Span] = []
        stack = list(self.children(span_id))
        while stack:
            span = stack.pop()
            out.append(span)
            stack.extend(self.children(span.span_id))
        return out

    @cached_property
    def agent_name(self) -> str | None:
        for span in self.trace.spans:
            if span.agent_name:
                return span.agent_name
        return None

    @cached_property
    def tool_definitions(self) -> dict[str, dict[str, Any]]:
        """Tools the agent was given in this trace, by name (empty when the trace does not say)."""
        found: dict[str, dict[str, Any]] = {}
        for span in self.trace.spans:
            if span.tool_definitions:
                for definition in normalize_tool_definitions(span.tool_definitions) or ():
                    current = found.get(definition["name"])
                    if current is None or len(definition) > len(current):
                        found[definition["name"]] = definition
        return found
