"""`tracemine show`: a trace as a tree with flagged spans and evidence, lookups by raw id and prefix,
redaction and markup escaping of trace text, findings in full, and clear errors."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from rich.console import Console

from tracemine.cli import main
from tracemine.model import Exemplar, Finding, Impact, span_order_key
from tracemine.placeholders import unmask
from tracemine.report.show import print_finding
from tracemine.store import Store

T0 = 1_761_955_200_000_000_000  # 2025-11-01T00:00:00Z
MS = 1_000_000
WIDE = {"COLUMNS": "1000"}  # no wrapping: a secret split across lines must not pass the test vacuously

API_KEY = "sk-live-4f9aQ2xLmN8pR7tVb3Kz1Wc6"
EMAIL = "jane.doe@example.com"
MARKUP = "[bold red]INJECTED[/bold red]"
RAW_ID = "5B8EFFF7-9803-8103-D269-B633813FC60C"
NORMALISED = "5b8efff798038103d269b633813fc60c"
TWIN_A = "abcdef0123456789" + "0" * 16
TWIN_B = "abcdef0123456789" + "1" * 16


def _span(trace: str, span: str, parent: str, start_ms: int, dur_ms: int, name: str, error: str | None = None,
          **attrs: object) -> dict:
    status = {"code": "STATUS_CODE_ERROR", "message": error} if error else {"code": "STATUS_CODE_OK", "message": ""}
    return {
        "trace_id": trace, "span_id": span, "parent_span_id": parent, "name": name, "kind": "SPAN_KIND_INTERNAL",
        "start_time": T0 + start_ms * MS, "end_time": T0 + (start_ms + dur_ms) * MS, "status": status,
        "attributes": attrs,
    }


def _fixture_spans() -> list[dict]:
    """A hand-written trace (source-spelled UUID id) with a secret and an email in a tool argument and
    rich markup in a result, plus two traces sharing a 16-character prefix."""
    args = orjson.dumps({"to": EMAIL, "api_key": API_KEY, "body": "line one\nline two"}).decode()
    return [
        _span(RAW_ID, "A000000000000001", "", 0, 900, "support-agent", **{"openinference.span.kind": "AGENT"}),
        _span(RAW_ID, "A000000000000002", "A000000000000001", 10, 300, "chat",
              **{"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini",
                 "llm.token_count.prompt": 1234, "llm.token_count.completion": 56}),
        _span(RAW_ID, "A000000000000003", "A000000000000001", 320, 200, "send_email",
              error="SMTP 550 mailbox unavailable",
              **{"openinference.span.kind": "TOOL", "tool.name": "send_email", "input.value": args,
                 "output.value": f"refused\n\n   {MARKUP} " + "x" * 400}),
        _span(TWIN_A, "b000000000000001", "", 0, 10, "twin-a", **{"openinference.span.kind": "AGENT"}),
        _span(TWIN_B, "b000000000000002", "", 5, 10, "twin-b", **{"openinference.span.kind": "AGENT"}),
    ]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Synthetic traces plus the hand-written fixture, ingested and detected once for the module."""
    tmp = tmp_path_factory.mktemp("show")
    runner = CliRunner()
    data = tmp / "traces"
    result = runner.invoke(main, ["synth", "--traces", "300", "--seed", "7", "--out", str(data)])
    assert result.exit_code == 0, result.output
    (data / "handwritten.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in _fixture_spans()))
    db = str(tmp / "a.duckdb")
    result = runner.invoke(main, ["detect", str(data), "--db", db, "--window", "3650d"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with Store(db, read_only=True) as store:
        signals = store.signals()
    return {"db": db, "signals": signals}


def _show(db: str, *args: str) -> object:
    return CliRunner().invoke(main, ["show", *args, "--db", db], env=WIDE, catch_exceptions=False)


def _line_of(output: str, needle: str) -> str:
    lines = [line for line in output.splitlines() if needle in line]
    assert lines, f"{needle!r} not in output:\n{output}"
    return lines[0]


def _depth(line: str) -> int:
    """Column of the tree guide (``├── ``/``└── ``) in front of a span."""
    match = re.search(r"[├└]── ", line)
    assert match, line
    return match.start()


def test_tree_shows_flagged_spans_with_evidence(archive: dict) -> None:
    for kind in ("loop", "silent_failure", "argument_error"):
        signal = next(s for s in archive["signals"] if s.kind == kind)
        others = [s for s in archive["signals"] if s.trace_id == signal.trace_id]
        result = _show(archive["db"], signal.trace_id)
        assert result.exit_code == 0, result.output
        out = result.output
        assert f"trace {signal.trace_id}" in out
        assert f"⚑ #{others.index(signal) + 1} {kind} ({signal.severity}, {signal.detector}): " in out
        assert unmask(signal.text, signal.evidence)[:60] in out  # the evidence line, placeholders worded
        assert "<num>" not in out and "<id>" not in out
        assert f"{len(others)} signal(s) from detection run #1" in out
        for span_id in signal.span_ids:
            flagged = _line_of(out, span_id)
            assert "▶" in flagged  # the span is highlighted …
        # … and its evidence line sits right under the first cited span
        lines = out.splitlines()
        first = next(i for i, line in enumerate(lines) if signal.span_ids[0] in line and "▶" in line)
        assert any(f"{kind} (" in line for line in lines[first + 1:first + 1 + len(others) + 1])


def test_tree_nesting_errors_and_models(archive: dict) -> None:
    signal = next(s for s in archive["signals"] if s.kind == "unrecovered_error")
    with Store(archive["db"], read_only=True) as store:
        spans = store.spans_of(signal.trace_id)
    by_id = {s.span_id: s for s in spans}
    result = _show(archive["db"], signal.trace_id)
    assert result.exit_code == 0, result.output
    out = result.output
    error_span = next(s for s in spans if s.status == "error")
    assert "ERROR" in _line_of(out, error_span.span_id)
    for span in spans:  # every child is nested one level under its parent
        if span.parent_span_id in by_id:
            assert _depth(_line_of(out, span.span_id)) == _depth(_line_of(out, span.parent_span_id)) + 4
    llm = next(s for s in spans if s.kind == "llm" and s.input_tokens)
    llm_line = _line_of(out, llm.span_id)
    assert f"model={llm.model}" in llm_line and f"in {llm.input_tokens:,}" in llm_line
    # execution order: siblings appear by start time
    root = next(s for s in spans if s.parent_span_id not in by_id)
    kids = sorted((s for s in spans if s.parent_span_id == root.span_id), key=span_order_key)
    assert len(kids) > 2
    positions = [out.index(s.span_id) for s in kids]
    assert positions == sorted(positions)


def test_raw_id_prefix_redaction_and_markup(archive: dict) -> None:
    db = archive["db"]
    result = _show(db, RAW_ID)
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"trace {NORMALISED}" in out and "(matched by raw_trace_id)" in out
    assert API_KEY not in out and EMAIL not in out and "jane.doe" not in out
    assert "[REDACTED:api_key]" in out and "[REDACTED:email]" in out
    assert MARKUP in out  # printed as written, not interpreted
    assert f"result: refused {MARKUP} xxx" in out  # multi-line result collapsed to one line
    assert "ERROR" in _line_of(out, "send_email") and "SMTP 550 mailbox unavailable" in out
    assert "(+" in _line_of(out, "result:")  # the 400-character result is trimmed …
    full = _show(db, RAW_ID, "--full")
    assert full.exit_code == 0
    assert "x" * 400 in full.output and API_KEY not in full.output  # … and shown whole with --full, still redacted
    assert _depth(_line_of(out, "send_email")) == _depth(_line_of(out, "support-agent")) + 4
    assert "model=gpt-4o-mini" in out and "in 1,234 / out 56" in out

    prefix = _show(db, NORMALISED[:10])
    assert prefix.exit_code == 0 and f"trace {NORMALISED}" in prefix.output and "(matched by prefix)" in prefix.output
    upper = _show(db, NORMALISED.upper())
    assert upper.exit_code == 0 and f"trace {NORMALISED}" in upper.output


def test_ambiguous_short_and_unknown_ids(archive: dict) -> None:
    db = archive["db"]
    twins = _show(db, TWIN_A[:12])
    assert twins.exit_code == 2
    assert TWIN_A in twins.output and TWIN_B in twins.output and "matches 2 traces" in twins.output
    for ident in ("nope-not-an-id", NORMALISED[:6], "ffffffffffffffffffff"):
        result = _show(db, ident)
        assert result.exit_code == 2
        assert "no trace or finding matches" in result.output
    missing = CliRunner().invoke(main, ["show", "abc", "--db", str(Path(db).with_name("none.duckdb"))])
    assert missing.exit_code == 2 and "no archive" in missing.output


def _finding() -> Finding:
    return Finding(
        fingerprint="a1b2c3d4e5f60718",
        title="`send_email` fails with SMTP 550 " + MARKUP,
        summary="The mail tool is refused.\nThe agent does not retry.",
        mechanism="Mailbox unavailable.",
        recommended_fix="Validate recipients first.",
        severity="high",
        kinds=["unrecovered_error"],
        impact=Impact(traces=3, window_traces=300, signals=4, tokens_wasted=5000, latency_wasted_ms=1500.0,
                      cost_wasted_usd=0.25),
        trace_ids=[f"{i:032x}" for i in range(3)],
        span_ids=[f"{i:016x}" for i in range(4)],
        cluster_ids=["unrecovered_error:1"],
        tools=["send_email"],
        agents=["support-agent"],
        models=["gpt-4o-mini"],
        first_seen_ns=T0,
        last_seen_ns=T0 + 86_400 * 10**9,
        exemplars=[Exemplar(f"{0:032x}", [f"{0:016x}"], f"refused for {EMAIL}\n<script>alert(1)</script>")],
        status="recurring",
        score=0.875,
    )


def test_print_finding_in_full() -> None:
    console = Console(record=True, width=300, color_system=None)
    print_finding(console, _finding())
    out = console.export_text()
    for text in ("a1b2c3d4e5f60718", "recurring", "high", "0.875", "The agent does not retry.", "Mailbox unavailable.",
                 "Validate recipients first.", "traces 3 of 300 (1.0%)", "tokens wasted 5,000", "send_email",
                 "support-agent", "gpt-4o-mini", "2025-11-01 00:00:00Z", "2025-11-02 00:00:00Z",
                 "<script>alert(1)</script>", "Trace ids (3)", "Span ids (4)", MARKUP):
        assert text in out, text
    assert all(f"{i:032x}" in out for i in range(3)) and all(f"{i:016x}" in out for i in range(4))
    assert EMAIL not in out and "[REDACTED:email]" in out


def test_show_finding_through_the_cli(archive: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    finding = _finding()

    def load_finding(store: object, fingerprint: str) -> Finding | None:
        if finding.fingerprint == fingerprint or (fingerprint.startswith("a1b2") and finding.fingerprint.startswith(fingerprint)):
            return finding
        if fingerprint == "ambiguous":
            raise LookupError("'ambiguous' matches 2 findings: aaaa, aaab")
        return None

    fake = types.ModuleType("tracemine.history")
    fake.load_finding = load_finding  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tracemine.history", fake)
    db = archive["db"]
    for ident in ("a1b2c3d4e5f60718", "a1b2c3"):
        result = _show(db, ident)
        assert result.exit_code == 0, result.output
        assert "fingerprint a1b2c3d4e5f60718" in result.output and MARKUP in result.output
    ambiguous = _show(db, "ambiguous")
    assert ambiguous.exit_code == 2 and "aaaa, aaab" in ambiguous.output
    # a trace id still wins over the finding lookup
    assert "trace " + NORMALISED in _show(db, RAW_ID).output

    monkeypatch.setitem(sys.modules, "tracemine.history", None)  # module not there yet: import fails
    result = _show(db, "a1b2c3d4e5f60718")
    assert result.exit_code == 2 and "no trace or finding matches" in result.output
