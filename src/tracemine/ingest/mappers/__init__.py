"""Attribute-convention mappers: flat span attributes → normalised :class:`Span` fields.

Conventions are applied in a fixed order (OpenInference, OTel GenAI, OpenLLMetry, HALO); each fills
only fields still empty, so the first convention that names a value wins and none overwrites another.
"""

from __future__ import annotations

from typing import Any

from tracemine.ingest.mappers import genai, halo, openinference, openllmetry
from tracemine.ingest.mappers.common import kind_from_word
from tracemine.model import Span, SpanKind

_CONVENTIONS = (openinference, genai, openllmetry, halo)
_TOOL_NAME_PREFIXES = ("execute_tool ", "function.", "tool.", "tool:", "function:", "running tool ")


def infer_kind(name: str, attrs: dict[str, Any], native: str | None = None) -> SpanKind:
    """The span kind from, in order: convention attributes, the source's own kind word, the name."""
    for convention in _CONVENTIONS:
        found = convention.kind(attrs)
        if found is not None:
            return found
    found = kind_from_word(native)
    if found is not None and found != SpanKind.OTHER:
        return found
    lowered = name.lower()
    if lowered.startswith(_TOOL_NAME_PREFIXES):
        return SpanKind.TOOL
    return SpanKind.OTHER


def tool_name_from_span_name(name: str) -> str | None:
    lowered = name.lower()
    for prefix in _TOOL_NAME_PREFIXES:
        if lowered.startswith(prefix):
            rest = name[len(prefix):].strip()
            return rest or None
    return None


def map_attributes(span: Span, attrs: dict[str, Any], native_kind: str | None = None) -> Span:
    """Fill ``span`` from ``attrs`` using every known convention; return the same span."""
    if span.kind == SpanKind.OTHER:
        span.kind = infer_kind(span.name, attrs, native_kind)
    prefixes = {key.partition(".")[0] for key in attrs}
    for convention in _CONVENTIONS:
        convention.apply(span, attrs, prefixes)
    finish_span(span)
    return span


def finish_span(span: Span) -> None:
    """Last-resort inferences shared by every reader: tool names from span names, kinds from fields."""
    if span.kind == SpanKind.OTHER:
        if span.tool_name:
            span.kind = SpanKind.TOOL
        elif span.model and (span.input_tokens is not None or span.output_tokens is not None):
            span.kind = SpanKind.LLM
    if span.kind == SpanKind.TOOL and not span.tool_name:
        span.tool_name = tool_name_from_span_name(span.name) or (span.name or None)
    if span.total_tokens is None and (span.input_tokens is not None or span.output_tokens is not None):
        span.total_tokens = (span.input_tokens or 0) + (span.output_tokens or 0)
