"""Encoders (OTLP/JSON with GenAI conventions; flat HALO-style JSONL with OpenInference attributes) and a
streaming writer that rolls over to part files.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from tracemine.synth.catalog import MODELS, AgentSpec
from tracemine.synth.plan import AGENT, HTTP, LLM, TOOL, SpanRec, TraceBuilder

SCOPE = {"name": "tracemine.synth", "version": "0.1.0"}
_PART = re.compile(r"^traces(-\d{5})?\.jsonl$")
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_DAYS: dict[int, str] = {}


def iso_ns(ns: int) -> str:
    """``2026-04-23T05:32:00.123456789Z`` for integer nanoseconds since the epoch."""
    sec, frac = divmod(ns, 1_000_000_000)
    d, sod = divmod(sec, 86400)
    prefix = _DAYS.get(d)
    if prefix is None:
        prefix = _DAYS[d] = dt.date.fromordinal(_EPOCH_ORDINAL + d).isoformat()
    h, rem = divmod(sod, 3600)
    m, s = divmod(rem, 60)
    return f"{prefix}T{h:02d}:{m:02d}:{s:02d}.{frac:09d}Z"


def _messages(role: str, text: str, finish: str | None = None) -> str:
    msg: dict[str, Any] = {"role": role, "parts": [{"type": "text", "content": text}]}
    if finish:
        msg["finish_reason"] = finish
    return orjson.dumps([msg]).decode()


def final_output(b: TraceBuilder) -> str:
    """The agent's final output text ('' when the run ended without one)."""
    return b.root_output if b.root_output is not None else b.final_text


# --- OTLP / GenAI semantic conventions ----------------------------------------------------------------


def _sv(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "value": {"stringValue": value}}


def _iv(key: str, value: int) -> dict[str, Any]:
    return {"key": key, "value": {"intValue": str(value)}}


_OP_AGENT = _sv("gen_ai.operation.name", "invoke_agent")
_OP_CHAT = _sv("gen_ai.operation.name", "chat")
_OP_TOOL = _sv("gen_ai.operation.name", "execute_tool")
_TOOL_TYPE = _sv("gen_ai.tool.type", "function")
_RESOURCES: dict[str, dict[str, Any]] = {}


def _otlp_resource(agent: AgentSpec) -> dict[str, Any]:
    res = _RESOURCES.get(agent.name)
    if res is None:
        res = _RESOURCES[agent.name] = {"attributes": [
            _sv("service.name", agent.service), _sv("service.version", "1.8.2"),
            _sv("deployment.environment.name", "production"), _sv("telemetry.sdk.language", "python"),
        ]}
    return res


def _status_otlp(s: SpanRec) -> dict[str, Any]:
    return {"code": s.status, "message": s.status_msg} if s.status_msg else {"code": s.status}


def otlp_line(b: TraceBuilder, trace_id: str, conv_id: str, spans: list[SpanRec]) -> bytes:
    """One ``ExportTraceServiceRequest`` holding the whole trace."""
    agent = b.agent
    model = MODELS[b.model]
    conv = _sv("gen_ai.conversation.id", conv_id)
    prov = _sv("gen_ai.provider.name", model.provider)
    req = _sv("gen_ai.request.model", b.model)
    resp = _sv("gen_ai.response.model", model.response_model)
    out = []
    for s in spans:
        kind = s.kind
        if kind == LLM:
            k = 3
            attrs = [_OP_CHAT, prov, req, resp, _iv("gen_ai.usage.input_tokens", s.in_tok),
                     _iv("gen_ai.usage.output_tokens", s.out_tok), {"key": "gen_ai.usage.cost", "value": {"doubleValue": s.cost}},
                     _sv("gen_ai.output.messages", s.messages), conv]
        elif kind == TOOL:
            k = 1
            attrs = [_OP_TOOL, _sv("gen_ai.tool.name", s.tool_name), _sv("gen_ai.tool.call.id", s.call_id), _TOOL_TYPE,
                     _sv("gen_ai.tool.call.arguments", s.args_text), conv]
            if s.result_text is not None:
                attrs.append(_sv("gen_ai.tool.call.result", s.result_text))
            if s.status == 2 and s.exc is not None:
                attrs.append(_sv("error.type", s.exc[0]))
        elif kind == AGENT:
            k = 1
            attrs = [_OP_AGENT, _sv("gen_ai.agent.name", agent.name), prov, req, conv,
                     _sv("gen_ai.tool.definitions", agent.definitions_genai),
                     _sv("gen_ai.input.messages", _messages("user", b.user_text))]
            text = final_output(b)
            if text:
                attrs.append(_sv("gen_ai.output.messages", _messages("assistant", text, "stop")))
            if s.status == 2 and s.exc is None and b.root_exc is not None:
                attrs.append(_sv("error.type", b.root_exc[0]))
        else:
            k = 3
            attrs = [_sv("http.request.method", s.name), _sv("url.full", s.text),
                     _sv("server.address", s.text.split("/")[2]), _iv("http.response.status_code", s.in_tok)]
            if s.status == 2:
                attrs.append(_sv("error.type", str(s.in_tok)))
        span: dict[str, Any] = {"traceId": trace_id, "spanId": s.span_id}
        if s.parent_id:
            span["parentSpanId"] = s.parent_id
        span["name"] = s.name
        span["kind"] = k
        span["startTimeUnixNano"] = str(s.start)
        span["endTimeUnixNano"] = str(s.end)
        span["attributes"] = attrs
        if s.events:
            span["events"] = [{"timeUnixNano": str(t), "name": "exception",
                               "attributes": [_sv("exception.type", ty), _sv("exception.message", msg)]}
                              for t, ty, msg in s.events]
        span["status"] = _status_otlp(s)
        out.append(span)
    doc = {"resourceSpans": [{"resource": _otlp_resource(agent), "scopeSpans": [{"scope": SCOPE, "spans": out}]}]}
    return orjson.dumps(doc)


