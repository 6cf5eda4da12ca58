"""OpenAI Agents SDK tracing export objects (``Trace.export()`` / ``Span.export()``), one per JSON-lines
record or inside the backend exporter's ``{"data": [...]}`` batches.

``{"object": "trace", "id": "trace_…", "workflow_name", "group_id", "metadata"}`` becomes the root AGENT
span of its trace (ids keep their ``trace_``/``span_`` prefixes); ``{"object": "trace.span", …,
"span_data": {"type": …}}`` become child spans. Records are buffered per file so the root can span its
children and ``function`` spans can borrow the tool-call id from the generation that asked for them. A
failed tool usually returns error text with no ``error`` set: its status stays UNSET.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from tracemine.ingest.base import Reader, Record
from tracemine.ingest.decode import as_text, decode_value
from tracemine.ingest.mappers import finish_span
from tracemine.ingest.mappers.common import merge_tool_definitions, normalize_tool_definitions
from tracemine.ingest.normalize import (
    SPAN_ID_HEX_LEN,
    TRACE_ID_HEX_LEN,
    normalize_id,
    raw_id,
    to_int,
    to_ns,
    to_text,
)
from tracemine.ingest.otel import flatten_attributes
from tracemine.model import Span, SpanKind, Status, StatusSource

_KINDS = {
    "agent": SpanKind.AGENT,
    "function": SpanKind.TOOL,
    "generation": SpanKind.LLM,
    "response": SpanKind.LLM,
    "guardrail": SpanKind.GUARDRAIL,
    "handoff": SpanKind.OTHER,
    "custom": SpanKind.OTHER,
    "mcp_tools": SpanKind.OTHER,
    "transcription": SpanKind.OTHER,
    "speech": SpanKind.OTHER,
    "speech_group": SpanKind.OTHER,
}


def _canonical(value: Any) -> str:
    decoded = decode_value(value)
    try:
        return json.dumps(decoded, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return str(decoded)


def _generation_calls(output: Any) -> list[tuple[str, str, str]]:
    """``(name, canonical arguments, call id)`` of the tool calls in a generation's output messages."""
    calls: list[tuple[str, str, str]] = []
    items = output if isinstance(output, list) else [output]
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call" and item.get("call_id") and isinstance(item.get("name"), str):
            calls.append((item["name"], _canonical(item.get("arguments")), str(item["call_id"])))
        tool_calls = item.get("tool_calls")
        for call in tool_calls if isinstance(tool_calls, list) else ():
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and isinstance(function.get("name"), str) and call.get("id"):
                calls.append((function["name"], _canonical(function.get("arguments")), str(call["id"])))
    return calls


