"""Empty runs — no trace files, every record rejected, a window without traces — are recorded as `empty`,
exit with their own code and a pointer to the quarantine, and never count towards resolved or regressed:
the next run compares with the last non-empty one, and trackers close or reopen nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import tracemine
from publish_server import FakeTrackers
from test_publish import TOKEN, settings
from tracemine.cli import EXIT_EMPTY, main
from tracemine.history import HistorySettings, RunRecord, assign_statuses, list_runs, save_run, trends
from tracemine.model import Finding, Impact
from tracemine.store import DEFAULT_DB, Store


def finding(fp: str, traces: int) -> Finding:
    return Finding(fingerprint=fp, title=f"finding {fp}", summary="s", mechanism="m", recommended_fix="f",
                   severity="high", kinds=["loop"], impact=Impact(traces=traces, window_traces=100),
                   trace_ids=[f"{fp}-{i}" for i in range(traces)], span_ids=[], cluster_ids=[])


def test_empty_runs_leave_statuses_and_trends_alone(tmp_path: Path) -> None:
    with Store(tmp_path / "h.duckdb") as store:
        first = [finding("tm-a", 10), finding("tm-b", 4)]
        assign_statuses(store, first)
        save_run(store, RunRecord(None, None, 100, 1000, 10, None), first, 2)
        for _ in range(3):  # three nights without data
            save_run(store, RunRecord(None, None, 0, 0, 0, None, status="empty", note="no traces"), [], 0)
        again = [finding("tm-a", 10), finding("tm-b", 4)]
        assert assign_statuses(store, again, HistorySettings(resolved_after_runs=2)) == []
        assert [f.status for f in again] == ["recurring", "recurring"]
        assert [label.split()[0] for label, _ in trends(store, again)["tm-a"]] == ["#1", "now"]
        assert [r.status for r in list_runs(store)] == ["empty", "empty", "empty", "ok"]


@pytest.fixture
def fake():
    with FakeTrackers(token=TOKEN) as server:
        yield server


def test_empty_runs_exit_apart_and_resolve_nothing(tmp_path: Path, fake: FakeTrackers, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    config = tmp_path / "publish.yaml"
    config.write_text(yaml.safe_dump(settings(fake, min_severity="low")))
    runner = CliRunner()
    data, db = tmp_path / "traces", tmp_path / "nightly.duckdb"
    assert runner.invoke(main, ["synth", "--traces", "120", "--seed", "9", "--out", str(data)]).exit_code == 0
    (tmp_path / "empty").mkdir()
    (tmp_path / "other.json").write_text('{"hello": "not a trace"}\n')

    def mine(*args: str) -> object:
        return runner.invoke(main, ["--config", str(config), "mine", *args, "--db", str(db), "-q",
                                    "--max-findings", "3", "--publish", "github"], catch_exceptions=False)

    first = mine(str(data), "--out", str(tmp_path / "r1"))
    assert first.exit_code == 0, first.output
    issues = len(fake.github)
    assert issues == 3
    sent = len(fake.requests)

    for args, why in (([str(tmp_path / "empty")], "no trace files in the input"),
                      ([str(tmp_path / "other.json")], "1 record(s) rejected"),
                      (["--since", "2001-01-01", "--until", "2001-01-02", "--fail-on", "any"], "no traces in the window")):
        result = mine(*args, "--out", str(tmp_path / "empty-report"))
        assert result.exit_code == EXIT_EMPTY, result.output
        assert why in result.output
        assert f"tracemine stats --quarantine --db {db}" in result.output
    assert not (tmp_path / "empty-report").exists()  # nothing written
    assert len(fake.requests) == sent  # nothing published

    last = mine("--out", str(tmp_path / "r5"))
    assert last.exit_code == 0, last.output
    document = json.loads((tmp_path / "r5" / "findings.json").read_text())
    assert {f["status"] for f in document["findings"]} == {"recurring"}  # compared with run 1
    assert all(len(f["history"]) == 2 for f in document["findings"])  # run 1 and now, no empty runs
    with Store(db, read_only=True) as store:
        runs = list_runs(store)
    assert [r.status for r in runs] == ["ok", "empty", "empty", "empty", "ok"]
    assert all(r.statuses["resolved"] == 0 and r.statuses["regressed"] == 0 for r in runs)
    assert len(fake.github) == issues and all(i["state"] == "open" for i in fake.github.values())
    assert not [c for c in fake.calls("PATCH") if "state" in (c.body or {})]  # nothing closed or reopened


def test_all_rejected_input_on_the_default_archive(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRACEMINE_DB", raising=False)
    Path("bad.jsonl").write_text('{"hello": 1}\n{"not": "a span"}\n')
    result = CliRunner().invoke(main, ["mine", "bad.jsonl", "-q"], catch_exceptions=False)
    assert result.exit_code == EXIT_EMPTY, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("Empty run 1"))
    assert "2 record(s) rejected" in line and line.endswith("see tracemine stats --quarantine")  # default: no --db
    assert not Path("tracemine-report").exists()
    assert Path(DEFAULT_DB).exists()
    empty = tracemine.mine("bad.jsonl", db="api.duckdb")  # the Python API says so too
    assert empty.status == "empty" and len(empty) == 0 and "rejected" in (empty.note or "")


def test_publishing_an_empty_run_says_it_was_empty(tmp_path: Path, fake: FakeTrackers, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    config = tmp_path / "publish.yaml"
    config.write_text(yaml.safe_dump(settings(fake, min_severity="low")))
    db = tmp_path / "h.duckdb"
    with Store(db) as store:
        found = [finding("tm-a", 10)]
        assign_statuses(store, found)
        save_run(store, RunRecord(None, None, 100, 1000, 10, None), found, 1)
        save_run(store, RunRecord(None, None, 0, 0, 0, None, status="empty", note="no traces in the window"), [], 0)
    runner = CliRunner()
    result = runner.invoke(main, ["--config", str(config), "publish", "--db", str(db), "--run", "2", "--dry-run"])
    assert result.exit_code == 2
    assert "mine run 2 was empty (no traces in the window)" in result.output and "latest run with findings is 1" \
        in result.output
    result = runner.invoke(main, ["--config", str(config), "publish", "--db", str(db), "--run", "7", "--dry-run"])
    assert result.exit_code == 2 and "no mine run 7" in result.output
