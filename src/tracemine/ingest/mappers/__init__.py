"""Attribute-convention mappers: flat span attributes → normalised :class:`Span` fields.

Each convention module declares ``FIELDS`` (attribute key → span field, with a converter) plus an
``apply`` for what a table cannot say (tool schemas, envelopes, flattened lists), run only when one of
its ``TRIGGERS`` keys is present. Rules are merged into
one lookup table in convention order (OpenInference, OTel GenAI, OpenLLMetry, HALO): for every field
the earliest rule that has a usable value wins, and a field a reader already set is never overwritten.
One pass over the span's own keys replaces a scan of every known key, which matters at 10⁶ spans.
"""

from __future__ import annotations

from typing import Any

from tracemine.ingest.mappers import genai, halo, openinference, openllmetry
from tracemine.ingest.mappers.common import kind_from_word
from tracemine.model import Span, SpanKind

_CONVENTIONS = (openinference, genai, openllmetry, halo)
_TOOL_NAME_PREFIXES = ("execute_tool ", "function.", "tool.", "tool:", "function:", "running tool ")
PAYLOAD_FIELDS = frozenset({"input", "output", "tool_arguments", "tool_result"})


def _build_table() -> dict[str, tuple[int, str, Any]]:
    table: dict[str, tuple[int, str, Any]] = {}
    priority = 0
    for convention in _CONVENTIONS:
        for key, field, converter in convention.FIELDS:
            if key not in table:
                table[key] = (priority, field, converter)
            priority += 1
    return table


_TABLE = _build_table()
_TRIGGERS = frozenset().union(*(c.TRIGGERS for c in _CONVENTIONS))


def infer_kind(name: str, attrs: dict[str, Any], native: str | None = None) -> SpanKind:
    """The span kind from, in order: convention attributes, the source's own kind word, the name."""
    for convention in _CONVENTIONS:
        found = convention.kind(attrs)
        if found is not None:
            return found
    found = kind_from_word(native)
    if found is not None and found != SpanKind.OTHER:
        return found
    if name.lower().startswith(_TOOL_NAME_PREFIXES):
        return SpanKind.TOOL
    return SpanKind.OTHER


def tool_name_from_span_name(name: str) -> str | None:
    lowered = name.lower()
    for prefix in _TOOL_NAME_PREFIXES:
        if lowered.startswith(prefix):
            rest = name[len(prefix):].strip()
            return rest or None
    return None


def map_attributes(span: Span, attrs: dict[str, Any], native_kind: str | None = None) -> list[str]:
    """Fill ``span`` from ``attrs`` using every known convention.

    Returns the attribute keys whose value was copied verbatim into a payload column (input, output,
    tool arguments, tool result), so a caller may drop them from the stored attributes.
    """
    if span.kind == SpanKind.OTHER:
        span.kind = infer_kind(span.name, attrs, native_kind)
    best: dict[str, tuple[int, Any, str]] = {}
    table = _TABLE
    for key, value in attrs.items():
        rule = table.get(key)
        if rule is None or value is None:
            continue
        priority, field, converter = rule
        current = best.get(field)
        if current is not None and current[0] < priority:
            continue
        converted = converter(value)
        if converted is not None:
            best[field] = (priority, converted, key)
    consumed: list[str] = []
    for field, (_, value, key) in best.items():
        if getattr(span, field) is None:
            setattr(span, field, value)
            if field in PAYLOAD_FIELDS and isinstance(attrs.get(key), str):
                consumed.append(key)
    if not _TRIGGERS.isdisjoint(attrs):
        for convention in _CONVENTIONS:
            if not convention.TRIGGERS.isdisjoint(attrs):
                convention.apply(span, attrs)
    finish_span(span)
    return consumed


def finish_span(span: Span) -> None:
    """Last-resort inferences shared by every reader: kinds from fields, tool names from span names,
    a tool span's input/output as its arguments/result, total tokens from their parts."""
    if span.kind == SpanKind.OTHER:
        if span.tool_name:
            span.kind = SpanKind.TOOL
        elif span.model and (span.input_tokens is not None or span.output_tokens is not None):
            span.kind = SpanKind.LLM
    if span.kind == SpanKind.TOOL:
        if not span.tool_name:
            span.tool_name = tool_name_from_span_name(span.name) or (span.name or None)
        if span.tool_arguments is None:
            span.tool_arguments = span.input
        if span.tool_result is None:
            span.tool_result = span.output
    if span.total_tokens is None and (span.input_tokens is not None or span.output_tokens is not None):
        span.total_tokens = (span.input_tokens or 0) + (span.output_tokens or 0)
