"""Building blocks for facts (:mod:`tracemine.summarise.facts`): redacted texts, top lists, shares, medians.

Detectors aggregate their own evidence fields with these in their ``facts`` classmethod
(:meth:`tracemine.detect.base.Detector.facts`), so every fact is redacted, masked and shaped the same way:

* :func:`top` — ``[[value, count], …]``, most common first, ties by value;
* :func:`share` — ``{"count": n, "of": m, "share": n / m}``;
* :func:`bools` — the share of members whose boolean fields (any of them) is true, among those carrying one;
* :func:`median`, :func:`number` — rounded medians of finite numbers (``None`` for anything else);
* :class:`Texts` — redaction (cached), whitespace collapsing and trimming to :data:`TEXT_CHARS`, masking.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tracemine.detect.textmask import mask
from tracemine.redact import Redactor, redact_cut

__all__ = ["TEXT_CHARS", "Texts", "bools", "median", "number", "share", "texts_of", "top"]

TEXT_CHARS = 160
"""Longest text kept in the facts (after redaction and masking)."""

_SPACES = re.compile(r"\s+")


def _trim(text: str, limit: int = TEXT_CHARS) -> str:
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Texts:
    """Redaction (cached: the same message recurs across members) then trimming / masking."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self._cache: dict[str, str] = {}

    def clean(self, value: Any) -> str:
        """Redacted, whitespace-collapsed, trimmed text ("" for anything empty)."""
        if value is None:
            return ""
        raw = value if isinstance(value, str) else str(value)
        cached = self._cache.get(raw)
        if cached is None:
            try:
                cached = _trim(redact_cut(raw, 4000, self.redactor, ellipsis=""))
            except Exception:  # a redactor must never let text through unredacted: drop it instead
                cached = ""
            self._cache[raw] = cached
        return cached

    def masked(self, value: Any) -> str:
        text = self.clean(value)
        return mask(text, TEXT_CHARS) if text else ""


def top(counter: Counter[Any], limit: int) -> list[list[Any]]:
    """The ``limit`` most common ``[value, count]`` pairs, ties by value."""
    items = sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return [[value, count] for value, count in items[: max(limit, 0)]]


def share(count: int, of: int) -> dict[str, Any]:
    return {"count": count, "of": of, "share": round(count / of, 4) if of else 0.0}


def median(values: Sequence[float]) -> float | None:
    return round(float(statistics.median(values)), 4) if values else None


def number(value: Any) -> float | None:
    """A finite int or float as a float (``None`` for booleans, NaN, infinities and anything else)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value == value and value not in (float("inf"), float("-inf")) else None


def bools(evs: Iterable[Mapping[str, Any]], fields: Sequence[str]) -> dict[str, Any] | None:
    """Share of members whose boolean ``fields`` (any of them) is true, among members carrying one."""
    known = hits = 0
    for ev in evs:
        values = [ev[f] for f in fields if isinstance(ev.get(f), bool)]
        if values:
            known += 1
            hits += any(values)
    return share(hits, known) if known else None


def texts_of(value: Any) -> list[str]:
    """A string or the strings of a list, as a list."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []
