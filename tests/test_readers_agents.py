"""Readers for agent-framework formats: Langfuse, LangSmith, OpenAI Agents SDK, Inspect AI, SWE-agent, τ-bench.

Sample files come from ``../shared`` (tests skip when it is absent); small fixtures of our own live in
``tests/fixtures/agents``. Expected values were read from the files by hand.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tracemine.ingest.normalize import to_ns
from tracemine.ingest.read import read_file
from tracemine.model import Outcome, Span, SpanKind, Status, StatusSource, TraceInfo

SHARED = Path(__file__).resolve().parents[2] / "shared"
FORMATS = SHARED / "samples" / "formats"
DATASETS = SHARED / "datasets"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "agents"


@dataclass
class Result:
    spans: list[Span] = field(default_factory=list)
    infos: list[TraceInfo] = field(default_factory=list)
    rejects: list[tuple[str, str, str | None]] = field(default_factory=list)
    formats: Counter[str] = field(default_factory=Counter)

    def span(self, span_id: str) -> Span:
        found = [s for s in self.spans if s.span_id == span_id]
        assert len(found) == 1, f"{len(found)} spans with id {span_id}"
        return found[0]

    def kind(self, kind: SpanKind) -> list[Span]:
        return [s for s in self.spans if s.kind == kind]

    def roots(self, trace_id: str) -> list[Span]:
        ids = {s.span_id for s in self.spans if s.trace_id == trace_id}
        return [s for s in self.spans if s.trace_id == trace_id and s.parent_span_id not in ids]

    def ids(self) -> list[tuple[str, str, str | None]]:
        return [(s.trace_id, s.span_id, s.parent_span_id) for s in self.spans]


def read(path: Path) -> Result:
    result = Result()
    reader = read_file(
        path, lambda _file, locator, reason, excerpt: result.rejects.append((locator, reason, excerpt))
    )
    for record in reader:
        if isinstance(record, Span):
            result.spans.append(record)
        else:
            assert isinstance(record, TraceInfo)
            result.infos.append(record)
    result.formats = reader.formats
    return result


def sample(prefix: str, contains: str = "") -> Path:
    if not FORMATS.is_dir():
        pytest.skip("shared sample files are not available")
    matches = sorted(p for p in FORMATS.iterdir() if p.name.startswith(prefix) and contains in p.name)
    if not matches:
        pytest.skip(f"no sample file {prefix}*{contains}*")
    return matches[0]


def dataset(relative: str) -> Path:
    path = DATASETS / relative
    if not path.is_file():
        pytest.skip(f"dataset {relative} is not available")
    return path


def tool_names(spans: list[Span]) -> list[str | None]:
    return [s.tool_name for s in spans if s.kind == SpanKind.TOOL]


# -- Langfuse ----------------------------------------------------------------------------------------


def test_langfuse_openai_agents_trace() -> None:
    result = read(sample("langfuse_trace_json", "openai-agents"))
    assert result.rejects == []
    assert result.formats == {"langfuse": 6}
    assert len(result.spans) == 5  # the top-level list; the nested duplicate copy is ignored
    trace_id = "fee618f96dc31e0ca38b2f7b26eb8b29"
    assert {s.trace_id for s in result.spans} == {trace_id}
    [root] = result.roots(trace_id)
    assert (root.span_id, root.kind, root.name) == ("e5a76f27f51ad40e", SpanKind.AGENT, "Agent workflow")
    assert root.start_ns == to_ns("2025-09-30T09:03:59.962Z")
    tool = result.span("5b99c3e3411ed17b")
    assert tool.kind == SpanKind.TOOL and tool.parent_span_id == "d950b668796240b5"
    assert tool.tool_name == "get_weather"
    assert tool.tool_arguments == '{"city":"Tokyo"}'
    assert tool.tool_result == "The weather in Tokyo is sunny."
    assert tool.tool_call_id == "call_Kud0j0DxWSmLzv9W5m6qVqXn"  # found in the next generation's input
    generation = result.span("90d94774e8e3724d")
    assert generation.kind == SpanKind.LLM and generation.model == "gpt-4.1-2025-04-14"
    assert (generation.input_tokens, generation.output_tokens, generation.total_tokens) == (85, 29, 114)
    assert generation.cost_usd == pytest.approx(0.000402)
    assert generation.input is not None and "What's the weather in Tokyo?" in generation.input
    assert all(s.status == Status.UNSET for s in result.spans)
    assert root.input_tokens is None and root.cost_usd is None  # zeros on non-generations are not usage
    [info] = result.infos
    assert info.outcome == Outcome.UNKNOWN
    assert info.labels is not None and info.labels["scores"] == {"toxicity": 0.8, "hallucination": 0}


def test_langfuse_claude_agent_trace() -> None:
    result = read(sample("langfuse_trace_json", "claude-agent"))
    assert result.rejects == []
    assert len(result.spans) == 7
    [root] = result.roots("097f1d8982fa909b8cffb14a166ec272")
    assert root.span_id == "805dc5dff9e33e32" and root.kind == SpanKind.CHAIN  # SPAN type, chain attributes
    assert (
        root.attributes is not None and root.attributes["langsmith.span.kind"] == "chain"
    )  # from cut metadata
    tools = {s.tool_arguments: s for s in result.kind(SpanKind.TOOL)}
    assert set(tools) == {'{"city":"Berlin"}', '{"city":"New York"}'}  # {"input": {...}} envelope removed
    berlin = tools['{"city":"Berlin"}']
    assert berlin.span_id == "f411dab686a064b1" and berlin.parent_span_id == "805dc5dff9e33e32"
    assert berlin.tool_name == "mcp__weather__get_weather"
    assert berlin.tool_call_id == "toolu_01TKoqQLvY2UWuC49qnD48y7"
    assert berlin.tool_result is not None and "Weather in Berlin: Cloudy, 59°F" in berlin.tool_result
    first = result.span("e9aac170e5d48125")
    assert (first.input_tokens, first.output_tokens, first.total_tokens) == (19, 29, 48)
    assert len(result.kind(SpanKind.LLM)) == 4
    [info] = result.infos  # scores are a Python repr string in this file
    assert info.labels is not None and info.labels["scores"] == {
        "correctness": 0,
        "hallucination": 1,
        "toxicity": 0,
    }
    assert info.outcome == Outcome.FAILURE  # correctness 0


def test_langfuse_observation_page_with_bad_observation() -> None:
    result = read(FIXTURES / "langfuse_observations_page.json")
    assert result.rejects == [("$.data[3]", "observation without id", "lost-id")]
    assert len(result.spans) == 6
    trace_a = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    [root] = result.roots(trace_a)
    assert (
        root.span_id == trace_a and root.kind == SpanKind.CHAIN
    )  # two top-level observations: synthetic root
    assert root.start_ns == to_ns("2025-05-06T10:00:00.000Z") and root.end_ns == to_ns(
        "2025-05-06T10:00:31.300Z"
    )
    search = result.span("1e2f3a4b5c6d7e8f")
    assert search.parent_span_id == trace_a
    assert search.status == Status.ERROR and search.status_source == StatusSource.EXPLICIT
    assert search.status_message == "TimeoutError: search backend did not answer within 30s"
    assert search.tool_call_id == "call_p1"
    assert search.tool_arguments == '{"query": "pro plan pricing"}' and search.tool_result is None
    assert result.span("2f3a4b5c6d7e8f90").parent_span_id == "1e2f3a4b5c6d7e8f"
    compose = result.span("4b5c6d7e8f900112")
    assert (compose.input_tokens, compose.output_tokens, compose.total_tokens) == (10, 5, 15)
    assert compose.session_id == "sess-9"  # from the root's OpenInference session.id
    assert [s.status for s in result.spans].count(Status.ERROR) == 1
    assert result.infos == []


def test_langfuse_bare_trace_with_lone_generation(tmp_path: Path) -> None:
    trace = {
        "id": "c0ffee00c0ffee00c0ffee00c0ffee00",
        "name": "summarise",
        "timestamp": "2025-01-02T03:04:05.000Z",
        "scores": [{"name": "correctness", "value": 1, "dataType": "NUMERIC"}],
        "observations": [
            {
                "id": "g1",
                "traceId": "c0ffee00c0ffee00c0ffee00c0ffee00",
                "type": "GENERATION",
                "name": "llm",
                "startTime": "2025-01-02T03:04:05.000Z",
                "endTime": "2025-01-02T03:04:06.000Z",
                "parentObservationId": None,
                "level": "ERROR",
                "statusMessage": "context length exceeded",
                "usageDetails": {"input": 128000, "output": 0},
            }
        ],
    }
    path = tmp_path / "trace.json"
    path.write_text(json.dumps(trace))
    result = read(path)
    assert result.rejects == []
    [root] = result.roots(trace["id"])
    assert root.kind == SpanKind.CHAIN and root.name == "summarise"  # a lone generation is not the run's root
    generation = result.span("g1")
    assert generation.parent_span_id == root.span_id
    assert generation.status == Status.ERROR and generation.status_message == "context length exceeded"
    assert generation.output_tokens == 0 and generation.total_tokens == 128000
    assert result.infos[0].outcome == Outcome.SUCCESS


# -- LangSmith ---------------------------------------------------------------------------------------


def test_langsmith_post_patch_sample_is_merged() -> None:
    result = read(sample("langsmith_run_ingest_post_patch"))
    assert result.rejects == []
    [run] = result.spans
    assert run.trace_id == run.span_id == "d0d84d31923d4cb594a840a0a0087578"
    assert run.raw_span_id == "d0d84d31-923d-4cb5-94a8-40a0a0087578"
    assert run.kind == SpanKind.LLM and run.model == "gpt-4o-mini"
    assert run.start_ns == to_ns("2024-10-11T20:58:23.298773+00:00")
    assert run.end_ns == to_ns("2024-10-11T20:58:24.417106+00:00")  # only in the patch
    assert (run.input_tokens, run.output_tokens, run.total_tokens) == (9, 9, 18)  # outputs.usage_metadata
    assert run.output is not None and "Howdy! How can I assist you today?" in run.output
    assert run.input is not None and '"content":"howdy"' in run.input


def test_langsmith_read_api_sample() -> None:
    result = read(sample("langsmith_run_read_api"))
    assert result.rejects == []
    [run] = result.spans
    assert run.kind == SpanKind.TOOL and run.tool_name == "Search"
    assert run.status == Status.OK
    assert run.start_ns == 1712280534085646000  # "2024-04-05T01:28:54.085646", no zone: UTC
    assert run.input_tokens is None and run.total_tokens is None


def test_langsmith_runs_fixture() -> None:
    result = read(FIXTURES / "langsmith_runs.jsonl")
    assert result.rejects == [("line 7.post[0]", "run without id", "run without an id")]
    assert result.formats == {"langsmith": 7}
    trace_a = "1f1e8a2c000040008000000000000001"
    [root] = result.roots(trace_a)
    assert root.name == "AgentExecutor" and root.kind == SpanKind.CHAIN
    assert root.end_ns == to_ns("2024-06-01T12:00:02+00:00")
    assert root.session_id == "thread-7"
    assert root.tool_definitions is not None
    assert [d["name"] for d in json.loads(root.tool_definitions)] == ["get_weather", "get_forecast"]
    llm = result.span("1f1e8a2c000040008000000000000002")
    assert llm.parent_span_id == trace_a and llm.model == "gpt-4o-mini"
    assert (llm.input_tokens, llm.output_tokens, llm.total_tokens) == (82, 17, 99)  # llm_output.token_usage
    weather = result.span("1f1e8a2c000040008000000000000003")
    assert weather.tool_name == "get_weather" and weather.tool_call_id == "call_w1"
    assert weather.tool_arguments == "{'city': 'Paris'}"
    assert weather.tool_result == "Paris: 18°C, light rain"
    assert weather.status == Status.UNSET
    forecast = result.span("1f1e8a2c000040008000000000000004")
    assert forecast.status == Status.ERROR and forecast.status_source == StatusSource.EXPLICIT
    assert forecast.status_message is not None and forecast.status_message.startswith(
        "ValueError('days must be <= 2')"
    )
    assert forecast.tool_result is None
    trace_b = "7c9d4e215a6b4c3d9e8f0a1b2c3d4e5f"
    chain = result.span(trace_b)
    assert chain.status == Status.ERROR and chain.input_tokens is None  # chain totals are children's sums
    llm_b = result.span("7c9d4e215a6b4c3d9e8f0a1b2c3d4e60")
    assert llm_b.trace_id == trace_b and llm_b.parent_span_id == trace_b  # from parent_run_ids, no trace_id
    assert llm_b.model == "claude-3-5-sonnet-20240620" and llm_b.cost_usd == pytest.approx(0.0036)
    assert llm_b.status_message == "RateLimitError: 429 Too Many Requests"
    retriever = result.span("7c9d4e215a6b4c3d9e8f0a1b2c3d4e61")
    assert (
        retriever.kind == SpanKind.RETRIEVER and retriever.trace_id == trace_b
    )  # trace found via its parent
    assert retriever.start_ns == to_ns("2024-06-02T08:30:00.100000Z")


def test_langsmith_tool_call_id_in_extra() -> None:
    """langchain-core 1.x hands the tool call id to ``on_tool_start``; the tracer keeps it in ``extra``. A
    tool run that raised has no ToolMessage output, so ``extra.tool_call_id`` is the only place it is."""
    result = read(Path(__file__).resolve().parent / "fixtures" / "formats" / "langsmith_langgraph_tool_call_ids.jsonl")
    assert result.rejects == [] and result.formats == {"langsmith": 4}
    raised = result.span("0b6f2a4e51c34f1e9d7a3c2b1a0f9e03")
    assert raised.tool_name == "book_room" and raised.tool_call_id == "call_book1"
    assert raised.status == Status.ERROR and raised.status_message is not None
    assert raised.status_message.startswith("ValueError('room R-12 is closed')Traceback")
    assert raised.tool_result is None and raised.tool_arguments == '{"room_id":"R-12"}'
    listed = result.span("0b6f2a4e51c34f1e9d7a3c2b1a0f9e04")
    assert listed.tool_call_id == "call_list1" and listed.tool_result == '{"rooms": ["R-14"]}'
    assert result.span("0b6f2a4e51c34f1e9d7a3c2b1a0f9e02").tool_call_id is None  # the tools node is no tool


def test_langsmith_patch_wins_whatever_the_order(tmp_path: Path) -> None:
    run_id = "5E3C1B7A-9D2F-4E8B-A1C3-2B4D6F8A0C1E"
    patch = {"id": run_id.lower(), "end_time": "2024-07-01T10:00:05", "outputs": {"output": "done"}}
    post = {
        "id": run_id,
        "name": "lookup",
        "run_type": "tool",
        "start_time": "2024-07-01T10:00:00",
        "outputs": {},
    }
    path = tmp_path / "batch.json"
    path.write_text(json.dumps({"patch": [patch], "post": [post]}))
    result = read(path)
    assert result.rejects == []
    [run] = result.spans
    assert run.span_id == run.trace_id == "5e3c1b7a9d2f4e8ba1c32b4d6f8a0c1e"
    assert run.tool_result == "done" and run.end_ns == to_ns("2024-07-01T10:00:05Z")
    assert run.raw_span_id == run_id


# -- OpenAI Agents SDK -------------------------------------------------------------------------------


def test_openai_agents_jsonl_fixture() -> None:
    result = read(FIXTURES / "openai_agents_spans.jsonl")
    assert result.rejects == [("line 8", "span_data is missing or has no type", "function lookup_order")]
    assert result.formats == {"openai_agents": 11}
    trace_id = "trace_6f1c2a7d3b9e4c0a8d5f1e2b3c4d5e6f"
    [root] = result.roots(trace_id)
    assert root.span_id == trace_id and root.kind == SpanKind.AGENT and root.name == "Customer support"
    assert (
        root.session_id == "conv_42"
        and root.attributes is not None
        and root.attributes["metadata.user"] == "u_1"
    )
    assert root.start_ns == to_ns("2025-03-11T17:29:00.900000+00:00")
    assert root.tool_definitions is not None
    assert {d["name"] for d in json.loads(root.tool_definitions)} == {"lookup_order", "issue_refund"}
    triage = result.span("span_a1b2c3d4e5f6a7b8c9d0e1f2")
    assert triage.kind == SpanKind.AGENT and triage.parent_span_id == trace_id
    first = result.span("span_1d2e3f4a5b6c7d8e9f0a1b2c")
    assert first.parent_span_id == triage.span_id and first.agent_name == "Triage Agent"
    assert first.tool_name == "lookup_order" and first.tool_arguments == '{"order_id":"A-1001"}'
    assert first.tool_call_id == "call_abc1"  # from the generation that asked for it
    assert first.tool_result == "{'status': 'delivered', 'total': 59.0}"
    not_found = result.span("span_3f4a5b6c7d8e9f0a1b2c3d4e")
    assert not_found.tool_result == "Error: order A-1002 not found"
    assert not_found.status == Status.UNSET and not_found.tool_call_id == "call_abc2"
    refund = result.span("span_6c7d8e9f0a1b2c3d4e5f6a7b")
    assert refund.status == Status.ERROR and refund.status_source == StatusSource.EXPLICIT
    # the tool's own error, not the SDK's wrapper text, is the status message
    assert refund.status_message == "PermissionError: refunds above 50 need approval"
    assert refund.attributes["error.sdk_message"] == "Error running tool (non-fatal)"
    assert refund.attributes is not None and "PermissionError" in refund.attributes["error.data"]
    assert refund.agent_name == "Refund Agent"
    generation = result.span("span_0c1d2e3f4a5b6c7d8e9f0a1b")
    assert generation.kind == SpanKind.LLM and generation.model == "gpt-4o-mini"
    assert (generation.input_tokens, generation.output_tokens, generation.total_tokens) == (120, 18, 138)
    response = result.span("span_5b6c7d8e9f0a1b2c3d4e5f6a")
    assert (response.kind, response.total_tokens) == (SpanKind.LLM, 235)
    assert result.span("span_7d8e9f0a1b2c3d4e5f6a7b8c").kind == SpanKind.GUARDRAIL
    assert result.span("span_4a5b6c7d8e9f0a1b2c3d4e5f").name == "handoff Triage Agent -> Refund Agent"
    assert tool_names(result.spans) == ["lookup_order", "lookup_order", "issue_refund"]


def test_openai_agents_backend_batch() -> None:
    result = read(FIXTURES / "openai_agents_batch.json")
    assert result.rejects == [
        ("$.data[5]", "span without trace_id or id", "{'type': 'custom', 'name': 'orphan', 'data': {}}")
    ]
    assert len(result.spans) == 5
    trace_id = "trace_0a9b8c7d6e5f40312a3b4c5d6e7f8091"
    [root] = result.roots(trace_id)
    assert root.name == "Research workflow" and root.session_id is None
    task = result.span("span_c0ffee00c0ffee00c0ffee00")
    assert task.kind == SpanKind.CHAIN and task.parent_span_id == trace_id and task.input_tokens is None
    fetch = result.span("span_f1f1f1f1f1f1f1f1f1f1f1f1")
    assert fetch.tool_result == "HTTP 404: Not Found" and fetch.status == Status.UNSET
    assert fetch.agent_name == "Researcher"
    assert result.span("span_d0d0d0d0d0d0d0d0d0d0d0d0").kind == SpanKind.OTHER  # listing tools is not a call


# -- Inspect AI --------------------------------------------------------------------------------------


def test_inspect_tool_call_errors() -> None:
    result = read(sample("inspect_eval_log_json", "tool_call_error"))
    assert result.rejects == []
    assert len(result.spans) == 12 and result.infos == []  # no scores in this log
    [root] = [s for s in result.spans if s.kind == SpanKind.AGENT]
    tools = result.kind(SpanKind.TOOL)
    assert len(tools) == 11 and all(t.parent_span_id == root.span_id for t in tools)
    assert [t.tool_call_id for t in tools] == [f"bash_{i}" for i in range(1, 12)]
    assert all(t.status == Status.ERROR and t.status_source == StatusSource.EXPLICIT for t in tools)
    assert [t.attributes["inspect.tool_error_type"] for t in tools if t.attributes] == [
        "parsing",
        "timeout",
        "parsing",
        "unicode_decode",
        "permission",
        "file_not_found",
        "is_a_directory",
        "limit",
        "approval",
        "unknown",
        "output_limit",
    ]
    assert tools[-1].status_message == "output_limit: The tool output limit of 10 MiB was exceeded."
    assert tools[-1].tool_result is not None and "<START_TOOL_OUTPUT>" in tools[-1].tool_result
    assert [t.sequence for t in tools] == list(range(11))


def test_inspect_browser_events() -> None:
    result = read(sample("inspect_eval_log_json", "browser"))
    # the trimmed copy ends its events with a "[TRIMMED 18 more items]" string
    assert result.rejects == [
        ("$.samples[0].events[25]", "event is not an object", "[TRIMMED 18 more items]")
    ]
    assert len(result.spans) == 10
    [root] = [s for s in result.spans if s.kind == SpanKind.AGENT]
    assert root.parent_span_id is None and root.name == "browser"
    assert root.tool_definitions is not None
    definitions = {d["name"]: d for d in json.loads(root.tool_definitions)}
    assert len(definitions) == 8 and definitions["web_browser_go"]["parameters"]["required"] == ["url"]
    generate = result.span("e758269d7b5e411fb689337dd84ea1d6")
    assert generate.kind == SpanKind.CHAIN and generate.parent_span_id == root.span_id
    go = result.span("e6ecbd839389484397bd3b8d67380eb6")  # the tool span_begin merged with its tool event
    assert go.kind == SpanKind.TOOL and go.parent_span_id == generate.span_id
    assert go.tool_name == "web_browser_go" and go.tool_call_id == "call_35FTpd6shR9efioDgeEBZ33s"
    assert go.tool_arguments == '{"url":"https://www.aisi.gov.uk/"}'
    assert go.tool_result is not None and go.tool_result.startswith(
        '[132] link "We are now the AI Security Institute"'
    )
    assert go.start_ns == to_ns("2025-05-12T20:27:39.762878-04:00")
    assert go.end_ns == to_ns("2025-05-12T20:27:44.080452-04:00")
    llms = result.kind(SpanKind.LLM)
    assert len(llms) == 3 and all(s.parent_span_id == generate.span_id for s in llms)
    assert (llms[0].input_tokens, llms[0].output_tokens, llms[0].total_tokens) == (1124, 23, 1147)
    assert llms[0].model == "gpt-4o-mini-2024-07-18"
    assert tool_names(result.spans) == ["web_browser_go", "web_browser_click", "web_browser_click"]
    unfinished = result.span("570d3f8aab024376b8b98aa641dfba16")  # its tool event was trimmed away
    assert unfinished.kind == SpanKind.TOOL and unfinished.tool_result is None
    [info] = result.infos
    assert (
        info.outcome == Outcome.SUCCESS
        and info.labels is not None
        and info.labels["scores"] == {"includes": "C"}
    )


def test_inspect_eval_zip() -> None:
    result = read(sample("inspect_eval_log_zip"))
    assert result.rejects == []
    assert result.formats == {"inspect_ai": 40}
    assert len({s.trace_id for s in result.spans}) == 10
    assert Counter(s.kind for s in result.spans) == {SpanKind.AGENT: 10, SpanKind.CHAIN: 20, SpanKind.LLM: 10}
    assert result.infos == []  # every sample has empty scores
    first = [
        s for s in result.spans if s.source is not None and s.source.locator.startswith("samples/1_epoch_1")
    ]
    root = next(s for s in first if s.kind == SpanKind.AGENT)
    assert root.input is not None and root.input.startswith(
        "Is the following statement"
    )  # attachment resolved
    llm = next(s for s in first if s.kind == SpanKind.LLM)
    assert (llm.input_tokens, llm.output_tokens, llm.total_tokens) == (64, 2, 66)
    assert llm.output == "Yes" and llm.model == "gpt-4o-mini-2024-07-18"
    generate = next(s for s in first if s.name == "generate")
    assert llm.parent_span_id == generate.span_id and generate.parent_span_id == root.span_id


def test_inspect_same_sample_same_ids_in_json_and_eval(tmp_path: Path) -> None:
    source = sample("inspect_eval_log_zip")
    with zipfile.ZipFile(source) as archive:
        log = json.loads(archive.read("header.json"))
        log["samples"] = [json.loads(archive.read(n)) for n in archive.namelist() if n.startswith("samples/")]
    as_json = tmp_path / "log.json"
    as_json.write_text(json.dumps(log))
    assert sorted(read(as_json).ids()) == sorted(read(source).ids())


def test_inspect_messages_fixture() -> None:
    result = read(FIXTURES / "inspect_messages_log.json")
    assert result.rejects == [
        ("$.samples[2]", "sample is not an object with an id", "[sample lost in export]")
    ]
    assert len({s.trace_id for s in result.spans}) == 2 and len(result.spans) == 7
    bash, python = result.kind(SpanKind.TOOL)
    assert bash.tool_call_id == "toolu_01" and bash.tool_arguments == '{"cmd":"ls /data | wc -l"}'
    assert bash.tool_result == "3\n" and bash.status == Status.UNSET
    assert (
        python.status == Status.ERROR
        and python.status_message == "timeout: Command timed out before completing."
    )
    asking = result.span(bash.parent_span_id or "")
    assert asking.kind == SpanKind.LLM and asking.model == "claude-3-5-sonnet-20241022"
    outcomes = {i.labels["sample_id"]: i.outcome for i in result.infos if i.labels}
    assert outcomes == {"count-files": Outcome.FAILURE, "disk-usage": Outcome.UNKNOWN}  # "I" vs a 0.5 score


def test_inspect_broken_eval_zips(tmp_path: Path) -> None:
    garbage = tmp_path / "broken.eval"
    garbage.write_bytes(b"PK\x03\x04" + b"\x00garbage" * 20)
    result = read(garbage)
    assert result.spans == [] and len(result.rejects) == 1
    assert result.rejects[0][0] == "file" and "not a readable .eval zip" in result.rejects[0][1]

    buffer = io.BytesIO()
    good = {
        "id": 1,
        "epoch": 1,
        "input": "hi",
        "target": "",
        "messages": [{"role": "assistant", "content": "hello"}],
    }
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("header.json", json.dumps({"version": 2, "eval": {"run_id": "r1", "task": "t"}}))
        archive.writestr("samples/1_epoch_1.json", json.dumps(good))
        archive.writestr("samples/2_epoch_1.json", "{not json")
    partial = tmp_path / "partial.eval"
    partial.write_bytes(buffer.getvalue())
    result = read(partial)
    assert [r[0] for r in result.rejects] == ["samples/2_epoch_1.json"]
    assert [s.kind for s in result.spans] == [SpanKind.AGENT, SpanKind.LLM]


# -- SWE-agent ---------------------------------------------------------------------------------------


def test_swe_agent_function_calling_trajectory() -> None:
    result = read(sample("swe_agent_traj"))
    assert result.rejects == [
        ("$.trajectory[6]", "trajectory step is not an object", "[TRIMMED 5 more items]")
    ]
    assert len(result.spans) == 13  # root + 6 steps x (LLM + TOOL)
    [root] = [s for s in result.spans if s.kind == SpanKind.AGENT]
    assert root.name == "marshmallow-code__marshmallow-1867"
    assert root.output is not None and "diff --git a/src/marshmallow/fields.py" in root.output
    assert root.tool_definitions is not None
    definitions = {d["name"]: d for d in json.loads(root.tool_definitions)}
    assert definitions["goto"]["parameters"]["required"] == ["line_number"]
    assert "parameters" not in definitions["open"]  # its docs were cut before the arguments
    assert tool_names(result.spans) == ["create", "insert", "python", "ls", "find_file", "open"]
    tools = result.kind(SpanKind.TOOL)
    assert tools[0].tool_arguments == '{"filename":"reproduce.py"}'  # from history tool_calls
    assert tools[0].tool_call_id == "call_cyI71DYnRdoLHWwtZgIaW2wr"
    assert (
        tools[5].tool_arguments == '"src/marshmallow/fields.py" 1474'
    )  # no history left: rest of the command
    assert tools[2].tool_result == "344"
    assert tools[2].attributes is not None and tools[2].attributes[
        "swe_agent.execution_time_s"
    ] == pytest.approx(0.3304, abs=1e-4)
    for tool in tools:
        parent = result.span(tool.parent_span_id or "")
        assert (
            parent.kind == SpanKind.LLM
            and parent.model == "gpt-4o"
            and parent.sequence == (tool.sequence or 0) - 1
        )
    assert [s.sequence for s in result.spans if s is not root] == list(range(12))
    assert all(s.start_ns is None for s in result.spans)
    [info] = result.infos
    assert (
        info.outcome == Outcome.UNKNOWN
        and info.labels is not None
        and info.labels["exit_status"] == "submitted"
    )


def test_swe_agent_v0_fixture_and_bad_trajectory(tmp_path: Path) -> None:
    result = read(FIXTURES / "django__django-11099.traj")
    assert result.rejects == [("$.trajectory[3]", "trajectory step is not an object", "corrupted step")]
    assert len(result.spans) == 7
    [root] = [s for s in result.spans if s.kind == SpanKind.AGENT]
    assert root.name == "django__django-11099"  # from the file name: 0.x files carry no instance id
    assert (root.input_tokens, root.output_tokens, root.cost_usd) == (480000, 5200, 3.05)
    [edit] = [s for s in result.kind(SpanKind.TOOL) if s.tool_name == "edit"]
    assert edit.tool_arguments == "10:12\n    regex = r'\\A[\\w.@+-]+\\Z'\nend_of_edit"
    assert edit.tool_result is not None and edit.tool_result.startswith(
        "Your proposed edit has introduced new syntax"
    )
    assert edit.status == Status.UNSET
    assert result.infos[0].outcome == Outcome.FAILURE  # exit_cost

    bad = tmp_path / "bad.traj"
    bad.write_text(json.dumps({"trajectory": "oops", "info": {"exit_status": "submitted"}}, indent=1))
    result = read(bad)
    assert result.spans == [] and result.rejects == [("$", "trajectory is a str, not a list", "oops")]


# -- τ-bench -----------------------------------------------------------------------------------------


def test_tau_bench_sample() -> None:
    result = read(sample("tau_bench_results"))
    # two records of the trimmed copy end their transcripts with a "[TRIMMED n more items]" string
    assert [r[0] for r in result.rejects] == ["$[0].traj[16]", "$[2].traj[16]"]
    assert len(result.infos) == 3 and len(result.spans) == 47
    assert [i.outcome for i in result.infos] == [Outcome.FAILURE, Outcome.FAILURE, Outcome.SUCCESS]
    info = result.infos[0]
    assert info.labels is not None and (
        info.labels["task_id"],
        info.labels["trial"],
        info.labels["reward"],
    ) == (0, 0, 0.0)
    assert info.labels["gold_actions"][0]["name"] == "book_reservation"
    first = [s for s in result.spans if s.trace_id == info.trace_id]
    assert [s.sequence for s in first if s.kind != SpanKind.AGENT] == list(range(16))
    tools = [s for s in first if s.kind == SpanKind.TOOL]
    assert [t.tool_name for t in tools] == [
        "get_user_details",
        "search_direct_flight",
        "search_onestop_flight",
    ]
    assert tools[0].tool_arguments == '{"user_id":"mia_li_3668"}'
    assert tools[0].tool_result is not None and tools[0].tool_result.startswith(
        '{"name": {"first_name": "Mia"'
    )
    issuer = result.span(tools[0].parent_span_id or "")
    assert issuer.kind == SpanKind.LLM and issuer.attributes == {"tau.traj_index": 6}
    # the agent reused one tool_call_id for two different calls: each result goes to its own call
    assert tools[1].tool_call_id == tools[2].tool_call_id == "call_HGn16KZh9oNCruxsMJ4gYXan"
    assert tools[1].tool_result is not None and tools[1].tool_result.startswith('[{"flight_number": "HAT069"')
    assert tools[2].tool_result is not None and tools[2].tool_result.startswith(
        '[[{"flight_number": "HAT057"'
    )
    users = [s for s in first if s.name == "user"]
    assert (
        len(users) == 5
        and users[0].input == "Hi! I'm looking to book a flight from New York to Seattle on May 20th."
    )


def test_tau_bench_mixed_fixture() -> None:
    result = read(FIXTURES / "tau_bench_mixed.json")
    assert result.rejects == [
        ("$[1]", "traj is a str, not a list of messages", "[{'role': 'user', 'content': 'hi'}]")
    ]
    assert len(result.infos) == 2 and len(result.spans) == 16
    trace_id = result.infos[0].trace_id
    spans = sorted(
        (s for s in result.spans if s.trace_id == trace_id and s.sequence is not None),
        key=lambda s: s.sequence or 0,
    )
    assert [s.name for s in spans] == [
        "system",
        "user",
        "assistant",
        "get_user_details",  # answered first, so it comes first
        "get_reservation_details",
        "assistant",
        "cancel_reservation",
        "assistant",
        "think",
        "assistant",
        "user",
    ]
    parallel = [s for s in spans if s.name in ("get_user_details", "get_reservation_details")]
    assert {s.parent_span_id for s in parallel} == {spans[2].span_id}
    cancel = spans[6]
    assert cancel.tool_call_id == "call_1" and cancel.parent_span_id == spans[5].span_id
    assert cancel.tool_arguments == '{"reservation_id":"ABC123","reason":"change of plan"}'
    assert cancel.tool_result == "Error: basic economy reservations cannot be cancelled without insurance"
    assert cancel.status == Status.UNSET  # failures in result text are for detectors, not the reader
    think = spans[8]
    assert think.tool_call_id == "call_3" and think.tool_result == ""  # result without id: matched by order
    assert [i.outcome for i in result.infos] == [Outcome.FAILURE, Outcome.SUCCESS]


def test_tau_bench_airline_dataset() -> None:
    result = read(dataset("tau-bench-airline/gpt-4o-airline.json"))
    assert result.rejects == []
    assert len(result.infos) == 200 and len({s.trace_id for s in result.spans}) == 200
    assert Counter(i.outcome for i in result.infos) == {Outcome.FAILURE: 116, Outcome.SUCCESS: 84}
    assert Counter(s.kind for s in result.spans) == {
        SpanKind.LLM: 2454,
        SpanKind.OTHER: 1690,
        SpanKind.TOOL: 1164,
        SpanKind.AGENT: 200,
    }
    tools = result.kind(SpanKind.TOOL)
    assert all(t.tool_result is not None and t.tool_arguments is not None for t in tools)
    assert len({(s.trace_id, s.span_id) for s in result.spans}) == len(result.spans)
    task0 = {i.trace_id for i in result.infos if i.labels and i.labels["task_id"] == 0}
    assert len(task0) == 4  # four trials of the same task are four traces


def test_agentrx_tau_retail_dataset() -> None:
    result = read(dataset("agentrx-tau-retail/tau_dataset_full.json"))
    assert result.rejects == []
    assert len(result.infos) == 100
    assert Counter(i.outcome for i in result.infos) == {Outcome.SUCCESS: 73, Outcome.FAILURE: 27}
    [info] = [i for i in result.infos if i.labels and i.labels["task_id"] == 2]
    # ground truth: run 2, step 7 is the assistant's miscount of T-shirt options (traj[6])
    [step] = [
        s
        for s in result.spans
        if s.trace_id == info.trace_id and s.attributes and s.attributes.get("tau.message_index") == 7
    ]
    assert (
        step.kind == SpanKind.LLM and step.attributes is not None and step.attributes["tau.traj_index"] == 6
    )
    assert step.output is not None and "11 available T-shirt options" in step.output


# -- cross-format ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        FIXTURES / "tau_bench_mixed.json",
        FIXTURES / "django__django-11099.traj",
        FIXTURES / "inspect_messages_log.json",
        FIXTURES / "langsmith_runs.jsonl",
        FIXTURES / "openai_agents_spans.jsonl",
        FIXTURES / "langfuse_observations_page.json",
    ],
    ids=lambda p: p.name,
)
def test_ids_are_deterministic(path: Path) -> None:
    first, second = read(path), read(path)
    assert first.ids() == second.ids() and first.ids()
    assert [i.trace_id for i in first.infos] == [i.trace_id for i in second.infos]
    assert all(s.source is not None and s.source.format == next(iter(first.formats)) for s in first.spans)


def test_synthetic_ids_are_deterministic_on_samples() -> None:
    for path in (sample("inspect_eval_log_zip"), sample("swe_agent_traj"), sample("tau_bench_results")):
        assert read(path).ids() == read(path).ids()


def test_every_span_has_one_root_per_trace() -> None:
    paths = [p for p in FIXTURES.iterdir() if p.is_file()]
    if FORMATS.is_dir():
        paths += [
            p
            for p in FORMATS.iterdir()
            if p.name.startswith(("langfuse", "inspect", "swe_agent", "tau_bench"))
        ]
    for path in paths:
        result = read(path)
        for trace_id in {s.trace_id for s in result.spans}:
            roots = result.roots(trace_id)
            assert len(roots) == 1, (path.name, trace_id, [r.name for r in roots])
            assert roots[0].kind in (SpanKind.AGENT, SpanKind.CHAIN), (path.name, roots[0].kind)
