"""The archive's table layout and the conversion of spans to Arrow batches for loading.

Spans are loaded through Arrow (DuckDB appends Arrow tables at ~10⁵–10⁶ rows/s, row-by-row inserts
at ~10³). Oversized text is cut here, once, for every format: a dedicated payload column keeps up to
``max_field_chars`` characters, attribute values up to ``max_attr_chars`` (their full text already
lives in the payload columns), and a cut span is marked ``truncated``.
"""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa

from tracemine.model import Span

SCHEMA_VERSION = 1

# (column, DuckDB type, Arrow type)
SPAN_COLUMNS: list[tuple[str, str, pa.DataType]] = [
    ("trace_id", "VARCHAR NOT NULL", pa.string()),
    ("span_id", "VARCHAR NOT NULL", pa.string()),
    ("parent_span_id", "VARCHAR", pa.string()),
    ("name", "VARCHAR", pa.string()),
    ("kind", "VARCHAR", pa.string()),
    ("start_ns", "BIGINT", pa.int64()),
    ("end_ns", "BIGINT", pa.int64()),
    ("time_ns", "BIGINT", pa.int64()),
    ("sequence", "BIGINT", pa.int64()),
    ("status", "VARCHAR", pa.string()),
    ("status_message", "VARCHAR", pa.string()),
    ("status_source", "VARCHAR", pa.string()),
    ("tool_name", "VARCHAR", pa.string()),
    ("tool_call_id", "VARCHAR", pa.string()),
    ("tool_arguments", "VARCHAR", pa.string()),
    ("tool_result", "VARCHAR", pa.string()),
    ("tool_definitions", "VARCHAR", pa.string()),
    ("input", "VARCHAR", pa.string()),
    ("output", "VARCHAR", pa.string()),
    ("model", "VARCHAR", pa.string()),
    ("input_tokens", "BIGINT", pa.int64()),
    ("output_tokens", "BIGINT", pa.int64()),
    ("total_tokens", "BIGINT", pa.int64()),
    ("cost_usd", "DOUBLE", pa.float64()),
    ("session_id", "VARCHAR", pa.string()),
    ("agent_id", "VARCHAR", pa.string()),
    ("agent_name", "VARCHAR", pa.string()),
    ("events", "VARCHAR", pa.string()),
    ("attributes", "VARCHAR", pa.string()),
    ("resource", "VARCHAR", pa.string()),
    ("truncated", "BOOLEAN", pa.bool_()),
    ("raw_trace_id", "VARCHAR", pa.string()),
    ("raw_span_id", "VARCHAR", pa.string()),
    ("source_format", "VARCHAR", pa.string()),
    ("source_file", "VARCHAR", pa.string()),
    ("source_locator", "VARCHAR", pa.string()),
    ("ingest_id", "BIGINT", pa.int64()),
]
SPAN_ARROW_SCHEMA = pa.schema([(name, arrow) for name, _, arrow in SPAN_COLUMNS])
SPAN_COLUMN_NAMES = [name for name, _, _ in SPAN_COLUMNS]

TRACE_COLUMNS: list[tuple[str, str, pa.DataType]] = [
    ("trace_id", "VARCHAR NOT NULL", pa.string()),
    ("outcome", "VARCHAR", pa.string()),
    ("name", "VARCHAR", pa.string()),
    ("labels", "VARCHAR", pa.string()),
    ("source_format", "VARCHAR", pa.string()),
    ("source_file", "VARCHAR", pa.string()),
    ("ingest_id", "BIGINT", pa.int64()),
]
TRACE_ARROW_SCHEMA = pa.schema([(name, arrow) for name, _, arrow in TRACE_COLUMNS])

DDL = [
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "CREATE TABLE IF NOT EXISTS spans ("
    + ", ".join(f"{name} {sql}" for name, sql, _ in SPAN_COLUMNS)
    + ")",
    "CREATE TABLE IF NOT EXISTS traces ("
    + ", ".join(f"{name} {sql}" for name, sql, _ in TRACE_COLUMNS)
    + ")",
    """CREATE TABLE IF NOT EXISTS ingests (
        ingest_id BIGINT PRIMARY KEY, started_ns BIGINT, finished_ns BIGINT, paths VARCHAR,
        files_read BIGINT, files_skipped BIGINT, spans_read BIGINT, spans_inserted BIGINT,
        duplicate_spans BIGINT, rejected BIGINT, repaired BIGINT)""",
    """CREATE TABLE IF NOT EXISTS files (
        fingerprint VARCHAR PRIMARY KEY, path VARCHAR, size_bytes BIGINT, formats VARCHAR,
        spans BIGINT, rejected BIGINT, ingest_id BIGINT, ingested_ns BIGINT)""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        ingest_id BIGINT, file VARCHAR, locator VARCHAR, reason VARCHAR, excerpt VARCHAR)""",
]


