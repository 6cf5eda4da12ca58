""":func:`tracemine.ingest.otel.make_span` for the fast path: OTel-shaped fields → an archive row.

Returns ``None`` for anything :func:`make_span` would treat specially (ids that normalise to nothing,
inferred statuses, conventions with an ``apply`` step), so the caller can take the general path.
Nothing here modifies its arguments until the row is certain (only then are the payload attributes
dropped from ``attributes``, as :func:`make_span` does).
"""

from __future__ import annotations

from typing import Any

from tracemine.ingest.fast.mapping import map_fields
from tracemine.ingest.fast.rows import RowBuilder
from tracemine.ingest.normalize import SPAN_ID_HEX_LEN, TRACE_ID_HEX_LEN
from tracemine.ingest.otel import _STATUS_BY_CODE, native_kind_word, otel_id, parse_status
from tracemine.model import Status

_UNSET = Status.UNSET
_LOWER_HEX = "0123456789abcdef"


def _id(raw: str, hex_len: int) -> str | None:
    """:func:`otel_id` of a string id; lowercase hex (nearly every id) is its own normal form."""
    if not raw.strip(_LOWER_HEX):
        return raw if raw.strip("0") else None
    return otel_id(raw, hex_len)


def span_row(
    rows: RowBuilder,
    trace_raw: str,
    span_raw: str,
    parent_raw: Any,
    name: str,
    native_kind: Any,
    start_ns: int | None,
    end_ns: int | None,
    status: Any,
    status_message: Any,
    attributes: dict[str, Any],
    resource: dict[str, Any] | None,
    source_format: str,
    source_file: str,
    locator: str,
) -> tuple[Any, ...] | None:
    """The row of one span whose ids are strings and whose name is text, or ``None``."""
    trace_id = _id(trace_raw, TRACE_ID_HEX_LEN)
    span_id = _id(span_raw, SPAN_ID_HEX_LEN)
    if not trace_id or not span_id:
        return None  # rejected by the general path, with its reason
    explicit = _STATUS_BY_CODE.get(status) if type(status) is int else None
    if explicit is None:
        explicit = parse_status(status)
    if explicit is _UNSET and "error.type" in attributes:
        return None  # an inferred status
    mapped = map_fields(name, attributes, native_kind_word(native_kind))
    if mapped is None:
        return None
    kind, values, consumed, definitions = mapped
    for key in consumed:
        del attributes[key]
    return rows.row(
        trace_id,
        span_id,
        (_id(parent_raw, SPAN_ID_HEX_LEN) if type(parent_raw) is str
         else otel_id(parent_raw, SPAN_ID_HEX_LEN) if parent_raw is not None else None),
        name,
        kind,
        start_ns,
        end_ns,
        explicit,
        status_message if isinstance(status_message, str) and status_message else None,
        values,
        definitions,
        attributes or None,
        resource or None,
        trace_raw,
        span_raw,
        source_format,
        source_file,
        locator,
    )
