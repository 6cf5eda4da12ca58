"""`tracemine mine` end to end: synthetic traces with injected failures → ranked findings citing verified
trace and span ids, reports in three formats, run history; offline, with real embeddings."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from tracemine.cli import main
from tracemine.history import load_finding, run_findings
from tracemine.report.jsonout import validate_document
from tracemine.store import Store

SECRET_KEY = "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
SECRET_EMAIL = "jane.doe@example.org"
SECRET_BEARER = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
SECRETS = (SECRET_KEY, SECRET_EMAIL, SECRET_BEARER.split()[1])


def write_secret_traces(path: Path, n: int = 8) -> list[str]:
    """``n`` flat-JSONL traces whose `notify_customer` call reports OK while its result says it failed, with
    an API key, an email and a bearer token in the arguments and result."""
    lines, trace_ids = [], []
    for i in range(n):
        trace_id = f"{i + 1:032x}"
        trace_ids.append(trace_id)
        agent, tool = f"a{i:015x}", f"b{i:015x}"
        start = f"2026-10-2{i % 7}T10:00:0{i % 9}"
        base = {"trace_id": trace_id, "status": {"code": "STATUS_CODE_UNSET", "message": ""}, "events": []}
        lines.append({**base, "span_id": agent, "parent_span_id": "", "name": "invoke_agent notifier",
                      "start_time": f"{start}.000000000Z", "end_time": f"{start}.900000000Z",
                      "attributes": {"openinference.span.kind": "AGENT", "agent.name": "notifier",
                                     "input.value": f"Tell {SECRET_EMAIL} their order shipped",
                                     "output.value": "Done, the customer has been notified."}})
        lines.append({**base, "span_id": tool, "parent_span_id": agent, "name": "execute_tool notify_customer",
                      "start_time": f"{start}.100000000Z", "end_time": f"{start}.800000000Z",
                      "attributes": {
                          "openinference.span.kind": "TOOL", "tool.name": "notify_customer",
                          "input.value": json.dumps({"to": SECRET_EMAIL, "auth": SECRET_BEARER}),
                          "output.value": json.dumps({"ok": False, "error": f"SMTP login rejected for key {SECRET_KEY} "
                                                                            f"sending to {SECRET_EMAIL}"})}})
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return trace_ids


@pytest.fixture(scope="module")
def mined(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("mine")
    runner = CliRunner()
    data = tmp / "traces"
    result = runner.invoke(main, ["synth", "--traces", "600", "--seed", "5", "--out", str(data)])
    assert result.exit_code == 0, result.output
    (tmp / "extra").mkdir()
    secret_ids = write_secret_traces(tmp / "extra" / "notifier.jsonl")
    db, out = tmp / "m.duckdb", tmp / "report"
    result = runner.invoke(main, ["mine", str(data), str(tmp / "extra"), "--db", str(db), "--out", str(out),
                                  "--window", "30d", "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return {"tmp": tmp, "data": data, "db": db, "out": out, "output": result.output, "secret_ids": secret_ids}


def test_mine_writes_valid_reports_with_verified_citations(mined: dict) -> None:
    document = json.loads((mined["out"] / "findings.json").read_text())
    validate_document(document)
    findings = document["findings"]
    assert 10 <= len(findings) <= 20
    assert [f["rank"] for f in findings] == list(range(1, len(findings) + 1))
    assert [f["score"] for f in findings] == sorted((f["score"] for f in findings), reverse=True)
    with Store(mined["db"], read_only=True) as store:
        pairs = set(store.con.execute("SELECT trace_id, span_id FROM spans").fetchall())
    traces = {t for t, _ in pairs}
    for f in findings:
        assert f["title"] and f["summary"] and f["recommended_fix"] and f["mechanism"]
        assert f["trace_ids"] and set(f["trace_ids"]) <= traces
        assert f["impact"]["traces"] == len(f["trace_ids"])
        for exemplar in f["exemplars"]:
            assert all((exemplar["trace_id"], s) in pairs for s in exemplar["span_ids"])
    assert (mined["out"] / "report.md").read_text().count("tm-") >= len(findings)
    html = (mined["out"] / "report.html").read_text()
    assert findings[0]["fingerprint"] in html and "<svg" in html
    # the terminal table names the top finding and the run's figures
    assert findings[0]["fingerprint"] in mined["output"]
    assert "cited spans verified in the archive" in mined["output"]


def test_findings_follow_injected_modes(mined: dict) -> None:
    """Each injected bug (a mode at one site: agent and tool) is one finding; no finding spans two tools or
    two agents; modes seen in several agents form themes above their findings."""
    sites: dict[tuple[str, str, str, str], set[str]] = {}
    for line in (mined["data"] / "labels.jsonl").read_text().splitlines():
        label = json.loads(line)
        sites.setdefault((label["kind"], label["mode"], label["agent"], label["tool"] or ""), set()).add(
            label["trace_id"])
    with Store(mined["db"], read_only=True) as store:
        findings = run_findings(store)
    cited = [set(f.trace_ids) for f in findings]
    checked = 0
    for (kind, mode, agent, tool), traces in sites.items():
        # outliers need more data than 600 traces give
        if kind in ("recovered_error", "outlier") or len(traces) < 4:
            continue
        best = max(range(len(cited)), key=lambda i: len(cited[i] & traces))
        assert len(cited[best] & traces) / len(traces) >= 0.8, (kind, mode, agent, tool)
        assert len(cited[best] - traces) / len(cited[best]) <= 0.2, (kind, mode, agent, tool)
        assert findings[best].key["agent"] == agent
        checked += 1
    assert checked >= 5
    for f in findings:
        assert f.key and f.key["kind"] == f.kinds[0]
        assert len(f.agents) <= 1, (f.title, f.agents)
        if f.tools:  # one tool, or the tools of one cycle
            assert set(f.tools) == set(f.key["subject"].split(" ↔ ")), (f.title, f.tools, f.key)
    document = json.loads((mined["out"] / "findings.json").read_text())
    assert document["themes"], "modes injected in several agents share a mechanism: themes"
    fingerprints = {f["fingerprint"] for f in document["findings"]}
    for theme in document["themes"]:
        assert theme["theme_id"].startswith("th-") and len(theme["findings"]) >= 2
        assert fingerprints & set(theme["findings"])
        assert theme["title"] and theme["recommended_fix"]
    assert document["breakdown"]["agents"] and document["breakdown"]["tools"]


def test_secrets_never_reach_reports(mined: dict) -> None:
    with Store(mined["db"], read_only=True) as store:
        findings = run_findings(store)
    planted = [f for f in findings if set(mined["secret_ids"]) <= set(f.trace_ids)]
    assert planted, "the planted silent failure must be a finding"
    assert "notify_customer" in planted[0].tools
    for name in ("findings.json", "report.md", "report.html"):
        text = (mined["out"] / name).read_text()
        for secret in SECRETS:
            assert secret not in text, (name, secret)
    for secret in SECRETS:
        assert secret not in mined["output"]


def test_rerun_keeps_fingerprints_and_history(mined: dict, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "again"
    result = runner.invoke(main, ["mine", "--db", str(mined["db"]), "--out", str(out), "--window", "30d", "-q",
                                  "--max-findings", "5"])
    assert result.exit_code == 0, result.output
    first = json.loads((mined["out"] / "findings.json").read_text())["findings"]
    second = json.loads((out / "findings.json").read_text())["findings"]
    assert len(second) == 5
    assert [f["fingerprint"] for f in second] == [f["fingerprint"] for f in first[:5]]
    with Store(mined["db"], read_only=True) as store:
        runs = store.con.execute("SELECT count(*) FROM mine_runs").fetchone()[0]
        assert runs >= 2
        top = load_finding(store, second[0]["fingerprint"][:8])
    assert top is not None and top.fingerprint == second[0]["fingerprint"]


def test_library_mine_returns_findings(mined: dict, tmp_path: Path) -> None:
    import tracemine

    result = tracemine.mine(db=mined["db"], window="30d", max_findings=3, out=tmp_path / "lib")
    assert len(result) == 3 and result[0].fingerprint == result.findings[0].fingerprint
    assert len(result.all_findings) >= len(result)
    assert (tmp_path / "lib" / "findings.json").exists()
    assert result.stats["citations"]["dropped"] == 0
    assert orjson.loads((tmp_path / "lib" / "findings.json").read_bytes())["totals"]["findings"] == 3


def test_mine_without_archive_or_paths_fails_clearly(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["mine", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2 and "no archive" in result.output
    bad = CliRunner().invoke(main, ["mine", "--db", str(tmp_path / "none.duckdb"), str(tmp_path), "--window", "soon"])
    assert bad.exit_code == 2


def test_llm_summaries_are_bounded_redacted_and_fall_back(mined: dict, tmp_path: Path) -> None:
    """`--llm` through litellm's mock_response: every prompt captured; no planted secret in any prompt or
    report; calls bounded by the reported findings; a budget stop falls back to offline summaries."""
    import tracemine
    from tracemine.summarise.llm import import_litellm

    prompts: list[str] = []
    answer = json.dumps({"title": "Notifier reports success on failed sends", "summary": "The tool fails quietly.",
                         "mechanism": "Errors are returned in the result body.",
                         "recommended_fix": "Mark the span as an error.", "exemplar_refs": ["E1", "E99"]})

    def completion(**kwargs: object) -> object:
        prompts.append(json.dumps(kwargs["messages"]))
        return import_litellm().completion(**kwargs, mock_response=answer)

    result = tracemine.mine(db=mined["db"], window="30d", max_findings=4, out=tmp_path / "llm", llm="gpt-4o-mini",
                            llm_options={"completion": completion})
    usage = result.stats["llm_usage"]
    assert usage["calls"] == len(prompts) > 0
    assert len(prompts) <= 4 * 8 + 4 + 1  # leaves + findings of the 4 reported findings, their themes, an overview
    assert all(f.summariser == "llm:gpt-4o-mini" for f in result)
    assert result[0].title == "Notifier reports success on failed sends"
    assert all(f.summariser == "offline" for f in result.all_findings[4:])
    planted = next(f for f in result.all_findings if set(mined["secret_ids"]) <= set(f.trace_ids))
    secret_result = tracemine.mine(db=mined["db"], window="30d", max_findings=len(result.all_findings),
                                   out=tmp_path / "llm2", llm="gpt-4o-mini", llm_options={"completion": completion})
    assert any(f.fingerprint == planted.fingerprint and f.summariser.startswith("llm:") for f in secret_result)
    for prompt in prompts:
        for secret in SECRETS:
            assert secret not in prompt
    assert any("notify_customer" in p for p in prompts)  # the planted finding was really sent
    for name in ("findings.json", "report.md", "report.html"):
        text = (tmp_path / "llm2" / name).read_text()
        assert not any(secret in text for secret in SECRETS)
        assert "notify_customer" in text

    budget = tmp_path / "budget.yaml"
    budget.write_text("summarise:\n  llm:\n    max_calls: 2\n")
    limited = tracemine.mine(db=mined["db"], window="30d", max_findings=6, llm="gpt-4o-mini", config=budget,
                             llm_options={"completion": completion})
    assert limited.stats["llm_usage"]["calls"] == 2
    assert any("budget" in f.summariser for f in limited)
