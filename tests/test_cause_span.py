"""Cause spans and agents of signals: attribution rules, storage (new and old archives), CLI and `show`."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from rich.console import Console

from tracemine.cli import main
from tracemine.detect.base import Detector
from tracemine.detect.cause import attribute, offending_span
from tracemine.detect.runner import DetectReport, detect_traces, run_detection
from tracemine.detect.view import TraceView
from tracemine.model import Signal, Span, SpanKind, Trace
from tracemine.report.show import print_trace
from tracemine.store import Store

from conftest import DATASETS, FIXTURES


def _span(span_id: str, kind: SpanKind, seq: int, parent: str | None = "root", **kw: object) -> Span:
    return Span(trace_id="t", span_id=span_id, parent_span_id=parent, kind=kind, sequence=seq, name=span_id, **kw)


def _llm(span_id: str, seq: int, parent: str | None = "root", calls: list[str] = (), **kw: object) -> Span:  # type: ignore[assignment]
    output = orjson.dumps({"content": None, "tool_calls": [
        {"id": c, "type": "function", "function": {"name": "search", "arguments": "{}"}} for c in calls
    ]}).decode() if calls else "thinking"
    return _span(span_id, SpanKind.LLM, seq, parent, output=output, **kw)


def _tool(span_id: str, seq: int, parent: str | None = "root", call_id: str | None = None, **kw: object) -> Span:
    return _span(span_id, SpanKind.TOOL, seq, parent, tool_name="search", tool_call_id=call_id, **kw)


def _signal(*span_ids: str, evidence: dict | None = None, **kw: object) -> Signal:
    return Signal("d", "k", "t", list(span_ids), "low", evidence or {}, "", **kw)  # type: ignore[arg-type]


def _attributed(spans: list[Span], signal: Signal) -> Signal:
    attribute(TraceView.build(Trace("t", spans)), [signal])
    return signal


def _root(**kw: object) -> Span:
    return _span("root", SpanKind.AGENT, 0, None, **kw)


def test_cause_found_by_tool_call_id() -> None:
    spans = [_root(), _llm("l1", 1, calls=["call_a", "call_b"]), _llm("l2", 2, calls=["call_c"]),
             _tool("a", 3, call_id="call_a"), _tool("c", 4, call_id="call_c"), _tool("b", 5, call_id="call_b")]
    assert _attributed(spans, _signal("a")).cause_span_id == "l1"  # not the nearer l2
    assert _attributed(spans, _signal("b")).cause_span_id == "l1"
    assert _attributed(spans, _signal("c")).cause_span_id == "l2"


def test_repeated_call_id_takes_the_nearest_requesting_turn() -> None:
    spans = [_root(), _llm("l1", 1, calls=["call_1"]), _tool("a", 2, call_id="call_1"),
             _llm("l2", 3, calls=["call_1"]), _tool("b", 4, call_id="call_1")]
    assert _attributed(spans, _signal("b")).cause_span_id == "l2"


def test_call_id_inside_double_encoded_output() -> None:
    inner = orjson.dumps({"tool_calls": [{"id": "call_z"}]}).decode()
    spans = [_root(), _span("l1", SpanKind.LLM, 1, output=orjson.dumps(inner).decode()),
             _llm("l2", 2), _tool("z", 3, call_id="call_z")]
    assert _attributed(spans, _signal("z")).cause_span_id == "l1"


def test_fallback_nearest_preceding_llm_under_the_same_parent() -> None:
    spans = [_root(),
             _span("step1", SpanKind.CHAIN, 1), _llm("l1", 2, "step1"), _tool("x", 5, "step1"),
             _span("step2", SpanKind.CHAIN, 3), _llm("l2", 4, "step2"),  # nearer in time, other step
             _llm("l0", 0, "step1")]
    # no tool_call_id (or one no output names): same parent beats a nearer LLM elsewhere
    assert _attributed(spans, _signal("x")).cause_span_id == "l1"
    spans[3] = _tool("x", 5, "step1", call_id="unknown")
    assert _attributed(spans, _signal("x")).cause_span_id == "l1"


def test_fallback_climbs_the_ancestor_chain_and_llm_parents() -> None:
    spans = [_root(), _llm("l1", 1), _span("step", SpanKind.CHAIN, 2), _tool("x", 3, "step"), _llm("late", 4)]
    assert _attributed(spans, _signal("x")).cause_span_id == "l1"  # via the agent step's parent
    nested = [_root(), _llm("l1", 1), _tool("x", 2, "l1"), _llm("l2", 3)]  # tool under its LLM (τ-bench)
    assert _attributed(nested, _signal("x")).cause_span_id == "l1"
    alone = [_root(), _tool("x", 1), _llm("after", 2)]
    assert _attributed(alone, _signal("x")).cause_span_id is None


def test_llm_span_signal_causes_itself() -> None:
    spans = [_root(), _llm("l1", 1), _llm("l2", 2), _llm("l3", 3)]
    assert _attributed(spans, _signal("l2")).cause_span_id == "l2"
    # an LLM loop citing three turns (period 1): the first repetition is the second turn
    assert _attributed(spans, _signal("l1", "l2", "l3", evidence={"period": 1})).cause_span_id == "l2"


def test_repetitions_take_the_llm_behind_the_first_repeat() -> None:
    spans = [_root(), _llm("l1", 1, calls=["c1"]), _tool("a", 2, call_id="c1"),
             _llm("l2", 3, calls=["c2"]), _tool("b", 4, call_id="c2"),
             _llm("l3", 5, calls=["c3"]), _tool("c", 6, call_id="c3")]
    loop = _signal("a", "b", "c", evidence={"repetitions": [["a"], ["b"], ["c"]], "period": 1})
    assert _attributed(spans, loop).cause_span_id == "l2"
    duplicate = _signal("a", "c", evidence={"reference_span_id": "a"})
    assert _attributed(spans, duplicate).cause_span_id == "l3"
    view = TraceView.build(Trace("t", spans))
    assert offending_span(view, _signal("root", "b")).span_id == "b"  # a cited step before a container


def test_container_symptom_takes_the_last_llm_inside_it() -> None:
    spans = [_root(), _llm("l1", 1), _span("sub", SpanKind.AGENT, 2), _llm("l2", 3, "sub"),
             _llm("l3", 4, "sub"), _llm("l4", 5)]
    assert _attributed(spans, _signal("sub")).cause_span_id == "l3"
    assert _attributed(spans, _signal("nope")).cause_span_id is None  # cited span not in the trace


def test_agent_from_span_ancestor_and_trace() -> None:
    spans = [_root(), _span("planner", SpanKind.AGENT, 1, agent_name="Planner"),
             _llm("l1", 2, "planner"), _tool("own", 3, "planner", agent_name="Booker"),
             _tool("inherits", 4, "planner"), _tool("top", 5)]
    assert _attributed(spans, _signal("own")).agent == "Booker"
    assert _attributed(spans, _signal("inherits")).agent == "Planner"
    assert _attributed(spans, _signal("top")).agent == "root"  # the root agent span's name
    anonymous = [_span("r", SpanKind.CHAIN, 0, None), _llm("l", 1, "r", agent_name="Solo"), _tool("x", 2, "r")]
    assert _attributed(anonymous, _signal("x")).agent == "Solo"  # the trace's agent
    nothing = [_span("r", SpanKind.CHAIN, 0, None), _tool("x", 1, "r")]
    assert _attributed(nothing, _signal("x")).agent is None


def test_values_set_by_a_detector_are_kept() -> None:
    spans = [_root(), _llm("l1", 1, calls=["c"]), _tool("a", 2, call_id="c")]
    kept = _attributed(spans, _signal("a", cause_span_id="mine", agent="Me"))
    assert (kept.cause_span_id, kept.agent) == ("mine", "Me")


class _ToolFlagger(Detector):
    name = "flag_tools"
    kinds = ("test",)

    def detect(self, view: TraceView) -> Iterable[Signal]:
        for call in view.tool_calls:
            yield self.signal(view, "test", [call.span.span_id], "low", {}, "flagged")


def test_runner_attributes_every_detectors_signals() -> None:
    spans = [_root(), _llm("l1", 1, calls=["c"]), _tool("a", 2, call_id="c")]
    report = DetectReport(None, None, ["flag_tools"])
    signals = detect_traces(lambda: [Trace("t", list(spans))], [_ToolFlagger()], report)
    assert [(s.cause_span_id, s.agent) for s in signals] == [("l1", "root")]


def test_positional_construction_still_works() -> None:
    signal = Signal("d", "k", "t", ["s"], "low", {}, "text")
    assert (signal.cause_span_id, signal.agent) == (None, None)


# -- storage -----------------------------------------------------------------------------------------


def test_signals_stored_and_read_back(tmp_path: Path) -> None:
    db = tmp_path / "a.duckdb"
    with Store(db) as store:
        detect_id = store.save_signals(None, ["d"], [_signal("a", cause_span_id="l1", agent="Planner"), _signal("b")], {})
        stored = store.signals(detect_id)
    assert [(s.cause_span_id, s.agent) for s in stored] == [("l1", "Planner"), (None, None)]
    with Store(db, read_only=True) as store:
        assert store.signals(trace_id="t")[0].cause_span_id == "l1"


def _old_archive(path: Path) -> None:
    """An archive as the first release wrote it: ``signals`` without the cause columns, one old run."""
    with Store(path) as store:
        store.con.execute("ALTER TABLE signals DROP COLUMN cause_span_id")
        store.con.execute("ALTER TABLE signals DROP COLUMN agent")
        store.con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")  # what it stamped
        store.con.execute("INSERT INTO detect_runs (detect_id) VALUES (1)")
        store.con.execute("INSERT INTO signals VALUES (1, 0, 'd', 'k', 't', ['s1'], 'low', '{}', 'old')")


def test_old_schema_archive_reads_and_migrates(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    _old_archive(db)
    with Store(db, read_only=True) as store:  # not migrated: the fields read as None
        assert [(s.text, s.cause_span_id, s.agent) for s in store.signals(1)] == [("old", None, None)]
    with Store(db) as store:
        columns = {r[0] for r in store.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'signals'").fetchall()}
        assert {"cause_span_id", "agent"} <= columns
        assert store.signals(1)[0].cause_span_id is None
        new_id = store.save_signals(None, ["d"], [_signal("a", cause_span_id="l1", agent="A")], {})
        assert [(s.cause_span_id, s.agent) for s in store.signals(new_id)] == [("l1", "A")]


# -- end to end --------------------------------------------------------------------------------------


def test_detect_cli_writes_cause_spans_that_exist(tmp_path: Path) -> None:
    db = str(tmp_path / "d.duckdb")
    out = tmp_path / "signals.jsonl"
    fixture = FIXTURES / "agents" / "openai_agents_spans.jsonl"
    result = CliRunner().invoke(main, ["detect", str(fixture), "--db", db, "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert rows
    with Store(db) as store:
        for row in rows:
            spans = {s.span_id: s for s in store.spans_of(row["trace_id"])}
            assert row["cause_span_id"] in spans and spans[row["cause_span_id"]].kind == SpanKind.LLM
            assert row["agent"]
        stored = store.signals()
        assert [(s.cause_span_id, s.agent) for s in stored] == [(r["cause_span_id"], r["agent"]) for r in rows]
        trace_id = rows[0]["trace_id"]
        console = Console(file=io.StringIO(), width=200, color_system=None)
        print_trace(console, store.spans_of(trace_id), store.signals(trace_id=trace_id), detect_id=1)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if rows[0]["cause_span_id"] in line)  # the cause span's header
    assert "◆" in lines[at]
    assert any(f"◆ cause of #1 {rows[0]['kind']} on span " in line for line in lines[at:at + 3])
    assert f"cause: {rows[0]['cause_span_id']}" in " ".join(text.split())  # however the console wraps it


def test_tau_retail_causes_are_llm_spans_of_the_trace(tmp_path: Path) -> None:
    runs = DATASETS / "agentrx-tau-retail" / "tau_dataset_failed.json"
    if not runs.is_file():
        pytest.skip("../shared/datasets/agentrx-tau-retail is not available")
    from tracemine.ingest.loader import ingest_paths

    with Store(tmp_path / "tau.duckdb") as store:
        ingest_paths([str(runs)], store)
        report = run_detection(store, None, save=False)
        assert report.signals and not report.errors.get("cause")
        for signal in report.signals:
            spans = {s.span_id: s for s in store.spans_of(signal.trace_id)}
            assert spans[signal.cause_span_id].kind == SpanKind.LLM  # type: ignore[index]
            assert signal.agent
