"""Publishing after a tracker reset: the issue numbers the mapping table holds now belong to other issues
(a person's, or another finding's). Each stored issue's marker is checked before anything is written to it;
the finding's issue is found again by its marker or created, and no other issue is overwritten or closed."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

import pytest

from publish_server import FakeTrackers
from test_publish import (
    FP_A,
    FP_B,
    HOOK_SECRET,
    JIRA_EMAIL,
    JIRA_TOKEN,
    TOKEN,
    actions,
    make_finding,
    run,
    save,
    settings,
)
from tracemine.publish.jira import adf_text
from tracemine.publish.render import has_marker, jira_label, marker
from tracemine.store import Store
from tracemine.store.publish_records import list_issues

FP_C = "tm-eeee3333ffff"


@pytest.fixture
def fake():
    with FakeTrackers(token=TOKEN, jira_email=JIRA_EMAIL, jira_token=JIRA_TOKEN, webhook_secret=HOOK_SECRET) as server:
        yield server


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "archive.duckdb") as s:
        yield s


def _seed(fake: Any, tracker: str, n: int, title: str, body: str, fingerprint: str | None = None) -> str:
    """Put issue number ``n`` on the fake tracker as someone else made it; returns its key."""
    if tracker == "github":
        fake.github[n] = {"number": n, "id": 9000 + n, "html_url": f"https://github.example/acme/agents/issues/{n}",
                          "state": "open", "title": title, "body": body, "labels": [], "assignees": []}
        return str(n)
    if tracker == "gitlab":
        fake.gitlab[n] = {"iid": n, "id": 9000 + n, "web_url": f"https://gitlab.example/acme/agents/-/issues/{n}",
                          "state": "opened", "title": title, "description": body, "labels": [], "assignee_ids": []}
        return str(n)
    key = f"TM-{n}"
    doc = {"type": "doc", "version": 1,
           "content": [{"type": "paragraph", "content": [{"type": "text", "text": body}]}]}
    fake.jira[key] = {"id": str(19000 + n), "key": key, "fields": {
        "summary": title, "description": doc, "labels": [jira_label(fingerprint)] if fingerprint else [],
        "status": {"name": "To Do", "statusCategory": {"key": "new"}}}}
    return key


def _reset(fake: Any, tracker: str) -> None:
    """The tracker loses every issue and starts numbering again."""
    if tracker == "github":
        fake.github.clear()
        fake.github_comments.clear()
    elif tracker == "gitlab":
        fake.gitlab.clear()
        fake.gitlab_notes.clear()
    else:
        fake.jira.clear()
        fake.jira_comments.clear()


def _issues(fake: Any, tracker: str) -> dict[str, dict[str, Any]]:
    """Every issue on the fake tracker: title, body text, labels, open or closed."""
    if tracker == "github":
        return {str(n): {"title": i["title"], "body": i["body"], "labels": i["labels"], "state": i["state"]}
                for n, i in fake.github.items()}
    if tracker == "gitlab":
        return {str(n): {"title": i["title"], "body": i["description"], "labels": i["labels"],
                         "state": "closed" if i["state"] == "closed" else "open"} for n, i in fake.gitlab.items()}
    return {k: {"title": i["fields"]["summary"], "body": adf_text(i["fields"]["description"]),
                "labels": list(i["fields"]["labels"]),
                "state": "closed" if i["fields"]["status"]["statusCategory"]["key"] == "done" else "open"}
            for k, i in fake.jira.items()}


def _carries(issue: dict[str, Any], fingerprint: str) -> bool:
    return has_marker(issue["body"], fingerprint) or jira_label(fingerprint) in issue["labels"]


@pytest.mark.parametrize("tracker", ["github", "gitlab", "jira"])
def test_reused_issue_numbers_are_never_overwritten(fake, store, tracker):
    cfg = settings(fake)
    save(store, [make_finding(FP_A), make_finding(FP_B), make_finding(FP_C)])
    first = run(store, cfg, [tracker])
    assert first.ok and set(actions(first).values()) == {"created"}
    stored = {r.fingerprint: r.issue_key for r in list_issues(store, tracker)}
    assert len(set(stored.values())) == 3

    # the tracker is reset: the numbers come back, first a person's issue, then A's (made by another archive)
    _reset(fake, tracker)
    human = _seed(fake, tracker, 1, "Login page is slow", "Users wait 10 s for the login page.")
    a_key = _seed(fake, tracker, 2, "[tracemine] A as another archive wrote it",
                  f"Old text of A.\n\n{marker(FP_A)}", fingerprint=FP_A)
    other = _seed(fake, tracker, 3, "Flaky CI job", "The nightly job fails one night in ten.")
    if tracker == "github":
        fake.github_numbers = itertools.count(4)
    assert {stored[FP_A], stored[FP_B], stored[FP_C]} == {human, a_key, other}  # every stored number reused
    before = copy.deepcopy(_issues(fake, tracker))

    # the next run: A and B changed, C is resolved (close_resolved is on)
    save(store, [make_finding(FP_A, traces=40, status="recurring"), make_finding(FP_B, traces=30, status="recurring"),
                 make_finding(FP_C, status="resolved")])
    report = run(store, cfg, [tracker])
    assert report.ok, [o.to_dict() for o in report.failed]
    after = _issues(fake, tracker)
    assert after[human] == before[human] and after[other] == before[other]  # a person's issues untouched
    assert _carries(after[a_key], FP_A) and not _carries(after[a_key], FP_B)  # A's own issue, updated
    assert "40 of 200" in after[a_key]["body"]
    new = [k for k in after if k not in before]
    assert len(new) == 1 and _carries(after[new[0]], FP_B)  # B's issue made again
    assert all(i["state"] == "open" for i in after.values())  # nothing closed: C's issue is gone
    by_fp = {o.fingerprint: o for o in report.outcomes}
    assert by_fp[FP_A].issue == a_key and "another marker" in by_fp[FP_A].reason
    assert by_fp[FP_B].issue == new[0] and by_fp[FP_B].action == "created"
    assert by_fp[FP_C].action == "skipped"
    assert {r.fingerprint: r.issue_key for r in list_issues(store, tracker)} == {FP_A: a_key, FP_B: new[0]}

    # and the run after that finds every issue where it now is, writing nothing
    sent = len(fake.requests)
    save(store, [make_finding(FP_A, traces=40, status="recurring"), make_finding(FP_B, traces=30, status="recurring")])
    again = run(store, cfg, [tracker])
    assert actions(again) == {FP_A: "skipped", FP_B: "skipped"} and len(fake.requests) == sent
