"""The archive's table layout: span and trace columns (DuckDB and Arrow types) and the DDL of every table.

``DDL`` always describes the latest layout (a fresh archive gets it); changes to it come with a numbered
migration in :mod:`tracemine.store.migrations`.
"""

from __future__ import annotations

import pyarrow as pa

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
