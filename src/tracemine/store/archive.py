"""The embedded DuckDB archive: spans, traces, ingested files, quarantine; windows and statistics.

An ingest is one transaction: Arrow batches are appended to ``spans`` as they arrive (each row written
once), then the duplicates (same ``(trace_id, span_id)`` and the same content, first occurrence wins)
are deleted, spans that share an id with a *different* span are kept under a derived id, and the file
fingerprints recorded before the commit. An interrupted ingest therefore leaves the archive as it
was, and the same file read again is recognised by its fingerprint and skipped.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from tracemine.model import Outcome, Signal, SourceRef, Span, SpanKind, Status, StatusSource, Trace
from tracemine.store.migrations import SCHEMA_VERSION, Migration, SchemaVersionError, pending_migrations
from tracemine.store.schema import DDL, SPAN_COLUMN_NAMES, TRACE_ARROW_SCHEMA
from tracemine.timewindow import Window

DEFAULT_DB = "tracemine.duckdb"

# What makes two stored spans the same span: every column but its ids, the ingest-time ``time_ns`` and
# where it was read from. The original id (``raw_span_id``, else ``span_id``) is part of it, so a span
# kept under a derived id compares equal to the record it was read from.
_NOT_CONTENT = frozenset({"trace_id", "span_id", "raw_span_id", "time_ns", "source_format", "source_file",
                          "source_locator", "ingest_id"})


def _content_sql(alias: str = "") -> str:
    """SQL for a span row's content digest (see :data:`_NOT_CONTENT`)."""
    prefix = f"{alias}." if alias else ""
    parts = [f"coalesce({prefix}raw_span_id, {prefix}span_id)"] + [
        f"coalesce(CAST({prefix}{name} AS VARCHAR), chr(0))" for name in SPAN_COLUMN_NAMES if name not in _NOT_CONTENT
    ]
    return f"md5(concat_ws(chr(31), {', '.join(parts)}))"


_CONTENT_SQL = _content_sql()
_CORE_TABLES = ("meta", "spans", "traces", "ingests", "files", "quarantine", "detect_runs", "signals")
_DDL_TABLES = (*_CORE_TABLES, "mine_runs", "findings", "embeddings", "cluster_runs", "clusters", "publish_issues",
               "fixes")


@dataclass
class QuarantineRecord:
    file: str
    locator: str
    reason: str
    excerpt: str | None = None


@dataclass
class ArchiveStats:
    spans: int
    traces: int
    files: int
    first_ns: int | None
    last_ns: int | None
    formats: dict[str, int]
    kinds: dict[str, int]
    error_spans: int
    quarantined: int
    quarantine_reasons: dict[str, int] = field(default_factory=dict)


