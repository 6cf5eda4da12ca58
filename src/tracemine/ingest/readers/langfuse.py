"""Langfuse trace downloads: ``{"trace": {...}, "observations": [...]}``, bare trace objects with
``observations``, and lists / ``{"data": [...]}`` pages of observations.

The top-level ``observations`` list is used (the copy nested in ``trace`` duplicates it, often with
``input``/``output`` blanked). ``input``/``output``/``metadata`` are JSON strings; the metadata of
OTel-ingested observations embeds the span ``attributes``, which go through the attribute mappers.
Only ``level == "ERROR"`` is an error. Trace scores become a :class:`TraceInfo`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from tracemine.ingest.base import Reader, Record
from tracemine.ingest.decode import as_text, decode_value
from tracemine.ingest.mappers import finish_span, map_attributes
from tracemine.ingest.mappers.common import (
    kind_from_word,
    merge_tool_definitions,
    normalize_tool_definitions,
)
from tracemine.ingest.normalize import (
    SPAN_ID_HEX_LEN,
    TRACE_ID_HEX_LEN,
    duration_to_ns,
    normalize_id,
    raw_id,
    to_float,
    to_int,
    to_ns,
    to_text,
)
from tracemine.ingest.otel import flatten_attributes
from tracemine.model import Outcome, Span, SpanKind, Status, StatusSource, TraceInfo

OBSERVATION_TYPES = frozenset(
    {
        "SPAN",
        "GENERATION",
        "EVENT",
        "AGENT",
        "TOOL",
        "CHAIN",
        "RETRIEVER",
        "EMBEDDING",
        "GUARDRAIL",
        "EVALUATOR",
    }
)
_LLM_KINDS = (SpanKind.LLM, SpanKind.EMBEDDING)
# score names whose 0/1 (or boolean / pass-fail) value is a verdict on the whole run
_OUTCOME_SCORES = (
    "correctness",
    "correct",
    "success",
    "passed",
    "pass",
    "resolved",
    "task_success",
    "accuracy",
)
_SUCCESS_WORDS = {"1", "1.0", "true", "pass", "passed", "success", "correct", "yes"}
_FAILURE_WORDS = {"0", "0.0", "false", "fail", "failed", "failure", "incorrect", "no"}


def _is_observation(obj: Any) -> bool:
    return (
        isinstance(obj, dict)
        and "traceId" in obj
        and obj.get("type") in OBSERVATION_TYPES
        and ("startTime" in obj or "parentObservationId" in obj)
    )


def _salvage_attributes(text: str) -> dict[str, Any] | None:
    """The ``attributes`` object of a metadata string whose tail was cut (exports trim long values)."""
    start = text.find('"attributes":')
    if start < 0:
        return None
    brace = text.find("{", start)
    if brace < 0:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(text, brace)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _metadata(value: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``(otel attributes, resource attributes, other metadata)`` from an observation's metadata."""
    decoded = decode_value(value)
    if isinstance(decoded, str):
        salvaged = _salvage_attributes(decoded)
        return (flatten_attributes(salvaged) if salvaged else {}), {}, {}
    if not isinstance(decoded, dict):
        return {}, {}, {}
    attrs = decoded.get("attributes")
    resource = decoded.get("resourceAttributes")
    other = {k: v for k, v in decoded.items() if k not in ("attributes", "resourceAttributes", "scope")}
    return (
        flatten_attributes(attrs) if isinstance(attrs, dict) else {},
        resource if isinstance(resource, dict) else {},
        other,
    )


def _first_number(*values: Any) -> int | None:
    for value in values:
        number = to_int(value)
        if number is not None:
            return number
    return None


def _usage(obs: dict[str, Any]) -> tuple[int | None, int | None, int | None]:
    details = obs.get("usageDetails")
    usage = obs.get("usage")
    details = details if isinstance(details, dict) else {}
    usage = usage if isinstance(usage, dict) else {}
    inp = _first_number(
        details.get("input"),
        details.get("prompt_tokens"),
        details.get("input_tokens"),
        usage.get("input"),
        usage.get("promptTokens"),
        obs.get("inputUsage"),
        obs.get("promptTokens"),
    )
    out = _first_number(
        details.get("output"),
        details.get("completion_tokens"),
        details.get("output_tokens"),
        usage.get("output"),
        usage.get("completionTokens"),
        obs.get("outputUsage"),
        obs.get("completionTokens"),
    )
    total = _first_number(
        details.get("total"),
        details.get("total_tokens"),
        usage.get("total"),
        usage.get("totalTokens"),
        obs.get("totalUsage"),
        obs.get("totalTokens"),
    )
    return inp, out, total


