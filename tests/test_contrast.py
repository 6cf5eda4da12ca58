"""The ``contrast`` detector: tool-call features over-represented in failed traces, with Fisher exact
tests, Benjamini–Hochberg control and one feature per cause; end to end through ``mine``."""

from __future__ import annotations

import json
from pathlib import Path
from random import Random

import pytest
from scipy.stats import false_discovery_control, fisher_exact

from tracemine.detect.builtin.contrast import (
    ContrastDetector,
    benjamini_hochberg,
    fisher_greater,
    value_class,
)
from tracemine.detect.runner import DetectReport, detect_traces
from tracemine.model import Outcome, Span, SpanKind, Status, Trace


def _run(i: int, priority: str, *, failed: bool, extra_tool: bool) -> Trace:
    """A ticketing run: look the customer up, open a ticket with a priority; sometimes also tag it."""
    tid = f"{i:032x}"
    spans = [Span(trace_id=tid, span_id=f"{i:08x}00000000", name="agent", kind=SpanKind.AGENT, start_ns=0,
                  end_ns=100, agent_name="helpdesk")]

    def call(n: int, tool: str, args: dict, result: dict) -> Span:
        return Span(trace_id=tid, span_id=f"{i:08x}{n:08x}", parent_span_id=f"{i:08x}00000000", name=tool,
                    kind=SpanKind.TOOL, start_ns=n * 10, end_ns=n * 10 + 5, status=Status.OK, tool_name=tool,
                    tool_arguments=json.dumps(args), tool_result=json.dumps(result))

    spans.append(call(1, "find_customer", {"email_hash": f"h{i}"}, {"customer": f"C{i}"}))
    spans.append(call(2, "open_ticket", {"customer": f"C{i}", "priority": priority, "summary": "printer on fire"},
                      {"ticket": f"T{i}"}))
    if extra_tool:
        spans.append(call(3, "tag_ticket", {"ticket": f"T{i}", "tag": "hardware"}, {"ok": True}))
    return Trace(tid, spans, Outcome.FAILURE if failed else Outcome.SUCCESS)


def _window(n: int = 300, seed: int = 3) -> list[Trace]:
    """``priority=urgent`` fails 80 % of the time, other priorities 20 %; tagging is unrelated to outcome."""
    rng = Random(seed)
    traces = []
    for i in range(n):
        urgent = rng.random() < 0.2
        failed = rng.random() < (0.8 if urgent else 0.2)
        traces.append(_run(i, "urgent" if urgent else rng.choice(["low", "normal"]), failed=failed,
                           extra_tool=rng.random() < 0.5))
    return traces


def _detect(traces: list[Trace], **settings: object) -> list:
    detector = ContrastDetector(settings)
    return detect_traces(lambda: traces, [detector], DetectReport(None, None, ["contrast"]))


def test_statistics_match_scipy() -> None:
    for table in ((8, 2, 3, 12), (5, 5, 5, 5), (0, 10, 4, 6), (12, 0, 1, 30)):
        a, b, c, d = table
        expected = fisher_exact([[a, b], [c, d]], alternative="greater").pvalue
        assert fisher_greater(a, b, c, d) == pytest.approx(expected, rel=1e-9)
    pvalues = [0.01, 0.04, 0.03, 0.5, 0.002, 0.2]
    assert benjamini_hochberg(pvalues) == pytest.approx(list(false_discovery_control(pvalues, method="bh")))
    assert [value_class(v) for v in (None, True, 3, [], [1], {}, "urgent", "ORD-123", "a longer free text here")] \
        == ["null", "true", "number", "empty", "list", "empty", "urgent", "id", "text"]


def test_a_failure_prone_argument_value_is_one_contrast_citing_its_calls() -> None:
    traces = _window()
    signals = _detect(traces)
    features = {s.evidence["feature"] for s in signals}
    assert features == {"open_ticket(priority=urgent)"}, features  # not tool/argument/other values, not tagging
    failed_urgent = {t.trace_id for t in traces if t.outcome == Outcome.FAILURE
                     and any(s.tool_arguments and '"urgent"' in s.tool_arguments for s in t.spans)}
    assert {s.trace_id for s in signals} == failed_urgent
    for s in signals:
        assert s.kind == "contrast" and s.evidence["family"] == "open_ticket(priority=urgent)"
        assert s.evidence["q_value"] <= 0.05 and s.evidence["rate_with"] > s.evidence["rate_without"] + 0.2
        assert all(span.endswith("00000002") for span in s.span_ids)  # the open_ticket call


def test_no_outcomes_or_no_difference_gives_nothing() -> None:
    unknown = [Trace(t.trace_id, t.spans, Outcome.UNKNOWN) for t in _window()]
    assert _detect(unknown) == []
    rng = Random(9)
    alike = [_run(i, rng.choice(["low", "urgent"]), failed=rng.random() < 0.3, extra_tool=False) for i in range(300)]
    assert _detect(alike) == []
    assert _detect(_window(30)) == []  # fewer known outcomes than min_known


@pytest.mark.slow
def test_mine_reports_contrast_findings_with_lift(tmp_path: Path) -> None:
    """Through the archive: outcomes from τ-bench-style results reach the detector, the finding and its lift."""
    import tracemine

    rng = Random(5)
    records = []
    for i in range(120):
        urgent = i % 4 == 0
        failed = rng.random() < (0.85 if urgent else 0.15)
        records.append({
            "task_id": i, "trial": 0, "reward": 0.0 if failed else 1.0, "info": {"task": {"instruction": "help"}},
            "traj": [
                {"role": "user", "content": "my printer is on fire"},
                {"role": "assistant", "content": None, "tool_calls": [{"id": f"c{i}", "type": "function", "function": {
                    "name": "open_ticket",
                    "arguments": json.dumps({"priority": "urgent" if urgent else "normal", "summary": "fire"})}}]},
                {"role": "tool", "tool_call_id": f"c{i}", "name": "open_ticket", "content": f"ticket T{i} opened"},
                {"role": "assistant", "content": "Done."},
            ]})
    (tmp_path / "runs.json").write_text(json.dumps(records))
    result = tracemine.mine([str(tmp_path / "runs.json")], db=tmp_path / "c.duckdb", max_findings=50)
    contrasts = [f for f in result.all_findings if f.kinds == ["contrast"]]
    assert len(contrasts) == 1, [f.title for f in result.all_findings]
    f = contrasts[0]
    assert f.key["family"] == "open_ticket(priority=urgent)" and f.key["subject"] == "open_ticket"
    assert f.outcome is not None and f.outcome["ci_low"] > 0
    assert "open_ticket(priority=urgent)" in f.title
