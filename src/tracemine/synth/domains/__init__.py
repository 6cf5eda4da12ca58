"""The synthetic agents, one module per domain."""

from __future__ import annotations

from tracemine.synth.catalog import AgentSpec
from tracemine.synth.domains import analytics, coding, research, support, travel

AGENTS: tuple[AgentSpec, ...] = (support.AGENT, travel.AGENT, coding.AGENT, research.AGENT, analytics.AGENT)
AGENTS_BY_NAME: dict[str, AgentSpec] = {a.name: a for a in AGENTS}

__all__ = ["AGENTS", "AGENTS_BY_NAME"]
