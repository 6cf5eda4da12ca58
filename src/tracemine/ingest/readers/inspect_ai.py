"""Inspect AI eval logs: ``.json`` logs (``{"version", "eval", "plan", "results", "samples": [...]}``), bare
sample objects, and zipped ``.eval`` logs (``header.json`` + ``samples/<id>_epoch_<n>.json``).

Each sample is one trace (id: stable hash of run id, task, sample id and epoch) with a root AGENT span.
When the sample has ``events``: ``span_begin``/``span_end`` (and the older ``step`` begin/end) become
CHAIN spans, ``model`` events LLM spans, ``tool`` events TOOL spans (merged with the ``span_begin`` of type
``tool`` that wraps the same call); a ``ToolCallError`` is an explicit error. Without events, the
``messages`` are used: assistant ``tool_calls`` → TOOL spans whose result is the matching ``tool``
message. ``attachment://`` references are resolved in tool arguments, results and outputs.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any, ClassVar

import orjson

from tracemine.ingest.base import BinaryReader, ReadContext, Reader, Record
from tracemine.ingest.decode import as_text
from tracemine.ingest.limits import depth_reason, is_too_deep, size_text
from tracemine.ingest.mappers import finish_span
from tracemine.ingest.mappers.common import merge_tool_definitions, normalize_tool_definitions
from tracemine.ingest.normalize import (
    SPAN_ID_HEX_LEN,
    TRACE_ID_HEX_LEN,
    duration_to_ns,
    normalize_id,
    raw_id,
    stable_id,
    to_float,
    to_int,
    to_ns,
    to_text,
)
from tracemine.model import Outcome, Span, SpanKind, Status, StatusSource, TraceInfo

FORMAT = "inspect_ai"
_ATTACHMENT = "attachment://"
_SUCCESS = {"C", "CORRECT", "PASS", "PASSED", "TRUE", "YES", "SUCCESS"}
_FAILURE = {"I", "INCORRECT", "FAIL", "FAILED", "FALSE", "NO", "FAILURE"}
_SPAN_KINDS = {"agent": SpanKind.AGENT, "tool": SpanKind.TOOL, "handoff": SpanKind.AGENT}



def _resolve(value: Any, attachments: dict[str, Any], depth: int = 0) -> Any:
    """Replace ``attachment://<hash>`` strings by the attachment text."""
    if depth > 6 or not attachments:
        return value
    if isinstance(value, str):
        if value.startswith(_ATTACHMENT):
            found = attachments.get(value[len(_ATTACHMENT) :])
            return found if isinstance(found, str) else value
        return value
    if isinstance(value, list):
        return [_resolve(v, attachments, depth + 1) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, attachments, depth + 1) for k, v in value.items()}
    return value


