"""The nightly record on a multi-day archive mined night after night (`--since/--until`, `--max-findings 1`):
history keeps every finding found with its rank and report cut, `new` means never reported before (and
`--fail-on new` / `new-high` follow it), `diff` compares what was found and tells crossing the report cut
apart, resolved findings are listed once in every report format, `runs` counts found / reported / statuses
/ resolved apart, and a finding counts only the signals inside its run's window."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracemine.cli import EXIT_FAIL_ON, main
from tracemine.history import diff_runs, list_runs
from tracemine.report.jsonout import validate_document
from tracemine.store import Store

PLAN = {  # day of October 2026 → failing write tool → traces (one failing call each)
    10: {"update_alpha": 6, "update_beta": 3, "update_gamma": 2},
    11: {"update_gamma": 6, "update_alpha": 2, "update_delta": 3},
    12: {"update_delta": 4, "update_eps": 2},
    13: {"update_delta": 4, "update_eps": 2},
    14: {"update_delta": 4},
}
FAIL_ON = {10: "new", 11: "new", 12: "new-high", 13: "new", 14: "new"}


def _span(trace_id: str, span_id: str, parent: str, name: str, start: str, end: str, **attrs: str) -> dict:
    return {"trace_id": trace_id, "span_id": span_id, "parent_span_id": parent, "name": name, "start_time": start,
            "end_time": end, "status": {"code": "STATUS_CODE_UNSET", "message": ""}, "events": [],
            "attributes": attrs}


def _trace(n: int, tool: str, calls: list[tuple[str, bool]], start: str, end: str) -> list[dict]:
    """An `ops` agent run calling ``tool`` at each ``(time, ok)``; a failed call returns ``ok: false``."""
    trace_id, agent = f"{n:032x}", f"a{n:015x}"
    spans = [_span(trace_id, agent, "", "invoke_agent ops", start, end,
                   **{"openinference.span.kind": "AGENT", "agent.name": "ops"})]
    for k, (at, ok) in enumerate(calls):
        result = {"ok": True, "id": n} if ok else {"ok": False, "error": "upstream service unavailable"}
        name = tool if not ok else "get_status"
        spans.append(_span(trace_id, f"c{n:013x}{k:02x}", agent, f"execute_tool {name}", at, at,
                           **{"openinference.span.kind": "TOOL", "tool.name": name,
                              "input.value": json.dumps({"id": n}), "output.value": json.dumps(result)}))
    return spans


def _write(path: Path, traces: list[list[dict]]) -> None:
    path.write_text("".join(json.dumps(span) + "\n" for trace in traces for span in trace))


@pytest.fixture(scope="module")
def nightly(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Five nights, one day each, mined with `--max-findings 1` (the data is ingested by the first)."""
    tmp = tmp_path_factory.mktemp("nightly")
    traces, n = [], 0
    for day, tools in PLAN.items():
        for tool, count in tools.items():
            for _ in range(count):
                n += 1
                at = f"2026-10-{day}T10:{n:02d}:05Z"
                traces.append(_trace(n, tool, [(at, False)], f"2026-10-{day}T10:{n:02d}:00Z",
                                     f"2026-10-{day}T10:{n:02d}:30Z"))
    _write(tmp / "traces.jsonl", traces)
    db, runner, runs = tmp / "n.duckdb", CliRunner(), {}
    for run_id, day in enumerate(PLAN, 1):
        args = ["mine", *([str(tmp / "traces.jsonl")] if run_id == 1 else []), "--db", str(db),
                "--since", f"2026-10-{day}", "--until", f"2026-10-{day + 1}", "--max-findings", "1",
                "--out", str(tmp / f"r{run_id}"), "-q", "--fail-on", FAIL_ON[day]]
        runs[run_id] = runner.invoke(main, args, catch_exceptions=False)
    with Store(db, read_only=True) as store:
        fp = {}
        for fingerprint, data in store.con.execute("SELECT DISTINCT fingerprint, data FROM findings").fetchall():
            fp[json.loads(data)["tools"][0].removeprefix("update_")] = fingerprint
    return {"tmp": tmp, "db": db, "runs": runs, "fp": fp}


def _rows(db: Path, run_id: int) -> list[tuple]:
    with Store(db, read_only=True) as store:
        return store.con.execute("SELECT fingerprint, rank, reported, status FROM findings WHERE run_id = ? "
                                 "ORDER BY rank NULLS LAST, fingerprint", [run_id]).fetchall()


def _report(nightly: dict, run_id: int) -> dict:
    return json.loads((nightly["tmp"] / f"r{run_id}" / "findings.json").read_text())


