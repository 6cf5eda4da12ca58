"""Core vocabulary: spans, traces, signals, clusters and findings (see ARCHITECTURE.md,
'Where concepts live').

Spans are plain slotted dataclasses rather than pydantic models: ingest creates millions of them and
validation happens once, in the mappers, where raw values are normalised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class SpanKind(StrEnum):
    """What a span does in an agent run."""

    AGENT = "agent"
    LLM = "llm"
    TOOL = "tool"
    RETRIEVER = "retriever"
    CHAIN = "chain"
    EMBEDDING = "embedding"
    GUARDRAIL = "guardrail"
    OTHER = "other"


class Status(StrEnum):
    """Span status, as in OpenTelemetry."""

    OK = "ok"
    ERROR = "error"
    UNSET = "unset"


class StatusSource(StrEnum):
    """Whether the status was written by the source (explicit) or derived by tracemine (inferred)."""

    EXPLICIT = "explicit"
    INFERRED = "inferred"


class Outcome(StrEnum):
    """Outcome of a whole trace when the source records one (rewards, scores, exit status)."""

    SUCCESS = "success"
    FAILURE = "failure"
    UNKNOWN = "unknown"


class Severity(StrEnum):
    """How bad a signal, finding or theme is; members run from least to most severe (``list(Severity)``)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @classmethod
    def rank(cls, value: str) -> int:
        """``value``'s place from least (0) to most severe; -1 for a value that is no severity."""
        return _SEVERITY_RANK.get(value, -1)


_SEVERITY_RANK = {member.value: rank for rank, member in enumerate(Severity)}


class FindingStatus(StrEnum):
    """A finding compared with the archive's earlier runs (``history.assign_statuses``)."""

    NEW = "new"
    RECURRING = "recurring"
    REGRESSED = "regressed"
    RESOLVED = "resolved"


@dataclass(slots=True)
class SourceRef:
    """Where a record came from: format name, file path and a locator (line number, JSON path, zip member)."""

    format: str
    file: str
    locator: str = ""


@dataclass(slots=True)
class Span:
    """One unit of work in a trace, normalised across formats.

    ``trace_id``/``span_id``/``parent_span_id`` are normalised (binary or integer ids become lowercase hex);
    ``raw_trace_id``/``raw_span_id`` keep the source's spelling. Times are integer nanoseconds since the
    epoch (``None`` when the source has none, e.g. τ-bench); ``sequence`` orders spans within a trace when
    times are missing or tied. ``tool_arguments`` and ``tool_result`` keep the raw text; decoded values
    are computed on demand by :func:`tracemine.ingest.decode.decode_value`.
    """

    trace_id: str
    span_id: str
    parent_span_id: str | None = None
    name: str = ""
    kind: SpanKind = SpanKind.OTHER
    start_ns: int | None = None
    end_ns: int | None = None
    sequence: int | None = None
    status: Status = Status.UNSET
    status_message: str | None = None
    status_source: StatusSource = StatusSource.EXPLICIT
    tool_name: str | None = None
    tool_call_id: str | None = None
    tool_arguments: str | None = None
    tool_result: str | None = None
    tool_definitions: str | None = None
    input: str | None = None
    output: str | None = None
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    cost_usd: float | None = None
    session_id: str | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    events: list[dict[str, Any]] | None = None
    attributes: dict[str, Any] | None = None
    resource: dict[str, Any] | None = None
    truncated: bool = False
    raw_trace_id: str | None = None
    raw_span_id: str | None = None
    source: SourceRef | None = None

    @property
    def duration_ns(self) -> int | None:
        if self.start_ns is None or self.end_ns is None:
            return None
        return self.end_ns - self.start_ns


@dataclass(slots=True)
class TraceInfo:
    """Trace-level facts a source records beside its spans (outcome, labels, task ids)."""

    trace_id: str
    outcome: Outcome = Outcome.UNKNOWN
    labels: dict[str, Any] | None = None
    name: str | None = None
    source: SourceRef | None = None


