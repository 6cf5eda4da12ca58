"""Themes: cross-cutting patterns above findings (see ARCHITECTURE.md, 'Where concepts live').

A finding is one fix (one agent, one tool or cycle or model, one mechanism, one violated constraint or
error family: :mod:`tracemine.findings`). A theme gathers the findings of one detector mechanism across
agents and tools — "loops without a repetition guard in 5 agents, 12 tools" — so the shared cause (a
missing guard, a weak tool description) is visible above the individual fixes.

* **Key**: the kind and mechanism of its findings' fix keys; id ``th-`` + a hash of that key, stable
  across runs. Only mechanisms shared by at least ``min_findings`` findings make a theme.
* **Figures**: distinct traces and signals over its findings, traces per agent and per tool, the highest
  severity held by its findings, and a score (the sum of its findings' scores) that orders themes.
* **Wording**: recursive — its brief's children are its findings' briefs (already summarised) and its
  facts aggregate every member signal, so both summarisers write it from its findings.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tracemine.model import Severity, Signal, Theme
from tracemine.redact import Redactor
from tracemine.summarise.base import Brief, ExemplarBrief


@dataclass
class ThemeCandidate:
    """A theme before wording, with the brief its summariser reads."""

    theme: Theme
    brief: Brief


def theme_id(kind: str, mechanism: str) -> str:
    return "th-" + hashlib.sha1(f"v1\x00{kind}\x00{mechanism}".encode("utf-8", "replace")).hexdigest()[:12]


def build_themes(candidates: Sequence[Any], signals: Sequence[Signal], window_traces: int,
                 redactor: Redactor | None = None, min_findings: int = 2, exemplars: int = 6) -> list[ThemeCandidate]:
    """Themes over ``candidates`` (:class:`tracemine.findings.Candidate`, already scored); sets each
    member finding's ``theme_id``. ``signals`` are the detection run's signals (the candidates'
    ``members`` index them). Themes come out best first (score, then id)."""
    from tracemine.summarise.facts import collect_facts

    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for c in candidates:
        key = c.finding.key
        groups[(key.get("kind", c.finding.kinds[0]), key.get("mechanism", ""))].append(c)
    out: list[ThemeCandidate] = []
    for (kind, mechanism), members in groups.items():
        if len(members) < min_findings:
            continue
        members = sorted(members, key=lambda c: (-c.finding.score, c.finding.fingerprint))
        tid = theme_id(kind, mechanism)
        traces: set[str] = set()
        agents: Counter[str] = Counter()
        tools: Counter[str] = Counter()
        member_signals: list[Signal] = []
        for c in members:
            c.finding.theme_id = tid
            traces.update(c.finding.trace_ids)
            n = c.finding.impact.traces
            for agent in c.finding.agents[:1] or [c.finding.key.get("agent") or ""]:
                if agent:
                    agents[agent] += n
            subject = c.finding.key.get("subject") or ""
            for tool in c.finding.tools or ([subject] if subject else []):
                tools[tool] += n
            member_signals.extend(signals[i] for i in c.members)
        severity = max((c.finding.severity for c in members), key=_severity_rank)
        theme = Theme(
            theme_id=tid, kind=kind, mechanism=mechanism, findings=[c.finding.fingerprint for c in members],
            traces=len(traces), signals=sum(c.finding.impact.signals for c in members), window_traces=window_traces,
            severity=severity, score=round(sum(c.finding.score for c in members), 6),
            agents=sorted(agents.items(), key=lambda kv: (-kv[1], kv[0])),
            tools=sorted(tools.items(), key=lambda kv: (-kv[1], kv[0])),
        )
        refs = [ExemplarBrief(ref=f"E{n}", trace_id=e.trace_id, span_ids=list(e.span_ids), tool=e.tool, text=e.text,
                              severity=e.severity)
                for n, e in enumerate((c.brief.exemplars[0] for c in members if c.brief.exemplars), 1)][:exemplars]
        facts = collect_facts(member_signals, redactor)
        facts["findings"] = len(members)
        facts["distinct"] = {"tools": len(tools), "agents": len(agents),  # exact: the brief's lists are capped
                             "models": len({m for c in members for m in c.finding.models})}
        brief = Brief(
            node_id=tid, level="theme", kinds=[kind], signals=theme.signals, traces=theme.traces,
            window_traces=window_traces, severity=severity, frame=members[0].brief.frame,
            mechanisms=[(mechanism, theme.signals)], tools=theme.tools[:10], agents=theme.agents[:10],
            models=_models(members), facts=facts, exemplars=refs,
            impact={k: sum(c.brief.impact.get(k, 0) for c in members)
                    for k in ("tokens_wasted", "latency_wasted_ms", "cost_wasted_usd")},
            children=[c.brief for c in members],
        )
        out.append(ThemeCandidate(theme, brief))
    out.sort(key=lambda t: (-t.theme.score, t.theme.theme_id))
    return out


def _severity_rank(severity: str) -> int:
    return max(Severity.rank(severity), 0)


def _models(members: Sequence[Any]) -> list[tuple[str, int]]:
    models: Counter[str] = Counter()
    for c in members:
        for model, n in c.brief.models:
            models[model] += n
    return models.most_common(5)
