"""Run history: statuses across runs (new, recurring, regressed, resolved), `tracemine runs` / `diff`,
`--fail-on` exit codes, retention (`prune`), the archive lock and interrupted runs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracemine.cli import EXIT_FAIL_ON, main
from tracemine.history import (
    HistorySettings,
    RunRecord,
    assign_statuses,
    diff_runs,
    list_runs,
    run_findings,
    save_run,
    trends,
)
from tracemine.model import Finding, Impact
from tracemine.store import Store


def finding(fp: str, traces: int, window: int = 100, severity: str = "high") -> Finding:
    return Finding(fingerprint=fp, title=f"finding {fp}", summary="s", mechanism="m", recommended_fix="f",
                   severity=severity, kinds=["loop"], impact=Impact(traces=traces, window_traces=window),
                   trace_ids=[f"{fp}-{i}" for i in range(traces)], span_ids=[], cluster_ids=[])


def run(store: Store, findings: list[Finding], settings: HistorySettings | None = None) -> list[Finding]:
    """One mine run's bookkeeping: statuses, then the run saved with the findings it resolves."""
    gone = assign_statuses(store, findings, settings)
    save_run(store, RunRecord(None, None, 100, 1000, 10, None), findings + gone, len(findings))
    return gone


def test_statuses_follow_the_runs(tmp_path: Path) -> None:
    settings = HistorySettings(regressed_factor=1.5, resolved_after_runs=2)
    with Store(tmp_path / "h.duckdb") as store:
        first = [finding("tm-a", 10), finding("tm-b", 4)]
        assert run(store, first, settings) == []
        assert [f.status for f in first] == ["new", "new"]

        second = [finding("tm-a", 11), finding("tm-b", 9)]  # b more than doubled its share
        assert run(store, second, settings) == []
        assert [f.status for f in second] == ["recurring", "regressed"]

        third = [finding("tm-a", 10)]  # b absent once: not yet resolved
        assert run(store, third, settings) == []
        fourth = [finding("tm-a", 10), finding("tm-c", 3)]  # b absent twice: resolved now
        gone = run(store, fourth, settings)
        assert [(f.fingerprint, f.status) for f in gone] == [("tm-b", "resolved")]
        assert [f.status for f in fourth] == ["recurring", "new"]
        assert run(store, [finding("tm-a", 10)], settings) == []  # c absent once: not yet resolved
        assert [f.fingerprint for f in run(store, [finding("tm-a", 10)], settings)] == ["tm-c"]
        assert run(store, [finding("tm-a", 10)], settings) == []  # resolved only once

        back = [finding("tm-a", 10), finding("tm-b", 4)]  # b is back after being resolved
        run(store, back, settings)
        assert back[1].status == "regressed"

        trend = trends(store, [finding("tm-a", 20)], runs=4)["tm-a"]
        assert [share for _, share in trend] == [0.1, 0.1, 0.1, 0.2] and trend[-1][0] == "now"
        latest = list_runs(store, limit=1)[0]
        assert latest.statuses["regressed"] == 1 and latest.reported == 2
        resolved_run = list_runs(store)[-4]
        assert resolved_run.statuses["resolved"] == 1
        change = diff_runs(store, 1, 4)
        assert [f.fingerprint for f in change.appeared] == ["tm-c"]
        assert [f.fingerprint for f in change.disappeared] == ["tm-b"]
        with pytest.raises(LookupError):
            diff_runs(store, 1, 99)
        reported = run_findings(store, 4, reported_only=True)
        assert {(f.fingerprint, f.status) for f in reported} == {("tm-a", "recurring"), ("tm-c", "new"),
                                                                 ("tm-b", "resolved")}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("hist")
    runner = CliRunner()
    data = tmp / "traces"
    assert runner.invoke(main, ["synth", "--traces", "300", "--seed", "9", "--out", str(data)]).exit_code == 0
    db = tmp / "h.duckdb"
    first = runner.invoke(main, ["mine", str(data), "--db", str(db), "--out", str(tmp / "r1"), "-q",
                                 "--fail-on", "new-high"])
    return {"tmp": tmp, "db": db, "data": data, "first": first}