class OpenAIAgentsReader(Reader):
    """OpenAI Agents SDK trace and span export objects."""

    format = "openai_agents"
    priority = 24

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self._traces: dict[str, tuple[dict[str, Any], str]] = {}
        self._spans: list[Span] = []

    @classmethod
    def match(cls, obj: Any) -> bool:
        if not isinstance(obj, dict):
            return False
        kind = obj.get("object")
        if kind == "trace.span":
            return True
        return kind == "trace" and "id" in obj and ("workflow_name" in obj or "group_id" in obj)

    def feed(self, obj: Any, locator: str) -> Iterable[Record]:
        """Buffer the record; spans are emitted by :meth:`finish`."""
        if obj.get("object") == "trace":
            trace_raw = raw_id(obj.get("id")) if isinstance(obj.get("id"), str) else None
            if not trace_raw:
                self.ctx.reject(locator, "trace without id", obj.get("workflow_name"))
            else:
                self._traces[trace_raw] = (obj, locator)
            return ()
        span = self._span(obj, locator)
        if span is not None:
            self._spans.append(span)
        return ()

    def _span(self, obj: dict[str, Any], locator: str) -> Span | None:
        trace_raw, span_raw = obj.get("trace_id"), obj.get("id")
        if not isinstance(trace_raw, str) or not trace_raw or not isinstance(span_raw, str) or not span_raw:
            self.ctx.reject(locator, "span without trace_id or id", obj.get("span_data"))
            return None
        data = obj.get("span_data")
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            self.ctx.reject(locator, "span_data is missing or has no type", data)
            return None
        kind_word = data["type"]
        span = Span(
            trace_id=normalize_id(trace_raw, TRACE_ID_HEX_LEN) or trace_raw,
            span_id=normalize_id(span_raw, SPAN_ID_HEX_LEN) or span_raw,
            parent_span_id=normalize_id(obj.get("parent_id"), SPAN_ID_HEX_LEN),
            name=to_text(data.get("name")) or kind_word,
            kind=_KINDS.get(kind_word, SpanKind.OTHER),
            start_ns=to_ns(obj.get("started_at")),
            end_ns=to_ns(obj.get("ended_at")),
            raw_trace_id=trace_raw,
            raw_span_id=span_raw,
            source=self.src(locator),
        )
        attrs: dict[str, Any] = {"openai_agents.span_type": kind_word}
        error = obj.get("error")
        if isinstance(error, dict) and (error.get("message") or error.get("data")):
            span.status = Status.ERROR
            span.status_source = StatusSource.EXPLICIT
            detail = error.get("data", {}).get("error") if isinstance(error.get("data"), dict) else None
            # the SDK's own wrapper ("Error running tool (non-fatal)") says nothing: the tool's error is the message
            span.status_message = to_text(detail) or to_text(error.get("message")) or "error"
            if error.get("data") is not None:
                attrs["error.data"] = as_text(error["data"])
            if detail and error.get("message"):
                attrs["error.sdk_message"] = to_text(error["message"])
        elif isinstance(error, str) and error.strip():
            span.status = Status.ERROR
            span.status_message = error.strip()
        handler = getattr(self, f"_data_{kind_word}", None)
        if handler is not None:
            handler(span, data, attrs)
        else:
            for key, value in data.items():
                if key not in ("type", "name") and value is not None:
                    attrs[f"openai_agents.{key}"] = (
                        as_text(value) if isinstance(value, dict | list) else value
                    )
        span.attributes = attrs
        finish_span(span)
        return span

    # -- span_data types ---------------------------------------------------------------------------

    @staticmethod
    def _data_agent(span: Span, data: dict[str, Any], attrs: dict[str, Any]) -> None:
        span.agent_name = to_text(data.get("name"))
        for key in ("handoffs", "tools", "output_type"):
            if data.get(key) is not None:
                attrs[f"openai_agents.{key}"] = data[key]
        tools = data.get("tools")
        if isinstance(tools, list):
            merge_tool_definitions(span, normalize_tool_definitions([t for t in tools if isinstance(t, str)]))

    @staticmethod
    def _data_function(span: Span, data: dict[str, Any], attrs: dict[str, Any]) -> None:
        span.tool_name = to_text(data.get("name"))
        span.tool_arguments = as_text(data.get("input"))
        span.tool_result = as_text(data.get("output"))
        span.input, span.output = span.tool_arguments, span.tool_result
        if data.get("mcp_data") is not None:
            attrs["openai_agents.mcp_data"] = as_text(data["mcp_data"])

    @staticmethod
    def _usage(span: Span, usage: Any) -> None:
        if isinstance(usage, dict):
            span.input_tokens = to_int(usage.get("input_tokens", usage.get("prompt_tokens")))
            span.output_tokens = to_int(usage.get("output_tokens", usage.get("completion_tokens")))
            span.total_tokens = to_int(usage.get("total_tokens"))

    def _data_generation(self, span: Span, data: dict[str, Any], attrs: dict[str, Any]) -> None:
        span.name = to_text(data.get("name")) or "generation"
        span.model = to_text(data.get("model"))
        span.input = as_text(data.get("input"))
        span.output = as_text(data.get("output"))
        self._usage(span, data.get("usage"))
        if data.get("model_config"):
            attrs["openai_agents.model_config"] = as_text(data["model_config"])
        calls = _generation_calls(data.get("output"))
        if calls:
            attrs["openai_agents.tool_calls"] = calls

    def _data_response(self, span: Span, data: dict[str, Any], attrs: dict[str, Any]) -> None:
        span.name = "response"
        span.model = to_text(data.get("model"))
        if data.get("response_id"):
            attrs["openai_agents.response_id"] = data["response_id"]
        self._usage(span, data.get("usage"))

    @staticmethod
    def _data_handoff(span: Span, data: dict[str, Any], attrs: dict[str, Any]) -> None:
        source, target = to_text(data.get("from_agent")), to_text(data.get("to_agent"))
        span.name = f"handoff {source or '?'} -> {target or '?'}"
        attrs["openai_agents.from_agent"] = source
        attrs["openai_agents.to_agent"] = target

    @staticmethod
    def _data_guardrail(span: Span, data: dict[str, Any], attrs: dict[str, Any]) -> None:
        attrs["openai_agents.triggered"] = bool(data.get("triggered"))
        span.output = "triggered" if data.get("triggered") else "not triggered"

    @staticmethod
    def _data_custom(span: Span, data: dict[str, Any], attrs: dict[str, Any]) -> None:
        payload = data.get("data")
        if isinstance(payload, dict):
            if payload.get("sdk_span_type") in ("task", "turn"):
                span.kind = SpanKind.CHAIN
                if payload.get("agent_name"):
                    span.agent_name = to_text(payload["agent_name"])
            for key, value in flatten_attributes(payload).items():
                attrs[f"openai_agents.data.{key}"] = value
        elif payload is not None:
            attrs["openai_agents.data"] = as_text(payload)

    @staticmethod
    def _data_mcp_tools(span: Span, data: dict[str, Any], attrs: dict[str, Any]) -> None:
        span.name = f"mcp_tools {data.get('server') or ''}".strip()
        attrs["openai_agents.server"] = data.get("server")
        result = data.get("result")
        span.output = as_text(result)
        if isinstance(result, list):
            merge_tool_definitions(
                span, normalize_tool_definitions([t for t in result if isinstance(t, str)])
            )

    # -- assembly ----------------------------------------------------------------------------------

    def finish(self) -> Iterable[Record]:
        traces, self._traces = self._traces, {}
        spans, self._spans = self._spans, []
        by_trace: dict[str, list[Span]] = {}
        for span in spans:
            by_trace.setdefault(span.trace_id, []).append(span)
        for trace_raw in traces:
            by_trace.setdefault(normalize_id(trace_raw, TRACE_ID_HEX_LEN) or trace_raw, [])
        raw_by_id = {normalize_id(r, TRACE_ID_HEX_LEN) or r: r for r in traces}
        for trace_id, trace_spans in by_trace.items():
            trace_raw = raw_by_id.get(trace_id) or (trace_spans[0].raw_trace_id if trace_spans else trace_id)
            record, locator = traces.get(
                trace_raw, ({}, trace_spans[0].source.locator if trace_spans else "")
            )
            yield from self._assemble(trace_id, trace_raw or trace_id, record, locator, trace_spans)

    def _assemble(
        self, trace_id: str, trace_raw: str, record: dict[str, Any], locator: str, spans: list[Span]
    ) -> Iterable[Record]:
        ids = {s.span_id for s in spans}
        by_id = {s.span_id: s for s in spans}
        root = Span(
            trace_id=trace_id,
            span_id=normalize_id(trace_raw, SPAN_ID_HEX_LEN) or trace_raw,
            name=to_text(record.get("workflow_name")) or "Agent workflow",
            kind=SpanKind.AGENT,
            session_id=to_text(record.get("group_id")),
            raw_trace_id=trace_raw,
            raw_span_id=trace_raw,
            source=self.src(locator),
        )
        starts = [s.start_ns for s in spans if s.start_ns is not None]
        ends = [s.end_ns for s in spans if s.end_ns is not None]
        root.start_ns = min(starts) if starts else None
        root.end_ns = max(ends) if ends else None
        metadata = record.get("metadata")
        attrs: dict[str, Any] = {"openai_agents.span_type": "trace"}
        if isinstance(metadata, dict):
            attrs.update({f"metadata.{k}": v for k, v in flatten_attributes(metadata).items()})
        root.attributes = attrs
        calls: dict[tuple[str, str], list[str]] = {}
        for span in sorted(spans, key=lambda s: s.start_ns or 0):
            for name, args, call_id in (span.attributes or {}).pop("openai_agents.tool_calls", ()):
                calls.setdefault((name, args), []).append(call_id)
        for span in spans:
            if span.parent_span_id is None or span.parent_span_id not in ids:
                span.parent_span_id = root.span_id
            if span.session_id is None:
                span.session_id = root.session_id
            if span.kind == SpanKind.TOOL and span.tool_name and span.tool_call_id is None:
                queue = calls.get((span.tool_name, _canonical(span.tool_arguments)))
                if queue:
                    span.tool_call_id = queue.pop(0)
            if span.agent_name is None:
                span.agent_name = self._agent_of(span, by_id)
            if span.tool_definitions:
                merge_tool_definitions(root, normalize_tool_definitions(span.tool_definitions))
        finish_span(root)
        yield root
        yield from sorted(spans, key=lambda s: (s.start_ns or 0, s.span_id))

    @staticmethod
    def _agent_of(span: Span, by_id: dict[str, Span]) -> str | None:
        """The name of the nearest enclosing agent span."""
        seen: set[str] = set()
        current = by_id.get(span.parent_span_id or "")
        while current is not None and current.span_id not in seen:
            if current.kind == SpanKind.AGENT and current.agent_name:
                return current.agent_name
            seen.add(current.span_id)
            current = by_id.get(current.parent_span_id or "")
        return None


READERS = [OpenAIAgentsReader]
