"""Attribute conventions for the fast path: :func:`tracemine.ingest.mappers.map_attributes` and
:func:`~tracemine.ingest.mappers.finish_span` on a list of field values instead of a ``Span``.

Only key sets whose mapping is fully table-driven are handled: when a convention's ``apply`` is due
(tool schemas, envelopes, ``error.type``…) or a rule fills a field this module does not know,
:func:`map_fields` returns ``None`` and the caller takes the general path.
"""

from __future__ import annotations

from typing import Any

from tracemine.ingest.mappers import PAYLOAD_FIELDS, _plan, infer_kind, tool_name_from_span_name
from tracemine.model import SpanKind

FIELDS = (
    "model", "input_tokens", "output_tokens", "total_tokens", "cost_usd", "session_id", "agent_id",
    "agent_name", "tool_name", "tool_call_id", "tool_arguments", "tool_result", "input", "output",
)
_INDEX = {name: i for i, name in enumerate(FIELDS)}
_MODEL, _IN, _OUT, _TOTAL = 0, 1, 2, 3
_TOOL_NAME, _ARGS, _RESULT, _INPUT, _OUTPUT = 8, 10, 11, 12, 13

_TOOL, _LLM, _OTHER = SpanKind.TOOL, SpanKind.LLM, SpanKind.OTHER

_Rules = tuple[tuple[int, tuple[tuple[str, Any], ...], bool], ...]
_FAST_PLANS: dict[tuple[str, ...], _Rules | None] = {}


def _fast_plan(keys: tuple[str, ...], attrs: dict[str, Any]) -> _Rules | None:
    plan = _plan(attrs)
    rules: _Rules | None = None
    if not plan.conventions and all(field in _INDEX for field, _, _ in plan.fields):
        rules = tuple((_INDEX[field], candidates, field in PAYLOAD_FIELDS) for field, candidates, _ in plan.fields)
    if len(_FAST_PLANS) > 10_000:
        _FAST_PLANS.clear()
    _FAST_PLANS[keys] = rules
    return rules


def map_fields(name: str, attrs: dict[str, Any], native_kind: str | None) -> tuple[SpanKind, list[Any], list[str]] | None:
    """``(kind, field values in FIELDS order, attribute keys copied verbatim into payload columns)``, or
    ``None`` when the general mapper is needed. ``attrs`` is not modified."""
    keys = tuple(attrs)
    rules = _FAST_PLANS.get(keys, False)
    if rules is False:
        rules = _fast_plan(keys, attrs)
    if rules is None:
        return None
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
    return kind, values, consumed
