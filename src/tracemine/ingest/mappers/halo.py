"""HALO / inference-export attributes (``inference.*``) and OpenAI Agents SDK processor keys (``sdk.*``).

HALO stringifies absent values as ``"None"``; :func:`to_text` and the number parsers drop them.
"""

from __future__ import annotations

from typing import Any

from tracemine.ingest.mappers.common import (
    kind_from_word,
    merge_tool_definitions,
    normalize_tool_definitions,
    set_if_missing,
)
from tracemine.ingest.normalize import to_float, to_int, to_text
from tracemine.model import Span, SpanKind


def kind(attrs: dict[str, Any]) -> SpanKind | None:
    return kind_from_word(attrs.get("inference.observation_kind")) or kind_from_word(attrs.get("sdk.span.type"))


def apply(span: Span, attrs: dict[str, Any], prefixes: set[str]) -> None:
    if "inference" not in prefixes and "sdk" not in prefixes and "agent.tools" not in attrs:
        return
    set_if_missing(span, "model", to_text(attrs.get("inference.llm.model_name")))
    set_if_missing(span, "input_tokens", to_int(attrs.get("inference.llm.input_tokens")))
    set_if_missing(span, "output_tokens", to_int(attrs.get("inference.llm.output_tokens")))
    set_if_missing(span, "cost_usd", to_float(attrs.get("inference.llm.cost.total")))
    set_if_missing(span, "session_id", to_text(attrs.get("inference.session_id")))
    set_if_missing(span, "agent_name", to_text(attrs.get("inference.agent_name")))
    set_if_missing(span, "agent_name", to_text(attrs.get("sdk.data.agent_name")))
    tools = attrs.get("agent.tools")
    if tools is not None:
        merge_tool_definitions(span, normalize_tool_definitions(tools))
