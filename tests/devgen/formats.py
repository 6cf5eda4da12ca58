"""Serialisers of rendered runs (:class:`devgen.core.Span` lists) into five export formats.

Every agent can be written in every format (``devgen.generate`` rotates them); provider-specific
details (OTel provider name, instrumentation scope, LiteLLM model prefix) follow the agent's
``PROVIDER`` (``openai``, ``anthropic``, ``google``, ``mistral``), not the format.

* ``otlp`` — :func:`otlp_spans` + :func:`otlp_line`: OTLP/JSON ``resourceSpans`` lines with OTel GenAI
  attributes (``gen_ai.*``); tool failures set ``status.code = 2``; ids are 32/16 hex digits.
* ``langfuse`` — :func:`langfuse_trace`: one Langfuse trace download per line (``trace`` + ``observations``
  with SPAN/GENERATION/TOOL/EVENT types and ``scores``); ids are UUIDs (stored without dashes).
* ``flat`` — :func:`flat_spans`: one OpenInference span per line (``trace_id``, ``span_id``, ``attributes``
  with ``openinference.span.kind``, ``llm.*``, ``tool.*``); ids are 32/16 hex digits.
* ``openai-agents`` — :func:`openai_agents_records`: the OpenAI Agents SDK tracing export objects
  (``Trace.export()`` / ``Span.export()``), one per line: ``{"object": "trace", "id": "trace_<32 hex>",
  "workflow_name", "group_id", "metadata"}`` then ``{"object": "trace.span", "id": "span_<24 hex>",
  "trace_id", "parent_id", "started_at", "ended_at", "span_data", "error"}`` in the order the SDK's batch
  processor exports them (the trace when it starts, each span when it ends: children before parents).
  Times are ``datetime.isoformat()`` of UTC (microseconds, ``+00:00``; no fraction on a whole second).
  Reproduced SDK behaviours:

  - ``agent`` span data lists tool *names* only (``tools``), so no tool schemas are exported;
  - ``generation`` spans (Chat Completions / LiteLLM models) carry the full chat history as ``input``,
    the assistant message (with ``tool_calls``: id, function name, arguments JSON string) as ``output``,
    ``model`` (``anthropic/…`` or ``gemini/…`` through LiteLLM), ``model_config`` and ``usage``
    ``{input_tokens, output_tokens}``;
  - ``response`` spans (Responses API models, OpenAI agents only) carry no content: ``{"type":
    "response", "response_id": "resp_…"}`` and, from SDK 0.14 on, ``usage``. A run uses response spans
    for all, none or about half of its model turns, never where that would hide a labelled model turn's
    evidence (``devgen._response_turns``);
  - ``function`` spans: ``input`` is the arguments JSON string; ``output`` is ``str(result)``: a JSON
    string for tools that return JSON text, a Python ``repr`` of a dict for tools that return objects,
    ``None`` for an empty result; ``mcp_data`` is ``None``;
  - a failing tool usually catches its exception and returns error text (``error`` stays ``null``, so the
    span status is unset); tools that raise go through the SDK's default failure handler: output
    ``"An error occurred while running the tool. Please try again. Error: …"`` and ``error``
    ``{"message": "Error running tool (non-fatal)", "data": {"tool_name", "error"}}``. Which tools
    return objects or raise is fixed per (agent, tool);
  - SDK 0.14 runs (the later part of the time window: ``meta["sdk_turns"]``) wrap the agent span in a
    ``custom`` *task* span and each model turn with its tool calls in a ``custom`` *turn* span; earlier
    runs have the agent span at the top; guardrail events become ``guardrail`` spans;
  - the run outcome and any run-level attributes are in the trace's ``metadata`` (string values).

  tracemine keeps the prefixed ids verbatim (``trace_…``/``span_…``) and stores the trace record as the
  root span whose span id is the trace id.
* ``langsmith`` — :func:`devgen.langsmith.langsmith_runs`: LangSmith read-API run objects of a LangGraph
  ReAct agent traced by LangChain, one run per line (root ``chain`` run, ``agent``/``tools`` node runs,
  ``llm`` runs with serialised LangChain messages, ``tool`` runs with ``ToolMessage`` outputs, failures as
  a raised error with its traceback or a ``status="error"`` ToolMessage, the outcome in the root run's
  ``feedback_stats``); ids are UUIDs (stored without dashes), the trace id is the root run's id. Details in
  :mod:`devgen.langsmith`.

:func:`stored_id` gives an id as tracemine stores it, for each format.
"""