# --- flat JSONL (HALO export shape) / OpenInference ------------------------------------------------------

_STATUS = ("STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR")
_KINDS = {AGENT: "SPAN_KIND_INTERNAL", LLM: "SPAN_KIND_CLIENT", TOOL: "SPAN_KIND_INTERNAL", HTTP: "SPAN_KIND_CLIENT"}
_FLAT_RESOURCES: dict[str, dict[str, Any]] = {}


def _flat_resource(agent: AgentSpec) -> dict[str, Any]:
    res = _FLAT_RESOURCES.get(agent.name)
    if res is None:
        res = _FLAT_RESOURCES[agent.name] = {"attributes": {
            "service.name": agent.service, "service.version": "1.8.2", "deployment.environment.name": "production",
            "telemetry.sdk.language": "python"}}
    return res


def jsonl_lines(b: TraceBuilder, trace_id: str, conv_id: str, spans: list[SpanRec]) -> bytes:
    """One flat JSON object per span, newline-terminated."""
    agent = b.agent
    model = MODELS[b.model]
    resource = _flat_resource(agent)
    lines = []
    for s in spans:
        kind = s.kind
        if kind == LLM:
            attrs: dict[str, Any] = {
                "openinference.span.kind": "LLM", "llm.model_name": model.response_model, "llm.provider": model.provider,
                "llm.token_count.prompt": s.in_tok, "llm.token_count.completion": s.out_tok,
                "llm.token_count.total": s.in_tok + s.out_tok, "llm.cost.total": s.cost,
                "output.value": s.messages, "output.mime_type": "application/json", "session.id": conv_id,
            }
        elif kind == TOOL:
            attrs = {"openinference.span.kind": "TOOL", "tool.name": s.tool_name, "tool_call.id": s.call_id,
                     "input.value": s.args_text, "input.mime_type": "application/json", "session.id": conv_id}
            if s.result_text is not None:
                attrs["output.value"] = s.result_text
                attrs["output.mime_type"] = "text/plain" if isinstance(s.result, str) else "application/json"
        elif kind == AGENT:
            attrs = {"openinference.span.kind": "AGENT", "agent.name": agent.name, "session.id": conv_id,
                     "llm.model_name": b.model, "input.value": b.user_text}
            text = final_output(b)
            if text:
                attrs["output.value"] = text
            for i, schema in enumerate(agent.definitions_oi):
                attrs[f"llm.tools.{i}.tool.json_schema"] = schema
        else:
            attrs = {"http.request.method": s.name, "url.full": s.text, "server.address": s.text.split("/")[2],
                     "http.response.status_code": s.in_tok}
        events = [{"name": "exception", "timestamp": iso_ns(t),
                   "attributes": {"exception.type": ty, "exception.message": msg}} for t, ty, msg in s.events]
        lines.append(orjson.dumps({
            "trace_id": trace_id, "span_id": s.span_id, "parent_span_id": s.parent_id, "name": s.name,
            "kind": _KINDS[kind], "start_time": iso_ns(s.start), "end_time": iso_ns(s.end),
            "status": {"code": _STATUS[s.status], "message": s.status_msg}, "resource": resource, "scope": SCOPE,
            "attributes": attrs, "events": events,
        }))
    lines.append(b"")
    return b"\n".join(lines)


ENCODERS = {"otlp": otlp_line, "jsonl": jsonl_lines}


class TraceWriter:
    """Streams encoded traces to ``traces-NNNNN.jsonl`` parts of at most ``max_spans`` spans each (a trace is
    never split); a run that fits in one part is renamed ``traces.jsonl``.
    """

    def __init__(self, out_dir: Path, fmt: str, max_spans: int) -> None:
        self.out_dir = out_dir
        self.encode = ENCODERS[fmt]
        self.newline = fmt == "otlp"
        self.max_spans = max_spans
        self.parts: list[Path] = []
        self._fh: BinaryIO | None = None
        self._in_part = 0
        out_dir.mkdir(parents=True, exist_ok=True)
        for old in out_dir.iterdir():  # stale parts of an earlier run would be read with this one
            if _PART.match(old.name) and old.is_file():
                old.unlink()

    def _roll(self) -> BinaryIO:
        if self._fh is not None:
            self._fh.close()
        path = self.out_dir / f"traces-{len(self.parts):05d}.jsonl"
        self.parts.append(path)
        self._in_part = 0
        self._fh = path.open("wb", buffering=1 << 20)
        return self._fh

    def write(self, b: TraceBuilder, trace_id: str, conv_id: str, spans: list[SpanRec]) -> None:
        fh = self._fh
        if fh is None or (self._in_part and self._in_part + len(spans) > self.max_spans):
            fh = self._roll()
        data = self.encode(b, trace_id, conv_id, spans)
        fh.write(data + b"\n" if self.newline else data)
        self._in_part += len(spans)

    def close(self) -> list[Path]:
        if self._fh is None:
            self._roll()
        assert self._fh is not None
        self._fh.close()
        self._fh = None
        if len(self.parts) == 1:
            single = self.out_dir / "traces.jsonl"
            self.parts[0].replace(single)
            self.parts = [single]
        return list(self.parts)