def test_nightly_reruns_recur_and_gate(archive: dict) -> None:
    runner = CliRunner()
    first = archive["first"]
    assert first.exit_code == EXIT_FAIL_ON, first.output  # a fresh archive: every high finding is new
    assert "--fail-on new-high" in first.output
    second = runner.invoke(main, ["mine", "--db", str(archive["db"]), "--out", str(archive["tmp"] / "r2"), "-q",
                                  "--fail-on", "new-high"])
    assert second.exit_code == 0, second.output
    document = json.loads((archive["tmp"] / "r2" / "findings.json").read_text())
    assert {f["status"] for f in document["findings"]} == {"recurring"}
    assert all(len(f["history"]) == 2 for f in document["findings"])  # previous run + now
    assert "recurring" in second.output
    listing = runner.invoke(main, ["runs", "--db", str(archive["db"])])
    lines = listing.output.splitlines()  # a header, then one line per run, newest first
    assert listing.exit_code == 0 and len(lines) == 3 and lines[1].split()[0] == "2" and lines[2].split()[0] == "1"
    change = runner.invoke(main, ["diff", "1", "2", "--db", str(archive["db"])])
    assert change.exit_code == 0 and "0 appeared, 0 disappeared" in change.output
    assert runner.invoke(main, ["diff", "1", "7", "--db", str(archive["db"])]).exit_code == 2


def test_prune_keeps_cited_traces(archive: dict, tmp_path: Path) -> None:
    import shutil

    db = tmp_path / "copy.duckdb"
    shutil.copy(archive["db"], db)
    with Store(db, read_only=True) as store:
        cited = {t for f in run_findings(store) for t in f.trace_ids}
        before = store.con.execute("SELECT count(DISTINCT trace_id) FROM spans").fetchone()[0]
    runner = CliRunner()
    dry = runner.invoke(main, ["prune", "--db", str(db), "--older-than", "1d", "--dry-run"])
    assert dry.exit_code == 0 and "would drop" in dry.output
    result = runner.invoke(main, ["prune", "--db", str(db), "--older-than", "1d"])  # synthetic spans are weeks old
    assert result.exit_code == 0, result.output
    with Store(db, read_only=True) as store:
        left = {r[0] for r in store.con.execute("SELECT DISTINCT trace_id FROM spans").fetchall()}
        assert left == cited and len(left) < before
        assert run_findings(store)  # history kept
    shown = runner.invoke(main, ["show", sorted(cited)[0], "--db", str(db)])
    assert shown.exit_code == 0, shown.output
    assert runner.invoke(main, ["prune", "--db", str(db), "--older-than", "soon"]).exit_code == 2


def test_interrupted_run_leaves_the_archive_consistent(archive: dict, tmp_path: Path, monkeypatch) -> None:
    import shutil

    import tracemine
    from tracemine import pipeline

    db = tmp_path / "copy.duckdb"
    shutil.copy(archive["db"], db)
    with Store(db, read_only=True) as store:
        runs_before = len(list_runs(store, None))

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "_summarise", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tracemine.mine(db=db)
    monkeypatch.undo()
    result = tracemine.mine(db=db)
    assert len(result) > 0
    with Store(db, read_only=True) as store:
        assert len(list_runs(store, None)) == runs_before + 1


def test_a_second_run_waits_for_the_archive_or_says_why(archive: dict, tmp_path: Path) -> None:
    import shutil

    db = tmp_path / "locked.duckdb"
    shutil.copy(archive["db"], db)
    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(db)!r}); "
                               "print('held', flush=True); time.sleep(3)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        runner = CliRunner()
        busy = runner.invoke(main, ["mine", "--db", str(db), "-q", "--out", str(tmp_path / "r")])
        assert busy.exit_code == 2 and "in use by another tracemine process" in busy.output
        started = time.monotonic()
        waited = runner.invoke(main, ["mine", "--db", str(db), "-q", "--out", str(tmp_path / "r"), "--wait", "30"])
        assert waited.exit_code == 0, waited.output
        assert time.monotonic() - started >= 1
    finally:
        holder.wait(timeout=30)


def test_mine_publishes_dry_run_without_sending_or_leaking(archive: dict, tmp_path: Path, monkeypatch) -> None:
    secret = "whsec-do-not-print-7f3a9c2e"
    monkeypatch.setenv("TRACEMINE_WEBHOOK_SECRET", secret)
    config = tmp_path / "publish.yaml"
    config.write_text("publish:\n  min_severity: low\n  webhook:\n    url: http://127.0.0.1:9/tracemine\n")
    import shutil

    db = tmp_path / "p.duckdb"
    shutil.copy(archive["db"], db)
    result = CliRunner().invoke(main, ["--config", str(config), "mine", "--db", str(db), "-q", "--out",
                                       str(tmp_path / "r"), "--publish", "webhook", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:9/tracemine" in result.output and secret not in result.output
    with Store(db, read_only=True) as store:
        tables = {r[0] for r in store.con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "publish_issues" in tables:
            assert store.con.execute("SELECT count(*) FROM publish_issues").fetchone()[0] == 0
