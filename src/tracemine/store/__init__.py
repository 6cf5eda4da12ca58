"""The archive package: the only place that speaks SQL (ARCHITECTURE.md, "The archive").

``archive`` holds :class:`Store` (the DuckDB file, ingest and detection tables, trace reads); ``schema`` the
layout and DDL of every table; ``migrations`` the numbered migrations; ``batch`` spans as Arrow batches;
and one module per concern for the queries other stages need, so they call named functions, never SQL.
"""

from tracemine.store.archive import DEFAULT_DB, ArchiveStats, QuarantineRecord, Store
from tracemine.store.migrations import SCHEMA_VERSION, SchemaVersionError

__all__ = ["DEFAULT_DB", "SCHEMA_VERSION", "ArchiveStats", "QuarantineRecord", "SchemaVersionError", "Store"]
