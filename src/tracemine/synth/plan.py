"""The logical plan of one trace: a flat list of LLM and tool steps that workflows build and injectors edit.

A :class:`SpanRec` is first a planned step (tool, arguments, result, status…) and, once
:func:`tracemine.synth.materialize.materialize` has run, a span with ids, times and token counts.
"""

from __future__ import annotations

from random import Random
from typing import Any

import orjson

from tracemine.synth.catalog import AgentSpec, ToolSpec

AGENT = "agent"
LLM = "llm"
TOOL = "tool"
HTTP = "http"

_MISSING: Any = object()


class _NoResult:
    """Marker: the tool span records no result attribute at all."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_RESULT"


NO_RESULT: Any = _NoResult()


class SpanRec:
    """One planned step, later one span (see module docstring)."""

    __slots__ = (
        "args", "args_text", "call_id", "child", "cost", "end", "events", "exc", "final", "fixed_ms", "http",
        "in_mult", "in_tok", "kind", "lat_mult", "messages", "name", "out_mult", "out_tok", "parent_id",
        "result", "result_text", "span_id", "start", "status", "status_msg", "tagged", "text", "tool",
        "tool_name",
    )

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.tool: ToolSpec | None = None
        self.tool_name = ""
        self.args: dict[str, Any] | None = None
        self.args_text = ""
        self.result: Any = None
        self.result_text: str | None = None
        self.status = 0
        self.status_msg = ""
        self.exc: tuple[str, str] | None = None
        self.http: tuple[str, str, int, tuple[str, str] | None] | None = None
        self.text = ""
        self.final = False
        self.in_mult = 1.0
        self.out_mult = 1.0
        self.lat_mult = 1.0
        self.fixed_ms = 0.0
        self.tagged = False
        self.span_id = ""
        self.parent_id = ""
        self.name = ""
        self.start = 0
        self.end = 0
        self.events: list[tuple[int, str, str]] = []
        self.call_id = ""
        self.in_tok = 0
        self.out_tok = 0
        self.cost = 0.0
        self.messages = ""
        self.child: SpanRec | None = None

    def clone(self) -> SpanRec:
        """A fresh planned copy of a tool step: same tool, arguments, result and status; no child span."""
        other = SpanRec(self.kind)
        other.tool = self.tool
        other.tool_name = self.tool_name
        other.args = self.args
        other.args_text = self.args_text
        other.result = self.result
        other.result_text = self.result_text
        other.status = self.status
        other.text = self.text
        return other

    def set_args(self, args: dict[str, Any], text: str | None = None) -> None:
        self.args = args
        self.args_text = text if text is not None else orjson.dumps(args).decode()

    def set_result(self, result: Any) -> None:
        self.result = result
        self.result_text = None


class TraceBuilder:
    """Collects the steps of one trace; workflows call :meth:`call` and :meth:`finish`."""

    __slots__ = (
        "agent", "avoid_tools", "ctx", "final_text", "model", "ok", "only_tool", "rng", "root", "root_exc",
        "root_msg", "root_output", "root_status", "steps", "today", "user_text",
    )

    def __init__(self, agent: AgentSpec, rng: Random, today: int) -> None:
        self.agent = agent
        self.rng = rng
        self.today = today
        self.model = agent.models[rng.randrange(len(agent.models))]
        self.ok = agent.ok_status
        self.root = SpanRec(AGENT)
        self.steps: list[SpanRec] = []
        self.ctx: dict[str, Any] = {}
        self.user_text = ""
        self.final_text = ""
        self.root_status = agent.ok_status
        self.root_msg = ""
        self.root_exc: tuple[str, str] | None = None
        self.root_output: str | None = None
        self.only_tool: str | None = None
        """When set, injectors pick steps of this tool only (a failure mode's bug site)."""
        self.avoid_tools: frozenset[str] = frozenset()
        """Tools injectors leave alone (sites of other modes of the same kind)."""

    # --- building blocks used by workflows and injectors ---------------------------------------------

    def llm_step(self, text: str = "") -> SpanRec:
        step = SpanRec(LLM)
        step.text = text
        return step

    def tool_step(self, name: str, args: dict[str, Any], result: Any = _MISSING) -> SpanRec:
        """A successful call of the agent's tool ``name`` (result drawn from the tool when not given)."""
        spec = self.agent.tools[name]
        rng = self.rng
        step = SpanRec(TOOL)
        step.tool = spec
        step.tool_name = name
        step.set_args(args)
        if result is _MISSING:
            if spec.empty_rate and rng.random() < spec.empty_rate:
                result = spec.empty
            else:
                result = spec.result(self, args)
        step.result = result
        step.status = self.ok
        if spec.http is not None and rng.random() < 0.4:
            step.http = (spec.http[0], spec.http[1], 200, None)
        return step

    def call(self, name: str, args: dict[str, Any], result: Any = _MISSING, *, same_turn: bool = False) -> Any:
        """Append an LLM turn requesting ``name`` (unless ``same_turn``) and the tool call; return its result."""
        step = self.tool_step(name, args, result)
        if not same_turn:
            intro = step.tool.intro if step.tool is not None and self.rng.random() < 0.5 else ""
            self.steps.append(self.llm_step(intro))
        self.steps.append(step)
        return step.result

    def finish(self, text: str) -> None:
        """Append the final LLM answer."""
        step = self.llm_step(text)
        step.final = True
        self.final_text = text
        self.steps.append(step)

    # --- queries used by injectors -------------------------------------------------------------------

    def tool_indices(self, *, write: bool | None = None, poll: bool | None = False) -> list[int]:
        """Indices of untagged tool steps of known tools, optionally filtered on write/poll, within the
        current bug site (:attr:`only_tool`, :attr:`avoid_tools`)."""
        out = []
        for i, s in enumerate(self.steps):
            spec = s.tool
            if s.kind != TOOL or s.tagged or spec is None or s.status == 2:
                continue
            if write is not None and spec.write != write:
                continue
            if poll is not None and spec.poll != poll:
                continue
            if (self.only_tool is not None and s.tool_name != self.only_tool) or s.tool_name in self.avoid_tools:
                continue
            out.append(i)
        return out

    def final_index(self) -> int:
        """Where the trace ends: the final answer, or the last step when the run ended without one."""
        return max(len(self.steps) - 1, 0)

    def truncate_after(self, index: int, final_text: str | None) -> None:
        """Drop every step after ``index`` and, if ``final_text`` is given, end with that answer."""
        del self.steps[index + 1 :]
        self.final_text = ""
        if final_text is not None:
            self.finish(final_text)
