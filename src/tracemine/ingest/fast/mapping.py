"""Attribute conventions for the fast path: :func:`tracemine.ingest.mappers.map_attributes` and
:func:`~tracemine.ingest.mappers.finish_span` on a list of field values instead of a ``Span``.

Only key sets whose mapping is table-driven are handled, plus OpenInference's ``apply`` (tool schemas:
it reads only the tool name and sets only the tool definitions, so it runs here on a stand-in span): when
another convention's ``apply`` is due (envelopes, ``error.type``…) or a rule fills a field this module
does not know, :func:`map_fields` returns ``None`` and the caller takes the general path.
"""

from __future__ import annotations

from typing import Any

from tracemine.ingest.mappers import (
    PAYLOAD_FIELDS,
    _plan,
    infer_kind,
    openinference,
    tool_name_from_span_name,
)
from tracemine.model import SpanKind
from tracemine.plugins import memoized

FIELDS = (
    "model", "input_tokens", "output_tokens", "total_tokens", "cost_usd", "session_id", "agent_id",
    "agent_name", "tool_name", "tool_call_id", "tool_arguments", "tool_result", "input", "output",
)
_INDEX = {name: i for i, name in enumerate(FIELDS)}
_MODEL, _IN, _OUT, _TOTAL = 0, 1, 2, 3
_TOOL_NAME, _ARGS, _RESULT, _INPUT, _OUTPUT = 8, 10, 11, 12, 13

_TOOL, _LLM, _OTHER = SpanKind.TOOL, SpanKind.LLM, SpanKind.OTHER

_Rules = tuple[tuple[tuple[int, tuple[tuple[str, Any], ...], bool], ...], tuple[Any, ...]]
# conventions whose apply reads only span.tool_name and writes only span.tool_definitions
_TOOL_SCHEMA_CONVENTIONS = (openinference,)


@memoized
def _fast_plans() -> dict[tuple[str, ...], _Rules | None]:
    """Fast-path rules by key set (made again when the registered conventions change)."""
    return {}


class _ToolSchemaSpan:
    """What a tool-schema ``apply`` sees of a span."""

    __slots__ = ("tool_definitions", "tool_name")

    def __init__(self, tool_name: str | None) -> None:
        self.tool_name = tool_name
        self.tool_definitions: str | None = None


def _fast_plan(keys: tuple[str, ...], attrs: dict[str, Any]) -> _Rules | None:
    plan = _plan(attrs)
    rules: _Rules | None = None
    if all(c in _TOOL_SCHEMA_CONVENTIONS for c in plan.conventions) and all(
        field in _INDEX for field, _, _ in plan.fields
    ):
        rules = (
            tuple((_INDEX[field], candidates, field in PAYLOAD_FIELDS) for field, candidates, _ in plan.fields),
            plan.conventions,
        )
    plans = _fast_plans()
    if len(plans) > 10_000:
        plans.clear()
    plans[keys] = rules
    return rules


def map_fields(
    name: str, attrs: dict[str, Any], native_kind: str | None
) -> tuple[SpanKind, list[Any], list[str], str | None] | None:
    """``(kind, field values in FIELDS order, attribute keys copied verbatim into payload columns, tool
    definitions JSON)``, or ``None`` when the general mapper is needed. ``attrs`` is not modified."""
    keys = tuple(attrs)
    plan = _fast_plans().get(keys, False)
    if plan is False:
        plan = _fast_plan(keys, attrs)
    if plan is None:
        return None
    rules, conventions = plan
    kind = infer_kind(name, attrs, native_kind)
    values: list[Any] = [None] * 14
    consumed: list[str] = []
    for index, candidates, payload in rules:
        for key, converter in candidates:
            value = attrs[key]
            if value is None:
                continue
            converted = converter(value)
            if converted is not None:
                values[index] = converted
                if payload and isinstance(value, str):
                    consumed.append(key)
                break
    definitions = None
    if conventions:  # map_attributes runs apply after the rules, before finish_span
        stand_in = _ToolSchemaSpan(values[_TOOL_NAME])
        for convention in conventions:
            convention.apply(stand_in, attrs)
        definitions = stand_in.tool_definitions
    # finish_span
    if kind == _OTHER:
        if values[_TOOL_NAME]:
            kind = _TOOL
        elif values[_MODEL] and (values[_IN] is not None or values[_OUT] is not None):
            kind = _LLM
    if kind == _TOOL:
        if not values[_TOOL_NAME]:
            values[_TOOL_NAME] = tool_name_from_span_name(name) or (name or None)
        if values[_ARGS] is None:
            values[_ARGS] = values[_INPUT]
        if values[_RESULT] is None:
            values[_RESULT] = values[_OUTPUT]
    if values[_TOTAL] is None and (values[_IN] is not None or values[_OUT] is not None):
        values[_TOTAL] = (values[_IN] or 0) + (values[_OUT] or 0)
    return kind, values, consumed, definitions
