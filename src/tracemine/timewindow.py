"""Time windows: ``--window 7d``, ``--since``, ``--until`` → a half-open ``[since, until)`` range in ns.

Without ``--until`` a window ends at its *anchor*: the newest span in the store not beyond now +
``ingest.future_tolerance_seconds`` (for a live archive that is about now; for an old archive it is "the
last 7 days of data", which is what an investigation wants). Spans timed beyond that (a clock set years
ahead, stored before the ingest limits existed or with a larger tolerance) are ignored by the anchor, with
a warning (:func:`find_anchor`), so one of them cannot pull every window into the future.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

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
        from tracemine.formatting import format_ns

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

    @property
    def uses_anchor(self) -> bool:
        """Whether the window ends at the anchor (``--window`` without ``--until``)."""
        return bool(self.window) and not self.until

    def resolve(self, newest: int | Anchor | None) -> Window:
        """The concrete window; ``newest`` (the :class:`Anchor`, or a span time) anchors ``--window``."""
        self.validate()
        newest_ns = newest.ns if isinstance(newest, Anchor) else newest
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


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where ``--window`` ends without ``--until``: ``ns``, the newest span time not beyond ``limit_ns``
    (now + ``ingest.future_tolerance_seconds``; ``None`` for an empty archive), and the spans beyond it."""

    ns: int | None
    limit_ns: int
    tolerance_seconds: int
    ignored_spans: int = 0
    ignored_traces: int = 0
    ignored_newest_ns: int | None = None

    def warning(self) -> str | None:
        """One line on the spans the anchor ignored, or ``None`` when there are none."""
        if not self.ignored_spans:
            return None
        from tracemine.ingest.limits import time_text

        anchor = time_text(self.ns) if self.ns is not None else "none (no span is before it)"
        return (f"window anchor: ignored {self.ignored_spans:,} span(s) of {self.ignored_traces:,} trace(s) timed "
                f"after {time_text(self.limit_ns)} (now + ingest.future_tolerance_seconds = "
                f"{self.tolerance_seconds:,}s), the newest at {time_text(self.ignored_newest_ns or 0)}; "
                f"--window ends at the newest span before that: {anchor}")

    def as_dict(self) -> dict[str, Any]:
        from tracemine.ingest.limits import time_text

        return {"ns": self.ns, "at": time_text(self.ns) if self.ns is not None else None, "limit_ns": self.limit_ns,
                "tolerance_seconds": self.tolerance_seconds, "ignored_spans": self.ignored_spans,
                "ignored_traces": self.ignored_traces, "ignored_newest_ns": self.ignored_newest_ns}


def find_anchor(store: Any, tolerance_seconds: int, now_ns: int | None = None) -> Anchor:
    """The :class:`Anchor` of ``store``'s spans: the newest ``time_ns`` not after ``now_ns`` (default: now)
    + ``tolerance_seconds`` — the bound ingest quarantines beyond (:mod:`tracemine.ingest.limits`)."""
    limit = (now_ns if now_ns is not None else time.time_ns()) + int(tolerance_seconds) * 1_000_000_000
    from tracemine.store.traces import anchor_counts  # the store imports this module

    newest, spans, traces, newest_all = anchor_counts(store, limit)
    return Anchor(newest, limit, int(tolerance_seconds), int(spans or 0), int(traces or 0),
                  newest_all if spans else None)
