"""Findings from signals: one candidate finding per fix, themes above them, with impact, citations and
the :class:`~tracemine.summarise.base.Brief` a summariser needs.

* **Unit: one fix.** A finding is the signals sharing one :func:`fix_key` — (kind, mechanism, agent,
  subject, family): the agent that made the call, the tool (or tool cycle, or model) it is about, the
  detector mechanism, and the violated constraint (argument path and validator) or error family
  (:func:`tracemine.render.error_class`, an outlier's metric). Signals of different tools, agents or
  violated fields are never one finding. The signal clustering's leaves inside a finding become the
  children a summariser reads first.
* **Themes** (:mod:`tracemine.themes`) group findings of one mechanism across agents and tools.
* **Citations** come from membership only: every trace id of every member signal, their span ids and
  their cause spans (the LLM calls that decided them). Each (trace id, span id) pair is checked against
  the archive before it is cited (:func:`verify_citations`); a pair the archive does not hold is dropped
  and counted.
* **Fingerprint**: a hash of the fix key, so the same fix keeps its id across runs and windows whatever
  its size or its cluster ids. ``legacy_fingerprint`` is the first model's id (kind and dominant
  detector sentence frame), so history recorded before the split carries over (:mod:`tracemine.history`).
* **Waste** per signal, as its detector counts it (:meth:`tracemine.detect.base.Detector.waste`): loops
  count the repetitions after the first, duplicate calls the spans after the reference call, outliers the
  excess over the baseline; by default the flagged spans' own tokens, duration and cost.
* **What a detector's signals mean** — waste, what splits its findings, which findings explain its own —
  is declared by the detector (:func:`tracemine.detect.registry.spec_for`); this module names no detector.
* **Severity**: the highest severity held by at least ``SEVERITY_SHARE`` of the member signals.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tracemine.cluster.result import ClusterInfo, ClusterResult
from tracemine.detect.registry import spec_for
from tracemine.model import FIX_PARTS, Exemplar, Finding, Impact, Severity, Signal
from tracemine.placeholders import unmask
from tracemine.redact import Redactor, redact_cut
from tracemine.store.traces import cited_span_facts
from tracemine.summarise.base import Brief, ExemplarBrief

SEVERITY_SHARE = 0.2
EXCERPT_CHARS = 400
_SPACES = re.compile(r"\s+")


@dataclass
class Candidate:
    """A finding before wording: the :class:`Finding` (title and texts empty) and its brief."""

    finding: Finding
    brief: Brief
    isolated: bool = False
    """A one-off: the fix key holds a single trace."""
    signal_times: list[int] = field(default_factory=list)
    """When each member signal happened (its earliest cited span), for the finding's timeline."""
    members: list[int] = field(default_factory=list)
    """Positions of its signals in the detection run's signal list (themes aggregate their evidence)."""


@dataclass
class SpanFacts:
    """What the archive says about one cited span."""

    time_ns: int | None
    duration_ms: float
    tokens: int
    cost_usd: float
    model: str | None
    kind: str | None = None
    tool: str | None = None


@dataclass
class CitationCheck:
    """Outcome of checking cited ids against the archive."""

    pairs: int = 0
    missing: list[tuple[str, str]] = field(default_factory=list)
    agents: dict[str, str] = field(default_factory=dict)
    spans: dict[tuple[str, str], SpanFacts] = field(default_factory=dict)
    outside_window: int = 0
    """Signals left out because their symptom lies outside the run's window (see :func:`build_candidates`)."""

    @property
    def verified(self) -> int:
        return self.pairs - len(self.missing)


def verify_citations(store: Any, signals: Sequence[Signal]) -> CitationCheck:
    """Look up every (trace id, span id) the signals cite: existence, time, cost figures, and each cited
    trace's agent name. One join in DuckDB, however many signals."""
    pairs = sorted({(s.trace_id, span) for s in signals for span in (*s.span_ids, *_cause(s))})
    check = CitationCheck(pairs=len(pairs))
    if not pairs:
        return check
    rows, agents = cited_span_facts(store, pairs)
    for trace_id, span_id, time_ns, duration, tokens, cost, model, kind, tool in rows:
        check.spans.setdefault((trace_id, span_id), SpanFacts(
            time_ns, max(float(duration or 0.0), 0.0), int(tokens or 0), float(cost or 0.0), model, kind, tool))
    check.missing = [p for p in pairs if p not in check.spans]
    check.agents = {t: a for t, a in agents if a}
    return check


