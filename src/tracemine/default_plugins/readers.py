"""Built-in readers: one module per file format under :mod:`tracemine.ingest.readers`, each exposing
``READERS`` (JSON) and/or ``BINARY_READERS``."""

from __future__ import annotations

import importlib
from typing import Any

from tracemine.hookspecs import hookimpl

READER_MODULES = (
    "otlp",
    "otlp_proto",
    "flat",
    "phoenix",
    "langfuse",
    "langsmith",
    "openai_agents",
    "inspect_ai",
    "swe_agent",
    "tau_bench",
    "jaeger",
    "zipkin",
    "atif",
)


@hookimpl
def register_readers() -> list[Any]:
    found: list[Any] = []
    for name in READER_MODULES:
        module = importlib.import_module(f"tracemine.ingest.readers.{name}")
        found.extend(getattr(module, "READERS", ()))
        found.extend(getattr(module, "BINARY_READERS", ()))
    return found
