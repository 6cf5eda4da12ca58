"""Tests for the synthetic trace generator (tracemine.synth)."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from tracemine.synth import DEFAULT_RATES, KINDS, MODES, SynthConfig, SynthResult, generate
from tracemine.synth.mutate import SCHEMA_BREAKERS

HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")
NS = 1_000_000_000


@dataclass
class LSpan:
    """A span decoded from either output format into one logical shape."""

    trace_id: str
    span_id: str
    parent: str
    name: str
    kind: str
    start: int
    end: int
    status: int
    message: str
    service: str
    tool: str | None = None
    args: str | None = None
    result: str | None = None
    model: str | None = None
    in_tok: int | None = None
    out_tok: int | None = None
    cost: float | None = None
    messages: str | None = None
    agent: str | None = None
    user_text: str | None = None
    output_text: str | None = None
    tools: dict[str, Any] | None = None
    http_status: int | None = None
    events: list[tuple[int, str, str]] = field(default_factory=list)


def _ov(v: dict[str, Any]) -> Any:
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:
        return int(v["intValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])
    return v.get("boolValue")


def _text_of(messages: str | None) -> str | None:
    if messages is None:
        return None
    return orjson.loads(messages)[0]["parts"][0]["content"]


def load_otlp(paths: list[Path]) -> list[LSpan]:
    out = []
    for path in paths:
        for line in path.read_bytes().splitlines():
            doc = orjson.loads(line)
            for rs in doc["resourceSpans"]:
                service = {a["key"]: _ov(a["value"]) for a in rs["resource"]["attributes"]}["service.name"]
                for ss in rs["scopeSpans"]:
                    for sp in ss["spans"]:
                        a = {x["key"]: _ov(x["value"]) for x in sp["attributes"]}
                        kind = {"invoke_agent": "agent", "chat": "llm", "execute_tool": "tool"}.get(
                            a.get("gen_ai.operation.name"), "http")
                        defs = a.get("gen_ai.tool.definitions")
                        out.append(LSpan(
                            trace_id=sp["traceId"], span_id=sp["spanId"], parent=sp.get("parentSpanId", ""),
                            name=sp["name"], kind=kind, start=int(sp["startTimeUnixNano"]),
                            end=int(sp["endTimeUnixNano"]), status=sp["status"]["code"],
                            message=sp["status"].get("message", ""), service=service,
                            tool=a.get("gen_ai.tool.name"), args=a.get("gen_ai.tool.call.arguments"),
                            result=a.get("gen_ai.tool.call.result"), model=a.get("gen_ai.response.model"),
                            in_tok=a.get("gen_ai.usage.input_tokens"), out_tok=a.get("gen_ai.usage.output_tokens"),
                            cost=a.get("gen_ai.usage.cost"),
                            messages=a.get("gen_ai.output.messages") if kind == "llm" else None,
                            agent=a.get("gen_ai.agent.name"),
                            user_text=_text_of(a.get("gen_ai.input.messages")),
                            output_text=_text_of(a.get("gen_ai.output.messages")) if kind == "agent" else None,
                            tools={d["name"]: d["parameters"] for d in orjson.loads(defs)} if defs else None,
                            http_status=a.get("http.response.status_code"),
                            events=[(int(e["timeUnixNano"]), *(_ov(x["value"]) for x in e["attributes"]))
                                    for e in sp.get("events", [])],
                        ))
    return out


def _iso_ns(text: str) -> int:
    head, frac = text.rstrip("Z").split(".")
    when = dt.datetime.fromisoformat(head).replace(tzinfo=dt.UTC)
    return int(when.timestamp()) * NS + int(frac.ljust(9, "0"))


def load_jsonl(paths: list[Path]) -> list[LSpan]:
    status = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}
    out = []
    for path in paths:
        for line in path.read_bytes().splitlines():
            r = orjson.loads(line)
            a = r["attributes"]
            kind = {"AGENT": "agent", "LLM": "llm", "TOOL": "tool"}.get(a.get("openinference.span.kind"), "http")
            tools = None
            if kind == "agent":
                tools = {}
                for key, value in a.items():
                    if key.startswith("llm.tools."):
                        fn = orjson.loads(value)["function"]
                        tools[fn["name"]] = fn["parameters"]
            out.append(LSpan(
                trace_id=r["trace_id"], span_id=r["span_id"], parent=r["parent_span_id"], name=r["name"], kind=kind,
                start=_iso_ns(r["start_time"]), end=_iso_ns(r["end_time"]), status=status[r["status"]["code"]],
                message=r["status"]["message"], service=r["resource"]["attributes"]["service.name"],
                tool=a.get("tool.name"), args=a.get("input.value") if kind == "tool" else None,
                result=a.get("output.value") if kind == "tool" else None,
                model=a.get("llm.model_name") if kind == "llm" else None,
                in_tok=a.get("llm.token_count.prompt"), out_tok=a.get("llm.token_count.completion"),
                cost=a.get("llm.cost.total"), messages=a.get("output.value") if kind == "llm" else None,
                agent=a.get("agent.name"), user_text=a.get("input.value") if kind == "agent" else None,
                output_text=a.get("output.value") if kind == "agent" else None, tools=tools,
                http_status=a.get("http.response.status_code"),
                events=[(_iso_ns(e["timestamp"]), e["attributes"]["exception.type"], e["attributes"]["exception.message"])
                        for e in r["events"]],
            ))
    return out


@dataclass
class Run:
    result: SynthResult
    spans: list[LSpan]
    labels: list[dict[str, Any]]

    @property
    def by_id(self) -> dict[str, LSpan]:
        return {s.span_id: s for s in self.spans}

    def traces(self) -> dict[str, list[LSpan]]:
        out: dict[str, list[LSpan]] = defaultdict(list)
        for s in self.spans:
            out[s.trace_id].append(s)
        return out


def _run(out: Path, progress: Any = None, **kw: Any) -> Run:
    result = generate(SynthConfig(**kw), out, progress)
    load = load_otlp if kw.get("fmt", "otlp") == "otlp" else load_jsonl
    labels = [orjson.loads(x) for x in result.labels_file.read_bytes().splitlines()]
    return Run(result, load(list(result.files)), labels)


@pytest.fixture(scope="module")
def otlp(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _run(tmp_path_factory.mktemp("otlp"), traces=500, seed=11, fmt="otlp")


@pytest.fixture(scope="module")
def flat(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _run(tmp_path_factory.mktemp("flat"), traces=500, seed=11, fmt="jsonl")


@pytest.fixture(scope="module")
def arg_heavy(tmp_path_factory: pytest.TempPathFactory) -> Run:
    rates = {**dict.fromkeys(KINDS, 0.0), "argument_error": 0.45, "recovered_error": 0.25, "duplicate_call": 0.2}
    return _run(tmp_path_factory.mktemp("args"), traces=400, seed=5, rates=rates)


def _files(result: SynthResult) -> list[bytes]:
    return [p.read_bytes() for p in result.files] + [result.labels_file.read_bytes()]


# --- determinism, counts, ids ----------------------------------------------------------------------


def test_same_seed_gives_byte_identical_output(tmp_path: Path) -> None:
    a = generate(SynthConfig(traces=150, seed=3), tmp_path / "a")
    b = generate(SynthConfig(traces=150, seed=3), tmp_path / "b")
    c = generate(SynthConfig(traces=150, seed=4), tmp_path / "c")
    assert _files(a) == _files(b)
    assert _files(a) != _files(c)
    assert a.labels == b.labels


def test_counts_match_files(otlp: Run) -> None:
    traces = otlp.traces()
    assert otlp.result.traces == len(traces) == 500
    assert otlp.result.spans == len(otlp.spans)
    assert len(otlp.by_id) == len(otlp.spans), "span ids are unique"
    assert [p.name for p in otlp.result.files] == ["traces.jsonl"]
    assert sum(otlp.result.label_counts.values()) == len(otlp.labels)
    counted = Counter((lab["kind"], lab["mode"]) for lab in otlp.labels)
    assert counted == Counter({(k, m): n for k, modes in otlp.result.labels.items() for m, n in modes.items()})
    sizes = [len(v) for v in traces.values()]
    assert statistics.median(sizes) >= 6
    assert sum(4 <= n <= 40 for n in sizes) / len(sizes) > 0.9
    for spans in traces.values():
        roots = [s for s in spans if not s.parent]
        assert len(roots) == 1 and roots[0].kind == "agent" and roots[0].tools
        assert any(s.kind == "tool" for s in spans)


def test_ids_are_lowercase_hex(otlp: Run) -> None:
    for s in otlp.spans:
        assert HEX32.match(s.trace_id)
        assert HEX16.match(s.span_id)
        assert s.parent == "" or HEX16.match(s.parent)


def test_zero_traces(tmp_path: Path) -> None:
    r = generate(SynthConfig(traces=0, seed=1), tmp_path)
    assert r.traces == r.spans == 0
    assert (tmp_path / "traces.jsonl").read_bytes() == b""
    assert (tmp_path / "labels.jsonl").read_bytes() == b""


def test_part_files_roll_over_and_stale_parts_are_removed(tmp_path: Path) -> None:
    r = generate(SynthConfig(traces=200, seed=2, max_spans_per_file=400), tmp_path)
    names = [p.name for p in r.files]
    assert len(names) >= 4 and names[0] == "traces-00000.jsonl"
    assert not (tmp_path / "traces.jsonl").exists()
    spans = load_otlp(list(r.files))
    assert len(spans) == r.spans
    for p in r.files:
        in_part = load_otlp([p])
        assert 0 < len(in_part) <= 400
        ids = {s.trace_id for s in in_part}
        assert all(s.trace_id in ids for s in in_part)
    per_part = [{s.trace_id for s in load_otlp([p])} for p in r.files]
    assert sum(map(len, per_part)) == len(set().union(*per_part)) == 200, "a trace is never split across parts"
    r2 = generate(SynthConfig(traces=20, seed=2), tmp_path)
    assert sorted(p.name for p in tmp_path.glob("traces*.jsonl")) == ["traces.jsonl"] == [p.name for p in r2.files]


# --- labels --------------------------------------------------------------------------------------


def test_labels_reference_existing_spans(otlp: Run) -> None:
    by_id = otlp.by_id
    roots = {s.trace_id: s for s in otlp.spans if not s.parent}
    for lab in otlp.labels:
        assert set(lab) == {"trace_id", "kind", "mode", "span_ids", "tool", "agent", "detail"}
        assert lab["kind"] in KINDS
        assert lab["mode"] in {m.name for m in MODES[lab["kind"]]}
        assert lab["span_ids"] and lab["detail"]
        assert lab["agent"] == roots[lab["trace_id"]].agent
        for sid in lab["span_ids"]:
            assert sid in by_id, f"{lab} cites a span that is not in the file"
            assert by_id[sid].trace_id == lab["trace_id"]
        if lab["tool"] is not None:
            assert lab["tool"] in {by_id[sid].tool for sid in lab["span_ids"]}


def test_every_kind_appears_with_several_modes_at_default_rates(otlp: Run) -> None:
    modes: dict[str, set[str]] = defaultdict(set)
    traces_with: dict[str, set[str]] = defaultdict(set)
    for lab in otlp.labels:
        modes[lab["kind"]].add(lab["mode"])
        traces_with[lab["kind"]].add(lab["trace_id"])
    assert set(modes) == set(KINDS)
    for kind in KINDS:
        assert len(modes[kind]) >= min(3, len(MODES[kind])), (kind, modes[kind])
        frac = len(traces_with[kind]) / 500
        assert DEFAULT_RATES[kind] / 2.5 <= frac <= DEFAULT_RATES[kind] * 2.5, (kind, frac)
    per_trace = Counter(lab["trace_id"] for lab in otlp.labels)
    assert max(per_trace.values()) <= 2
    assert 0 < sum(n == 2 for n in per_trace.values()) < 0.2 * len(per_trace)
    assert 0.6 < 1 - len(per_trace) / 500 < 0.8, "most traces carry no label"


def test_all_modes_reachable(tmp_path: Path) -> None:
    """Every registered mode is produced by some agent (several runs with one kind at a high rate)."""
    for kind in KINDS:
        r = generate(SynthConfig(traces=250, seed=9, rates={k: (0.9 if k == kind else 0.0) for k in KINDS}), tmp_path / kind)
        assert set(r.labels) == {kind}
        assert set(r.labels[kind]) == {m.name for m in MODES[kind]}, kind
        agents = {orjson.loads(x)["agent"] for x in r.labels_file.read_bytes().splitlines()}
        assert len(agents) >= 4, "modes are spread over agents"


def test_rate_zero_gives_no_labels_of_that_kind(tmp_path: Path) -> None:
    r = generate(SynthConfig(traces=300, seed=8, rates={"loop": 0.0, "outlier": 0.0, "silent_failure": 0.3}), tmp_path)
    assert "loop" not in r.labels and "outlier" not in r.labels
    assert 60 <= r.label_counts["silent_failure"] <= 130
    none = generate(SynthConfig(traces=100, seed=8, rates=dict.fromkeys(KINDS, 0.0)), tmp_path / "none")
    assert none.labels == {} and none.labels_file.read_bytes() == b""


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="unknown label kind"):
        SynthConfig(rates={"loops": 0.1})
    with pytest.raises(ValueError, match="within"):
        SynthConfig(rates={"loop": -0.1})
    with pytest.raises(ValueError, match="sum"):
        SynthConfig(rates=dict.fromkeys(KINDS, 0.2))
    with pytest.raises(ValueError, match="fmt"):
        SynthConfig(fmt="csv")
    with pytest.raises(ValueError, match="days"):
        SynthConfig(days=0)
    with pytest.raises(ValueError, match="traces"):
        SynthConfig(traces=-1)
    with pytest.raises(ValueError, match="agent"):
        SynthConfig(agents=("nope",))
    assert SynthConfig(rates={"loop": 0.2}).rates == {**DEFAULT_RATES, "loop": 0.2}


def test_agent_subset_and_progress(tmp_path: Path) -> None:
    seen: list[int] = []
    run = _run(tmp_path, traces=1200, seed=1, agents=("support-agent",), progress=seen.append)
    assert {s.service for s in run.spans} == {"support-agent"}
    assert seen == [1000, 1200]


# --- formats -------------------------------------------------------------------------------------


def test_both_formats_encode_the_same_logical_traces(otlp: Run, flat: Run) -> None:
    assert otlp.labels == flat.labels
    assert otlp.result.spans == flat.result.spans
    a, b = otlp.by_id, flat.by_id
    assert a.keys() == b.keys()
    for sid, x in a.items():
        y = b[sid]
        if x.kind == "agent":  # the agent span names the requested model, not the versioned response model
            x.model = y.model = None
        assert x == y, sid


def test_each_line_is_json(otlp: Run, flat: Run) -> None:
    for run in (otlp, flat):
        for path in run.result.files:
            for line in path.read_bytes().splitlines():
                assert isinstance(orjson.loads(line), dict)
    first = orjson.loads(otlp.result.files[0].read_bytes().splitlines()[0])
    span = first["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert span["kind"] in (1, 3) and span["startTimeUnixNano"].isdigit()


# --- content: schemas, timing, spread -----------------------------------------------------------


def _tool_schemas(run: Run) -> dict[str, dict[str, Any]]:
    return {s.trace_id: s.tools for s in run.spans if s.kind == "agent"}  # type: ignore[misc]


_VALIDATORS: dict[bytes, jsonschema.Draft202012Validator] = {}


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    key = orjson.dumps(schema)
    v = _VALIDATORS.get(key)
    if v is None:
        jsonschema.Draft202012Validator.check_schema(schema)
        v = _VALIDATORS[key] = jsonschema.Draft202012Validator(schema)
    return v


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def test_clean_arguments_validate_and_injected_violations_do_not(arg_heavy: Run, otlp: Run) -> None:
    for run in (arg_heavy, otlp):
        schemas = _tool_schemas(run)
        by_id = run.by_id
        excused: set[str] = set()
        for lab in run.labels:
            if lab["kind"] == "argument_error":
                excused.add(lab["span_ids"][0])
            if lab["mode"] == "write_reformatted":  # enum case may differ in the second call
                first, second = (orjson.loads(by_id[s].args) for s in lab["span_ids"])  # type: ignore[arg-type]
                if first != second:
                    excused.add(lab["span_ids"][1])
        checked = 0
        for s in run.spans:
            if s.kind == "tool" and s.span_id not in excused:
                validator = _validator(schemas[s.trace_id][s.tool])  # type: ignore[index]
                errors = list(validator.iter_errors(orjson.loads(s.args)))  # type: ignore[arg-type]
                assert not errors, (s, errors[0].message)
                checked += 1
        assert checked > 1000
    seen = Counter()
    for lab in arg_heavy.labels:
        if lab["kind"] != "argument_error":
            continue
        s = arg_heavy.by_id[lab["span_ids"][0]]
        tools = _tool_schemas(arg_heavy)[s.trace_id]
        if lab["mode"] in SCHEMA_BREAKERS:
            errors = list(_validator(tools[s.tool]).iter_errors(orjson.loads(s.args)))  # type: ignore[arg-type, index]
            assert errors, lab
            seen[lab["mode"]] += 1
        elif lab["mode"] == "unknown_tool":
            assert s.tool not in tools
            seen[lab["mode"]] += 1
    assert set(seen) == {*SCHEMA_BREAKERS, "unknown_tool"}


def test_children_lie_within_parents_and_steps_are_sequential(otlp: Run) -> None:
    by_id = otlp.by_id
    for s in otlp.spans:
        assert s.start < s.end or (s.kind == "http" and s.start <= s.end)
        if s.parent:
            p = by_id[s.parent]
            assert p.start <= s.start and s.end <= p.end, (s, p)
        for t, _, _ in s.events:
            assert s.start <= t <= s.end
    for spans in otlp.traces().values():
        steps = sorted((s for s in spans if s.kind in ("llm", "tool")), key=lambda s: s.start)
        for prev, cur in itertools.pairwise(steps):
            assert prev.end <= cur.start


def test_durations_and_tokens_are_plausible(otlp: Run) -> None:
    labelled = {sid for lab in otlp.labels for sid in lab["span_ids"]}
    tools = [s for s in otlp.spans if s.kind == "tool" and s.span_id not in labelled]
    llms = [s for s in otlp.spans if s.kind == "llm" and s.span_id not in labelled]
    assert all(20e6 <= s.end - s.start <= 2e9 for s in tools)
    assert all(0.3e9 <= s.end - s.start <= 6e9 for s in llms)
    assert all(s.in_tok and s.out_tok and s.cost and s.cost > 0 for s in llms)
    assert len({s.model for s in llms}) >= 5
    assert len({s.service for s in otlp.spans}) == 5
    # outliers really are outliers
    durations: dict[str, list[int]] = defaultdict(list)
    for s in tools:
        durations[s.tool].append(s.end - s.start)  # type: ignore[index]
    for lab in otlp.labels:
        if lab["mode"] == "tool_latency":
            s = otlp.by_id[lab["span_ids"][0]]
            assert s.end - s.start > 10 * statistics.median(durations[s.tool])  # type: ignore[index]
        if lab["mode"] == "output_tokens":
            s = otlp.by_id[lab["span_ids"][0]]
            assert s.out_tok > 5 * statistics.median(x.out_tok for x in llms)  # type: ignore[operator, type-var]


def test_days_spread_is_honoured(tmp_path: Path) -> None:
    end = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    run = _run(tmp_path, traces=600, seed=4, days=3, end_time="2026-05-01T00:00:00Z", fmt="jsonl")
    end_ns = int(end.timestamp()) * NS
    start_ns = end_ns - 3 * 86400 * NS
    assert all(start_ns <= s.start and s.end <= end_ns for s in run.spans)
    roots = [s.start for s in run.spans if not s.parent]
    per_day = Counter((t - start_ns) // (86400 * NS) for t in roots)
    assert sorted(per_day) == [0, 1, 2]
    assert all(170 <= n <= 230 for n in per_day.values()), per_day
    assert min(roots) - start_ns < 3600 * NS and end_ns - max(roots) < 3600 * NS


# --- failure semantics ------------------------------------------------------------------------------


def test_injected_failures_show_their_mechanism(otlp: Run, arg_heavy: Run) -> None:
    for run in (otlp, arg_heavy):
        by_id = run.by_id
        traces = run.traces()
        for lab in run.labels:
            spans = [by_id[s] for s in lab["span_ids"]]
            kind, mode = lab["kind"], lab["mode"]
            if kind == "loop" and mode != "llm_repeat":
                tool_spans = [s for s in spans if s.kind == "tool"]
                assert len(tool_spans) >= 3
                if mode in ("same_call_repeat", "poll_no_progress"):
                    assert len({(s.tool, s.args, s.result) for s in tool_spans}) == 1
                if mode == "near_same_repeat":
                    assert len({s.args for s in tool_spans}) == len(tool_spans)
                    assert len({s.result for s in tool_spans}) == 1
            elif mode == "llm_repeat":
                assert len(spans) >= 3 and len({s.messages for s in spans}) == 1
            elif kind == "duplicate_call":
                a, b = spans
                assert a.tool == b.tool and a.start < b.start
                assert _normalise(orjson.loads(a.args)) == _normalise(orjson.loads(b.args))  # type: ignore[arg-type]
                assert a.status != 2 and b.status != 2
            elif mode == "swallowed_child_error":
                tool, child = spans
                assert tool.status != 2 and child.parent == tool.span_id and child.status == 2 and child.http_status >= 500
            elif kind == "silent_failure":
                assert all(s.status != 2 for s in spans)
                if mode in ("max_turns_exit", "timeout_exit"):
                    assert spans[0].kind == "agent" and spans[0].output_text and spans[1].kind == "tool"
            elif kind == "unrecovered_error":
                failing = spans[0]
                assert failing.status == 2 and failing.events and failing.message
                later = [s for s in traces[lab["trace_id"]] if s.kind == "tool" and s.start > failing.start]
                assert not later, "the agent does not retry or carry on with other tools"
                if mode == "agent_crash":
                    assert spans[1].kind == "agent" and spans[1].status == 2
            elif kind == "recovered_error":
                bad, good = spans
                assert bad.status == 2 and good.status != 2 and bad.tool == good.tool and bad.end <= good.start


def test_clean_traces_contain_hard_negatives(otlp: Run) -> None:
    labelled = {lab["trace_id"] for lab in otlp.labels}
    repeated_tool_different_args = polls_changing = empty_results = long_traces = 0
    for tid, spans in otlp.traces().items():
        if tid in labelled:
            continue
        calls: dict[str, list[LSpan]] = defaultdict(list)
        for s in spans:
            if s.kind == "tool":
                calls[s.tool].append(s)  # type: ignore[index]
                if s.result in ('{"orders":[],"page":1,"has_more":false}', '{"matches":[],"total":0}', '{"tickets":[]}',
                                '{"articles":[],"total":0}', '{"results":[],"page":1}', '{"papers":[]}'):
                    empty_results += 1
        for same in calls.values():
            if len({s.args for s in same}) > 1:
                repeated_tool_different_args += 1
            if len(same) >= 3 and len({s.args for s in same}) == 1 and len({s.result for s in same}) == len(same):
                polls_changing += 1
            assert len({(s.args, s.result) for s in same}) == len(same), "no exact repeats in clean traces"
        long_traces += len(spans) >= 20
        assert all(s.status != 2 for s in spans)
    assert repeated_tool_different_args > 50
    assert polls_changing > 20
    assert empty_results > 10
    assert long_traces > 10
