"""Issue 12, LLM output is data: ids an LLM writes are checked against what the summarised node cites
(unknown ones removed and counted, the count in the run's stats and findings.json), and mentions or links
provoked by trace text never become live in report.md or tracker bodies."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from test_secret_corpus import write_traces
from tracemine.cli import main
from tracemine.report.markdown import md_prose, md_text
from tracemine.summarise.base import Brief, ExemplarBrief, Summary
from tracemine.summarise.llm_output import check_ids, check_summary, cited_ids

KNOWN_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
KNOWN_SPAN = "00f067aa0ba902b7"
MADE_UP = ["9e107d9d372bb6826bd81d3542a419d6", "123e4567-e89b-12d3-a456-426614174000", "tm-deadbeef0042",
           "trace_7f3a9c2e1b", "span-00421abc"]
LIVE_MENTION = re.compile(r"(?<![\w&;])@[A-Za-z0-9]")


def brief() -> Brief:
    child = Brief(node_id="tm-0123456789ab", level="finding", kinds=["silent_failure"], signals=3, traces=3,
                  window_traces=10, severity="high",
                  exemplars=[ExemplarBrief("E1", KNOWN_TRACE, [KNOWN_SPAN], "send_report", "failed")])
    return Brief(node_id="theme-1", level="theme", kinds=["silent_failure"], signals=3, traces=3,
                 window_traces=10, severity="high", children=[child])


def test_unknown_ids_are_removed_and_counted_known_ones_kept() -> None:
    allowed = cited_ids(brief())
    assert {KNOWN_TRACE, KNOWN_SPAN, "tm-0123456789ab", "theme-1"} <= allowed
    text = (f"Seen in trace {KNOWN_TRACE} (span {KNOWN_SPAN}), like finding tm-0123456789ab; also trace "
            f"{MADE_UP[0]}, request {MADE_UP[1]}, finding {MADE_UP[2]}, {MADE_UP[3]} and {MADE_UP[4]}; "
            "span_id=s-0042x and trace t-0042 failed after 1200ms in 3 traces, 2 spans, trace 12.")
    out, removed = check_ids(text, allowed)
    assert removed == 7
    for made_up in [*MADE_UP, "s-0042x", "t-0042"]:
        assert made_up not in out
    assert KNOWN_TRACE in out and KNOWN_SPAN in out and "tm-0123456789ab" in out
    assert "1200ms" in out and "3 traces" in out and "trace 12." in out
    assert out.count("[id]") == 7


def test_check_summary_counts_over_all_texts() -> None:
    s = Summary(title=f"Fails in {MADE_UP[0]}", summary=f"see {MADE_UP[2]}", mechanism="none",
                recommended_fix=f"fix {KNOWN_TRACE}")
    checked = check_summary(s, brief())
    assert checked.ids_removed == 2
    assert MADE_UP[0] not in checked.title and MADE_UP[2] not in checked.summary
    assert KNOWN_TRACE in checked.recommended_fix


def test_markdown_neutralises_mentions_issue_refs_and_links() -> None:
    text = "Ping @org/team and @alice about #12 and org/repo#34; mail ops@example.org; see https://evil.example/x"
    for out in (md_text(text), md_prose(text), md_prose(text, cell=True)):
        assert not LIVE_MENTION.search(out)
        assert not re.search(r"(?<!&)#\d", out)
        assert "https://" not in out and "](" not in out
        assert "@&#8203;org/team" in out and "@&#8203;alice" in out
        assert "ops@example.org" in out  # an email's @ is no mention
    assert "`@code`" in md_prose("keep `@code` as code")


# ------------------------------------------------------------------------------------------ end to end

ANSWER = {
    "title": "Reports fail quietly, ping @org/oncall",
    "summary": (f"Seen in trace {MADE_UP[0]} and finding {MADE_UP[2]}; cc @alice. "
                "Details: [click here](https://evil.example/steal) or https://evil.example/x"),
    "mechanism": f"The tool returns ok false (span {MADE_UP[4]}).",
    "recommended_fix": "Raise on ok false; see #123.",
    "exemplar_refs": ["E1"],
}


@pytest.fixture(scope="module")
def llm_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import tracemine
    from tracemine.summarise.llm import import_litellm

    tmp = tmp_path_factory.mktemp("llm_output")
    (tmp / "traces").mkdir()
    write_traces(tmp / "traces")
    db = tmp / "a.duckdb"
    assert CliRunner().invoke(main, ["ingest", str(tmp / "traces"), "--db", str(db), "-q"]).exit_code == 0

    def completion(**kwargs: Any) -> Any:
        return import_litellm().completion(**kwargs, mock_response=json.dumps(ANSWER))

    result = tracemine.mine(db=db, window="30d", out=tmp / "report", llm="gpt-4o-mini",
                            llm_options={"completion": completion})
    return {"tmp": tmp, "db": db, "result": result}


def test_llm_ids_removed_and_counted_in_stats_and_json(llm_run: dict[str, Any]) -> None:
    result = llm_run["result"]
    assert any(f.summariser.startswith("llm:") for f in result)
    removed = result.stats["summaries"]["ids_removed"]
    assert removed >= 3 * sum(1 for f in result if f.summariser.startswith("llm:"))
    document = json.loads((llm_run["tmp"] / "report" / "findings.json").read_text())
    assert document["llm_usage"]["ids_removed"] == removed
    dumped = json.dumps(document)
    for made_up in MADE_UP:
        assert made_up not in dumped
    markdown = (llm_run["tmp"] / "report" / "report.md").read_text()
    assert "id(s) the LLM wrote but no finding cites removed" in markdown
    for made_up in MADE_UP:
        assert made_up not in markdown


def test_llm_mentions_and_links_are_dead_in_markdown_and_trackers(llm_run: dict[str, Any],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from publish_server import FakeTrackers

    markdown = (llm_run["tmp"] / "report" / "report.md").read_text()
    assert "oncall" in markdown and not LIVE_MENTION.search(markdown)
    assert "](https://evil" not in markdown and "https://evil" not in markdown
    with FakeTrackers(token="t0ken-fake") as fake:
        config = llm_run["tmp"] / "publish.yaml"
        config.write_text(yaml.safe_dump({"publish": {
            "min_severity": "low", "min_traces": 1, "retries": 0, "timeout_s": 5,
            "github": {"repo": "acme/agents", "api_url": f"{fake.url}/gh", "token_env": "GITHUB_TOKEN"},
            "gitlab": {"project": "acme/agents", "api_url": f"{fake.url}/gl/api/v4", "token_env": "GITLAB_TOKEN"},
        }}))
        monkeypatch.setenv("GITHUB_TOKEN", "t0ken-fake")
        monkeypatch.setenv("GITLAB_TOKEN", "t0ken-fake")
        published = CliRunner().invoke(main, ["--config", str(config), "publish", "--db", str(llm_run["db"]),
                                              "--to", "github", "--to", "gitlab"], catch_exceptions=False)
        assert published.exit_code == 0, published.output
        bodies = [r.body.get("body") or r.body.get("description") or "" for r in fake.requests
                  if isinstance(r.body, dict)]
        bodies = [b for b in bodies if b]
        assert bodies and any("alice" in b for b in bodies)
        for body in bodies:
            assert not LIVE_MENTION.search(body), body
            assert not re.search(r"(?<!&)#\d", body)
            assert "https://evil" not in body and "](https://evil" not in body
            for made_up in MADE_UP:
                assert made_up not in body
        for made_up in MADE_UP:
            assert made_up not in published.output


def test_terminal_shows_no_made_up_ids(llm_run: dict[str, Any]) -> None:
    shown = CliRunner().invoke(main, ["show", llm_run["result"][0].fingerprint, "--db", str(llm_run["db"])])
    assert shown.exit_code == 0, shown.output
    for made_up in MADE_UP:
        assert made_up not in shown.output
