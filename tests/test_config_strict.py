"""Strict settings: the packaged defaults are the schema; typos fail at load with their dotted path and
the closest valid name (through ``load_settings`` and the CLI, exit 2); ``tracemine config show|check``."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from tracemine import config as config_module
from tracemine.cli import main
from tracemine.config import (
    DEFAULT_CONFIG,
    FLOAT_PATHS,
    OPEN_PATHS,
    ConfigError,
    IngestSettings,
    load_settings,
    mask_secrets,
)

DEFAULTS = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))

TYPOS = [
    ("mien:\n  max_findings: 3\n", "unknown setting 'mien' — did you mean 'mine'?"),
    ("mine:\n  max_finding: 3\n", "unknown setting 'mine.max_finding' — did you mean 'mine.max_findings'?"),
    ("detect:\n  loop:\n    min_repeat: 2\n",
     "unknown setting 'detect.loop.min_repeat' — did you mean 'detect.loop.min_repeats'?"),
]


def _write(tmp_path: Path, text: str, name: str = "user.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _at(data: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[part]
    return data


def _leaves(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value and path not in OPEN_PATHS:
            out.update(_leaves(value, path))
        else:
            out[path] = value
    return out


@pytest.mark.parametrize(("text", "expected"), TYPOS)
def test_typos_fail_at_load_with_path_and_suggestion(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert expected in message and str(path) in message
    assert "\n" not in message


@pytest.mark.parametrize(("text", "expected"), TYPOS)
def test_cli_reports_a_typo_in_one_line_with_exit_2(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, text)
    for args in (["--config", str(path), "stats", "--db", str(tmp_path / "none.duckdb")],
                 ["config", "check", str(path)]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and expected in lines[0], result.output


def test_environment_config_is_checked_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACEMINE_CONFIG", str(_write(tmp_path, TYPOS[1][0])))
    with pytest.raises(ConfigError, match=r"mine\.max_findings"):
        load_settings()


@pytest.mark.parametrize(("text", "expected"), [
    ("detect:\n  loop:\n    min_repeats: three\n", "setting 'detect.loop.min_repeats': input should be a valid integer"),
    ("detect:\n  loop:\n    llm_loops: 1\n", "setting 'detect.loop.llm_loops': input should be a valid boolean"),
    ("mine:\n  max_findings: 2.5\n", "setting 'mine.max_findings': input should be a valid integer"),
    ("mine: 5\n", "setting 'mine' must be a mapping"),
    ("cluster:\n  split_keys: frame\n", "setting 'cluster.split_keys': input should be a valid list"),
    ("detect:\n  contrast:\n    max_q: 1e-3\n", "write 1.0e-3"),
    ("ingest:\n  batch_spans: 5\n", "setting 'ingest.batch_spans': input should be greater than or equal to 100"),
    ("ingest:\n  batch_spans: '20000'\n", "setting 'ingest.batch_spans': input should be a valid integer"),
    ("rank:\n  severity_weights: {critcal: 9.0}\n",
     "unknown setting 'rank.severity_weights.critcal' — did you mean 'rank.severity_weights.critical'?"),
    ("summarise:\n  llm:\n    modle: gpt-4o-mini\n",
     "unknown setting 'summarise.llm.modle' — did you mean 'summarise.llm.model'?"),
    ("summarise:\n  llm:\n    retries: 99\n", "setting 'summarise.llm.retries': input should be less than or equal to 20"),
    ("publish:\n  min_severity: urgent\n", "setting 'publish.min_severity'"),
    ("publish:\n  github: {rep: a/b}\n", "unknown setting 'publish.github.rep' — did you mean 'publish.github.repo'?"),
    ("detect:\n  lop: {min_repeats: 2}\n", "unknown setting 'detect.lop' — did you mean 'detect.loop'?"),
    ("frobnicate: 1\n", "unknown setting 'frobnicate' (valid at the top level: ingest, detect"),
])
def test_wrong_values_and_names_fail_with_their_path(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_write(tmp_path, text))
    assert expected in str(info.value)


def test_secret_pasted_as_env_name_is_not_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_write(tmp_path, "summarise:\n  llm:\n    api_key_env: sk-live-abcdef123456\n"))
    assert "summarise.llm.api_key_env" in str(info.value) and "sk-live" not in str(info.value)


def test_valid_overrides_load_and_show(tmp_path: Path) -> None:
    path = _write(tmp_path, "mine:\n  max_findings: 7\ndetect:\n  outlier:\n    medium_ratio: 12.5\n"
                            "summarise:\n  llm:\n    max_calls: null\n    timeout_s: 12.5\nhistory:\n")
    settings = load_settings(path)
    extra = settings.model_extra or {}
    assert extra["mine"]["max_findings"] == 7 and extra["mine"]["exemplars"] == DEFAULTS["mine"]["exemplars"]
    assert settings.detect["outlier"]["medium_ratio"] == 12.5
    assert extra["summarise"]["llm"]["max_calls"] is None
    assert extra["history"] == DEFAULTS["history"]  # an empty section keeps the defaults
    runner = CliRunner()
    for args in (["config", "show", "--config", str(path)], ["--config", str(path), "config", "show"]):
        shown = runner.invoke(main, args)
        assert shown.exit_code == 0, shown.output
        data = yaml.safe_load(shown.output)
        assert data["mine"]["max_findings"] == 7 and data["detect"]["loop"] == DEFAULTS["detect"]["loop"]
        assert _leaves(data).keys() == _leaves(DEFAULTS).keys()
    plain = yaml.safe_load(runner.invoke(main, ["config", "show"]).output)
    assert plain["mine"]["max_findings"] == DEFAULTS["mine"]["max_findings"]
    checked = runner.invoke(main, ["config", "check", str(path)])
    assert checked.exit_code == 0 and "ok" in checked.output


def test_config_show_masks_what_could_be_a_credential(tmp_path: Path) -> None:
    path = _write(tmp_path, yaml.safe_dump({
        "publish": {"webhook": {"url": "https://hooks.example.com/services/T0/B0/s3cr3tpath"},
                    "report_url": "https://reports.example.com/run?token=s3cr3tquery"},
        "summarise": {"llm": {"api_base": "https://bob:s3cr3tpw@llm.example.com:8443/v1"}},
    }))
    shown = CliRunner().invoke(main, ["config", "show", "--config", str(path)])
    assert shown.exit_code == 0, shown.output
    assert "s3cr3t" not in shown.output
    data = yaml.safe_load(shown.output)
    assert data["summarise"]["llm"]["api_base"] == "https://***@llm.example.com:8443/v1"
    assert data["publish"]["webhook"]["url"] == "https://hooks.example.com/***"
    assert data["publish"]["github"]["token_env"] == "GITHUB_TOKEN"  # the NAME of a variable, not a secret
    assert mask_secrets({"x": {"api_key": "abc", "auth_token": "t", "max_input_tokens": 5, "project_key": "ENG"}}) \
        == {"x": {"api_key": "***", "auth_token": "***", "max_input_tokens": 5, "project_key": "ENG"}}


def test_open_maps_take_any_keys(tmp_path: Path) -> None:
    path = _write(tmp_path, yaml.safe_dump({
        "detect": {"argument_error": {"schemas": {
            "any.tool/name": {"type": "object", "required": ["order_id"]},
            "lookup_customer": {"type": "object", "properties": {"id": {"type": "string"}}}}}},
        "redact": {"rules": {"email": False}},
    }))
    settings = load_settings(path)
    assert set(settings.detect["argument_error"]["schemas"]) == {"any.tool/name", "lookup_customer"}
    assert (settings.model_extra or {})["redact"]["rules"] == {"email": False}


def test_installed_third_party_detector_sections_are_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracemine.detect import registry

    installed = {**registry.BUILTIN, "my_detector": "my_pkg.detectors:Mine"}
    monkeypatch.setattr(registry, "available", lambda: installed)
    settings = load_settings(_write(tmp_path, "detect:\n  my_detector:\n    anything: 1\n"))
    assert settings.detect["my_detector"] == {"anything": 1}
    with pytest.raises(ConfigError, match=r"did you mean 'detect\.my_detector'"):
        load_settings(_write(tmp_path, "detect:\n  my_detectr:\n    anything: 1\n"))
    with pytest.raises(ConfigError, match=r"'detect\.my_detector' must be a mapping"):
        load_settings(_write(tmp_path, "detect:\n  my_detector: 3\n"))


def test_declared_open_and_float_paths_match_the_defaults() -> None:
    def empty_maps(data: dict[str, Any], prefix: str = "") -> set[str]:
        found = set()
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict):
                found |= {path} if not value else empty_maps(value, path)
        return found

    assert empty_maps(DEFAULTS) <= set(OPEN_PATHS)
    assert all(isinstance(_at(DEFAULTS, p), dict) for p in OPEN_PATHS)
    assert all(type(_at(DEFAULTS, p)) is int for p in FLOAT_PATHS)


def _same(section: str, code: dict[str, Any], exact: bool = True) -> None:
    """The code's defaults for ``section`` are the YAML's: same keys (or a subset) and equal values."""
    yaml_section = _at(DEFAULTS, section)
    assert set(code) == set(yaml_section) if exact else set(code) <= set(yaml_section), section
    for key, value in code.items():
        expected = list(value) if isinstance(value, tuple) else value
        assert yaml_section[key] == expected, f"{section}.{key}: yaml {yaml_section[key]!r}, code {expected!r}"


def test_every_key_the_stage_models_read_is_in_the_defaults_with_the_same_value() -> None:
    from tracemine.backends.ray import RayBackend
    from tracemine.cluster.settings import ClusterSettings
    from tracemine.history import HistorySettings
    from tracemine.publish.settings import PublishSettings
    from tracemine.rank import RankSettings
    from tracemine.summarise.llm import LLMSettings

    _same("ingest", IngestSettings().model_dump())
    _same("cluster", dataclasses.asdict(ClusterSettings()))
    _same("history", dataclasses.asdict(HistorySettings()))
    _same("rank", RankSettings().model_dump())
    _same("summarise.llm", LLMSettings().model_dump())
    publish = PublishSettings().model_dump()
    for tracker in ("github", "gitlab", "jira", "webhook"):
        _same(f"publish.{tracker}", publish.pop(tracker))
    _same("publish", publish, exact=False)
    ray = {n: p.default for n, p in inspect.signature(RayBackend.__init__).parameters.items() if n != "self"}
    _same("backend", ray)


def _params_defaults(cls: type) -> dict[str, Any]:
    """A detector's params model defaults as the YAML spells them (aliases, lists), without the sections it
    borrows from another detector (``reads_settings_of``)."""
    dumped = cls.params_model().model_dump(mode="json", by_alias=True)
    return {k: v for k, v in dumped.items() if k not in cls.reads_settings_of}


def test_the_detect_defaults_are_the_detectors_params_models() -> None:
    """``detect:`` in default.yaml documents the params models, the one source of the defaults: every
    built-in declares one, every field is in the YAML with the same default, and the YAML has no other key."""
    from tracemine.detect.registry import BUILTIN, load_target

    assert set(DEFAULTS["detect"]) == set(BUILTIN)
    for name, target in BUILTIN.items():
        cls = load_target(target)
        assert cls.params_model is not None, f"{name} declares no params_model"
        assert cls.params_model.model_config.get("extra") == "forbid", name
        _same(f"detect.{name}", _params_defaults(cls))
        for borrowed in cls.reads_settings_of:
            nested = cls.params_model.model_fields[borrowed].annotation
            assert nested is load_target(BUILTIN[borrowed]).params_model, f"{name}.{borrowed}"
    for path in FLOAT_PATHS:
        _, name, key = path.split(".")
        assert load_target(BUILTIN[name]).params_model.model_fields[key].annotation is float, path


def test_builtin_detectors_read_no_untyped_setting_during_a_run(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Built-in detectors read ``self.params`` (typed, validated): ``Detector.setting`` is for plugins."""
    from tracemine.detect.base import Detector

    reads: set[tuple[str, str]] = set()
    original = Detector.setting

    def recording(self: Detector, key: str, default: Any) -> Any:
        reads.add((self.name, key))
        return original(self, key, default)

    monkeypatch.setattr(Detector, "setting", recording)
    runner = CliRunner()
    data = tmp_path / "traces"
    assert runner.invoke(main, ["synth", "--traces", "300", "--seed", "5", "--out", str(data)]).exit_code == 0
    out = tmp_path / "signals.jsonl"
    result = runner.invoke(main, ["detect", str(data), "--db", str(tmp_path / "d.duckdb"), "--window", "30d",
                                  "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert out.read_text().strip() and reads == set()


def test_default_yaml_loads_and_the_schema_is_cached() -> None:
    assert config_module._schema() is config_module._schema()
    settings = load_settings()
    settings.detect["loop"]["min_repeats"] = 99  # editing one run's settings leaves the next run's alone
    assert load_settings().detect["loop"]["min_repeats"] == DEFAULTS["detect"]["loop"]["min_repeats"]
