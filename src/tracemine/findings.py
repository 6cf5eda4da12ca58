"""Findings from clusters: one candidate finding per parent group of signals (a failure mechanism), with
its impact, citations and the :class:`~tracemine.summarise.base.Brief` a summariser needs.

* **Unit.** A finding is a parent group of the signal hierarchy (root → kind → parent group → leaf):
  the signals of one detector mechanism, e.g. "tools report OK while returning an error message". Its
  leaves (finer: by error message, violated field…) become the children a summariser reads first.
  Signals that fit no group form one *isolated* finding per kind (never dropped).
* **Citations** come from cluster membership only: every trace id of every member signal, and their
  span ids. Each (trace id, span id) pair is checked against the archive before it is cited
  (:func:`verify_citations`); a pair the archive does not hold is dropped and counted.
* **Fingerprint**: ``sha1(kind, frame)`` of the group's dominant detector sentence frame (the
  mechanism with names and values as placeholders), so the same failure mode keeps it across runs and
  windows whatever its size or its cluster ids.
* **Waste** per signal: loops — the tokens, time and cost of the repetitions after the first; duplicate
  calls — the spans after the reference call; outliers — the excess over the baseline median in the
  outlying metric; every other kind — the flagged spans' own tokens, duration and cost.
* **Severity**: the highest severity held by at least ``SEVERITY_SHARE`` of the member signals.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from tracemine.cluster.result import ClusterInfo, ClusterResult
from tracemine.model import Exemplar, Finding, Impact, Signal
from tracemine.summarise.base import SEVERITY_ORDER, Brief, ExemplarBrief
from tracemine.summarise.redact import Redactor

SEVERITY_SHARE = 0.2
EXCERPT_CHARS = 400
ISOLATED = "isolated"
_SPACES = re.compile(r"\s+")


@dataclass
class Candidate:
    """A finding before wording: the :class:`Finding` (title and texts empty) and its brief."""

    finding: Finding
    brief: Brief
    isolated: bool = False
    signal_times: list[int] = field(default_factory=list)
    """When each member signal happened (its earliest cited span), for the finding's timeline."""


@dataclass
class SpanFacts:
    """What the archive says about one cited span."""

    time_ns: int | None
    duration_ms: float
    tokens: int
    cost_usd: float
    model: str | None


@dataclass
class CitationCheck:
    """Outcome of checking cited ids against the archive."""

    pairs: int = 0
    missing: list[tuple[str, str]] = field(default_factory=list)
    agents: dict[str, str] = field(default_factory=dict)
    spans: dict[tuple[str, str], SpanFacts] = field(default_factory=dict)

    @property
    def verified(self) -> int:
        return self.pairs - len(self.missing)


def verify_citations(store: Any, signals: Sequence[Signal]) -> CitationCheck:
    """Look up every (trace id, span id) the signals cite: existence, time, cost figures, and each cited
    trace's agent name. One join in DuckDB, however many signals."""
    pairs = sorted({(s.trace_id, span) for s in signals for span in s.span_ids})
    check = CitationCheck(pairs=len(pairs))
    if not pairs:
        return check
    table = pa.table({"trace_id": [p[0] for p in pairs], "span_id": [p[1] for p in pairs]})
    con = store.con
    con.register("cited_pairs", table)
    try:
        rows = con.execute(
            """SELECT c.trace_id, c.span_id, s.time_ns, (s.end_ns - s.start_ns) / 1e6,
                      coalesce(s.total_tokens, s.input_tokens + s.output_tokens, s.input_tokens, s.output_tokens),
                      s.cost_usd, s.model
               FROM cited_pairs c JOIN spans s USING (trace_id, span_id)"""
        ).fetchall()
        agents = con.execute(
            """SELECT trace_id, arg_min(coalesce(agent_name, name), coalesce(start_ns, time_ns))
               FROM spans WHERE trace_id IN (SELECT DISTINCT trace_id FROM cited_pairs)
                 AND (agent_name IS NOT NULL OR kind = 'agent')
               GROUP BY trace_id"""
        ).fetchall()
    finally:
        con.unregister("cited_pairs")
    for trace_id, span_id, time_ns, duration, tokens, cost, model in rows:
        check.spans.setdefault((trace_id, span_id), SpanFacts(
            time_ns, max(float(duration or 0.0), 0.0), int(tokens or 0), float(cost or 0.0), model))
    check.missing = [p for p in pairs if p not in check.spans]
    check.agents = {t: a for t, a in agents if a}
    return check


def fingerprint(kind: str, frame: str) -> str:
    """Stable id of a failure mode: its kind and its detector sentence frame."""
    return "tm-" + hashlib.sha1(f"v1\x00{kind}\x00{frame}".encode("utf-8", "replace")).hexdigest()[:12]


