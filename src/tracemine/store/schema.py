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

# The tables of the later stages (run history, vector cache, cluster runs, tracker issues): created by
# migration 4 in archives that lack them, so every writable archive has them from its first open.
HISTORY_DDL = [
    """CREATE TABLE IF NOT EXISTS mine_runs (
        run_id BIGINT PRIMARY KEY, started_ns BIGINT, finished_ns BIGINT, since_ns BIGINT, until_ns BIGINT,
        traces BIGINT, spans BIGINT, signals BIGINT, detect_id BIGINT, findings BIGINT, reported BIGINT,
        settings VARCHAR, llm_usage VARCHAR, stages VARCHAR, seconds DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS findings (
        run_id BIGINT, fingerprint VARCHAR, rank BIGINT, reported BOOLEAN, score DOUBLE, severity VARCHAR,
        status VARCHAR, traces BIGINT, window_traces BIGINT, trace_share DOUBLE, data VARCHAR)""",
    # columns the history gained before numbered migrations (archives may have either layout)
    "ALTER TABLE findings ADD COLUMN IF NOT EXISTS inherited_from VARCHAR",
    "ALTER TABLE mine_runs ADD COLUMN IF NOT EXISTS status VARCHAR",
    "ALTER TABLE mine_runs ADD COLUMN IF NOT EXISTS note VARCHAR",
]

EMBEDDINGS_TABLE = "embeddings"
EMBEDDINGS_DDL = f"""CREATE TABLE IF NOT EXISTS {EMBEDDINGS_TABLE} (
    key BLOB PRIMARY KEY,        -- sha256(model_id || 0x00 || text)
    model_id VARCHAR NOT NULL,
    dim INTEGER NOT NULL,
    vector FLOAT[] NOT NULL,     -- unit length, float32
    created_ns BIGINT
)"""

CLUSTER_DDL = [
    """CREATE TABLE IF NOT EXISTS cluster_runs (
        cluster_run_id BIGINT, created_ns BIGINT, subject VARCHAR, detect_id BIGINT, model VARCHAR,
        items BIGINT, leaves BIGINT, parents BIGINT, unclustered BIGINT, seconds DOUBLE, result VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS clusters (
        cluster_run_id BIGINT, cluster_id VARCHAR, subject VARCHAR, level VARCHAR, kind VARCHAR, parent_id VARCHAR,
        size BIGINT, traces BIGINT, members BIGINT[], exemplars BIGINT[], exemplar_texts VARCHAR[],
        keywords VARCHAR[], tools VARCHAR, models VARCHAR, severities VARCHAR, split VARCHAR)""",
]

PUBLISH_TABLE = "publish_issues"
PUBLISH_DDL = f"""CREATE TABLE IF NOT EXISTS {PUBLISH_TABLE} (
    tracker VARCHAR NOT NULL,       -- github | gitlab | jira | webhook
    target VARCHAR NOT NULL,        -- owner/repo | project | site/KEY | webhook URL
    fingerprint VARCHAR NOT NULL,   -- tm-…
    issue_key VARCHAR,              -- issue number (GitHub), iid (GitLab), key (Jira), fingerprint (webhook)
    issue_id VARCHAR,               -- the tracker's internal id when it has one
    url VARCHAR,                    -- the issue's web page
    state VARCHAR,                  -- open | closed, as last seen or set by tracemine
    body_hash VARCHAR,              -- sha256 of the title and body last sent
    last_status VARCHAR,            -- the finding status last published (new/recurring/regressed/resolved)
    last_run_id BIGINT,             -- the mine run last published
    created_ns BIGINT,
    updated_ns BIGINT,
    PRIMARY KEY (tracker, target, fingerprint))"""

STAGE_DDL = [*HISTORY_DDL, EMBEDDINGS_DDL, *CLUSTER_DDL, PUBLISH_DDL]
"""What migration 4 runs; part of :data:`DDL` too."""

FIXES_TABLE = "fixes"
FIXES_DDL = f"""CREATE TABLE IF NOT EXISTS {FIXES_TABLE} (
    fingerprint VARCHAR PRIMARY KEY, -- tm-… (the finding the fix is for)
    at_ns BIGINT NOT NULL,          -- when the fix shipped (traces from then on are "after")
    note VARCHAR,
    ref VARCHAR,                    -- http(s) link to the change
    recorded_ns BIGINT,             -- when `tracemine fix` last wrote the row
    check_status VARCHAR,           -- the last mine run's verdict (fixes.FixStatus), NULL before the first
    check_run_id BIGINT,            -- that run
    check_data VARCHAR)"""
"""What migration 5 creates (``tracemine fix``, :mod:`tracemine.fixes`); part of :data:`DDL` too."""

DDL += [*STAGE_DDL, FIXES_DDL]

