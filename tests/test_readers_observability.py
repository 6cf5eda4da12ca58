"""Readers for tracing back-ends and agent trajectories: Jaeger JSON (query API, bare trace, span
array), Zipkin v2, OTLP/JSON inside ``{"result": …}``, OTel SDK console output and Harbor/ATIF
trajectories, on the hand-made fixtures under tests/fixtures/formats and on the real sample files in
../shared (skipped when absent), read by the file reader and ingested through the archive."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tracemine.model import Span, SpanKind, Status, TraceInfo

from conftest import FIXTURES, read_all, sample, spans_of

FORMATS = FIXTURES / "formats"


def _by_name(spans: list[Span]) -> dict[str, list[Span]]:
    out: dict[str, list[Span]] = {}
    for span in spans:
        out.setdefault(span.name, []).append(span)
    return out


def _ingest(path: Path, db: Path):
    from tracemine.ingest.loader import ingest_paths
    from tracemine.store import Store

    with Store(db) as store:
        report = ingest_paths([str(path)], store)
        rows = store.con.execute(
            "SELECT span_id, parent_span_id, name, kind, status, status_message FROM spans").fetchall()
    return report, rows


# --- Jaeger ---------------------------------------------------------------------------------------


def test_jaeger_query_api_fixture() -> None:
    records, rejected = read_all(FORMATS / "jaeger_query_api.json")
    assert rejected == []
    spans = spans_of(records)
    assert len(spans) == 7 and {s.source.format for s in spans} == {"jaeger_json"}
    names = _by_name(spans)
    agent = names["invoke_agent planner"][0]
    assert agent.kind == SpanKind.AGENT and agent.agent_name == "planner" and agent.parent_span_id is None
    assert agent.start_ns == 1761955200000000 * 1000 and agent.end_ns == (1761955200000000 + 900000) * 1000
    assert agent.resource == {"hostname": "agent-1", "service.name": "agent-svc"}
    tool = names["execute_tool get_weather"][0]
    assert tool.kind == SpanKind.TOOL and tool.tool_name == "get_weather"
    assert tool.tool_arguments == '{"city": "Paris"}' and "upstream timeout" in (tool.tool_result or "")
    assert tool.status == Status.ERROR and tool.status_message == "upstream timeout"
    assert tool.events and tool.events[0]["name"] == "error" and tool.events[0]["time_ns"] == 1761955200290000000
    # client and server halves of one RPC share a span id: two spans, the server under the client,
    # the server's own child under the server half
    client, server = sorted(names["GET /weather"], key=lambda s: s.start_ns or 0)
    assert client.span_id == "00000000000000a3" and client.parent_span_id == tool.span_id
    assert server.span_id != client.span_id and server.parent_span_id == client.span_id
    assert server.raw_span_id == "00000000000000a3" and server.resource["service.name"] == "weather-api"
    assert server.status == Status.UNSET  # a 504 alone is no error tag
    assert names["SELECT forecast"][0].parent_span_id == server.span_id
    assert names["SELECT forecast"][0].status == Status.UNSET  # error=false
    # FOLLOWS_FROM is a parent when there is no CHILD_OF; the identical repeat stays for the archive
    notify = names["notify"]
    assert len(notify) == 2 and all(s.parent_span_id == agent.span_id for s in notify)


def test_jaeger_fixture_ingest_counts_duplicates_and_clashes(tmp_path: Path) -> None:
    report, rows = _ingest(FORMATS / "jaeger_query_api.json", tmp_path / "j.duckdb")
    assert report.rejected == 0 and report.spans_inserted == 6
    assert report.duplicate_spans == 1  # the byte-identical "notify" record
    assert report.id_clashes == 1  # the server half kept under a derived id
    assert len({r[0] for r in rows}) == 6


def test_jaeger_bare_trace_and_span_array_fixtures() -> None:
    records, rejected = read_all(FORMATS / "jaeger_trace.json")
    assert rejected == []
    chat, retrieval = sorted(spans_of(records), key=lambda s: s.start_ns or 0)
    assert chat.kind == SpanKind.LLM and chat.model == "gpt-4o" and (chat.input_tokens, chat.output_tokens) == (120, 30)
    assert retrieval.kind == SpanKind.RETRIEVER and retrieval.parent_span_id == chat.span_id
    assert retrieval.input == "refund policy" and chat.resource == {"ip": "10.0.0.5", "service.name": "support-bot"}
    assert chat.trace_id == "5c3ab1f5e2d1cc01"  # 64-bit trace ids are kept

    records, rejected = read_all(FORMATS / "jaeger_spans.json")
    assert rejected == []
    spans = {s.name: s for s in spans_of(records)}
    assert set(spans) == {"handle", "call backend", "cache"}
    assert spans["call backend"].status == Status.ERROR  # bool tag holding the string "true"
    assert spans["cache"].status == Status.UNSET  # bool tag holding "false"
    assert spans["handle"].resource == {"service.name": "edge"}


def test_jaeger_query_api_sample(tmp_path: Path) -> None:
    path = sample("jaeger_query_api_json__")
    records, rejected = read_all(path)
    assert rejected == [] and len(spans_of(records)) == 2
    report, _ = _ingest(path, tmp_path / "q.duckdb")
    # the sample's two spans are the same record twice (same id, same content): one span, one duplicate
    assert (report.spans_inserted, report.duplicate_spans, report.rejected) == (1, 1, 0)


def test_jaeger_genai_trace_sample(tmp_path: Path) -> None:
    path = sample("jaeger_trace_json__")
    records, rejected = read_all(path)
    spans = spans_of(records)
    assert rejected == [] and len(spans) == 57
    kinds = Counter(s.kind for s in spans)
    assert kinds[SpanKind.AGENT] == 2 and kinds[SpanKind.LLM] == 5 and kinds[SpanKind.RETRIEVER] == 3
    assert kinds[SpanKind.TOOL] == 7
    tools = [s for s in spans if s.kind == SpanKind.TOOL]
    assert {s.tool_name for s in tools} == {"list_dashboards", "search_traces", "summarize_findings"}
    assert sum(1 for s in tools if s.tool_arguments and s.tool_result) == 6
    assert {s.agent_name for s in spans if s.kind == SpanKind.AGENT} == {"triage-agent", "summarizer"}
    [error] = [s for s in spans if s.status == Status.ERROR]
    assert error.name == "GET /api/v1/pods" and error.status_message == "HTTP 500"
    assert len({s.span_id for s in spans}) == 57 and sum(1 for s in spans if s.parent_span_id is None) == 1
    report, _ = _ingest(path, tmp_path / "g.duckdb")
    assert (report.spans_inserted, report.duplicate_spans, report.rejected) == (57, 0, 0)


def test_jaeger_span_array_sample() -> None:
    records, rejected = read_all(sample("jaeger_span_array_json__"))
    spans = spans_of(records)
    assert rejected == [] and len(spans) == 2
    assert [s.status for s in sorted(spans, key=lambda s: s.start_ns or 0)] == [Status.UNSET, Status.ERROR]
    assert spans[0].start_ns == 1605223981761425000


# --- Zipkin ---------------------------------------------------------------------------------------


def test_zipkin_fixture() -> None:
    records, rejected = read_all(FORMATS / "zipkin_v2.json")
    assert rejected == []
    spans = spans_of(records)
    assert len(spans) == 5 and {s.source.format for s in spans} == {"zipkin_json"}
    names = _by_name(spans)
    root = names["post /chat"][0]
    assert root.resource == {"service.name": "gateway", "net.host.ip": "10.1.0.1", "net.host.port": 8080}
    client, server = sorted(names["post /agent"], key=lambda s: s.start_ns or 0)  # the nameless half takes it
    assert client.span_id == "c0ffee0000000002" and client.status == Status.ERROR and client.status_message == "401"
    assert client.attributes["peer.service"] == "agent"
    assert server.span_id != client.span_id and server.parent_span_id == client.span_id
    assert server.end_ns is None and server.attributes["zipkin.missing"] == ["name", "duration"]
    tool = names["execute_tool lookup_order"][0]
    assert tool.parent_span_id == server.span_id  # recorded under the shared id, in the server's process
    assert tool.kind == SpanKind.TOOL and tool.tool_arguments == '{"order_id": "A-17"}'
    assert tool.status == Status.ERROR  # an empty error tag is still an error
    audit = names["send audit"][0]
    assert audit.events and audit.events[0]["name"] == "ws"


def test_zipkin_smartthings_sample(tmp_path: Path) -> None:
    path = sample("zipkin_v2_json__openzipkin_zipkin__zipkin-lens_testdata_smartthings")
    records, rejected = read_all(path)
    spans = spans_of(records)
    assert rejected == [] and len(spans) == 175
    assert len({s.span_id for s in spans}) == 175
    errors = [s for s in spans if s.status == Status.ERROR]
    assert len(errors) == 2 and {s.status_message for s in errors} == {"401"}
    assert sum(1 for s in spans if "name" in (s.attributes or {}).get("zipkin.missing", [])) == 6
    assert all(s.name for s in spans)
    ids = {s.span_id for s in spans}
    assert sum(1 for s in spans if s.parent_span_id not in ids) == 1  # one tree
    report, _ = _ingest(path, tmp_path / "z.duckdb")
    assert (report.spans_inserted, report.duplicate_spans, report.rejected) == (175, 0, 0)
    assert report.id_clashes == 45  # server halves sharing their client's id, kept apart


def test_zipkin_kafka_sample() -> None:
    records, rejected = read_all(sample("zipkin_v2_json__openzipkin_zipkin__zipkin-lens_testdata_messaging"))
    spans = spans_of(records)
    assert rejected == [] and len(spans) == 28
    errors = sorted(s.status_message or "" for s in spans if s.status == Status.ERROR)
    assert errors == ["error tag (empty)", "some error", "some error"]


# --- OTLP in an envelope, OTel console output -------------------------------------------------------


def test_otlp_in_result_envelope_fixture() -> None:
    records, rejected = read_all(FORMATS / "otlp_result_envelope.json")
    spans = spans_of(records)
    assert rejected == [] and len(spans) == 2 and {s.source.format for s in spans} == {"otlp_json"}
    root = next(s for s in spans if s.name == "root")
    assert root.status == Status.ERROR and root.status_message == "boom" and root.resource == {"service.name": "api-v3"}
    assert spans[0].source.locator.startswith("$.result")


def test_otlp_in_result_envelope_sample() -> None:
    records, rejected = read_all(sample("jaeger_api_v3_otlp_json__"))
    [span] = spans_of(records)
    assert rejected == [] and span.name == "foobar" and span.status == Status.ERROR


def test_otel_console_fixture() -> None:
    records, rejected = read_all(FORMATS / "otel_console.txt")
    spans = spans_of(records)
    assert rejected == [] and len(spans) == 2
    llm = next(s for s in spans if s.kind == SpanKind.LLM)
    tool = next(s for s in spans if s.kind == SpanKind.TOOL)
    assert llm.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736" and llm.span_id == "00f067aa0ba902b7"
    assert llm.model == "gpt-4o-mini" and llm.start_ns is not None and llm.end_ns - llm.start_ns == 1_500_000_000
    assert tool.parent_span_id == llm.span_id and tool.status == Status.ERROR and tool.tool_name == "search"
    assert llm.source.locator == "line 2" and tool.source.locator == "line 32"


def test_otel_console_sample() -> None:
    records, rejected = read_all(sample("otel_sdk_console_stdout__"))
    spans = spans_of(records)
    assert rejected == [] and len(spans) == 2 and all(s.kind == SpanKind.LLM for s in spans)
    assert {s.total_tokens for s in spans} == {31, 28}


def test_console_output_with_a_broken_block_rejects_only_that_block(tmp_path: Path) -> None:
    text = (FORMATS / "otel_console.txt").read_text()
    first_end = text.index("\n}\n") + 3
    broken = text[:first_end] + "{\n    \"name\": \"cut\",\n    \"context\": {\n" + "oops\n" + text[first_end:]
    path = tmp_path / "console.log"
    path.write_text(broken)
    records, rejected = read_all(path)
    assert len(spans_of(records)) == 2
    assert len(rejected) == 1 and rejected[0][1] == "line 31" and "invalid JSON block" in rejected[0][2]
    (tmp_path / "notes.txt").write_text("plain\ntext {not json} here\n")
    _, rejected = read_all(tmp_path / "notes.txt")
    assert len(rejected) == 1 and "not a JSON trace file" in rejected[0][2]


# --- Harbor / ATIF --------------------------------------------------------------------------------


def test_atif_spec_fixture() -> None:
    records, rejected = read_all(FORMATS / "atif_trajectory.json")
    assert rejected == []
    spans = sorted(spans_of(records), key=lambda s: s.sequence or 0)
    [info] = [r for r in records if isinstance(r, TraceInfo)]
    assert [s.name for s in spans] == ["shop-agent", "system", "user", "agent", "lookup_order", "track_parcel",
                                       "observation", "agent"]
    assert [s.sequence for s in spans] == list(range(8))
    root = spans[0]
    assert root.kind == SpanKind.AGENT and root.session_id == "run-0042" and root.model == "claude-sonnet"
    assert root.input_tokens is None and root.attributes["atif.final_metrics"]["total_prompt_tokens"] == 230
    first, second = spans[3], spans[7]
    assert first.kind == SpanKind.LLM and (first.input_tokens, first.output_tokens, first.cost_usd) == (90, 20, 0.0012)
    assert first.model == "claude-sonnet" and second.model == "claude-haiku"
    assert first.attributes["atif.reasoning_content"] == "Look the order up."
    lookup, track = spans[4], spans[5]
    assert lookup.parent_span_id == first.span_id and lookup.tool_arguments == '{"order_id":"A-17"}'
    assert lookup.tool_result == "Order A-17: shipped" and track.tool_result.startswith("ERROR")
    assert spans[6].output == "context trimmed" and spans[6].parent_span_id == root.span_id
    assert info.trace_id == root.trace_id and info.labels["session_id"] == "run-0042"
    again = sorted(spans_of(read_all(FORMATS / "atif_trajectory.json")[0]), key=lambda s: s.sequence or 0)
    assert [s.span_id for s in again] == [s.span_id for s in spans]  # deterministic ids


def _check_role_shape(path: Path, tool_name: str, result: str) -> list[Span]:
    records, rejected = read_all(path)
    spans = sorted(spans_of(records), key=lambda s: s.sequence or 0)
    assert rejected == []
    [tool] = [s for s in spans if s.kind == SpanKind.TOOL]
    assert tool.tool_name == tool_name and tool.tool_result.startswith(result)
    assert tool.end_ns is not None and tool.end_ns > tool.start_ns  # the observation step came later
    assert tool.parent_span_id == next(s for s in spans if s.kind == SpanKind.LLM).span_id
    assert not any(s.name == "observation" for s in spans)
    return spans


def test_atif_role_shape_fixture() -> None:
    spans = _check_role_shape(FORMATS / "atif_roles.json", "convert", "1.864")
    assert len(spans) == 5 and [s.input_tokens for s in spans if s.kind == SpanKind.LLM] == [30, None]


def test_atif_role_shape_sample() -> None:
    spans = _check_role_shape(sample("harbor_atif_trajectory_json__"), "web_search", "Climate change has caused")
    assert len(spans) == 6 and [s.input_tokens for s in spans if s.kind == SpanKind.LLM] == [150, 200]


# --- every new sample ingests whole ----------------------------------------------------------------

NEW_SAMPLES = [
    ("jaeger_api_v3_otlp_json__", 1, 1),
    ("jaeger_query_api_json__", 1, 0),
    ("jaeger_span_array_json__", 2, 1),
    ("jaeger_trace_json__", 57, 1),
    ("zipkin_v2_json__openzipkin_zipkin__zipkin-lens_testdata_messaging", 28, 3),
    ("zipkin_v2_json__openzipkin_zipkin__zipkin-lens_testdata_smartthings", 175, 2),
    ("otel_sdk_console_stdout__", 2, 0),
    ("harbor_atif_trajectory_json__", 6, 0),
    ("langfuse_trace_json__langfuse_langfuse__worker_src___tests___chatml_framework-traces_langgraph", 9, 0),
    ("langfuse_trace_json__langfuse_langfuse__worker_src___tests___chatml_framework-traces_pydantic", 12, 0),
]


@pytest.mark.parametrize(("prefix", "spans", "errors"), NEW_SAMPLES)
def test_new_samples_ingest_without_rejects(tmp_path: Path, prefix: str, spans: int, errors: int) -> None:
    report, rows = _ingest(sample(prefix), tmp_path / "s.duckdb")
    assert report.rejected == 0 and report.spans_inserted == spans
    assert sum(1 for r in rows if r[4] == "error") == errors
