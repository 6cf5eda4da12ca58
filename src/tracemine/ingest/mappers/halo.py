"""HALO / inference-export attributes (``inference.*``) and OpenAI Agents SDK processor keys (``sdk.*``).

HALO stringifies absent values as ``"None"``; :func:`to_text` and the number parsers drop them.
"""

from __future__ import annotations

from typing import Any

from tracemine.ingest.mappers.common import (
    FieldRule,
    kind_from_word,
    merge_tool_definitions,
    normalize_tool_definitions,
)
from tracemine.ingest.normalize import to_float, to_int, to_text
from tracemine.model import Span, SpanKind

FIELDS: list[FieldRule] = [
    ("inference.llm.model_name", "model", to_text),
    ("inference.llm.input_tokens", "input_tokens", to_int),
    ("inference.llm.output_tokens", "output_tokens", to_int),
    ("inference.llm.cost.total", "cost_usd", to_float),
    ("inference.session_id", "session_id", to_text),
    ("inference.agent_name", "agent_name", to_text),
    ("sdk.data.agent_name", "agent_name", to_text),
]

TRIGGERS = frozenset({"agent.tools"})
"""Keys whose presence makes :func:`apply` worth calling."""


def kind(attrs: dict[str, Any]) -> SpanKind | None:
    return kind_from_word(attrs.get("inference.observation_kind")) or kind_from_word(attrs.get("sdk.span.type"))


def apply(span: Span, attrs: dict[str, Any]) -> None:
    """The agent's tool list (names only in HALO exports)."""
    tools = attrs.get("agent.tools")
    if tools is not None:
        merge_tool_definitions(span, normalize_tool_definitions(tools))
