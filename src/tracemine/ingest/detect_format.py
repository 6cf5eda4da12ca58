"""Format detection: which registered reader claims a parsed document, record or binary file."""

from __future__ import annotations

from typing import Any

from tracemine.ingest.base import BinaryReader, Reader
from tracemine.plugins import components, memoized

# Readers are registered through the ``register_readers`` plugin hook: the built-ins by
# tracemine.default_plugins.readers (one module per format), third-party ones by their plugins.


@memoized
def json_readers() -> tuple[type[Reader], ...]:
    """All JSON readers, in match order (priority, then registration order)."""
    found = [r for r in components("register_readers") if isinstance(r, type) and issubclass(r, Reader)]
    return tuple(sorted(found, key=lambda r: r.priority))


@memoized
def binary_readers() -> tuple[type[BinaryReader], ...]:
    """All binary readers, in registration order."""
    return tuple(r for r in components("register_readers") if isinstance(r, type) and issubclass(r, BinaryReader))


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