from __future__ import annotations

import hashlib
import json
import uuid
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from devgen.core import Span, dumps

FORMATS = ("otlp", "langfuse", "flat", "openai-agents", "langsmith")
FILE_PREFIX = {"otlp": "otlp", "langfuse": "langfuse", "flat": "spans", "openai-agents": "agents-sdk",
               "langsmith": "langsmith"}
SOURCE_FORMAT = {"otlp": "otlp_json", "langfuse": "langfuse", "flat": "flat_spans", "openai-agents": "openai_agents",
                 "langsmith": "langsmith"}
"""How tracemine names each format in ``spans.source_format``."""

PROVIDERS: dict[str, dict[str, str]] = {
    "openai": {"otel": "openai", "scope": "opentelemetry.instrumentation.openai_v2", "scope_version": "2.1b0",
               "oi_system": "openai", "oi_scope": "openinference.instrumentation.openai", "litellm": ""},
    "anthropic": {"otel": "anthropic", "scope": "opentelemetry.instrumentation.anthropic",
                  "scope_version": "0.38.7", "oi_system": "anthropic",
                  "oi_scope": "openinference.instrumentation.anthropic", "litellm": "anthropic/"},
    "google": {"otel": "gcp.vertex_ai", "scope": "opentelemetry.instrumentation.google_genai",
               "scope_version": "0.3b0", "oi_system": "vertexai",
               "oi_scope": "openinference.instrumentation.google_genai", "litellm": "gemini/"},
    "mistral": {"otel": "mistral_ai", "scope": "opentelemetry.instrumentation.mistralai", "scope_version": "0.40.2",
                "oi_system": "mistralai", "oi_scope": "openinference.instrumentation.mistralai",
                "litellm": "mistral/"},
}


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
                     "gen_ai.provider.name": PROVIDERS[agent.PROVIDER]["otel"], "gen_ai.request.model": agent.MODELS[0],
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
            attrs = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": PROVIDERS[agent.PROVIDER]["otel"],
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
        "scopeSpans": [{"scope": {"name": PROVIDERS[agent.PROVIDER]["scope"],
                                  "version": PROVIDERS[agent.PROVIDER]["scope_version"]},
                        "spans": span_objs}]}]}


# -- Langfuse --------------------------------------------------------------------------------------

def langfuse_trace(spans: list[Span], trace_id: str, agent: Any, meta: dict[str, Any]) -> dict[str, Any]:
    root = spans[0]
    project = "clx9wh0ps0001qk08" + agent.DIRNAME[:9]
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
                       metadata=dumps({"ls_provider": agent.PROVIDER,
                                             "stop_reason": s.extra.get("finish_reason")}))
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
            attrs = {"openinference.span.kind": "LLM", "llm.model_name": s.model, "llm.provider": agent.PROVIDER,
                     "llm.system": PROVIDERS[agent.PROVIDER]["oi_system"], "llm.token_count.prompt": s.in_tok,
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
                    "scope": {"name": PROVIDERS[agent.PROVIDER]["oi_scope"], "version": "0.1.4"},
                    "attributes": {k: v for k, v in attrs.items() if v is not None}})
    return out



# -- OpenAI Agents SDK tracing export ----------------------------------------------------------------

TOOL_FAILED = "An error occurred while running the tool. Please try again. Error: "


def iso_us(ns: int) -> str:
    """``datetime.now(timezone.utc).isoformat()`` as the SDK writes it: microseconds (none on a whole
    second) and ``+00:00``."""
    seconds, rest = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=rest // 1000).isoformat()


def _habit(agent: Any, tool: str | None, salt: str, share: float) -> bool:
    """A fixed per (agent, tool) coding habit, true for about ``share`` of the tools."""
    return zlib.crc32(f"{agent.NAME}/{tool}/{salt}".encode()) % 1000 < share * 1000


