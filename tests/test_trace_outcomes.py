"""Trace outcomes from whatever the source records: LangSmith feedback_stats and output scores, OpenAI
Agents SDK trace metadata, OTLP and flat root-span attributes — each through a real file ingested by
``tracemine ingest`` and read back from the ``traces`` table. A reader's outcome (τ-bench reward) is never
replaced, values that state no verdict stay unknown, and an error root is a failure only when
``ingest.outcome_from_root_error`` is on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from tracemine.cli import main
from tracemine.ingest.outcome import derive, key_tier, verdict
from tracemine.model import Outcome


def _ingest(src: Path, db: Path, config: Path | None = None) -> dict[str, tuple[str, dict[str, Any] | None]]:
    args = (["--config", str(config)] if config else []) + ["ingest", str(src), "--db", str(db), "-q"]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("SELECT trace_id, outcome, labels FROM traces").fetchall()
        spans = con.execute("SELECT count(*) FROM spans").fetchone()[0]
    finally:
        con.close()
    assert spans > 0
    assert len({r[0] for r in rows}) == len(rows), "one trace record per trace"
    return {r[0]: (r[1], json.loads(r[2]) if r[2] else None) for r in rows}


def _outcome(outcomes: dict[str, tuple[str, Any]], trace_id: str) -> str:
    return outcomes[trace_id][0] if trace_id in outcomes else "unknown"


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


# -- LangSmith ----------------------------------------------------------------------------------------

def _uuid(n: int) -> str:
    return f"1f1e8a2c-0000-4000-8000-{n:012d}"


def _hex(n: int) -> str:
    return _uuid(n).replace("-", "")


def _langsmith_trace(n: int, **root: Any) -> list[dict[str, Any]]:
    root_id, child_id = _uuid(n * 10), _uuid(n * 10 + 1)
    return [
        {"id": root_id, "trace_id": root_id, "name": "AgentExecutor", "run_type": "chain", "status": "success",
         "start_time": "2024-06-01T12:00:00.000000", "end_time": "2024-06-01T12:00:03.000000",
         "dotted_order": f"20240601T120000000000Z{root_id}", "inputs": {"input": "hi"}, **root},
        {"id": child_id, "trace_id": root_id, "parent_run_id": root_id, "name": "ChatOpenAI", "run_type": "llm",
         "status": "success", "start_time": "2024-06-01T12:00:01.000000", "end_time": "2024-06-01T12:00:02.000000",
         "dotted_order": f"20240601T120000000000Z{root_id}.20240601T120001000000Z{child_id}",
         "inputs": {"messages": []}, "outputs": {"generations": []},
         # a child's feedback is not the trace's outcome
         "feedback_stats": {"task_success": {"n": 1, "avg": 1.0}}},
    ]


def test_langsmith_feedback_stats_and_scores(tmp_path: Path) -> None:
    runs = (
        _langsmith_trace(1, feedback_stats={"task_success": {"n": 1, "avg": 0.0, "stdev": 0.0, "errors": 0,
                                                             "values": {}}})
        + _langsmith_trace(2, feedback_stats={"correctness": {"n": 3, "avg": 0.67, "values": {"correct": 2}}})
        + _langsmith_trace(3, outputs={"output": "done", "score": 0.9})
        + _langsmith_trace(4, extra={"metadata": {"eval_score": 0.2, "thread_id": "t-1"}})
        + _langsmith_trace(5, feedback_stats={"note": {"n": 2, "avg": None, "comments": ["meh"]}})
        + _langsmith_trace(6)
    )
    _write_jsonl(tmp_path / "in" / "runs.jsonl", runs)
    # the read-API shape: {"runs": [...]} with a feedback_stats JSON string
    payload = {"runs": _langsmith_trace(7, feedback_stats=json.dumps({"user_score": {"n": 1, "avg": 1}}))}
    (tmp_path / "in" / "webhook.json").write_text(json.dumps(payload))
    outcomes = _ingest(tmp_path / "in", tmp_path / "a.duckdb")
    assert _outcome(outcomes, _hex(10)) == "failure"
    assert outcomes[_hex(10)][1]["outcome_from"] == "langsmith.feedback_stats.task_success.avg"
    assert outcomes[_hex(10)][1]["outcome_attributes"]["langsmith.feedback_stats.task_success.avg"] == 0.0
    assert _outcome(outcomes, _hex(20)) == "success"
    assert _outcome(outcomes, _hex(30)) == "success"
    assert outcomes[_hex(30)][1]["outcome_attributes"] == {"langsmith.outputs.score": 0.9}
    assert _outcome(outcomes, _hex(40)) == "failure"
    assert _outcome(outcomes, _hex(50)) == "unknown"
    assert _hex(60) not in outcomes
    assert _outcome(outcomes, _hex(70)) == "success"


# -- OpenAI Agents SDK --------------------------------------------------------------------------------

def _agents_trace(n: int, metadata: dict[str, Any]) -> list[dict[str, Any]]:
    trace_id = f"trace_{n:032x}"
    return [
        {"object": "trace", "id": trace_id, "workflow_name": "Support", "group_id": "g", "metadata": metadata},
        {"object": "trace.span", "id": f"span_{n:024x}", "trace_id": trace_id, "parent_id": None,
         "started_at": "2025-03-11T17:29:01.000000+00:00", "ended_at": "2025-03-11T17:29:02.000000+00:00",
         "span_data": {"type": "agent", "name": "Triage", "tools": ["lookup"]}, "error": None},
    ]


def test_openai_agents_trace_metadata(tmp_path: Path) -> None:
    records = (
        _agents_trace(1, {"eval_score": "0.8", "user": "u1"})  # metadata values are strings in the SDK
        + _agents_trace(2, {"user_rating": "thumbs_down"})
        + _agents_trace(3, {"eval_score": "n/a"})
        + _agents_trace(4, {"passed": "true", "eval_result": "fail"})  # the eval key wins over the flag
        + _agents_trace(5, {"user": "u5"})
    )
    _write_jsonl(tmp_path / "in" / "agents.jsonl", records)
    outcomes = _ingest(tmp_path / "in", tmp_path / "a.duckdb")
    assert _outcome(outcomes, f"trace_{1:032x}") == "success"
    assert outcomes[f"trace_{1:032x}"][1] == {"outcome_from": "metadata.eval_score",
                                        "outcome_attributes": {"metadata.eval_score": "0.8"}}
    assert _outcome(outcomes, f"trace_{2:032x}") == "failure"
    assert _outcome(outcomes, f"trace_{3:032x}") == "unknown"
    assert outcomes[f"trace_{3:032x}"][1]["outcome_attributes"] == {"metadata.eval_score": "n/a"}
    assert _outcome(outcomes, f"trace_{4:032x}") == "failure"
    assert f"trace_{5:032x}" not in outcomes


# -- OTLP/JSON ----------------------------------------------------------------------------------------

def _value(v: Any) -> dict[str, Any]:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    return {"stringValue": v}


def _otlp_trace(n: int, attrs: dict[str, Any], status: int = 1) -> list[dict[str, Any]]:
    trace_id, root_id, child_id = f"{n:032x}", f"{n:016x}", f"{n + 1000:016x}"
    start = 1_717_243_200_000_000_000 + n * 10_000_000_000
    return [
        {"traceId": trace_id, "spanId": root_id, "parentSpanId": "", "name": "agent run", "kind": 1,
         "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 3_000_000_000),
         "attributes": [{"key": k, "value": _value(v)} for k, v in attrs.items()], "status": {"code": status}},
        {"traceId": trace_id, "spanId": child_id, "parentSpanId": root_id, "name": "chat gpt-4o", "kind": 3,
         "startTimeUnixNano": str(start + 1), "endTimeUnixNano": str(start + 2),
         # attributes of a non-root span never give the trace's outcome
         "attributes": [{"key": "eval.score", "value": {"doubleValue": 1.0}}], "status": {"code": 1}},
    ]


def _otlp_file(path: Path, traces: list[list[dict[str, Any]]]) -> None:
    spans = [s for t in traces for s in t]
    doc = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "a"}}]},
                              "scopeSpans": [{"scope": {"name": "s"}, "spans": spans}]}]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc) + "\n")


OTLP_TRACES = {
    1: ({"eval.score": 0.3}, 1, "failure"),
    2: ({"feedback.rating": 1}, 1, "success"),
    3: ({"feedback.rating": -1}, 1, "failure"),
    4: ({"eval.score": 0.5}, 1, "success"),  # the threshold is a success
    5: ({"eval.passed": True, "feedback.rating": -1}, 1, "unknown"),  # explicit verdicts disagree
    6: ({"eval.score": 0.9, "task.success": False}, 1, "success"),  # the eval key beats the flag
    7: ({"eval.score": 7}, 1, "unknown"),  # not on the [0, 1] scale
    8: ({"user.rating": 4}, 1, "unknown"),  # a 5-star rating: no direction known
    9: ({"score_threshold": 0.7, "eval.run_id": "r-1"}, 1, None),  # not verdicts at all
    10: ({}, 2, None),  # root error, nothing else
    11: ({"reward": 1.0}, 2, "success"),  # a recorded outcome beats the root's error status
    12: ({"gen_ai.evaluation.score.label": "incorrect"}, 1, "failure"),
}


def test_otlp_root_attributes(tmp_path: Path) -> None:
    _otlp_file(tmp_path / "in" / "traces.otlp.jsonl", [_otlp_trace(n, a, s) for n, (a, s, _) in OTLP_TRACES.items()])
    outcomes = _ingest(tmp_path / "in", tmp_path / "a.duckdb")
    for n, (_, _, expected) in OTLP_TRACES.items():
        if expected is None:
            assert f"{n:032x}" not in outcomes, n
        else:
            assert _outcome(outcomes, f"{n:032x}") == expected, n
    assert outcomes[f"{1:032x}"][1]["outcome_attributes"] == {"eval.score": 0.3}
    assert outcomes[f"{5:032x}"][1]["outcome_from"].startswith("ambiguous")


def test_root_error_is_a_failure_only_when_configured(tmp_path: Path) -> None:
    traces = [_otlp_trace(1, {}, 2), _otlp_trace(2, {}, 1), _otlp_trace(3, {"eval.score": 0.8}, 2)]
    _otlp_file(tmp_path / "in" / "traces.otlp.jsonl", traces)
    off = _ingest(tmp_path / "in", tmp_path / "off.duckdb")
    assert f"{1:032x}" not in off and f"{2:032x}" not in off
    assert _outcome(off, f"{3:032x}") == "success"
    config = tmp_path / "tracemine.yaml"
    config.write_text("ingest:\n  outcome_from_root_error: true\n")
    on = _ingest(tmp_path / "in", tmp_path / "on.duckdb", config)
    assert on[f"{1:032x}"] == ("failure", {"outcome_from": "root_error"})
    assert f"{2:032x}" not in on  # an OK root is not a success
    assert _outcome(on, f"{3:032x}") == "success"


# -- flat span-per-line JSONL -------------------------------------------------------------------------

def _flat_trace(n: int, attrs: dict[str, Any]) -> list[dict[str, Any]]:
    base = {"trace_id": f"t-{n}", "kind": "SPAN_KIND_INTERNAL", "start_time": "2026-04-23T05:32:00.000000000Z",
            "end_time": "2026-04-23T05:32:01.000000000Z", "status": {"code": "STATUS_CODE_OK", "message": ""},
            "resource": {"attributes": {"service.name": "agent-a"}}}
    return [
        {**base, "span_id": f"s-{n}-1", "parent_span_id": "", "name": "root",
         "attributes": {"openinference.span.kind": "AGENT", **attrs}},
        {**base, "span_id": f"s-{n}-2", "parent_span_id": f"s-{n}-1", "name": "tool",
         "attributes": {"openinference.span.kind": "TOOL", "tool.name": "lookup", "passed": True}},
    ]


def test_flat_jsonl_root_attributes(tmp_path: Path) -> None:
    records = (
        _flat_trace(1, {"evaluation": {"result": "PASS"}})  # nested: flattened as readers store it
        + _flat_trace(2, {"metadata": {"feedback_stats": {"helpful": {"n": 4, "avg": 0.25}}}})
        + _flat_trace(3, {"task.outcome": "maybe"})
        + _flat_trace(4, {"user_feedback": "👍"})
        + _flat_trace(5, {"inference.agent_name": "a"})
    )
    _write_jsonl(tmp_path / "in" / "spans.jsonl", records)
    outcomes = _ingest(tmp_path / "in", tmp_path / "a.duckdb")
    ids = {n: _flat_id(tmp_path / "a.duckdb", f"t-{n}") for n in range(1, 6)}
    assert _outcome(outcomes, ids[1]) == "success"
    assert _outcome(outcomes, ids[2]) == "failure"
    assert _outcome(outcomes, ids[3]) == "unknown"
    assert _outcome(outcomes, ids[4]) == "success"
    assert ids[5] not in outcomes


def _flat_id(db: Path, raw: str) -> str:
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute("SELECT DISTINCT trace_id FROM spans WHERE coalesce(raw_trace_id, trace_id) = ?",
                          [raw]).fetchone()
    finally:
        con.close()
    assert row is not None, raw
    return row[0]


# -- a reader's outcome -------------------------------------------------------------------------------

def _tau_record(task_id: int, reward: float) -> dict[str, Any]:
    return {"task_id": task_id, "trial": 0, "reward": reward,
            "info": {"task": {"user_id": "u", "instruction": "change my flight", "actions": []}},
            "traj": [{"role": "system", "content": "You are an airline agent."},
                     {"role": "user", "content": "Change my flight."},
                     {"role": "assistant", "content": "Done."}]}


def test_reader_outcome_is_never_replaced(tmp_path: Path) -> None:
    tau = tmp_path / "tau" / "results.json"
    tau.parent.mkdir()
    tau.write_text(json.dumps([_tau_record(1, 1.0), _tau_record(2, 0.0)]))
    first = _ingest(tau.parent, tmp_path / "first.duckdb")
    by_outcome = {outcome: trace_id for trace_id, (outcome, _) in first.items()}
    assert set(by_outcome) == {"success", "failure"}
    # the same tau traces, plus a root span in each (same ingest, another file) whose attributes say the opposite
    (tmp_path / "both").mkdir()
    (tmp_path / "both" / "results.json").write_text(tau.read_text())
    contrary = []
    for n, (outcome, score) in enumerate((("success", 0.0), ("failure", 1.0)), start=1):
        span = _otlp_trace(n, {"eval.score": score})[0]
        span["traceId"] = by_outcome[outcome]
        contrary.append([span])
    _otlp_file(tmp_path / "both" / "zz.otlp.jsonl", contrary)
    both = _ingest(tmp_path / "both", tmp_path / "both.duckdb")
    assert both[by_outcome["success"]][0] == "success"
    assert both[by_outcome["failure"]][0] == "failure"
    assert both[by_outcome["success"]][1]["reward"] == 1.0


def test_reader_record_with_unknown_outcome_is_completed(tmp_path: Path) -> None:
    """A τ-bench record without a usable reward keeps its labels and takes the root's outcome."""
    src = tmp_path / "in"
    src.mkdir()
    (src / "results.json").write_text(json.dumps([_tau_record(1, "n/a")]))  # type: ignore[arg-type]
    first = _ingest(src, tmp_path / "first.duckdb")
    (trace_id, (outcome, labels)), = first.items()
    assert outcome == "unknown" and labels["task_id"] == 1
    span = _otlp_trace(1, {"feedback.thumbs": "up"})[0]
    span["traceId"] = trace_id
    _otlp_file(src / "zz.otlp.jsonl", [[span]])
    again = _ingest(src, tmp_path / "again.duckdb")
    assert again[trace_id][0] == "success"
    assert again[trace_id][1]["task_id"] == 1 and again[trace_id][1]["outcome_from"] == "feedback.thumbs"


