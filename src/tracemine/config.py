"""Settings: the packaged ``configs/default.yaml``, overlaid by a user YAML file (``--config`` or
``TRACEMINE_CONFIG``). Validated with pydantic so a typo fails early with a clear message."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_CONFIG = Path(__file__).parent / "configs" / "default.yaml"


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
    model_config = ConfigDict(extra="allow")

    ingest: IngestSettings = IngestSettings()
    # detector name → its settings (thresholds); see configs/default.yaml
    detect: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # embedding model and batching (tracemine.embed.Embedder.from_settings checks the keys)
    embed: dict[str, Any] = Field(default_factory=dict)
    # clustering thresholds (tracemine.cluster.ClusterSettings.from_settings checks the keys)
    cluster: dict[str, Any] = Field(default_factory=dict)


class ConfigError(ValueError):
    """The configuration file cannot be read or does not validate."""


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a mapping at the top level")
    return data


def load_settings(path: str | Path | None = None) -> Settings:
    """Defaults overlaid by ``path`` (or ``$TRACEMINE_CONFIG``)."""
    data = _read_yaml(DEFAULT_CONFIG)
    user = path or os.environ.get("TRACEMINE_CONFIG")
    if user:
        data = _deep_merge(data, _read_yaml(Path(user)))
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration: {exc}") from exc
