"""The independent hold-out generator (tests/holdout): labels resolve to stored ids after a real ingest,
nothing is quarantined, payloads and tool definitions survive, output is deterministic, and every failure
mode is pinned to one agent and one site."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import orjson
import pytest
from click.testing import CliRunner

import holdout
from tracemine.cli import main


def _labels(out: Path) -> list[dict]:
    return [orjson.loads(line) for line in (out / "labels.jsonl").read_bytes().splitlines()]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("holdout")
    counts = holdout.generate(out, traces=300, seed=7)
    assert counts["traces"] == 300 and counts["labels"] > 0
    db = out / "archive.duckdb"
    result = CliRunner().invoke(main, ["ingest", str(out / "traces"), "--db", str(db), "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "0 record(s) rejected" in result.output
    return out, db


def test_labels_resolve_to_stored_spans(ingested: tuple[Path, Path]) -> None:
    out, db = ingested
    labels = _labels(out)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 0
        assert con.execute("SELECT count(DISTINCT trace_id) FROM spans").fetchone()[0] == 300
        rows = con.execute("SELECT trace_id, span_id, kind, tool_name FROM spans").fetchall()
    spans = {(t, s): (kind, tool) for t, s, kind, tool in rows}
    traces = {t for t, _ in spans}
    for label in labels:
        assert label["trace_id"] in traces, label
        assert label["span_ids"], label
        kinds, tools = set(), set()
        for span_id in label["span_ids"]:
            assert (label["trace_id"], span_id) in spans, (label, span_id)
            kind, tool = spans[(label["trace_id"], span_id)]
            kinds.add(kind)
            tools.add(tool)
        if label["tool"] is None:  # a model-level mode cites the failed LLM call
            assert kinds == {"llm"}, label
        else:
            assert kinds == {"tool"}, label
            assert set(label["tool"].split("+")) & tools, label


def test_payloads_and_tool_definitions_survive_ingest(ingested: tuple[Path, Path]) -> None:
    _, db = ingested
    with duckdb.connect(str(db), read_only=True) as con:
        q = con.execute
        # every tool span has a name and arguments; every non-failed tool span has a result
        assert q("SELECT count(*) FROM spans WHERE kind = 'tool' AND (tool_name IS NULL OR tool_arguments IS NULL)").fetchone()[0] == 0
        assert q("SELECT count(*) FROM spans WHERE kind = 'tool' AND status <> 'error' AND tool_result IS NULL").fetchone()[0] == 0
        assert q("SELECT count(DISTINCT tool_name) FROM spans WHERE kind = 'tool' AND source_format = 'langsmith'").fetchone()[0] >= 8
        assert q("SELECT count(DISTINCT tool_name) FROM spans WHERE kind = 'tool' AND source_format = 'openai_agents'").fetchone()[0] >= 8
        # LangSmith LLM runs carry the JSON Schemas they were given
        ls_llm = q("SELECT tool_definitions, model, input_tokens FROM spans WHERE kind = 'llm' AND source_format = 'langsmith'").fetchall()
        assert ls_llm and all(d and m and n for d, m, n in ls_llm)
        defs = {d["name"]: d for d in orjson.loads(ls_llm[0][0])}
        assert defs["create_claim"]["parameters"]["additionalProperties"] is False
        assert defs["schedule_inspection"]["parameters"]["properties"]["window"]["enum"] == ["morning", "afternoon"]
        # the OpenAI Agents export names the tools on the agent span (the format carries no schemas)
        oa_agent = q("SELECT tool_definitions FROM spans WHERE kind = 'agent' AND source_format = 'openai_agents'").fetchall()
        assert oa_agent and all(d and "page_oncall" in d for (d,) in oa_agent)
        oa_llm = q("SELECT count(*), count(model), count(input_tokens) FROM spans WHERE kind = 'llm' AND source_format = 'openai_agents' AND status <> 'error'").fetchone()
        assert oa_llm[0] > 0 and oa_llm[0] == oa_llm[1] == oa_llm[2]
        # tool calls are tied back to the LLM call that asked for them
        assert q("SELECT count(*) FROM spans WHERE kind = 'tool' AND status <> 'error' AND tool_call_id IS NULL").fetchone()[0] == 0
        # the OpenAI Agents outcome is kept as a root attribute
        roots = q("SELECT attributes FROM spans WHERE source_format = 'openai_agents' AND parent_span_id IS NULL").fetchall()
        assert roots and all('"metadata.eval_score"' in a for (a,) in roots)


def test_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert holdout.generate(first, traces=120, seed=11) == holdout.generate(second, traces=120, seed=11)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files and files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
    other = tmp_path / "c"
    holdout.generate(other, traces=120, seed=12)
    assert (other / "labels.jsonl").read_bytes() != (first / "labels.jsonl").read_bytes()


def _outcomes(out: Path) -> dict[str, bool]:
    """trace id (as labelled) -> success, read from the raw files."""
    import uuid

    result = {}
    for path in (out / "traces").rglob("*.jsonl"):
        for line in path.read_bytes().splitlines():
            record = orjson.loads(line)
            if record.get("object") == "trace":
                result[record["id"]] = record["metadata"]["eval_score"] == 1.0
            elif record.get("run_type") == "chain" and record.get("parent_run_id") is None:
                result[uuid.UUID(record["id"]).hex] = record["feedback_stats"]["task_success"]["avg"] == 1.0
    return result


def test_modes_pinned_rates_and_outcomes(tmp_path: Path) -> None:
    counts = holdout.generate(tmp_path, traces=2000, seed=0)
    labels = _labels(tmp_path)
    declared = holdout.modes()
    per_agent = Counter(m["agent"] for m in declared.values())
    assert per_agent["claims"] >= 8 and per_agent["oncall"] >= 8
    sites: dict[str, set] = defaultdict(set)
    traces_per_mode: dict[str, set] = defaultdict(set)
    faulty: set[str] = set()
    for label in labels:
        assert set(label) == {"trace_id", "kind", "mode", "span_ids", "tool", "agent", "detail"}
        if label["kind"] == "lookalike":
            assert label["mode"] in holdout.LOOKALIKE_MODES
            continue
        spec = declared[label["mode"]]
        assert (label["agent"], label["kind"], label["tool"]) == (spec["agent"], spec["kind"], spec["tool"])
        sites[label["mode"]].add((label["agent"], label["tool"]))
        traces_per_mode[label["mode"]].add(label["trace_id"])
        faulty.add(label["trace_id"])
    assert set(sites) == set(declared)
    assert all(len(s) == 1 for s in sites.values())
    agent_traces = {"claims": counts["traces.claims"], "oncall": counts["traces.oncall"]}
    for mode, found in traces_per_mode.items():
        share = len(found) / agent_traces[declared[mode]["agent"]]
        assert 0.015 <= share <= 0.05, (mode, share)
    assert counts["traces_with_two_faults"] > 0
    lookalikes = Counter((lb["agent"], lb["mode"]) for lb in labels if lb["kind"] == "lookalike")
    assert len(lookalikes) == 2 * len(holdout.LOOKALIKE_MODES)
    outcomes = _outcomes(tmp_path)
    assert len(outcomes) == 2000
    fail_faulty = sum(not outcomes[t] for t in faulty) / len(faulty)
    clean = [t for t in outcomes if t not in faulty]
    fail_clean = sum(not outcomes[t] for t in clean) / len(clean)
    assert 0.75 < fail_faulty < 0.98 and 0.02 < fail_clean < 0.12