# -- the rules ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("key", "tier"), [
    ("eval.score", 0), ("feedback.rating", 0), ("metadata.eval_score", 0), ("userRating", 0), ("score", 1),
    ("metadata.reward", 1), ("task.success", 2), ("is_correct", 2), ("passed", 2),
    ("langsmith.status", None), ("feedback_stats.x.n", None), ("score_threshold", None), ("eval.run_id", None),
    ("password", None), ("http.status_code", None), ("feedback.comment", None),
])
def test_key_tiers(key: str, tier: int | None) -> None:
    assert key_tier(key) == tier


@pytest.mark.parametrize(("value", "rating", "expected"), [
    (True, False, Outcome.SUCCESS), (False, False, Outcome.FAILURE), (0.49, False, Outcome.FAILURE),
    (0.5, False, Outcome.SUCCESS), (1, False, Outcome.SUCCESS), (0, False, Outcome.FAILURE),
    ("0.75", False, Outcome.SUCCESS), ("PASS", False, Outcome.SUCCESS), ("Incorrect", False, Outcome.FAILURE),
    ({"n": 2, "avg": 0.1}, False, Outcome.FAILURE), (-1, True, Outcome.FAILURE), (-1, False, None),
    (5, True, None), ("partially", False, None), (None, False, None), ([1], False, None),
    (float("nan"), False, None), ("thumbs_down", True, Outcome.FAILURE),
])
def test_value_rules(value: Any, rating: bool, expected: Outcome | None) -> None:
    assert verdict(value, rating) == expected


