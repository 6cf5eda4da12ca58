"""Fast path for OTLP/JSON ``ExportTraceServiceRequest`` records (camelCase, ``resourceSpans``).

Walks the record exactly as :meth:`OtlpJsonReader.feed` does and returns its records in order: a row
per regular span, the general reader's ``Span`` for a span it does not fully understand (events,
non-list attributes, ids that are not strings…). A record whose structure would make the general reader
reject something (a block that is not an object, spans without ids…) is left to the general reader
whole (``None``), so every rejection keeps its locator and reason.
"""

from __future__ import annotations

from typing import Any

from tracemine.ingest.fast.rows import RowBuilder
from tracemine.ingest.fast.span_row import span_row
from tracemine.ingest.normalize import to_ns
from tracemine.ingest.otel import otlp_attributes
from tracemine.ingest.readers.otlp import _SCOPE_KEYS, OtlpJsonReader, _get

_EMPTY: dict[str, Any] = {}


def otlp_records(obj: dict[str, Any], locator: str, reader: OtlpJsonReader, rows: RowBuilder) -> list[Any] | None:
    """The records of one request (rows and ``Span``s), or ``None`` to use the general reader."""
    if "resourceSpans" not in obj:
        return None
    resource_spans = obj["resourceSpans"] or []
    if type(resource_spans) is not list:
        return None
    out: list[Any] = []
    append = out.append
    fmt, file = reader.format, reader.ctx.file
    for r_index, resource_block in enumerate(resource_spans):
        if type(resource_block) is not dict:
            return None
        resource = resource_block.get("resource")
        resource_attrs = otlp_attributes(resource.get("attributes")) if isinstance(resource, dict) else {}
        scopes = _get(resource_block, *_SCOPE_KEYS) or []
        if type(scopes) is not list:
            return None
        r_loc = f"{locator} resourceSpans[{r_index}]"
        for s_index, scope_block in enumerate(scopes):
            if type(scope_block) is not dict:
                return None
            spans = scope_block.get("spans") or []
            if type(spans) is not list:
                return None
            s_loc = f"{r_loc}.scopeSpans[{s_index}]"
            for index, raw in enumerate(spans):
                if type(raw) is not dict:
                    return None
                trace_raw = raw["traceId"] if "traceId" in raw else raw.get("trace_id")
                span_raw = raw["spanId"] if "spanId" in raw else raw.get("span_id")
                if not trace_raw or not span_raw:
                    return None
                span_loc = f"{s_loc}.spans[{index}]"
                row = None
                name = raw.get("name")
                attributes = raw.get("attributes")
                if (
                    type(trace_raw) is str and type(span_raw) is str and type(name) is str
                    and type(attributes) is list and not raw.get("events")
                ):
                    status = raw.get("status")
                    if type(status) is not dict:
                        status = _EMPTY
                    row = span_row(
                        rows,
                        trace_raw,
                        span_raw,
                        raw["parentSpanId"] if "parentSpanId" in raw else raw.get("parent_span_id"),
                        name,
                        raw.get("kind"),
                        to_ns(raw["startTimeUnixNano"] if "startTimeUnixNano" in raw else raw.get("start_time_unix_nano")),
                        to_ns(raw["endTimeUnixNano"] if "endTimeUnixNano" in raw else raw.get("end_time_unix_nano")),
                        status.get("code"),
                        status.get("message"),
                        otlp_attributes(attributes),
                        resource_attrs,
                        fmt,
                        file,
                        span_loc,
                    )
                append(row if row is not None else reader._span(raw, resource_attrs, span_loc))
    return out
