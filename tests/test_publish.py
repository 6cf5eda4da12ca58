"""tracemine publish: GitHub, GitLab, Jira and webhook publishers against a local fake server (real httpx
client), idempotence across runs, marker recovery, reopen/close, retries, failures, dry runs, secrets."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from publish_server import FakeTrackers
from tracemine.cli import main
from tracemine.history import RunRecord, save_run
from tracemine.model import Exemplar, Finding, Impact
from tracemine.publish import PublishConfigError, load_publish_settings, publish_run
from tracemine.publish.http import parse_retry_after
from tracemine.publish.render import has_marker, marker, render
from tracemine.publish.webhook import sign, verify
from tracemine.redact import Redactor
from tracemine.store import Store
from tracemine.store.publish_records import TABLE, list_issues

TOKEN = "ghp_Recognisable0Secret0Token0XYZ"
JIRA_EMAIL = "publisher@example.com"
JIRA_TOKEN = "jira_Recognisable0Secret0Token"
HOOK_SECRET = "whsec_Recognisable0Secret"
ENV = {"GITHUB_TOKEN": TOKEN, "GITLAB_TOKEN": TOKEN, "JIRA_EMAIL": JIRA_EMAIL, "JIRA_API_TOKEN": JIRA_TOKEN,
       "TRACEMINE_WEBHOOK_SECRET": HOOK_SECRET}
T0 = 1_793_534_400_000_000_000


def make_finding(fp: str, *, severity: str = "high", traces: int = 12, status: str = "new",
                 title: str | None = None) -> Finding:
    return Finding(
        fingerprint=fp,
        title=title or f"`lookup_weather` reports OK while returning `upstream timeout` ({fp})",
        summary="The weather tool returns status OK but its result says `upstream timeout`. <img src=x>",
        mechanism="The HTTP client swallows 504 responses.",
        recommended_fix="Raise on HTTP >= 400 in `lookup_weather`.",
        severity=severity,
        kinds=["silent_failure"],
        impact=Impact(traces=traces, window_traces=200, signals=traces + 3, tokens_wasted=5_000,
                      latency_wasted_ms=12_000.0, cost_wasted_usd=0.12),
        trace_ids=[f"{i:032x}" for i in range(traces)],
        span_ids=[f"{i:016x}" for i in range(traces)],
        cluster_ids=["silent_failure:1"],
        tools=["lookup_weather"], agents=["travel-agent"], models=["gpt-4o-mini"],
        first_seen_ns=T0 - 86_400 * 10**9, last_seen_ns=T0,
        exemplars=[Exemplar(f"{0:032x}", [f"{0:016x}"], 'result: {"error": "upstream timeout"} key sk-abcdefghijklmnopqrstuvwx1234')],
        status=status, score=0.5,
    )


FP_A, FP_B = "tm-aaaa1111bbbb", "tm-cccc2222dddd"


def settings(fake: FakeTrackers, **publish: Any) -> dict[str, Any]:
    section: dict[str, Any] = {
        "min_severity": "medium", "min_traces": 1, "labels": ["tracemine", "agents"], "assignees": [],
        "close_resolved": True, "reopen_regressed": True, "comment_on_update": True, "retries": 3,
        "timeout_s": 5, "report_url": "https://reports.example/latest/report.html",
        "github": {"repo": "acme/agents", "api_url": f"{fake.url}/gh", "token_env": "GITHUB_TOKEN"},
        "gitlab": {"project": "acme/agents", "api_url": f"{fake.url}/gl/api/v4", "token_env": "GITLAB_TOKEN"},
        "jira": {"base_url": f"{fake.url}/jira", "project_key": "TM"},
        "webhook": {"url": f"{fake.url}/hook"},
    }
    for key, value in publish.items():
        if isinstance(value, dict) and isinstance(section.get(key), dict):
            section[key] = {**section[key], **value}
        else:
            section[key] = value
    return {"publish": section}


@pytest.fixture
def fake():
    with FakeTrackers(token=TOKEN, jira_email=JIRA_EMAIL, jira_token=JIRA_TOKEN, webhook_secret=HOOK_SECRET) as server:
        yield server


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "archive.duckdb") as s:
        yield s


def save(store: Store, findings: list[Finding]) -> int:
    return save_run(store, RunRecord(None, None, 200, 2000, 40, None), findings, reported=len(findings))


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def run(store: Store, cfg: dict[str, Any], trackers: list[str], *, sleeps: Sleeps | None = None,
        dry_run: bool = False, run_id: int | None = None, environ: dict[str, str] | None = None, console: Any = None):
    return publish_run(store, cfg, run_id, trackers, dry_run=dry_run, console=console,
                       sleep=sleeps if sleeps is not None else Sleeps(), environ=ENV if environ is None else environ)


def actions(report) -> dict[str, str]:
    return {o.fingerprint: o.action for o in report.outcomes}


# -- GitHub ----------------------------------------------------------------------------------------------------


def test_github_create_then_ten_reruns_make_no_duplicate(fake, store):
    cfg = settings(fake, assignees=["octocat"])
    save(store, [make_finding(FP_A), make_finding(FP_B)])
    first = run(store, cfg, ["github"])
    assert first.ok and actions(first) == {FP_A: "created", FP_B: "created"}
    created = fake.calls("POST", r"/gh/repos/acme/agents/issues$")
    assert len(created) == 2
    body = created[0].body
    assert body["labels"] == ["tracemine", "agents"] and body["assignees"] == ["octocat"]
    assert marker(FP_A) in body["body"] and body["title"].startswith("[tracemine] ")
    assert "https://reports.example/latest/report.html" in body["body"]
    assert "<img" not in body["body"]  # trace text is escaped
    assert "sk-abcdefghijklmnopqrstuvwx1234" not in body["body"]  # and redacted again
    assert created[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert created[0].headers["x-github-api-version"] == "2022-11-28"

    for _ in range(5):  # the same run again…
        again = run(store, cfg, ["github"])
        assert actions(again) == {FP_A: "skipped", FP_B: "skipped"}
    for _ in range(5):  # …and new runs with the same figures
        save(store, [make_finding(FP_A, status="recurring"), make_finding(FP_B, status="recurring")])
        run(store, cfg, ["github"])
    assert len(fake.github) == 2
    assert len(fake.calls("POST", r"/issues$")) == 2
    rows = list_issues(store, "github")
    assert [(r.fingerprint, r.issue_key, r.state) for r in rows] == [(FP_A, "1", "open"), (FP_B, "2", "open")]
    assert rows[0].url == "https://github.example/acme/agents/issues/1"


def test_github_updates_body_and_comments_only_when_figures_change(fake, store):
    cfg = settings(fake)
    save(store, [make_finding(FP_A)])
    run(store, cfg, ["github"])
    save(store, [make_finding(FP_A, traces=40, status="recurring")])
    report = run(store, cfg, ["github"])
    assert actions(report) == {FP_A: "updated+commented"}
    issue = fake.github[1]
    assert "40 of 200" in issue["body"] and marker(FP_A) in issue["body"]
    assert len(fake.github_comments[1]) == 1 and "40 of 200" in fake.github_comments[1][0]
    assert fake.calls("PATCH")[-1].body.keys() == {"title", "body"}
    # unchanged: nothing is sent but the run is recorded
    save(store, [make_finding(FP_A, traces=40, status="recurring")])
    before = len(fake.requests)
    assert actions(run(store, cfg, ["github"])) == {FP_A: "skipped"}
    assert len(fake.requests) == before
    assert len(fake.github_comments[1]) == 1
    # comment_on_update off: the body is still updated
    save(store, [make_finding(FP_A, traces=41, status="recurring")])
    assert actions(run(store, settings(fake, comment_on_update=False), ["github"])) == {FP_A: "updated"}
    assert "41 of 200" in fake.github[1]["body"] and len(fake.github_comments[1]) == 1


@pytest.mark.parametrize("search_works", [True, False])
def test_github_recovers_issue_by_marker_when_mapping_is_lost(fake, store, tmp_path, search_works):
    cfg = settings(fake)
    save(store, [make_finding(FP_A)])
    run(store, cfg, ["github"])
    fake.github_search = search_works  # False: the search index lags; listing by label finds it
    with Store(tmp_path / "new.duckdb") as fresh:  # a new archive: no mapping table at all
        save(fresh, [make_finding(FP_A, status="recurring"), make_finding(FP_B)])
        report = run(fresh, cfg, ["github"])
        by_fp = {o.fingerprint: o for o in report.outcomes}
        assert by_fp[FP_A].issue == "1" and "marker" in by_fp[FP_A].reason
        assert by_fp[FP_A].action in ("skipped", "updated+commented")
        assert by_fp[FP_B].action == "created"
        assert len(fake.github) == 2
        assert {r.fingerprint: r.issue_key for r in list_issues(fresh)} == {FP_A: "1", FP_B: "2"}
    # emptied mapping table in the same archive
    store.con.execute(f"DELETE FROM {TABLE}")
    report = run(store, cfg, ["github"])
    assert report.outcomes[0].issue == "1" and len(fake.github) == 2


def test_github_reopens_regressed_and_closes_resolved(fake, store):
    cfg = settings(fake)
    save(store, [make_finding(FP_A), make_finding(FP_B)])
    run(store, cfg, ["github"])
    fake.github[1]["state"] = "closed"  # someone closed it
    save(store, [make_finding(FP_A, traces=30, status="regressed"), make_finding(FP_B, status="resolved")])
    report = run(store, cfg, ["github"])
    assert actions(report) == {FP_A: "updated+commented+reopened", FP_B: "updated+commented+closed"}
    assert fake.github[1]["state"] == "open" and fake.github[2]["state"] == "closed"
    assert {"state": "closed", "state_reason": "completed"} in [c.body for c in fake.calls("PATCH")]
    assert "Regressed" in fake.github_comments[1][0] and "Resolved" in fake.github_comments[2][0]
    assert {r.fingerprint: r.state for r in list_issues(store)} == {FP_A: "open", FP_B: "closed"}
    # the same statuses again: nothing more
    save(store, [make_finding(FP_A, traces=30, status="regressed"), make_finding(FP_B, status="resolved")])
    assert actions(run(store, cfg, ["github"])) == {FP_A: "skipped", FP_B: "skipped"}


def test_resolved_not_closed_without_close_resolved_and_never_created(fake, store):
    cfg = settings(fake, close_resolved=False, reopen_regressed=False)
    save(store, [make_finding(FP_A)])
    run(store, cfg, ["github"])
    save(store, [make_finding(FP_A, status="resolved"), make_finding(FP_B, status="resolved")])
    report = run(store, cfg, ["github"])
    assert actions(report) == {FP_A: "updated+commented", FP_B: "skipped"}
    assert fake.github[1]["state"] == "open" and len(fake.github) == 1
    fake.github[1]["state"] = "closed"
    save(store, [make_finding(FP_A, status="regressed")])
    assert actions(run(store, cfg, ["github"])) == {FP_A: "updated+commented"}
    assert fake.github[1]["state"] == "closed"


def test_filters_min_severity_and_min_traces(fake, store):
    cfg = settings(fake, min_severity="high", min_traces=5)
    save(store, [make_finding(FP_A, severity="medium"), make_finding(FP_B, traces=2),
                 make_finding("tm-eeee3333ffff", severity="critical")])
    report = run(store, cfg, ["github"])
    by_fp = {o.fingerprint: o for o in report.outcomes}
    assert by_fp[FP_A].action == "skipped" and "min_severity" in by_fp[FP_A].reason
    assert by_fp[FP_B].action == "skipped" and "min_traces" in by_fp[FP_B].reason
    assert by_fp["tm-eeee3333ffff"].action == "created"
    assert len(fake.github) == 1
    assert len(fake.calls("GET", r"/search/issues$")) == 1  # filtered findings are not even searched for


def test_issue_deleted_by_hand_is_created_again(fake, store):
    cfg = settings(fake)
    save(store, [make_finding(FP_A)])
    run(store, cfg, ["github"])
    del fake.github[1]
    save(store, [make_finding(FP_A, traces=50, status="recurring")])
    report = run(store, cfg, ["github"])
    assert actions(report) == {FP_A: "created"}
    assert list_issues(store)[0].issue_key == "2"


# -- retries and failures --------------------------------------------------------------------------------------


def test_retries_after_429_with_retry_after_and_500(fake, store):
    cfg = settings(fake, backoff_s=0.5)
    save(store, [make_finding(FP_A)])
    fake.fail("POST", r"/gh/repos/acme/agents/issues$", 429, times=1, headers={"Retry-After": "7"})
    fake.fail("POST", r"/gh/repos/acme/agents/issues$", 500, times=1)
    fake.fail("POST", r"/gh/repos/acme/agents/issues$", 403, times=1,
              headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, payload={"message": "secondary rate limit"})
    sleeps = Sleeps()
    report = run(store, cfg, ["github"], sleeps=sleeps)
    assert report.ok and actions(report) == {FP_A: "created"}
    assert len(fake.calls("POST", r"/issues$")) == 4 and len(fake.github) == 1
    assert sleeps == [7.0, 1.0, 0.0]  # Retry-After, backoff (attempt 2), a date in the past


def test_retries_exhausted_fail_one_finding_not_the_others(fake, store):
    cfg = settings(fake, retries=2)
    save(store, [make_finding(FP_A, title="poisoned finding"), make_finding(FP_B)])
    fake.fail("POST", r"/issues$", 502, times=99, body_contains="poisoned")
    sleeps = Sleeps()
    report = run(store, cfg, ["github"], sleeps=sleeps)
    assert not report.ok
    by_fp = {o.fingerprint: o for o in report.outcomes}
    assert by_fp[FP_A].action == "failed" and "502" in by_fp[FP_A].reason and "3 attempt" in by_fp[FP_A].reason
    assert by_fp[FP_B].action == "created"
    assert len(sleeps) == 2 and sleeps[1] == 2 * sleeps[0]
    assert [r.fingerprint for r in list_issues(store)] == [FP_B]
    # a 4xx is not retried
    fake.fail("PATCH", r"/issues/\d+$", 422, times=1, payload={"message": "Validation Failed"})
    save(store, [make_finding(FP_B, traces=99, status="recurring")])
    report = run(store, cfg, ["github"])
    assert report.outcomes[0].action == "failed" and "422 Validation Failed" in report.outcomes[0].reason
    assert len(fake.calls("PATCH")) == 1


def test_long_retry_after_fails_fast(fake, store):
    cfg = settings(fake, max_retry_after_s=60)
    save(store, [make_finding(FP_A), make_finding(FP_B)])
    fake.fail("POST", r"/issues$", 429, times=1, headers={"Retry-After": "3600"})
    sleeps = Sleeps()
    report = run(store, cfg, ["github"], sleeps=sleeps)
    assert report.outcomes[0].action == "failed" and "3600" in report.outcomes[0].reason and sleeps == []
    # the tracker asked for an hour: the next finding is not even tried
    assert report.outcomes[1].action == "failed" and "not sent" in report.outcomes[1].reason
    assert len(fake.calls("POST")) == 1


def test_timeouts_are_retried(fake, store):
    cfg = settings(fake, timeout_s=0.3)
    save(store, [make_finding(FP_A)])
    fake.fail("GET", r"/search/issues$", 200, times=1, delay_s=1.0)
    sleeps = Sleeps()
    report = run(store, cfg, ["github"], sleeps=sleeps)
    assert report.ok and actions(report) == {FP_A: "created"} and len(sleeps) == 1
    assert len(fake.calls("GET", r"/search/issues$")) == 2


def test_read_timeout_on_create_checks_before_creating_again(fake, store):
    cfg = settings(fake, timeout_s=0.3)
    save(store, [make_finding(FP_A)])
    # the server creates the issue but answers too late: no second issue
    fake.fail("POST", r"/gh/repos/acme/agents/issues$", 201, times=1, delay_s=1.0)
    report = run(store, cfg, ["github"])
    assert report.ok and report.outcomes[0].issue == "1"
    assert len(fake.github) == 1


def test_parse_retry_after():
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0) == pytest.approx(30.0)
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


# -- GitLab ----------------------------------------------------------------------------------------------------


def test_gitlab_full_cycle(fake, store, tmp_path):
    cfg = settings(fake, assignees=["alice", "12"])
    save(store, [make_finding(FP_A), make_finding(FP_B)])
    for _ in range(10):
        report = run(store, cfg, ["gitlab"])
    assert len(fake.gitlab) == 2 and report.ok
    create = fake.calls("POST", r"/gl/api/v4/projects/acme%2Fagents/issues$")
    assert len(create) == 2
    assert create[0].body["labels"] == "tracemine,agents" and create[0].body["assignee_ids"] == [77, 12]
    assert create[0].headers["private-token"] == TOKEN
    assert has_marker(fake.gitlab[1]["description"], FP_A)

    fake.gitlab[1]["state"] = "closed"
    save(store, [make_finding(FP_A, traces=20, status="regressed"), make_finding(FP_B, status="resolved")])
    report = run(store, cfg, ["gitlab"])
    assert actions(report) == {FP_A: "updated+commented+reopened", FP_B: "updated+commented+closed"}
    assert fake.gitlab[1]["state"] == "opened" and fake.gitlab[2]["state"] == "closed"
    assert {"state_event": "reopen"} in [c.body for c in fake.calls("PUT")]
    assert len(fake.gitlab_notes[1]) == 1 and "20 of 200" in fake.gitlab_notes[1][0]

    with Store(tmp_path / "new.duckdb") as fresh:  # marker recovery
        save(fresh, [make_finding(FP_A, traces=20, status="regressed")])
        report = run(fresh, cfg, ["gitlab"])
        assert report.outcomes[0].issue == "1" and len(fake.gitlab) == 2


# -- Jira ------------------------------------------------------------------------------------------------------


def test_jira_full_cycle(fake, store, tmp_path):
    cfg = settings(fake)
    save(store, [make_finding(FP_A)])
    for _ in range(10):
        report = run(store, cfg, ["jira"])
    assert report.ok and len(fake.jira) == 1
    create = fake.calls("POST", r"/jira/rest/api/3/issue$")
    assert len(create) == 1
    fields = create[0].body["fields"]
    assert fields["project"] == {"key": "TM"} and fields["issuetype"] == {"name": "Bug"}
    assert fields["labels"] == ["tracemine", "agents", f"tracemine-{FP_A}"]
    assert fields["description"]["type"] == "doc" and fields["description"]["version"] == 1
    text = json.dumps(fields["description"])
    assert f"tracemine:fingerprint={FP_A}" in text and "upstream timeout" in text
    assert create[0].headers["authorization"].startswith("Basic ")
    assert report.outcomes[0].url == f"{fake.url}/jira/browse/TM-1"

    save(store, [make_finding(FP_A, traces=33, status="resolved")])
    report = run(store, cfg, ["jira"])
    assert actions(report) == {FP_A: "updated+commented+closed"}
    assert fake.jira["TM-1"]["fields"]["status"]["name"] == "Done"
    assert fake.calls("POST", r"/transitions$")[-1].body == {"transition": {"id": "31"}}
    assert len(fake.jira_comments["TM-1"]) == 1

    save(store, [make_finding(FP_A, traces=60, status="regressed")])
    report = run(store, cfg, ["jira"])
    assert actions(report) == {FP_A: "updated+commented+reopened"}
    assert fake.jira["TM-1"]["fields"]["status"]["name"] == "To Do"

    with Store(tmp_path / "new.duckdb") as fresh:  # recovered through the label (JQL)
        save(fresh, [make_finding(FP_A, traces=60, status="recurring")])
        report = run(fresh, cfg, ["jira"])
        assert report.outcomes[0].issue == "TM-1" and len(fake.jira) == 1
        assert 'labels = "tracemine-' in fake.calls("POST", r"/search/jql$")[-1].body["jql"]


def test_jira_unknown_transition_is_a_clear_failure(fake, store):
    cfg = settings(fake, jira={"done_transition": "Shipped"})
    save(store, [make_finding(FP_A)])
    run(store, cfg, ["jira"])
    save(store, [make_finding(FP_A, status="resolved")])
    report = run(store, cfg, ["jira"])
    assert report.outcomes[0].action == "failed"
    assert "no transition named 'Shipped'" in report.outcomes[0].reason and "'Done'" in report.outcomes[0].reason


# -- webhook ---------------------------------------------------------------------------------------------------


def test_webhook_events_and_signature(fake, store):
    cfg = settings(fake)
    save(store, [make_finding(FP_A)])
    for _ in range(3):
        report = run(store, cfg, ["webhook"])
    assert report.ok and [d["event"] for d in fake.deliveries] == ["created"]
    delivery = fake.deliveries[0]["body"]
    assert delivery["fingerprint"] == FP_A and delivery["finding"]["impact"]["traces"] == 12
    assert delivery["run_id"] == 1 and marker(FP_A) in delivery["body_markdown"]
    save(store, [make_finding(FP_A, traces=20, status="recurring")])
    run(store, cfg, ["webhook"])
    save(store, [make_finding(FP_A, traces=20, status="resolved")])
    run(store, cfg, ["webhook"])
    run(store, cfg, ["webhook"])
    save(store, [make_finding(FP_A, traces=25, status="regressed")])
    run(store, cfg, ["webhook"])
    assert [d["event"] for d in fake.deliveries] == ["created", "updated", "resolved", "regressed"]
    raw = fake.calls("POST", "/hook$")[0].raw
    assert verify(HOOK_SECRET, raw, sign(HOOK_SECRET, raw)) and not verify("other", raw, sign(HOOK_SECRET, raw))
    # a wrong secret: the receiver refuses, the finding fails
    save(store, [make_finding(FP_B)])
    report = run(store, cfg, ["webhook"], environ={**ENV, "TRACEMINE_WEBHOOK_SECRET": "wrong"})
    assert not report.ok and "401" in report.outcomes[0].reason


# -- dry runs, settings, secrets -------------------------------------------------------------------------------


def test_dry_run_sends_nothing_and_masks_credentials(fake, store, capsys):
    from rich.console import Console

    cfg = settings(fake)
    save(store, [make_finding(FP_A)])
    console = Console(width=200, force_terminal=False)
    report = run(store, cfg, ["github", "gitlab", "jira", "webhook"], dry_run=True, console=console)
    assert fake.requests == []
    assert report.ok and report.requests_sent == 0
    out = capsys.readouterr().out
    assert f"POST {fake.url}/gh/repos/acme/agents/issues" in out
    assert f"POST {fake.url}/jira/rest/api/3/issue" in out and f"POST {fake.url}/hook" in out
    assert '"title": "[tracemine] `lookup_weather`' in out
    assert "Authorization: Bearer ***" in out and "PRIVATE-TOKEN: ***" in out and "X-Tracemine-Signature: ***" in out
    assert TOKEN not in out and JIRA_TOKEN not in out and HOOK_SECRET not in out
    assert list_issues(store) == []
    # with a mapping, a dry run shows the update it would make
    run(store, cfg, ["github"])
    sent = len(fake.requests)
    save(store, [make_finding(FP_A, traces=70, status="recurring")])
    report = run(store, cfg, ["github"], dry_run=True)
    assert len(fake.requests) == sent
    assert [(p.method, p.url.rsplit("/", 2)[-2:]) for p in report.planned] == [
        ("PATCH", ["issues", "1"]), ("POST", ["1", "comments"])]
    assert "70 of 200" in report.planned[0].json["body"]
    assert list_issues(store)[0].last_run_id == 1


def test_dry_run_without_credentials_is_allowed(fake, store):
    save(store, [make_finding(FP_A)])
    report = run(store, settings(fake), ["github"], dry_run=True, environ={})
    assert report.ok and report.planned and fake.requests == []
    assert report.planned[0].headers["Authorization"] == "Bearer ***"


def test_missing_credentials_and_unconfigured_tracker(fake, store):
    save(store, [make_finding(FP_A)])
    report = run(store, settings(fake), ["github"], environ={})
    assert not report.ok and "GITHUB_TOKEN" in report.outcomes[0].reason and fake.requests == []
    report = run(store, settings(fake, gitlab={"project": None}), ["gitlab"])
    assert not report.ok and "publish.gitlab.project" in report.outcomes[0].reason


def test_settings_validation_is_clear():
    with pytest.raises(PublishConfigError, match=r"publish\.github\.repoo"):
        load_publish_settings({"publish": {"github": {"repoo": "x/y"}}})
    with pytest.raises(PublishConfigError, match=r"publish\.min_severity"):
        load_publish_settings({"publish": {"min_severity": "urgent"}})
    with pytest.raises(PublishConfigError, match=r"publish\.webhook\.url must be an http"):
        load_publish_settings({"publish": {"webhook": {"url": "ftp://x"}}})
    from tracemine.config import load_settings

    defaults = load_publish_settings(load_settings())
    assert defaults.min_severity == "medium" and defaults.configured() == []


def test_secrets_file_and_no_credential_anywhere(fake, store, tmp_path, caplog, monkeypatch):
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(yaml.safe_dump({"GITHUB_TOKEN": TOKEN, "GITLAB_TOKEN": TOKEN, "JIRA_EMAIL": JIRA_EMAIL,
                                       "JIRA_API_TOKEN": JIRA_TOKEN, "TRACEMINE_WEBHOOK_SECRET": HOOK_SECRET}))
    secrets.chmod(0o600)
    cfg = settings(fake, secrets_file=str(secrets))
    caplog.set_level(logging.DEBUG)
    save(store, [make_finding(FP_A), make_finding(FP_B, title="poisoned")])
    # the server echoes the credential in an error: it must not reach the report
    fake.fail("POST", r"/issues$", 400, times=99, body_contains="poisoned",
              payload={"message": f"bad request from token {TOKEN}"})
    fake.fail("POST", r"/jira/rest/api/3/issue$", 400, times=99, body_contains="poisoned",
              payload={"errorMessages": [f"user {JIRA_EMAIL}:{JIRA_TOKEN} cannot"]})
    reports = [run(store, cfg, ["github", "gitlab", "jira", "webhook"], environ={}),
               run(store, cfg, ["github", "gitlab", "jira", "webhook"], environ={}, dry_run=True)]
    assert len(fake.github) == 1 and len(fake.gitlab) == 1 and len(fake.jira) == 1 and fake.deliveries
    failed = [o for r in reports for o in r.outcomes if o.failed]
    assert failed and any("***" in o.reason for o in failed)
    texts = [json.dumps(r.to_dict()) for r in reports] + [p.render() for r in reports for p in r.planned]
    texts += [rec.getMessage() for rec in caplog.records] + [caplog.text]
    texts += [repr(row) for row in store.con.execute(f"SELECT * FROM {TABLE}").fetchall()]
    texts += [repr(row) for row in store.con.execute("SELECT * FROM mine_runs").fetchall()]
    for secret in (TOKEN, JIRA_TOKEN, HOOK_SECRET):
        assert not any(secret in t for t in texts), secret

    # the command line, with the credential in the environment
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(settings(fake)))
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    db = str(store.path)
    store.close()
    runner = CliRunner()
    for args in (["--to", "github", "--dry-run"], ["--to", "github"], ["--to", "github", "--run", "1"]):
        result = runner.invoke(main, ["--config", str(config), "publish", "--db", db, *args])
        assert TOKEN not in result.output, args
        # the poisoned finding fails each time it is really sent
        assert result.exit_code == (0 if "--dry-run" in args else 4), (args, result.output)
    assert TOKEN not in caplog.text


def test_cli_publish(fake, tmp_path, monkeypatch):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(settings(fake)))
    db = tmp_path / "a.duckdb"
    with Store(db) as s:
        save(s, [make_finding(FP_A)])
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    runner = CliRunner()
    base = ["--config", str(config), "publish", "--db", str(db), "--to", "github"]
    dry = runner.invoke(main, [*base, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would be sent" in dry.output and "POST" in dry.output and fake.requests == []
    live = runner.invoke(main, base)
    assert live.exit_code == 0, live.output
    assert "created" in live.output and FP_A in live.output and len(fake.github) == 1
    again = runner.invoke(main, base)
    assert again.exit_code == 0 and "skipped" in again.output and len(fake.github) == 1
    assert runner.invoke(main, [*base, "--run", "9"]).exit_code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"publish": {"min_severity": "urgent"}}))
    result = runner.invoke(main, ["--config", str(bad), "publish", "--db", str(db)])
    assert result.exit_code == 2 and "min_severity" in result.output
    assert runner.invoke(main, ["publish", "--db", str(tmp_path / "none.duckdb")]).exit_code == 2


def test_render_is_stable_and_marker_survives_redaction():
    f = make_finding(FP_A)
    a, b = render(f, Redactor()), render(dataclasses.replace(f, score=0.9), Redactor())
    assert a.body_hash == b.body_hash  # the score is not in the body
    assert a.body_hash != render(make_finding(FP_A, traces=13), Redactor()).body_hash
    assert has_marker(a.markdown, FP_A) and not has_marker(a.markdown, "tm-aaaa")
    assert a.adf["content"][0]["content"][0]["text"] == f"tracemine:fingerprint={FP_A}"
