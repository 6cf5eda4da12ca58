"""The conversion of spans to Arrow batches for loading into the archive.

Spans are loaded through Arrow (DuckDB appends Arrow tables at ~10⁵–10⁶ rows/s, row-by-row inserts
at ~10³). Oversized text is cut here, once, for every format: a dedicated payload column keeps up to
``max_field_chars`` characters, attribute values up to ``max_attr_chars`` (their full text already
lives in the payload columns), and a cut span is marked ``truncated``.
"""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa

from tracemine.ingest.limits import NestingError, is_too_deep
from tracemine.model import Span, SpanKind, Status, StatusSource
from tracemine.store.schema import _SPAN_ARROW_TYPES, SPAN_ARROW_SCHEMA, SPAN_COLUMN_NAMES


def _clip(text: str | None, limit: int) -> tuple[str | None, bool]:
    if text is None or len(text) <= limit:
        return text, False
    return f"{text[:limit]}…[truncated {len(text) - limit} chars]", True


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError as exc:
        if is_too_deep(exc):  # the span is rejected, with the reason, rather than stored as a repr
            raise NestingError(str(exc)) from None
        return orjson.dumps(repr(value)).decode()


def _clip_attributes(attrs: dict[str, Any], limit: int) -> tuple[dict[str, Any], bool]:
    cut = False
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if isinstance(value, str) and len(value) > limit:
            out[key] = f"{value[:limit]}…[truncated {len(value) - limit} chars]"
            cut = True
        elif isinstance(value, list | dict):
            text = _dump(value) or ""
            if len(text) > limit:
                out[key] = f"{text[:limit]}…[truncated {len(text) - limit} chars]"
                cut = True
            else:
                out[key] = value
        else:
            out[key] = value
    return out, cut


# enum member → its text (a dict lookup is several times cheaper than ``.value`` on a million spans)
_ENUM_TEXT: dict[Any, str] = {m: m.value for enum in (SpanKind, Status, StatusSource) for m in enum}
_INT64_MIN, _INT64_MAX = -(2**63), 2**63


class SpanBatch:
    """Accumulates spans as rows and hands them out as an Arrow table (columns of :data:`SPAN_COLUMNS`)."""

    def __init__(self, ingest_id: int, fallback_time_ns: int, max_field_chars: int, max_attr_chars: int) -> None:
        self.ingest_id = ingest_id
        self.fallback_time_ns = fallback_time_ns
        self.max_field_chars = max_field_chars
        self.max_attr_chars = max_attr_chars
        self.rows: list[tuple[Any, ...]] = []
        self._resource: tuple[object, str | None, bool] = (None, None, False)

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, span: Span) -> None:
        limit = self.max_field_chars
        truncated = span.truncated
        name, arguments, result, definitions, inp, out, message = (
            span.name, span.tool_arguments, span.tool_result, span.tool_definitions, span.input, span.output,
            span.status_message,
        )
        if (
            (arguments is not None and len(arguments) > limit) or (result is not None and len(result) > limit)
            or (definitions is not None and len(definitions) > limit) or (inp is not None and len(inp) > limit)
            or (out is not None and len(out) > limit) or (message is not None and len(message) > limit)
            or len(name) > limit
        ):
            name, arguments, result, definitions, inp, out, message = (
                _clip(v, limit)[0] for v in (name, arguments, result, definitions, inp, out, message)
            )
            truncated = True
        attrs = span.attributes
        attrs_text = _dump(attrs) if attrs else None
        if attrs_text is not None and len(attrs_text) > self.max_attr_chars and attrs:
            clipped, cut = _clip_attributes(attrs, self.max_attr_chars)
            if cut:
                attrs_text = _dump(clipped)
                truncated = True
        events = span.events
        events_text = _dump(events) if events else None
        if events_text is not None and len(events_text) > limit:
            events_text = _dump([{"name": e.get("name"), "time_ns": e.get("time_ns")} for e in events or ()])
            truncated = True
        resource = span.resource
        if resource is not self._resource[0]:  # spans of one OTLP resource block share its dict
            resource_text = _dump(resource) if resource else None
            cut = resource_text is not None and len(resource_text) > self.max_attr_chars
            if cut:
                resource_text, _ = _clip(resource_text, self.max_attr_chars)
            self._resource = (resource, resource_text, cut)
        _, resource_text, resource_cut = self._resource
        truncated = truncated or resource_cut
        source = span.source
        start, end = span.start_ns, span.end_ns
        input_tokens, output_tokens, total_tokens = span.input_tokens, span.output_tokens, span.total_tokens
        self.rows.append((
            span.trace_id, span.span_id, span.parent_span_id, name, _ENUM_TEXT[span.kind], start, end,
            end if end is not None else start if start is not None else self.fallback_time_ns,
            span.sequence, _ENUM_TEXT[span.status], message, _ENUM_TEXT[span.status_source], span.tool_name,
            span.tool_call_id, arguments, result, definitions, inp, out, span.model,
            input_tokens if input_tokens is None or _INT64_MIN <= input_tokens < _INT64_MAX else None,
            output_tokens if output_tokens is None or _INT64_MIN <= output_tokens < _INT64_MAX else None,
            total_tokens if total_tokens is None or _INT64_MIN <= total_tokens < _INT64_MAX else None,
            span.cost_usd,
            span.session_id, span.agent_id, span.agent_name, events_text, attrs_text, resource_text, truncated,
            # raw ids are stored only where they differ from the normalised ones (lossless, and cheaper)
            span.raw_trace_id if span.raw_trace_id != span.trace_id else None,
            span.raw_span_id if span.raw_span_id != span.span_id else None,
            source.format if source else None, source.file if source else None, source.locator if source else None,
            self.ingest_id,
        ))

    @property
    def columns(self) -> dict[str, list[Any]]:
        if not self.rows:
            return {name: [] for name in SPAN_COLUMN_NAMES}
        return {name: list(values) for name, values in zip(SPAN_COLUMN_NAMES, zip(*self.rows, strict=True), strict=True)}

    def to_arrow(self) -> pa.Table:
        if not self.rows:
            return SPAN_ARROW_SCHEMA.empty_table()
        columns = zip(*self.rows, strict=True)
        arrays = [pa.array(values, arrow) for values, arrow in zip(columns, _SPAN_ARROW_TYPES, strict=True)]
        return pa.Table.from_arrays(arrays, schema=SPAN_ARROW_SCHEMA)

    def clear(self) -> None:
        self.rows = []
