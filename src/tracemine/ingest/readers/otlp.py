"""OTLP/JSON ``ExportTraceServiceRequest``: single requests, file-exporter JSON-lines, Tempo ``batches``,
legacy ``instrumentationLibrarySpans``, camelCase or snake_case field names.

Ids are hex strings (base64 is accepted too), enums integers or names, 64-bit integers decimal strings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tracemine.ingest.base import Reader, Record
from tracemine.ingest.otel import make_span, otlp_attributes

_RESOURCE_KEYS = ("resourceSpans", "resource_spans", "batches")
_SCOPE_KEYS = ("scopeSpans", "scope_spans", "instrumentationLibrarySpans", "instrumentation_library_spans")


def _get(obj: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if key in obj:
            return obj[key]
    return None


class OtlpJsonReader(Reader):
    """One ``ExportTraceServiceRequest`` per document or JSON-lines record."""

    format = "otlp_json"
    priority = 10
    splittable = True

    @classmethod
    def match(cls, obj: Any) -> bool:
        if not isinstance(obj, dict):
            return False
        value = _get(obj, *_RESOURCE_KEYS)
        if not isinstance(value, list):
            return False
        if "batches" in obj and not any(k in obj for k in _RESOURCE_KEYS[:2]):
            return not value or any(isinstance(b, dict) and _get(b, *_SCOPE_KEYS) is not None for b in value)
        return True

    def feed(self, obj: Any, locator: str) -> Iterator[Record]:
        resource_spans = _get(obj, *_RESOURCE_KEYS) or []
        for r_index, resource_block in enumerate(resource_spans):
            r_loc = f"{locator} resourceSpans[{r_index}]"
            if not isinstance(resource_block, dict):
                self.ctx.reject(r_loc, "resourceSpans entry is not an object", resource_block)
                continue
            resource = resource_block.get("resource")
            resource_attrs = otlp_attributes(resource.get("attributes")) if isinstance(resource, dict) else {}
            scopes = _get(resource_block, *_SCOPE_KEYS) or []
            if not isinstance(scopes, list):
                self.ctx.reject(r_loc, "scopeSpans is not a list", scopes)
                continue
            for s_index, scope_block in enumerate(scopes):
                s_loc = f"{r_loc}.scopeSpans[{s_index}]"
                if not isinstance(scope_block, dict):
                    self.ctx.reject(s_loc, "scopeSpans entry is not an object", scope_block)
                    continue
                spans = scope_block.get("spans") or []
                if not isinstance(spans, list):
                    self.ctx.reject(s_loc, "spans is not a list", spans)
                    continue
                for index, raw in enumerate(spans):
                    span_loc = f"{s_loc}.spans[{index}]"
                    span = self._span(raw, resource_attrs, span_loc)
                    if span is not None:
                        yield span

    def _span(self, raw: Any, resource_attrs: dict[str, Any], locator: str) -> Record | None:
        if not isinstance(raw, dict):
            self.ctx.reject(locator, "span is not an object", raw)
            return None
        # camelCase first, as _get does, spelt out: this runs once per span
        trace_id = raw["traceId"] if "traceId" in raw else raw.get("trace_id")
        span_id = raw["spanId"] if "spanId" in raw else raw.get("span_id")
        if not trace_id or not span_id:
            self.ctx.reject(locator, "span without traceId or spanId", raw.get("name"))
            return None
        status = raw.get("status")
        if not isinstance(status, dict):
            status = {}
        attributes = otlp_attributes(raw.get("attributes"))
        return make_span(
            trace_id=trace_id,
            span_id=span_id,
            parent_span_id=raw["parentSpanId"] if "parentSpanId" in raw else raw.get("parent_span_id"),
            name=raw.get("name"),
            native_kind=raw.get("kind"),
            start=raw["startTimeUnixNano"] if "startTimeUnixNano" in raw else raw.get("start_time_unix_nano"),
            end=raw["endTimeUnixNano"] if "endTimeUnixNano" in raw else raw.get("end_time_unix_nano"),
            status=status.get("code"),
            status_message=status.get("message"),
            attributes=attributes,
            events=raw.get("events"),
            resource=resource_attrs,
            source=self.src(locator),
        )


READERS = [OtlpJsonReader]
