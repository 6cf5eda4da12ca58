"""Outcome lift: do traces with a finding fail more often than traces without it? (see ARCHITECTURE.md,
'Where concepts live')

Where the archive knows trace outcomes (τ-bench rewards, Langfuse scores, Inspect AI scores, SWE-agent
exit statuses: the ``traces.outcome`` column), each finding gets the failure rate of the window's traces
that carry it and of those that do not, the difference with a 95 % confidence interval (Newcombe's hybrid
score interval from two Wilson intervals) and the rate ratio. Traces with an unknown outcome are left
out of both groups. With fewer than ``min_known`` known outcomes, or only one kind of outcome, there is
no lift (``None``): nothing is claimed from too little data.

Ranking reads the lower bound of the difference (:func:`tracemine.rank.score`): a finding that
certainly goes with failed runs moves up; one whose traces succeed as often as the rest does not.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

Z95 = 1.959964


@dataclass(slots=True)
class Lift:
    """Failure rates with and without a finding, their difference and its 95 % interval."""

    failed_with: int
    known_with: int
    failed_without: int
    known_without: int
    rate_with: float
    rate_without: float
    difference: float
    ci_low: float
    ci_high: float
    ratio: float | None

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def wilson(failed: int, total: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion."""
    if total <= 0:
        return 0.0, 1.0
    p = failed / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def lift_of(failed_with: int, known_with: int, failed_without: int, known_without: int) -> Lift:
    """The lift of one finding from its counts (Newcombe's method 10 for the difference)."""
    p1 = failed_with / known_with if known_with else 0.0
    p2 = failed_without / known_without if known_without else 0.0
    l1, u1 = wilson(failed_with, known_with)
    l2, u2 = wilson(failed_without, known_without)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    ratio = p1 / p2 if p2 > 0 else None
    return Lift(failed_with, known_with, failed_without, known_without, p1, p2, d, max(-1.0, low), min(1.0, high),
                ratio)


def window_outcomes(store: Any, window: Any) -> dict[str, bool]:
    """Trace id → failed, for the window's traces whose outcome is known."""
    from tracemine.store.traces import known_outcomes

    return {t: o == "failure" for t, o in known_outcomes(store, window)}


def finding_lifts(outcomes: dict[str, bool], findings: Iterable[Any], min_known: int = 20) -> dict[str, Lift]:
    """Fingerprint → :class:`Lift` of each finding (none when outcomes are too few or all alike)."""
    known = len(outcomes)
    failed_total = sum(outcomes.values())
    if known < min_known or failed_total in (0, known):
        return {}
    out: dict[str, Lift] = {}
    for f in findings:
        with_ = [outcomes[t] for t in f.trace_ids if t in outcomes]
        if not with_ or len(with_) == known:
            continue
        failed_with = sum(with_)
        out[f.fingerprint] = lift_of(failed_with, len(with_), failed_total - failed_with, known - len(with_))
    return out
