"""Detectors by name, as registered through the ``register_detectors`` plugin hook: the built-ins below
(:mod:`tracemine.default_plugins.detectors`), then third-party plugins (entry-point group ``tracemine``,
or the older ``tracemine.detectors``: ``name = "package.module:DetectorClass"``); a built-in name wins."""

from __future__ import annotations

import importlib
import logging

from pydantic import BaseModel

from tracemine.detect.base import Detector
from tracemine.plugins import by_name, memoized

BUILTIN = {
    "loop": "tracemine.detect.builtin.loop:LoopDetector",
    "duplicate_call": "tracemine.detect.builtin.duplicate_call:DuplicateCallDetector",
    "silent_failure": "tracemine.detect.builtin.silent_failure:SilentFailureDetector",
    "argument_error": "tracemine.detect.builtin.argument_error:ArgumentErrorDetector",
    "unrecovered_error": "tracemine.detect.builtin.unrecovered_error:UnrecoveredErrorDetector",
    "outlier": "tracemine.detect.builtin.outlier:OutlierDetector",
    "contrast": "tracemine.detect.builtin.contrast:ContrastDetector",
}

log = logging.getLogger("tracemine.plugins")


class UnknownDetector(KeyError):
    """A detector name that is neither built in nor installed."""


def load_target(target: str) -> type[Detector]:
    """The detector class named by ``"package.module:Class"``."""
    module_name, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, Detector)):
        raise TypeError(f"{target} is not a tracemine Detector")
    return cls


@memoized
def detector_classes() -> dict[str, type[Detector]]:
    """Detector name → class, built-ins first; a registered object that is not a Detector is left out
    (with a warning)."""
    found: dict[str, type[Detector]] = {}
    for name, cls in by_name("register_detectors").items():
        if isinstance(cls, type) and issubclass(cls, Detector):
            found[name] = cls
        else:
            log.warning("detector plugin %r registered %r, which is not a tracemine Detector; left out", name, cls)
    return found


def available() -> dict[str, str]:
    """Detector name → import target (``"package.module:Class"``), built-ins first."""
    return {name: f"{cls.__module__}:{cls.__qualname__}" for name, cls in detector_classes().items()}


def detector_class(name: str) -> type[Detector]:
    classes = detector_classes()
    if name not in classes:
        raise UnknownDetector(f"unknown detector {name!r}; available: {', '.join(classes)}")
    return classes[name]


def params_model_of(name: str) -> type[BaseModel] | None:
    """The params model detector ``name`` declares (``None``: none, or no such detector); a built-in is
    imported without loading the plugins."""
    if name in BUILTIN:
        return load_target(BUILTIN[name]).params_model
    cls = detector_classes().get(name)
    return cls.params_model if cls is not None else None


SIGNAL_SOURCES = {"trajectory": "tracemine.trajectories:TrajectorySignals"}
"""Producers of signals that are no window detectors (they declare what their signals mean all the same)."""


def spec_for(detector: str | None, kind: str | None = None) -> type[Detector]:
    """The class that says what a signal means downstream (its waste, what splits its findings, what
    explains them): its detector's, else the one declaring its kind, else the base :class:`Detector` (a
    signal stored by a plugin that is no longer installed keeps the defaults)."""
    classes = detector_classes()
    if detector in classes:
        return classes[detector]
    if detector in SIGNAL_SOURCES:
        return load_target(SIGNAL_SOURCES[detector])
    for cls in classes.values():
        if kind in cls.kinds:
            return cls
    for target in SIGNAL_SOURCES.values():
        cls = load_target(target)
        if kind in cls.kinds:
            return cls
    return Detector


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