@dataclass(slots=True)
class Trace:
    """A trace: its spans as a tree (``children`` by parent id), the root, and the outcome when known."""

    trace_id: str
    spans: list[Span]
    outcome: Outcome = Outcome.UNKNOWN
    labels: dict[str, Any] | None = None
    children: dict[str | None, list[Span]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.children:
            self.children = build_children(self.spans)

    @property
    def roots(self) -> list[Span]:
        return self.children.get(None, [])

    @property
    def root(self) -> Span | None:
        roots = self.roots
        return roots[0] if roots else None

    def ordered(self) -> list[Span]:
        """Spans in execution order (start time, then sequence, then id)."""
        return sorted(self.spans, key=span_order_key)


def span_order_key(span: Span) -> tuple[int, int, str]:
    start = span.start_ns if span.start_ns is not None else -1
    seq = span.sequence if span.sequence is not None else -1
    return (start, seq, span.span_id)


def build_children(spans: list[Span]) -> dict[str | None, list[Span]]:
    """Map parent span id to ordered children; spans whose parent is absent from the trace become roots."""
    present = {s.span_id for s in spans}
    children: dict[str | None, list[Span]] = {}
    for span in spans:
        parent = span.parent_span_id if span.parent_span_id in present else None
        if parent == span.span_id:
            parent = None
        children.setdefault(parent, []).append(span)
    for kids in children.values():
        kids.sort(key=span_order_key)
    return children


@dataclass(slots=True)
class Signal:
    """A deterministic detector's claim about one trace, with the spans that show it.

    ``span_ids`` are where the failure shows (the symptom); ``cause_span_id`` is the LLM call that decided
    it and ``agent`` the agent that made the call (set by :mod:`tracemine.detect.cause`, ``None`` when
    the trace does not say)."""

    detector: str
    kind: str
    trace_id: str
    span_ids: list[str]
    severity: str
    """A :class:`Severity` value."""
    evidence: dict[str, Any]
    text: str
    cause_span_id: str | None = None
    agent: str | None = None


@dataclass(slots=True)
class Exemplar:
    """A trace and spans that show a finding, with a short evidence excerpt (redacted)."""

    trace_id: str
    span_ids: list[str]
    excerpt: str
    cause_span_id: str | None = None
    """The LLM call that decided the failure (see :mod:`tracemine.detect.cause`), when known."""


@dataclass(slots=True)
class Impact:
    """How big a finding is in its window: traces affected and what the failure wasted."""

    traces: int
    window_traces: int
    signals: int = 0
    tokens_wasted: int = 0
    latency_wasted_ms: float = 0.0
    cost_wasted_usd: float = 0.0

    @property
    def trace_share(self) -> float:
        return self.traces / self.window_traces if self.window_traces else 0.0


FIX_PARTS = ("kind", "mechanism", "agent", "subject", "family")
"""What makes a finding one fix (:attr:`Finding.key`)."""


@dataclass(slots=True)
class Finding:
    """A ranked, verified failure mode with citations into the store.

    ``fingerprint`` is stable across runs and windows for the same failure mode; ``trace_ids`` lists every
    affected trace and ``exemplars`` the spans a reader should open first. Citations come from cluster
    membership, never from LLM text, and are checked against the store before anything is written.
    """

    fingerprint: str
    title: str
    summary: str
    mechanism: str
    recommended_fix: str
    severity: str
    """A :class:`Severity` value."""
    kinds: list[str]
    impact: Impact
    trace_ids: list[str]
    span_ids: list[str]
    cluster_ids: list[str]
    tools: list[str] = field(default_factory=list)
    agents: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    first_seen_ns: int | None = None
    last_seen_ns: int | None = None
    exemplars: list[Exemplar] = field(default_factory=list)
    status: str = FindingStatus.NEW
    """A :class:`FindingStatus` value."""
    score: float = 0.0
    summariser: str = "offline"
    timeline: list[tuple[int, int]] = field(default_factory=list)
    """Signals over the window: ``(bucket_start_ns, signals)`` in equal buckets, oldest first."""
    key: dict[str, str] = field(default_factory=dict)
    """What makes it one fix: ``kind``, ``mechanism``, ``agent``, ``subject`` (tool, tool cycle or model)
    and ``family`` (the violated constraint or error family), empty strings where a part does not apply."""
    theme_id: str | None = None
    """The theme (cross-cutting pattern) it belongs to."""
    cause_span_ids: list[str] = field(default_factory=list)
    """The LLM calls that decided its signals (verified like every cited span)."""
    legacy_fingerprint: str | None = None
    """Its fingerprint under the first finding model (one finding per mechanism across tools and agents);
    history and tracker issues of such a finding continue on its largest child."""
    inherited_from: str | None = None
    """The earlier fingerprint whose history this finding continues (set once, on the first run after a split)."""
    outcome: dict[str, Any] | None = None
    """Failure rate of traces with it vs without it, when the window's traces carry outcomes
    (:class:`tracemine.lift.Lift` as a dict); ``None`` otherwise."""
    fix: dict[str, Any] | None = None
    """The run's verdict on its recorded fix (``tracemine fix``; :meth:`tracemine.fixes.FixCheck.as_dict`),
    ``None`` when no fix is recorded for it."""


@dataclass(slots=True)
class Theme:
    """A cross-cutting pattern above findings: one mechanism seen in several findings (agents, tools).

    ``findings`` are the fingerprints of its findings, largest first; ``agents``/``tools`` count the
    affected traces per agent and per tool. Worded recursively from its findings' summaries."""

    theme_id: str
    kind: str
    mechanism: str
    findings: list[str]
    traces: int
    signals: int
    window_traces: int
    severity: str
    """A :class:`Severity` value."""
    score: float = 0.0
    agents: list[tuple[str, int]] = field(default_factory=list)
    tools: list[tuple[str, int]] = field(default_factory=list)
    title: str = ""
    summary: str = ""
    recommended_fix: str = ""
    summariser: str = "offline"