def content_text(content: Any) -> str | None:
    """Text of a message ``content`` (a string, or a list of content parts)."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
        if texts or not content:
            return "\n".join(texts)
    if isinstance(content, dict) and isinstance(content.get("text"), str):
        return content["text"]
    return as_text(content)


def _message_output(message: Any) -> str | None:
    """An assistant message as span output: its text, or JSON with the tool calls when it made any."""
    if not isinstance(message, dict):
        return as_text(message)
    text = content_text(message.get("content"))
    calls = message.get("tool_calls")
    if calls:
        return as_text({"content": text, "tool_calls": calls})
    return text


def score_verdict(value: Any) -> Outcome | None:
    """SUCCESS/FAILURE for a clearly binary score value (C/I, 1/0, True/False, correct/incorrect)."""
    if isinstance(value, bool):
        return Outcome.SUCCESS if value else Outcome.FAILURE
    if isinstance(value, int | float):
        if value == 1:
            return Outcome.SUCCESS
        if value == 0:
            return Outcome.FAILURE
        return None
    if isinstance(value, str):
        word = value.strip().upper()
        if word in _SUCCESS:
            return Outcome.SUCCESS
        if word in _FAILURE:
            return Outcome.FAILURE
    return None


def _ref(value: Any) -> str | None:
    """A span id reference as a string (``None`` for missing or malformed references)."""
    return (
        str(value) if isinstance(value, str | int) and not isinstance(value, bool) and value != "" else None
    )


def _natural_key(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


class SampleBuilder:
    """Turns one Inspect sample (with its log header) into spans and a :class:`TraceInfo`."""

    def __init__(
        self, ctx: ReadContext, header: dict[str, Any], sample: dict[str, Any], locator: str
    ) -> None:
        self.ctx = ctx
        self.locator = locator
        self.header = header
        self.sample = sample
        self.eval = header.get("eval") if isinstance(header.get("eval"), dict) else {}
        attachments = sample.get("attachments")
        self.attachments = attachments if isinstance(attachments, dict) else {}
        run = self.eval.get("run_id") or self.eval.get("eval_id") or sample.get("uuid") or ""
        self.trace_raw = f"{self.eval.get('task') or ''}/{sample.get('id')}/epoch {sample.get('epoch', 1)}"
        self.trace_id = stable_id(
            "inspect",
            run,
            self.eval.get("task"),
            sample.get("id"),
            sample.get("epoch", 1),
            length=TRACE_ID_HEX_LEN,
        )
        self.root_id = stable_id(self.trace_id, "sample")
        self.spans: list[Span] = []
        self.by_id: dict[str, Span] = {}
        self.declared: set[str] = set()  # ids of every span_begin, so children may precede their span
        self.sequence = 0
        self.root = self._root()

    # -- helpers -----------------------------------------------------------------------------------

    def _new(
        self, span_id: str, parent: str | None, name: str, kind: SpanKind, locator: str, raw: Any = None
    ) -> Span:
        span = Span(
            trace_id=self.trace_id,
            span_id=span_id,
            parent_span_id=parent,
            name=name,
            kind=kind,
            sequence=self.sequence,
            raw_trace_id=self.trace_raw,
            raw_span_id=raw_id(raw) if raw is not None else None,
            source=self.ctx.source(FORMAT, locator),
        )
        self.sequence += 1
        self.spans.append(span)
        self.by_id[span_id] = span
        return span

    def _root(self) -> Span:
        sample = self.sample
        root = Span(
            trace_id=self.trace_id,
            span_id=self.root_id,
            name=to_text(self.eval.get("task")) or "sample",
            kind=SpanKind.AGENT,
            raw_trace_id=self.trace_raw,
            source=self.ctx.source(FORMAT, self.locator),
        )
        root.input = as_text(_resolve(sample.get("input"), self.attachments))
        output = sample.get("output")
        if isinstance(output, dict) and isinstance(output.get("choices"), list) and output["choices"]:
            first = output["choices"][0]
            if isinstance(first, dict):
                root.output = _message_output(_resolve(first.get("message"), self.attachments))
        error = sample.get("error")
        if isinstance(error, dict) and error.get("message"):
            root.status = Status.ERROR
            root.status_source = StatusSource.EXPLICIT
            root.status_message = str(error["message"])
        elif isinstance(error, str) and error:
            root.status, root.status_message = Status.ERROR, error
        attrs = {
            "inspect.task": self.eval.get("task"),
            "inspect.run_id": self.eval.get("run_id"),
            "inspect.eval_id": self.eval.get("eval_id"),
            "inspect.model": self.eval.get("model"),
            "inspect.sample_id": sample.get("id"),
            "inspect.epoch": sample.get("epoch"),
            "inspect.sample_uuid": sample.get("uuid"),
            "inspect.total_time": to_float(sample.get("total_time")),
            "inspect.working_time": to_float(sample.get("working_time")),
            "inspect.model_usage": as_text(sample.get("model_usage")) if sample.get("model_usage") else None,
            "inspect.limit": as_text(sample.get("limit")) if sample.get("limit") else None,
        }
        root.attributes = {k: v for k, v in attrs.items() if v is not None}
        self._plan_tools(root)
        return root

    def _plan_tools(self, root: Span) -> None:
        plan = self.header.get("plan")
        steps = plan.get("steps") if isinstance(plan, dict) else None
        for step in steps if isinstance(steps, list) else ():
            params = step.get("params") if isinstance(step, dict) else None
            tools = params.get("tools") if isinstance(params, dict) else None
            if isinstance(tools, list):
                flat = [t for group in tools for t in (group if isinstance(group, list) else [group])]
                merge_tool_definitions(root, normalize_tool_definitions(flat))

    def _synthetic(self, where: str) -> str:
        """A span id for an event without one, from its position inside the sample (not the file), so
        the same sample read from a ``.json`` log or an ``.eval`` zip gets the same ids."""
        return stable_id(self.trace_id, "event", where.removeprefix(self.locator))

    def _parent(self, candidate: Any, fallback: str | None) -> str:
        span_id = normalize_id(candidate, SPAN_ID_HEX_LEN) if candidate else None
        if span_id is not None and (span_id in self.by_id or span_id in self.declared):
            return span_id
        return fallback or self.root_id

    # -- building ----------------------------------------------------------------------------------

    def build(self) -> Iterator[Record]:
        events = self.sample.get("events")
        messages = self.sample.get("messages")
        if isinstance(events, list) and any(
            isinstance(e, dict) and e.get("event") in ("model", "tool") for e in events
        ):
            self._events(events, f"{self.locator}.events", None)
        elif isinstance(messages, list):
            self._messages(messages, f"{self.locator}.messages")
        elif events is not None or messages is not None:
            self.ctx.reject(
                self.locator, "sample events/messages are not lists", type(events or messages).__name__
            )
            return
        starts = [s.start_ns for s in self.spans if s.start_ns is not None]
        ends = [s.end_ns for s in self.spans if s.end_ns is not None]
        self.root.start_ns = to_ns(self.sample.get("started_at")) or (min(starts) if starts else None)
        self.root.end_ns = to_ns(self.sample.get("completed_at")) or (max(ends) if ends else None)
        for position, span in enumerate(self.spans):
            span.sequence = position
            if span.tool_definitions and span.kind == SpanKind.LLM:
                merge_tool_definitions(self.root, normalize_tool_definitions(span.tool_definitions))
            finish_span(span)
        finish_span(self.root)
        yield self.root
        yield from self.spans
        info = self._trace_info()
        if info is not None:
            yield info

    def _trace_info(self) -> TraceInfo | None:
        scores = self.sample.get("scores")
        scores = scores if isinstance(scores, dict) else {}
        error = self.sample.get("error")
        if not scores and not error:
            return None
        values = {name: (s.get("value") if isinstance(s, dict) else s) for name, s in scores.items()}
        verdicts = [score_verdict(v) for v in values.values()]
        outcome = Outcome.UNKNOWN
        if verdicts and all(v is not None for v in verdicts) and len(set(verdicts)) == 1:
            outcome = verdicts[0] or Outcome.UNKNOWN
        labels: dict[str, Any] = {
            "task": self.eval.get("task"),
            "sample_id": self.sample.get("id"),
            "epoch": self.sample.get("epoch"),
            "scores": values,
        }
        if isinstance(self.sample.get("target"), str | list):
            labels["target"] = self.sample["target"]
        if error:
            labels["error"] = error.get("message") if isinstance(error, dict) else str(error)
            if outcome == Outcome.UNKNOWN:
                outcome = Outcome.FAILURE
        return TraceInfo(
            trace_id=self.trace_id,
            outcome=outcome,
            labels=labels,
            name=self.root.name,
            source=self.ctx.source(FORMAT, self.locator),
        )

    # -- events ------------------------------------------------------------------------------------

    def _events(self, events: list[Any], locator: str, parent: str | None) -> None:
        """Events to spans; ``parent`` is the enclosing span for nested (pre-span_begin) event lists."""
        begins: dict[str, dict[str, Any]] = {}
        ends: dict[str, Any] = {}
        tool_begins: dict[tuple[str | None, str], list[str]] = {}
        for event in events:
            if not isinstance(event, dict):
                continue
            kind = event.get("event")
            if kind == "span_begin" and event.get("id"):
                begins[str(event["id"])] = event
                declared = normalize_id(event["id"], SPAN_ID_HEX_LEN)
                if declared is not None:
                    self.declared.add(declared)
                if event.get("type") == "tool":
                    key = (_ref(event.get("parent_id")), str(event.get("name")))
                    tool_begins.setdefault(key, []).append(str(event["id"]))
            elif kind == "span_end" and event.get("id"):
                ends[str(event["id"])] = event.get("timestamp")
        paired: set[str] = set()
        steps: list[Span] = []
        for index, event in enumerate(events):
            where = f"{locator}[{index}]"
            if not isinstance(event, dict):
                self.ctx.reject(where, "event is not an object", event)
                continue
            kind = event.get("event")
            current = steps[-1].span_id if steps else parent
            if kind == "span_begin" and event.get("id") and event.get("type") != "tool":
                self._span_begin(event, ends, where, current)
            elif kind == "step":
                self._step(event, steps, where, current)
            elif kind == "model":
                self._model(event, where, current)
            elif kind == "tool":
                self._tool(event, where, current, begins, ends, tool_begins, paired)
            elif kind == "subtask":
                span = self._new(
                    self._synthetic(where),
                    self._parent(event.get("span_id"), current),
                    to_text(event.get("name")) or "subtask",
                    SpanKind.CHAIN,
                    where,
                )
                span.start_ns = to_ns(event.get("timestamp"))
                span.end_ns = to_ns(event.get("completed"))
                span.input = as_text(event.get("input"))
                span.output = as_text(event.get("result"))
                if isinstance(event.get("events"), list):
                    self._events(event["events"], f"{where}.events", span.span_id)
        for begin_id, begin in begins.items():
            if begin.get("type") == "tool" and begin_id not in paired:
                span = self._span_begin(begin, ends, f"{locator}(span {begin_id})", parent)
                span.kind = SpanKind.TOOL
                span.tool_name = to_text(begin.get("name"))

    def _span_begin(
        self, event: dict[str, Any], ends: dict[str, Any], where: str, fallback: str | None
    ) -> Span:
        span_id = normalize_id(event["id"], SPAN_ID_HEX_LEN) or self._synthetic(where)
        kind = _SPAN_KINDS.get(str(event.get("type")), SpanKind.CHAIN)
        span = self._new(
            span_id,
            self._parent(event.get("parent_id"), fallback),
            to_text(event.get("name")) or str(event.get("type") or "span"),
            kind,
            where,
            event["id"],
        )
        span.start_ns = to_ns(event.get("timestamp"))
        span.end_ns = to_ns(ends.get(str(event["id"])))
        span.attributes = {"inspect.span_type": event.get("type")}
        if kind == SpanKind.AGENT:
            span.agent_name = span.name
        return span

    def _step(self, event: dict[str, Any], steps: list[Span], where: str, current: str | None) -> None:
        name = to_text(event.get("name")) or "step"
        if event.get("action") == "end":
            for position in range(len(steps) - 1, -1, -1):
                if steps[position].name == name:
                    steps[position].end_ns = to_ns(event.get("timestamp"))
                    del steps[position:]
                    break
            return
        kind = _SPAN_KINDS.get(str(event.get("type")), SpanKind.CHAIN)
        span = self._new(self._synthetic(where), current or self.root_id, name, kind, where)
        span.start_ns = to_ns(event.get("timestamp"))
        span.attributes = {"inspect.span_type": event.get("type")}
        steps.append(span)

    def _model(self, event: dict[str, Any], where: str, current: str | None) -> None:
        output = event.get("output") if isinstance(event.get("output"), dict) else {}
        span_id = normalize_id(event.get("uuid"), SPAN_ID_HEX_LEN) or self._synthetic(where)
        model = to_text(output.get("model")) or to_text(event.get("model"))
        span = self._new(
            span_id,
            self._parent(event.get("span_id"), current),
            to_text(event.get("model")) or "model",
            SpanKind.LLM,
            where,
            event.get("uuid"),
        )
        span.model = model
        span.start_ns = to_ns(event.get("timestamp"))
        span.end_ns = to_ns(event.get("completed"))
        if span.end_ns is None and span.start_ns is not None:
            took = duration_to_ns(output.get("time"))
            span.end_ns = span.start_ns + took if took is not None else None
        usage = output.get("usage")
        if isinstance(usage, dict):
            span.input_tokens = to_int(usage.get("input_tokens"))
            span.output_tokens = to_int(usage.get("output_tokens"))
            span.total_tokens = to_int(usage.get("total_tokens"))
        span.input = as_text(event.get("input"))
        choices = output.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            span.output = _message_output(_resolve(choices[0].get("message"), self.attachments))
        error = event.get("error") or output.get("error")
        if error:
            span.status = Status.ERROR
            span.status_message = error if isinstance(error, str) else as_text(error)
        tools = event.get("tools")
        if isinstance(tools, list) and tools:
            span.tool_definitions = as_text(normalize_tool_definitions(_resolve(tools, self.attachments)))
        attrs: dict[str, Any] = {"inspect.event": "model"}
        if event.get("config"):
            attrs["inspect.config"] = as_text(event["config"])
        if (
            isinstance(choices, list)
            and choices
            and isinstance(choices[0], dict)
            and choices[0].get("stop_reason")
        ):
            attrs["inspect.stop_reason"] = choices[0]["stop_reason"]
        span.attributes = attrs

    def _tool(
        self,
        event: dict[str, Any],
        where: str,
        current: str | None,
        begins: dict[str, dict[str, Any]],
        ends: dict[str, Any],
        tool_begins: dict[tuple[str | None, str], list[str]],
        paired: set[str],
    ) -> None:
        function = to_text(event.get("function")) or "tool"
        begin_id: str | None = None
        own = _ref(event.get("span_id"))
        if own in begins and begins[own].get("type") == "tool" and own not in paired:
            begin_id = own
        else:
            queue = tool_begins.get((_ref(event.get("span_id")), function)) or []
            begin_id = next((b for b in queue if b not in paired), None)
        if begin_id is not None:
            paired.add(begin_id)
            begin = begins[begin_id]
            span_id = normalize_id(begin_id, SPAN_ID_HEX_LEN) or self._synthetic(where)
            parent = self._parent(begin.get("parent_id"), current)
            raw = begin_id
        else:
            span_id = self._synthetic(where)
            parent = self._parent(event.get("span_id"), current)
            raw = None
        span = self._new(span_id, parent, function, SpanKind.TOOL, where, raw)
        span.tool_name = function
        span.tool_call_id = to_text(event.get("id"))
        arguments = _resolve(event.get("arguments"), self.attachments)
        span.tool_arguments = as_text(arguments) if arguments is not None else None
        result = _resolve(event.get("result"), self.attachments)
        span.tool_result = content_text(result) if isinstance(result, list | dict) else as_text(result)
        span.input, span.output = span.tool_arguments, span.tool_result
        starts = [to_ns(event.get("timestamp"))]
        if begin_id is not None:
            starts.append(to_ns(begins[begin_id].get("timestamp")))
        known = [s for s in starts if s is not None]
        span.start_ns = min(known) if known else None
        span.end_ns = to_ns(event.get("completed")) or (to_ns(ends.get(begin_id)) if begin_id else None)
        error = event.get("error")
        if isinstance(error, dict) and (error.get("type") or error.get("message")):
            span.status = Status.ERROR
            span.status_source = StatusSource.EXPLICIT
            span.status_message = ": ".join(str(p) for p in (error.get("type"), error.get("message")) if p)
        elif isinstance(error, str) and error:
            span.status, span.status_message = Status.ERROR, error
        attrs: dict[str, Any] = {"inspect.event": "tool"}
        if isinstance(error, dict) and error.get("type"):
            attrs["inspect.tool_error_type"] = error["type"]
        if event.get("truncated"):
            span.truncated = True
            attrs["inspect.truncated"] = as_text(event["truncated"])
        if event.get("agent"):
            span.agent_name = to_text(event["agent"])
        span.attributes = attrs
        if isinstance(event.get("events"), list) and event["events"]:
            self._events(event["events"], f"{where}.events", span.span_id)

    # -- messages (logs without events) -----------------------------------------------------------

    def _messages(self, messages: list[Any], locator: str) -> None:
        pending: dict[str, list[Span]] = {}
        unanswered: list[Span] = []
        for index, message in enumerate(messages):
            where = f"{locator}[{index}]"
            if not isinstance(message, dict) or not isinstance(message.get("role"), str):
                self.ctx.reject(where, "message is not an object with a role", message)
                continue
            role = message["role"]
            if role == "assistant":
                llm = self._new(
                    stable_id(self.trace_id, "message", index),
                    self.root_id,
                    to_text(message.get("model")) or "assistant",
                    SpanKind.LLM,
                    where,
                    message.get("id"),
                )
                llm.model = to_text(message.get("model"))
                llm.output = _message_output(_resolve(message, self.attachments))
                calls = message.get("tool_calls")
                for position, call in enumerate(calls if isinstance(calls, list) else ()):
                    if not isinstance(call, dict):
                        self.ctx.reject(f"{where}.tool_calls[{position}]", "tool call is not an object", call)
                        continue
                    name = to_text(call.get("function")) or "tool"
                    tool = self._new(
                        stable_id(self.trace_id, "call", index, position),
                        llm.span_id,
                        name,
                        SpanKind.TOOL,
                        f"{where}.tool_calls[{position}]",
                    )
                    tool.tool_name = name
                    tool.tool_call_id = to_text(call.get("id"))
                    tool.tool_arguments = as_text(_resolve(call.get("arguments"), self.attachments))
                    tool.input = tool.tool_arguments
                    unanswered.append(tool)
                    if tool.tool_call_id:
                        pending.setdefault(tool.tool_call_id, []).append(tool)
            elif role == "tool":
                call_id = to_text(message.get("tool_call_id"))
                queue = pending.get(call_id or "") or []
                tool = queue.pop(0) if queue else None
                if tool is None:
                    name = to_text(message.get("function")) or "tool"
                    tool = self._new(
                        stable_id(self.trace_id, "message", index),
                        self.root_id,
                        name,
                        SpanKind.TOOL,
                        where,
                        message.get("id"),
                    )
                    tool.tool_name = name
                    tool.tool_call_id = call_id
                else:
                    unanswered.remove(tool)
                    tool.sequence = self.sequence  # the call completes where its result appears
                    self.sequence += 1
                result = _resolve(message.get("content"), self.attachments)
                tool.tool_result = content_text(result)
                tool.output = tool.tool_result
                error = message.get("error")
                if isinstance(error, dict) and (error.get("type") or error.get("message")):
                    tool.status = Status.ERROR
                    tool.status_source = StatusSource.EXPLICIT
                    tool.status_message = ": ".join(
                        str(p) for p in (error.get("type"), error.get("message")) if p
                    )
                    tool.attributes = {"inspect.tool_error_type": error.get("type")}
        self.spans.sort(key=lambda s: s.sequence if s.sequence is not None else -1)


def _is_sample(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and "epoch" in obj
        and "id" in obj
        and "target" in obj
        and ("messages" in obj or "events" in obj)
    )


class InspectLogReader(Reader):
    """Inspect ``.json`` eval logs and bare sample objects."""

    format = FORMAT
    priority = 26

    @classmethod
    def match(cls, obj: Any) -> bool:
        if not isinstance(obj, dict):
            return False
        if (
            isinstance(obj.get("eval"), dict)
            and "version" in obj
            and any(k in obj for k in ("samples", "plan", "results"))
        ):
            return True
        return _is_sample(obj)

    def feed(self, obj: Any, locator: str) -> Iterator[Record]:
        if _is_sample(obj) and not isinstance(obj.get("eval"), dict):
            yield from SampleBuilder(self.ctx, {}, obj, locator).build()
            return
        samples = obj.get("samples")
        if samples is None:
            return
        if not isinstance(samples, list):
            self.ctx.reject(f"{locator}.samples", "samples is not a list", samples)
            return
        for index, sample in enumerate(samples):
            where = f"{locator}.samples[{index}]"
            if not isinstance(sample, dict) or "id" not in sample:
                self.ctx.reject(where, "sample is not an object with an id", sample)
                continue
            yield from SampleBuilder(self.ctx, obj, sample, where).build()


class InspectEvalZipReader(BinaryReader):
    """Inspect ``.eval`` zip logs: ``header.json`` (or ``_journal/start.json``) and ``samples/*.json``."""

    format = FORMAT
    SAMPLE_DIR: ClassVar[str] = "samples/"

    @classmethod
    def match_file(cls, path: str, head: bytes) -> bool:
        return head[:4] == b"PK\x03\x04" and path.lower().endswith(".eval")

    def read(self, data: bytes, ctx: ReadContext) -> Iterator[Record]:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, OSError) as exc:
            ctx.reject("file", f"not a readable .eval zip: {exc}")
            return
        with archive:
            names = set(archive.namelist())
            header: dict[str, Any] = {}
            for candidate in ("header.json", "_journal/start.json"):
                if candidate in names:
                    loaded = self._load(archive, candidate, ctx)
                    if isinstance(loaded, dict):
                        header = loaded
                        break
            members = sorted(
                (n for n in names if n.startswith(self.SAMPLE_DIR) and n.endswith(".json")), key=_natural_key
            )
            for member in members:
                sample = self._load(archive, member, ctx)
                if sample is None:
                    continue
                if not isinstance(sample, dict) or "id" not in sample:
                    ctx.reject(member, "sample is not an object with an id", sample)
                    continue
                yield from SampleBuilder(ctx, header, sample, member).build()

    @staticmethod
    def _load(archive: zipfile.ZipFile, member: str, ctx: ReadContext) -> Any:
        limit = ctx.max_record_bytes
        try:
            with archive.open(member) as fh:  # decompressed as read: a zip bomb stops at the limit
                data = fh.read(limit + 1)
            if len(data) > limit:
                ctx.reject(member, f"zip member decompresses to more than ingest.max_record_bytes "
                                   f"({size_text(limit)}): skipped")
                return None
            return orjson.loads(data)
        except (orjson.JSONDecodeError, zipfile.BadZipFile, zlib.error, KeyError, OSError, EOFError) as exc:
            ctx.reject(member, depth_reason() if is_too_deep(exc) else f"unreadable zip member: {exc}")
            return None


READERS = [InspectLogReader]
BINARY_READERS = [InspectEvalZipReader]