def severity_of(counts: Counter[str]) -> str:
    """The highest severity held by at least :data:`SEVERITY_SHARE` of the signals."""
    total = sum(counts.values())
    if not total:
        return "medium"
    for severity in reversed(SEVERITY_ORDER):
        if counts.get(severity, 0) >= SEVERITY_SHARE * total:
            return severity
    return max(counts, key=lambda s: (counts[s], s))


def signal_waste(signal: Signal, spans: dict[tuple[str, str], SpanFacts]) -> tuple[int, float, float]:
    """Tokens, milliseconds and dollars the failure wasted (see the module docstring)."""
    ev = signal.evidence or {}
    if signal.kind == "loop" and any(k in ev for k in ("tokens", "duration_ms", "cost_usd")):
        repeats = max(int(ev.get("repeats") or 1), 1)
        part = (repeats - 1) / repeats
        return (int(float(ev.get("tokens") or 0) * part), float(ev.get("duration_ms") or 0.0) * part,
                float(ev.get("cost_usd") or 0.0) * part)
    if signal.kind == "outlier":
        excess = max(float(ev.get("excess") or 0.0), 0.0)
        metric = str(ev.get("metric") or "")
        if metric == "latency":
            return 0, excess, 0.0
        if metric == "cost":
            return 0, 0.0, excess
        return (int(excess), 0.0, 0.0) if metric.endswith("tokens") else (0, 0.0, 0.0)
    cited = signal.span_ids
    if signal.kind == "duplicate_call" and ev.get("reference_span_id") in cited:
        cited = [s for s in cited if s != ev.get("reference_span_id")]
    tokens, ms, usd = 0, 0.0, 0.0
    for span_id in cited:
        facts = spans.get((signal.trace_id, span_id))
        if facts is not None:
            tokens += facts.tokens
            ms += facts.duration_ms
            usd += facts.cost_usd
    return tokens, ms, usd


def excerpt(signal: Signal, redactor: Redactor, limit: int = EXCERPT_CHARS) -> str:
    """The signal's sentence plus the evidence a reader checks first, redacted, on one line, bounded."""
    ev = signal.evidence or {}
    parts = [signal.text or signal.kind]
    for key, label in (("arguments", "arguments"), ("result_excerpt", "result"), ("output_excerpt", "output"),
                       ("final_answer_excerpt", "final answer")):
        value = ev.get(key)
        if isinstance(value, str) and value and value not in parts[0]:
            parts.append(f"{label}: {value[:limit]}")
    for violation in (ev.get("violations") or ())[:2]:
        if isinstance(violation, dict) and violation.get("message"):
            parts.append(f"violation {violation.get('path', '$')}: {violation['message']}")
    text = _SPACES.sub(" ", redactor.redact(" | ".join(str(p) for p in parts))).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tools(keys: Iterable[dict[str, Any]]) -> Counter[str]:
    tools: Counter[str] = Counter()
    for key in keys:
        for tool in key.get("tools") or ([key["tool"]] if key.get("tool") else []):
            tools[str(tool)] += 1
    return tools


@dataclass
class _Context:
    signals: Sequence[Signal]
    keys: Sequence[dict[str, Any]]
    check: CitationCheck
    window_traces: int
    redactor: Redactor
    exemplars: int
    leaf_exemplars: int
    max_leaf_briefs: int


def build_candidates(
    store: Any,
    signals: Sequence[Signal],
    clusters: ClusterResult,
    window_traces: int,
    redactor: Redactor | None = None,
    exemplars: int = 5,
    leaf_exemplars: int = 4,
    min_traces: int = 1,
    max_leaf_briefs: int = 4,
) -> tuple[list[Candidate], CitationCheck]:
    """One candidate per parent group of ``clusters`` (a signal clustering of ``signals``) plus one
    isolated candidate per kind for signals outside every group; citations verified against ``store``.

    A group with several leaves gets a child brief for each of its ``max_leaf_briefs`` largest leaves
    (the recursive summariser reads those first; the rest count in the group's own facts), so the
    summarisation cost of one finding is bounded whatever the number of its leaves."""
    from tracemine.render import signal_keys

    redactor = redactor or Redactor()
    keys = [signal_keys(s) for s in signals]
    ctx = _Context(signals, keys, verify_citations(store, signals), window_traces, redactor, exemplars,
                   leaf_exemplars, max_leaf_briefs)
    candidates: list[Candidate] = []
    grouped: set[int] = set()
    for group in clusters.parents:
        members = [i for i in group.members if clusters.group_of[i] == group.id]
        grouped.update(members)
        leaves = [clusters.nodes[c] for c in group.children if c in clusters.nodes]
        candidates.append(_candidate(ctx, group.kind, members, group, leaves, isolated=False))
    alone: dict[str, list[int]] = defaultdict(list)
    for i, signal in enumerate(signals):
        if i not in grouped:
            alone[signal.kind].append(i)
    for kind, members in sorted(alone.items()):
        candidates.append(_candidate(ctx, kind, members, None, [], isolated=True))
    _unique_fingerprints(candidates)
    kept = [c for c in candidates if c.finding.impact.traces >= min_traces and c.finding.trace_ids]
    return kept, ctx.check


