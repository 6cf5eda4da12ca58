"""Format registry and detection: which reader claims a parsed document, record or binary file."""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from tracemine.ingest.base import BinaryReader, Reader

# One module per file format under tracemine.ingest.readers; each exposes READERS and/or BINARY_READERS.
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


@cache
def json_readers() -> tuple[type[Reader], ...]:
    """All JSON readers, in match order (priority, then registration order)."""
    found: list[type[Reader]] = []
    for name in READER_MODULES:
        module = importlib.import_module(f"tracemine.ingest.readers.{name}")
        found.extend(getattr(module, "READERS", ()))
    return tuple(sorted(found, key=lambda r: r.priority))


@cache
def binary_readers() -> tuple[type[BinaryReader], ...]:
    found: list[type[BinaryReader]] = []
    for name in READER_MODULES:
        module = importlib.import_module(f"tracemine.ingest.readers.{name}")
        found.extend(getattr(module, "BINARY_READERS", ()))
    return tuple(found)


def format_names() -> list[str]:
    return [r.format for r in json_readers()] + [r.format for r in binary_readers()]


def detect(obj: Any, hint: type[Reader] | None = None) -> type[Reader] | None:
    """The reader that claims ``obj``; ``hint`` (the last match in this file) is tried first."""
    if hint is not None and _safe_match(hint, obj):
        return hint
    for reader in json_readers():
        if reader is not hint and _safe_match(reader, obj):
            return reader
    return None


def detect_binary(path: str, head: bytes) -> type[BinaryReader] | None:
    for reader in binary_readers():
        try:
            if reader.match_file(path, head):
                return reader
        except Exception:  # a sniffing bug must not stop ingest
            continue
    return None


def _safe_match(reader: type[Reader], obj: Any) -> bool:
    try:
        return bool(reader.match(obj))
    except Exception:
        return False