def _cause(signal: Signal) -> tuple[str, ...]:
    cause = getattr(signal, "cause_span_id", None)
    return (cause,) if cause else ()


def legacy_fingerprint(kind: str, frame: str) -> str:
    """The first model's id of a failure mode: its kind and its detector sentence frame."""
    return "tm-" + hashlib.sha1(f"v1\x00{kind}\x00{frame}".encode("utf-8", "replace")).hexdigest()[:12]


def fingerprint(key: dict[str, str]) -> str:
    """Stable id of one fix: a hash of its :func:`fix_key`."""
    text = "\x00".join(["v2", *(key.get(part, "") for part in FIX_PARTS)])
    return "tm-" + hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()[:12]


_INDEX = re.compile(r"\[\d+\]|\.\d+(?=\.|$)")


def _violation_family(violations: Any) -> str:
    """``path validator`` of the first violated constraint (array indices as ``[]``), or ``""``."""
    found = sorted(
        (_INDEX.sub("[]", str(v.get("path") or "$")), str(v.get("validator") or ""))
        for v in violations or () if isinstance(v, dict))
    return f"{found[0][0]} {found[0][1]}".strip() if found else ""


def _error_families(kind: str) -> bool:
    """Whether the fix of a kind depends on the error itself, so that its error family splits findings
    (the detector declares it: :attr:`~tracemine.detect.base.Detector.error_families`). A silent failure's
    fix is to report the error, whatever it says; an argument error's fix is about the argument (its
    violated constraint when a schema shows it, else the tool: how a rejection is worded says nothing about
    which fix it needs)."""
    return spec_for(None, kind).error_families


ERROR_FAMILIES = {
    "rate limited": "availability", "timeout": "availability", "server error": "availability",
    "connection": "availability", "authentication or permission": "access", "not found": "input",
    "invalid input": "input", "program error": "tool bug",
}
"""Error classes (:func:`tracemine.render.error_class`) by the fix they need: retries, backoff, deadlines
or a fallback (availability); a credential or a permission (access); other arguments (input); a change
to the tool (tool bug). An error whose wording names no class joins its tool's dominant family
(:func:`_settle_families`): an unfamiliar vendor error is far likelier another case of the failure the
tool already shows than a new one."""


def fix_key(signal: Signal, keys: dict[str, Any], trace_agent: str | None,
            symptom: SpanFacts | None = None) -> dict[str, str]:
    """What one fix is made of (see the module docstring): kind, mechanism (what the detector declares one
    fix, ``evidence["fix_mechanism"]``, else its own name for the mechanism, else its sentence frame), agent
    (the signal's, else its trace's), subject and family.

    The subject follows where the failure shows (``symptom``, the first cited span): a tool call → its
    tool (the sorted tools of a cycle); an LLM call → its model; the agent run itself (a turn limit, a
    swallowed child error) → none, the agent is the subject; unless the detector declares where the fix is
    made (``evidence["fix_subject"]``: an LLM call's token blow-up is fixed in the agent's context). The
    family is what the detector declares (``evidence["family"]``), else the first violated constraint
    (argument path and validator), else the :data:`ERROR_FAMILIES` entry
    of the message's error class for detectors whose findings error families split, else what the detector
    says splits its findings (:meth:`~tracemine.detect.base.Detector.fix_family`: an outlier's metric)."""
    ev = signal.evidence or {}
    tools = [str(t) for t in keys.get("tools") or ()]
    kind = symptom.kind if symptom is not None else None
    if len(tools) > 1:
        subject = " ↔ ".join(tools)
    elif kind in ("agent", "chain"):
        subject = ""
    elif kind == "llm":
        subject = str(keys.get("model") or (symptom.model if symptom else "") or "")
    else:
        subject = tools[0] if tools else str(keys.get("model") or (symptom.tool if symptom and kind == "tool" else ""))
    if isinstance(ev.get("fix_subject"), str):
        subject = ev["fix_subject"]  # the detector knows better where this fix is made
    family = ev["family"] if isinstance(ev.get("family"), str) else _violation_family(ev.get("violations"))
    spec = spec_for(signal.detector, signal.kind)
    if not family and spec.error_families:
        family = ERROR_FAMILIES.get(str(keys.get("error_class") or ""), "")
    if not family:
        family = spec.fix_family(signal)
    return {
        "kind": signal.kind,
        "mechanism": str(ev.get("fix_mechanism") or keys.get("mechanism") or keys.get("frame") or ""),
        "agent": str(getattr(signal, "agent", None) or trace_agent or ""),
        "subject": subject,
        "family": family,
    }


