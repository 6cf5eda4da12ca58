"""Outcome lift: failure rates with and without a finding, Newcombe's interval, ranking, and τ-bench end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracemine.lift import finding_lifts, lift_of, wilson
from tracemine.model import Finding, Impact
from tracemine.rank import score

from conftest import DATASETS


def test_wilson_and_newcombe_match_the_published_example() -> None:
    low, high = wilson(81, 263)  # Newcombe (1998), Statistics in Medicine 17: 0.2553–0.3662
    assert low == pytest.approx(0.2553, abs=1e-4) and high == pytest.approx(0.3662, abs=1e-4)
    lift = lift_of(56, 70, 48, 80)  # method 10: 0.0524–0.3339
    assert lift.difference == pytest.approx(0.2)
    assert lift.ci_low == pytest.approx(0.0524, abs=1e-4) and lift.ci_high == pytest.approx(0.3339, abs=1e-4)
    assert lift.ratio == pytest.approx(0.8 / 0.6)


def _finding(fp: str, traces: list[str]) -> Finding:
    return Finding(fingerprint=fp, title="", summary="", mechanism="", recommended_fix="", severity="medium",
                   kinds=["loop"], impact=Impact(traces=len(traces), window_traces=100), trace_ids=traces,
                   span_ids=[], cluster_ids=[])


def test_lift_needs_enough_known_outcomes_of_both_kinds() -> None:
    outcomes = {f"t{i}": i < 30 for i in range(100)}  # t0..t29 failed
    bad = _finding("bad", [f"t{i}" for i in range(20)])  # all failed
    neutral = _finding("neutral", [f"t{i}" for i in range(0, 100, 5)])  # 6 of 20 failed, like the rest
    lifts = finding_lifts(outcomes, [bad, neutral])
    assert lifts["bad"].rate_with == 1.0 and lifts["bad"].ci_low > 0.5
    assert lifts["neutral"].ci_low < 0 < lifts["neutral"].ci_high
    assert finding_lifts(dict(list(outcomes.items())[:10]), [bad]) == {}  # too few known outcomes
    assert finding_lifts({t: True for t in outcomes}, [bad]) == {}  # every run failed: nothing to contrast
    bad.outcome = lifts["bad"].as_dict()
    neutral.outcome = lifts["neutral"].as_dict()
    plain = _finding("plain", bad.trace_ids)
    assert score(bad) > score(plain)
    assert score(neutral) == score(_finding("n2", neutral.trace_ids))  # an interval spanning 0 changes nothing


@pytest.mark.skipif(not (DATASETS / "tau-bench-airline").exists(), reason="../shared datasets absent")
def test_tau_bench_findings_carry_outcome_lift(tmp_path: Path) -> None:
    import tracemine

    result = tracemine.mine([str(DATASETS / "tau-bench-airline")], db=tmp_path / "tau.duckdb",
                            max_findings=50, out=tmp_path / "report")
    with_lift = [f for f in result.all_findings if f.outcome]
    assert with_lift, "τ-bench rewards give every finding a failure rate with and without it"
    for f in with_lift:
        o = f.outcome
        assert o["known_with"] + o["known_without"] == 200
        assert o["ci_low"] <= o["difference"] <= o["ci_high"]
    text = (tmp_path / "report" / "report.md").read_text()
    assert "**Outcome:**" in text and "95 % CI" in text