def _sdk_output(agent: Any, s: Span) -> tuple[str | None, dict[str, Any] | None]:
    """``(span_data.output, error)`` of a function span as the SDK exports it."""
    if s.error:
        if _habit(agent, s.tool, "raises", 0.34):  # the SDK's default failure_error_function
            return TOOL_FAILED + s.error, {"message": "Error running tool (non-fatal)",
                                           "data": {"tool_name": s.tool, "error": s.error}}
        style = zlib.crc32(f"{agent.NAME}/{s.tool}/errtext".encode()) % 3  # the tool caught it itself
        if style == 0:
            return f"Error: {s.error}", None
        if style == 1:
            return repr({"error": s.error}), None
        return s.error, None
    result = s.result
    if isinstance(result, str):
        return result or None, None
    if result is None:
        return None, None
    if _habit(agent, s.tool, "repr", 0.5):  # the tool returns a dict; the SDK exports str(output)
        return repr(result), None
    return json.dumps(result, ensure_ascii=False), None  # the tool returns JSON text


def _digest(*parts: str, n: int = 24) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


def openai_agents_records(spans: list[Span], trace_id: str, agent: Any, meta: dict[str, Any],
                          new_id: Callable[[], str]) -> list[dict[str, Any]]:
    """The trace record and its span records, in export order (module docstring).

    ``meta`` keys used: ``session`` (``group_id``), ``trace_metadata``, ``response_turns`` (the span ids
    of model turns written as ``response`` spans), ``sdk_turns`` (SDK 0.14 task/turn spans)."""
    root = spans[0]
    provider = PROVIDERS[agent.PROVIDER]
    response_turns: set[str] = set(meta.get("response_turns") or ())
    turns_on = bool(meta.get("sdk_turns"))
    records: list[dict[str, Any]] = []

    def record(sid: str, parent: str | None, start: int, end: int, data: dict[str, Any],
               error: dict[str, Any] | None = None) -> dict[str, Any]:
        jitter = int(_digest(sid, n=6), 16)  # sub-millisecond clock noise, fixed per span
        start += (jitter % 700) * 1000
        end = max(end + (jitter // 700 % 900) * 1000, start + 1000)
        obj = {"object": "trace.span", "id": sid, "trace_id": trace_id, "parent_id": parent,
               "started_at": iso_us(start), "ended_at": iso_us(end), "span_data": data, "error": error}
        records.append(obj)
        return obj

    task_id = new_id() if turns_on else None
    agent_error = {"message": root.error, "data": None} if root.error else None
    record(root.sid, task_id, root.start, root.end,
           {"type": "agent", "name": agent.SDK_AGENT, "handoffs": [], "tools": [t["name"] for t in agent.TOOLS],
            "output_type": "str"}, agent_error)
    model_config = {"temperature": 0.2, "top_p": None, "frequency_penalty": None, "presence_penalty": None,
                    "tool_choice": None, "parallel_tool_calls": None, "truncation": None, "max_tokens": None,
                    "reasoning": None, "metadata": None, "store": None, "include_usage": None,
                    "extra_query": None, "extra_body": None, "extra_headers": None, "extra_args": None,
                    "base_url": "" if provider["litellm"] else "https://api.openai.com/v1/"}
    if provider["litellm"]:
        model_config["model_impl"] = "litellm"
    history: list[dict[str, Any]] = []
    system: dict[str, Any] | None = None
    turn: dict[str, Any] | None = None  # the open turn span record
    turn_no = 0
    totals = {"input_tokens": 0, "output_tokens": 0, "requests": 0}
    for s in spans[1:]:
        if s.role == "llm":
            turn_no += 1
            totals["requests"] += 1
            totals["input_tokens"] += s.in_tok or 0
            totals["output_tokens"] += s.out_tok or 0
            parent = root.sid
            if turns_on:
                turn = record(new_id(), root.sid, s.start - 1_000_000, s.end + 20_000,
                              {"type": "custom", "name": "turn", "data": {
                                  "sdk_span_type": "turn", "turn": turn_no, "agent_name": agent.SDK_AGENT,
                                  "usage": {"input_tokens": s.in_tok, "output_tokens": s.out_tok,
                                            "cached_input_tokens": 0}}})
                parent = turn["id"]
            for m in s.input or ():
                if m["role"] == "system":
                    system = {"content": m["content"], "role": "system"}
                elif m["role"] == "user":
                    history.append({"content": m["content"], "role": "user"})
            out = s.output or {}
            calls = out.get("tool_calls") or None
            message = {"content": out.get("content"), "refusal": None, "role": "assistant", "annotations": [], "audio": None,
                       "function_call": None, "tool_calls": calls}
            if s.sid in response_turns:
                data: dict[str, Any] = {"type": "response", "response_id": "resp_" + _digest(trace_id, s.sid, n=50)}
                if turns_on:
                    data["usage"] = {"requests": 1, "input_tokens": s.in_tok, "output_tokens": s.out_tok,
                                     "total_tokens": (s.in_tok or 0) + (s.out_tok or 0),
                                     "input_tokens_details": {"cached_tokens": 0},
                                     "output_tokens_details": {"reasoning_tokens": 0}}
            else:
                data = {"type": "generation", "input": ([system] if system else []) + [dict(m) for m in history],
                        "output": [message], "model": provider["litellm"] + (s.model or ""),
                        "model_config": model_config,
                        "usage": {"input_tokens": s.in_tok, "output_tokens": s.out_tok}}
            record(s.sid, parent, s.start, s.end, data)
            history.append({"role": "assistant", "content": message["content"],
                            **({"tool_calls": calls} if calls else {})})
        elif s.role == "tool":
            output, error = _sdk_output(agent, s)
            parent = turn["id"] if turn is not None else root.sid
            done = record(s.sid, parent, s.start, s.end, {"type": "function", "name": s.tool, "input": text(s.args),
                                                          "output": output, "mcp_data": None}, error)
            if turn is not None:  # the turn ends after the tool calls it ran
                turn["ended_at"] = iso_us(max(_ns(done["ended_at"]) + 60_000, _ns(turn["ended_at"])))
            history.append({"role": "tool", "tool_call_id": s.call_id, "content": output or ""})
        elif s.role == "event":
            if s.name.startswith("guardrail."):
                payload = s.input if isinstance(s.input, dict) else {}
                record(s.sid, root.sid, s.start, s.end + 150_000,
                       {"type": "guardrail", "name": s.name.split(".", 1)[1],
                        "triggered": payload.get("passed") is False})
            else:
                record(s.sid, root.sid, s.start, s.end, {"type": "custom", "name": s.name,
                                                         "data": s.input if isinstance(s.input, dict) else {}})
    if turns_on and task_id is not None:
        record(task_id, None, root.start - 1_000_000, root.end + 1_000_000,
               {"type": "custom", "name": "task", "data": {
                   "sdk_span_type": "task", "name": agent.WORKFLOW,
                   "usage": {**totals, "cached_input_tokens": 0,
                             "total_tokens": totals["input_tokens"] + totals["output_tokens"]}}})
    trace = {"object": "trace", "id": trace_id, "workflow_name": agent.WORKFLOW, "group_id": meta["session"],
             "metadata": meta.get("trace_metadata") or None}
    records.sort(key=lambda r: (_ns(r["ended_at"]), _ns(r["started_at"])))  # exported when they end
    return [trace, *records]


def _ns(stamp: str) -> int:
    parsed = datetime.fromisoformat(stamp)
    return int(parsed.timestamp()) * 1_000_000_000 + parsed.microsecond * 1000


def openai_agents_ids(rng: Any) -> tuple[str, Callable[[], str]]:
    """A ``trace_<32 hex>`` id and a factory of ``span_<24 hex>`` ids (``uuid4().hex`` based, as the SDK)."""
    def new_id() -> str:
        return "span_" + format(rng.getrandbits(96), "024x")

    return "trace_" + format(rng.getrandbits(128), "032x"), new_id


def stored_id(raw: str, fmt: str) -> str:
    """A span or trace id as tracemine stores it: Langfuse and LangSmith UUIDs lose their dashes, hex ids
    are lower-cased, the OpenAI Agents SDK's prefixed ids (``trace_…``, ``span_…``) are kept verbatim (the
    trace record becomes the root span, whose span id is the trace id)."""
    if fmt in ("langfuse", "langsmith"):
        return uuid.UUID(raw).hex
    if fmt == "openai-agents":
        return raw
    return raw.lower()
