"""Settings: the packaged ``configs/default.yaml``, overlaid by a user YAML file (``--config`` or
``TRACEMINE_CONFIG``).

The packaged defaults are the schema of record: every key in them is valid, and a user file may set only
keys that exist there (nested), with a value of the default's type (an integer where a float is expected;
anything where the default is ``null``). A few sections are checked by the models their stage uses
(``ingest``: :class:`IngestSettings`, ``summarise.llm``: :class:`~tracemine.summarise.llm.LLMSettings`,
``publish``: :class:`~tracemine.publish.settings.PublishSettings`), so their bounds fail at load too.
Open maps (:data:`OPEN_PATHS`) take any keys. A typo fails at load with its dotted path and the closest
valid name: ``unknown setting 'mine.max_finding' — did you mean 'mine.max_findings'?``.

A detector's parameters are declared once, by its ``params_model`` (a pydantic model next to the detector,
:class:`tracemine.detect.base.Detector`); the ``detect:`` section of the defaults documents them and a test
keeps it equal to the models. Each ``detect.<name>`` section a user file sets is validated by that model at
load (bounds such as shares in [0, 1]; a third-party detector's section too when it declares a model).
"""

from __future__ import annotations

import copy
import difflib
import os
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

DEFAULT_CONFIG = Path(__file__).parent / "configs" / "default.yaml"

OPEN_PATHS: dict[str, str] = {
    "detect.argument_error.schemas": "tool name → JSON Schema of its arguments",
    "redact.rules": "redaction rule name or label → its setting",
}
"""Mappings whose keys are the user's own names (any key accepted, values unchecked). Besides these,
``detect.<name>`` of an installed third-party detector (entry point ``tracemine.detectors``) is open to the
structural check (its ``params_model``, when it declares one, checks it)."""

FLOAT_PATHS: frozenset[str] = frozenset({
    "detect.outlier.medium_ratio", "detect.outlier.high_ratio", "detect.outlier.critical_ratio",
})
"""Settings written as integers in the defaults that the code reads as floats (any number accepted)."""


class IngestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_spans: int = Field(20000, ge=100)
    workers: int = Field(0, ge=0)
    chunk_bytes: int = Field(32 * 1024 * 1024, ge=1024)
    parallel_min_bytes: int = Field(16 * 1024 * 1024, ge=0)
    max_field_chars: int = Field(1_000_000, ge=1000)
    max_attr_chars: int = Field(8192, ge=100)
    # bounds on decompressed input (tracemine.ingest.limits): one record (a JSON-lines line, a zip member)
    # and one compressed or whole-read file (a JSON document); what is over goes to the quarantine
    max_record_bytes: int = Field(64 * 1024 * 1024, ge=1024 * 1024)
    max_file_bytes: int = Field(2 * 1024 * 1024 * 1024, ge=1024 * 1024)
    # spans timed more than this far after the ingest's start are quarantined (as are times before 2000)
    future_tolerance_seconds: int = Field(86400, ge=0)
    # a trace whose root span has status error counts as a failure when nothing else gives its outcome
    # (off: errors are what detectors report, so outcome lift would be circular; tracemine.ingest.outcome)
    outcome_from_root_error: bool = False


class Settings(BaseModel):
    """The effective settings, as the stages read them (validated by :func:`load_settings` first)."""

    model_config = ConfigDict(extra="allow")

    ingest: IngestSettings = IngestSettings()
    # detector name → its settings (thresholds); see configs/default.yaml
    detect: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # embedding model and batching (tracemine.embed.Embedder.from_settings checks the keys)
    embed: dict[str, Any] = Field(default_factory=dict)
    # clustering thresholds (tracemine.cluster.ClusterSettings.from_settings checks the keys)
    cluster: dict[str, Any] = Field(default_factory=dict)


class ConfigError(ValueError):
    """The configuration file cannot be read or does not validate (one line, naming the setting)."""


# ------------------------------------------------------------------------------------------ schema

_STRICT = ConfigDict(extra="forbid", strict=True)


_LATE_SECTIONS = ("summarise.llm", "publish")
"""Sections checked by their stage's model, imported only when the user file sets them (the defaults pass;
importing ``tracemine.publish`` would cost every command a fifth of a second)."""


def _late_model(path: str) -> type[BaseModel]:
    if path == "publish":
        from tracemine.publish.settings import PublishSettings

        return PublishSettings
    from tracemine.summarise.llm import LLMSettings

    return LLMSettings


def _leaf_type(path: str, default: Any) -> Any:
    if default is None:
        return Any
    if isinstance(default, bool):
        return bool
    if isinstance(default, int):
        return float if path in FLOAT_PATHS else int
    if isinstance(default, float):
        return float
    if isinstance(default, str):
        return str
    if isinstance(default, list):
        return list[Any]
    raise TypeError(f"default {path} has an unsupported type {type(default).__name__}")


