"""OpenTelemetry GenAI semantic conventions: current names and the ≤1.36 ones, plus common drifts.

Current: ``gen_ai.provider.name``, ``gen_ai.usage.input_tokens``, ``gen_ai.input.messages``,
``gen_ai.tool.call.arguments``/``result``, ``gen_ai.tool.definitions``. ≤1.36: ``gen_ai.system``,
``gen_ai.usage.prompt_tokens``/``completion_tokens``, ``gen_ai.prompt``/``gen_ai.completion``.
Drifts seen in the wild (any-agent): ``gen_ai.tool.args``, ``gen_ai.output``, ``gen_ai.usage.*_cost``.
"""

from __future__ import annotations

from typing import Any

from tracemine.ingest.decode import as_text
from tracemine.ingest.mappers.common import (
    kind_from_word,
    merge_tool_definitions,
    normalize_tool_definitions,
    set_if_missing,
)
from tracemine.ingest.normalize import to_float, to_int, to_text
from tracemine.model import Span, SpanKind


def kind(attrs: dict[str, Any]) -> SpanKind | None:
    found = kind_from_word(attrs.get("gen_ai.operation.name"))
    if found is None and ("gen_ai.tool.name" in attrs or "gen_ai.tool.call.id" in attrs):
        return SpanKind.TOOL
    return found


def _first(attrs: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = attrs.get(key)
        if value is not None:
            return value
    return None


def apply(span: Span, attrs: dict[str, Any], prefixes: set[str]) -> None:
    if "gen_ai" not in prefixes:
        return
    set_if_missing(
        span, "model", to_text(_first(attrs, "gen_ai.response.model", "gen_ai.request.model"))
    )
    set_if_missing(
        span,
        "input_tokens",
        to_int(_first(attrs, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")),
    )
    set_if_missing(
        span,
        "output_tokens",
        to_int(_first(attrs, "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")),
    )
    set_if_missing(span, "total_tokens", to_int(attrs.get("gen_ai.usage.total_tokens")))
    cost = to_float(attrs.get("gen_ai.usage.cost"))
    if cost is None:
        parts = [to_float(attrs.get("gen_ai.usage.input_cost")), to_float(attrs.get("gen_ai.usage.output_cost"))]
        if any(p is not None for p in parts):
            cost = sum(p for p in parts if p is not None)
    set_if_missing(span, "cost_usd", cost)
    set_if_missing(span, "session_id", to_text(attrs.get("gen_ai.conversation.id")))
    set_if_missing(span, "agent_id", to_text(attrs.get("gen_ai.agent.id")))
    set_if_missing(span, "agent_name", to_text(attrs.get("gen_ai.agent.name")))
    set_if_missing(span, "tool_name", to_text(attrs.get("gen_ai.tool.name")))
    set_if_missing(span, "tool_call_id", to_text(attrs.get("gen_ai.tool.call.id")))
    is_tool = span.kind == SpanKind.TOOL or kind(attrs) == SpanKind.TOOL
    output = _first(attrs, "gen_ai.output.messages", "gen_ai.completion", "gen_ai.output")
    if is_tool:
        set_if_missing(
            span, "tool_arguments", as_text(_first(attrs, "gen_ai.tool.call.arguments", "gen_ai.tool.args"))
        )
        set_if_missing(span, "tool_result", as_text(_first(attrs, "gen_ai.tool.call.result", "gen_ai.output")))
    set_if_missing(
        span,
        "input",
        as_text(_first(attrs, "gen_ai.input.messages", "gen_ai.prompt", "gen_ai.tool.call.arguments", "gen_ai.tool.args")),
    )
    set_if_missing(span, "output", as_text(output if output is not None else attrs.get("gen_ai.tool.call.result")))
    definitions = attrs.get("gen_ai.tool.definitions")
    if definitions is not None:
        merge_tool_definitions(span, normalize_tool_definitions(definitions))
    if "error.type" in attrs and span.status_message is None:
        span.status_message = to_text(attrs.get("error.type"))
