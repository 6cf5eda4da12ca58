"""Issue 12, secrets and trace text: a corpus of planted secrets and personal data (tests/fixtures/
secrets_corpus.json, one variant per entry) must not survive any output — redact() itself, a cut after
redaction, `mine` reports, `detect --out`, `cluster`, `show`, `ingest` and `stats --quarantine`, tracker
bodies and LLM prompts — whole or in part."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from tracemine.cli import main
from tracemine.redact import Redactor, placeholder, redact_cut

from conftest import FIXTURES

CORPUS: list[dict[str, Any]] = json.loads((FIXTURES / "secrets_corpus.json").read_text())
CORPUS_IDS = [entry["name"] for entry in CORPUS]

# ordinary trace content that must come out unchanged
BENIGN = [
    "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7 parent be12345678901234",
    "trace_id=de89370400440532013000aabbccddee span_id=be68539007547034",
    "request 550e8400-e29b-41d4-a716-446655440000 failed",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 and 9FCEB02D0AE598E95DC970B74767F19372D61AF8",
    "timestamps 1712345678 1712345678901 1712345678901234567 at 2024-01-15T10:30:00.123Z",
    "elapsed 2.5s, 1500ms, 2500000000ns, total $1,234.56 and 12345678.90 EUR",
    "model claude-3-5-sonnet-20241022 and gpt-4o-2024-08-06 and gemini-1.5-pro-002",
    "tool call call_AbC123dEf456GhI789jKl012 and toolu_01A09q90qw90lq917835lq9",
    "response resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b run_abc123",
    "pod web-7d9f8b6c5d-x2x4z, image sha256:4bf92f3577b34da6a3ce929d0e0e4736",
    "GET https://api.example.com/v1/orders?page=2&limit=50 200 in 120 ms",
    "Subscribed to the Basic plan; cookie policy accepted; the signature was invalid",
    "version 1.36.0 build 2024.01.15.1234 and 4.11.1111.1111",
    "order 48213 of customer 99120, invoice INV-2024-000123, ticket #123456",
    "ratio 0.4111111111111111 and base64 data aGVsbG8gd29ybGQ=",
    "max int 2147483647 and 4294967295 exceeded; sizes 1048576 and 268435456",
    "stripe charge ch_3MmlLrLkdIwHu7ix0snN0B15 and customer cus_NffrFeUfNV2Hib",
    "hash 5d41402abc4b2a76b9719d911017c592 in 2345 ms across 10000 calls",
    "see https://github.com/org/repo/pull/1234 and https://docs.example.com/a/b#section",
    "a 40-char path api/v1/Users/12345/Orders/67890/Items/1x",
    "sig=abc and sig=short, AccountName=tmstore, cookie: none",
]


def fragments(secret: str) -> list[str]:
    """What must not appear: the secret, and for long secrets every 12-character piece of it (a half)."""
    if len(secret) < 16:
        return [secret]
    return [secret[i : i + 12] for i in range(len(secret) - 11)]


def readable(text: str) -> str:
    """Output as a reader sees it: JSON, Markdown and HTML escapes undone."""
    out = [text, html.unescape(text), text.replace("\\", ""), html.unescape(text).replace("\\", "")]
    return "\n".join(out)


def strings_of(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [str(k), *strings_of(v)]]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings_of(v)]
    return [str(value)]


def leaks(text: str) -> list[str]:
    seen = readable(text)
    found = []
    for entry in CORPUS:
        for secret in entry["secrets"]:
            if any(piece in seen for piece in fragments(secret)):
                found.append(entry["name"])
    return found


def assert_clean(text: str, where: str) -> None:
    found = leaks(text)
    assert not found, f"{where}: {len(found)} planted secrets survive: {found}"


def json_text(path: Path) -> str:
    """Every string (keys too) of a JSON or JSON-lines file, one per line."""
    raw = path.read_text()
    try:
        docs = [json.loads(raw)]
    except json.JSONDecodeError:
        docs = [json.loads(line) for line in raw.splitlines() if line.strip()]
    return raw + "\n" + "\n".join(s for doc in docs for s in strings_of(doc))


# ------------------------------------------------------------------------------------------ redact()


def test_corpus_is_large_and_distinct() -> None:
    assert len(CORPUS) >= 60
    assert len(set(CORPUS_IDS)) == len(CORPUS_IDS)
    for entry in CORPUS:
        assert all(secret in entry["text"] for secret in entry["secrets"]), entry["name"]


@pytest.mark.parametrize("entry", CORPUS, ids=CORPUS_IDS)
def test_redact_removes_every_variant(entry: dict[str, Any]) -> None:
    out = Redactor().redact(entry["text"])
    assert not leaks(out), out
    assert "[REDACTED:" in out


@pytest.mark.parametrize("entry", CORPUS, ids=CORPUS_IDS)
def test_no_cut_leaves_half_a_secret(entry: dict[str, Any]) -> None:
    """Cut anywhere across the secret (as detectors and quarantine excerpts do): nothing of it remains."""
    text = "x" * 40 + " " + entry["text"] + " and more text after it"
    secret = entry["secrets"][0]
    start = text.index(secret)
    for cut in range(start, start + len(secret) + 1, max(1, len(secret) // 12)):
        out = redact_cut(text, cut)
        assert len(out) <= cut
        assert not leaks(out), (cut, out)


def test_benign_trace_content_is_kept() -> None:
    r = Redactor()
    for text in BENIGN:
        assert r.redact(text) == text
    assert r.stats == {}


def test_placeholders_are_typed() -> None:
    r = Redactor()
    out = " | ".join(r.redact(entry["text"]) for entry in CORPUS)
    labels = {label for label in ("api_key", "token", "secret", "password", "credentials", "aws_secret_key",
                                  "aws_access_key", "jwt", "private_key", "email", "phone", "ssn", "iban", "card")
              if placeholder(label) in out}
    assert len(labels) == 14
    assert not leaks(out)
    assert any(name.startswith("ds_") for name in r.stats)  # detect-secrets plugins do part of the work


# ------------------------------------------------------------------------------------------ outputs


def _span(trace_id: str, span_id: str, parent: str, name: str, start: str, end: str, **attrs: Any) -> dict:
    return {"trace_id": trace_id, "span_id": span_id, "parent_span_id": parent, "name": name,
            "start_time": start, "end_time": end, "status": attrs.pop("status", {"code": "STATUS_CODE_UNSET",
                                                                                   "message": ""}),
            "events": [], "attributes": attrs}


def write_traces(folder: Path) -> list[str]:
    """One trace per corpus entry: a `send_report` call that returns ``ok: false`` with the entry's text in
    its error (the secret placed at varying offsets, so some straddle the detectors' 200-character cuts),
    its arguments and the agent's answer; plus one failing (status ERROR) call per entry."""
    lines: list[dict] = []
    trace_ids = []
    for i, entry in enumerate(CORPUS):
        trace_id = f"{i + 1:032x}"
        trace_ids.append(trace_id)
        agent, tool, tool2 = f"a{i:015x}", f"b{i:015x}", f"c{i:015x}"
        day, sec = 10 + i % 9, i % 50
        start, end = f"2026-10-{day}T10:00:{sec:02d}.000000000Z", f"2026-10-{day}T10:00:{sec:02d}.900000000Z"
        pad = "delivery failed for the nightly report because the upstream rejected it " * 3
        pad = pad[: 120 + (i * 13) % 110]
        lines.append(_span(trace_id, agent, "", "invoke_agent reporter", start, end,
                           **{"openinference.span.kind": "AGENT", "agent.name": "reporter",
                              "input.value": f"Send the report; context: {entry['text']}",
                              "output.value": f"Done, the report was sent. {entry['text']}"}))
        lines.append(_span(trace_id, tool, agent, "execute_tool send_report", start, end,
                           **{"openinference.span.kind": "TOOL", "tool.name": "send_report",
                              "input.value": json.dumps({"channel": "ops", "note": pad + entry["text"]}),
                              "output.value": json.dumps({"ok": False, "error": pad + entry["text"]})}))
        lines.append(_span(trace_id, tool2, agent, "execute_tool fetch_config", start, end,
                           status={"code": "STATUS_CODE_ERROR", "message": pad[:90] + entry["text"]},
                           **{"openinference.span.kind": "TOOL", "tool.name": "fetch_config",
                              "input.value": json.dumps({"name": "mailer"}),
                              "output.value": pad[:60] + entry["text"]}))
    (folder / "reporter.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return trace_ids


def write_bad_records(path: Path) -> None:
    """Records the readers reject, each carrying a corpus text: broken JSON (secret across the 200-character
    excerpt) and objects of no known shape (secret in a key, which the reason names)."""
    rows = []
    for i, entry in enumerate(CORPUS):
        pad = "p" * (150 + (i * 7) % 60)
        rows.append('{"note": "' + pad + entry["text"].replace("\n", " ").replace('"', "'") + '", ')
        rows.append(json.dumps({entry["text"]: 1, "weird": entry["text"]}))
    path.write_text("\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("secrets")
    data = tmp / "traces"
    data.mkdir()
    trace_ids = write_traces(data)
    write_bad_records(tmp / "bad.jsonl")
    db, out = tmp / "a.duckdb", tmp / "report"
    runner = CliRunner()
    ingest = runner.invoke(main, ["ingest", str(data), str(tmp / "bad.jsonl"), "--db", str(db)],
                           catch_exceptions=False)
    assert ingest.exit_code == 0, ingest.output
    mined = runner.invoke(main, ["mine", "--db", str(db), "--out", str(out), "--window", "30d"],
                          catch_exceptions=False)
    assert mined.exit_code == 0, mined.output
    return {"tmp": tmp, "db": db, "out": out, "ingest": ingest.output, "mine": mined.output, "trace_ids": trace_ids}


def test_mine_reports_and_terminal(planted: dict[str, Any]) -> None:
    document = json.loads((planted["out"] / "findings.json").read_text())
    assert any("send_report" in f["title"] + " ".join(f["tools"]) for f in document["findings"])
    assert_clean(json_text(planted["out"] / "findings.json"), "findings.json")
    assert_clean((planted["out"] / "report.md").read_text(), "report.md")
    assert_clean((planted["out"] / "report.html").read_text(), "report.html")
    assert_clean(planted["mine"], "mine terminal output")


def test_ingest_summary_and_quarantine(planted: dict[str, Any]) -> None:
    assert "rejected" in planted["ingest"]
    assert_clean(planted["ingest"], "ingest summary")
    runner = CliRunner()
    listed = runner.invoke(main, ["stats", "--db", str(planted["db"]), "--quarantine", "--limit", "0"])
    assert listed.exit_code == 0 and "bad.jsonl" in listed.output
    assert_clean(listed.output, "stats --quarantine")
    as_json = runner.invoke(main, ["stats", "--db", str(planted["db"]), "--quarantine", "--limit", "0", "--json"])
    assert as_json.exit_code == 0
    records = json.loads(as_json.output)["quarantine_records"]
    assert len(records) >= len(CORPUS) and any(r["excerpt"] for r in records)
    assert_clean(as_json.output + "\n" + "\n".join(strings_of(records)), "stats --quarantine --json")


def test_detect_out_and_cluster(planted: dict[str, Any]) -> None:
    runner = CliRunner()
    out = planted["tmp"] / "signals.jsonl"
    detected = runner.invoke(main, ["detect", "--db", str(planted["db"]), "--out", str(out)],
                             catch_exceptions=False)
    assert detected.exit_code == 0, detected.output
    signals = [json.loads(line) for line in out.read_text().splitlines()]
    assert {s["trace_id"] for s in signals} >= set(planted["trace_ids"][:10])
    assert all(s["text"] for s in signals)
    assert_clean(json_text(out), "detect --out signals.jsonl")
    assert_clean("\n".join(s["text"] for s in signals), "signals' text field")
    assert_clean(detected.output, "detect terminal output")
    clustered = runner.invoke(main, ["cluster", "--db", str(planted["db"]), "--top", "50"], catch_exceptions=False)
    assert clustered.exit_code == 0, clustered.output
    assert_clean(clustered.output, "cluster output")


def test_show_finding_and_trace(planted: dict[str, Any]) -> None:
    document = json.loads((planted["out"] / "findings.json").read_text())
    runner = CliRunner()
    for ident in (document["findings"][0]["fingerprint"], planted["trace_ids"][0], planted["trace_ids"][-1]):
        shown = runner.invoke(main, ["show", ident, "--db", str(planted["db"]), "--full"], catch_exceptions=False)
        assert shown.exit_code == 0, shown.output
        assert_clean(shown.output, f"show {ident}")


def test_tracker_bodies(planted: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from publish_server import FakeTrackers

    with FakeTrackers(token="t0ken-fake", webhook_secret="hook-secret") as fake:
        config = planted["tmp"] / "publish.yaml"
        config.write_text(yaml.safe_dump({"publish": {
            "min_severity": "low", "min_traces": 1, "retries": 0, "timeout_s": 5,
            "github": {"repo": "acme/agents", "api_url": f"{fake.url}/gh", "token_env": "GITHUB_TOKEN"},
            "gitlab": {"project": "acme/agents", "api_url": f"{fake.url}/gl/api/v4", "token_env": "GITLAB_TOKEN"},
            "webhook": {"url": f"{fake.url}/hook"},
        }}))
        monkeypatch.setenv("GITHUB_TOKEN", "t0ken-fake")
        monkeypatch.setenv("GITLAB_TOKEN", "t0ken-fake")
        monkeypatch.setenv("TRACEMINE_WEBHOOK_SECRET", "hook-secret")
        runner = CliRunner()
        base = ["--config", str(config), "publish", "--db", str(planted["db"]), "--to", "github", "--to", "gitlab",
                "--to", "webhook"]
        dry = runner.invoke(main, [*base, "--dry-run"], catch_exceptions=False)
        assert dry.exit_code == 0, dry.output
        assert_clean(dry.output, "publish --dry-run")
        live = runner.invoke(main, base, catch_exceptions=False)
        assert live.exit_code == 0, live.output
        bodies = [json.dumps(r.body) for r in fake.requests if r.body]
        assert len(bodies) >= 3 and any("send_report" in b for b in bodies)
        assert_clean("\n".join(bodies), "tracker requests")
        assert_clean(live.output, "publish output")


def test_llm_prompts(planted: dict[str, Any]) -> None:
    import tracemine
    from tracemine.summarise.llm import import_litellm

    prompts: list[str] = []
    answer = json.dumps({"title": "Reports fail quietly", "summary": "The tool returns ok false.",
                         "mechanism": "Errors in the result body.", "recommended_fix": "Raise on ok false.",
                         "exemplar_refs": ["E1"]})

    def completion(**kwargs: Any) -> Any:
        prompts.append(json.dumps(kwargs["messages"]))
        return import_litellm().completion(**kwargs, mock_response=answer)

    result = tracemine.mine(db=planted["db"], window="30d", out=planted["tmp"] / "llm", llm="gpt-4o-mini",
                            llm_options={"completion": completion})
    assert prompts and any("send_report" in p for p in prompts)
    assert any(f.summariser.startswith("llm:") for f in result)
    assert_clean("\n".join(prompts), "LLM prompts")