def _clip(text: str | None, limit: int) -> tuple[str | None, bool]:
    if text is None or len(text) <= limit:
        return text, False
    return f"{text[:limit]}…[truncated {len(text) - limit} chars]", True


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
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


class SpanBatch:
    """Accumulates spans as columns and hands them out as an Arrow table."""

    TEXT_FIELDS = ("tool_arguments", "tool_result", "tool_definitions", "input", "output", "status_message", "name")

    def __init__(self, ingest_id: int, fallback_time_ns: int, max_field_chars: int, max_attr_chars: int) -> None:
        self.ingest_id = ingest_id
        self.fallback_time_ns = fallback_time_ns
        self.max_field_chars = max_field_chars
        self.max_attr_chars = max_attr_chars
        self.columns: dict[str, list[Any]] = {name: [] for name in SPAN_COLUMN_NAMES}

    def __len__(self) -> int:
        return len(self.columns["trace_id"])

    def add(self, span: Span) -> None:
        c = self.columns
        limit = self.max_field_chars
        truncated = span.truncated
        texts: dict[str, str | None] = {}
        for field in self.TEXT_FIELDS:
            value, cut = _clip(getattr(span, field), limit)
            texts[field] = value
            truncated = truncated or cut
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
        resource_text = _dump(span.resource) if span.resource else None
        if resource_text is not None and len(resource_text) > self.max_attr_chars:
            resource_text, _ = _clip(resource_text, self.max_attr_chars)
            truncated = True
        source = span.source
        c["trace_id"].append(span.trace_id)
        c["span_id"].append(span.span_id)
        c["parent_span_id"].append(span.parent_span_id)
        c["name"].append(texts["name"])
        c["kind"].append(span.kind.value)
        c["start_ns"].append(span.start_ns)
        c["end_ns"].append(span.end_ns)
        c["time_ns"].append(
            span.end_ns if span.end_ns is not None else span.start_ns if span.start_ns is not None else self.fallback_time_ns
        )
        c["sequence"].append(span.sequence)
        c["status"].append(span.status.value)
        c["status_message"].append(texts["status_message"])
        c["status_source"].append(span.status_source.value)
        c["tool_name"].append(span.tool_name)
        c["tool_call_id"].append(span.tool_call_id)
        c["tool_arguments"].append(texts["tool_arguments"])
        c["tool_result"].append(texts["tool_result"])
        c["tool_definitions"].append(texts["tool_definitions"])
        c["input"].append(texts["input"])
        c["output"].append(texts["output"])
        c["model"].append(span.model)
        c["input_tokens"].append(_int64(span.input_tokens))
        c["output_tokens"].append(_int64(span.output_tokens))
        c["total_tokens"].append(_int64(span.total_tokens))
        c["cost_usd"].append(span.cost_usd)
        c["session_id"].append(span.session_id)
        c["agent_id"].append(span.agent_id)
        c["agent_name"].append(span.agent_name)
        c["events"].append(events_text)
        c["attributes"].append(attrs_text)
        c["resource"].append(resource_text)
        c["truncated"].append(truncated)
        c["raw_trace_id"].append(span.raw_trace_id)
        c["raw_span_id"].append(span.raw_span_id)
        c["source_format"].append(source.format if source else None)
        c["source_file"].append(source.file if source else None)
        c["source_locator"].append(source.locator if source else None)
        c["ingest_id"].append(self.ingest_id)

    def to_arrow(self) -> pa.Table:
        return pa.Table.from_pydict(self.columns, schema=SPAN_ARROW_SCHEMA)

    def clear(self) -> None:
        for values in self.columns.values():
            values.clear()


def _int64(value: int | None) -> int | None:
    if value is None or -(2**63) <= value < 2**63:
        return value
    return None