def _model_for(path: str, defaults: dict[str, Any]) -> type[BaseModel]:
    """A strict model of one mapping of the defaults: fields by key (as aliases: keys may shadow
    ``BaseModel`` attributes), nested mappings as nested models, open maps as ``dict[str, Any]``."""
    fields: dict[str, Any] = {}
    for i, (key, default) in enumerate(defaults.items()):
        sub = f"{path}.{key}" if path else str(key)
        if sub == "ingest":
            kind: Any = IngestSettings
        elif sub in OPEN_PATHS or sub in _LATE_SECTIONS:
            kind = dict[str, Any]
        elif isinstance(default, dict):
            if not default:
                raise TypeError(f"default {sub} is an empty mapping: declare it in OPEN_PATHS or give it keys")
            kind = _model_for(sub, default)
        else:
            kind = _leaf_type(sub, default)
        fields[f"f{i}"] = (kind, Field(None, alias=str(key)))
    name = "Settings_" + (re.sub(r"\W", "_", path) or "root")
    return create_model(name, __config__=_STRICT, **fields)


@cache
def _schema() -> tuple[type[BaseModel], dict[str, Any]]:
    """The strict settings model built from the packaged defaults, and the defaults themselves."""
    defaults = _read_yaml(DEFAULT_CONFIG)
    return _model_for("", defaults), defaults


