"""Time windows: ``--window 7d``, ``--since``, ``--until`` → a half-open ``[since, until)`` range in ns.

Without ``--until`` a window ends at the newest span in the store (for a live archive that is about
now; for an old archive it is "the last 7 days of data", which is what an investigation wants).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracemine.ingest.normalize import to_ns

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day|days|w|wk|weeks?)\s*$", re.IGNORECASE)
_UNIT_NS = {
    "s": 1,
    "sec": 1,
    "m": 60,
    "min": 60,
    "h": 3600,
    "hr": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "wk": 604800,
    "week": 604800,
    "weeks": 604800,
}


class WindowError(ValueError):
    """A window, duration or timestamp the user gave cannot be understood."""


def parse_duration(text: str) -> int:
    """``7d``, ``12h``, ``30m``, ``2w``, ``90s`` → nanoseconds."""
    m = _DURATION.match(text or "")
    if not m:
        raise WindowError(f"cannot read duration {text!r}: use a number and a unit, e.g. 7d, 12h, 30m, 2w")
    return int(float(m.group(1)) * _UNIT_NS[m.group(2).lower()] * 1_000_000_000)


def parse_instant(text: str) -> int:
    """An ISO date/datetime (``2026-11-01``, ``2026-11-01T12:00:00Z``) or epoch number → ns."""
    raw = (text or "").strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raw += "T00:00:00Z"
    value = to_ns(raw)
    if value is None or value <= 0:  # to_ns returns impossible times (negative, tiny) for ingest to reject
        raise WindowError(f"cannot read time {text!r}: use ISO 8601, e.g. 2026-11-01 or 2026-11-01T12:00:00Z")
    return value


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open time range in epoch ns; ``None`` bounds are open."""

    since_ns: int | None = None
    until_ns: int | None = None

    @property
    def is_open(self) -> bool:
        return self.since_ns is None and self.until_ns is None

    def describe(self) -> str:
        from tracemine.report.format import format_ns

        if self.is_open:
            return "all time"
        start = format_ns(self.since_ns) if self.since_ns is not None else "beginning"
        end = format_ns(self.until_ns) if self.until_ns is not None else "now"
        return f"{start} → {end}"


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """What the user asked for, resolved against the store by :meth:`resolve`."""

    window: str | None = None
    since: str | None = None
    until: str | None = None

    def validate(self) -> None:
        if self.window and self.since:
            raise WindowError("give either --window or --since, not both")
        if self.window:
            parse_duration(self.window)
        if self.since:
            parse_instant(self.since)
        if self.until:
            parse_instant(self.until)

    def resolve(self, newest_ns: int | None) -> Window:
        """The concrete window; ``newest_ns`` (newest span time in the store) anchors ``--window``."""
        self.validate()
        until = parse_instant(self.until) if self.until else None
        since = parse_instant(self.since) if self.since else None
        if self.window:
            anchor = until if until is not None else newest_ns
            if anchor is None:
                return Window(None, until)
            if until is None:
                until = anchor + 1  # include the newest span itself
            since = anchor - parse_duration(self.window)
        if since is not None and until is not None and since >= until:
            raise WindowError("the window is empty: --since must be before --until")
        return Window(since, until)
