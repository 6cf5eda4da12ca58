"""Fix verification (`tracemine fix`): the exact test against known values, the verdict rules, and end to
end on synthetic archives — a window with a failure mode, the fix recorded, then a later window without
the mode (fix-verified), with it (fix-not-effective), too small (awaiting-data), and a verified mode
coming back (regressed, reopening its tracker issue through the regressed status)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from publish_server import FakeTrackers
from tracemine.cli import main
from tracemine.fixes import FixStatus, Rate, fisher_less, traces_needed, verdict
from tracemine.history import HistorySettings
from tracemine.model import Finding, Impact
from tracemine.publish.render import comment_blocks, render, to_markdown
from tracemine.redact import Redactor
from tracemine.report.jsonout import validate_document
from tracemine.store import Store
from tracemine.store.publish_records import list_issues
from tracemine.synth import DEFAULT_RATES, SynthConfig, generate

FIX_DAY = "2026-11-08"
TOKEN = "ghp_Recognisable0Secret0Token0XYZ"
NO_FAILURES = {kind: 0.0 for kind in DEFAULT_RATES}


# -- the exact test ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("before", "after", "expected"), [
    # scipy.stats.fisher_exact([[oa, ta - oa], [ob, tb - ob]], alternative="less")
    ((3, 10), (0, 10), 0.10526315789473684),
    ((21, 200), (0, 200), 2.7411481581268254e-07),
    ((131, 4223), (0, 4210), 1.6168006737817553e-40),
    ((5, 300), (0, 300), 0.030729607973087474),
    ((10, 100), (8, 100), 0.40279901829331616),
    ((40, 1000), (3, 1000), 1.07353606679225e-09),
    ((0, 100), (0, 100), 1.0),
])
def test_fisher_less_matches_known_values(before: tuple[int, int], after: tuple[int, int], expected: float) -> None:
    assert fisher_less(before[0], before[1], after[0], after[1]) == pytest.approx(expected, rel=1e-9)


def test_fisher_less_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError):
        fisher_less(5, 3, 0, 10)


def test_traces_needed_is_the_first_count_below_alpha() -> None:
    needed = traces_needed(5, 300, 0, 0.01)
    assert needed == 451
    assert fisher_less(5, 300, 0, needed) < 0.01 <= fisher_less(5, 300, 0, needed - 1)
    assert traces_needed(5, 300, 2, 0.01) > needed  # occurrences since the fix need more traces
    assert traces_needed(0, 300, 0, 0.01) is None  # nothing before the fix to compare with


def test_verdict_rules() -> None:
    before = Rate(200, 20)
    assert verdict(before, Rate(10, 0), False, None, 0.01, 0.2)[0] == FixStatus.AWAITING
    status, p_value, needed = verdict(before, Rate(200, 0), False, None, 0.01, 0.2)
    assert status == FixStatus.VERIFIED and p_value < 1e-6 and needed is not None and needed < 200
    assert verdict(before, Rate(200, 19), True, None, 0.01, 0.2)[0] == FixStatus.NOT_EFFECTIVE
    halved = verdict(Rate(2000, 200), Rate(2000, 100), True, None, 0.01, 0.2)  # significant, not gone
    assert halved[0] == FixStatus.NOT_EFFECTIVE and halved[1] < 0.01
    assert verdict(Rate(2000, 200), Rate(2000, 100), True, None, 0.01, 0.6)[0] == FixStatus.VERIFIED
    assert verdict(before, Rate(300, 1), True, FixStatus.VERIFIED, 0.01, 0.2)[0] == FixStatus.REGRESSED
    assert verdict(before, Rate(300, 0), False, FixStatus.REGRESSED, 0.01, 0.2)[0] == FixStatus.REGRESSED
    assert verdict(before, Rate(300, 0), False, FixStatus.VERIFIED, 0.01, 0.2)[0] == FixStatus.VERIFIED
    assert verdict(Rate(200, 0), Rate(300, 0), False, None, 0.01, 0.2)[:3:2] == (FixStatus.AWAITING, None)


def test_fix_settings_are_validated() -> None:
    assert HistorySettings.from_settings({"fix_alpha": 0.05}).fix_alpha == 0.05
    for bad in ({"fix_alpha": 0}, {"fix_alpha": 1.5}, {"fix_max_residual": 1}, {"fix_alpha": "0.05"},
                {"fix_alpha": True}, {"fix_alpha_typo": 0.1}):
        with pytest.raises(ValueError):
            HistorySettings.from_settings(bad)


# -- end to end on synthetic archives --------------------------------------------------------------------


def _traces(out: Path, seed: int, end: str, loop_rate: float, traces: int = 200, days: float = 7) -> Path:
    """Synthetic travel-agent traces over the ``days`` before ``end``, loops as the only failure mode."""
    generate(SynthConfig(traces=traces, seed=seed, days=days, end_time=f"{end}T00:00:00Z",
                         rates={**NO_FAILURES, "loop": loop_rate}, agents=("travel-agent",)), out)
    return out


def _mine(db: Path, out: Path, *args: str) -> dict:
    result = CliRunner().invoke(main, ["mine", *args, "--db", str(db), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    document = json.loads((out / "findings.json").read_text())
    validate_document(document)
    return document


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """An archive mined over a week with loops in 20 % of traces, and the fix of its largest loop recorded."""
    tmp = tmp_path_factory.mktemp("fixes")
    db = tmp / "a.duckdb"
    first = _mine(db, tmp / "r1", str(_traces(tmp / "before", 1, FIX_DAY, 0.2)))
    largest = max((f for f in first["findings"] if "loop" in f["kinds"]), key=lambda f: f["impact"]["traces"])
    assert largest["impact"]["traces"] >= 10
    recorded = CliRunner().invoke(main, ["fix", largest["fingerprint"][:9], "--at", FIX_DAY, "--db", str(db),
                                         "--note", "cap repeated replies (mail ops@example.com)",
                                         "--ref", "https://github.com/acme/agent/pull/42"])
    assert recorded.exit_code == 0, recorded.output
    assert f"recorded the fix of {largest['fingerprint']} at {FIX_DAY} 00:00:00Z" in recorded.output
    return {"tmp": tmp, "db": db, "fingerprint": largest["fingerprint"], "before": largest["impact"]["traces"]}


def _copy(fixed: dict, tmp_path: Path) -> Path:
    db = tmp_path / "copy.duckdb"
    shutil.copy(fixed["db"], db)
    return db


def _fix_of(document: dict, fingerprint: str) -> dict:
    [fix] = [f for f in document["fixes"] if f["fingerprint"] == fingerprint]
    return fix


def test_fix_verified_when_the_mode_is_gone_then_regressed_when_it_returns(fixed: dict, tmp_path: Path) -> None:
    db, fingerprint = _copy(fixed, tmp_path), fixed["fingerprint"]
    after = _traces(tmp_path / "after", 2, "2026-11-15", 0.0)
    # one open window over both weeks: the first week's traces are counted once, though two runs examined them
    document = _mine(db, tmp_path / "r2", str(after))
    fix = _fix_of(document, fingerprint)
    assert fix["status"] == "fix-verified", fix
    assert fix["before"] == {"traces": 200, "occurrences": fixed["before"], "share": fixed["before"] / 200}
    assert fix["after"] == {"traces": 200, "occurrences": 0, "share": 0.0}
    assert fix["p_value"] < 0.001 and fix["traces_needed"] <= 200
    assert fix["found"] is True  # in the first week's traces, which this window holds too
    assert fix["note"] == "cap repeated replies (mail [REDACTED:email])"  # stored redacted
    [finding] = [f for f in document["findings"] if f["fingerprint"] == fingerprint]
    assert finding["fix"] == fix and finding["status"] == "recurring"
    report = (tmp_path / "r2" / "report.md").read_text()
    assert "- **Fix:** **fix-verified**" in report

    # a window after the fix only: the mode is not found at all, and the fix is still reported
    document = _mine(db, tmp_path / "r3", "--since", FIX_DAY)
    fix = _fix_of(document, fingerprint)
    assert fix["status"] == "fix-verified" and fix["found"] is False and fix["after"]["occurrences"] == 0
    assert fingerprint not in {f["fingerprint"] for f in document["findings"]}
    report = (tmp_path / "r3" / "report.md").read_text()
    assert "## Fixes" in report and "(not found in this window)" in report
    assert f"since the fix on {FIX_DAY}: 0 of 200 traces (0.0%), was {fixed['before'] / 2:.1f}%" in report
    assert "p &lt; 0.001" in report and "[change](https://github.com/acme/agent/pull/42)" in report
    html = (tmp_path / "r3" / "report.html").read_text()
    assert 'class="badge fix fix-fix-verified"' in html and 'href="https://github.com/acme/agent/pull/42"' in html

    runner = CliRunner()
    listed = runner.invoke(main, ["fix", "--list", "--json", "--db", str(db)])
    [record] = json.loads(listed.output)
    assert record["status"] == "fix-verified" and record["run_id"] == 3 and record["check"]["p_value"] < 0.001
    shown = runner.invoke(main, ["show", fingerprint, "--db", str(db)])
    assert shown.exit_code == 0 and "fix-verified" in shown.output
    assert f"since the fix on {FIX_DAY}: 0 of 200 traces" in shown.output and "pull/42" in shown.output

    # its tracker issue, published from run 2 (found there), closed by hand once the fix was verified
    with FakeTrackers(token=TOKEN) as fake:
        config = tmp_path / "publish.yaml"
        config.write_text(yaml.safe_dump({"publish": {
            "min_severity": "low", "reopen_regressed": True, "comment_on_update": True,
            "github": {"repo": "acme/agents", "api_url": f"{fake.url}/gh", "token_env": "GITHUB_TOKEN"}}}))
        publish = ["--config", str(config), "publish", "--db", str(db), "--to", "github"]
        env = {"GITHUB_TOKEN": TOKEN}
        assert runner.invoke(main, [*publish, "--run", "2"], env=env).exit_code == 0
        with Store(db, read_only=True) as store:
            number = int({r.fingerprint: r.issue_key for r in list_issues(store)}[fingerprint])
        assert "**fix-verified** — since the fix on 2026-11-08" in fake.github[number]["body"]
        fake.github[number]["state"] = "closed"

        back = _traces(tmp_path / "back", 4, "2026-11-22", 0.2)
        document = _mine(db, tmp_path / "r4", str(back), "--since", "2026-11-15")
        fix = _fix_of(document, fingerprint)
        assert fix["status"] == "regressed" and fix["found"] is True and fix["after"]["occurrences"] > 0
        [finding] = [f for f in document["findings"] if f["fingerprint"] == fingerprint]
        assert finding["status"] == "regressed" and finding["fix"]["status"] == "regressed"
        published = runner.invoke(main, publish, env=env)
        assert published.exit_code == 0, published.output
        assert fake.github[number]["state"] == "open"  # reopened through the regressed status
        comment = fake.github_comments[number][-1]
        assert "Regressed: reopened (tracemine run 4)" in comment and "**Fix:** regressed" in comment
        assert "verified before, found again since" in comment
    again = _mine(db, tmp_path / "r5", "--since", "2026-11-15")  # stays regressed; the finding recurs
    assert _fix_of(again, fingerprint)["status"] == "regressed"
    assert [f["status"] for f in again["findings"] if f["fingerprint"] == fingerprint] == ["recurring"]


def test_fix_not_effective_when_the_mode_stays(fixed: dict, tmp_path: Path) -> None:
    db, fingerprint = _copy(fixed, tmp_path), fixed["fingerprint"]
    document = _mine(db, tmp_path / "r2", str(_traces(tmp_path / "after", 3, "2026-11-15", 0.2)),
                     "--since", FIX_DAY)
    fix = _fix_of(document, fingerprint)
    assert fix["status"] == "fix-not-effective", fix
    assert fix["found"] is True and fix["after"]["traces"] == 200 and fix["after"]["occurrences"] >= 10
    assert fix["p_value"] > 0.01
    [finding] = [f for f in document["findings"] if f["fingerprint"] == fingerprint]
    assert finding["fix"]["status"] == "fix-not-effective" and finding["status"] == "recurring"
    report = (tmp_path / "r2" / "report.md").read_text()
    assert "- **Fix:** **fix-not-effective**" in report


def test_awaiting_data_says_how_many_traces_are_needed(fixed: dict, tmp_path: Path) -> None:
    db, fingerprint = _copy(fixed, tmp_path), fixed["fingerprint"]
    document = _mine(db, tmp_path / "r2", str(_traces(tmp_path / "after", 5, "2026-11-09", 0.0, traces=5, days=1)),
                     "--since", FIX_DAY)
    fix = _fix_of(document, fingerprint)
    assert fix["status"] == "awaiting-data" and fix["after"] == {"traces": 5, "occurrences": 0, "share": 0.0}
    assert fix["traces_needed"] == traces_needed(fix["before"]["occurrences"], 200, 0, 0.01) > 5
    report = (tmp_path / "r2" / "report.md").read_text()
    assert f"needs {fix['traces_needed']} traces since the fix to tell (has 5)" in report


def test_fix_command_records_updates_and_refuses(fixed: dict, tmp_path: Path) -> None:
    db, fingerprint = _copy(fixed, tmp_path), fixed["fingerprint"]
    runner = CliRunner()

    def fix(*args: str) -> object:
        return runner.invoke(main, ["fix", *args, "--db", str(db)])

    again = fix(fingerprint, "--at", "2026-11-08T12:00:00Z", "--note", "second try")
    assert again.exit_code == 0 and "updated the fix" in again.output
    [record] = json.loads(fix("--list", "--json").output)
    assert record["at"] == "2026-11-08T12:00:00.000000Z" and record["note"] == "second try" and record["ref"] is None
    unknown = fix("tm-0000000000", "--at", "now")
    assert unknown.exit_code == 2 and "no finding 'tm-0000000000' in the archive" in unknown.output
    assert fix(fingerprint, "--at", "yesterday-ish").exit_code == 2
    assert "must be an http:// or https:// URL" in fix(fingerprint, "--at", "now", "--ref", "javascript:alert(1)").output
    secret = fix(fingerprint, "--at", "now", "--ref", "https://x.io/?token=ghp_abcdefghijklmnopqrstuvwxyz0123456789")
    assert secret.exit_code == 2 and "holds a secret" in secret.output
    assert "--at TIME is required" in fix(fingerprint).output
    assert fix(fingerprint, "--at", "2d ago").exit_code == 0
    assert fix(fingerprint[:8], "--remove").exit_code == 0
    assert json.loads(fix("--list", "--json").output) == []
    assert "no fix recorded" in fix("--list").output
    assert fix(fingerprint, "--remove").exit_code == 2


def test_fix_of_an_ambiguous_prefix_is_refused(tmp_path: Path) -> None:
    from tracemine.history import RunRecord, save_run

    db = tmp_path / "h.duckdb"
    with Store(db) as store:
        findings = [Finding(fingerprint=fp, title=fp, summary="s", mechanism="m", recommended_fix="f", severity="high",
                            kinds=["loop"], impact=Impact(traces=1, window_traces=10), trace_ids=[], span_ids=[],
                            cluster_ids=[]) for fp in ("tm-ab1", "tm-ab2")]
        save_run(store, RunRecord(None, None, 10, 10, 1, None), findings, 2)
    result = CliRunner().invoke(main, ["fix", "ab", "--at", "now", "--db", str(db)])
    assert result.exit_code == 2 and "matches 2 findings" in result.output


def test_tracker_comment_and_body_carry_the_fix() -> None:
    fix = {"fingerprint": "tm-x", "title": "t", "found": False, "at": "2026-12-03T00:00:00.000000Z",
           "at_ns": 1_796_256_000_000_000_000, "note": "retry cap for alice@example.com",
           "ref": "https://github.com/acme/agent/pull/7", "before": {"traces": 4223, "occurrences": 131,
                                                                   "share": 131 / 4223},
           "after": {"traces": 4210, "occurrences": 0, "share": 0.0}, "p_value": 1.6e-40, "alpha": 0.01,
           "max_residual": 0.2, "status": "fix-verified", "traces_needed": 150}
    finding = Finding(fingerprint="tm-x", title="loop", summary="s", mechanism="m", recommended_fix="f",
                      severity="high", kinds=["loop"], impact=Impact(traces=0, window_traces=4210), trace_ids=[],
                      span_ids=[], cluster_ids=[], status="resolved", fix=fix)
    rendered = render(finding, Redactor())
    expected = "since the fix on 2026-12-03: 0 of 4,210 traces (0.0%), was 3.1% (131 of 4,223); p &lt; 0.001"
    assert f"### Fix\n\n**fix-verified** — {expected}" in rendered.markdown
    assert "fix-verified" in json.dumps(rendered.adf) and "p < 0.001" in json.dumps(rendered.adf)
    assert "alice@example.com" not in rendered.markdown and "(https://github.com/acme/agent/pull/7)" in rendered.markdown
    comment = rendered.comment_markdown("resolved", 7)
    assert "**Fix:** fix-verified" in comment and expected in comment
    assert "alice@example.com" not in comment
    plain = dataclasses.replace(finding, fix=None)
    assert "Fix" not in to_markdown(comment_blocks(plain, "updated", 7))


def test_migration_5_adds_fixes_to_an_archive_of_the_previous_release(fixed: dict, tmp_path: Path) -> None:
    import duckdb

    db = _copy(fixed, tmp_path)
    con = duckdb.connect(str(db))  # the layout of schema version 4: no fixes table
    con.execute("DROP TABLE fixes")
    con.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    con.close()
    runner = CliRunner()
    listed = runner.invoke(main, ["fix", "--list", "--db", str(db)])  # read-only: migrates nothing
    assert listed.exit_code == 0 and "no fix recorded" in listed.output
    assert runner.invoke(main, ["show", fixed["fingerprint"], "--db", str(db)]).exit_code == 0
    with Store(db) as store:
        assert store.applied_migrations == [5] and store.has_tables("fixes")
        assert store.con.execute("SELECT count(*) FROM mine_runs").fetchone()[0] == 1  # rows intact
    assert runner.invoke(main, ["fix", fixed["fingerprint"], "--at", FIX_DAY, "--db", str(db)]).exit_code == 0