class Store:
    """A DuckDB archive file. Use as a context manager or call :meth:`close`.

    ``memory_limit`` caps DuckDB's own buffers (it spills to a temporary directory beyond it).
    """

    def __init__(self, path: str | Path = DEFAULT_DB, read_only: bool = False, memory_limit: str = "1GB") -> None:
        self.path = str(path)
        if read_only and not Path(self.path).exists():
            raise FileNotFoundError(f"no archive at {self.path}: run `tracemine ingest` first")
        self.read_only = read_only
        self.con = duckdb.connect(self.path, read_only=read_only, config={"memory_limit": memory_limit})
        self._in_batch_txn = False
        self._pending_rows = 0
        self._threads_before: str | None = None
        self.applied_migrations: list[int] = []
        try:
            if read_only:
                self._pending(self.schema_version())
            else:
                self._migrate()
                self.abort_ingest()  # recover from an ingest that was killed half-way
        except BaseException:
            self.con.close()
            raise

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    # -- results -------------------------------------------------------------------------------------
    # DuckDB keeps the result of execute() open until a fetch returns no more rows; while it is open,
    # relational calls (sql(), register()) on the connection fail with "unfinished result". The archive's
    # own queries therefore read their results whole (one(), fetchall()) and never use fetchone().

    def one(self, sql: str, params: list[Any] | None = None) -> tuple[Any, ...] | None:
        """The first row of ``sql`` (``None`` when it has none), its result read whole and released."""
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0] if rows else None

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        """The first column of :meth:`one` (``None`` without a row)."""
        row = self.one(sql, params)
        return row[0] if row else None

    def release(self) -> None:
        """End a result someone else left unfinished (e.g. a ``fetchone()``), so the next relational
        call on the connection does not fail; a no-op when there is none."""
        self.con.complete()

    # -- schema --------------------------------------------------------------------------------------

    def schema_version(self) -> int:
        """The archive's ``meta.schema_version`` (0 when it has none: made before versions were recorded)."""
        if not self.has_tables("meta"):
            return 0
        value = self.scalar("SELECT value FROM meta WHERE key = 'schema_version'")
        try:
            return int(value) if value is not None else 0
        except ValueError:
            raise SchemaVersionError(f"{self.path}: unreadable schema version {value!r} in meta") from None

    def _pending(self, version: int) -> list[Migration]:
        """The migrations an archive at ``version`` lacks; one clear error naming both versions when it
        was written by a newer tracemine (read-only opens only check, they cannot migrate)."""
        try:
            return pending_migrations(version)
        except SchemaVersionError as exc:
            raise SchemaVersionError(f"{self.path}: {exc}") from None

    def _migrate(self) -> None:
        """Bring the archive to :data:`SCHEMA_VERSION` in one transaction: a fresh archive gets ``DDL`` and
        the latest version; an older one gets its missing tables and migrations, then its new version.
        The numbers applied are left in :attr:`applied_migrations`."""
        fresh = not any(self.has_tables(name) for name in _CORE_TABLES)
        version = SCHEMA_VERSION if fresh else self.schema_version()
        pending = self._pending(version)
        if not fresh and not pending and self.has_tables(*_DDL_TABLES):
            return
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            for statement in DDL:  # IF NOT EXISTS: creates what a fresh or an early archive lacks
                con.execute(statement)
            for migration in pending:
                migration.apply(con)
            con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                [str(pending[-1].number if pending else version)],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        self.applied_migrations = [migration.number for migration in pending]

    # -- ingest --------------------------------------------------------------------------------------
    # begin_ingest registers the ingest; insert_spans/insert_traces append batches (each committed, so
    # memory stays bounded and DuckDB's compression overlaps with parsing); commit_ingest removes
    # duplicates, records files and quarantine and marks the ingest finished in one transaction. Rows of
    # an ingest that never finished (killed process, power loss) are removed by abort_ingest or, at the
    # latest, when the archive is next opened for writing: readers only ever see finished ingests.

    # DuckDB threads while an ingest appends batches: appending an Arrow batch gains nothing from a
    # second thread (measured: one thread is ~25 % faster and cheaper), and reader processes need the cores
    INGEST_THREADS = 1

    def begin_ingest(self, paths: list[str]) -> int:
        """Register an ingest; returns its id."""
        if self._threads_before is None:
            self._threads_before = str(self.scalar("SELECT current_setting('threads')"))
            self.con.execute(f"SET threads = {self.INGEST_THREADS}")
        ingest_id = int(self.scalar("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingests") or 1)
        self.con.execute(
            "INSERT INTO ingests (ingest_id, started_ns, paths) VALUES (?, ?, ?)",
            [ingest_id, time.time_ns(), orjson.dumps(paths).decode()],
        )
        return ingest_id

    def abort_ingest(self, ingest_id: int | None = None) -> int:
        """Remove the rows of unfinished ingests (all of them, or one); returns how many ingests."""
        where = "finished_ns IS NULL" + (" AND ingest_id = ?" if ingest_id is not None else "")
        params = [ingest_id] if ingest_id is not None else []
        if self._in_batch_txn:
            self.con.execute("ROLLBACK")
            self._in_batch_txn = False
            self._pending_rows = 0
        self._restore_threads()
        ids = [r[0] for r in self.con.execute(f"SELECT ingest_id FROM ingests WHERE {where}", params).fetchall()]
        if not ids:
            return 0
        self.con.execute("BEGIN TRANSACTION")
        try:
            for table in ("spans", "traces", "ingests"):
                self.con.execute(f"DELETE FROM {table} WHERE ingest_id IN (SELECT unnest(?))", [ids])
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise
        return len(ids)

    def _restore_threads(self) -> None:
        if self._threads_before is not None:
            self.con.execute(f"SET threads = {int(self._threads_before)}")
            self._threads_before = None

    def known_fingerprints(self, fingerprints: list[str]) -> set[str]:
        """Fingerprints of files already ingested cleanly. Files that had rejected records are read
        again next time (a newer reader may accept them; spans already stored are not duplicated)."""
        if not fingerprints:
            return set()
        rows = self.con.execute(
            "SELECT fingerprint FROM files WHERE rejected = 0 AND fingerprint IN (SELECT unnest(?))", [fingerprints]
        ).fetchall()
        return {r[0] for r in rows}

    def known_sizes(self) -> set[int]:
        """Sizes of the files :meth:`known_fingerprints` can match: a file of any other size is new."""
        return {r[0] for r in self.con.execute("SELECT DISTINCT size_bytes FROM files WHERE rejected = 0").fetchall()}

    # rows appended before a commit: one DuckDB row group (122,880 rows) or more, so each commit writes
    # whole compressed row groups (committing every small batch costs 3-4x more)
    COMMIT_ROWS = 245_760

    def insert_spans(self, table: pa.Table) -> None:
        """Append an Arrow batch of spans (columns as in :data:`SPAN_COLUMNS`)."""
        self.release()
        if not self._in_batch_txn:
            self.con.execute("BEGIN TRANSACTION")
            self._in_batch_txn = True
        self.con.register("span_batch", table)
        try:
            self.con.execute("INSERT INTO spans SELECT * FROM span_batch")
        finally:
            self.con.unregister("span_batch")
        self._pending_rows += table.num_rows
        if self._pending_rows >= self.COMMIT_ROWS:
            self.flush()

    def flush(self) -> None:
        """Commit appended batches."""
        if self._in_batch_txn:
            self.con.execute("COMMIT")
            self._in_batch_txn = False
            self._pending_rows = 0

    def insert_traces(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        self.release()
        if not self._in_batch_txn:
            self.con.execute("BEGIN TRANSACTION")
            self._in_batch_txn = True
        self.con.register("trace_batch", pa.Table.from_pylist(rows, schema=TRACE_ARROW_SCHEMA))
        try:
            self.con.execute("INSERT INTO traces SELECT * FROM trace_batch")
        finally:
            self.con.unregister("trace_batch")

    def add_derived_outcomes(self, ingest_id: int, rows: list[dict[str, Any]]) -> None:
        """Record outcomes derived for traces of an ingest in progress, without overriding a reader's.

        A trace record of this ingest with outcome ``unknown`` takes the derived outcome (its labels are
        kept, the derived ``labels`` added); one with a known outcome is left alone; a trace without any
        record gets ``rows``' record (an earlier ingest's record of the trace wins, as for reader records).
        """
        if not rows:
            return
        ids = [row["trace_id"] for row in rows]
        existing: dict[str, list[tuple[int, str, str | None]]] = {}
        for trace_id, row_ingest, outcome, labels in self.con.execute(
            "SELECT trace_id, ingest_id, outcome, labels FROM traces WHERE trace_id IN (SELECT unnest(?))", [ids]
        ).fetchall():
            existing.setdefault(trace_id, []).append((row_ingest, outcome, labels))
        inserts: list[dict[str, Any]] = []
        updates: list[tuple[str, str, str]] = []
        for row in rows:
            records = existing.get(row["trace_id"])
            derived_labels = row["labels"] or {}
            if not records:
                inserts.append({**row, "labels": orjson.dumps(derived_labels).decode() if derived_labels else None})
                continue
            if any(r[0] != ingest_id or _outcome(r[1]) != Outcome.UNKNOWN for r in records):
                continue
            kept = _loads(records[0][2])
            merged = {**derived_labels, **kept} if isinstance(kept, dict) else derived_labels
            updates.append((row["trace_id"], row["outcome"], orjson.dumps(merged).decode()))
        self.insert_traces(inserts)
        if updates:
            self.con.register("trace_outcomes", pa.table({
                "trace_id": [u[0] for u in updates], "outcome": [u[1] for u in updates],
                "labels": [u[2] for u in updates],
            }))
            try:
                self.con.execute(
                    """UPDATE traces SET outcome = d.outcome, labels = d.labels FROM trace_outcomes d
                       WHERE traces.ingest_id = ? AND traces.trace_id = d.trace_id""",
                    [ingest_id],
                )
            finally:
                self.con.unregister("trace_outcomes")

    def commit_ingest(
        self,
        ingest_id: int,
        files: list[dict[str, Any]],
        quarantine: list[QuarantineRecord],
        counters: dict[str, int],
    ) -> tuple[int, int]:
        """Drop duplicate spans (same id and content; first occurrence wins), keep spans that share an id
        with a different span under a derived id, record files and quarantine, commit.

        Returns ``(spans inserted, duplicate spans dropped)``; :meth:`id_clashes` tells how many spans
        were kept under a derived id (here, plus ``counters["id_clashes"]``: those the readers gave one).
        """
        con = self.con
        self.flush()
        self._restore_threads()
        con.execute("BEGIN TRANSACTION")
        try:
            read = self._count_spans(ingest_id)
            clashes = self._drop_duplicates(ingest_id)
            inserted = self._count_spans(ingest_id)
            now = time.time_ns()
            self._record_files(ingest_id, files, now)
            self._record_quarantine(ingest_id, quarantine)
            con.execute(
                """UPDATE ingests SET finished_ns = ?, files_read = ?, files_skipped = ?, spans_read = ?,
                   spans_inserted = ?, duplicate_spans = ?, id_clashes = ?, rejected = ?, repaired = ?
                   WHERE ingest_id = ?""",
                [now, counters.get("files_read", 0), counters.get("files_skipped", 0), read, inserted,
                 read - inserted, clashes + counters.get("id_clashes", 0), len(quarantine), counters.get("repaired", 0), ingest_id],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        return int(inserted), int(read - inserted)

    def id_clashes(self, ingest_id: int) -> int:
        """Spans of a finished ingest kept under a derived id: they shared ``(trace_id, span_id)`` with a
        span of different content (in the same ingest or an earlier one)."""
        return int(self.scalar("SELECT coalesce(id_clashes, 0) FROM ingests WHERE ingest_id = ?", [ingest_id]) or 0)

    def _count_spans(self, ingest_id: int) -> int:
        return int(self.scalar("SELECT count(*) FROM spans WHERE ingest_id = ?", [ingest_id]))

    def _drop_duplicates(self, ingest_id: int) -> int:
        """Settle this ingest's spans whose ``(trace_id, span_id)`` repeats within it or was stored by an
        earlier ingest; returns how many were kept under a derived id.

        A duplicate is the same span with the same content (every column but the id, the ingest-time
        ``time_ns`` and where it was read from): only its first occurrence is kept. A span that shares its
        id with a different span is kept under ``derived_span_id`` (a hash of its id and content, so
        reading the same record again finds it again), its original id in ``raw_span_id``; the first of
        its id in this ingest keeps the id unless an earlier ingest stored it. Such clashes are rare, so
        candidates are found with a hash aggregate first and only they are compared. Trace records: first
        occurrence wins, as before."""
        con = self.con
        within = self.scalar(
            """SELECT count(*) FROM (SELECT 1 FROM spans WHERE ingest_id = ?
               GROUP BY trace_id, span_id HAVING count(*) > 1)""",
            [ingest_id],
        )
        earlier = bool(self.scalar("SELECT count(*) FROM spans WHERE ingest_id < ?", [ingest_id]))
        across = earlier and self.scalar(
            """SELECT count(*) FROM spans s SEMI JOIN spans t
               ON t.trace_id = s.trace_id AND t.span_id = s.span_id AND t.ingest_id < $1
               WHERE s.ingest_id = $1""",
            [ingest_id],
        )
        clashes = self._settle_clashes(ingest_id, bool(within), bool(across)) if within or across else 0
        con.execute(
            """DELETE FROM traces WHERE ingest_id = $1 AND rowid IN (
                   SELECT rowid FROM (
                       SELECT rowid, row_number() OVER (PARTITION BY trace_id ORDER BY rowid) AS rn
                       FROM traces WHERE ingest_id = $1) WHERE rn > 1
                   UNION ALL
                   SELECT s.rowid FROM traces s SEMI JOIN traces t
                   ON t.trace_id = s.trace_id AND t.ingest_id < $1 WHERE s.ingest_id = $1)""",
            [ingest_id],
        )
        return clashes

    def _settle_clashes(self, ingest_id: int, within: bool, across: bool) -> int:
        """:meth:`_drop_duplicates` for the candidate spans (ids repeated ``within`` this ingest, or
        stored ``across`` ingests): delete duplicates, rename clashes; returns the renamed count."""
        con = self.con
        where = []
        if within:
            where.append("""(trace_id, span_id) IN (SELECT trace_id, span_id FROM spans WHERE ingest_id = $1
                              GROUP BY trace_id, span_id HAVING count(*) > 1)""")
        if across:
            where.append("""(trace_id, span_id) IN (SELECT trace_id, span_id FROM spans WHERE ingest_id < $1)""")
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE clash_candidates AS
                SELECT rowid AS rid, trace_id, span_id, {_CONTENT_SQL} AS content,
                       substr(md5(span_id || chr(31) || {_CONTENT_SQL}), 1, 16) AS derived
                FROM spans WHERE ingest_id = $1 AND ({" OR ".join(where)})""",
            [ingest_id],
        )
        try:
            # duplicates: an earlier ingest stored the same content under the id or its derived id, or
            # an earlier row of this ingest has the same id and content
            con.execute(
                f"""DELETE FROM spans WHERE ingest_id = $1 AND rowid IN (
                        SELECT c.rid FROM clash_candidates c WHERE EXISTS (
                            SELECT 1 FROM spans t WHERE t.ingest_id < $1 AND t.trace_id = c.trace_id
                            AND (t.span_id = c.derived OR (t.span_id = c.span_id AND {_content_sql("t")} = c.content)))
                        UNION ALL
                        SELECT rid FROM (SELECT rid, row_number() OVER (
                            PARTITION BY trace_id, span_id, content ORDER BY rid) AS copy FROM clash_candidates)
                        WHERE copy > 1)""",
                [ingest_id],
            )
            # clashes: all but the first left of an id in this ingest, and that one too when an earlier
            # ingest holds the id
            renamed = con.execute(
                """UPDATE spans SET span_id = r.derived, raw_span_id = coalesce(spans.raw_span_id, spans.span_id)
                   FROM (SELECT c.rid, c.derived, row_number() OVER (
                             PARTITION BY c.trace_id, c.span_id ORDER BY c.rid) AS rn,
                             EXISTS (SELECT 1 FROM spans t WHERE t.ingest_id < $1 AND t.trace_id = c.trace_id
                                     AND t.span_id = c.span_id) AS stored
                         FROM clash_candidates c SEMI JOIN spans s ON s.rowid = c.rid AND s.ingest_id = $1) r
                   WHERE spans.rowid = r.rid AND (r.rn > 1 OR r.stored)""",
                [ingest_id],
            ).fetchall()
        finally:
            con.execute("DROP TABLE IF EXISTS clash_candidates")
        return int(renamed[0][0]) if renamed else 0

    def _record_files(self, ingest_id: int, files: list[dict[str, Any]], now: int) -> None:
        if not files:
            return
        # a file read again replaces its earlier quarantine entries
        self.con.execute("DELETE FROM quarantine WHERE file IN (SELECT unnest(?))", [[f["path"] for f in files]])
        for f in files:
            self.con.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [f["fingerprint"], f["path"], f["size"], orjson.dumps(f["formats"]).decode(), f["spans"],
                 f["rejected"], ingest_id, now],
            )

    def _record_quarantine(self, ingest_id: int, quarantine: list[QuarantineRecord]) -> None:
        if not quarantine:
            return
        # DuckDB refuses register() while a result is pending (a fetchone() leaves one, e.g. when no file
        # was read and only unreadable paths were quarantined); any statement read to the end ends it
        self.con.execute("SELECT 1").fetchall()
        self.con.register("quarantine_batch", pa.table({
            "ingest_id": [ingest_id] * len(quarantine),
            "file": [q.file for q in quarantine],
            "locator": [q.locator for q in quarantine],
            "reason": [q.reason for q in quarantine],
            "excerpt": [_safe_text(q.excerpt) for q in quarantine],
        }))
        try:
            self.con.execute("INSERT INTO quarantine SELECT * FROM quarantine_batch")
        finally:
            self.con.unregister("quarantine_batch")

    # -- signals -------------------------------------------------------------------------------------

    def save_signals(self, window: Window | None, detectors: list[str], signals: list[Signal],
                     counts: dict[str, Any]) -> int:
        """Store one detection run and its signals; returns the run's ``detect_id``."""
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            detect_id = self.scalar("SELECT coalesce(max(detect_id), 0) + 1 FROM detect_runs")
            con.execute(
                "INSERT INTO detect_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [detect_id, time.time_ns(), window.since_ns if window else None, window.until_ns if window else None,
                 orjson.dumps(detectors).decode(), counts.get("traces", 0), counts.get("spans", 0), len(signals),
                 orjson.dumps(counts.get("errors", {})).decode(), counts.get("seconds", 0.0)],
            )
            if signals:
                con.register("signal_batch", pa.table({
                    "detect_id": [detect_id] * len(signals),
                    "signal_id": list(range(len(signals))),
                    "detector": [s.detector for s in signals],
                    "kind": [s.kind for s in signals],
                    "trace_id": [s.trace_id for s in signals],
                    "span_ids": [s.span_ids for s in signals],
                    "severity": [s.severity for s in signals],
                    "evidence": [orjson.dumps(s.evidence, option=orjson.OPT_NON_STR_KEYS).decode() for s in signals],
                    "text": [s.text for s in signals],
                    "cause_span_id": pa.array([s.cause_span_id for s in signals], pa.string()),
                    "agent": pa.array([s.agent for s in signals], pa.string()),
                }))
                con.execute("INSERT INTO signals BY NAME SELECT * FROM signal_batch")
                con.unregister("signal_batch")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        return int(detect_id)

    def has_tables(self, *names: str) -> bool:
        """Whether every table in ``names`` exists (stages create their own tables on first write)."""
        rows = self.con.execute(
            "SELECT DISTINCT table_name FROM information_schema.tables WHERE table_name IN (SELECT unnest(?))",
            [list(names)],
        ).fetchall()
        return len(rows) == len(set(names))

    def latest_detect_id(self) -> int | None:
        return self.scalar("SELECT max(detect_id) FROM detect_runs")

    def signals(self, detect_id: int | None = None, trace_id: str | None = None) -> list[Signal]:
        """Signals of a detection run (the latest when ``detect_id`` is None), of one trace when given."""
        detect_id = detect_id if detect_id is not None else self.latest_detect_id()
        if detect_id is None:
            return []
        where, params = ("AND trace_id = ?", [detect_id, trace_id]) if trace_id is not None else ("", [detect_id])
        cause = "cause_span_id, agent" if self._has_columns("signals", "cause_span_id", "agent") else "NULL, NULL"
        rows = self.con.execute(
            f"""SELECT detector, kind, trace_id, span_ids, severity, evidence, text, {cause} FROM signals
               WHERE detect_id = ? {where} ORDER BY signal_id""",
            params,
        ).fetchall()
        return [Signal(r[0], r[1], r[2], list(r[3]), r[4], orjson.loads(r[5]), r[6], r[7], r[8]) for r in rows]

    def _has_columns(self, table: str, *columns: str) -> bool:
        """Whether ``table`` has every one of ``columns`` (an archive opened read-only is not migrated)."""
        found = self.scalar(
            "SELECT count(DISTINCT column_name) FROM information_schema.columns WHERE table_name = ? "
            "AND column_name IN (SELECT unnest(?))",
            [table, list(columns)],
        )
        return found == len(set(columns))

    # -- queries -------------------------------------------------------------------------------------

    def newest_ns(self) -> int | None:
        return self.scalar("SELECT max(time_ns) FROM spans")

    def stats(self, window: Window | None = None) -> ArchiveStats:
        where, params = window_clause(window)
        con = self.con
        spans, traces, first, last, errors = self.one(
            f"""SELECT count(*), count(DISTINCT trace_id), min(coalesce(start_ns, time_ns)), max(time_ns),
                       count(*) FILTER (WHERE status = 'error') FROM spans {where}""",
            params,
        ) or (0, 0, None, None, 0)
        formats = dict(
            con.execute(f"SELECT source_format, count(*) FROM spans {where} GROUP BY 1 ORDER BY 2 DESC", params).fetchall()
        )
        kinds = dict(con.execute(f"SELECT kind, count(*) FROM spans {where} GROUP BY 1 ORDER BY 2 DESC", params).fetchall())
        files = self.scalar("SELECT count(*) FROM files")
        quarantined = self.scalar("SELECT count(*) FROM quarantine")
        reasons = dict(
            con.execute(
                "SELECT regexp_replace(reason, ':.*', ''), count(*) FROM quarantine GROUP BY 1 ORDER BY 2 DESC LIMIT 20"
            ).fetchall()
        )
        return ArchiveStats(
            spans=spans, traces=traces, files=files, first_ns=first, last_ns=last, formats=formats, kinds=kinds,
            error_spans=errors, quarantined=quarantined, quarantine_reasons=reasons,
        )

    def quarantine(self, limit: int | None = None, file: str | None = None) -> list[QuarantineRecord]:
        sql = "SELECT file, locator, reason, excerpt FROM quarantine"
        params: list[Any] = []
        if file:
            sql += " WHERE file = ?"
            params.append(file)
        sql += " ORDER BY ingest_id, file, rowid"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [QuarantineRecord(*row) for row in self.con.execute(sql, params).fetchall()]

    def trace_ids(self, window: Window | None = None) -> list[str]:
        where, params = window_clause(window)
        return [r[0] for r in self.con.execute(f"SELECT DISTINCT trace_id FROM spans {where} ORDER BY 1", params).fetchall()]

    def iter_traces(self, window: Window | None = None, batch_traces: int = 2000) -> Iterator[Trace]:
        """Whole traces touching ``window``, in trace-id order, fetched in bounded batches."""
        ids = self.trace_ids(window)
        self.release()
        outcomes = dict(self.con.execute("SELECT trace_id, outcome FROM traces").fetchall())
        for start in range(0, len(ids), batch_traces):
            chunk = ids[start:start + batch_traces]
            rows = self.con.sql(
                "SELECT * FROM spans WHERE trace_id IN (SELECT unnest(?)) ORDER BY trace_id", params=[chunk]
            ).to_arrow_table().to_pylist()
            current: list[Span] = []
            current_id: str | None = None
            for row in rows:
                if row["trace_id"] != current_id and current:
                    yield Trace(current_id or "", current, _outcome(outcomes.get(current_id)))
                    current = []
                current_id = row["trace_id"]
                current.append(row_to_span(row))
            if current:
                yield Trace(current_id or "", current, _outcome(outcomes.get(current_id)))

    def spans_of(self, trace_id: str) -> list[Span]:
        return self.spans_of_traces([trace_id]).get(trace_id, [])

    def spans_of_traces(self, trace_ids: list[str]) -> dict[str, list[Span]]:
        """The spans of each of ``trace_ids``, by trace id, read in one query (a trace without spans is absent)."""
        self.release()
        rows = self.con.sql("SELECT * FROM spans WHERE trace_id IN (SELECT unnest(?))",
                            params=[list(trace_ids)]).to_arrow_table().to_pylist()
        out: dict[str, list[Span]] = {}
        for row in rows:
            out.setdefault(row["trace_id"], []).append(row_to_span(row))
        return out


def window_clause(window: Window | None, column: str = "time_ns") -> tuple[str, list[Any]]:
    """``WHERE`` clause selecting spans whose time lies in ``window``."""
    if window is None or window.is_open:
        return "", []
    parts, params = [], []
    if window.since_ns is not None:
        parts.append(f"{column} >= ?")
        params.append(window.since_ns)
    if window.until_ns is not None:
        parts.append(f"{column} < ?")
        params.append(window.until_ns)
    return "WHERE " + " AND ".join(parts), params


def _outcome(value: str | None) -> Outcome:
    try:
        return Outcome(value) if value else Outcome.UNKNOWN
    except ValueError:
        return Outcome.UNKNOWN


def _safe_text(text: str | None) -> str | None:
    if text is None:
        return None
    return text.encode("utf-8", "replace").decode("utf-8")


def _loads(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def row_to_span(row: dict[str, Any]) -> Span:
    """A stored row back to a :class:`Span` (JSON columns decoded)."""
    return Span(
        trace_id=row["trace_id"],
        span_id=row["span_id"],
        parent_span_id=row["parent_span_id"],
        name=row["name"] or "",
        kind=SpanKind(row["kind"]) if row["kind"] else SpanKind.OTHER,
        start_ns=row["start_ns"],
        end_ns=row["end_ns"],
        sequence=row["sequence"],
        status=Status(row["status"]) if row["status"] else Status.UNSET,
        status_message=row["status_message"],
        status_source=StatusSource(row["status_source"]) if row["status_source"] else StatusSource.EXPLICIT,
        tool_name=row["tool_name"],
        tool_call_id=row["tool_call_id"],
        tool_arguments=row["tool_arguments"],
        tool_result=row["tool_result"],
        tool_definitions=row["tool_definitions"],
        input=row["input"],
        output=row["output"],
        model=row["model"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        total_tokens=row["total_tokens"],
        cost_usd=row["cost_usd"],
        session_id=row["session_id"],
        agent_id=row["agent_id"],
        agent_name=row["agent_name"],
        events=_loads(row["events"]),
        attributes=_loads(row["attributes"]),
        resource=_loads(row["resource"]),
        truncated=bool(row["truncated"]),
        raw_trace_id=row["raw_trace_id"] or row["trace_id"],
        raw_span_id=row["raw_span_id"] or row["span_id"],
        source=SourceRef(row["source_format"] or "", row["source_file"] or "", row["source_locator"] or ""),
    )
