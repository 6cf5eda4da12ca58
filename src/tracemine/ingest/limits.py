"""What ingest refuses to take in, and why: oversized records and files, impossible span times, JSON
nested too deeply. Each check names its reason; the record goes to the quarantine and the run goes on.

Nesting depth is not measured on every record (a walk costs more than the parse); it is caught where
it breaks: orjson parses up to 1,024 levels and writes up to 254, Python recursion stops near 1,000.
A record that hits any of these is rejected on its own (:func:`is_too_deep`, :func:`depth_reason`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

MIN_TIME_NS = 946_684_800 * 1_000_000_000
"""2000-01-01T00:00:00Z: no agent trace is older; earlier times are zero-based, negative or mis-scaled clocks."""
ORJSON_READ_DEPTH = 1024
ORJSON_WRITE_DEPTH = 254


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """Bounds on decompressed input (``ingest.max_record_bytes`` / ``ingest.max_file_bytes``)."""

    max_record_bytes: int = 64 * 1024 * 1024
    max_file_bytes: int = 2 * 1024 * 1024 * 1024

    @classmethod
    def from_settings(cls, settings: Any) -> ReadLimits:
        return cls(settings.max_record_bytes, settings.max_file_bytes)


def size_text(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} bytes"


# -- span times ------------------------------------------------------------------------------------


def time_text(ns: int) -> str:
    """An epoch-ns time as ISO text, or the number when it has no date."""
    try:
        return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return f"{ns} ns since 1970"


def time_problem(start: int | None, end: int | None, latest_ns: int) -> str | None:
    """Why a span's times are impossible (before 2000, or after ``latest_ns``), or ``None``."""
    for label, value in (("start", start), ("end", end)):
        if value is None or MIN_TIME_NS <= value <= latest_ns:
            continue
        if abs(value) >= 2**63:
            return f"impossible {label} time: infinite"
        if value < 0:
            return f"impossible {label} time: negative ({value})"
        if value < 100_000_000:  # as read (tracemine.ingest.normalize.to_ns): no unit makes it a date
            return f"impossible {label} time: {value} is not an epoch time in any unit"
        if value < MIN_TIME_NS:
            return f"impossible {label} time: {time_text(value)} is before 2000-01-01"
        return (f"impossible {label} time: {time_text(value)} is in the future (beyond "
                f"ingest.future_tolerance_seconds)")
    return None


# -- nesting depth ---------------------------------------------------------------------------------


class NestingError(ValueError):
    """A value nested deeper than can be stored (orjson writes at most 254 levels)."""


def is_too_deep(exc: BaseException) -> bool:
    """Whether ``exc`` is a recursion or depth limit of the parser, the JSON writer or Python."""
    if isinstance(exc, RecursionError | NestingError):
        return True
    text = str(exc)
    return ("Recursion limit" in text or "depth limit" in text) and isinstance(exc, TypeError | ValueError)


def nesting_depth(obj: Any, cap: int = 100_000) -> int:
    """Containers nested in ``obj`` (a scalar is 0), walked without recursion; stops counting at ``cap``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list | tuple):
            children = value
        else:
            continue
        if depth > deepest:
            deepest = depth
            if deepest >= cap:
                return deepest
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list | tuple))
    return deepest


def depth_reason(obj: Any = None) -> str:
    """The quarantine reason for a record nested too deeply; with the parsed record (or the values of a
    span) its depth is counted, without it the record was too deep to parse."""
    if obj is None:
        return f"JSON nested too deeply to read (more than {ORJSON_READ_DEPTH:,} levels)"
    return (f"JSON nested too deeply: {nesting_depth(obj):,} levels (values nested more than "
            f"{ORJSON_WRITE_DEPTH} levels cannot be stored)")

