"""tracemine publish --to linear against a fake Linear GraphQL API on 127.0.0.1: one issue per fingerprint,
labels, priority, workflow-state transitions, marker recovery, GraphQL errors answered with HTTP 200, rate
limits (RATELIMITED, 429) and 5xx retried without duplicates over ten runs, and dry runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from notify_server import RATELIMITED, TEAM_ID, FakeNotify
from test_publish import FP_A, FP_B, Sleeps, actions, make_finding, run, save
from tracemine.publish.render import has_marker
from tracemine.store import Store
from tracemine.store.publish_records import list_issues

LINEAR_KEY = "lin_api_Recognisable0Secret0Key0XYZ"
SLACK_TOKEN = "xoxb-Recognisable-0Secret-0Token"
ENV = {"LINEAR_API_KEY": LINEAR_KEY}


@pytest.fixture
def fake():
    with FakeNotify(LINEAR_KEY, SLACK_TOKEN) as server:
        yield server


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "archive.duckdb") as s:
        yield s


def settings(fake: FakeNotify, **linear: Any) -> dict[str, Any]:
    return {"publish": {"labels": ["tracemine", "agents"], "close_resolved": True, "retries": 3, "timeout_s": 5,
                        "linear": {"team": "ENG", "api_url": f"{fake.url}/linear/graphql", **linear}}}


def publish(store: Store, fake: FakeNotify, cfg: dict[str, Any] | None = None, **kw: Any):
    return run(store, cfg or settings(fake), ["linear"], environ=kw.pop("environ", ENV), **kw)


def operations(fake: FakeNotify, name: str) -> list[Any]:
    return [r for r in fake.calls("POST", r"/linear/graphql$") if f" {name}(" in r.body["query"]]


def state_of(fake: FakeNotify, n: int) -> str:
    return fake.view(fake.issue_by(f"ENG-{n}"))["state"]["name"]


def test_linear_create_update_close_reopen_and_recovery(fake, store, tmp_path):
    save(store, [make_finding(FP_A), make_finding(FP_B, severity="critical")])
    for _ in range(10):
        report = publish(store, fake)
    assert report.ok and len(fake.issues) == 2
    [create_a, create_b] = operations(fake, "Create")
    fields = create_a.body["variables"]["input"]
    assert fields["teamId"] == TEAM_ID and fields["title"].startswith("[tracemine] ")
    assert fields["labelIds"] == ["lab-tracemine", "lab-agents"]  # "agents" was created in the team
    assert fields["priority"] == 2 and create_b.body["variables"]["input"]["priority"] == 1
    assert has_marker(fields["description"], FP_A) and "<!--" not in fields["description"].split("\n")[0]
    assert "sk-abcdefghijklmnopqrstuvwx1234" not in fields["description"]  # redacted again
    assert len(operations(fake, "LabelCreate")) == 1 and create_a.headers["authorization"] == LINEAR_KEY
    rows = {r.fingerprint: r for r in list_issues(store, "linear")}
    assert (rows[FP_A].issue_key, rows[FP_A].issue_id, rows[FP_A].target) == ("ENG-1", "iss-0001", "ENG")
    assert rows[FP_A].url == "https://linear.example/acme/issue/ENG-1"

    save(store, [make_finding(FP_A, traces=40, status="recurring"), make_finding(FP_B, status="resolved")])
    report = publish(store, fake)
    assert actions(report) == {FP_A: "updated+commented", FP_B: "updated+commented+closed"}
    assert "40 of 200" in fake.issue_by("ENG-1")["description"] and "40 of 200" in fake.comments["iss-0001"][0]
    assert state_of(fake, 2) == "Done"  # the team's first completed state

    save(store, [make_finding(FP_B, traces=30, status="regressed")])
    assert actions(publish(store, fake)) == {FP_B: "updated+commented+reopened"}
    assert state_of(fake, 2) == "Todo"  # the first unstarted state
    assert "Regressed" in fake.comments["iss-0002"][-1]

    with Store(tmp_path / "fresh.duckdb") as fresh:  # no mapping: found again by the marker
        save(fresh, [make_finding(FP_B, traces=30, status="regressed")])
        report = publish(fresh, fake)
        assert report.outcomes[0].issue == "ENG-2" and "marker" in report.outcomes[0].reason
        assert len(fake.issues) == 2


def test_linear_named_states_and_an_unknown_one(fake, store):
    cfg = settings(fake, done_state="Canceled", reopen_state="In Progress")
    save(store, [make_finding(FP_A)])
    publish(store, fake, cfg)
    save(store, [make_finding(FP_A, status="resolved")])
    publish(store, fake, cfg)
    assert state_of(fake, 1) == "Canceled"
    save(store, [make_finding(FP_A, status="regressed")])
    publish(store, fake, cfg)
    assert state_of(fake, 1) == "In Progress"
    save(store, [make_finding(FP_A, status="resolved")])
    report = publish(store, fake, settings(fake, done_state="Shipped"))
    assert report.outcomes[0].action == "failed"
    assert "no workflow state named 'Shipped'" in report.outcomes[0].reason and "'Done'" in report.outcomes[0].reason


def test_linear_graphql_errors_with_http_200_fail_one_finding(fake, store):
    save(store, [make_finding(FP_A, title="poisoned finding"), make_finding(FP_B)])
    fake.fail("POST", r"/linear/graphql$", 200, times=99, body_contains="poisoned",
              payload={"data": None, "errors": [{"message": f"Argument Validation Error for {LINEAR_KEY}"}]})
    report = publish(store, fake)
    by_fp = {o.fingerprint: o for o in report.outcomes}
    assert by_fp[FP_A].failed and "Argument Validation Error" in by_fp[FP_A].reason
    assert LINEAR_KEY not in json.dumps(report.to_dict()) and "***" in by_fp[FP_A].reason
    assert by_fp[FP_B].action == "created" and len(fake.issues) == 1
    # an unknown team is a clear failure
    report = publish(store, fake, settings(fake, team="NOPE"))
    assert not report.ok and "no team with key 'NOPE'" in report.outcomes[0].reason


def test_linear_issue_deleted_is_created_again(fake, store):
    save(store, [make_finding(FP_A)])
    publish(store, fake)
    fake.issue_by("ENG-1")["trashed"] = True
    save(store, [make_finding(FP_A, traces=50, status="recurring")])
    report = publish(store, fake)
    assert actions(report) == {FP_A: "created"} and list_issues(store, "linear")[0].issue_key == "ENG-2"
    del fake.issues["iss-0002"]
    save(store, [make_finding(FP_A, traces=51, status="recurring")])
    assert actions(publish(store, fake)) == {FP_A: "created"}


def test_linear_idempotent_over_ten_runs_with_rate_limits_and_5xx(fake, store):
    sleeps = Sleeps()
    for i in range(10):
        status = "new" if i == 0 else "recurring"  # run 2 changes both bodies (the status)…
        traces = 12 + i // 2  # …and FP_A has new figures every other run
        save(store, [make_finding(FP_A, traces=traces, status=status), make_finding(FP_B, status=status)])
        fake.rules.clear()  # a run with nothing to send leaves its faults unused: do not let them pile up
        fake.fail("POST", r"/linear/graphql$", 400, times=1, payload=RATELIMITED)  # Linear's own rate limit
        fake.fail("POST", r"/linear/graphql$", 429, times=1, headers={"Retry-After": "2"})
        fake.fail("POST", r"/linear/graphql$", 200, times=1, payload=RATELIMITED, body_contains="mutation")
        fake.fail("POST", r"/linear/graphql$", 503, times=1)
        fake.fail("POST", r"/linear/graphql$", 502, times=1, body_contains="issueUpdate")
        report = publish(store, fake, sleeps=sleeps)
        assert report.ok, [o.reason for o in report.failed]
        changed = "updated+commented"
        expected = {FP_A: "created", FP_B: "created"} if i == 0 else {FP_A: changed, FP_B: changed} if i == 1 else {
            FP_A: changed if i % 2 == 0 else "skipped", FP_B: "skipped"}
        assert actions(report) == expected, i
    assert len(fake.issues) == 2 and [i["identifier"] for i in fake.issues.values()] == ["ENG-1", "ENG-2"]
    assert len(fake.comments["iss-0001"]) == 5 and len(fake.comments["iss-0002"]) == 1
    # every injected answer was waited out and retried: six runs sent requests, five faults each (the first
    # run updated nothing, so its injected 502 on issueUpdate was never met)
    assert len(sleeps) == 6 * 5 - 1
    assert [(r.fingerprint, r.issue_key) for r in list_issues(store, "linear")] == [(FP_A, "ENG-1"), (FP_B, "ENG-2")]


def test_linear_dry_run_shows_requests_with_the_key_masked(fake, store, capsys):
    from rich.console import Console

    save(store, [make_finding(FP_A)])
    report = publish(store, fake, dry_run=True, console=Console(width=200, force_terminal=False))
    assert fake.requests == [] and report.ok and report.requests_sent == 0
    ops = [p.json["query"].split("(")[0] for p in report.planned]
    assert ops == ["query Team", "query Find", "query Labels", "mutation Create"]
    assert all(p.headers["Authorization"] == "***" for p in report.planned)
    out = capsys.readouterr().out
    assert f"POST {fake.url}/linear/graphql" in out and "Authorization: ***" in out and LINEAR_KEY not in out
    assert list_issues(store) == []
    # without the key, a dry run still shows the requests; a real run says which variable to set
    assert publish(store, fake, dry_run=True, environ={}).ok
    report = publish(store, fake, environ={})
    assert not report.ok and "LINEAR_API_KEY" in report.outcomes[0].reason and fake.requests == []
