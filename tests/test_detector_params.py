"""Typed detector parameters: every detector's ``params_model`` validates its ``detect.<name>`` section at
load (wrong types, bounds, unknown keys: one line naming the setting, CLI exit 2) and at construction; a
plugin detector declares its own model; detectors without one keep reading ``setting()``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from plugin_fixtures import PARAMS_DETECTOR, install, on_path  # noqa: F401  (on_path: a fixture)
from tracemine.cli import main
from tracemine.config import ConfigError, load_settings
from tracemine.detect.builtin.duplicate_call import DuplicateCallDetector
from tracemine.detect.builtin.loop import LoopDetector, LoopDetectorParams
from tracemine.detect.registry import build

BAD_SECTIONS = [
    # wrong types
    ("detect:\n  duplicate_call:\n    medium_read_calls: many\n",
     "setting 'detect.duplicate_call.medium_read_calls': input should be a valid integer"),
    ("detect:\n  silent_failure:\n    severity: urgent\n",
     "setting 'detect.silent_failure.severity': input should be 'low', 'medium', 'high' or 'critical'"),
    ("detect:\n  outlier:\n    metrics: [latency, speed]\n",
     "setting 'detect.outlier.metrics.1': input should be 'latency', 'input_tokens'"),
    # out of bounds
    ("detect:\n  loop:\n    min_repeats: 1\n",
     "setting 'detect.loop.min_repeats': input should be greater than or equal to 2"),
    ("detect:\n  contrast:\n    max_q: 1.5\n", "setting 'detect.contrast.max_q': input should be less than or equal to 1"),
    ("detect:\n  argument_error:\n    required_share: -0.1\n",
     "setting 'detect.argument_error.required_share': input should be greater than or equal to 0"),
    ("detect:\n  argument_error:\n    rule_tolerance: -1\n",
     "setting 'detect.argument_error.rule_tolerance': input should be greater than or equal to 0"),
    ("detect:\n  outlier:\n    min_log_scale: 0.0\n",
     "setting 'detect.outlier.min_log_scale': input should be greater than 0"),
    # unknown keys
    ("detect:\n  unrecovered_error:\n    severity_writes: high\n",
     "unknown setting 'detect.unrecovered_error.severity_writes' — did you mean "
     "'detect.unrecovered_error.severity_write'?"),
    ("detect:\n  argument_error:\n    shape_min_distinc: 4\n",
     "did you mean 'detect.argument_error.shape_min_distinct'?"),
]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "user.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "expected"), BAD_SECTIONS)
def test_a_bad_detector_setting_fails_at_load_naming_it(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert expected in str(info.value) and str(path) in str(info.value)
    result = CliRunner().invoke(main, ["--config", str(path), "detect", str(tmp_path), "--db",
                                       str(tmp_path / "x.duckdb")])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and expected in lines[0]
    assert not (tmp_path / "x.duckdb").exists()  # refused before anything ran


def test_every_problem_is_named_in_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "detect:\n  loop:\n    max_period: 0\n    poll_changed_share: 2\n"
                            "  outlier:\n    high_ratio: 0.5\n")
    result = CliRunner().invoke(main, ["config", "check", str(path)])
    assert result.exit_code == 2
    assert [p in result.output for p in ("detect.loop.max_period", "detect.loop.poll_changed_share",
                                         "detect.outlier.high_ratio")] == [True] * 3


def test_valid_settings_reach_the_typed_params(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, "detect:\n  loop:\n    min_repeats: 4\n  outlier:\n"
                                              "    medium_ratio: 12\n    metrics: [cost]\n"
                                              "  argument_error:\n    rule_tolerance: 5\n"
                                              "  silent_failure:\n    severity: critical\n"))
    loop, duplicate, silent, arguments, _, outlier, _ = build(None, settings.detect)
    assert loop.params.min_repeats == 4 and duplicate.params.loop == loop.params  # the loop section, shared
    assert silent.params.loop.min_repeats == 4 and silent.params.severity == "critical"
    assert outlier.params.medium_ratio == 12.0 and isinstance(outlier.params.medium_ratio, float)
    assert outlier.metrics == ("cost",)
    assert arguments.rules.tolerance == 5 and arguments.params.template_min_distinct == 10


def test_construction_validates_too_and_names_a_borrowed_section() -> None:
    with pytest.raises(ConfigError, match=r"setting 'detect\.loop\.max_gap': input should be greater"):
        DuplicateCallDetector({"loop": {"max_gap": -1}})
    with pytest.raises(ConfigError, match=r"unknown setting 'detect\.loop\.min_repeat' — did you mean "
                                          r"'detect\.loop\.min_repeats'\?"):
        LoopDetector({"min_repeat": 3})
    assert LoopDetector().params == LoopDetectorParams()  # no settings: the model's defaults


def _plugin(tmp_path: Path, on_path) -> Path:  # noqa: F811
    root = install(tmp_path / "site", "tm-long", "1.0", "tm_long", PARAMS_DETECTOR,
                   "[tracemine.detectors]\nlong_run = tm_long:LongRunDetector\n")
    on_path(root)
    data = tmp_path / "runs.jsonl"
    runs = []
    for i, calls in enumerate((2, 4, 6)):
        trace_id = f"{i + 1:032x}"
        spans = [{"trace_id": trace_id, "span_id": f"{i + 1:08x}00000000", "name": "agent",
                  "start_time": 1_790_000_000_000_000_000 + i * 10**12, "end_time": 1_790_000_001_000_000_000 + i * 10**12,
                  "attributes": {"openinference.span.kind": "AGENT"}}]
        for c in range(calls):
            spans.append({"trace_id": trace_id, "span_id": f"{i + 1:08x}{c + 1:08x}", "name": f"tool_{c}",
                          "parent_id": f"{i + 1:08x}00000000",
                          "start_time": 1_790_000_000_000_000_000 + i * 10**12 + c * 10**6,
                          "end_time": 1_790_000_000_000_000_000 + i * 10**12 + c * 10**6 + 500,
                          "attributes": {"openinference.span.kind": "TOOL", "tool.name": f"tool_{c}",
                                         "input.value": json.dumps({"n": c}), "output.value": "ok"}})
        runs.extend(spans)
    data.write_text("".join(json.dumps(s) + "\n" for s in runs))
    return data


def test_a_plugin_detector_declares_its_own_params_model(tmp_path: Path, on_path) -> None:  # noqa: F811
    data = _plugin(tmp_path, on_path)
    runner = CliRunner()

    def long_runs(config: str) -> list[dict]:
        path = _write(tmp_path, config)
        out = tmp_path / "signals.jsonl"
        result = runner.invoke(main, ["--config", str(path), "detect", str(data), "--db", str(tmp_path / "d.duckdb"),
                                      "--detectors", "long_run", "--window", "3650d", "--out", str(out)])
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in out.read_text().splitlines()]

    default = long_runs("detect:\n  long_run: {}\n")  # max_calls 3: the runs of 4 and 6 calls
    assert sorted(s["evidence"]["calls"] for s in default) == [4, 6] and {s["severity"] for s in default} == {"low"}
    strict = long_runs("detect:\n  long_run:\n    max_calls: 5\n    severity: high\n")
    assert [(s["evidence"]["calls"], s["severity"]) for s in strict] == [(6, "high")]

    for text, expected in [
        ("detect:\n  long_run:\n    max_calls: 0\n", "setting 'detect.long_run.max_calls': input should be greater"),
        ("detect:\n  long_run:\n    max_cals: 5\n",
         "unknown setting 'detect.long_run.max_cals' — did you mean 'detect.long_run.max_calls'?"),
        ("detect:\n  long_run:\n    severity: dire\n", "setting 'detect.long_run.severity'"),
    ]:
        result = runner.invoke(main, ["config", "check", str(_write(tmp_path, text))])
        assert result.exit_code == 2 and expected in result.output, result.output
    [detector] = build(["long_run"], {"long_run": {"max_calls": 7}})
    assert detector.params.max_calls == 7 and detector.settings == {"max_calls": 7}


def test_severities_are_plain_strings_defaults_included() -> None:
    """Severities are validated as ``Severity`` and kept as the strings signals carry."""
    from tracemine.detect.registry import BUILTIN, load_target
    from tracemine.model import Severity

    seen = 0
    for target in BUILTIN.values():
        model = load_target(target).params_model
        for field, info in model.model_fields.items():
            if info.annotation is Severity:
                value = getattr(model(), field)
                assert type(value) is str and Severity.rank(value) >= 0, (target, field)
                seen += 1
    assert seen >= 8
