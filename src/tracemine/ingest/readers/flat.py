"""Flat span-per-record JSON: the HALO export shape, the OTel SDK ``Span.to_json()``/console shape
(incl. any-agent's integer ids), the OTel-JS console shape, and standalone camelCase OTLP span objects.

A record is a span when it names a trace, a span and has a name; records of richer formats that also
carry those keys (LangSmith runs, OpenAI Agents SDK spans) are left to their own readers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tracemine.ingest.base import Reader, Record
from tracemine.ingest.normalize import to_int
from tracemine.ingest.otel import flatten_attributes, make_span, otlp_attributes

_FOREIGN_KEYS = ("run_type", "span_data", "observations", "dotted_order", "resourceSpans", "resource_spans")
_SPAN_KEYS = ("attributes", "start_time", "startTimeUnixNano", "status", "kind")


def _context(obj: dict[str, Any]) -> dict[str, Any]:
    ctx = obj.get("context")
    return ctx if isinstance(ctx, dict) else {}


def _trace_id(obj: dict[str, Any]) -> Any:
    for key in ("trace_id", "traceId"):
        if key in obj:
            return obj[key]
    ctx = _context(obj)
    return ctx.get("trace_id", ctx.get("traceId"))


def _span_id(obj: dict[str, Any]) -> Any:
    for key in ("span_id", "spanId"):
        if key in obj:
            return obj[key]
    ctx = _context(obj)
    if ctx:
        return ctx.get("span_id", ctx.get("spanId"))
    return obj.get("id")


def _parent_id(obj: dict[str, Any]) -> Any:
    for key in ("parent_span_id", "parentSpanId", "parent_id", "parentId"):
        if key in obj:
            return obj[key]
    parent = obj.get("parent")
    if isinstance(parent, dict):
        return parent.get("span_id", parent.get("spanId"))
    return None


def _status(obj: dict[str, Any]) -> tuple[Any, Any]:
    status = obj.get("status")
    if isinstance(status, dict):
        code = status.get("code", status.get("status_code"))
        return code, status.get("message", status.get("description"))
    if "status_code" in obj:
        return obj.get("status_code"), obj.get("status_message")
    return status, obj.get("status_message")


def _times(obj: dict[str, Any]) -> tuple[Any, Any]:
    start = obj.get("start_time", obj.get("startTimeUnixNano", obj.get("startTime")))
    end = obj.get("end_time", obj.get("endTimeUnixNano", obj.get("endTime")))
    if start is None and "timestamp" in obj:
        # OTel-JS console exporter: timestamp and duration in microseconds
        stamp = to_int(obj.get("timestamp"))
        duration = to_int(obj.get("duration"))
        if stamp is not None:
            start = stamp * 1000
            end = start + duration * 1000 if duration is not None else None
    return start, end


def is_flat_span(obj: Any) -> bool:
    if not isinstance(obj, dict) or not obj.keys().isdisjoint(_FOREIGN_KEYS) or "name" not in obj:
        return False
    if "trace_id" in obj and "span_id" in obj:  # the commonest layout, as _trace_id/_span_id read it
        trace_id, span_id = obj["trace_id"], obj["span_id"]
    else:
        trace_id, span_id = _trace_id(obj), _span_id(obj)
    if trace_id is None and span_id is None:
        return False
    # a span names both ids; a record missing one is still claimed so it is quarantined as a span
    return (trace_id is not None and span_id is not None) or not obj.keys().isdisjoint(_SPAN_KEYS)


class FlatSpanReader(Reader):
    """One span per record: HALO / OTel SDK / any-agent / OTel-JS console shapes."""

    format = "flat_spans"
    priority = 50
    splittable = True

    @classmethod
    def match(cls, obj: Any) -> bool:
        return is_flat_span(obj) and "span_kind" not in obj

    def feed(self, obj: Any, locator: str) -> Iterator[Record]:
        span = span_from_flat(obj, self, locator)
        if span is not None:
            yield span


def span_from_flat(obj: dict[str, Any], reader: Reader, locator: str, kind_key: str = "kind") -> Record | None:
    """Build a span from any flat span record; rejects records with unusable attributes."""
    raw_attrs = obj.get("attributes")
    if raw_attrs is None:
        attributes: dict[str, Any] = {}
    elif isinstance(raw_attrs, dict):
        attributes = flatten_attributes(raw_attrs)
    elif isinstance(raw_attrs, list):
        attributes = otlp_attributes(raw_attrs)
    else:
        reader.ctx.reject(locator, f"attributes is a {type(raw_attrs).__name__}, not an object", raw_attrs)
        return None
    resource = obj.get("resource")
    resource_attrs: dict[str, Any] = {}
    if isinstance(resource, dict):
        inner = resource.get("attributes", resource)
        resource_attrs = flatten_attributes(inner) if isinstance(inner, dict) else otlp_attributes(inner)
    status, message = _status(obj)
    start, end = _times(obj)
    return make_span(
        trace_id=_trace_id(obj),
        span_id=_span_id(obj),
        parent_span_id=_parent_id(obj),
        name=obj.get("name"),
        native_kind=obj.get(kind_key),
        start=start,
        end=end,
        status=status,
        status_message=message,
        attributes=attributes,
        events=obj.get("events"),
        resource=resource_attrs,
        source=reader.src(locator),
    )


READERS = [FlatSpanReader]