def _unique_fingerprints(candidates: list[Candidate]) -> None:
    """Two groups with one dominant frame (possible when a kind is not split by frame) stay distinct:
    the later ones also key on their dominant tool, then on a counter."""
    seen: Counter[str] = Counter()
    for c in sorted(candidates, key=lambda c: (-c.finding.impact.signals, c.finding.cluster_ids)):
        fp = c.finding.fingerprint
        if seen[fp]:
            tool = c.finding.tools[0] if c.finding.tools else ""
            fp = fingerprint(c.finding.kinds[0], f"{c.brief.frame}\x00{tool}\x00{seen[fp]}")
            seen[c.finding.fingerprint] += 1
            c.finding.fingerprint = fp
        seen[fp] += 1


def _candidate(ctx: _Context, kind: str, members: list[int], group: ClusterInfo | None, leaves: list[ClusterInfo],
               isolated: bool) -> Candidate:
    signals = [ctx.signals[i] for i in members]
    keys = [ctx.keys[i] for i in members]
    frames = Counter(str(k.get("frame") or "") for k in keys)
    frame = min(frames, key=lambda f: (-frames[f], f)) if frames else ""
    severities = Counter(s.severity for s in signals)
    tools = _tools(keys)
    models: Counter[str] = Counter(str(k["model"]) for k in keys if k.get("model"))
    trace_ids: list[str] = []
    span_ids: list[str] = []
    seen_traces: set[str] = set()
    seen_spans: set[tuple[str, str]] = set()
    times: list[int] = []
    tokens, ms, usd = 0, 0.0, 0.0
    signal_times: list[int] = []
    for signal in signals:
        verified = [s for s in signal.span_ids if (signal.trace_id, s) in ctx.check.spans]
        if not verified:
            continue  # nothing of it is in the archive: not citable
        known = [t for s in verified if (t := ctx.check.spans[(signal.trace_id, s)].time_ns) is not None]
        if known:
            signal_times.append(min(known))
        if signal.trace_id not in seen_traces:
            seen_traces.add(signal.trace_id)
            trace_ids.append(signal.trace_id)
        for span_id in verified:
            if (signal.trace_id, span_id) not in seen_spans:
                seen_spans.add((signal.trace_id, span_id))
                span_ids.append(span_id)
                facts = ctx.check.spans[(signal.trace_id, span_id)]
                if facts.time_ns is not None:
                    times.append(facts.time_ns)
        t, m, u = signal_waste(signal, ctx.check.spans)
        tokens, ms, usd = tokens + t, ms + m, usd + u
    agents = Counter(ctx.check.agents[t] for t in trace_ids if t in ctx.check.agents)
    impact = Impact(traces=len(trace_ids), window_traces=ctx.window_traces, signals=len(signals),
                    tokens_wasted=tokens, latency_wasted_ms=round(ms, 3), cost_wasted_usd=round(usd, 6))
    severity = severity_of(severities)
    picks = _exemplar_members(members, group, leaves, ctx.exemplars)
    finding = Finding(
        fingerprint=fingerprint(kind, ISOLATED if isolated else frame), title="", summary="", mechanism="",
        recommended_fix="", severity=severity, kinds=[kind], impact=impact, trace_ids=sorted(trace_ids),
        span_ids=span_ids, cluster_ids=[group.id, *[leaf.id for leaf in leaves]] if group else [],
        tools=[t for t, _ in tools.most_common()], agents=[a for a, _ in agents.most_common()],
        models=[m for m, _ in models.most_common()], first_seen_ns=min(times) if times else None,
        last_seen_ns=max(times) if times else None,
        exemplars=[_exemplar(ctx, i) for i in picks],
    )
    brief = _brief(ctx, "finding", group.id if group else f"{ISOLATED}:{kind}", kind, members, frame, severity,
                   tools, models, agents, group.keywords if group else [], picks, impact)
    member_set = set(members)
    if len(leaves) > 1:
        for leaf in sorted(leaves, key=lambda n: (-n.size, n.id))[: ctx.max_leaf_briefs]:
            leaf_members = [i for i in leaf.members if i in member_set]
            if not leaf_members:
                continue
            leaf_signals = [ctx.signals[i] for i in leaf_members]
            leaf_keys = [ctx.keys[i] for i in leaf_members]
            leaf_frames = Counter(str(k.get("frame") or "") for k in leaf_keys)
            leaf_picks = [i for i in leaf.exemplars if i in member_set][: ctx.leaf_exemplars] or leaf_members[:1]
            leaf_waste = [signal_waste(s, ctx.check.spans) for s in leaf_signals]
            leaf_impact = Impact(
                traces=len({s.trace_id for s in leaf_signals}), window_traces=ctx.window_traces,
                signals=len(leaf_signals), tokens_wasted=sum(w[0] for w in leaf_waste),
                latency_wasted_ms=sum(w[1] for w in leaf_waste), cost_wasted_usd=sum(w[2] for w in leaf_waste))
            brief.children.append(_brief(
                ctx, "leaf", leaf.id, kind, leaf_members, min(leaf_frames, key=lambda f: (-leaf_frames[f], f)),
                severity_of(Counter(s.severity for s in leaf_signals)), _tools(leaf_keys),
                Counter(str(k["model"]) for k in leaf_keys if k.get("model")),
                Counter(ctx.check.agents[s.trace_id] for s in leaf_signals if s.trace_id in ctx.check.agents),
                leaf.keywords, leaf_picks, leaf_impact))
    return Candidate(finding, brief, isolated, signal_times)


