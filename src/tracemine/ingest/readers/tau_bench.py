"""τ-bench results: a JSON list (or JSON lines) of ``{"task_id", "trial", "reward", "info", "traj"}`` with
``traj`` an OpenAI chat transcript. AgentRx's τ-retail files have the same shape (plus message ``index``).

One trace per record, id = stable hash of (task id, trial, digest of the transcript), so two runs of the
same task never collide and re-reading gives the same ids. Spans, in transcript order (``sequence``
0..n-1, the message's position kept as ``tau.traj_index``):

- root AGENT span ``tau-bench task <id>`` of agent ``tau-bench agent``;
- ``system`` and ``user`` messages: OTHER spans named ``system`` / ``user`` with the text as ``input``
  (the user simulator's turns stay visible as their own steps instead of being folded into LLM inputs);
- ``assistant`` messages: LLM spans (output = the text, or JSON ``{"content", "tool_calls"}``);
- each ``tool_calls[i]``: a TOOL span under its LLM span, placed where its ``tool`` result appears
  (matched by ``tool_call_id``, first unanswered call first since ids can repeat; else by order).

No times. ``reward`` gives the :class:`TraceInfo` outcome (1 success, 0 failure), with the gold actions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import orjson

from tracemine.ingest.base import Reader, Record
from tracemine.ingest.decode import as_text
from tracemine.ingest.mappers import finish_span
from tracemine.ingest.normalize import TRACE_ID_HEX_LEN, stable_id, to_float, to_text
from tracemine.model import Outcome, Span, SpanKind, TraceInfo

_TEXT_ROLES = {"system": SpanKind.OTHER, "user": SpanKind.OTHER}



def traj_digest(traj: list[Any]) -> str:
    """A digest of the transcript content (key order does not matter)."""
    return hashlib.sha256(
        orjson.dumps(traj, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    ).hexdigest()[:16]


AGENT_NAME = "tau-bench agent"
"""The agent of every run in a results file (the file does not name it; each record is one task's run)."""


def reward_outcome(reward: Any) -> Outcome:
    value = to_float(reward)
    if value is None:
        return Outcome.UNKNOWN
    if value >= 1.0:
        return Outcome.SUCCESS
    if value <= 0.0:
        return Outcome.FAILURE
    return Outcome.UNKNOWN


class TauBenchReader(Reader):
    """τ-bench / AgentRx τ result records."""

    format = "tau_bench"
    priority = 30

    @classmethod
    def match(cls, obj: Any) -> bool:
        return isinstance(obj, dict) and "traj" in obj and "task_id" in obj

    def feed(self, obj: Any, locator: str) -> Iterator[Record]:
        traj = obj.get("traj")
        if not isinstance(traj, list):
            self.ctx.reject(locator, f"traj is a {type(traj).__name__}, not a list of messages", traj)
            return
        task_id, trial = obj.get("task_id"), obj.get("trial")
        if not isinstance(task_id, str | int) or isinstance(task_id, bool):
            self.ctx.reject(locator, "task_id is missing or not a string/integer", task_id)
            return
        info = obj.get("info") if isinstance(obj.get("info"), dict) else {}
        task = info.get("task") if isinstance(info.get("task"), dict) else {}
        trace_raw = f"tau:{task_id}:{trial}:{traj_digest(traj)}"
        trace_id = stable_id(trace_raw, length=TRACE_ID_HEX_LEN)
        root = Span(
            trace_id=trace_id,
            span_id=stable_id(trace_id, "root"),
            name=f"tau-bench task {task_id}",
            kind=SpanKind.AGENT,
            agent_name=AGENT_NAME,  # one agent ran every task: the task is the run, not the agent
            input=to_text(task.get("instruction")),
            raw_trace_id=trace_raw,
            source=self.src(locator),
            attributes={
                k: v
                for k, v in {
                    "tau.task_id": task_id,
                    "tau.trial": trial,
                    "tau.reward": to_float(obj.get("reward")),
                    "tau.user_id": to_text(task.get("user_id")),
                }.items()
                if v is not None
            },
        )
        spans = self._transcript(traj, trace_id, root.span_id, locator)
        finish_span(root)
        yield root
        yield from spans
        gold = task.get("actions")
        yield TraceInfo(
            trace_id=trace_id,
            outcome=reward_outcome(obj.get("reward")),
            labels={
                "task_id": task_id,
                "trial": trial,
                "reward": to_float(obj.get("reward")),
                "gold_actions": gold if isinstance(gold, list) else None,
                "user_id": to_text(task.get("user_id")),
            },
            name=root.name,
            source=self.src(locator),
        )

    def _transcript(self, traj: list[Any], trace_id: str, root_id: str, locator: str) -> list[Span]:
        """Spans with a sort position: the message index (a tool call sits where its result arrives)."""
        placed: list[tuple[float, int, Span]] = []
        by_call_id: dict[str, list[Span]] = {}
        unanswered: list[tuple[Span, float]] = []
        for index, message in enumerate(traj):
            where = f"{locator}.traj[{index}]"
            if not isinstance(message, dict) or not isinstance(message.get("role"), str):
                self.ctx.reject(where, "message is not an object with a role", message)
                continue
            role = message["role"]
            attrs: dict[str, Any] = {"tau.traj_index": index}
            if message.get("index") is not None:
                attrs["tau.message_index"] = message["index"]
            if role == "assistant":
                llm = Span(
                    trace_id=trace_id,
                    span_id=stable_id(trace_id, "msg", index),
                    parent_span_id=root_id,
                    name="assistant",
                    kind=SpanKind.LLM,
                    source=self.src(where),
                    attributes=attrs,
                )
                calls = message.get("tool_calls")
                content = message.get("content")
                llm.output = as_text({"content": content, "tool_calls": calls}) if calls else as_text(content)
                placed.append((index, 0, llm))
                for position, call in enumerate(calls if isinstance(calls, list) else ()):
                    tool = self._tool_call(
                        call, trace_id, llm.span_id, index, position, f"{where}.tool_calls[{position}]"
                    )
                    if tool is None:
                        continue
                    unanswered.append((tool, index + 0.5 + position / 1000))
                    if tool.tool_call_id:
                        by_call_id.setdefault(tool.tool_call_id, []).append(tool)
            elif role == "tool":
                call_id = to_text(message.get("tool_call_id"))
                name = to_text(message.get("name"))
                queue = by_call_id.get(call_id or "")
                tool = queue[0] if queue else None
                if tool is None:  # fall back to order: the first unanswered call (of that tool, if named)
                    tool = next((t for t, _ in unanswered if name is None or t.tool_name == name), None)
                if tool is not None:
                    unanswered = [(t, p) for t, p in unanswered if t is not tool]
                    same_id = by_call_id.get(tool.tool_call_id or "")
                    if same_id and tool in same_id:
                        same_id.remove(tool)
                else:
                    name = name or "tool"
                    tool = Span(
                        trace_id=trace_id,
                        span_id=stable_id(trace_id, "msg", index),
                        parent_span_id=root_id,
                        name=name,
                        kind=SpanKind.TOOL,
                        tool_name=name,
                        tool_call_id=call_id,
                        source=self.src(where),
                    )
                tool.tool_result = as_text(message.get("content"))
                tool.output = tool.tool_result
                tool.attributes = {**(tool.attributes or {}), **attrs}
                placed.append((index, 0, tool))
            else:
                span = Span(
                    trace_id=trace_id,
                    span_id=stable_id(trace_id, "msg", index),
                    parent_span_id=root_id,
                    name=role,
                    kind=_TEXT_ROLES.get(role, SpanKind.OTHER),
                    input=as_text(message.get("content")),
                    source=self.src(where),
                    attributes=attrs,
                )
                placed.append((index, 0, span))
        placed.extend((position, 1, tool) for tool, position in unanswered)
        placed.sort(key=lambda item: (item[0], item[1]))
        spans = [span for _, _, span in placed]
        for sequence, span in enumerate(spans):
            span.sequence = sequence
            finish_span(span)
        return spans

    def _tool_call(
        self, call: Any, trace_id: str, parent: str, index: int, position: int, where: str
    ) -> Span | None:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            self.ctx.reject(where, "tool call without function name", call)
            return None
        arguments = function.get("arguments")
        return Span(
            trace_id=trace_id,
            span_id=stable_id(trace_id, "call", index, position),
            parent_span_id=parent,
            name=function["name"],
            kind=SpanKind.TOOL,
            tool_name=function["name"],
            tool_call_id=to_text(call.get("id")),
            tool_arguments=as_text(arguments),
            input=as_text(arguments),
            source=self.src(where),
            attributes={"tau.call_traj_index": index},
        )


READERS = [TauBenchReader]
