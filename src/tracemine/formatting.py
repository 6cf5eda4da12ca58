"""Small formatting helpers (times, counts, sizes, ids) shared by reports, the CLI, history and summaries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime


def format_ns(value: int | None) -> str:
    """Epoch nanoseconds as ``2026-11-01 12:00:00Z`` (``—`` when unknown)."""
    if value is None:
        return "—"
    try:
        return datetime.fromtimestamp(value / 1e9, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return str(value)


def format_count(value: int | float | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}"


def format_ms(ms: float) -> str:
    """Milliseconds as ``850 ms``, ``1.2 s`` or ``3.5 min``."""
    if ms >= 60_000:
        return f"{ms / 60_000:,.1f} min"
    if ms >= 1000:
        return f"{ms / 1000:,.1f} s"
    return f"{ms:,.0f} ms"


def format_bytes(value: int) -> str:
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    return f"{size:,.1f} GB"


def short_ids(fingerprints: Sequence[str], length: int = 8) -> dict[str, str]:
    """Each fingerprint cut to ``tm-`` plus the shortest hex prefix (at least ``length``) that tells them
    apart; ``tracemine show`` accepts any unique prefix."""
    for n in range(length, 65):
        ids = {fp: fp[: 3 + n] if fp.startswith("tm-") else fp[:n] for fp in fingerprints}
        if len(set(ids.values())) == len(ids):
            return ids
    return {fp: fp for fp in fingerprints}
