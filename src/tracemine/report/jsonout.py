"""``findings.json``: the machine-readable report, validated by ``findings.schema.json``.

The document holds every field of every :class:`~tracemine.model.Finding` (times both as ISO-8601 UTC
strings and as integer epoch nanoseconds, impact with its derived ``trace_share``) plus the run context
(:class:`ReportContext`). Findings are ordered by score (descending), then fingerprint, and numbered
``rank`` from 1; the Markdown and HTML writers use the same order (:func:`order_findings`).

``to_dict``/``from_dict`` convert one finding and are meant for reuse (publishers, ``tracemine show``).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from tracemine.model import FIX_PARTS, Exemplar, Finding, FindingStatus, Impact, Theme
from tracemine.report.atomic import make_dir, write_text

SCHEMA_VERSION = "1.3"
SCHEMA_FILE = "findings.schema.json"
NO_FINDINGS = "No recurring failures found in this window."


@dataclass(slots=True)
class ResolvedNote:
    """A finding an earlier run reported that this run resolves (see :func:`tracemine.history.assign_statuses`):
    listed once, in the reports of the run that resolves it. ``last_run`` is the run that last found it
    (started at ``last_run_started_ns``), ``last_seen_ns`` its last signal then, ``absent_runs`` the
    non-empty runs since without it (this one included); ``traces``/``trace_share`` as last found."""

    fingerprint: str
    title: str
    severity: str
    kinds: list[str]
    last_run: int
    last_run_started_ns: int | None
    last_seen_ns: int | None
    absent_runs: int
    traces: int
    trace_share: float

    def as_dict(self) -> dict[str, Any]:
        """The ``resolved[]`` item of ``findings.json``."""
        return {
            "fingerprint": self.fingerprint, "title": self.title, "severity": self.severity,
            "kinds": list(self.kinds), "status": FindingStatus.RESOLVED, "last_run": self.last_run,
            "last_run_started": iso_ns(self.last_run_started_ns), "last_run_started_ns": self.last_run_started_ns,
            "last_seen": iso_ns(self.last_seen_ns), "last_seen_ns": self.last_seen_ns,
            "absent_runs": self.absent_runs, "traces": int(self.traces), "trace_share": _finite(self.trace_share),
        }


@dataclass(slots=True)
class ReportContext:
    """What the reports say about the run beside the findings.

    ``since_ns``/``until_ns`` bound the window (``None`` = open); ``traces``/``spans`` count what the window
    holds; ``llm_usage`` is ``{"calls", "input_tokens", "output_tokens", "cost_usd"}`` or ``None`` when no LLM
    was used. ``trace_url`` is a click-through template containing ``{trace_id}`` (and optionally
    ``{span_id}``), e.g. ``https://phoenix.example/traces/{trace_id}``; only http(s) URLs are accepted.
    ``history`` maps a fingerprint to its trace share in recent runs, oldest first: ``[(run_label, share)]``.
    ``resolved`` lists the earlier findings this run resolves (each report lists them once, apart from the
    ranked findings).
    """

    since_ns: int | None = None
    until_ns: int | None = None
    generated_ns: int = field(default_factory=time.time_ns)
    archive: str = ""
    traces: int = 0
    spans: int = 0
    detectors: list[str] = field(default_factory=list)
    llm_usage: Mapping[str, int | float] | None = None
    version: str = ""
    trace_url: str | None = None
    history: Mapping[str, Sequence[tuple[str, float]]] | None = None
    overview: str = ""
    """A short paragraph on the run as a whole (the summariser's overview of the reported findings)."""
    themes: Sequence[Theme] = ()
    """Cross-cutting patterns over the reported findings, best first."""
    resolved: Sequence[ResolvedNote] = ()
    fixes: Sequence[Mapping[str, Any]] = ()
    """The run's verdict on every recorded fix (:meth:`tracemine.fixes.FixCheck.as_dict`), found or not."""
    trace_sections: Mapping[str, str] = field(default_factory=dict)
    """Cited traces as ``tracemine show`` prints them (redacted plain text), by trace id: report.html gives each
    its own section and links the trace's ids there (see :mod:`tracemine.report.trace_sections`)."""
    cited_spans: Mapping[str, Sequence[tuple[str, Sequence[str]]]] = field(default_factory=dict)
    """Per finding fingerprint, its cited span ids grouped by trace: ``[(trace_id, [span_id, …]), …]``."""

    def __post_init__(self) -> None:
        if not self.version:
            from tracemine import __version__

            self.version = __version__
        if self.trace_url is not None:
            check_trace_url(self.trace_url)

    def trace_link(self, trace_id: str, span_id: str | None = None) -> str | None:
        """The click-through URL of a trace (or one of its spans), or ``None`` without a template.

        Ids are percent-encoded, so an id cannot change the URL's structure.
        """
        if not self.trace_url:
            return None
        url = self.trace_url.replace("{trace_id}", quote(str(trace_id), safe=""))
        if "{span_id}" in url:
            url = url.replace("{span_id}", quote(str(span_id), safe="") if span_id else "")
        return url

    def history_of(self, fingerprint: str) -> list[tuple[str, float]]:
        if not self.history:
            return []
        return [(str(label), float(share)) for label, share in self.history.get(fingerprint, ())]


def check_trace_url(template: str) -> None:
    """Raise ``ValueError`` unless ``template`` is an http(s) URL with a ``{trace_id}`` placeholder."""
    if "{trace_id}" not in template:
        raise ValueError(f"trace_url {template!r} must contain {{trace_id}}")
    parts = urlsplit(template.replace("{trace_id}", "x").replace("{span_id}", "y"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"trace_url {template!r} must be an http:// or https:// URL")
    if any(c in template for c in "<>\"' \n\r\t`"):
        raise ValueError(f"trace_url {template!r} contains characters that are not allowed in a URL")


def iso_ns(value: int | None) -> str | None:
    """Epoch nanoseconds → ISO-8601 UTC with microseconds (``2026-11-01T12:00:00.000000Z``)."""
    if value is None:
        return None
    try:
        moment = datetime.fromtimestamp(value // 1_000_000_000, tz=UTC) + timedelta(
            microseconds=(value % 1_000_000_000) // 1000
        )
    except (OverflowError, OSError, ValueError):
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def order_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Report order: score descending, then fingerprint (stable across runs with equal scores)."""
    return sorted(findings, key=lambda f: (-_finite(f.score), f.fingerprint))


def _finite(value: float) -> float:
    value = float(value)
    return value if math.isfinite(value) else 0.0


def anchor(fingerprint: str) -> str:
    """An HTML id / Markdown anchor for a finding, safe whatever the fingerprint holds."""
    return "f-" + (re.sub(r"[^A-Za-z0-9_-]", "-", fingerprint) or "x")


def impact_to_dict(impact: Impact) -> dict[str, Any]:
    return {
        "traces": int(impact.traces),
        "window_traces": int(impact.window_traces),
        "trace_share": _finite(impact.trace_share),
        "signals": int(impact.signals),
        "tokens_wasted": int(impact.tokens_wasted),
        "latency_wasted_ms": _finite(impact.latency_wasted_ms),
        "cost_wasted_usd": _finite(impact.cost_wasted_usd),
    }


def to_dict(finding: Finding, rank: int | None = None) -> dict[str, Any]:
    """One finding as a JSON-ready dict (the ``findings[]`` item of the schema, ``rank`` when given)."""
    data: dict[str, Any] = {}
    if rank is not None:
        data["rank"] = rank
    data.update(
        fingerprint=finding.fingerprint,
        title=finding.title,
        summary=finding.summary,
        mechanism=finding.mechanism,
        recommended_fix=finding.recommended_fix,
        severity=finding.severity,
        kinds=list(finding.kinds),
        status=finding.status,
        score=_finite(finding.score),
        summariser=finding.summariser,
        impact=impact_to_dict(finding.impact),
        trace_ids=list(finding.trace_ids),
        span_ids=list(finding.span_ids),
        cluster_ids=list(finding.cluster_ids),
        tools=list(finding.tools),
        agents=list(finding.agents),
        models=list(finding.models),
        first_seen=iso_ns(finding.first_seen_ns),
        first_seen_ns=finding.first_seen_ns,
        last_seen=iso_ns(finding.last_seen_ns),
        last_seen_ns=finding.last_seen_ns,
        exemplars=[
            {"trace_id": e.trace_id, "span_ids": list(e.span_ids), "cause_span_id": e.cause_span_id,
             "excerpt": e.excerpt} for e in finding.exemplars
        ],
        key={part: str(finding.key.get(part, "")) for part in FIX_PARTS} if finding.key else None,
        theme_id=finding.theme_id,
        cause_span_ids=list(finding.cause_span_ids),
        legacy_fingerprint=finding.legacy_fingerprint,
        inherited_from=finding.inherited_from,
        outcome=dict(finding.outcome) if finding.outcome else None,
    )
    if finding.fix:
        data["fix"] = dict(finding.fix)
    if finding.timeline:
        data["timeline"] = [{"start": iso_ns(start), "start_ns": int(start), "signals": int(count)}
                            for start, count in finding.timeline]
    return data


def from_dict(data: Mapping[str, Any]) -> Finding:
    """Inverse of :func:`to_dict` (ignores ``rank``, ``history`` and the derived ISO times / trace_share)."""
    impact = data["impact"]
    return Finding(
        fingerprint=data["fingerprint"],
        title=data["title"],
        summary=data["summary"],
        mechanism=data["mechanism"],
        recommended_fix=data["recommended_fix"],
        severity=data["severity"],
        kinds=list(data["kinds"]),
        impact=Impact(
            traces=impact["traces"],
            window_traces=impact["window_traces"],
            signals=impact.get("signals", 0),
            tokens_wasted=impact.get("tokens_wasted", 0),
            latency_wasted_ms=impact.get("latency_wasted_ms", 0.0),
            cost_wasted_usd=impact.get("cost_wasted_usd", 0.0),
        ),
        trace_ids=list(data["trace_ids"]),
        span_ids=list(data["span_ids"]),
        cluster_ids=list(data["cluster_ids"]),
        tools=list(data.get("tools", [])),
        agents=list(data.get("agents", [])),
        models=list(data.get("models", [])),
        first_seen_ns=data.get("first_seen_ns"),
        last_seen_ns=data.get("last_seen_ns"),
        exemplars=[Exemplar(e["trace_id"], list(e["span_ids"]), e["excerpt"], e.get("cause_span_id"))
                   for e in data.get("exemplars", [])],
        status=data.get("status", FindingStatus.NEW),
        score=data.get("score", 0.0),
        summariser=data.get("summariser", "offline"),
        timeline=[(int(t["start_ns"]), int(t["signals"])) for t in data.get("timeline", [])],
        key=dict(data.get("key") or {}),
        theme_id=data.get("theme_id"),
        cause_span_ids=list(data.get("cause_span_ids") or []),
        legacy_fingerprint=data.get("legacy_fingerprint"),
        inherited_from=data.get("inherited_from"),
        outcome=dict(data["outcome"]) if data.get("outcome") else None,
        fix=dict(data["fix"]) if data.get("fix") else None,
    )


def theme_to_dict(theme: Theme, rank: int | None = None) -> dict[str, Any]:
    """One theme as a JSON-ready dict (the ``themes[]`` item of the schema)."""
    data: dict[str, Any] = {} if rank is None else {"rank": rank}
    data.update(
        theme_id=theme.theme_id, title=theme.title, summary=theme.summary, recommended_fix=theme.recommended_fix,
        kind=theme.kind, mechanism=theme.mechanism, severity=theme.severity, score=_finite(theme.score),
        summariser=theme.summariser, findings=list(theme.findings), traces=int(theme.traces),
        signals=int(theme.signals), window_traces=int(theme.window_traces),
        trace_share=_finite(theme.traces / theme.window_traces) if theme.window_traces else 0.0,
        agents=[{"name": name, "traces": int(n)} for name, n in theme.agents],
        tools=[{"name": name, "traces": int(n)} for name, n in theme.tools],
    )
    return data


def llm_usage_dict(usage: Mapping[str, int | float] | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    out: dict[str, Any] = {
        "calls": int(usage.get("calls", 0) or 0),
        "input_tokens": int(usage.get("input_tokens", 0) or 0),
        "output_tokens": int(usage.get("output_tokens", 0) or 0),
        "cost_usd": _finite(usage.get("cost_usd", 0.0) or 0.0),
    }
    if "ids_removed" in usage:  # a run with an LLM: ids it wrote that nothing cites, removed
        out["ids_removed"] = int(usage.get("ids_removed", 0) or 0)
    return out


def build_document(findings: Iterable[Finding], ctx: ReportContext) -> dict[str, Any]:
    """The whole ``findings.json`` document as a dict."""
    ordered = order_findings(findings)
    items = []
    for rank, finding in enumerate(ordered, 1):
        item = to_dict(finding, rank)
        history = ctx.history_of(finding.fingerprint)
        if history:
            item["history"] = [{"run": label, "trace_share": _finite(share)} for label, share in history]
        items.append(item)
    affected = set()
    for finding in ordered:
        affected.update(finding.trace_ids)
    return {
        "schema_version": SCHEMA_VERSION,
        "generated": {"at": iso_ns(ctx.generated_ns), "at_ns": ctx.generated_ns, "tracemine_version": ctx.version},
        "window": {
            "since": iso_ns(ctx.since_ns),
            "since_ns": ctx.since_ns,
            "until": iso_ns(ctx.until_ns),
            "until_ns": ctx.until_ns,
        },
        "archive": ctx.archive,
        "totals": {
            "traces": ctx.traces,
            "spans": ctx.spans,
            "findings": len(ordered),
            "affected_traces": len(affected),
            "detectors": list(ctx.detectors),
        },
        "llm_usage": llm_usage_dict(ctx.llm_usage),
        "trace_url": ctx.trace_url,
        "overview": ctx.overview,
        "themes": [theme_to_dict(t, rank) for rank, t in enumerate(ctx.themes, 1)],
        "breakdown": breakdown(ordered),
        "findings": items,
        "resolved": [note.as_dict() for note in ctx.resolved],
        "fixes": [dict(fix) for fix in ctx.fixes],
    }


def breakdown(findings: Sequence[Finding]) -> dict[str, list[dict[str, Any]]]:
    """Findings and affected traces per agent and per tool (subject), largest first."""
    out: dict[str, list[dict[str, Any]]] = {}
    for part, label in (("agent", "agents"), ("subject", "tools")):
        traces: dict[str, set[str]] = {}
        counts: dict[str, int] = {}
        for f in findings:
            name = _key_part(f, part)
            if not name:
                continue
            traces.setdefault(name, set()).update(f.trace_ids)
            counts[name] = counts.get(name, 0) + 1
        out[label] = [{"name": n, "findings": counts[n], "traces": len(traces[n])}
                      for n in sorted(traces, key=lambda n: (-len(traces[n]), n))]
    return out


def outcome_text(outcome: Mapping[str, Any]) -> str:
    """``62 % of its 40 traces failed vs 18 % of the other 160 (+44 pts, 95 % CI +27…+59)``."""
    def pts(x: float) -> str:
        return f"{x * 100:+.0f}"

    return (f"{outcome['rate_with']:.0%} of its {outcome['known_with']} traces with a known outcome failed vs "
            f"{outcome['rate_without']:.0%} of the other {outcome['known_without']} "
            f"({pts(outcome['difference'])} pts, 95 % CI {pts(outcome['ci_low'])}…{pts(outcome['ci_high'])})")


def _key_part(finding: Finding, part: str) -> str:
    """``agent`` or ``subject`` of a finding's fix key (its first agent / tool for findings stored without one)."""
    value = (finding.key or {}).get(part)
    if value:
        return str(value)
    names = finding.agents if part == "agent" else finding.tools
    return names[0] if names else ""


def write_json(findings: Iterable[Finding], ctx: ReportContext, path: str | Path) -> Path:
    """Write ``findings.json`` to ``path`` (parent folders are created; written whole or not at all, see
    :mod:`tracemine.report.atomic`) and return the path."""
    out = Path(path)
    make_dir(out.parent)
    document = build_document(findings, ctx)
    write_text(out, json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    return out


@cache
def _schema_text() -> str:
    return resources.files("tracemine.report").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def load_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``findings.json``."""
    return json.loads(_schema_text())


def validate_document(document: Mapping[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` when ``document`` does not match the schema."""
    import jsonschema

    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(document)
