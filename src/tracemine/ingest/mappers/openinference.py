"""OpenInference attribute convention (Arize Phoenix, HALO exports, many instrumentors).

``tool.parameters`` is the tool's parameter *schema*, not the call's arguments (those are
``input.value``); a TOOL span's ``output.value`` is the tool result.
"""

from __future__ import annotations

from typing import Any

from tracemine.ingest.decode import as_text
from tracemine.ingest.mappers.common import (
    FieldRule,
    indexed_items,
    kind_from_word,
    merge_tool_definitions,
    normalize_tool_definitions,
)
from tracemine.ingest.normalize import to_float, to_int, to_text
from tracemine.model import Span, SpanKind

FIELDS: list[FieldRule] = [
    ("llm.model_name", "model", to_text),
    ("llm.token_count.prompt", "input_tokens", to_int),
    ("llm.token_count.completion", "output_tokens", to_int),
    ("llm.token_count.total", "total_tokens", to_int),
    ("llm.cost.total", "cost_usd", to_float),
    ("session.id", "session_id", to_text),
    ("agent.name", "agent_name", to_text),
    ("tool.name", "tool_name", to_text),
    ("tool_call.function.name", "tool_name", to_text),
    ("tool_call.id", "tool_call_id", to_text),
    ("tool.id", "tool_call_id", to_text),
    ("tool_call.function.arguments", "tool_arguments", as_text),
    ("input.value", "input", as_text),
    ("output.value", "output", as_text),
]

TRIGGERS = frozenset({"tool.parameters", "llm.tools.0.tool.json_schema"})
"""Keys whose presence makes :func:`apply` worth calling."""


def kind(attrs: dict[str, Any]) -> SpanKind | None:
    return kind_from_word(attrs.get("openinference.span.kind"))


def apply(span: Span, attrs: dict[str, Any]) -> None:
    """Tool schemas: ``tool.parameters`` on a TOOL span, ``llm.tools.N.tool.json_schema`` on LLM spans."""
    params = attrs.get("tool.parameters")
    if params is not None and span.tool_name:
        merge_tool_definitions(
            span,
            normalize_tool_definitions(
                [{"name": span.tool_name, "description": attrs.get("tool.description"), "parameters": params}]
            ),
        )
    if "llm.tools.0.tool.json_schema" in attrs:
        tools = indexed_items(attrs, "llm.tools.")
        merge_tool_definitions(
            span, normalize_tool_definitions([t.get("tool.json_schema", t) for _, t in sorted(tools.items())])
        )