BUCKETS_NS = [n * 3_600_000_000_000 for n in (1, 2, 3, 6, 12, 24, 48, 168, 336, 720)]


def timeline(times: Sequence[int], since_ns: int, until_ns: int, max_buckets: int = 28) -> list[tuple[int, int]]:
    """Counts of ``times`` in equal buckets over ``[since_ns, until_ns)``: the smallest of 1 h, 2 h, 3 h,
    6 h, 12 h, 1 d, 2 d, 1 w, 2 w, 30 d giving at most ``max_buckets`` buckets, aligned to whole hours."""
    if until_ns <= since_ns:
        return []
    span = until_ns - since_ns
    size = next((b for b in BUCKETS_NS if span / b <= max_buckets), -(-span // max_buckets))
    start = since_ns - since_ns % BUCKETS_NS[0]
    n = max(1, -(-(until_ns - start) // size))
    counts = [0] * n
    for t in times:
        if since_ns <= t < until_ns:
            counts[min((t - start) // size, n - 1)] += 1
    return [(start + i * size, c) for i, c in enumerate(counts)]


def _exemplar_members(members: list[int], group: ClusterInfo | None, leaves: list[ClusterInfo], k: int) -> list[int]:
    """The central exemplar of each leaf (largest leaves first), then the group's own exemplars, then
    the first members: at most ``k`` distinct signals."""
    member_set = set(members)
    picks: list[int] = []
    for leaf in sorted(leaves, key=lambda n: (-n.size, n.id)):
        for i in leaf.exemplars[:1]:
            if i in member_set and i not in picks:
                picks.append(i)
    for i in (group.exemplars if group else []) + members:
        if len(picks) >= k:
            break
        if i in member_set and i not in picks:
            picks.append(i)
    return picks[:k]


def _exemplar(ctx: _Context, i: int) -> Exemplar:
    signal = ctx.signals[i]
    spans = [s for s in signal.span_ids if (signal.trace_id, s) in ctx.check.spans]
    return Exemplar(trace_id=signal.trace_id, span_ids=spans, excerpt=excerpt(signal, ctx.redactor))


def _brief(ctx: _Context, level: str, node_id: str, kind: str, members: list[int], frame: str, severity: str,
           tools: Counter[str], models: Counter[str], agents: Counter[str], keywords: list[str], picks: list[int],
           impact: Impact) -> Brief:
    from tracemine.summarise.facts import collect_facts

    signals = [ctx.signals[i] for i in members]
    mechanisms = Counter(str((s.evidence or {}).get("mechanism") or s.kind) for s in signals)
    exemplars = [
        ExemplarBrief(ref=f"E{n}", trace_id=ctx.signals[i].trace_id, span_ids=list(ctx.signals[i].span_ids),
                      tool=ctx.keys[i].get("tool"), text=excerpt(ctx.signals[i], ctx.redactor),
                      severity=ctx.signals[i].severity)
        for n, i in enumerate(picks, 1)
    ]
    return Brief(
        node_id=node_id, level=level, kinds=[kind], signals=len(signals),
        traces=len({s.trace_id for s in signals}), window_traces=ctx.window_traces, severity=severity,
        frame=ctx.redactor.redact(frame), mechanisms=mechanisms.most_common(),
        tools=tools.most_common(10), models=models.most_common(5), agents=agents.most_common(5),
        keywords=[ctx.redactor.redact(k) for k in keywords], facts=collect_facts(signals, ctx.redactor),
        exemplars=exemplars,
        impact={"tokens_wasted": impact.tokens_wasted, "latency_wasted_ms": impact.latency_wasted_ms,
                "cost_wasted_usd": impact.cost_wasted_usd},
    )
