"""tracemine publish --to slack against a fake Slack on 127.0.0.1: one Block Kit digest per run (new,
regressed, fix-verified), each finding's events in one thread keyed by its fingerprint, never a digest
twice for a run, ok:false answers, rate limits and 5xx over ten runs without duplicates, a post that may
have reached Slack looked for before posting again, the incoming-webhook mode, escaping, redaction and
dry runs with the credentials masked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from notify_server import CHANNEL_ID, HOOK_PATH, FakeNotify
from test_publish import FP_A, FP_B, Sleeps, actions, make_finding, run, save
from tracemine.cli import main
from tracemine.publish.slack_blocks import escape
from tracemine.store import Store
from tracemine.store.publish_records import list_issues

SLACK_TOKEN = "xoxb-Recognisable-0Secret-0Token"
LINEAR_KEY = "lin_api_Recognisable0Secret0Key0XYZ"
FP_C = "tm-eeee3333ffff"


@pytest.fixture
def fake():
    with FakeNotify(LINEAR_KEY, SLACK_TOKEN) as server:
        yield server


@pytest.fixture
def store(tmp_path: Path):
    with Store(tmp_path / "archive.duckdb") as s:
        yield s


def env(fake: FakeNotify) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_WEBHOOK_URL": f"{fake.url}/slack-hook{HOOK_PATH}"}


def settings(fake: FakeNotify, **slack: Any) -> dict[str, Any]:
    return {"publish": {"retries": 3, "timeout_s": 5, "report_url": "https://reports.example/latest/report.html",
                        "slack": {"channel": "#agents", "api_url": f"{fake.url}/slack/api", **slack}}}


def publish(store: Store, fake: FakeNotify, cfg: dict[str, Any] | None = None, **kw: Any):
    return run(store, cfg or settings(fake), ["slack"], environ=kw.pop("environ", env(fake)), **kw)


def text_of(message: dict[str, Any]) -> str:
    return json.dumps(message["blocks"])


def test_bot_digest_per_run_and_one_thread_per_fingerprint(fake, store):
    save(store, [make_finding(FP_A), make_finding(FP_B, severity="critical")])
    for _ in range(10):  # the same run ten times: one digest, one reply per finding
        report = publish(store, fake)
    assert report.ok and len(fake.top_level()) == 1
    digest = fake.top_level()[0]
    assert digest["channel"] == CHANNEL_ID and digest["text"] == "tracemine run 1: 2 new"
    assert digest["unfurl_links"] is False and digest["metadata"]["event_payload"]["key"] == "digest:run-1"
    blocks = digest["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "tracemine run 1: 2 new"}}
    assert blocks[1]["text"]["text"].startswith("*New* (2)\n• *:red_circle: high*") and blocks[1]["text"]["verbatim"]
    assert FP_A in blocks[1]["text"]["text"] and FP_B in blocks[1]["text"]["text"]
    assert "<https://reports.example/latest/report.html|Full report>" in text_of(digest) and "in its thread" in text_of(digest)
    replies = fake.replies(digest["ts"])
    assert [r["text"] for r in replies] == [f"New (tracemine run 1): {FP_A}", f"New (tracemine run 1): {FP_B}"]
    assert "40 of 200" not in text_of(replies[0]) and "12 of 200" in text_of(replies[0])
    assert fake.calls("POST", r"chat.postMessage$")[0].headers["authorization"] == f"Bearer {SLACK_TOKEN}"
    rows = {r.fingerprint: r for r in list_issues(store, "slack")}
    assert rows["digest:run-1"].issue_key == digest["ts"] and rows[FP_A].issue_key == digest["ts"]
    assert rows[FP_A].issue_id == CHANNEL_ID and rows[FP_A].target == "#agents"

    # run 2: FP_A regressed with new figures, FP_B unchanged, FP_C new
    save(store, [make_finding(FP_A, traces=40, status="regressed"), make_finding(FP_B, status="recurring"),
                 make_finding(FP_C)])
    report = publish(store, fake)
    by_fp = {o.fingerprint: o for o in report.outcomes}
    assert by_fp["digest:run-2"].action == "created" and by_fp[FP_A].action == "reopened"
    assert by_fp[FP_B].action == "updated"  # its status changed (new → recurring): its thread hears it
    assert by_fp[FP_C].action == "created"
    first, second = fake.top_level()
    assert second["text"] == "tracemine run 2: 1 new, 1 regressed"
    sections = [b["text"]["text"] for b in second["blocks"] if b["type"] == "section"]
    assert sections[0].startswith("*New* (1)") and FP_C in sections[0]
    assert sections[1].startswith("*Regressed* (1)") and FP_A in sections[1]
    # the finding's update goes into its own thread (run 1's digest), the new one into run 2's
    assert [r["text"] for r in fake.replies(first["ts"])][2:] == [
        f"Regressed (tracemine run 2): {FP_A}", f"New figures (tracemine run 2): {FP_B}"]
    assert [r["text"] for r in fake.replies(second["ts"])] == [f"New (tracemine run 2): {FP_C}"]
    assert "40 of 200" in text_of(fake.replies(first["ts"])[2])

    # run 3: FP_A's fix verified, FP_B resolved, FP_C unchanged
    save(store, [make_finding(FP_A, traces=40, status="fix-verified"), make_finding(FP_B, status="resolved"),
                 make_finding(FP_C, status="recurring")])
    for _ in range(3):
        report = publish(store, fake)
    assert len(fake.top_level()) == 3 and fake.top_level()[2]["text"] == "tracemine run 3: 1 fix verified"
    assert "*Fix verified* (1)" in text_of(fake.top_level()[2])
    assert [r["text"] for r in fake.replies(first["ts"])][4:] == [
        f"Fix verified (tracemine run 3): {FP_A}", f"Resolved (tracemine run 3): {FP_B}"]
    assert [r["text"] for r in fake.replies(second["ts"])] == [
        f"New (tracemine run 2): {FP_C}", f"New figures (tracemine run 3): {FP_C}"]
    assert {r.fingerprint: r.state for r in list_issues(store, "slack") if r.fingerprint.startswith("tm-")} == {
        FP_A: "closed", FP_B: "closed", FP_C: "open"}


def test_digest_lists_only_what_passes_and_a_quiet_run_posts_nothing(fake, store):
    cfg = settings(fake)
    cfg["publish"]["min_severity"] = "high"
    save(store, [make_finding(FP_A, severity="medium"), make_finding(FP_B, status="recurring")])
    report = publish(store, fake, cfg)
    by_fp = {o.fingerprint: o for o in report.outcomes}
    assert by_fp["digest:run-1"].action == "skipped" and "nothing new" in by_fp["digest:run-1"].reason
    assert "min_severity" in by_fp[FP_A].reason and "no thread yet" in by_fp[FP_B].reason
    assert report.ok and fake.requests == []


def test_trace_text_is_escaped_and_redacted(fake, store):
    evil = "Tool <!channel> says <https://evil.example|click here> & <@U0BOSS> key sk-abcdefghijklmnopqrstuvwx1234"
    finding = make_finding(FP_A, title=evil)
    finding.summary = "Summary with <!here> and <mailto:x@example.com|mail>"
    save(store, [finding])
    assert publish(store, fake).ok
    sent = " ".join(text_of(m) + m["text"] for m in fake.messages)
    for bad in ("<!channel>", "<!here>", "<https://evil", "<@U0BOSS>", "<mailto:", "sk-abcdefghijklmnopqrstuvwx1234"):
        assert bad not in sent, bad
    assert "&lt;!channel&gt;" in sent and "&amp;" in sent and "&lt;@U0BOSS&gt;" in sent
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_ok_false_fails_then_a_later_publish_completes_the_run(fake, store):
    save(store, [make_finding(FP_A)])
    report = publish(store, fake, settings(fake, channel="#nowhere"))
    by_fp = {o.fingerprint: o for o in report.outcomes}
    assert by_fp["digest:run-1"].failed and "channel_not_found" in by_fp["digest:run-1"].reason
    assert by_fp[FP_A].failed and "no thread yet" in by_fp[FP_A].reason
    assert not report.ok and fake.messages == []
    report = publish(store, fake, environ={**env(fake), "SLACK_BOT_TOKEN": "xoxb-wrong-token"})
    assert not report.ok and "invalid_auth" in report.outcomes[0].reason
    report = publish(store, fake)
    assert report.ok and actions(report) == {"digest:run-1": "created", FP_A: "created"}
    assert len(fake.top_level()) == 1 and len(fake.messages) == 2


B_STATUSES = ["new", "recurring", "recurring", "resolved", "regressed", "recurring", "recurring", "fix-verified",
              "regressed", "recurring"]


def test_idempotent_over_ten_runs_with_rate_limits_and_5xx(fake, store):
    cfg = settings(fake)
    cfg["publish"]["retries"] = 4  # a run without a digest meets all four faults on its first reply
    sleeps = Sleeps()
    for i in range(10):
        # FP_A new in run 1, then recurring with new figures every other run; FP_B as history would have it
        status_b = B_STATUSES[i]
        save(store, [make_finding(FP_A, traces=12 + i // 2, status="new" if i == 0 else "recurring"),
                     make_finding(FP_B, status=status_b)])
        fake.rules.clear()
        fake.fail("POST", r"chat.postMessage$", 429, times=1, headers={"Retry-After": "3"})
        fake.fail("POST", r"chat.postMessage$", 500, times=1)
        fake.fail("POST", r"chat.postMessage$", 200, times=1, payload={"ok": False, "error": "ratelimited"})
        fake.fail("POST", r"chat.postMessage$", 503, times=1, body_contains="thread_ts")
        for _ in range(2):  # and each run published twice
            report = publish(store, fake, cfg, sleeps=sleeps)
            assert report.ok, [o.reason for o in report.failed]
    digests = fake.top_level()
    # a digest for the runs that had something new, regressed or fix-verified
    assert [d["text"] for d in digests] == ["tracemine run 1: 2 new", "tracemine run 5: 1 regressed",
                                            "tracemine run 8: 1 fix verified", "tracemine run 9: 1 regressed"]
    thread = digests[0]["ts"]
    assert all(m.get("thread_ts") == thread for m in fake.messages if m not in digests)  # one thread per finding
    events_a = [r["text"].split(" (")[0] for r in fake.replies(thread) if r["text"].endswith(FP_A)]
    events_b = [r["text"].split(" (")[0] for r in fake.replies(thread) if r["text"].endswith(FP_B)]
    assert events_a == ["New", "New figures", "New figures", "New figures", "New figures", "New figures"]
    assert events_b == ["New", "New figures", "Resolved", "Regressed", "New figures", "Fix verified", "Regressed",
                        "New figures"]
    # every run posted something, so met all four faults once: each waited out (Retry-After: 3) and retried
    assert len(sleeps) == 10 * 4 and sleeps.count(3.0) >= 10
    assert sorted(r.fingerprint for r in list_issues(store, "slack")) == [
        "digest:run-1", "digest:run-5", "digest:run-8", "digest:run-9", FP_A, FP_B]


def test_a_post_that_may_have_reached_slack_is_not_posted_twice(fake, store):
    cfg = settings(fake, channel=CHANNEL_ID)
    cfg["publish"]["timeout_s"] = 0.3
    save(store, [make_finding(FP_A)])
    # Slack posts the digest and the reply but answers too late
    fake.fail("POST", r"chat.postMessage$", 200, times=1, delay_s=1.0)
    fake.fail("POST", r"chat.postMessage$", 200, times=1, delay_s=1.0, body_contains="thread_ts")
    report = publish(store, fake, cfg)
    assert report.ok and actions(report) == {"digest:run-1": "created", FP_A: "created"}
    assert len(fake.top_level()) == 1 and len(fake.messages) == 2
    assert fake.calls("GET", r"conversations.history$") and fake.calls("GET", r"conversations.replies$")
    assert list_issues(store, "slack")[0].issue_key == fake.top_level()[0]["ts"]


def test_incoming_webhook_posts_the_digest_once_per_run(fake, store):
    cfg = settings(fake, channel=None, incoming_webhook=True)
    save(store, [make_finding(FP_A), make_finding(FP_B, status="recurring")])
    fake.fail("POST", r"/slack-hook/", 500, times=1)
    fake.fail("POST", r"/slack-hook/", 429, times=1, headers={"Retry-After": "1"})
    for _ in range(10):
        report = publish(store, fake, cfg)
    assert report.ok and len(fake.hook_posts) == 1 and fake.messages == []
    assert fake.hook_posts[0]["text"] == "tracemine run 1: 1 new" and FP_A in json.dumps(fake.hook_posts[0]["blocks"])
    assert "thread" not in json.dumps(fake.hook_posts[0]["blocks"])  # a webhook digest promises no threads
    by_fp = {o.fingerprint: o for o in report.outcomes}
    assert by_fp[FP_A].skipped and "no threads" in by_fp[FP_A].reason
    assert {o.target for o in report.outcomes} == {"incoming-webhook"}
    save(store, [make_finding(FP_A, status="regressed")])
    publish(store, fake, cfg)
    assert [p["text"] for p in fake.hook_posts] == ["tracemine run 1: 1 new", "tracemine run 2: 1 regressed"]
    # a wrong URL: the failure never shows the URL's secret path
    save(store, [make_finding(FP_B)])
    report = publish(store, fake, cfg, environ={"SLACK_WEBHOOK_URL": f"{fake.url}/slack-hook/services/T0/B0/Other0Secret"})
    assert not report.ok and "HTTP 404" in report.outcomes[0].reason and "Other0Secret" not in report.outcomes[0].reason
    # retries exhausted: the error names the host, the secret path is masked
    fake.fail("POST", r"/slack-hook/", 502, times=99)
    report = publish(store, fake, cfg)
    reason = report.outcomes[0].reason
    assert not report.ok and "HTTP 502" in reason and "***" in reason and "Hook0Secret" not in reason


def test_dry_runs_show_requests_with_credentials_masked(fake, store, capsys):
    from rich.console import Console

    save(store, [make_finding(FP_A)])
    console = Console(width=200, force_terminal=False)
    report = publish(store, fake, dry_run=True, console=console)
    assert report.ok and fake.requests == [] and list_issues(store) == []
    assert [(p.fingerprint, p.json.get("thread_ts")) for p in report.planned] == [
        ("digest:run-1", None), (FP_A, "<digest ts>")]
    hook = publish(store, fake, settings(fake, channel=None, incoming_webhook=True), dry_run=True, console=console)
    assert hook.ok and hook.planned[0].url == "***"
    out = capsys.readouterr().out
    assert f"POST {fake.url}/slack/api/chat.postMessage" in out and "Authorization: Bearer ***" in out
    assert "tracemine run 1: 1 new" in out
    assert SLACK_TOKEN not in out and HOOK_PATH not in out and "Hook0Secret" not in out
    # without credentials a dry run still shows the requests; a real run names the variable
    assert publish(store, fake, dry_run=True, environ={}).ok
    report = publish(store, fake, environ={})
    assert not report.ok and "SLACK_BOT_TOKEN" in report.outcomes[0].reason and fake.requests == []
    report = publish(store, fake, settings(fake, channel=None, incoming_webhook=True), environ={})
    assert "SLACK_WEBHOOK_URL" in report.outcomes[0].reason


def test_cli_options_select_slack_and_linear(fake, store, tmp_path, monkeypatch):
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"publish": {
        "slack": {"api_url": f"{fake.url}/slack/api"}, "linear": {"api_url": f"{fake.url}/linear/graphql"}}}))
    save(store, [make_finding(FP_A)])
    db = str(store.path)
    store.close()
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_TOKEN)
    monkeypatch.setenv("LINEAR_API_KEY", LINEAR_KEY)
    runner = CliRunner(env={"COLUMNS": "300"})
    base = ["--config", str(config), "publish", "--db", db]
    dry = runner.invoke(main, [*base, "--dry-run", "--slack-channel", "#agents", "--linear-team", "ENG"])
    assert dry.exit_code == 0, dry.output
    assert "chat.postMessage" in dry.output and "linear/graphql" in dry.output and fake.requests == []
    assert SLACK_TOKEN not in dry.output and LINEAR_KEY not in dry.output
    live = runner.invoke(main, [*base, "--slack-channel", "#agents", "--linear-team", "ENG"])
    assert live.exit_code == 0, live.output
    assert len(fake.top_level()) == 1 and len(fake.issues) == 1
    help_text = runner.invoke(main, ["publish", "--help"]).output
    assert "--slack-channel" in help_text and "--linear-team" in help_text


def test_a_changed_digest_is_updated_in_place(fake, store):
    strict = settings(fake)
    strict["publish"]["min_severity"] = "critical"
    save(store, [make_finding(FP_A), make_finding(FP_B, severity="critical")])
    publish(store, fake, strict)
    assert fake.top_level()[0]["text"] == "tracemine run 1: 1 new" and len(fake.messages) == 2
    report = publish(store, fake)  # the same run, lower thresholds: the digest is edited, not posted again
    assert actions(report) == {"digest:run-1": "updated", FP_A: "created", FP_B: "skipped"}
    [digest] = fake.top_level()
    assert digest["text"] == "tracemine run 1: 2 new" and FP_A in text_of(digest)
    assert fake.calls("POST", r"chat.update$")[0].body["ts"] == digest["ts"]
    assert [r["text"] for r in fake.replies(digest["ts"])] == [f"New (tracemine run 1): {FP_B}",
                                                                f"New (tracemine run 1): {FP_A}"]


def test_publisher_objects_get_the_digest_too(fake, store):
    from tracemine.publish import Credentials, Http, load_publish_settings, publish_findings
    from tracemine.publish.slack import SlackPublisher

    cfg = settings(fake)
    credentials = Credentials(environ=env(fake))
    http = Http(credentials, timeout_s=5, sleep=Sleeps())
    try:
        slack = SlackPublisher(load_publish_settings(cfg), http, credentials)
        run_id = save(store, [make_finding(FP_A)])
        report = publish_findings([slack], store, run_id, cfg)
    finally:
        http.close()
    assert report.ok and actions(report) == {"digest:run-1": "created", FP_A: "created"}
    assert len(fake.top_level()) == 1 and len(fake.messages) == 2


def test_a_finding_whose_recorded_fix_this_run_verified_is_listed_as_fix_verified() -> None:
    """The verdict of fix verification (``Finding.fix``) puts a still-recurring finding in the digest's
    'Fix verified' section; without a verified fix it stays in its own status."""
    from tracemine.publish.slack_blocks import digest_counts, digest_status

    verified = make_finding(FP_A, status="recurring")
    verified.fix = {"status": "fix-verified", "at": "2026-12-03T00:00:00Z"}
    pending = make_finding(FP_B, status="recurring")
    pending.fix = {"status": "awaiting-data"}
    assert digest_status(verified) == "fix-verified" and digest_status(pending) == "recurring"
    assert digest_counts([verified, pending, make_finding("tm-cccccccccccc", status="new")]) == {
        "new": 1, "regressed": 0, "fix-verified": 1}
