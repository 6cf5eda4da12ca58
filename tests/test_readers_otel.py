"""OTel-family readers against the real sample files and hand-written fixtures: OTLP/JSON (request,
JSON-lines, Tempo batches, legacy names), OTLP protobuf (binary and text), flat HALO/SDK/any-agent
spans, Phoenix spans, and the GenAI / OpenInference / OpenLLMetry attribute conventions."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import orjson

from tracemine.model import SpanKind, Status, StatusSource

from conftest import read_all, sample, spans_of


def _by_id(spans):
    return {s.span_id: s for s in spans}


def test_otlp_json_request_sample() -> None:
    spans, rejected = read_all(sample("otlp_json__"))
    assert rejected == []
    assert len(spans) == 1
    span = spans[0]
    assert span.trace_id == "5b8efff798038103d269b633813fc60c"  # uppercase hex normalised
    assert span.raw_trace_id == "5B8EFFF798038103D269B633813FC60C"
    assert span.span_id == "eee19b7ec3c1b174"
    assert span.parent_span_id == "eee19b7ec3c1b173"
    assert span.start_ns == 1544712660000000000 and span.end_ns == 1544712661000000000
    assert span.attributes == {"my.span.attr": "some value"}
    assert span.resource == {"service.name": "my.service"}
    assert span.source.format == "otlp_json"


def test_otlp_protobuf_binary_and_text_match_json() -> None:
    json_span = spans_of(read_all(sample("otlp_json__"))[0])[0]
    for prefix, fmt in (("otlp_protobuf_bin__", "otlp_protobuf"), ("otlp_protobuf_text__", "otlp_protobuf_text")):
        records, rejected = read_all(sample(prefix))
        assert rejected == []
        (span,) = spans_of(records)
        assert span.source.format == fmt
        assert (span.trace_id, span.span_id, span.parent_span_id) == (
            json_span.trace_id, json_span.span_id, json_span.parent_span_id)
        assert span.start_ns == json_span.start_ns and span.attributes == json_span.attributes


def test_halo_realistic_traces() -> None:
    spans, rejected = read_all(sample("halo_jsonl__context-labs_HALO__tests_fixtures_realistic"))
    assert rejected == []
    assert len(spans) == 58
    assert len({s.trace_id for s in spans}) == 3
    tools = [s for s in spans if s.kind == SpanKind.TOOL]
    assert Counter(s.tool_name for s in tools) == {"list_files": 11, "grep": 4, "read_file": 1}
    by_id = _by_id(spans)
    first = by_id["261fcb79ae604e8ca68f610e"]
    assert first.tool_arguments == '{"subdir":"./","pattern":"*.py"}'
    assert first.tool_result.startswith("['./verify_traces.py', './tracing.py'")
    assert first.parent_span_id == "5b802fc40c7345058eeed7b7"
    errors = [s for s in spans if s.status == Status.ERROR]
    assert len(errors) == 3
    assert {s.tool_name for s in errors} == {"list_files"}
    assert all(s.status_source == StatusSource.EXPLICIT for s in errors)
    assert errors[0].status_message == "Error running tool (non-fatal)"
    assert "No such file or directory" in by_id["b9dee82875eb44428963dafd"].tool_result
    llm = by_id["79d500bda507440f8a237682"]
    assert llm.kind == SpanKind.LLM
    assert (llm.input_tokens, llm.output_tokens, llm.total_tokens) == (325, 21, 346)
    agent = next(s for s in spans if s.kind == SpanKind.AGENT)
    assert agent.agent_name == "HaloCodeHelper"
    assert [d["name"] for d in orjson.loads(agent.tool_definitions)] == ["list_files", "read_file", "grep"]


def test_halo_tiny_and_medium() -> None:
    spans, rejected = read_all(sample("halo_jsonl__context-labs_HALO__tests_fixtures_tiny"))
    assert rejected == [] and len(spans) == 6
    by_id = _by_id(spans)
    llm = by_id["s-aaaa-2"]
    assert llm.parent_span_id == "s-aaaa-1" and by_id["s-aaaa-1"].parent_span_id is None
    assert (llm.model, llm.input_tokens, llm.output_tokens, llm.cost_usd) == ("claude-sonnet-4-5", 100, 50, 0.0012)
    assert llm.start_ns == 1776922320100000000  # 2026-04-23T05:32:00.1Z
    failed = by_id["s-bbbb-1"]
    assert failed.status == Status.ERROR and failed.status_message == "tool call failed"
    assert failed.agent_name == "agent-b"

    medium, rejected = read_all(sample("halo_jsonl__context-labs_HALO__tests_fixtures_medium"))
    assert rejected == []
    assert len(medium) == 2000 and len({s.trace_id for s in medium}) == 500
    assert Counter(s.kind for s in medium) == {SpanKind.LLM: 1500, SpanKind.AGENT: 500}
    assert sum(1 for s in medium if s.status == Status.ERROR) == 134
    assert sum(s.input_tokens or 0 for s in medium) == 407282


def test_halo_demo_large_payloads() -> None:
    spans, rejected = read_all(sample("halo_jsonl__context-labs_HALO__demo"))
    assert rejected == [] and len(spans) == 7
    assert all(s.trace_id for s in spans)


def test_any_agent_genai_sdk_json_with_integer_ids() -> None:
    spans, rejected = read_all(sample("genai_semconv_otel_sdk_json__"))
    assert rejected == []
    assert len(spans) == 6
    # 128-bit decimal ids must be parsed exactly (not through a float) and written as hex
    assert {s.trace_id for s in spans} == {"4bedea77bb33b9c5f280371eae21ea97"}
    root = next(s for s in spans if s.parent_span_id is None)
    assert root.kind == SpanKind.AGENT and root.name == "invoke_agent [any_agent]"
    assert all(s.parent_span_id == root.span_id for s in spans if s is not root)
    tools = [s for s in spans if s.kind == SpanKind.TOOL]
    assert [t.tool_name for t in tools] == ["get_current_time", "write_file"]
    assert tools[0].tool_arguments == '{"timezone": "America/New_York"}'
    assert '"America/New_York"' in tools[0].tool_result
    assert tools[1].tool_arguments == '{"text": "2025"}'
    llms = [s for s in spans if s.kind == SpanKind.LLM]
    assert [(s.input_tokens, s.output_tokens) for s in llms] == [(269, 16), (359, 14), (392, 46)]
    assert llms[0].model == "mistral/mistral-small-latest"
    assert abs(llms[0].cost_usd - (0.0000269 + 4.8e-6)) < 1e-12


def _otlp_span(trace: str, span: str, parent: str | None, name: str, attrs: list, **extra) -> dict:
    out = {"traceId": trace, "spanId": span, "name": name, "kind": 1,
           "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000001000000000", "attributes": attrs}
    if parent is not None:
        out["parentSpanId"] = parent
    out.update(extra)
    return out


def _attr(key: str, value) -> dict:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def test_otlp_jsonlines_tempo_batches_and_legacy(tmp_path: Path) -> None:
    trace = "0af7651916cd43dd8448eb211c80319c"
    tool = _otlp_span(trace, "b7ad6b7169203331", "00f067aa0ba902b7", "execute_tool search", [
        _attr("gen_ai.operation.name", "execute_tool"), _attr("gen_ai.tool.name", "search"),
        _attr("gen_ai.tool.call.arguments", '{"q": "weather"}'), _attr("gen_ai.tool.call.result", '{"hits": []}'),
    ], status={"code": 2, "message": "boom"})
    llm = _otlp_span(trace, "c7ad6b7169203331", "00f067aa0ba902b7", "chat gpt-4o", [
        _attr("gen_ai.operation.name", "chat"), _attr("gen_ai.request.model", "gpt-4o"),
        _attr("gen_ai.usage.prompt_tokens", 120), _attr("gen_ai.usage.completion_tokens", 30),  # ≤1.36 names
        _attr("gen_ai.system", "openai"),
    ])
    root = _otlp_span(trace, "00f067aa0ba902b7", "", "invoke_agent helper", [
        _attr("gen_ai.operation.name", "invoke_agent"), _attr("gen_ai.agent.name", "helper"),
        _attr("gen_ai.tool.definitions", orjson.dumps([{"type": "function", "function": {
            "name": "search", "parameters": {"type": "object", "required": ["q"]}}}]).decode()),
    ])
    lines = [
        {"resourceSpans": [{"resource": {"attributes": [_attr("service.name", "svc")]},
                            "scopeSpans": [{"scope": {"name": "s"}, "spans": [root, llm]}]}]},
        {"batches": [{"resource": {"attributes": []}, "instrumentationLibrarySpans": [{"spans": [tool]}]}]},
    ]
    path = tmp_path / "export.jsonl.gz"
    with gzip.open(path, "wb") as fh:
        for line in lines:
            fh.write(orjson.dumps(line) + b"\n")
    spans, rejected = read_all(path)
    assert rejected == []
    by_id = _by_id(spans)
    assert len(spans) == 3
    assert by_id["00f067aa0ba902b7"].parent_span_id is None  # "" parent is a root
    assert by_id["00f067aa0ba902b7"].kind == SpanKind.AGENT
    definitions = orjson.loads(by_id["00f067aa0ba902b7"].tool_definitions)
    assert definitions == [{"name": "search", "parameters": {"type": "object", "required": ["q"]}}]
    chat = by_id["c7ad6b7169203331"]
    assert (chat.kind, chat.model, chat.input_tokens, chat.output_tokens, chat.total_tokens) == (
        SpanKind.LLM, "gpt-4o", 120, 30, 150)
    search = by_id["b7ad6b7169203331"]
    assert (search.kind, search.tool_name, search.tool_arguments, search.tool_result) == (
        SpanKind.TOOL, "search", '{"q": "weather"}', '{"hits": []}')
    assert search.status == Status.ERROR and search.status_message == "boom"
    assert search.status_source == StatusSource.EXPLICIT


def test_base64_ids_and_inferred_error_from_exception_event(tmp_path: Path) -> None:
    span = _otlp_span("W47/95gDgQPSabYzgT/GDA==", "7uGbfsPBsXQ=", None, "tool.fetch", [],
                      events=[{"timeUnixNano": "1700000000500000000", "name": "exception", "attributes": [
                          _attr("exception.type", "TimeoutError"), _attr("exception.message", "upstream timeout")]}])
    path = tmp_path / "b64.json"
    path.write_bytes(orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}))
    (only,) = spans_of(read_all(path)[0])
    assert only.trace_id == "5b8efff798038103d269b633813fc60c" and only.span_id == "eee19b7ec3c1b174"
    assert only.status == Status.ERROR and only.status_source == StatusSource.INFERRED
    assert only.status_message == "TimeoutError: upstream timeout"
    assert only.kind == SpanKind.TOOL and only.tool_name == "fetch"
    assert only.events[0]["time_ns"] == 1700000000500000000


def test_otel_sdk_to_json_and_phoenix_and_openllmetry(tmp_path: Path) -> None:
    sdk_span = {
        "name": "tool_call", "context": {"trace_id": "0x5b8efff798038103d269b633813fc60c", "span_id": "0x051581bf3cb55c13"},
        "kind": "SpanKind.INTERNAL", "parent_id": "0x051581bf3cb55c12",
        "start_time": "2024-05-01T10:00:00.123456Z", "end_time": "2024-05-01T10:00:01Z",
        "status": {"status_code": "ERROR", "description": "bad"},
        "attributes": {"traceloop.span.kind": "tool", "traceloop.entity.name": "lookup",
                       "traceloop.entity.input": '{"args": [], "kwargs": {"order_id": "A1"}}',
                       "traceloop.entity.output": '{"status": 404}'},
        "events": [], "links": [], "resource": {"attributes": {"service.name": "x"}, "schema_url": ""},
    }
    phoenix_span = {
        "name": "ChatOpenAI", "context": {"trace_id": "5b8efff798038103d269b633813fc60c", "span_id": "051581bf3cb55c12"},
        "span_kind": "LLM", "parent_id": None, "start_time": "2024-05-01T09:59:59+00:00",
        "end_time": "2024-05-01T10:00:02+00:00", "status_code": "OK", "status_message": "",
        "attributes": {"llm": {"model_name": "gpt-4o-mini", "token_count": {"prompt": 11, "completion": 7}},
                       "input": {"value": "hi"}, "output": {"value": "hello"}},
        "events": [],
    }
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(orjson.dumps(sdk_span) + b"\n" + orjson.dumps(phoenix_span) + b"\n")
    records, rejected = read_all(path)
    assert rejected == []
    tool, llm = spans_of(records)
    assert tool.source.format == "flat_spans" and llm.source.format == "phoenix_json"
    assert tool.trace_id == "5b8efff798038103d269b633813fc60c" and tool.parent_span_id == "051581bf3cb55c12"
    assert (tool.kind, tool.tool_name, tool.tool_arguments, tool.tool_result) == (
        SpanKind.TOOL, "lookup", '{"order_id":"A1"}', '{"status": 404}')
    assert tool.status == Status.ERROR and tool.status_message == "bad"
    assert tool.start_ns == 1714557600123456000
    assert (llm.kind, llm.model, llm.input_tokens, llm.output_tokens) == (SpanKind.LLM, "gpt-4o-mini", 11, 7)
    assert llm.input == "hi" and llm.output == "hello" and llm.status == Status.OK
