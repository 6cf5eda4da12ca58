"""Fast path for flat span-per-record JSON (HALO exports, OTel SDK ``to_json``): ``trace_id``,
``span_id``, text times, attributes as an object.

Reads the fields as :func:`tracemine.ingest.readers.flat.span_from_flat` does; any record with another
id layout (``context``, camelCase, integer ids, a ``parent`` object), events, or attributes that are
not an object goes to the general reader (``None``).
"""

from __future__ import annotations

from typing import Any

from tracemine.ingest.fast.rows import RowBuilder
from tracemine.ingest.fast.span_row import span_row
from tracemine.ingest.normalize import iso_z_ns
from tracemine.ingest.otel import flatten_attributes, otlp_attributes
from tracemine.ingest.readers.flat import FlatSpanReader, _status, _times

_OTHER_PARENT_KEYS = ("parentSpanId", "parent_id", "parentId", "parent")


def flat_records(obj: dict[str, Any], locator: str, reader: FlatSpanReader, rows: RowBuilder) -> list[Any] | None:
    """``[row]`` for a regular flat span record, or ``None`` to use the general reader."""
    if "trace_id" not in obj or "span_id" not in obj:
        return None
    trace_raw, span_raw, name = obj["trace_id"], obj["span_id"], obj.get("name")
    if type(trace_raw) is not str or type(span_raw) is not str or type(name) is not str or obj.get("events"):
        return None
    if "parent_span_id" in obj:
        parent = obj["parent_span_id"]
    elif any(key in obj for key in _OTHER_PARENT_KEYS):
        return None
    else:
        parent = None
    raw_attrs = obj.get("attributes")
    if type(raw_attrs) is dict:
        attributes = flatten_attributes(raw_attrs)
    elif raw_attrs is None:
        attributes = {}
    else:
        return None
    resource = obj.get("resource")
    resource_attrs: dict[str, Any] = {}
    if isinstance(resource, dict):
        inner = resource.get("attributes", resource)
        if type(inner) is dict:
            # every span of a file usually repeats one resource: reuse the dict of the last one when its
            # items (in order) are the same text values, so its JSON is made once (RowBuilder.resource_text)
            items = tuple(inner.items())
            cached = rows.flat_resource
            if items == cached[0]:
                resource_attrs = cached[1]
            else:
                resource_attrs = flatten_attributes(inner)
                if all(type(value) is str for _, value in items):
                    rows.flat_resource = (items, resource_attrs)
        else:
            resource_attrs = otlp_attributes(inner)
    status = obj.get("status")
    if type(status) is dict and "code" in status and "message" in status:  # as _status reads it
        status, message = status["code"], status["message"]
    else:
        status, message = _status(obj)
    if "start_time" in obj and "end_time" in obj and obj["start_time"] is not None:  # as _times reads it
        start, end = obj["start_time"], obj["end_time"]
    else:
        start, end = _times(obj)
    row = span_row(
        rows,
        trace_raw,
        span_raw,
        parent,
        name,
        obj.get("kind"),
        iso_z_ns(start),
        iso_z_ns(end),
        status,
        message,
        attributes,
        resource_attrs,
        reader.format,
        reader.ctx.file,
        locator,
    )
    return None if row is None else [row]
