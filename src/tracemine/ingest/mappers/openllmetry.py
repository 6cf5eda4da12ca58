"""OpenLLMetry (Traceloop) convention: ``traceloop.*`` entity attributes and flattened ``gen_ai.prompt.N``.

``traceloop.entity.input``/``output`` hold JSON envelopes (``{"args": [...], "kwargs": {...}}`` for
inputs); a tool span's arguments are the kwargs when present.
"""

from __future__ import annotations

from typing import Any

from tracemine.ingest.decode import as_text, decode_value
from tracemine.ingest.mappers.common import (
    FieldRule,
    indexed_items,
    kind_from_word,
    merge_tool_definitions,
    normalize_tool_definitions,
)
from tracemine.ingest.normalize import to_int, to_text
from tracemine.model import Span, SpanKind

FIELDS: list[FieldRule] = [
    ("llm.usage.total_tokens", "total_tokens", to_int),
    ("traceloop.entity.input", "input", as_text),
    ("traceloop.entity.output", "output", as_text),
    ("traceloop.association.properties.session_id", "session_id", to_text),
]

TRIGGERS = frozenset({
    "traceloop.entity.name", "traceloop.entity.input", "gen_ai.prompt.0.content", "gen_ai.prompt.0.role",
    "gen_ai.completion.0.content", "gen_ai.completion.0.role", "llm.request.functions.0.name",
})
"""Keys whose presence makes :func:`apply` worth calling."""


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
    return as_text([items[i] for i in sorted(items)]) if items else None


def apply(span: Span, attrs: dict[str, Any]) -> None:
    """Entity names and kwargs envelopes, flattened prompts/completions, request functions."""
    if "traceloop.entity.name" in attrs or "traceloop.entity.input" in attrs:
        entity_name = to_text(attrs.get("traceloop.entity.name"))
        if span.kind == SpanKind.TOOL:
            if span.tool_name is None:
                span.tool_name = entity_name
            entity_input = attrs.get("traceloop.entity.input")
            if span.tool_arguments is None and entity_input is not None:
                span.tool_arguments = _tool_arguments(entity_input)
        elif span.kind == SpanKind.AGENT and span.agent_name is None:
            span.agent_name = entity_name
    if span.input is None:
        span.input = _flattened_messages(attrs, "gen_ai.prompt.")
    if span.output is None:
        span.output = _flattened_messages(attrs, "gen_ai.completion.")
    if "llm.request.functions.0.name" in attrs:
        functions = indexed_items(attrs, "llm.request.functions.")
        merge_tool_definitions(span, normalize_tool_definitions([functions[i] for i in sorted(functions)]))
