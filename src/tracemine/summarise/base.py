"""The summariser interface: what a summariser is shown about a cluster (:class:`Brief`) and what it
returns (:class:`Summary`). Both summarisers — offline (deterministic) and LLM — implement
:class:`Summariser`; :mod:`tracemine.summarise.recursive` walks the hierarchy leaves first.

Everything in a :class:`Brief` is already redacted (:mod:`tracemine.redact`): a summariser may
send it anywhere. Exemplars carry a short reference (``E1``, ``E2`` …): an LLM may cite those and nothing
else; trace and span ids in findings always come from cluster membership, never from summariser text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(slots=True)
class ExemplarBrief:
    """One member shown to a summariser: a reference, where it is, and a short redacted text."""

    ref: str
    """``E1``, ``E2`` … unique within one brief; the only handle a summariser may cite."""
    trace_id: str
    span_ids: list[str]
    tool: str | None
    text: str
    """The detector's sentence plus the evidence that matters (error message, arguments, result
    excerpt), redacted and trimmed to a bounded length."""
    severity: str = "medium"


@dataclass(slots=True)
class Summary:
    """A summariser's wording for one node. ``exemplar_refs`` are refs of the brief it relied on
    (validated: unknown refs are dropped)."""

    title: str
    summary: str
    mechanism: str
    recommended_fix: str
    exemplar_refs: list[str] = field(default_factory=list)
    summariser: str = "offline"
    """``offline`` or ``llm:<model>``; ``offline (fallback: <reason>)`` when an LLM call failed."""
    ids_removed: int = 0
    """Ids in the texts that the node does not cite, replaced by ``[id]``
    (:func:`tracemine.summarise.llm_output.check_summary`)."""


@dataclass(slots=True)
class Brief:
    """What a summariser sees about one node of the finding hierarchy.

    ``level`` is ``leaf`` (a cluster leaf inside a finding), ``finding`` (one ranked finding: a parent
    group of signals), ``theme`` (findings sharing one mechanism across agents and tools; its ``children``
    are those findings) or ``overview`` (all findings of a run; its ``children`` are the findings).
    Counts are for this node only; ``window_traces`` is the number of traces in the mined window.

    ``facts`` aggregates the members' detector evidence (see
    :func:`tracemine.summarise.facts.collect_facts`): counts of mechanisms, messages, error classes,
    schema violations, metrics, writes, recoveries, repeats… all redacted and masked.
    ``children`` are the briefs of the child nodes; ``child_summaries`` is filled in by the recursive
    walk (same order as ``children``) before this node is summarised.
    """

    node_id: str
    level: str
    kinds: list[str]
    signals: int
    traces: int
    window_traces: int
    severity: str
    frame: str = ""
    """The detector's sentence frame with names and values as placeholders (``<tool>``, ``<value>``)."""
    mechanisms: list[tuple[str, int]] = field(default_factory=list)
    tools: list[tuple[str, int]] = field(default_factory=list)
    models: list[tuple[str, int]] = field(default_factory=list)
    agents: list[tuple[str, int]] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    exemplars: list[ExemplarBrief] = field(default_factory=list)
    impact: dict[str, float] = field(default_factory=dict)
    """``tokens_wasted``, ``latency_wasted_ms``, ``cost_wasted_usd`` of this node's members."""
    children: list[Brief] = field(default_factory=list)
    child_summaries: list[Summary] = field(default_factory=list)

    @property
    def trace_share(self) -> float:
        return self.traces / self.window_traces if self.window_traces else 0.0

    def exemplar_refs(self) -> set[str]:
        return {e.ref for e in self.exemplars}


@runtime_checkable
class Summariser(Protocol):
    """Turns a :class:`Brief` into a :class:`Summary`. ``name`` goes into ``Finding.summariser``."""

    name: str

    def summarise(self, brief: Brief) -> Summary:  # pragma: no cover - protocol
        ...
