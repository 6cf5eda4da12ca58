"""OpenLLMetry (Traceloop) convention: ``traceloop.*`` entity attributes and flattened ``gen_ai.prompt.N``.

``traceloop.entity.input``/``output`` hold JSON envelopes (``{"args": [...], "kwargs": {...}}`` for
inputs); a tool span's arguments are the kwargs when present.
"""

from __future__ import annotations

from typing import Any

from tracemine.ingest.decode import as_text, decode_value
from tracemine.ingest.mappers.common import (
    indexed_items,
    kind_from_word,
    merge_tool_definitions,
    normalize_tool_definitions,
    set_if_missing,
)
from tracemine.ingest.normalize import to_int, to_text
from tracemine.model import Span, SpanKind


def kind(attrs: dict[str, Any]) -> SpanKind | None:
    found = kind_from_word(attrs.get("traceloop.span.kind"))
    if found is None:
        request_type = attrs.get("llm.request.type")
        if isinstance(request_type, str):
            found = SpanKind.EMBEDDING if request_type.lower().startswith("embed") else SpanKind.LLM
    return found


def _tool_arguments(entity_input: Any) -> str | None:
    decoded = decode_value(entity_input)
    if isinstance(decoded, dict) and ("kwargs" in decoded or "args" in decoded):
        kwargs = decoded.get("kwargs")
        inputs = decoded.get("inputs")
        if isinstance(kwargs, dict) and kwargs:
            return as_text(kwargs)
        if isinstance(inputs, dict) and inputs:
            return as_text(inputs)
        args = decoded.get("args")
        if isinstance(args, list) and len(args) == 1 and isinstance(args[0], dict):
            return as_text(args[0])
        return as_text(args if args else kwargs)
    return as_text(entity_input)


def _flattened_messages(attrs: dict[str, Any], prefix: str) -> str | None:
    if f"{prefix}0.content" not in attrs and f"{prefix}0.role" not in attrs:
        return None
    items = indexed_items(attrs, prefix)
    if not items:
        return None
    return as_text([items[i] for i in sorted(items)])


def apply(span: Span, attrs: dict[str, Any], prefixes: set[str]) -> None:
    has_traceloop = "traceloop" in prefixes
    has_flat = "gen_ai.prompt.0.content" in attrs or "gen_ai.completion.0.content" in attrs or "llm.request.type" in attrs
    if not has_traceloop and not has_flat:
        return
    set_if_missing(span, "total_tokens", to_int(attrs.get("llm.usage.total_tokens")))
    entity_name = to_text(attrs.get("traceloop.entity.name"))
    entity_input = attrs.get("traceloop.entity.input")
    entity_output = attrs.get("traceloop.entity.output")
    is_tool = span.kind == SpanKind.TOOL or kind(attrs) == SpanKind.TOOL
    if is_tool:
        set_if_missing(span, "tool_name", entity_name)
        if entity_input is not None:
            set_if_missing(span, "tool_arguments", _tool_arguments(entity_input))
        set_if_missing(span, "tool_result", as_text(entity_output))
    if kind(attrs) == SpanKind.AGENT:
        set_if_missing(span, "agent_name", entity_name)
    set_if_missing(span, "input", as_text(entity_input))
    set_if_missing(span, "output", as_text(entity_output))
    set_if_missing(span, "input", _flattened_messages(attrs, "gen_ai.prompt."))
    set_if_missing(span, "output", _flattened_messages(attrs, "gen_ai.completion."))
    set_if_missing(span, "session_id", to_text(attrs.get("traceloop.association.properties.session_id")))
    functions = indexed_items(attrs, "llm.request.functions.") if "llm.request.functions.0.name" in attrs else None
    if functions:
        merge_tool_definitions(span, normalize_tool_definitions([functions[i] for i in sorted(functions)]))