def _settle_families(keys: list[dict[str, str]]) -> None:
    """Give the signals of a site whose findings error families split (:func:`_error_families`) (kind, mechanism, agent, subject) whose error
    names no family the site's most common family, in place; a site with no named family keeps ``""``."""
    site = ("kind", "mechanism", "agent", "subject")
    named: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    split = {kind: _error_families(kind) for kind in {key["kind"] for key in keys}}
    for key in keys:
        if split[key["kind"]] and key["family"]:
            named[tuple(key[p] for p in site)][key["family"]] += 1
    for key in keys:
        if split[key["kind"]] and not key["family"]:
            counts = named.get(tuple(key[p] for p in site))
            if counts:
                key["family"] = min(counts, key=lambda f: (-counts[f], f))


def severity_of(counts: Counter[str]) -> str:
    """The highest severity held by at least :data:`SEVERITY_SHARE` of the signals."""
    total = sum(counts.values())
    if not total:
        return Severity.MEDIUM
    for severity in reversed(Severity):
        if counts.get(severity, 0) >= SEVERITY_SHARE * total:
            return severity
    return max(counts, key=lambda s: (counts[s], s))


def signal_waste(signal: Signal, spans: dict[tuple[str, str], SpanFacts]) -> tuple[int, float, float]:
    """Tokens, milliseconds and dollars the failure wasted, as its detector counts them
    (:meth:`~tracemine.detect.base.Detector.waste`; by default what the cited spans cost)."""
    return spec_for(signal.detector, signal.kind).waste(signal, spans)


def excerpt(signal: Signal, redactor: Redactor, limit: int = EXCERPT_CHARS) -> str:
    """The signal's sentence plus the evidence a reader checks first, redacted, on one line, bounded."""
    ev = signal.evidence or {}
    parts = [unmask(signal.text, ev) if signal.text else signal.kind]  # real values, not <num> placeholders
    for key, label in (("arguments", "arguments"), ("result_excerpt", "result"), ("output_excerpt", "output"),
                       ("final_answer_excerpt", "final answer")):
        value = ev.get(key)
        if isinstance(value, str) and value and value not in parts[0]:
            parts.append(f"{label}: {redact_cut(value, limit, redactor, ellipsis='')}")
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
    window: tuple[int | None, int | None] | None = None


def build_candidates(
    store: Any,
    signals: Sequence[Signal],
    clusters: ClusterResult | None,
    window_traces: int,
    redactor: Redactor | None = None,
    exemplars: int = 5,
    leaf_exemplars: int = 4,
    min_traces: int = 1,
    max_leaf_briefs: int = 4,
    window: tuple[int | None, int | None] | None = None,
) -> tuple[list[Candidate], CitationCheck]:
    """One candidate per :func:`fix_key` of ``signals``, citations verified against ``store``.

    ``window`` (``(since_ns, until_ns)``, ``None`` bounds open) keeps the signals whose symptom lies in it
    (:func:`signal_time`; a signal of unknown time is kept): detection reads whole traces, so a trace
    crossing the window's edge brings signals from outside it, which must not count in a finding's
    signals, traces, first/last seen or timeline. Times of cited spans outside the window are not
    counted in first/last seen either.

    ``clusters`` (a signal clustering of ``signals``, optional) gives each finding its leaves: a finding
    spread over several leaves gets a child brief for each of its ``max_leaf_briefs`` largest (the
    recursive summariser reads those first; the rest count in the finding's own facts), so the
    summarisation cost of one finding is bounded whatever the number of its leaves."""
    from tracemine.render import signal_keys

    redactor = redactor or Redactor()
    keys = [signal_keys(s) for s in signals]
    ctx = _Context(signals, keys, verify_citations(store, signals), window_traces, redactor, exemplars,
                   leaf_exemplars, max_leaf_briefs, window)
    groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
    fixes: dict[tuple[str, ...], dict[str, str]] = {}
    fix_keys = []
    for i, signal in enumerate(signals):
        symptom = next((ctx.check.spans[(signal.trace_id, span)] for span in signal.span_ids
                        if (signal.trace_id, span) in ctx.check.spans), None)
        fix_keys.append(fix_key(signal, keys[i], ctx.check.agents.get(signal.trace_id), symptom))
    _settle_families(fix_keys)
    for i, key in enumerate(fix_keys):
        if window is not None and not _in_window(signal_time(signals[i], ctx.check), window):
            ctx.check.outside_window += 1
            continue
        token = tuple(key[p] for p in FIX_PARTS)
        fixes.setdefault(token, key)
        groups[token].append(i)
    candidates = [_candidate(ctx, fixes[token], members, _leaves_of(clusters, members))
                  for token, members in sorted(groups.items())]
    candidates = _without_explained_correlations(candidates)
    kept = [c for c in candidates if c.finding.impact.traces >= min_traces and c.finding.trace_ids]
    return kept, ctx.check


