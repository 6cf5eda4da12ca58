"""Built-in detectors (:data:`tracemine.detect.registry.BUILTIN`)."""

from __future__ import annotations

from typing import Any

from tracemine.hookspecs import hookimpl


@hookimpl
def register_detectors() -> list[Any]:
    from tracemine.detect.registry import BUILTIN, load_target

    return [load_target(target) for target in BUILTIN.values()]