def test_history_keeps_every_finding_found_and_new_means_never_reported(nightly: dict) -> None:
    fp, runs, db = nightly["fp"], nightly["runs"], nightly["db"]
    # run 1 found three, reported one: all three stored with their rank and the cut
    assert _rows(db, 1) == [(fp["alpha"], 1, True, "new"), (fp["beta"], 2, False, "new"),
                            (fp["gamma"], 3, False, "new")]
    assert runs[1].exit_code == EXIT_FAIL_ON
    # run 2: gamma was found below the cut by run 1, never reported: reported now, it is new and the gate fails
    assert _rows(db, 2) == [(fp["gamma"], 1, True, "new"), (fp["delta"], 2, False, "new"),
                            (fp["alpha"], 3, False, "recurring")]
    assert runs[2].exit_code == EXIT_FAIL_ON, runs[2].output
    assert f"--fail-on new: 1 finding(s) {fp['gamma']}" in runs[2].output
    assert [(f["fingerprint"], f["status"]) for f in _report(nightly, 2)["findings"]] == [(fp["gamma"], "new")]
    # run 3: delta, found below the cut by run 2, is reported for the first time: new-high fails too
    assert _rows(db, 3)[0] == (fp["delta"], 1, True, "new")
    assert runs[3].exit_code == EXIT_FAIL_ON and f"--fail-on new-high: 1 finding(s) {fp['delta']}" in runs[3].output
    # run 4: delta was reported before: recurring, the gate passes (eps below the cut is never gated)
    assert _rows(db, 4)[:2] == [(fp["delta"], 1, True, "recurring"), (fp["eps"], 2, False, "new")]
    assert runs[4].exit_code == 0 and runs[5].exit_code == 0


def test_diff_compares_what_was_found_and_marks_the_report_cut(nightly: dict) -> None:
    fp, db = nightly["fp"], nightly["db"]
    with Store(db, read_only=True) as store:
        change = diff_runs(store, 1, 2)
    assert [f.fingerprint for f in change.appeared] == [fp["delta"]]  # found by run 2 only (below its cut)
    assert [f.fingerprint for f in change.disappeared] == [fp["beta"]]  # found by run 1 only
    assert {a.fingerprint for a, _ in change.changed} == {fp["alpha"], fp["gamma"]}  # found by both
    assert [b.fingerprint for _, b in change.rose] == [fp["gamma"]]
    assert [a.fingerprint for a, _ in change.fell] == [fp["alpha"]]  # still found (rank 3): not disappeared
    assert change.ranks_a[fp["alpha"]] == (1, True) and change.ranks_b[fp["alpha"]] == (3, False)

    out = CliRunner(env={"COLUMNS": "160"}).invoke(main, ["diff", "1", "2", "--db", str(db)]).output
    assert "1 appeared, 1 disappeared, 2 in both (1 rose above the report cut, 1 dropped below it)" in out
    labels = {fingerprint: line.split(fingerprint)[0].strip() for line in out.splitlines()
              for fingerprint in fp.values() if fingerprint in line and not line.startswith(fingerprint)}
    assert labels == {fp["delta"]: "appeared", fp["beta"]: "disappeared", fp["gamma"]: "above cut",
                      fp["alpha"]: "below cut"}
    alpha = next(line for line in out.splitlines() if line.startswith("below cut"))
    assert alpha.split()[3:5] == ["#1", "#3"] and "(cut)" in alpha
    for line in out.splitlines():  # each count once: no "(6 traces, 55 %) (6 traces, 54.5%)"
        assert len(re.findall(r"\d traces?\b", line)) <= 1, line
        shares = re.findall(r"\d+\.\d ?%", line)
        assert len(shares) == len(set(shares)), line


def test_resolved_findings_are_listed_once_in_every_report(nightly: dict) -> None:
    fp, runs, tmp = nightly["fp"], nightly["runs"], nightly["tmp"]
    # alpha (reported by run 1) and gamma (reported by run 2) were last found by run 2: absent from runs 3
    # and 4, run 4 resolves them; beta was never reported, so it is never resolved
    document = _report(nightly, 4)
    validate_document(document)
    assert document["schema_version"] == "1.3"
    resolved = {r["fingerprint"]: r for r in document["resolved"]}
    assert set(resolved) == {fp["alpha"], fp["gamma"]}
    for fingerprint in resolved:
        note = resolved[fingerprint]
        assert note["status"] == "resolved" and note["last_run"] == 2 and note["absent_runs"] == 2
        assert note["last_seen"].startswith("2026-10-11T10:") and note["last_run_started_ns"]
        assert fingerprint not in {f["fingerprint"] for f in document["findings"]}
    assert resolved[fp["gamma"]]["traces"] == 6
    markdown = (tmp / "r4" / "report.md").read_text()
    html = (tmp / "r4" / "report.html").read_text()
    for fingerprint in resolved:
        assert markdown.count(fingerprint) == 1 and html.count(f"<code>{fingerprint}</code>") == 1
        line = next(line for line in markdown.splitlines() if fingerprint in line)
        assert "last found by run 2" in line and "absent for 2 runs" in line
        assert runs[4].output.count(f"resolved {fingerprint}") == 1
    assert "## Resolved" in markdown and 'id="resolved"' in html and html.count("absent for 2 runs") == 2
    for run_id in (1, 2, 3, 4, 5):
        for name in ("report.md", "report.html"):
            assert fp["beta"] not in (tmp / f"r{run_id}" / name).read_text()  # never reported, never resolved
    for run_id in (1, 2, 3, 5):  # listed once, in the run that resolves them: never before, never again
        assert _report(nightly, run_id)["resolved"] == []
        for name in ("report.md", "report.html"):
            text = (tmp / f"r{run_id}" / name).read_text()
            assert run_id < 3 or (fp["alpha"] not in text and fp["gamma"] not in text)
    assert all("resolved tm-" not in runs[r].output for r in (1, 2, 3, 5))