def signal_time(signal: Signal, check: CitationCheck) -> int | None:
    """When a signal happened: the earliest time of its symptom spans found in the archive (``None`` unknown)."""
    known = [t for s in signal.span_ids if (facts := check.spans.get((signal.trace_id, s))) is not None
             and (t := facts.time_ns) is not None]
    return min(known) if known else None


def _in_window(time_ns: int | None, window: tuple[int | None, int | None] | None) -> bool:
    """Whether ``time_ns`` lies in ``[since, until)`` (an unknown time or no window: ``True``)."""
    if time_ns is None or window is None:
        return True
    since, until = window
    return (since is None or time_ns >= since) and (until is None or time_ns < until)


EXPLAINED_SHARE = 0.8


def _without_explained_correlations(candidates: list[Candidate]) -> list[Candidate]:
    """Correlational findings that a more specific finding already explains — same agent, same tool when
    the correlational finding names one, citing ≥ :data:`EXPLAINED_SHARE` of its traces — are left out:
    that finding carries the outcome lift itself. Each detector declares how its findings relate
    (:attr:`~tracemine.detect.base.Detector.explained_level`): outliers and contrasts are correlations that
    a failure finding explains (a run that loops or hits its turn limit is also long and token-heavy, and
    fixing the failure fixes the cost), trajectories also by a contrast or an outlier. What remains points
    at failures no detector names."""
    levels = {kind: spec_for(None, kind).explained_level for kind in {c.finding.kinds[0] for c in candidates}}
    sites = [(levels[c.finding.kinds[0]], c.finding.key["agent"], c.finding.key["subject"],
              set(c.finding.trace_ids)) for c in candidates]
    kept = []
    for c in candidates:
        level = levels[c.finding.kinds[0]]
        if level:
            traces = set(c.finding.trace_ids)
            agent, subject = c.finding.key["agent"], c.finding.key["subject"]
            if traces and any(lv < level and a == agent and (not subject or s == subject)
                              and len(traces & other) >= EXPLAINED_SHARE * len(traces)
                              for lv, a, s, other in sites):
                continue
        kept.append(c)
    return kept


def _leaves_of(clusters: ClusterResult | None, members: list[int]) -> list[ClusterInfo]:
    """The cluster leaves holding ``members``, most members first."""
    if clusters is None:
        return []
    counts = Counter(leaf for i in members if i < len(clusters.leaf_of) and (leaf := clusters.leaf_of[i]))
    return [clusters.nodes[leaf] for leaf, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            if leaf in clusters.nodes]