def _names_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Valid keys of the mapping at ``loc`` (empty when ``loc`` is not a model)."""
    current: Any = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        by_key = {f.alias or name: f.annotation for name, f in current.model_fields.items()}
        current = by_key.get(str(part))
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _problem(model: type[BaseModel], error: Any, section: tuple[str, ...] = (),
             more_names: dict[tuple[Any, ...], list[str]] | None = None) -> str:
    """One validation error of ``model`` (the settings, or the ``section`` at that path) as a phrase naming
    the dotted setting (never its value: it may be a secret)."""
    loc = tuple(error["loc"])
    dotted = ".".join(str(p) for p in section + loc)
    if error["type"] == "extra_forbidden":
        valid = _names_at(model, loc[:-1]) + (more_names or {}).get(loc[:-1], [])
        prefix = ".".join(str(p) for p in section + loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.6)
        if close:
            return f"unknown setting '{dotted}' — did you mean '{prefix + '.' if prefix else ''}{close[0]}'?"
        where = f"under '{prefix}'" if prefix else "at the top level"
        return f"unknown setting '{dotted}' (valid {where}: {', '.join(valid)})"
    if error["type"] in ("model_type", "dict_type", "model_attributes_type"):
        return f"setting '{dotted}' must be a mapping, not {type(error['input']).__name__}"
    message = str(error["msg"]).removeprefix("Value error, ")
    got = error.get("input")
    hint = ""
    if isinstance(got, str) and re.fullmatch(r"[+-]?\d+(\.\d*)?[eE][+-]?\d+", got.strip()):
        hint = " (YAML reads 1e-3 as text: write 1.0e-3)"
    return f"setting '{dotted}': {message[:1].lower()}{message[1:]} (got {type(got).__name__}){hint}"


def _third_party_detectors(detect: Any, known: dict[str, Any]) -> list[str]:
    """Installed detectors that are not in the defaults (their settings are open), looked up only when
    ``detect`` names something the defaults do not."""
    if not isinstance(detect, dict) or not set(detect) - set(known):
        return []
    from tracemine.detect.registry import available

    return [name for name in available() if name not in known]


def params_problems(model: type[BaseModel], exc: ValidationError, name: str,
                    borrowed: tuple[str, ...] = ()) -> list[str]:
    """The errors of validating detector ``name``'s settings with its params ``model``, each naming the
    ``detect.<name>.<key>`` setting (``detect.<other>.<key>`` for a ``borrowed`` section: another
    detector's settings this one reads, validated by a nested model)."""
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        if len(loc) > 1 and loc[0] in borrowed:
            nested = model.model_fields[str(loc[0])].annotation
            if isinstance(nested, type) and issubclass(nested, BaseModel):
                problems.append(_problem(nested, {**error, "loc": loc[1:]}, ("detect", str(loc[0]))))
                continue
        problems.append(_problem(model, error, ("detect", name)))
    return problems


def validate_params(model: type[BaseModel], settings: Any, name: str, borrowed: tuple[str, ...] = ()) -> BaseModel:
    """Detector ``name``'s ``settings`` as its params ``model``; :class:`ConfigError` (one line naming each
    wrong ``detect.<name>.<key>``) when they do not validate."""
    try:
        return model.model_validate(settings)
    except ValidationError as exc:
        raise ConfigError("; ".join(params_problems(model, exc, name, borrowed))) from None


def _detector_problems(detect: Any, user_detect: Any) -> list[str]:
    """Problems of the ``detect.<name>`` sections the user file sets, by each detector's params model
    (imported only then: the defaults are the models' own values)."""
    if not isinstance(user_detect, dict) or not isinstance(detect, dict):
        return []
    from tracemine.detect.registry import params_model_of

    problems: list[str] = []
    for name in user_detect:
        model = params_model_of(name)
        if model is None or not isinstance(detect.get(name), dict):
            continue
        try:
            model.model_validate(detect[name])
        except ValidationError as exc:
            problems += params_problems(model, exc, name)
    return problems


def _get(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def validate_settings(data: dict[str, Any], source: str = "configuration", user: dict[str, Any] | None = None) -> None:
    """Check merged settings ``data`` (the defaults overlaid by ``user``) against the schema;
    :class:`ConfigError` (one line, every problem) otherwise."""
    model, defaults = _schema()
    checked = dict(data)
    detect = data.get("detect")
    third_party = _third_party_detectors(detect, defaults.get("detect") or {})
    if third_party and isinstance(detect, dict):
        open_detectors = set(third_party) & set(detect)
        not_maps = [f"setting 'detect.{n}' must be a mapping" for n in sorted(open_detectors)
                    if not isinstance(detect[n], dict)]
        if not_maps:
            raise ConfigError(f"{source}: {'; '.join(not_maps)}")
        checked["detect"] = {k: v for k, v in detect.items() if k not in open_detectors}
    problems: list[str] = []
    try:
        model.model_validate(checked, strict=True)
    except ValidationError as exc:
        problems = [_problem(model, e, more_names={("detect",): third_party}) for e in exc.errors()]
    if not problems:
        problems = _detector_problems(data.get("detect"), _get(user, "detect"))
    for path in _LATE_SECTIONS:
        if _get(user, path) is None or not isinstance(_get(data, path), dict):
            continue
        section = _late_model(path)
        try:
            section.model_validate(_get(data, path), strict=True)
        except ValidationError as exc:
            problems += [_problem(section, e, tuple(path.split("."))) for e in exc.errors()]
    if problems:
        raise ConfigError(f"{source}: {'; '.join(problems)}")


# ------------------------------------------------------------------------------------------ loading


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` on ``base``; an empty (``null``) override of a mapping keeps the mapping."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        elif value is None and isinstance(merged.get(key), dict):
            continue  # `detect:` with every line commented out
        else:
            merged[key] = value
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read config {path}: {' '.join(str(exc).split())}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a mapping at the top level")
    return data


def load_settings(path: str | Path | None = None) -> Settings:
    """Defaults overlaid by ``path`` (or ``$TRACEMINE_CONFIG``), validated (see the module docstring)."""
    data = copy.deepcopy(_schema()[1])  # the cached defaults stay untouched by whoever edits the settings
    user = path or os.environ.get("TRACEMINE_CONFIG")
    overlay = _read_yaml(Path(user)) if user else None
    if overlay:
        data = _deep_merge(data, overlay)
    validate_settings(data, f"config {user}" if user else "default configuration", overlay)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:  # the schema covers these sections: a mismatch is a bug, said plainly
        raise ConfigError(f"invalid configuration: {' '.join(str(exc).split())}") from exc


# ------------------------------------------------------------------------------------------ showing

_SECRET_NAME = re.compile(r"(^|_)(token|secret|password|passwd|credentials?|api_?key|access_?key|private_?key)$",
                          re.IGNORECASE)
_URL_PATH_SECRET = frozenset({"publish.webhook.url"})  # webhook URLs often carry their secret in the path
MASK = "***"


def _mask_url(value: str, whole_path: bool) -> str:
    try:
        parts = urlsplit(value)
    except ValueError:
        return MASK
    if not parts.scheme or not parts.netloc:
        return value
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    if parts.username or parts.password:
        host = f"{MASK}@{host}"
    path = "/" + MASK if whole_path and parts.path.strip("/") else parts.path
    query = "&".join(f"{kv.split('=', 1)[0]}={MASK}" if "=" in kv else kv
                     for kv in parts.query.split("&")) if parts.query else ""
    return urlunsplit((parts.scheme, host, path, query, ""))


def mask_secrets(value: Any, path: str = "") -> Any:
    """``value`` (settings) with anything that could be a credential replaced by ``***``: values of keys
    named like one (``token``, ``api_key``, ``password`` …; not ``*_env`` names), credentials and query
    values in URLs, and the path of a webhook URL."""
    if isinstance(value, dict):
        return {k: mask_secrets(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v, path) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if _SECRET_NAME.search(path.rsplit(".", 1)[-1]):
        return MASK
    if isinstance(value, str) and "://" in value:
        return _mask_url(value, path in _URL_PATH_SECRET)
    return value


def effective_yaml(settings: Settings) -> str:
    """The effective settings as YAML (defaults overlaid by the user file), secrets masked."""
    data = mask_secrets(settings.model_dump(mode="json"))
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
