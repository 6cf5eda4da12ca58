"""The ranking score of a finding (documented in configs/default.yaml under ``rank:``)::

    score = severity_weight × status_weight
            × (traces_weight × ln(1 + traces) + share_weight × trace_share + waste_weight × ln(1 + waste))
            × (isolated_factor for a one-off: a fix key with a single trace)
            × (1 + lift_weight × max(0, lower 95 % bound of the outcome lift))
    waste = cost_wasted_usd × 100 + tokens_wasted / 1000 + latency_wasted_ms / 60000

Severity multiplies, so a critical failure in a few traces outranks a low one in many; affected traces
count logarithmically (the 1,000th trace adds less than the 10th) and their share of the window
linearly; waste adds dollars, thousands of tokens and minutes on one scale. The score depends only on
figures, never on summariser wording, so findings are ranked before they are summarised and an LLM is
only asked about the findings that will be reported. Where traces carry outcomes, a finding whose
traces fail more often than the others (the lower bound of the difference in failure rates,
:mod:`tracemine.lift`) is weighted up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tracemine.model import Finding


class RankSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    severity_weights: dict[str, float] = Field(
        default_factory=lambda: {"critical": 8.0, "high": 4.0, "medium": 2.0, "low": 1.0})
    status_weights: dict[str, float] = Field(
        default_factory=lambda: {"new": 1.0, "recurring": 1.0, "regressed": 1.5, "resolved": 0.5})
    traces_weight: float = Field(1.0, ge=0)
    share_weight: float = Field(20.0, ge=0)
    waste_weight: float = Field(0.5, ge=0)
    isolated_factor: float = Field(0.5, ge=0)
    lift_weight: float = Field(2.0, ge=0)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> RankSettings:
        return cls.model_validate(dict(settings or {}))


def waste(finding: Finding) -> float:
    impact = finding.impact
    return (max(impact.cost_wasted_usd, 0.0) * 100 + max(impact.tokens_wasted, 0) / 1000
            + max(impact.latency_wasted_ms, 0.0) / 60_000)


def score(finding: Finding, settings: RankSettings | None = None, isolated: bool = False) -> float:
    """The finding's ranking score (see the module docstring)."""
    s = settings or RankSettings()
    impact = finding.impact
    base = (s.traces_weight * math.log1p(max(impact.traces, 0)) + s.share_weight * impact.trace_share
            + s.waste_weight * math.log1p(waste(finding)))
    value = s.severity_weights.get(finding.severity, 1.0) * s.status_weights.get(finding.status, 1.0) * base
    if isolated:
        value *= s.isolated_factor
    if finding.outcome:  # traces with it fail more often than those without, beyond doubt: it matters more
        value *= 1 + s.lift_weight * max(0.0, float(finding.outcome.get("ci_low") or 0.0))
    return round(value, 6)