def test_runs_counts_found_reported_statuses_and_resolved_apart(nightly: dict) -> None:
    with Store(nightly["db"], read_only=True) as store:
        summary = {r.run_id: r for r in list_runs(store, None)}
    assert [(summary[r].findings, summary[r].reported) for r in range(1, 6)] == [(3, 1), (3, 1), (2, 1), (2, 1),
                                                                               (1, 1)]
    assert summary[4].statuses == {"new": 0, "recurring": 1, "regressed": 0, "resolved": 2}
    assert summary[2].statuses == {"new": 1, "recurring": 0, "regressed": 0, "resolved": 0}

    out = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["runs", "--db", str(nightly["db"])]).output
    header, *lines = out.splitlines()

    def cell(line: str, name: str) -> str:  # right-aligned: the value ends where its header ends
        end = re.search(rf"\b{name}\b", header).end()
        return line[:end].split()[-1]

    row = next(line for line in lines if line.split()[0] == "4")
    assert [cell(row, c) for c in ("found", "reported", "new", "recurring", "regressed", "resolved")] == \
        ["2", "1", "0", "1", "0", "2"]


def test_a_finding_counts_only_signals_inside_its_window(tmp_path: Path) -> None:
    """Two traces cross midnight into the window: one fails before and after it (one signal inside), one only
    before it (none inside, so it is not the finding's); two fail inside, two on the day before."""
    traces = [
        _trace(1, "update_zeta", [("2026-10-20T23:59:52Z", False), ("2026-10-21T00:00:10Z", False)],
               "2026-10-20T23:59:50Z", "2026-10-21T00:00:30Z"),
        _trace(2, "update_zeta", [("2026-10-20T23:59:45Z", False), ("2026-10-21T00:00:05Z", True)],
               "2026-10-20T23:59:40Z", "2026-10-21T00:00:20Z"),
        *(_trace(n, "update_zeta", [(f"2026-10-21T1{n}:00:05Z", False)], f"2026-10-21T1{n}:00:00Z",
                 f"2026-10-21T1{n}:00:30Z") for n in (3, 4)),
        *(_trace(n, "update_zeta", [(f"2026-10-20T1{n}:00:05Z", False)], f"2026-10-20T1{n}:00:00Z",
                 f"2026-10-20T1{n}:00:30Z") for n in (5, 6)),
    ]
    _write(tmp_path / "edge.jsonl", traces)
    result = CliRunner().invoke(main, ["mine", str(tmp_path / "edge.jsonl"), "--db", str(tmp_path / "e.duckdb"),
                                       "--since", "2026-10-21", "--until", "2026-10-22", "--out",
                                       str(tmp_path / "r"), "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "r" / "findings.json").read_text())
    since, until = document["window"]["since_ns"], document["window"]["until_ns"]
    for f in document["findings"]:  # no finding made of, or counting, signals from before --since
        assert since <= f["first_seen_ns"], f["title"]
        assert sum(bucket["signals"] for bucket in f["timeline"]) == f["impact"]["signals"], f["title"]
    (finding,) = document["findings"]
    assert finding["impact"]["signals"] == 3 and finding["impact"]["traces"] == 3
    assert finding["trace_ids"] == [f"{n:032x}" for n in (1, 3, 4)]
    assert since <= finding["first_seen_ns"] <= finding["last_seen_ns"] < until
    assert finding["first_seen"].startswith("2026-10-21T00:00")
    assert sum(bucket["signals"] for bucket in finding["timeline"]) == finding["impact"]["signals"]
    assert all(since - 3_600_000_000_000 < bucket["start_ns"] < until for bucket in finding["timeline"])
    assert "2 signals outside the window left out" in result.output
