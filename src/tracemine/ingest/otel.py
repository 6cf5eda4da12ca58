"""Building spans from OpenTelemetry-shaped records (OTLP, SDK JSON, flat exports, Phoenix).

Every OTel-like reader ends in :func:`make_span`, so status, kind, event and attribute handling is the
same whatever the encoding.
"""

from __future__ import annotations

from typing import Any

from tracemine.ingest.mappers import map_attributes
from tracemine.ingest.normalize import (
    SPAN_ID_HEX_LEN,
    TRACE_ID_HEX_LEN,
    normalize_id,
    raw_id,
    to_ns,
)
from tracemine.model import SourceRef, Span, Status, StatusSource

_STATUS_WORDS = {
    "0": Status.UNSET,
    "1": Status.OK,
    "2": Status.ERROR,
    "unset": Status.UNSET,
    "ok": Status.OK,
    "error": Status.ERROR,
    "status_code_unset": Status.UNSET,
    "status_code_ok": Status.OK,
    "status_code_error": Status.ERROR,
    "statuscode.unset": Status.UNSET,
    "statuscode.ok": Status.OK,
    "statuscode.error": Status.ERROR,
    "success": Status.OK,
    "failure": Status.ERROR,
    "failed": Status.ERROR,
}

_STATUS_BY_CODE = {0: Status.UNSET, 1: Status.OK, 2: Status.ERROR}

_SPAN_KIND_WORDS = {
    "0": None,
    "1": "internal",
    "2": "server",
    "3": "client",
    "4": "producer",
    "5": "consumer",
}


def parse_status(value: Any) -> Status:
    """Status from an OTel code (int, ``STATUS_CODE_OK``, ``StatusCode.ERROR``, ``ok``…)."""
    if value is None:
        return Status.UNSET
    cacheable = type(value) is str or type(value) is int
    if cacheable:
        found = _STATUS_CACHE.get(value)
        if found is not None:
            return found
    status = _STATUS_WORDS.get(str(value).strip().lower(), Status.UNSET)
    if cacheable and len(_STATUS_CACHE) < _WORD_CACHE_LIMIT:
        _STATUS_CACHE[value] = status
    return status


def native_kind_word(value: Any) -> str | None:
    """The OTel SpanKind as a lowercase word (``internal``, ``client``…), for display and fallbacks."""
    if value is None:
        return None
    cacheable = type(value) is str or type(value) is int
    if cacheable:
        found = _KIND_WORD_CACHE.get(value, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[no-any-return]
    word = _native_kind_word(value)
    if cacheable and len(_KIND_WORD_CACHE) < _WORD_CACHE_LIMIT:
        _KIND_WORD_CACHE[value] = word
    return word


# status and kind spellings repeat on every span of a file: cached by value (ints and strings only)
_STATUS_CACHE: dict[Any, Status] = {}
_KIND_WORD_CACHE: dict[Any, str | None] = {}
_WORD_CACHE_LIMIT = 1000


def _native_kind_word(value: Any) -> str | None:
    text = str(value).strip().lower()
    if text in _SPAN_KIND_WORDS:
        return _SPAN_KIND_WORDS[text]
    for prefix in ("span_kind_", "spankind."):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return text or None


def strip_0x(value: Any) -> Any:
    if isinstance(value, str) and value[:2] in ("0x", "0X"):
        return value[2:]
    return value


_OTEL_ID_CACHES: dict[int, dict[str, str | None]] = {TRACE_ID_HEX_LEN: {}, SPAN_ID_HEX_LEN: {}}
_OTEL_ID_CACHE_LIMIT = 200_000


def otel_id(value: Any, hex_len: int) -> str | None:
    """``normalize_id(strip_0x(value))``, cached for string ids (a trace's id repeats on all its spans)."""
    cache = _OTEL_ID_CACHES.get(hex_len) if type(value) is str else None
    if cache is None:
        return normalize_id(strip_0x(value), hex_len)
    found = cache.get(value, _MISSING)
    if found is _MISSING:
        if len(cache) >= _OTEL_ID_CACHE_LIMIT:
            cache.clear()
        found = cache[value] = normalize_id(strip_0x(value), hex_len)
    return found  # type: ignore[return-value]


_MISSING: Any = object()


def any_value(value: Any) -> Any:
    """Decode an OTLP ``AnyValue`` (camelCase or snake_case) to a Python value."""
    if not isinstance(value, dict):
        return value
    for key, item in value.items():
        if key in ("stringValue", "string_value"):
            return item
        if key in ("intValue", "int_value"):
            try:
                return int(item)
            except (TypeError, ValueError):
                return item
        if key in ("doubleValue", "double_value"):
            try:
                return float(item)
            except (TypeError, ValueError):
                return item
        if key in ("boolValue", "bool_value"):
            return bool(item)
        if key in ("arrayValue", "array_value"):
            values = item.get("values") if isinstance(item, dict) else None
            return [any_value(v) for v in values or ()]
        if key in ("kvlistValue", "kvlist_value"):
            values = item.get("values") if isinstance(item, dict) else None
            return otlp_attributes(values or [])
        if key in ("bytesValue", "bytes_value"):
            return item
    return None


def otlp_attributes(items: Any) -> dict[str, Any]:
    """OTLP ``[{"key", "value": AnyValue}]`` → flat dict (bad items are skipped)."""
    if isinstance(items, dict):
        return items
    out: dict[str, Any] = {}
    if not isinstance(items, list):
        return out
    for item in items:
        if type(item) is not dict:
            continue
        key = item.get("key")
        if type(key) is not str:
            continue
        value = item.get("value")
        if type(value) is dict:
            text = value.get("stringValue")
            if text is not None:
                out[key] = text
                continue
        out[key] = any_value(value)
    return out


def flatten_attributes(attrs: Any, prefix: str = "") -> dict[str, Any]:
    """Nested attribute dicts (Phoenix) → dotted keys; flat dicts are returned as they are."""
    if not isinstance(attrs, dict):
        return {}
    if not prefix:
        for value in attrs.values():
            if type(value) is dict:
                break
        else:
            return attrs
    flat: dict[str, Any] = {}
    for key, value in attrs.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten_attributes(value, full + "."))
        else:
            flat[full] = value
    return flat


