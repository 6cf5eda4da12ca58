"""Serialisers: OTLP JSON lines (GenAI conventions), Langfuse trace exports, flat OpenInference spans."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from devgen.core import Span, dumps


def iso(ns: int, digits: int = 3) -> str:
    seconds, frac = divmod(ns, 1_000_000_000)
    base = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{str(frac).rjust(9, '0')[:digits]}Z"


def text(value: Any) -> str:
    return value if isinstance(value, str) else dumps(value)


# -- OTLP / OTel GenAI -----------------------------------------------------------------------------

def _kv(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        v: dict[str, Any] = {"boolValue": value}
    elif isinstance(value, int):
        v = {"intValue": str(value)}
    elif isinstance(value, float):
        v = {"doubleValue": value}
    elif isinstance(value, list) and all(isinstance(x, str) for x in value):
        v = {"arrayValue": {"values": [{"stringValue": x} for x in value]}}
    else:
        v = {"stringValue": text(value)}
    return {"key": key, "value": v}


def otlp_spans(spans: list[Span], trace_id: str, agent: Any, meta: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for s in spans:
        attrs: dict[str, Any]
        kind = 1
        if s.role == "agent":
            attrs = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent.NAME,
                     "gen_ai.agent.id": meta["agent_id"], "gen_ai.conversation.id": meta["session"],
                     "gen_ai.provider.name": "openai", "gen_ai.request.model": agent.MODELS[0],
                     "gen_ai.tool.definitions": dumps([{"type": "function", **t} for t in agent.TOOLS]),
                     "gen_ai.input.messages": dumps([{"role": "user", "parts": [{"type": "text",
                                                                                 "content": s.input}]}]),
                     "gen_ai.output.messages": dumps([{"role": "assistant", "parts": [
                         {"type": "text", "content": s.output}], "finish_reason": "stop"}]),
                     "enduser.id": meta["user"], **meta["outcome_attrs"], **s.extra}
            name = f"invoke_agent {agent.NAME}"
        elif s.role == "llm":
            kind = 3
            out_msg = s.output or {}
            parts: list[dict[str, Any]] = []
            if out_msg.get("content"):
                parts.append({"type": "text", "content": out_msg["content"]})
            for c in out_msg.get("tool_calls") or ():
                parts.append({"type": "tool_call", "id": c["id"], "name": c["function"]["name"],
                              "arguments": c["function"]["arguments"]})
            attrs = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                     "gen_ai.request.model": s.model, "gen_ai.response.model": s.model,
                     "gen_ai.request.temperature": 0.2, "gen_ai.usage.input_tokens": s.in_tok,
                     "gen_ai.usage.output_tokens": s.out_tok,
                     "gen_ai.response.finish_reasons": [s.extra.get("finish_reason", "stop")],
                     "gen_ai.response.id": f"chatcmpl-{s.sid}{trace_id[:8]}",
                     "gen_ai.input.messages": dumps([{"role": m["role"], "parts": [{"type": "text",
                                                                                    "content": m["content"]}]}
                                                     for m in s.input]),
                     "gen_ai.output.messages": dumps([{"role": "assistant", "parts": parts}])}
            name = f"chat {s.model}"
        elif s.role == "tool":
            attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": s.tool,
                     "gen_ai.tool.type": "function", "gen_ai.tool.call.id": s.call_id,
                     "gen_ai.tool.call.arguments": text(s.args), "gen_ai.tool.call.result": text(s.result)}
            if s.error:
                attrs["error.type"] = s.error.split(":")[0].split(" ")[0][:40]
            name = f"execute_tool {s.tool}"
        else:
            attrs = {"app.step": s.name}
            name = s.name
        status: dict[str, Any] = {}
        if s.error:
            status = {"code": 2, "message": s.error}
        elif s.role == "agent" and meta.get("status_ok"):
            status = {"code": 1}
        out.append({"traceId": trace_id, "spanId": s.sid, "parentSpanId": s.parent or "", "name": name,
                    "kind": kind, "startTimeUnixNano": str(s.start), "endTimeUnixNano": str(s.end),
                    "attributes": [_kv(k, v) for k, v in attrs.items() if v is not None], "status": status})
    return out


def otlp_line(span_objs: list[dict[str, Any]], agent: Any) -> dict[str, Any]:
    return {"resourceSpans": [{
        "resource": {"attributes": [_kv("service.name", agent.NAME), _kv("service.version", agent.VERSION),
                                    _kv("deployment.environment.name", "production"),
                                    _kv("telemetry.sdk.language", "python")]},
        "scopeSpans": [{"scope": {"name": "opentelemetry.instrumentation.openai_v2", "version": "2.1b0"},
                        "spans": span_objs}]}]}


# -- Langfuse --------------------------------------------------------------------------------------

def langfuse_trace(spans: list[Span], trace_id: str, agent: Any, meta: dict[str, Any]) -> dict[str, Any]:
    root = spans[0]
    project = "clx9wh0ps0001qk08stockops"
    defs = [{"type": "function", "function": t} for t in agent.TOOLS]
    observations = []
    for s in spans:
        obs: dict[str, Any] = {"id": s.sid, "traceId": trace_id, "projectId": project, "name": s.name,
                               "startTime": iso(s.start), "endTime": iso(s.end) if s.role != "event" else None,
                               "parentObservationId": s.parent, "level": "DEFAULT", "statusMessage": None,
                               "environment": "production", "version": agent.VERSION}
        if s.role in ("agent", "segment"):
            obs.update(type="SPAN", input=dumps(s.input if s.input is not None else {"step": s.name}),
                       output=dumps(s.output) if s.output is not None else None,
                       metadata=dumps({"agent": agent.NAME, **({"stop_reason": s.extra["stop_reason"]}
                                                               if "stop_reason" in s.extra else {})}))
        elif s.role == "llm":
            calls = [{"id": c["id"], "name": c["function"]["name"], "arguments": c["function"]["arguments"],
                      "type": "tool_call"} for c in (s.output or {}).get("tool_calls") or ()]
            obs.update(type="GENERATION", name=agent.GENERATION_NAME, model=s.model,
                       modelParameters={"temperature": 0, "max_tokens": 2048},
                       input=dumps(s.input), output=dumps(s.output),
                       usageDetails={"input": s.in_tok, "output": s.out_tok, "total": s.in_tok + s.out_tok},
                       toolDefinitions=defs, toolCalls=calls, toolCallNames=[c["name"] for c in calls],
                       completionStartTime=iso(s.start + (s.end - s.start) // 3),
                       metadata=dumps({"ls_provider": "anthropic", "stop_reason": s.extra.get("finish_reason")}))
        elif s.role == "tool":
            obs.update(type="TOOL", name=s.tool, input=text(s.args), output=text(s.result),
                       metadata=dumps({"tool_call_id": s.call_id}))
            if s.error:
                obs.update(level="ERROR", statusMessage=s.error)
        else:
            obs.update(type="EVENT", name=s.name, input=dumps(s.input), output=None, metadata=None)
        observations.append(obs)
    return {"trace": {"id": trace_id, "projectId": project, "name": agent.NAME, "timestamp": iso(root.start),
                      "environment": "production", "tags": meta["tags"], "release": agent.VERSION,
                      "userId": meta["user"], "sessionId": meta["session"], "public": False,
                      "input": dumps(root.input), "output": dumps(root.output),
                      "metadata": dumps({"agent": agent.NAME, "channel": meta["channel"]}),
                      "latency": round((root.end - root.start) / 1e9, 3), "scores": meta["scores"]},
            "observations": observations}


# -- flat OpenInference ----------------------------------------------------------------------------

def _oi_messages(prefix: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, m in enumerate(messages):
        out[f"{prefix}.{i}.message.role"] = m["role"]
        if m.get("content"):
            out[f"{prefix}.{i}.message.content"] = m["content"]
        for j, c in enumerate(m.get("tool_calls") or ()):
            out[f"{prefix}.{i}.message.tool_calls.{j}.tool_call.id"] = c["id"]
            out[f"{prefix}.{i}.message.tool_calls.{j}.tool_call.function.name"] = c["function"]["name"]
            out[f"{prefix}.{i}.message.tool_calls.{j}.tool_call.function.arguments"] = c["function"]["arguments"]
    return out


def flat_spans(spans: list[Span], trace_id: str, agent: Any, meta: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    tool_schemas = {f"llm.tools.{i}.tool.json_schema": dumps({"type": "function", "function": t})
                    for i, t in enumerate(agent.TOOLS)}
    for s in spans:
        if s.role == "agent":
            attrs: dict[str, Any] = {"openinference.span.kind": "AGENT", "agent.name": agent.NAME,
                                     "session.id": meta["session"], "user.id": meta["user"],
                                     "input.value": s.input, "input.mime_type": "text/plain",
                                     "output.value": s.output, "output.mime_type": "text/plain",
                                     **meta["outcome_attrs"], **s.extra}
            name = agent.ROOT_NAME
        elif s.role == "llm":
            attrs = {"openinference.span.kind": "LLM", "llm.model_name": s.model, "llm.provider": "google",
                     "llm.system": "vertexai", "llm.token_count.prompt": s.in_tok,
                     "llm.token_count.completion": s.out_tok, "llm.token_count.total": s.in_tok + s.out_tok,
                     "llm.invocation_parameters": dumps({"temperature": 0.1}),
                     "input.value": dumps({"messages": s.input}), "input.mime_type": "application/json",
                     "output.value": dumps(s.output), "output.mime_type": "application/json",
                     **_oi_messages("llm.input_messages", s.input),
                     **_oi_messages("llm.output_messages", [s.output]), **tool_schemas}
            name = agent.GENERATION_NAME
        elif s.role == "tool":
            attrs = {"openinference.span.kind": "TOOL", "tool.name": s.tool, "tool_call.id": s.call_id,
                     "input.value": text(s.args), "input.mime_type": "application/json",
                     "output.value": text(s.result),
                     "output.mime_type": "text/plain" if isinstance(s.result, str) else "application/json"}
            name = s.tool or "tool"
        else:
            attrs = {"openinference.span.kind": "CHAIN", "input.value": text(s.input or s.name)}
            name = s.name
        code, message = "STATUS_CODE_UNSET", ""
        if s.error:
            code, message = "STATUS_CODE_ERROR", s.error
        elif s.role in ("agent", "tool", "llm"):
            code = "STATUS_CODE_OK"
        out.append({"trace_id": trace_id, "span_id": s.sid, "parent_span_id": s.parent or "", "trace_state": "",
                    "name": name, "kind": "SPAN_KIND_INTERNAL", "start_time": iso(s.start, 9),
                    "end_time": iso(s.end, 9), "status": {"code": code, "message": message},
                    "resource": {"attributes": {"service.name": agent.NAME, "service.version": agent.VERSION,
                                                "deployment.environment": "prod"}},
                    "scope": {"name": "openinference.instrumentation.google_genai", "version": "0.1.4"},
                    "attributes": {k: v for k, v in attrs.items() if v is not None}})
    return out


def stored_id(raw: str, fmt: str) -> str:
    """A span or trace id as tracemine stores it (uuids lose their dashes, hex is lower-cased)."""
    if fmt == "langfuse":
        return uuid.UUID(raw).hex
    return raw.lower()
