"""OpenInference attribute convention (Arize Phoenix, HALO exports, many instrumentors).

``tool.parameters`` is the tool's parameter *schema*, not the call's arguments (those are
``input.value``); a TOOL span's ``output.value`` is the tool result.
"""

from __future__ import annotations

from typing import Any

from tracemine.ingest.decode import as_text
from tracemine.ingest.mappers.common import (
    indexed_items,
    kind_from_word,
    merge_tool_definitions,
    normalize_tool_definitions,
    set_if_missing,
)
from tracemine.ingest.normalize import to_float, to_int, to_text
from tracemine.model import Span, SpanKind


def kind(attrs: dict[str, Any]) -> SpanKind | None:
    return kind_from_word(attrs.get("openinference.span.kind"))


def apply(span: Span, attrs: dict[str, Any], prefixes: set[str]) -> None:
    if not prefixes & {"openinference", "input", "output", "llm", "tool", "tool_call", "session", "agent"}:
        return
    set_if_missing(span, "model", to_text(attrs.get("llm.model_name")))
    set_if_missing(span, "input_tokens", to_int(attrs.get("llm.token_count.prompt")))
    set_if_missing(span, "output_tokens", to_int(attrs.get("llm.token_count.completion")))
    set_if_missing(span, "total_tokens", to_int(attrs.get("llm.token_count.total")))
    set_if_missing(span, "cost_usd", to_float(attrs.get("llm.cost.total")))
    set_if_missing(span, "session_id", to_text(attrs.get("session.id")))
    set_if_missing(span, "agent_name", to_text(attrs.get("agent.name")))
    tool_name = to_text(attrs.get("tool.name")) or to_text(attrs.get("tool_call.function.name"))
    set_if_missing(span, "tool_name", tool_name)
    set_if_missing(span, "tool_call_id", to_text(attrs.get("tool_call.id")) or to_text(attrs.get("tool.id")))
    input_value = attrs.get("input.value")
    output_value = attrs.get("output.value")
    set_if_missing(span, "input", as_text(input_value))
    set_if_missing(span, "output", as_text(output_value))
    is_tool = span.kind == SpanKind.TOOL or kind(attrs) == SpanKind.TOOL
    if is_tool:
        arguments = attrs.get("tool_call.function.arguments")
        set_if_missing(span, "tool_arguments", as_text(arguments if arguments is not None else input_value))
        set_if_missing(span, "tool_result", as_text(output_value))
        params = attrs.get("tool.parameters")
        if tool_name and params is not None:
            merge_tool_definitions(
                span,
                normalize_tool_definitions(
                    [{"name": tool_name, "description": attrs.get("tool.description"), "parameters": params}]
                ),
            )
    tools = indexed_items(attrs, "llm.tools.") if "llm.tools.0.tool.json_schema" in attrs else None
    if tools:
        merge_tool_definitions(
            span, normalize_tool_definitions([t.get("tool.json_schema", t) for _, t in sorted(tools.items())])
        )