def test_nothing_outcome_like_gives_no_labels() -> None:
    assert derive([{"service.name": "a", "gen_ai.usage.input_tokens": 1}]) == (Outcome.UNKNOWN, None)
    assert derive([{}], root_error=True) == (Outcome.UNKNOWN, None)
    assert derive([{}], root_error=True, outcome_from_root_error=True)[0] == Outcome.FAILURE


def test_fast_and_general_paths_keep_the_same_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path (OTLP and flat rows) keeps the same root spans for outcomes as the general readers."""
    import tracemine.ingest.fast as fast
    from tracemine.config import IngestSettings
    from tracemine.ingest.loader import run_task
    from tracemine.ingest.tasks import Task

    _otlp_file(tmp_path / "a.otlp.jsonl", [_otlp_trace(n, a, s) for n, (a, s, _) in OTLP_TRACES.items()])
    _write_jsonl(tmp_path / "b.jsonl", _flat_trace(1, {"evaluation": {"result": "PASS"}})
                 + _flat_trace(2, {"feedback.rating": -1}) + _flat_trace(3, {"a": 1}))
    # a root the fast path hands to the reader (events) beside rows, and a record handed over after a root row
    mixed = _otlp_trace(40, {"eval.score": 0.1}) + _otlp_trace(41, {"feedback.rating": 1})
    mixed[2]["events"] = [{"name": "log", "timeUnixNano": "1"}]
    handed = {"resourceSpans": [{"scopeSpans": [{"spans": _otlp_trace(42, {"eval.passed": False})}]}, "bad"]}
    with (tmp_path / "a.otlp.jsonl").open("a") as out:
        out.write(json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": mixed}]}]}) + "\n")
        out.write(json.dumps(handed) + "\n")
    for path in (tmp_path / "a.otlp.jsonl", tmp_path / "b.jsonl"):
        kept = []
        for enabled in (False, True):
            monkeypatch.setattr(fast, "ENABLED", enabled)
            kept.append(run_task(Task(str(path), None, 1, path.stat().st_size), IngestSettings(), 1, 0).roots)
        assert kept[0] == kept[1] and len(kept[0]) >= 2, path.name
        assert len({root[0] for root in kept[1]}) == len(kept[1]), "a root kept once"
        if path.name == "a.otlp.jsonl":
            assert {f"{n:032x}" for n in (40, 41, 42)} <= {root[0] for root in kept[1]}
