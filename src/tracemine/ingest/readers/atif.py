"""Agent trajectories in Harbor's ATIF shape (Agent Trajectory Interchange Format): one JSON document
``{"schema_version", "session_id", "agent": {"name", "model_name"}, "steps": [...], "final_metrics"}``.

Steps name who speaks in ``source`` (``system``/``user``/``agent``, the spec) or ``role`` (``assistant``,
``observation``: as openinference-instrumentation-harbor's fixture writes them). An agent step may carry
``tool_calls`` (``tool_call_id``, ``function_name``, ``arguments``), ``metrics`` (``prompt_tokens``,
``completion_tokens``, ``cached_tokens``, ``cost_usd``), ``model_name`` and ``reasoning_content``;
tool results are ``observation.results`` of the same step, or a separate ``observation`` step's
``results``, each joined to its call by ``source_call_id``.

One trace per document, its id a stable hash of the session id and a digest of the steps (as τ-bench
ids are), so re-reading gives the same ids. Spans, ``sequence`` in step order:

- root AGENT span named after the agent, with the session id, the default model and ``final_metrics``
  (as ``atif.final_metrics``: the steps' LLM spans carry the tokens, so they are not counted twice);
- ``system`` and ``user`` steps: OTHER spans with the message as ``input``;
- agent steps: LLM spans (output = message, tokens and cost from ``metrics``, model from the step or
  the agent), each tool call a TOOL span under it, its result from the matching observation;
- an observation result that answers no call: an OTHER span ``observation`` with the content as output.

Times are the steps' ISO ``timestamp``; a tool call ends when its result arrives in a later step.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tracemine.ingest.base import Reader, Record
from tracemine.ingest.decode import as_text
from tracemine.ingest.mappers import finish_span
from tracemine.ingest.normalize import TRACE_ID_HEX_LEN, stable_id, to_float, to_int, to_ns, to_text
from tracemine.ingest.readers.tau_bench import traj_digest
from tracemine.model import Outcome, Span, SpanKind, TraceInfo

_AGENT_ROLES = frozenset({"agent", "assistant"})
_STEP_KEYS = ("message", "tool_calls", "observation", "results")


def _role(step: dict[str, Any]) -> str | None:
    role = step.get("source", step.get("role"))
    return role.strip().lower() if isinstance(role, str) and role.strip() else None


def is_atif(obj: Any) -> bool:
    """An ATIF trajectory: ``steps`` of role-tagged records with an ``agent`` or an ATIF schema version."""
    if not isinstance(obj, dict) or not isinstance(obj.get("steps"), list):
        return False
    version = obj.get("schema_version")
    if isinstance(version, str) and version.upper().startswith("ATIF"):
        return True
    if not isinstance(obj.get("agent"), dict) and "session_id" not in obj:
        return False
    steps = [s for s in obj["steps"][:5] if isinstance(s, dict)]
    return bool(steps) and all(_role(s) is not None and any(k in s for k in _STEP_KEYS) for s in steps)


class AtifReader(Reader):
    """Harbor / ATIF agent trajectories."""

    format = "atif"
    priority = 30

    @classmethod
    def match(cls, obj: Any) -> bool:
        return is_atif(obj)

    def feed(self, obj: Any, locator: str) -> Iterator[Record]:
        agent = obj.get("agent") if isinstance(obj.get("agent"), dict) else {}
        session = to_text(obj.get("session_id"))
        steps = obj["steps"]
        trace_raw = f"atif:{session}:{traj_digest(steps)}"
        trace_id = stable_id(trace_raw, length=TRACE_ID_HEX_LEN)
        agent_name = to_text(agent.get("name")) or "agent"
        final = obj.get("final_metrics") if isinstance(obj.get("final_metrics"), dict) else {}
        root = Span(
            trace_id=trace_id,
            span_id=stable_id(trace_id, "root"),
            name=agent_name,
            kind=SpanKind.AGENT,
            agent_name=agent_name,
            model=to_text(agent.get("model_name")),
            session_id=session,
            raw_trace_id=trace_raw,
            source=self.src(locator),
            attributes=_present({
                "atif.schema_version": to_text(obj.get("schema_version")),
                "atif.agent_version": to_text(agent.get("version")),
                "atif.notes": to_text(obj.get("notes")),
                "atif.final_metrics": final or None,
            }),
        )
        spans = self._steps(steps, root, to_text(agent.get("model_name")), locator)
        stamps = [s.start_ns for s in spans if s.start_ns is not None]
        if stamps:
            root.start_ns, root.end_ns = min(stamps), max(max(stamps), *(s.end_ns or 0 for s in spans))
        root.sequence = 0
        finish_span(root)
        yield root
        yield from spans
        yield TraceInfo(
            trace_id=trace_id,
            outcome=Outcome.UNKNOWN,
            labels=_present({"session_id": session, "agent": agent_name, "final_metrics": final or None}),
            name=root.name,
            source=self.src(locator),
        )

    def _steps(self, steps: list[Any], root: Span, model: str | None, locator: str) -> list[Span]:
        spans: list[Span] = []
        calls: dict[str, Span] = {}
        trace_id = root.trace_id
        for index, step in enumerate(steps):
            where = f"{locator}.steps[{index}]"
            role = _role(step) if isinstance(step, dict) else None
            if role is None:
                self.ctx.reject(where, "step is not an object with a source or role", step)
                continue
            stamp = to_ns(step.get("timestamp"))
            attrs = _present({"atif.step_id": step.get("step_id"), "atif.step_index": index})
            if role == "observation":
                self._results(step.get("results"), calls, spans, root, index, stamp, where)
                continue
            span = Span(
                trace_id=trace_id,
                span_id=stable_id(trace_id, "step", index),
                parent_span_id=root.span_id,
                name=role,
                kind=SpanKind.LLM if role in _AGENT_ROLES else SpanKind.OTHER,
                start_ns=stamp,
                source=self.src(where),
                attributes=attrs,
            )
            if role in _AGENT_ROLES:
                self._agent_step(span, step, model)
            else:
                span.input = as_text(step.get("message"))
            spans.append(span)
            for position, call in enumerate(step.get("tool_calls") or ()):
                tool = self._tool_call(call, span, index, position, stamp, f"{where}.tool_calls[{position}]")
                if tool is not None:
                    spans.append(tool)
                    if tool.tool_call_id:
                        calls[tool.tool_call_id] = tool
            observation = step.get("observation")
            if isinstance(observation, dict):
                self._results(observation.get("results"), calls, spans, root, index, None, f"{where}.observation")
        for sequence, span in enumerate(spans, start=1):
            span.sequence = sequence
            finish_span(span)
        return spans

    def _agent_step(self, span: Span, step: dict[str, Any], model: str | None) -> None:
        span.name = "agent"
        span.output = as_text(step.get("message"))
        span.model = to_text(step.get("model_name")) or model
        metrics = step.get("metrics") if isinstance(step.get("metrics"), dict) else {}
        span.input_tokens = to_int(metrics.get("prompt_tokens"))
        span.output_tokens = to_int(metrics.get("completion_tokens"))
        span.cost_usd = to_float(metrics.get("cost_usd"))
        extra = _present({
            "atif.cached_tokens": to_int(metrics.get("cached_tokens")),
            "atif.reasoning_content": as_text(step.get("reasoning_content")),
            "atif.reasoning_effort": step.get("reasoning_effort"),
        })
        span.attributes = {**(span.attributes or {}), **extra}

    def _tool_call(
        self, call: Any, parent: Span, index: int, position: int, stamp: int | None, where: str
    ) -> Span | None:
        name = to_text(call.get("function_name")) if isinstance(call, dict) else None
        if name is None:
            self.ctx.reject(where, "tool call without function_name", call)
            return None
        arguments = as_text(call.get("arguments"))
        return Span(
            trace_id=parent.trace_id,
            span_id=stable_id(parent.trace_id, "call", index, position),
            parent_span_id=parent.span_id,
            name=name,
            kind=SpanKind.TOOL,
            tool_name=name,
            tool_call_id=to_text(call.get("tool_call_id")),
            tool_arguments=arguments,
            input=arguments,
            start_ns=stamp,
            source=self.src(where),
            attributes={"atif.call_step_index": index},
        )

    def _results(
        self, results: Any, calls: dict[str, Span], spans: list[Span], root: Span, index: int,
        stamp: int | None, where: str,
    ) -> None:
        """Attach observation results to their calls (by ``source_call_id``); others become spans."""
        if not isinstance(results, list):
            if results is not None:
                self.ctx.reject(where, f"results is a {type(results).__name__}, not a list", results)
            return
        for position, result in enumerate(results):
            if not isinstance(result, dict):
                self.ctx.reject(f"{where}.results[{position}]", "result is not an object", result)
                continue
            content = as_text(result.get("content"))
            tool = calls.get(to_text(result.get("source_call_id")) or "")
            if tool is not None and tool.tool_result is None:
                tool.tool_result = content
                tool.output = content
                if stamp is not None and (tool.start_ns is None or stamp >= tool.start_ns):
                    tool.end_ns = stamp
                if result.get("subagent_trajectory_ref") is not None:
                    tool.attributes = {**(tool.attributes or {}),
                                       "atif.subagent_trajectory_ref": result["subagent_trajectory_ref"]}
                continue
            spans.append(Span(
                trace_id=root.trace_id,
                span_id=stable_id(root.trace_id, "result", index, position),
                parent_span_id=root.span_id,
                name="observation",
                output=content,
                start_ns=stamp,
                source=self.src(f"{where}.results[{position}]"),
                attributes=_present({"atif.source_call_id": to_text(result.get("source_call_id")),
                                     "atif.step_index": index}),
            ))


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


READERS = [AtifReader]