def normalize_events(events: Any) -> list[dict[str, Any]] | None:
    """Events as ``[{"name", "time_ns", "attributes"}]`` from OTLP, SDK or flat shapes."""
    if not isinstance(events, list) or not events:
        return None
    out: list[dict[str, Any]] = []
    for event in events:
        if not isinstance(event, dict):
            continue
        attrs = event.get("attributes")
        if isinstance(attrs, list):
            attrs = otlp_attributes(attrs)
        out.append(
            {
                "name": str(event.get("name") or ""),
                "time_ns": to_ns(
                    event.get("timeUnixNano", event.get("time_unix_nano", event.get("timestamp", event.get("time"))))
                ),
                "attributes": flatten_attributes(attrs) if isinstance(attrs, dict) else {},
            }
        )
    return out or None


def has_exception_event(events: list[dict[str, Any]] | None) -> bool:
    return bool(events) and any(e.get("name") == "exception" for e in events or ())


def exception_message(events: list[dict[str, Any]] | None) -> str | None:
    for event in events or ():
        if event.get("name") == "exception":
            attrs = event.get("attributes") or {}
            kind = attrs.get("exception.type")
            message = attrs.get("exception.message")
            text = ": ".join(str(p) for p in (kind, message) if p)
            return text or "exception"
    return None


def make_span(
    *,
    trace_id: Any,
    span_id: Any,
    parent_span_id: Any,
    name: Any,
    native_kind: Any,
    start: Any,
    end: Any,
    status: Any,
    status_message: Any,
    attributes: dict[str, Any],
    events: Any,
    resource: dict[str, Any] | None,
    source: SourceRef,
) -> Span:
    """A normalised span from OTel-shaped fields; attribute conventions fill the rest."""
    norm_events = normalize_events(events) if events else None
    explicit = _STATUS_BY_CODE.get(status) if type(status) is int else None
    if explicit is None:
        explicit = parse_status(status)
    message = status_message if isinstance(status_message, str) and status_message else None
    span = Span(
        trace_id=otel_id(trace_id, TRACE_ID_HEX_LEN) or "",
        span_id=otel_id(span_id, SPAN_ID_HEX_LEN) or "",
        parent_span_id=otel_id(parent_span_id, SPAN_ID_HEX_LEN) if parent_span_id is not None else None,
        name=name if isinstance(name, str) else str(name or ""),
        start_ns=to_ns(start),
        end_ns=to_ns(end),
        status=explicit,
        status_message=message,
        events=norm_events,
        attributes=attributes or None,
        resource=resource or None,
        raw_trace_id=(trace_id or None) if type(trace_id) is str else raw_id(trace_id),
        raw_span_id=(span_id or None) if type(span_id) is str else raw_id(span_id),
        source=source,
    )
    consumed = map_attributes(span, attributes, native_kind_word(native_kind))
    if consumed:
        # payloads now live in their own columns; the rest of the attributes stay as they were (the
        # dict was built for this span by its reader, so it is trimmed in place)
        for key in consumed:
            del attributes[key]
        if not attributes:
            span.attributes = None
    if span.status == Status.UNSET and (has_exception_event(norm_events) or "error.type" in attributes):
        span.status = Status.ERROR
        span.status_source = StatusSource.INFERRED
        if span.status_message is None:
            span.status_message = exception_message(norm_events) or str(attributes.get("error.type"))
    return span
