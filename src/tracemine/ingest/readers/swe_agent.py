"""SWE-agent trajectories (``.traj``): ``{"trajectory": [...], "history": [...], "info": {...},
"replay_config" | "config", "environment"}``.

One trace per file, with a root AGENT span named after the instance. Each trajectory step becomes an LLM
span (the model's thought/response) with one TOOL span child (the action): the tool is the function
named by the matching ``tool_calls`` entry in ``history`` when the run used function calling, else the
first word of the action; the arguments are the call's JSON arguments, else the rest of the command; the
result is the observation. There are no timestamps: ids are stable hashes and ``sequence`` keeps order;
``execution_time`` is kept as the ``swe_agent.execution_time_s`` attribute. ``info.exit_status`` gives
the outcome: ``exit_*`` statuses are failures, ``submitted`` is unknown (only tests tell).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from tracemine.ingest.base import Reader, Record
from tracemine.ingest.decode import as_text, decode_value
from tracemine.ingest.mappers import finish_span
from tracemine.ingest.mappers.common import merge_tool_definitions, normalize_tool_definitions
from tracemine.ingest.normalize import (
    TRACE_ID_HEX_LEN,
    stable_id,
    to_float,
    to_int,
    to_text,
)
from tracemine.model import Outcome, Span, SpanKind, Status, StatusSource, TraceInfo

_FAILURE_PREFIXES = ("exit_", "early_exit")
_DOC_HEADER = re.compile(r"^(\S+):\s*$")
_DOC_ARGUMENT = re.compile(r"^\s*-\s*(\w+)\s*\(([^)]*)\)\s*(\[required\])?\s*:?\s*(.*)$")
_JSON_TYPES = {"string", "integer", "number", "boolean", "array", "object"}



def parse_command_docs(text: Any) -> list[dict[str, Any]] | None:
    """SWE-agent ``command_docs`` (YAML-like blocks) → tool definitions.

    A command whose ``arguments:`` section is missing (e.g. cut off) gets no ``parameters`` key, so it
    reads as "schema unknown" rather than "takes no arguments".
    """
    if not isinstance(text, str) or not text.strip():
        return None
    tools: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    in_arguments = False
    for line in text.splitlines():
        header = _DOC_HEADER.match(line)
        if header and not line.startswith((" ", "\t")):
            current = {"name": header.group(1)}
            tools.append(current)
            in_arguments = False
            continue
        if current is None:
            continue
        stripped = line.strip()
        if stripped.startswith("docstring:"):
            current["description"] = stripped[len("docstring:") :].strip()
        elif stripped.startswith("arguments:"):
            in_arguments = True
            current["parameters"] = {"type": "object", "properties": {}, "required": []}
        elif in_arguments:
            argument = _DOC_ARGUMENT.match(line)
            if argument:
                name, kind, required, description = argument.groups()
                prop: dict[str, Any] = {"description": description.strip()}
                if kind.strip() in _JSON_TYPES:
                    prop["type"] = kind.strip()
                current["parameters"]["properties"][name] = prop
                if required:
                    current["parameters"]["required"].append(name)
    return tools or None


def _split_action(action: str) -> tuple[str, str]:
    """``"open "a.py" 10"`` → ``("open", '"a.py" 10')``."""
    stripped = action.strip()
    if not stripped:
        return "", ""
    parts = stripped.split(None, 1)
    return parts[0], parts[1] if len(parts) > 1 else ""


class SweAgentReader(Reader):
    """SWE-agent ``.traj`` trajectories (0.x and 1.x)."""

    format = "swe_agent"
    priority = 28

    @classmethod
    def match(cls, obj: Any) -> bool:
        return isinstance(obj, dict) and "trajectory" in obj and ("info" in obj or "history" in obj)

    def feed(self, obj: Any, locator: str) -> Iterator[Record]:
        trajectory = obj.get("trajectory")
        if not isinstance(trajectory, list):
            self.ctx.reject(locator, f"trajectory is a {type(trajectory).__name__}, not a list", trajectory)
            return
        info = obj.get("info") if isinstance(obj.get("info"), dict) else {}
        config = decode_value(obj.get("replay_config") or obj.get("config"))
        config = config if isinstance(config, dict) else {}
        agent = config.get("agent") if isinstance(config.get("agent"), dict) else {}
        instance = self._instance_id(obj, config, agent)
        digest = hashlib.sha256(orjson.dumps(trajectory, option=orjson.OPT_NON_STR_KEYS)).hexdigest()[:16]
        trace_id = stable_id("swe-agent", instance, digest, length=TRACE_ID_HEX_LEN)
        model = self._model(agent, config)
        root = Span(
            trace_id=trace_id,
            span_id=stable_id(trace_id, "root"),
            name=instance,
            kind=SpanKind.AGENT,
            agent_name=to_text(agent.get("name")) or "swe-agent",
            raw_trace_id=instance,
            source=self.src(locator),
        )
        problem = config.get("problem_statement")
        if isinstance(problem, dict):
            root.input = as_text(problem.get("text"))
        root.output = as_text(info.get("submission"))
        stats = info.get("model_stats") if isinstance(info.get("model_stats"), dict) else {}
        root.input_tokens = to_int(stats.get("tokens_sent")) or None
        root.output_tokens = to_int(stats.get("tokens_received")) or None
        root.cost_usd = to_float(stats.get("instance_cost")) or None
        exit_status = to_text(info.get("exit_status"))
        root.attributes = {
            k: v
            for k, v in {
                "swe_agent.exit_status": exit_status,
                "swe_agent.api_calls": to_int(stats.get("api_calls")),
                "swe_agent.environment": to_text(obj.get("environment")),
                "swe_agent.model": model,
            }.items()
            if v is not None
        }
        if exit_status and exit_status.startswith(("exit_error", "exit_environment_error")):
            root.status = Status.ERROR
            root.status_source = StatusSource.EXPLICIT
            root.status_message = exit_status
        tools = agent.get("tools") if isinstance(agent.get("tools"), dict) else {}
        merge_tool_definitions(root, parse_command_docs(tools.get("command_docs")))
        merge_tool_definitions(root, normalize_tool_definitions(tools.get("tools")))
        spans = self._steps(trajectory, obj.get("history"), trace_id, root.span_id, model, locator)
        finish_span(root)
        yield root
        yield from spans
        if exit_status or stats:
            yield TraceInfo(
                trace_id=trace_id,
                outcome=self._outcome(exit_status),
                labels={"instance_id": instance, "exit_status": exit_status, "model_stats": stats or None},
                name=instance,
                source=self.src(locator),
            )

    def _instance_id(self, obj: dict[str, Any], config: dict[str, Any], agent: dict[str, Any]) -> str:
        problem = config.get("problem_statement")
        for value in (
            problem.get("id") if isinstance(problem, dict) else None,
            config.get("instance_id"),
            (obj.get("info") or {}).get("instance_id") if isinstance(obj.get("info"), dict) else None,
            agent.get("name"),
        ):
            text = to_text(value)
            if text and text not in ("main", "default"):
                return text
        return Path(self.ctx.file).stem or "swe-agent"

    @staticmethod
    def _model(agent: dict[str, Any], config: dict[str, Any]) -> str | None:
        model = agent.get("model")
        if isinstance(model, dict):
            return to_text(model.get("name") or model.get("model_name"))
        return to_text(model) or to_text(config.get("model_name"))

    @staticmethod
    def _outcome(exit_status: str | None) -> Outcome:
        if exit_status and exit_status.startswith(_FAILURE_PREFIXES):
            return Outcome.FAILURE
        return Outcome.UNKNOWN

    @staticmethod
    def _history_calls(history: Any) -> list[tuple[str, list[dict[str, Any]]]]:
        """``(action, tool_calls)`` of the assistant messages in ``history``, in order."""
        out: list[tuple[str, list[dict[str, Any]]]] = []
        for message in history if isinstance(history, list) else ():
            if isinstance(message, dict) and message.get("role") == "assistant":
                calls = message.get("tool_calls")
                action = message.get("action")
                out.append(
                    (
                        action.strip() if isinstance(action, str) else "",
                        calls if isinstance(calls, list) else [],
                    )
                )
        return out

    def _steps(
        self,
        trajectory: list[Any],
        history: Any,
        trace_id: str,
        root_id: str,
        model: str | None,
        locator: str,
    ) -> list[Span]:
        calls = self._history_calls(history)
        cursor = 0
        spans: list[Span] = []
        for index, step in enumerate(trajectory):
            where = f"{locator}.trajectory[{index}]"
            if not isinstance(step, dict):
                self.ctx.reject(where, "trajectory step is not an object", step)
                continue
            action = step.get("action")
            if not isinstance(action, str):
                self.ctx.reject(where, "trajectory step without an action string", action)
                continue
            tool_calls: list[dict[str, Any]] = []
            for position in range(cursor, len(calls)):
                if calls[position][0] == action.strip():
                    tool_calls, cursor = calls[position][1], position + 1
                    break
            llm = Span(
                trace_id=trace_id,
                span_id=stable_id(trace_id, "llm", index),
                parent_span_id=root_id,
                name=model or "model",
                kind=SpanKind.LLM,
                sequence=len(spans),
                model=model,
                output=as_text(
                    step.get("response") if step.get("response") is not None else step.get("thought")
                ),
                source=self.src(where),
            )
            if isinstance(step.get("thought"), str) and step.get("thought") != step.get("response"):
                llm.attributes = {"swe_agent.thought": step["thought"]}
            spans.append(llm)
            name, rest = _split_action(action)
            call = tool_calls[0] if tool_calls and isinstance(tool_calls[0], dict) else None
            function = call.get("function") if call and isinstance(call.get("function"), dict) else None
            tool = Span(
                trace_id=trace_id,
                span_id=stable_id(trace_id, "tool", index),
                parent_span_id=llm.span_id,
                name=name or "action",
                kind=SpanKind.TOOL,
                sequence=len(spans),
                tool_name=name or None,
                tool_arguments=rest or None,
                tool_result=as_text(step.get("observation")),
                source=self.src(where),
            )
            if function is not None and isinstance(function.get("name"), str):
                tool.name = tool.tool_name = function["name"]
                tool.tool_arguments = as_text(function.get("arguments"))
                tool.tool_call_id = to_text(call.get("id")) if call else None
            tool.output = tool.tool_result
            attrs: dict[str, Any] = {"swe_agent.action": action}
            elapsed = to_float(step.get("execution_time"))
            if elapsed is not None:
                attrs["swe_agent.execution_time_s"] = elapsed
            state = decode_value(step.get("state"))
            if isinstance(state, dict):
                attrs.update(
                    {f"swe_agent.state.{k}": v for k, v in state.items() if isinstance(v, str | int | float)}
                )
            tool.attributes = attrs
            for span in (llm, tool):
                finish_span(span)
            spans.append(tool)
        return spans


READERS = [SweAgentReader]
