"""Numbered archive migrations (ARCHITECTURE.md, "The archive"): each a small function on the connection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from tracemine.store.schema import FIXES_DDL, STAGE_DDL

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


def _add_stage_tables(con: duckdb.DuckDBPyConnection) -> None:
    """mine_runs, findings, embeddings, cluster_runs, clusters and publish_issues join the archive's schema."""
    for statement in STAGE_DDL:  # IF NOT EXISTS: earlier releases created them on first use
        con.execute(statement)


def _add_fixes(con: duckdb.DuckDBPyConnection) -> None:
    """fixes joins the archive (`tracemine fix`: when a finding's fix shipped, and the last verdict on it)."""
    con.execute(FIXES_DDL)


# In order; a new migration is appended with the next number (never renumber or edit a released one).
MIGRATIONS: list[Migration] = [
    Migration(2, _add_signal_cause),
    Migration(3, _add_ingest_id_clashes),
    Migration(4, _add_stage_tables),
    Migration(5, _add_fixes),
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