def _candidate(ctx: _Context, key: dict[str, str], members: list[int], leaves: list[ClusterInfo]) -> Candidate:
    kind = key["kind"]
    signals = [ctx.signals[i] for i in members]
    keys = [ctx.keys[i] for i in members]
    frames = Counter(str(k.get("frame") or "") for k in keys)
    frame = min(frames, key=lambda f: (-frames[f], f)) if frames else ""
    severities = Counter(s.severity for s in signals)
    subject_tools = set(key["subject"].split(" ↔ "))
    tools = Counter({t: n for t, n in _tools(keys).items() if t in subject_tools})  # not context (a run's last tool)
    models: Counter[str] = Counter(str(k["model"]) for k in keys if k.get("model"))
    trace_ids: list[str] = []
    span_ids: list[str] = []
    causes: list[str] = []
    seen_traces: set[str] = set()
    seen_spans: set[tuple[str, str]] = set()
    times: list[int] = []
    tokens, ms, usd = 0, 0.0, 0.0
    signal_times: list[int] = []
    agents: Counter[str] = Counter()
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
            agent = getattr(signal, "agent", None) or ctx.check.agents.get(signal.trace_id)
            if agent:
                agents[agent] += 1
        for span_id in verified:
            if (signal.trace_id, span_id) not in seen_spans:
                seen_spans.add((signal.trace_id, span_id))
                span_ids.append(span_id)
                facts = ctx.check.spans[(signal.trace_id, span_id)]
                if facts.time_ns is not None and _in_window(facts.time_ns, ctx.window):
                    times.append(facts.time_ns)
        for cause in _cause(signal):
            if (signal.trace_id, cause) in ctx.check.spans and cause not in causes:
                causes.append(cause)
        t, m, u = signal_waste(signal, ctx.check.spans)
        tokens, ms, usd = tokens + t, ms + m, usd + u
    impact = Impact(traces=len(trace_ids), window_traces=ctx.window_traces, signals=len(signals),
                    tokens_wasted=tokens, latency_wasted_ms=round(ms, 3), cost_wasted_usd=round(usd, 6))
    severity = severity_of(severities)
    picks = _exemplar_members(ctx, members, leaves, ctx.exemplars)
    finding = Finding(
        fingerprint=fingerprint(key), title="", summary="", mechanism="", recommended_fix="", severity=severity,
        kinds=[kind], impact=impact, trace_ids=sorted(trace_ids), span_ids=span_ids,
        cluster_ids=[leaf.id for leaf in leaves], tools=[t for t, _ in tools.most_common()],
        agents=[a for a, _ in agents.most_common()], models=[m for m, _ in models.most_common()],
        first_seen_ns=min(times) if times else None, last_seen_ns=max(times) if times else None,
        exemplars=[_exemplar(ctx, i) for i in picks], key=dict(key), cause_span_ids=causes,
        legacy_fingerprint=legacy_fingerprint(kind, frame),
    )
    brief = _brief(ctx, "finding", finding.fingerprint, kind, members, frame, severity, tools, models, agents,
                   leaves[0].keywords if leaves else [], picks, impact)
    member_set = set(members)
    if len(leaves) > 1:
        for leaf in leaves[: ctx.max_leaf_briefs]:
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
            leaf_agents = Counter(a for s in leaf_signals
                                  if (a := getattr(s, "agent", None) or ctx.check.agents.get(s.trace_id)))
            brief.children.append(_brief(
                ctx, "leaf", leaf.id, kind, leaf_members, min(leaf_frames, key=lambda f: (-leaf_frames[f], f)),
                severity_of(Counter(s.severity for s in leaf_signals)), _tools(leaf_keys),
                Counter(str(k["model"]) for k in leaf_keys if k.get("model")), leaf_agents,
                leaf.keywords, leaf_picks, leaf_impact))
    return Candidate(finding, brief, impact.traces < 2, signal_times, list(members))


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


def _exemplar_members(ctx: _Context, members: list[int], leaves: list[ClusterInfo], k: int) -> list[int]:
    """The central exemplar of each leaf (largest leaves first), then members from traces not shown yet,
    then any: at most ``k`` distinct signals, all of the finding's own."""
    member_set = set(members)
    picks: list[int] = []
    for leaf in leaves:
        for i in leaf.exemplars[:1]:
            if i in member_set and i not in picks:
                picks.append(i)
    shown = {ctx.signals[i].trace_id for i in picks}
    for i in members:
        if len(picks) >= k:
            break
        if i not in picks and ctx.signals[i].trace_id not in shown:
            picks.append(i)
            shown.add(ctx.signals[i].trace_id)
    for i in members:
        if len(picks) >= k:
            break
        if i not in picks:
            picks.append(i)
    return picks[:k]


def _exemplar(ctx: _Context, i: int) -> Exemplar:
    signal = ctx.signals[i]
    spans = [s for s in signal.span_ids if (signal.trace_id, s) in ctx.check.spans]
    cause = next((c for c in _cause(signal) if (signal.trace_id, c) in ctx.check.spans), None)
    return Exemplar(trace_id=signal.trace_id, span_ids=spans, excerpt=excerpt(signal, ctx.redactor),
                    cause_span_id=cause)


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
        keywords=[ctx.redactor.redact(k) for k in keywords],
        facts={**collect_facts(signals, ctx.redactor),  # exact counts: the name lists below are capped
               "distinct": {"tools": len(tools), "models": len(models), "agents": len(agents)}},
        exemplars=exemplars,
        impact={"tokens_wasted": impact.tokens_wasted, "latency_wasted_ms": impact.latency_wasted_ms,
                "cost_wasted_usd": impact.cost_wasted_usd},
    )
