"""Attribute-convention mappers: flat span attributes → normalised :class:`Span` fields.

Each convention module declares ``FIELDS`` (attribute key → span field, with a converter) plus an
``apply`` for what a table cannot say (tool schemas, envelopes, flattened lists), run only when one of
its ``TRIGGERS`` keys is present. Conventions are registered through the ``register_conventions``
plugin hook (the built-ins by :mod:`tracemine.default_plugins.conventions`). Rules are merged into
one lookup table in registration order (OpenInference, OTel GenAI, OpenLLMetry, HALO, then plugins): for every field
the earliest rule that has a usable value wins, and a field a reader already set is never overwritten.
One pass over the span's own keys replaces a scan of every known key, which matters at 10⁶ spans.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from tracemine.ingest.mappers.common import kind_from_word
from tracemine.model import Span, SpanKind
from tracemine.plugins import components, memoized

_TOOL_NAME_PREFIXES = ("execute_tool ", "function.", "tool.", "tool:", "function:", "running tool ")
PAYLOAD_FIELDS = frozenset({"input", "output", "tool_arguments", "tool_result"})


@memoized
def conventions() -> tuple[Any, ...]:
    """The registered attribute conventions, in precedence order."""
    return tuple(components("register_conventions"))


@memoized
def _table() -> dict[str, tuple[int, str, Any]]:
    """Attribute key → (precedence, span field, converter), the earliest convention's rule per key."""
    table: dict[str, tuple[int, str, Any]] = {}
    priority = 0
    for convention in conventions():
        for key, field, converter in convention.FIELDS:
            if key not in table:
                table[key] = (priority, field, converter)
            priority += 1
    return table


def infer_kind(name: str, attrs: dict[str, Any], native: str | None = None) -> SpanKind:
    """The span kind from, in order: convention attributes, the source's own kind word, the name."""
    for convention in conventions():
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
    plan = _plan(attrs)
    consumed: list[str] = []
    for field, candidates, payload in plan.fields:
        if getattr(span, field) is not None:
            continue  # a field a reader already set is never overwritten
        for key, converter in candidates:
            value = attrs[key]
            if value is None:
                continue
            converted = converter(value)
            if converted is not None:
                setattr(span, field, converted)
                if payload and isinstance(value, str):
                    consumed.append(key)
                break
    for convention in plan.conventions:
        convention.apply(span, attrs)
    finish_span(span)
    return consumed


class _Plan(NamedTuple):
    """What :func:`map_attributes` does for one set of attribute keys: per span field, the keys that can
    fill it in rule order (the first usable value wins), and the conventions whose ``apply`` is due."""

    fields: tuple[tuple[str, tuple[tuple[str, Any], ...], bool], ...]
    conventions: tuple[Any, ...]


@memoized
def _plans() -> dict[tuple[str, ...], _Plan]:
    """The plans made so far by key set (made again when the registered conventions change)."""
    return {}


def _plan(attrs: dict[str, Any]) -> _Plan:
    """The plan for ``attrs``' keys, cached: spans of one instrumentation share their key sets."""
    keys = tuple(attrs)
    plans = _plans()
    plan = plans.get(keys)
    if plan is None:
        if len(plans) > 10_000:
            plans.clear()
        table = _table()
        rules: dict[str, list[tuple[int, str, Any]]] = {}
        for key in keys:
            rule = table.get(key)
            if rule is not None:
                priority, field, converter = rule
                rules.setdefault(field, []).append((priority, key, converter))
        fields = tuple(
            (field, tuple((key, converter) for _, key, converter in sorted(found, key=lambda r: r[0])),
             field in PAYLOAD_FIELDS)
            for field, found in rules.items()
        )
        due = tuple(c for c in conventions() if not c.TRIGGERS.isdisjoint(keys))
        plan = plans[keys] = _Plan(fields, due)
    return plan


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
