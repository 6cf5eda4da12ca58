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
    FieldRule,
    kind_from_word,
    merge_tool_definitions,
    normalize_tool_definitions,
)
from tracemine.ingest.normalize import to_float, to_int, to_text
from tracemine.model import Span, SpanKind

FIELDS: list[FieldRule] = [
    ("gen_ai.response.model", "model", to_text),
    ("gen_ai.request.model", "model", to_text),
    ("gen_ai.usage.input_tokens", "input_tokens", to_int),
    ("gen_ai.usage.prompt_tokens", "input_tokens", to_int),
    ("gen_ai.usage.output_tokens", "output_tokens", to_int),
    ("gen_ai.usage.completion_tokens", "output_tokens", to_int),
    ("gen_ai.usage.total_tokens", "total_tokens", to_int),
    ("gen_ai.usage.cost", "cost_usd", to_float),
    ("gen_ai.conversation.id", "session_id", to_text),
    ("gen_ai.agent.id", "agent_id", to_text),
    ("gen_ai.agent.name", "agent_name", to_text),
    ("gen_ai.tool.name", "tool_name", to_text),
    ("gen_ai.tool.call.id", "tool_call_id", to_text),
    ("gen_ai.tool.call.arguments", "tool_arguments", as_text),
    ("gen_ai.tool.args", "tool_arguments", as_text),
    ("gen_ai.tool.call.result", "tool_result", as_text),
    ("gen_ai.input.messages", "input", as_text),
    ("gen_ai.prompt", "input", as_text),
    ("gen_ai.output.messages", "output", as_text),
    ("gen_ai.completion", "output", as_text),
    ("gen_ai.output", "output", as_text),
]

TRIGGERS = frozenset({"gen_ai.usage.input_cost", "gen_ai.usage.output_cost", "gen_ai.tool.definitions", "error.type"})
"""Keys whose presence makes :func:`apply` worth calling."""


def kind(attrs: dict[str, Any]) -> SpanKind | None:
    found = kind_from_word(attrs.get("gen_ai.operation.name"))
    if found is None and ("gen_ai.tool.name" in attrs or "gen_ai.tool.call.id" in attrs):
        return SpanKind.TOOL
    return found


def apply(span: Span, attrs: dict[str, Any]) -> None:
    """Split costs, tool definitions and ``error.type``."""
    if span.cost_usd is None and ("gen_ai.usage.input_cost" in attrs or "gen_ai.usage.output_cost" in attrs):
        parts = [to_float(attrs.get("gen_ai.usage.input_cost")), to_float(attrs.get("gen_ai.usage.output_cost"))]
        if any(p is not None for p in parts):
            span.cost_usd = sum(p for p in parts if p is not None)
    definitions = attrs.get("gen_ai.tool.definitions")
    if definitions is not None:
        merge_tool_definitions(span, normalize_tool_definitions(definitions))
    if "error.type" in attrs and span.status_message is None:
        span.status_message = to_text(attrs.get("error.type"))
