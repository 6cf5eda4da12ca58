"""The archive's table layout and the conversion of spans to Arrow batches for loading.

Spans are loaded through Arrow (DuckDB appends Arrow tables at ~10⁵–10⁶ rows/s, row-by-row inserts
at ~10³). Oversized text is cut here, once, for every format: a dedicated payload column keeps up to
``max_field_chars`` characters, attribute values up to ``max_attr_chars`` (their full text already
lives in the payload columns), and a cut span is marked ``truncated``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from tracemine.ingest.limits import NestingError, is_too_deep
from tracemine.model import Span, SpanKind, Status, StatusSource

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
_SPAN_ARROW_TYPES = [arrow for _, _, arrow in SPAN_COLUMNS]
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

# Payload columns are large and repetitive: zstd writes them about twice as fast as DuckDB's default
# string compression and makes them 2-3x smaller (measured on synthetic agent traces).
ZSTD_COLUMNS = frozenset(
    {"tool_arguments", "tool_result", "tool_definitions", "input", "output", "events", "attributes", "resource"}
)


def _column_sql(name: str, sql: str) -> str:
    return f"{name} {sql} USING COMPRESSION zstd" if name in ZSTD_COLUMNS else f"{name} {sql}"


DDL = [
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "CREATE TABLE IF NOT EXISTS spans (" + ", ".join(_column_sql(n, s) for n, s, _ in SPAN_COLUMNS) + ")",
    "CREATE TABLE IF NOT EXISTS traces ("
    + ", ".join(f"{name} {sql}" for name, sql, _ in TRACE_COLUMNS)
    + ")",
    """CREATE TABLE IF NOT EXISTS ingests (
        ingest_id BIGINT PRIMARY KEY, started_ns BIGINT, finished_ns BIGINT, paths VARCHAR,
        files_read BIGINT, files_skipped BIGINT, spans_read BIGINT, spans_inserted BIGINT,
        duplicate_spans BIGINT, rejected BIGINT, repaired BIGINT, id_clashes BIGINT)""",
    """CREATE TABLE IF NOT EXISTS files (
        fingerprint VARCHAR PRIMARY KEY, path VARCHAR, size_bytes BIGINT, formats VARCHAR,
        spans BIGINT, rejected BIGINT, ingest_id BIGINT, ingested_ns BIGINT)""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        ingest_id BIGINT, file VARCHAR, locator VARCHAR, reason VARCHAR, excerpt VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS detect_runs (
        detect_id BIGINT PRIMARY KEY, created_ns BIGINT, since_ns BIGINT, until_ns BIGINT, detectors VARCHAR,
        traces BIGINT, spans BIGINT, signals BIGINT, detector_errors VARCHAR, seconds DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS signals (
        detect_id BIGINT, signal_id BIGINT, detector VARCHAR, kind VARCHAR, trace_id VARCHAR, span_ids VARCHAR[],
        severity VARCHAR, evidence VARCHAR, text VARCHAR, cause_span_id VARCHAR, agent VARCHAR)""",
]

# -- numbered migrations (ARCHITECTURE.md, "The archive") ------------------------------------------
# ``meta.schema_version`` says which migrations an archive has had. Version 1 is the first schema: every
# release before numbered migrations stamped 1, whatever columns its archives had been given since, so
# the registry starts at 2 and each migration is idempotent (``IF NOT EXISTS``). An archive without a
# stamp counts as version 0 and gets every migration. ``DDL`` always describes the latest layout: a
# fresh archive gets it and is stamped :data:`SCHEMA_VERSION` directly.


@dataclass(frozen=True)
class Migration:
    """One numbered schema change: ``apply`` takes the DuckDB connection (inside the opening transaction)."""

    number: int
    apply: Callable[[duckdb.DuckDBPyConnection], None]

    @property
    def summary(self) -> str:
        """The migration's one-line docstring."""
        doc = (self.apply.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""


def _add_signal_cause(con: duckdb.DuckDBPyConnection) -> None:
    """signals gets cause_span_id and agent (the LLM call that caused a signal, and its agent)."""
    con.execute("ALTER TABLE signals ADD COLUMN IF NOT EXISTS cause_span_id VARCHAR")
    con.execute("ALTER TABLE signals ADD COLUMN IF NOT EXISTS agent VARCHAR")


def _add_ingest_id_clashes(con: duckdb.DuckDBPyConnection) -> None:
    """ingests gets id_clashes (spans kept under a derived id because another span had theirs)."""
    con.execute("ALTER TABLE ingests ADD COLUMN IF NOT EXISTS id_clashes BIGINT")


# In order; a new migration is appended with the next number (never renumber or edit a released one).
MIGRATIONS: list[Migration] = [
    Migration(2, _add_signal_cause),
    Migration(3, _add_ingest_id_clashes),
]
SCHEMA_VERSION = MIGRATIONS[-1].number


class SchemaVersionError(RuntimeError):
    """The archive was written by a newer tracemine than this one."""


def pending_migrations(version: int) -> list[Migration]:
    """The migrations an archive at schema ``version`` lacks, in order (refused when it is newer)."""
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"archive schema version {version} is newer than this tracemine's {SCHEMA_VERSION}; upgrade tracemine"
        )
    return [migration for migration in MIGRATIONS if migration.number > version]


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
