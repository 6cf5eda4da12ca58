"""Detectors by name: the built-ins plus third-party ones from the ``tracemine.detectors`` entry-point
group (``name = "package.module:DetectorClass"``)."""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points

from tracemine.detect.base import Detector

BUILTIN = {
    "loop": "tracemine.detect.loop:LoopDetector",
    "duplicate_call": "tracemine.detect.duplicate_call:DuplicateCallDetector",
    "silent_failure": "tracemine.detect.silent_failure:SilentFailureDetector",
    "argument_error": "tracemine.detect.argument_error:ArgumentErrorDetector",
    "unrecovered_error": "tracemine.detect.unrecovered_error:UnrecoveredErrorDetector",
    "outlier": "tracemine.detect.outlier:OutlierDetector",
    "contrast": "tracemine.detect.contrast:ContrastDetector",
}


class UnknownDetector(KeyError):
    """A detector name that is neither built in nor installed."""


def _load(target: str) -> type[Detector]:
    module_name, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, Detector)):
        raise TypeError(f"{target} is not a tracemine Detector")
    return cls


@cache
def available() -> dict[str, str]:
    """Detector name → import target, built-ins first."""
    found = dict(BUILTIN)
    for entry in entry_points(group="tracemine.detectors"):
        found.setdefault(entry.name, entry.value)
    return found


def detector_class(name: str) -> type[Detector]:
    targets = available()
    if name not in targets:
        raise UnknownDetector(f"unknown detector {name!r}; available: {', '.join(targets)}")
    return _load(targets[name])


def build(names: list[str] | None, settings: dict[str, dict]) -> list[Detector]:
    """Instantiate the named detectors (all available when ``names`` is empty) with their settings.

    A detector that reads another detector's thresholds (``reads_settings_of``) gets them under that
    detector's name unless its own settings override them, so the two never disagree.
    """
    chosen = names or list(available())
    detectors = []
    for name in chosen:
        cls = detector_class(name)
        own = dict(settings.get(name) or {})
        for other in cls.reads_settings_of:
            own.setdefault(other, dict(settings.get(other) or {}))
        detectors.append(cls(own))
    return detectors
