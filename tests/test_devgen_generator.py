"""The devgen development generator: its files ingest cleanly through ``tracemine ingest``, every labelled
trace and span id is stored as labelled, tool spans, tool definitions and outcomes survive ingest, output
is deterministic, and each bug mode is pinned to one agent and site."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

import devgen
from tracemine.cli import main

TRACES = 300


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("devgen")
    out = root / "traces"
    summary = devgen.generate(out, traces=TRACES, seed=11, days=3.0)
    db = root / "archive.duckdb"
    result = CliRunner().invoke(main, ["ingest", str(out), "--db", str(db), "--workers", "1", "-q"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    labels = [json.loads(line) for line in (out / "labels.jsonl").read_text().splitlines()]
    con = duckdb.connect(str(db), read_only=True)
    try:
        spans = con.execute(
            "SELECT trace_id, span_id, kind, tool_name, tool_arguments, tool_result, tool_definitions, "
            "source_format, model, end_ns - start_ns, input_tokens FROM spans").fetchall()
        traces = con.execute("SELECT trace_id, outcome, source_format FROM traces").fetchall()
        rejected = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    finally:
        con.close()
    return {"summary": summary, "labels": labels, "spans": spans, "traces": traces, "rejected": rejected,
            "output": result.output, "out": out}


def test_ingest_has_no_rejects(ingested: dict[str, Any]) -> None:
    assert ingested["rejected"] == 0
    assert "0 record(s) rejected" in ingested["output"]
    formats = {row[7] for row in ingested["spans"]}
    assert formats == {"otlp_json", "langfuse", "flat_spans"}
    assert len({row[0] for row in ingested["spans"]}) == TRACES


def test_labelled_ids_are_stored(ingested: dict[str, Any]) -> None:
    stored = {(row[0], row[1]) for row in ingested["spans"]}
    trace_ids = {row[0] for row in ingested["spans"]}
    assert ingested["labels"], "some bugs and look-alikes at 300 traces"
    for label in ingested["labels"]:
        assert label["trace_id"] in trace_ids, label
        assert label["span_ids"], label
        for span_id in label["span_ids"]:
            assert (label["trace_id"], span_id) in stored, (label["mode"], span_id)


def test_tool_spans_carry_name_arguments_result(ingested: dict[str, Any]) -> None:
    tools = [row for row in ingested["spans"] if row[2] == "tool"]
    assert len(tools) > TRACES
    for row in tools:
        assert row[3] and row[4] is not None and row[5] is not None, row[:8]
    llm = [row for row in ingested["spans"] if row[2] == "llm"]
    assert llm and all(row[8] and row[10] for row in llm)


def test_tool_definitions_are_stored(ingested: dict[str, Any]) -> None:
    names = {module.NAME: {t["name"] for t in module.TOOLS} for module, _ in devgen.AGENTS}
    by_format: dict[str, set[str]] = defaultdict(set)
    with_schema: dict[str, int] = defaultdict(int)
    for row in ingested["spans"]:
        if row[6]:
            for definition in json.loads(row[6]):
                by_format[row[7]].add(definition["name"])
                with_schema[row[7]] += "parameters" in definition
    expected = {"otlp_json": "talent-scheduler", "langfuse": "stockroom-ops", "flat_spans": "ledger-assistant"}
    for fmt, agent in expected.items():
        assert by_format[fmt] == names[agent], fmt
        assert with_schema[fmt] > 0, fmt


def test_outcomes_are_stored(ingested: dict[str, Any]) -> None:
    outcomes = {row[0]: row[1] for row in ingested["traces"]}
    assert len(outcomes) == TRACES
    assert set(outcomes.values()) == {"success", "failure"}
    for label in ingested["labels"]:
        assert outcomes[label["trace_id"]] == ("failure" if label["trace_failed"] else "success")
    bug_traces = {label["trace_id"] for label in ingested["labels"] if label["kind"] != "lookalike"}
    failed = sum(outcomes[t] == "failure" for t in bug_traces)
    assert failed > 0.7 * len(bug_traces)


def test_modes_pinned_to_one_site(ingested: dict[str, Any]) -> None:
    registry = devgen.modes()
    per_agent: dict[str, int] = defaultdict(int)
    for info in registry.values():
        per_agent[info["agent"]] += info["kind"] != "lookalike"
    assert all(count >= 8 for count in per_agent.values()) and len(per_agent) == 3
    rows = {(row[0], row[1]): row for row in ingested["spans"]}
    sites: dict[str, set[tuple[str, str | None]]] = defaultdict(set)
    for label in ingested["labels"]:
        info = registry[label["mode"]]
        assert (label["agent"], label["tool"], label["kind"]) == (info["agent"], info["tool"], info["kind"])
        sites[label["mode"]].add((label["agent"], label["tool"]))
        allowed = set(info["tools"]) or {info["tool"]}
        for span_id in label["span_ids"]:
            row = rows[(label["trace_id"], span_id)]
            if info["tool"] is not None and row[2] == "tool":
                assert row[3] in allowed, (label["mode"], row[3])
    assert all(len(site) == 1 for site in sites.values())


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(str(file.relative_to(path)).encode())
        h.update(file.read_bytes())
    return h.hexdigest()


def test_deterministic(tmp_path: Path) -> None:
    devgen.generate(tmp_path / "a", traces=90, seed=5)
    devgen.generate(tmp_path / "b", traces=90, seed=5)
    devgen.generate(tmp_path / "c", traces=90, seed=6)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_bug_rates(tmp_path: Path) -> None:
    summary = devgen.generate(tmp_path / "big", traces=1500, seed=2)
    assert summary["traces"] == 1500
    labels = [json.loads(line) for line in (tmp_path / "big" / "labels.jsonl").read_text().splitlines()]
    traces_by_mode: dict[str, set[str]] = defaultdict(set)
    for label in labels:
        traces_by_mode[label["mode"]].add(label["trace_id"])
    per_agent = 1500 / len(devgen.AGENTS)
    for mode, info in devgen.modes().items():
        share = len(traces_by_mode[mode]) / per_agent
        if info["kind"] != "lookalike":
            assert 0.012 <= share <= 0.06, (mode, share)
        else:
            assert share > 0.02, (mode, share)
