"""A detector's view of one trace: the agent's steps in execution order, with tool calls decoded and
their arguments and results in canonical form, LLM turns, and the tools the agent was given."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from tracemine.detect.args import call_key, canonical
from tracemine.detect.outcome import Failure, result_failure
from tracemine.ingest.decode import decode_value
from tracemine.ingest.mappers.common import normalize_tool_definitions
from tracemine.model import Span, SpanKind, Status, Trace, span_order_key

_UNSET: Any = object()


class ToolCall:
    """One tool invocation. ``step`` is its position among all steps, ``index`` among tool calls.

    Decoded and canonical forms of the arguments and result are computed on first use: building views
    is on every detector's hot path, and most detectors read only some of them.
    """

    __slots__ = ("_args", "_args_key", "_failure", "_result", "_result_key", "index", "span", "step", "tool")

    def __init__(self, step: int, index: int, span: Span, tool: str) -> None:
        self.step = step
        self.index = index
        self.span = span
        self.tool = tool
        self._args: Any = _UNSET
        self._args_key: Any = _UNSET
        self._result: Any = _UNSET
        self._result_key: Any = _UNSET
        self._failure: Any = _UNSET

    def __repr__(self) -> str:
        return f"ToolCall(step={self.step}, tool={self.tool!r}, span={self.span.span_id!r})"

    @property
    def args(self) -> Any:
        """Decoded arguments (dict, list, text) or ``None``."""
        if self._args is _UNSET:
            raw = self.span.tool_arguments
            self._args = decode_value(raw) if raw is not None else None
        return self._args

    @property
    def args_key(self) -> str:
        """Canonical arguments: equal for calls that differ only in spelling or in per-request tokens such
        as idempotency keys (see :func:`~tracemine.detect.args.call_key`)."""
        if self._args_key is _UNSET:
            self._args_key = call_key(self.span.tool_arguments)
        return self._args_key

    @property
    def result(self) -> Any:
        """Decoded result or ``None``."""
        if self._result is _UNSET:
            raw = self.span.tool_result
            self._result = decode_value(raw) if raw is not None else None
        return self._result

    @property
    def result_text(self) -> str:
        return self.span.tool_result or ""

    @property
    def result_key(self) -> str:
        if self._result_key is _UNSET:
            self._result_key = canonical(self.span.tool_result)
        return self._result_key

    @property
    def failure(self) -> Failure | None:
        """Whether the result reports failure, and why (:func:`~tracemine.detect.outcome.result_failure`);
        ``None`` when it does not or no result was recorded. Several detectors ask: computed once."""
        if self._failure is _UNSET:
            self._failure = (None if self.span.tool_result is None
                             else result_failure(self.result, self.result_text))
        return self._failure

    @property
    def failed(self) -> bool:
        """The source marked the span as an error (explicitly or by an exception event)."""
        return self.span.status == Status.ERROR

    @property
    def duration_ns(self) -> int | None:
        return self.span.duration_ns


class LlmTurn:
    """One LLM call and what it produced. ``output_key`` (the canonical output) is computed on first use:
    only the loop detector compares outputs."""

    __slots__ = ("_output_key", "index", "output_text", "span", "step")

    def __init__(self, step: int, index: int, span: Span, output_text: str) -> None:
        self.step = step
        self.index = index
        self.span = span
        self.output_text = output_text
        self._output_key: Any = _UNSET

    def __repr__(self) -> str:
        return f"LlmTurn(step={self.step}, span={self.span.span_id!r})"

    @property
    def output_key(self) -> str:
        """Canonical output: equal for outputs that differ only in spelling (see :mod:`args`)."""
        if self._output_key is _UNSET:
            self._output_key = canonical(self.output_text)
        return self._output_key


Step = ToolCall | LlmTurn


@dataclass
class TraceView:
    """Everything detectors read about one trace (built once, shared by every detector)."""

    trace: Trace
    steps: list[Step] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    llm_turns: list[LlmTurn] = field(default_factory=list)
    memo: dict[Any, Any] = field(default_factory=dict, repr=False)
    """Results several detectors derive from this trace alike (e.g. its tool loops), computed once."""

    @classmethod
    def build(cls, trace: Trace) -> TraceView:
        view = cls(trace)
        for span in sorted(trace.spans, key=span_order_key):
            if span.kind == SpanKind.TOOL:
                call = ToolCall(len(view.steps), len(view.tool_calls), span, span.tool_name or span.name or "?")
                view.steps.append(call)
                view.tool_calls.append(call)
            elif span.kind == SpanKind.LLM:
                turn = LlmTurn(len(view.steps), len(view.llm_turns), span, span.output or "")
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

    @cached_property
    def position(self) -> dict[str, int]:
        """Each span's place in execution order (start time, sequence, span id)."""
        return {s.span_id: i for i, s in enumerate(sorted(self.trace.spans, key=span_order_key))}

    def parent(self, span: Span) -> Span | None:
        """The span's parent in this trace (``None`` for a root or a parent missing from the trace)."""
        if span.parent_span_id is None or span.parent_span_id == span.span_id:
            return None
        return self.spans_by_id.get(span.parent_span_id)

    def ancestors(self, span: Span) -> list[Span]:
        """The span's ancestors, nearest first (computed once per span; a parent cycle is cut)."""
        cache = self._ancestors
        found = cache.get(span.span_id)
        if found is None:
            found = []
            seen = {span.span_id}
            current = self.parent(span)
            while current is not None and current.span_id not in seen:
                found.append(current)
                seen.add(current.span_id)
                current = self.parent(current)
            cache[span.span_id] = found
        return found

    @cached_property
    def _ancestors(self) -> dict[str, list[Span]]:
        return {}

    def llm_turns_calling(self, tool_call_id: str) -> list[LlmTurn]:
        """LLM turns whose output requests the tool call ``tool_call_id`` (the id appears there as a JSON
        string, in the output text or in an output/completion tool-call attribute), in execution order."""
        cache = self._turns_by_call
        found = cache.get(tool_call_id)
        if found is None:
            quoted, escaped = f'"{tool_call_id}"', f'\\"{tool_call_id}\\"'
            found = [t for t in self.llm_turns
                     if quoted in t.output_text or escaped in t.output_text or _names_call(t.span, tool_call_id)]
            cache[tool_call_id] = found
        return found

    @cached_property
    def _turns_by_call(self) -> dict[str, list[LlmTurn]]:
        return {}

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


def _names_call(span: Span, tool_call_id: str) -> bool:
    """Whether an output-side tool-call attribute of ``span`` (flattened OpenInference / OpenLLMetry
    messages) holds ``tool_call_id``; input-side ones repeat earlier turns' calls and are ignored."""
    for key, value in (span.attributes or {}).items():
        if value == tool_call_id and "tool_call" in key and "input" not in key and "prompt" not in key:
            return True
    return False
