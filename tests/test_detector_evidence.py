"""Typed evidence: every built-in detector names the pydantic model of its signals' evidence
(``evidence_model``); ``Detector.signal`` validates each evidence dict against it and stores the dict
unchanged. Strict (``TRACEMINE_STRICT_EVIDENCE=1``, set by conftest.py) a stray key raises; otherwise it is
counted and logged once and the signal kept. Every evidence the detectors write over generated data (synth
and devgen) validates, which is what shows the models complete."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import BaseModel, ValidationError

import devgen
from plugin_fixtures import EVIDENCE_DETECTOR, PARAMS_DETECTOR, install, on_path  # noqa: F401  (a fixture)
from tracemine.cli import main
from tracemine.detect import base
from tracemine.detect.builtin.loop import LoopDetector
from tracemine.detect.builtin.loop.evidence import LoopEvidence
from tracemine.detect.registry import BUILTIN, build, detector_class
from tracemine.detect.runner import DetectReport, run_detection
from tracemine.detect.view import TraceView
from tracemine.ingest.loader import ingest_paths
from tracemine.model import Span, SpanKind, Trace
from tracemine.store import Store
from tracemine.synth import SynthConfig, generate

TRACES = 300
LOOSE_CONTRAST = {"contrast": {"min_known": 20, "min_support": 5, "min_failed": 3, "max_q": 0.5,
                               "min_difference": 0.1}}
"""Contrast thresholds loosened so that 300 traces show contrasts of every feature type."""


def _detect(db: Path) -> DetectReport:
    with Store(db) as store:
        return run_detection(store, None, settings=LOOSE_CONTRAST, save=False)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DetectReport]:
    """Every built-in detector run in-process (strict) over 300 synth and 300 devgen traces."""
    tmp = tmp_path_factory.mktemp("evidence")
    generate(SynthConfig(traces=TRACES, seed=3), tmp / "synth")
    devgen.generate(tmp / "devgen", traces=TRACES, seed=2, days=3.0)
    out = {}
    for name in ("synth", "devgen"):
        with Store(tmp / f"{name}.duckdb") as store:
            ingest_paths([str(tmp / name)], store)
        out[name] = _detect(tmp / f"{name}.duckdb")
    return out


def test_strict_mode_is_on_for_the_suite() -> None:
    import os

    assert os.environ.get(base.STRICT_EVIDENCE_ENV) == "1"


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_every_builtin_detector_declares_a_closed_described_evidence_model(name: str) -> None:
    model = detector_class(name).evidence_model
    assert model is not None and issubclass(model, BaseModel)
    assert model.model_config.get("extra") == "forbid"
    assert model.__module__ == f"tracemine.detect.builtin.{name}.evidence"
    undescribed = [field for field, info in model.model_fields.items() if not info.description]
    assert not undescribed, f"{name}: fields without a description: {undescribed}"


@pytest.mark.parametrize("data", ["synth", "devgen"])
def test_every_evidence_written_over_generated_data_validates(reports: dict[str, DetectReport], data: str) -> None:
    report = reports[data]
    # strict: a stray key or a wrong type raised inside the detector, and the runner counted it
    assert not report.errors, report.error_examples
    assert report.traces == TRACES and len(report.signals) > 50
    for signal in report.signals:
        detector_class(signal.detector).evidence_model.model_validate(signal.evidence)


def test_every_builtin_detector_and_mechanism_is_exercised(reports: dict[str, DetectReport]) -> None:
    signals = [s for report in reports.values() for s in report.signals]
    assert {s.detector for s in signals} == set(BUILTIN)
    mechanisms = {(s.detector, s.evidence.get("mechanism")) for s in signals}
    # the optional keys of each mechanism were checked too
    for expected in [("loop", "tool_repeat"), ("loop", "tool_cycle"), ("loop", "llm_repeat"),
                     ("silent_failure", "ignored_not_found"), ("silent_failure", "max_turns_exit"),
                     ("argument_error", "schema_violation"), ("argument_error", "validation_error_result"),
                     ("contrast", "tool"), ("contrast", "value"), ("contrast", "result")]:
        assert expected in mechanisms, expected


def _view() -> TraceView:
    root = Span(trace_id="t", span_id="root", name="agent", kind=SpanKind.AGENT, start_ns=1, end_ns=10)
    tool = Span(trace_id="t", span_id="call", parent_span_id="root", name="search", kind=SpanKind.TOOL,
                tool_name="search", sequence=1, start_ns=2, end_ns=3, tool_result="[]")
    return TraceView.build(Trace("t", [root, tool]))


def _loop_evidence(reports: dict[str, DetectReport]) -> dict[str, Any]:
    return next(dict(s.evidence) for r in reports.values() for s in r.signals
                if s.detector == "loop" and s.evidence["mechanism"] == "tool_repeat")


def test_an_undeclared_key_or_a_wrong_type_fails_validation(reports: dict[str, DetectReport]) -> None:
    evidence = _loop_evidence(reports)
    LoopEvidence.model_validate(evidence)
    with pytest.raises(ValidationError, match="surprise"):
        LoopEvidence.model_validate({**evidence, "surprise": 1})
    with pytest.raises(ValidationError, match="repeats"):
        LoopEvidence.model_validate({**evidence, "repeats": "three"})
    missing = {k: v for k, v in evidence.items() if k != "period"}
    with pytest.raises(ValidationError, match="period"):
        LoopEvidence.model_validate(missing)


def test_strict_signal_raises_on_an_undeclared_key(reports: dict[str, DetectReport]) -> None:
    evidence = {**_loop_evidence(reports), "surprise": "x"}
    with pytest.raises(ValidationError, match="surprise"):
        LoopDetector().signal(_view(), "loop", ["call"], "medium", evidence, "looped")


def test_outside_strict_mode_the_signal_is_kept_counted_and_logged_once(
        reports: dict[str, DetectReport], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv(base.STRICT_EVIDENCE_ENV)
    monkeypatch.setattr(base, "EVIDENCE_ERRORS", type(base.EVIDENCE_ERRORS)())
    evidence = {**_loop_evidence(reports), "surprise": "secret text from a trace"}
    detector = LoopDetector()
    with caplog.at_level(logging.WARNING, logger="tracemine.detect.base"):
        first = detector.signal(_view(), "loop", ["call"], "medium", evidence, "looped")
        detector.signal(_view(), "loop", ["call"], "medium", dict(evidence), "looped")
    assert first.evidence is evidence  # stored as written, never rebuilt from the model
    assert base.EVIDENCE_ERRORS == {"loop": 2}
    [record] = [r for r in caplog.records if "evidence" in r.getMessage()]
    message = record.getMessage()
    assert "loop" in message and "LoopEvidence" in message and "surprise" in message
    assert "secret text" not in message  # where and what, never the values


def test_valid_evidence_is_stored_as_the_same_dict(reports: dict[str, DetectReport]) -> None:
    evidence = _loop_evidence(reports)
    evidence["argument_similarity"] = 1  # an int where the model says float: validated, stored as written
    signal = LoopDetector().signal(_view(), "loop", ["call"], "medium", evidence, "looped")
    assert signal.evidence is evidence and signal.evidence["argument_similarity"] == 1


def _runs(tmp_path: Path) -> Path:
    """Three OpenInference runs of 2, 4 and 6 tool calls."""
    data = tmp_path / "runs.jsonl"
    lines = []
    for i, calls in enumerate((2, 4, 6)):
        trace_id, start = f"{i + 1:032x}", 1_790_000_000_000_000_000 + i * 10**12
        lines.append({"trace_id": trace_id, "span_id": f"{i + 1:08x}00000000", "name": "agent",
                      "start_time": start, "end_time": start + 10**9,
                      "attributes": {"openinference.span.kind": "AGENT"}})
        for c in range(calls):
            lines.append({"trace_id": trace_id, "span_id": f"{i + 1:08x}{c + 1:08x}", "name": f"tool_{c}",
                          "parent_id": f"{i + 1:08x}00000000", "start_time": start + c * 10**6,
                          "end_time": start + c * 10**6 + 500,
                          "attributes": {"openinference.span.kind": "TOOL", "tool.name": f"tool_{c}",
                                         "input.value": json.dumps({"n": c}), "output.value": "ok"}})
    data.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return data


def test_a_plugin_detector_declares_its_own_evidence_model(tmp_path: Path, on_path,  # noqa: F811
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    root = install(tmp_path / "site", "tm-busy", "1.0", "tm_busy", EVIDENCE_DETECTOR,
                   "[tracemine.detectors]\nbusy_run = tm_busy:BusyRunDetector\n")
    root = install(root, "tm-long", "1.0", "tm_long", PARAMS_DETECTOR,
                   "[tracemine.detectors]\nlong_run = tm_long:LongRunDetector\n")
    on_path(root)
    db = tmp_path / "d.duckdb"
    result = CliRunner().invoke(main, ["ingest", str(_runs(tmp_path)), "--db", str(db), "--workers", "1", "-q"])
    assert result.exit_code == 0, result.output

    def run(settings: dict[str, Any]) -> DetectReport:
        with Store(db) as store:
            return run_detection(store, None, ["busy_run", "long_run"], settings, save=False)

    [busy, _] = build(["busy_run", "long_run"], {})
    assert busy.evidence_model.__name__ == "BusyRunEvidence"
    report = run({})
    assert not report.errors, report.error_examples
    by_detector = sorted((s.detector, s.evidence["calls"]) for s in report.signals)
    # long_run declares no evidence model: its free dicts are not checked
    assert by_detector == [("busy_run", 4), ("busy_run", 6), ("long_run", 4), ("long_run", 6)]
    assert all(set(s.evidence) == {"calls", "last_tool"} for s in report.signals if s.detector == "busy_run")

    leaky = run({"busy_run": {"leak": True}})  # strict: the stray key raises, the runner counts it and goes on
    assert leaky.errors == {"busy_run": 2}
    assert "ValidationError" in leaky.error_examples["busy_run"] and "note" in leaky.error_examples["busy_run"]
    assert sorted(s.detector for s in leaky.signals) == ["long_run", "long_run"]

    monkeypatch.delenv(base.STRICT_EVIDENCE_ENV)
    monkeypatch.setattr(base, "EVIDENCE_ERRORS", type(base.EVIDENCE_ERRORS)())
    kept = run({"busy_run": {"leak": True}})  # a real run: counted, and the signals stand as written
    assert not kept.errors and base.EVIDENCE_ERRORS == {"busy_run": 2}
    assert [s.evidence["note"] for s in kept.signals if s.detector == "busy_run"] == ["undeclared", "undeclared"]