def _cost(obs: dict[str, Any]) -> float | None:
    details = obs.get("costDetails")
    if isinstance(details, dict) and to_float(details.get("total")) is not None:
        return to_float(details.get("total"))
    for key in ("calculatedTotalCost", "totalCost"):
        value = to_float(obs.get(key))
        if value is not None:
            return value
    return None


def _tool_arguments(value: Any) -> str | None:
    """Tool input as called; LangChain-style ``{"input": {...}}`` envelopes are unwrapped."""
    text = as_text(value)
    decoded = decode_value(value)
    if isinstance(decoded, dict) and len(decoded) == 1 and isinstance(decoded.get("input"), dict):
        return as_text(decoded["input"])
    return text


def _canonical_args(value: Any) -> str:
    decoded = decode_value(value)
    try:
        return json.dumps(decoded, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return str(decoded)


def _walk_calls(value: Any, out: list[tuple[str, Any, str]], depth: int) -> None:
    """Tool calls in message payloads: Responses ``function_call``, Anthropic ``tool_use``, Chat ``tool_calls``."""
    if depth > 5:
        return
    if isinstance(value, list):
        for item in value:
            _walk_calls(item, out, depth + 1)
        return
    if not isinstance(value, dict):
        return
    kind = value.get("type")
    if kind == "function_call" and isinstance(value.get("name"), str) and value.get("call_id"):
        out.append((value["name"], value.get("arguments"), str(value["call_id"])))
    elif kind == "tool_use" and isinstance(value.get("name"), str) and value.get("id"):
        out.append((value["name"], value.get("input"), str(value["id"])))
    elif isinstance(value.get("function"), dict) and value.get("id"):
        function = value["function"]
        if isinstance(function.get("name"), str):
            out.append((function["name"], function.get("arguments"), str(value["id"])))
    for key in ("output", "content", "tool_calls", "choices", "message", "messages"):
        inner = value.get(key)
        if isinstance(inner, list | dict):
            _walk_calls(inner, out, depth + 1)


def _scores(value: Any) -> list[dict[str, Any]]:
    decoded = decode_value(value)
    if isinstance(decoded, dict):
        decoded = [decoded]
    if not isinstance(decoded, list):
        return []
    return [s for s in decoded if isinstance(s, dict) and isinstance(s.get("name"), str)]


def _score_verdict(score: dict[str, Any]) -> Outcome | None:
    name = str(score.get("name", "")).strip().lower()
    if name not in _OUTCOME_SCORES:
        return None
    value = score.get("value")
    if value is None or score.get("stringValue"):
        value = score.get("stringValue", value)
    text = str(value).strip().lower()
    if text in _SUCCESS_WORDS:
        return Outcome.SUCCESS
    if text in _FAILURE_WORDS:
        return Outcome.FAILURE
    return None


def trace_outcome(scores: list[dict[str, Any]]) -> Outcome:
    """SUCCESS/FAILURE when every verdict-like score (correctness, success…) is binary and they agree."""
    verdicts = {v for v in (_score_verdict(s) for s in scores) if v is not None}
    return verdicts.pop() if len(verdicts) == 1 else Outcome.UNKNOWN


class LangfuseReader(Reader):
    """Langfuse trace downloads and observation pages (observations are buffered per trace)."""

    format = "langfuse"
    priority = 20

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self._loose: dict[str, list[tuple[str, Any]]] = {}

    @classmethod
    def match(cls, obj: Any) -> bool:
        if not isinstance(obj, dict):
            return False
        trace = obj.get("trace")
        if isinstance(trace, dict) and ("observations" in obj or "observations" in trace):
            return True
        if (
            isinstance(obj.get("observations"), list)
            and "id" in obj
            and ("timestamp" in obj or "projectId" in obj)
        ):
            return True
        return _is_observation(obj)

    def feed(self, obj: Any, locator: str) -> Iterator[Record]:
        if _is_observation(obj):
            key = raw_id(obj.get("traceId")) or ""
            self._loose.setdefault(key, []).append((locator, obj))
            return
        trace = obj.get("trace") if isinstance(obj.get("trace"), dict) else obj
        observations = obj.get("observations")
        obs_locator = f"{locator}.observations"
        if observations is None and isinstance(trace.get("observations"), list):
            observations = trace["observations"]
            obs_locator = f"{locator}.trace.observations"
        if not isinstance(observations, list):
            self.ctx.reject(locator, "Langfuse trace without an observations list", observations)
            return
        items = [(f"{obs_locator}[{i}]", o) for i, o in enumerate(observations)]
        yield from self._trace(trace, items, locator)

    def finish(self) -> Iterable[Record]:
        loose, self._loose = self._loose, {}
        for items in loose.values():
            yield from self._trace(None, items, items[0][0])

    # -- building ----------------------------------------------------------------------------------

    def _trace(
        self, trace: dict[str, Any] | None, items: list[tuple[str, Any]], locator: str
    ) -> Iterator[Record]:
        trace_raw = trace.get("id") if trace else None
        if trace_raw is None:
            trace_raw = next(
                (o.get("traceId") for _, o in items if isinstance(o, dict) and o.get("traceId")), None
            )
        trace_id = normalize_id(trace_raw, TRACE_ID_HEX_LEN)
        if trace_id is None:
            self.ctx.reject(locator, "Langfuse trace without an id", trace)
            return
        session = to_text(trace.get("sessionId")) if trace else None
        spans: list[Span] = []
        seen: set[str] = set()
        tool_call_ids: dict[tuple[str, str], list[str]] = {}
        seen_calls: set[str] = set()
        for obs_locator, obs in items:
            span = self._observation(obs, obs_locator, trace_id, trace_raw)
            if span is None:
                continue
            if span.span_id in seen:
                continue  # the same observation listed twice
            seen.add(span.span_id)
            spans.append(span)
            if span.kind == SpanKind.LLM:
                self._collect_tool_calls(obs, tool_call_ids, seen_calls)
        for span in spans:
            if span.kind == SpanKind.TOOL and span.tool_call_id is None and span.tool_name:
                queue = tool_call_ids.get((span.tool_name, _canonical_args(span.tool_arguments)))
                if queue:
                    span.tool_call_id = queue.pop(0)
        roots = [s for s in spans if s.parent_span_id is None or s.parent_span_id not in seen]
        if len(roots) == 1 and roots[0].kind in (SpanKind.AGENT, SpanKind.CHAIN, SpanKind.OTHER):
            root = roots[0]
            if root.kind == SpanKind.OTHER:
                root.kind = SpanKind.CHAIN
        else:  # several top-level observations, or a lone LLM/tool call: the trace itself is the root
            root = self._trace_span(trace, trace_id, trace_raw, spans, locator)
            for span in roots:
                span.parent_span_id = root.span_id
            spans.insert(0, root)
        if trace is not None and len(roots) == 1 and root is roots[0]:
            if root.input is None:
                root.input = as_text(trace.get("input"))
            if root.output is None:
                root.output = as_text(trace.get("output"))
        session = session or root.session_id
        for span in spans:
            if span.session_id is None:
                span.session_id = session
            if span is not root and span.tool_definitions:
                merge_tool_definitions(root, normalize_tool_definitions(span.tool_definitions))
        yield from spans
        scores = _scores(trace.get("scores")) if trace else []
        if scores:
            yield TraceInfo(
                trace_id=trace_id,
                outcome=trace_outcome(scores),
                labels={
                    "scores": {s["name"]: s.get("value", s.get("stringValue")) for s in scores},
                    "tags": trace.get("tags") or [],
                },
                name=to_text(trace.get("name")),
                source=self.src(locator),
            )

    def _collect_tool_calls(
        self, obs: dict[str, Any], out: dict[tuple[str, str], list[str]], seen: set[str]
    ) -> None:
        """Tool-call ids a generation names (``toolCalls``, or calls inside its input/output messages)."""
        found: list[tuple[str, Any, str]] = []
        calls = obs.get("toolCalls")
        names = obs.get("toolCallNames") if isinstance(obs.get("toolCallNames"), list) else []
        for index, call in enumerate(calls if isinstance(calls, list) else ()):
            decoded = decode_value(call)
            if isinstance(decoded, dict):
                name = decoded.get("name") or (names[index] if index < len(names) else None)
                call_id = to_text(decoded.get("id"))
                if isinstance(name, str) and call_id:
                    found.append((name, decoded.get("arguments", decoded.get("input")), call_id))
        if not found:
            for key in ("output", "input"):
                _walk_calls(decode_value(obs.get(key)), found, 0)
        for name, args, call_id in found:
            if call_id not in seen:
                seen.add(call_id)
                out.setdefault((name, _canonical_args(args)), []).append(call_id)

    def _trace_span(
        self, trace: dict[str, Any] | None, trace_id: str, trace_raw: Any, spans: list[Span], locator: str
    ) -> Span:
        starts = [s.start_ns for s in spans if s.start_ns is not None]
        ends = [s.end_ns for s in spans if s.end_ns is not None]
        trace = trace or {}
        start = to_ns(trace.get("timestamp"))
        if start is None and starts:
            start = min(starts)
        latency = duration_to_ns(trace.get("latency"))
        end = start + latency if start is not None and latency else (max(ends) if ends else None)
        span = Span(
            trace_id=trace_id,
            span_id=normalize_id(trace_raw, SPAN_ID_HEX_LEN) or trace_id,
            name=to_text(trace.get("name")) or "trace",
            kind=SpanKind.CHAIN,
            start_ns=start,
            end_ns=end,
            input=as_text(trace.get("input")),
            output=as_text(trace.get("output")),
            session_id=to_text(trace.get("sessionId")),
            raw_trace_id=raw_id(trace_raw),
            raw_span_id=raw_id(trace_raw),
            source=self.src(locator),
        )
        attrs, resource, _ = _metadata(trace.get("metadata"))
        extra = {
            k: v
            for k, v in (
                ("langfuse.user_id", trace.get("userId")),
                ("langfuse.release", trace.get("release")),
                ("langfuse.environment", trace.get("environment")),
                ("langfuse.tags", trace.get("tags") or None),
            )
            if v is not None
        }
        if attrs:
            consumed = map_attributes(span, attrs, "chain")
            attrs = {k: v for k, v in attrs.items() if k not in consumed}
        else:
            finish_span(span)
        if span.kind not in (SpanKind.AGENT, SpanKind.CHAIN):
            span.kind = SpanKind.CHAIN
        span.attributes = {**attrs, **extra} or None
        span.resource = resource or None
        return span

    def _observation(self, obs: Any, locator: str, trace_id: str, trace_raw: Any) -> Span | None:
        if not isinstance(obs, dict):
            self.ctx.reject(locator, "observation is not an object", obs)
            return None
        span_id = normalize_id(obs.get("id"), SPAN_ID_HEX_LEN)
        if span_id is None:
            self.ctx.reject(locator, "observation without id", obs.get("name"))
            return None
        obs_type = obs.get("type")
        if obs_type is not None and not isinstance(obs_type, str):
            self.ctx.reject(locator, f"observation type is a {type(obs_type).__name__}", obs_type)
            return None
        own_trace = obs.get("traceId")
        if own_trace is not None and normalize_id(own_trace, TRACE_ID_HEX_LEN) not in (None, trace_id):
            self.ctx.reject(locator, f"observation belongs to another trace ({own_trace})", obs.get("id"))
            return None
        kind = kind_from_word(obs_type) or SpanKind.OTHER
        level = obs.get("level")
        span = Span(
            trace_id=trace_id,
            span_id=span_id,
            parent_span_id=normalize_id(obs.get("parentObservationId"), SPAN_ID_HEX_LEN),
            name=to_text(obs.get("name")) or (obs_type or "observation").lower(),
            kind=kind,
            start_ns=to_ns(obs.get("startTime")),
            end_ns=to_ns(obs.get("endTime")),
            input=as_text(obs.get("input")),
            output=as_text(obs.get("output")),
            model=to_text(obs.get("model")),
            raw_trace_id=raw_id(trace_raw),
            raw_span_id=raw_id(obs.get("id")),
            source=self.src(locator),
        )
        if level == "ERROR":
            span.status = Status.ERROR
            span.status_source = StatusSource.EXPLICIT
            span.status_message = to_text(obs.get("statusMessage")) or "ERROR"
        inp, out, total = _usage(obs)
        cost = _cost(obs)
        counts_matter = kind in _LLM_KINDS
        span.input_tokens = inp if counts_matter or inp else None
        span.output_tokens = out if counts_matter or out else None
        span.total_tokens = total if counts_matter or total else None
        span.cost_usd = cost if counts_matter or cost else None
        if kind == SpanKind.TOOL:
            span.tool_name = span.name
            span.tool_arguments = _tool_arguments(obs.get("input"))
            span.tool_result = as_text(obs.get("output"))
        definitions = normalize_tool_definitions(obs.get("toolDefinitions"))
        if definitions:
            merge_tool_definitions(span, definitions)
        attrs, resource, other = _metadata(obs.get("metadata"))
        if attrs:
            consumed = map_attributes(span, attrs, obs_type.lower() if obs_type else None)
            attrs = {k: v for k, v in attrs.items() if k not in consumed}  # payloads now in their columns
        else:
            finish_span(span)
        extra: dict[str, Any] = {"langfuse.type": obs_type, "langfuse.level": level}
        if isinstance(obs.get("modelParameters"), dict) and obs["modelParameters"]:
            extra["langfuse.model_parameters"] = as_text(obs["modelParameters"])
        if obs.get("statusMessage") and level != "ERROR":
            extra["langfuse.status_message"] = obs["statusMessage"]
        for key, value in flatten_attributes(other).items():
            extra[f"metadata.{key}"] = value
        span.attributes = {**attrs, **{k: v for k, v in extra.items() if v is not None}} or None
        span.resource = resource or None
        return span


READERS = [LangfuseReader]
