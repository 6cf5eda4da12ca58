"""The devgen development generator: its files ingest cleanly through ``tracemine ingest`` in every format
(OTLP, Langfuse, flat OpenInference, OpenAI Agents SDK export, LangSmith runs), every labelled trace and span
id is stored as labelled, tool spans, tool definitions and outcomes survive ingest, formats rotate with the
seed (seed 0 keeps recruiting/OTLP, warehouse/Langfuse, bookkeeping/flat), output is deterministic, each bug
mode is pinned to one agent and site, the newer modes are what their labels say, and the same rendered run
written as LangSmith runs and as a Langfuse trace stores the same tool calls, models, tokens and outcome."""

from __future__ import annotations

import ast
import hashlib
import json
import random
import re
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

import devgen
from devgen.core import render, uuid_id
from devgen.formats import SOURCE_FORMAT, langfuse_trace
from devgen.langsmith import langsmith_runs, on_langchain_core_1
from tracemine.cli import main

SEEDS = (8, 9, 10, 11, 12)  # five consecutive seeds: every agent in every format
TRACES = 150  # per seed
NEW_MODES = {
    "warehouse/supplier_search_paraphrase_loop": "loop",
    "bookkeeping/payment_reminder_sent_twice": "duplicate_call",
    "warehouse/lookalike_transfer_progress_updates": "lookalike",
    "bookkeeping/lookalike_reminder_then_balance_update": "lookalike",
    "recruiting/lookalike_referrals_not_in_ats": "lookalike",
    "bookkeeping/lookalike_e_invoice_validation_report": "lookalike",
}
COLUMNS = ("trace_id", "span_id", "kind", "tool_name", "tool_arguments", "tool_result", "tool_definitions",
           "source_format", "model", "duration", "input_tokens", "name", "status", "tool_call_id", "parent_span_id")


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("devgen")
    out = root / "traces"
    summaries, labels = {}, []
    for seed in SEEDS:
        summaries[seed] = devgen.generate(out / f"seed{seed}", traces=TRACES, seed=seed, days=3.0)
        for line in (out / f"seed{seed}" / "labels.jsonl").read_text().splitlines():
            labels.append({**json.loads(line), "seed": seed})
    db = root / "archive.duckdb"
    result = CliRunner().invoke(main, ["ingest", str(out), "--db", str(db), "--workers", "1", "-q"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT trace_id, span_id, kind, tool_name, tool_arguments, tool_result, tool_definitions, "
            "source_format, model, end_ns - start_ns, input_tokens, name, status, tool_call_id, parent_span_id "
            "FROM spans").fetchall()
        traces = con.execute("SELECT trace_id, outcome, source_format FROM traces").fetchall()
        rejected = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    finally:
        con.close()
    spans = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
    return {"summaries": summaries, "labels": labels, "spans": spans, "traces": traces, "rejected": rejected,
            "output": result.output, "out": out}


def _value(text: str | None) -> Any:
    """A stored tool payload: JSON, or the Python repr the OpenAI Agents SDK exports for objects."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text


def test_ingest_has_no_rejects(ingested: dict[str, Any]) -> None:
    assert ingested["rejected"] == 0
    assert "0 record(s) rejected" in ingested["output"]
    formats = {s["source_format"] for s in ingested["spans"]}
    assert formats == set(SOURCE_FORMAT.values())
    assert len({s["trace_id"] for s in ingested["spans"]}) == TRACES * len(SEEDS)
    assert len(ingested["traces"]) == TRACES * len(SEEDS)


def test_every_agent_in_every_format(ingested: dict[str, Any]) -> None:
    pairs = {(agent, fmt) for summary in ingested["summaries"].values() for agent, fmt in summary["formats"].items()}
    assert pairs == {(m.NAME, fmt) for m in devgen.AGENTS for fmt in devgen.FORMATS}
    per_format = Counter(row[2] for row in ingested["traces"])
    assert set(per_format) == set(SOURCE_FORMAT.values())
    assert min(per_format.values()) >= TRACES * len(SEEDS) // len(devgen.FORMATS) - 3


def test_labelled_ids_are_stored(ingested: dict[str, Any]) -> None:
    stored = {(s["trace_id"], s["span_id"]) for s in ingested["spans"]}
    trace_format = {row[0]: row[2] for row in ingested["traces"]}
    assert ingested["labels"], "some bugs and look-alikes"
    assert {label["format"] for label in ingested["labels"]} == set(devgen.FORMATS)
    for label in ingested["labels"]:
        assert label["trace_id"] in trace_format, label
        assert trace_format[label["trace_id"]] == SOURCE_FORMAT[label["format"]], label
        assert label["format"] == devgen.assign_formats(label["seed"])[label["agent"]]
        assert label["span_ids"], label
        for span_id in label["span_ids"]:
            assert (label["trace_id"], span_id) in stored, (label["mode"], label["format"], span_id)


def test_tool_spans_carry_name_arguments_result(ingested: dict[str, Any]) -> None:
    tools = [s for s in ingested["spans"] if s["kind"] == "tool"]
    assert len(tools) > TRACES * len(SEEDS)
    for s in tools:
        assert s["tool_name"] and s["tool_arguments"] is not None, s
        # a LangSmith tool run that raised has no outputs: its error (repr + traceback) is the evidence
        raised = s["source_format"] == "langsmith" and s["status"] == "error" and s["tool_result"] is None
        assert s["tool_result"] is not None or raised, s
    raised = [s for s in tools if s["source_format"] == "langsmith" and s["tool_result"] is None]
    assert raised and len(raised) < sum(s["source_format"] == "langsmith" for s in tools) // 10
    llm = [s for s in ingested["spans"] if s["kind"] == "llm"]
    # OpenAI Agents SDK ``response`` spans carry no model and no content (tokens only from SDK 0.14)
    response = [s for s in llm if s["source_format"] == "openai_agents" and s["name"] == "response"]
    others = [s for s in llm if s not in response]
    assert response and others
    assert all(s["model"] and s["input_tokens"] for s in others)
    assert not any(s["model"] for s in response)
    assert any(s["input_tokens"] for s in response) and not all(s["input_tokens"] for s in response)
    # function spans borrow the call id of the generation that asked for them
    sdk_tools = [s for s in tools if s["source_format"] == "openai_agents"]
    assert 0 < sum(bool(s["tool_call_id"]) for s in sdk_tools) < len(sdk_tools)


def test_tool_definitions_are_stored(ingested: dict[str, Any]) -> None:
    names = {module.NAME: {t["name"] for t in module.TOOLS} for module in devgen.AGENTS}
    by_trace: dict[str, set[str]] = defaultdict(set)
    formats: dict[str, str] = {}
    with_schema: Counter[str] = Counter()
    for s in ingested["spans"]:
        if s["tool_definitions"]:
            for definition in json.loads(s["tool_definitions"]):
                by_trace[s["trace_id"]].add(definition["name"])
                with_schema[s["source_format"]] += "parameters" in definition
            formats[s["trace_id"]] = s["source_format"]
    seen: set[tuple[str, str]] = set()
    for trace_id, tool_names in by_trace.items():
        agents = [agent for agent, expected in names.items() if expected == tool_names]
        assert len(agents) == 1, (trace_id, sorted(tool_names))
        seen.add((formats[trace_id], agents[0]))
    assert seen == {(fmt, agent) for fmt in SOURCE_FORMAT.values() for agent in names}
    for fmt in ("otlp_json", "langfuse", "flat_spans", "langsmith"):
        assert with_schema[fmt] > 0, fmt
    assert with_schema["openai_agents"] == 0  # the SDK's agent span lists tool names only


def test_outcomes_are_stored(ingested: dict[str, Any]) -> None:
    outcomes = {row[0]: row[1] for row in ingested["traces"]}
    assert len(outcomes) == TRACES * len(SEEDS)
    for fmt in SOURCE_FORMAT.values():
        assert {row[1] for row in ingested["traces"] if row[2] == fmt} == {"success", "failure"}, fmt
    for label in ingested["labels"]:
        assert outcomes[label["trace_id"]] == ("failure" if label["trace_failed"] else "success")
    bug_traces = {label["trace_id"] for label in ingested["labels"] if label["kind"] != "lookalike"}
    failed = sum(outcomes[t] == "failure" for t in bug_traces)
    assert failed > 0.7 * len(bug_traces)


def test_openai_agents_export_shape(ingested: dict[str, Any]) -> None:
    records = [json.loads(line) for path in sorted(ingested["out"].rglob("agents-sdk-*.jsonl"))
               for line in path.read_text().splitlines()]
    traces = [r for r in records if r["object"] == "trace"]
    spans = [r for r in records if r["object"] == "trace.span"]
    assert traces and spans and len(traces) + len(spans) == len(records)
    assert all(re.fullmatch(r"trace_[0-9a-f]{32}", t["id"]) and t["workflow_name"] and t["group_id"] for t in traces)
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00"
    for s in spans:
        assert re.fullmatch(r"span_[0-9a-f]{24}", s["id"]) and re.fullmatch(r"trace_[0-9a-f]{32}", s["trace_id"])
        assert s["parent_id"] is None or s["parent_id"].startswith("span_")
        assert re.fullmatch(stamp, s["started_at"]) and re.fullmatch(stamp, s["ended_at"])
        assert s["started_at"] <= s["ended_at"]
    data = [s["span_data"] for s in spans]
    types = Counter(d["type"] for d in data)
    assert {"agent", "generation", "response", "function", "custom"} <= set(types)
    assert all(isinstance(d["tools"], list) and all(isinstance(t, str) for t in d["tools"])
               for d in data if d["type"] == "agent")
    functions = [s for s in spans if s["span_data"]["type"] == "function"]
    assert all(isinstance(s["span_data"]["input"], str) and s["span_data"]["mcp_data"] is None for s in functions)
    outputs = [s["span_data"]["output"] for s in functions]
    assert any(o.startswith("{'") for o in outputs) and any(o.startswith('{"') for o in outputs)  # repr and JSON
    failed = [s for s in functions if s["error"]]
    silent = [s for s in functions if not s["error"] and re.search(r"error|timeout|unavailable|401|429|503", s[
        "span_data"]["output"], re.I) and s["span_data"]["name"] in ("list_requisitions", "get_stock_levels",
                                                                     "list_transactions", "send_email",
                                                                     "categorize_transaction", "generate_report")]
    assert failed and silent  # most failed tools return error text with no error set
    assert all(s["error"]["message"] == "Error running tool (non-fatal)" for s in failed)
    assert all(s["span_data"]["output"].startswith("An error occurred while running the tool") for s in failed)
    responses = [d for d in data if d["type"] == "response"]
    assert all(set(d) <= {"type", "response_id", "usage"} and d["response_id"].startswith("resp_") for d in responses)
    generations = [d for d in data if d["type"] == "generation"]
    assert all(d["input"][0]["role"] == "system" and d["output"][0]["role"] == "assistant" for d in generations)
    assert any(c["function"]["name"] and isinstance(c["function"]["arguments"], str)
               for d in generations for c in d["output"][0]["tool_calls"] or ())
    turns = {s["trace_id"] for s in spans if s["span_data"]["type"] == "custom"}
    assert 0 < len(turns) < len(traces)  # SDK 0.14 task/turn spans in part of the window only


def test_rotation() -> None:
    seed0 = {"talent-scheduler": "otlp", "stockroom-ops": "langfuse", "ledger-assistant": "flat",
             "facilities-desk": "openai-agents"}
    assert devgen.assign_formats(0) == seed0
    assert devgen.assign_formats(1)["facilities-desk"] == "langsmith"
    covered = {(agent, fmt) for seed in range(7, 12) for agent, fmt in devgen.assign_formats(seed).items()}
    assert len(covered) == len(devgen.AGENTS) * len(devgen.FORMATS)  # any five consecutive seeds
    for seed in range(8):
        assigned = devgen.assign_formats(seed)
        assert assigned == devgen.assign_formats(seed)
        for i, module in enumerate(devgen.AGENTS):
            assert assigned[module.NAME] == devgen.FORMATS[(i + seed) % 5]
        assert {info["format"] for info in devgen.modes(seed).values()} == set(assigned.values())
    assert set(devgen.assign_formats(0, "openai-agents").values()) == {"openai-agents"}
    assert devgen.assign_formats(0, ["flat", "flat", "otlp", "langfuse"])["ledger-assistant"] == "otlp"
    assert devgen.assign_formats(0, {"warehouse": "openai-agents"})["stockroom-ops"] == "openai-agents"
    with pytest.raises(ValueError):
        devgen.assign_formats(0, "csv")
    with pytest.raises(ValueError):
        devgen.assign_formats(0, ["otlp"])


def test_formats_override(tmp_path: Path) -> None:
    summary = devgen.generate(tmp_path / "sdk", traces=30, seed=0, formats="openai-agents")
    assert set(summary["formats"].values()) == {"openai-agents"}
    assert all("/agents-sdk-" in name for name in summary["files"])
    labels = [json.loads(line) for line in (tmp_path / "sdk" / "labels.jsonl").read_text().splitlines()]
    assert labels and {label["format"] for label in labels} == {"openai-agents"}


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
    devgen.generate(tmp_path / "d", traces=90, seed=3)
    devgen.generate(tmp_path / "e", traces=90, seed=3)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "d") == _digest(tmp_path / "e")  # recruiting in the OpenAI Agents SDK format
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")
    devgen.generate(tmp_path / "f", traces=40, seed=1, formats="langsmith")
    devgen.generate(tmp_path / "g", traces=40, seed=1, formats="langsmith")
    assert _digest(tmp_path / "f") == _digest(tmp_path / "g")


def test_modes_pinned_to_one_site(ingested: dict[str, Any]) -> None:
    registry = devgen.modes()
    per_agent: dict[str, int] = defaultdict(int)
    for info in registry.values():
        per_agent[info["agent"]] += info["kind"] != "lookalike"
    assert all(count >= 8 for count in per_agent.values()) and len(per_agent) == len(devgen.AGENTS) == 4
    rows = {(s["trace_id"], s["span_id"]): s for s in ingested["spans"]}
    sites: dict[str, set[tuple[str, str | None]]] = defaultdict(set)
    for label in ingested["labels"]:
        info = registry[label["mode"]]
        assert (label["agent"], label["tool"], label["kind"]) == (info["agent"], info["tool"], info["kind"])
        sites[label["mode"]].add((label["agent"], label["tool"]))
        allowed = set(info["tools"]) or {info["tool"]}
        for span_id in label["span_ids"]:
            row = rows[(label["trace_id"], span_id)]
            if info["tool"] is not None and row["kind"] == "tool":
                assert row["tool_name"] in allowed, (label["mode"], row["tool_name"])
    assert all(len(site) == 1 for site in sites.values())


def test_new_modes_are_what_they_claim(ingested: dict[str, Any]) -> None:
    """The newer modes appear, and their tagged calls have the shape the label claims (no second defect)."""
    registry = devgen.modes()
    assert {mode: registry[mode]["kind"] for mode in NEW_MODES} == NEW_MODES
    rows = {(s["trace_id"], s["span_id"]): s for s in ingested["spans"]}
    seen: Counter[str] = Counter()
    for label in ingested["labels"]:
        if label["mode"] not in NEW_MODES:
            continue
        seen[label["mode"]] += 1
        calls = [rows[(label["trace_id"], sid)] for sid in label["span_ids"]]
        assert all(c["kind"] == "tool" and c["status"] != "error" for c in calls), label["mode"]
        args = [_value(c["tool_arguments"]) for c in calls]
        results = [_value(c["tool_result"]) for c in calls]
        if label["mode"] == "warehouse/supplier_search_paraphrase_loop":
            assert 4 <= len(calls) <= 6
            assert len({a["query"] for a in args}) == len(calls)  # reworded every time
            assert len({r["request_id"] for r in results}) == len(calls)  # volatile fields change ...
            assert len({r["generated_at"] for r in results}) == len(calls)
            assert all(r["suppliers"] == results[0]["suppliers"] for r in results)  # ... the content does not
        elif label["mode"] == "bookkeeping/payment_reminder_sent_twice":
            assert len(calls) == 2
            assert args[0]["invoice_id"] == args[1]["invoice_id"] and args[0]["recipient"] == args[1]["recipient"]
            assert args[0]["message"] != args[1]["message"]
            assert all(r["status"] == "sent" for r in results)
        elif label["mode"] in ("warehouse/lookalike_transfer_progress_updates",
                               "bookkeeping/lookalike_reminder_then_balance_update"):
            assert len(calls) == 2 and args[0] != args[1]
        elif label["mode"] == "recruiting/lookalike_referrals_not_in_ats":
            assert len({a["query"] for a in args}) == len(calls) >= 3
            assert all(r["results"] == [] for r in results)
        else:
            assert len(calls) == 1 and results[0]["valid"] is False and results[0]["errors"]
    assert set(seen) == set(NEW_MODES), set(NEW_MODES) - set(seen)


def test_bug_rates(tmp_path: Path) -> None:
    summary = devgen.generate(tmp_path / "big", traces=2000, seed=2)
    assert summary["traces"] == 2000
    labels = [json.loads(line) for line in (tmp_path / "big" / "labels.jsonl").read_text().splitlines()]
    traces_by_mode: dict[str, set[str]] = defaultdict(set)
    for label in labels:
        traces_by_mode[label["mode"]].add(label["trace_id"])
    per_agent = 2000 / len(devgen.AGENTS)
    for mode, info in devgen.modes().items():
        share = len(traces_by_mode[mode]) / per_agent
        if info["kind"] != "lookalike":
            assert 0.006 <= share <= 0.06, (mode, share)
        else:  # an agent's look-alikes share LOOK_RATE: ten of them still make ≥ 1 % of its traces each
            assert share > 0.01, (mode, share)


UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_langsmith_export_shape(ingested: dict[str, Any]) -> None:
    runs = [json.loads(line) for path in sorted(ingested["out"].rglob("langsmith-*.jsonl"))
            for line in path.read_text().splitlines()]
    by_id = {r["id"]: r for r in runs}
    assert runs and len(by_id) == len(runs)
    for r in runs:
        assert re.fullmatch(UUID, r["id"]) and re.fullmatch(UUID, r["trace_id"]) and r["run_type"] in (
            "chain", "llm", "tool")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(\+00:00)?", r["start_time"])
        segments = r["dotted_order"].split(".")
        assert all(re.fullmatch(r"\d{8}T\d{12}Z" + UUID, seg) for seg in segments)
        assert segments[-1].endswith(r["id"]) and segments[0].endswith(r["trace_id"])
        assert r["parent_run_ids"] == [seg[22:] for seg in segments[:-1]]
        assert r["parent_run_id"] == (segments[-2][22:] if len(segments) > 1 else None)
        assert r["status"] == ("error" if r["error"] else "success")
    roots = [r for r in runs if r["parent_run_id"] is None]
    assert all(r["id"] == r["trace_id"] and r["run_type"] == "chain" and r["feedback_stats"] for r in roots)
    assert {r["name"] for r in runs if r["parent_run_id"] in by_id and by_id[r["parent_run_id"]]["parent_run_id"]
            is None and r["run_type"] == "chain"} >= {"agent", "tools"}
    llms = [r for r in runs if r["run_type"] == "llm"]
    assert all(r["inputs"]["messages"][0][0]["id"][-1] == "SystemMessage" for r in llms)
    messages = [r["outputs"]["generations"][0][0]["message"] for r in llms]
    assert all(m["id"][-1] == "AIMessage" and m["kwargs"]["usage_metadata"]["input_tokens"] > 0
               and m["kwargs"]["response_metadata"]["model_name"] for m in messages)
    calls = [c for m in messages for c in m["kwargs"]["tool_calls"]]
    assert calls and all(isinstance(c["args"], dict) and c["type"] == "tool_call" for c in calls)
    assert any(isinstance(m["kwargs"]["content"], list) for m in messages)  # ChatAnthropic tool_use blocks
    tools = [r for r in runs if r["run_type"] == "tool"]
    assert any(set(r["inputs"]) == {"input"} and r["inputs"]["input"].startswith("{'") for r in tools)
    assert any("input" not in r["inputs"] for r in tools)  # the arguments dict itself
    outputs = [r["outputs"]["output"] for r in tools if r["outputs"]]
    assert all(o["id"][-1] == "ToolMessage" and o["kwargs"]["tool_call_id"] for o in outputs)
    assert any(o["kwargs"]["status"] == "error" for o in outputs)  # ToolException handled by the tool
    raised = [r for r in tools if r["error"]]
    assert raised and all(r["outputs"] is None and re.match(r"\w+\((['\"]).*\1\)Traceback \(most recent call last\):",
                                                            r["error"], re.S) for r in raised)
    replies = {m["kwargs"]["tool_call_id"]: m for r in runs if r["name"] == "tools" for m in r["outputs"]["messages"]}
    assert any(r["extra"].get("tool_call_id") for r in raised) and any("tool_call_id" not in r["extra"] for r in raised)
    assert all(replies[r["extra"]["tool_call_id"]]["kwargs"]["status"] == "error"
               for r in raised if "tool_call_id" in r["extra"])  # ToolNode's reply to the raised call
    toolnode = [m for m in replies.values() if m["kwargs"]["content"].endswith("\n Please fix your mistakes.")]
    assert toolnode and all(m["kwargs"]["status"] == "error" for m in toolnode)


def _round_trip(tmp_path: Path, name: str, records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "run.jsonl").write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in records))
    db = tmp_path / f"{name}.duckdb"
    result = CliRunner().invoke(main, ["ingest", str(folder), "--db", str(db), "--workers", "1", "-q"],
                                catch_exceptions=False)
    assert result.exit_code == 0 and "0 record(s) rejected" in result.output, result.output
    con = duckdb.connect(str(db), read_only=True)
    try:
        cols = ("span_id", "parent_span_id", "kind", "tool_name", "tool_arguments", "tool_result", "status",
                "status_message", "model", "input_tokens", "output_tokens", "tool_definitions", "tool_call_id")
        rows = con.execute(f"SELECT {', '.join(cols)} FROM spans").fetchall()
        outcome = con.execute("SELECT outcome FROM traces").fetchall()
    finally:
        con.close()
    spans = {row[0]: dict(zip(cols, row, strict=True)) for row in rows}
    spans["__outcome__"] = {"outcome": [o[0] for o in outcome]}
    return spans


@pytest.mark.parametrize("module_index", range(4))
def test_langsmith_round_trip_matches_langfuse(tmp_path: Path, module_index: int) -> None:
    """One rendered run with tool failures, written as LangSmith runs and as a Langfuse trace: tracemine
    stores the same tool names, arguments, results, errors, models, tokens, tool definitions and outcome."""
    module = devgen.AGENTS[module_index]
    for index in range(400):  # a run with a failing tool and more than one call
        rng = random.Random(f"round-trip/{module.NAME}/{index}")
        run, _issues, failed = devgen._build(module, rng)
        if any(a.error for a in run.actions) and len(run.actions) > 3:
            break
    spans = render(run, "unused", devgen.core.BASE_NS, lambda: uuid_id(rng), module.MODELS, module.LAT,
                   module.SYSTEM)
    meta_ls = devgen._meta("langsmith", random.Random(1), failed, module)
    meta_lf = devgen._meta("langfuse", random.Random(1), failed, module)
    ls = _round_trip(tmp_path, "langsmith", langsmith_runs(spans, module, meta_ls, lambda: uuid_id(rng)))
    lf = _round_trip(tmp_path, "langfuse", [langfuse_trace(spans, uuid_id(rng), module, meta_lf)])
    expected = "failure" if failed else "success"
    assert ls.pop("__outcome__") == lf.pop("__outcome__") == {"outcome": [expected]}
    compared = 0
    for s in spans[1:]:
        key = uuid.UUID(s.sid).hex
        a, b = ls[key], lf[key]
        assert a["kind"] == b["kind"], s.role
        if s.role == "llm":
            assert (a["model"], a["input_tokens"], a["output_tokens"]) == (b["model"], b["input_tokens"],
                                                                           b["output_tokens"]) == (
                s.model, s.in_tok, s.out_tok)
        if s.role != "tool":
            continue
        compared += 1
        assert a["tool_name"] == b["tool_name"] == s.tool
        assert _value(a["tool_arguments"]) == _value(b["tool_arguments"]) == s.args
        # a raised tool run has no outputs: on langchain-core 0.3 its call id is only in the ``tools`` node's
        # ToolMessage, on 1.x also in the run's ``extra``
        assert a["tool_call_id"] == s.call_id or (s.error and not on_langchain_core_1(module)
                                                  and a["tool_call_id"] is None and a["tool_result"] is None)
        if s.error:
            assert a["status"] == b["status"] == "error"
            assert s.error in a["status_message"]
            assert a["tool_result"] is None or s.error in a["tool_result"]
        else:
            assert a["status"] != "error"
            assert _value(a["tool_result"]) == _value(b["tool_result"]) == s.result
    assert compared >= 3
    root_ls = next(r for r in ls.values() if r["parent_span_id"] is None)
    root_lf = next(r for r in lf.values() if r["parent_span_id"] is None)
    definitions = [json.loads(r["tool_definitions"]) for r in (root_ls, root_lf)]
    assert [{d["name"]: d.get("parameters") for d in defs} for defs in definitions] == [
        {t["name"]: t.get("parameters") or {"type": "object"} for t in module.TOOLS},
        {t["name"]: t.get("parameters") for t in module.TOOLS}]
