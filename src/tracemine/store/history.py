"""The run history's queries (``mine_runs``, ``findings``; layout in :data:`tracemine.store.schema.HISTORY_DDL`).

Rows go in and out as plain values (a finding as its ``findings.json`` item, JSON text); what they mean —
statuses, trends, diffs — is :mod:`tracemine.history`'s. An *empty* run (no traces to mine) is left out
of every query that says ``counted``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    from tracemine.store.archive import Store

EMPTY = "empty"
"""The status of a run that had nothing to mine."""
RUN_COLUMNS = ("run_id", "started_ns", "finished_ns", "since_ns", "until_ns", "traces", "spans", "signals",
               "detect_id", "findings", "reported", "settings", "llm_usage", "stages", "seconds", "status", "note")


def has_history(store: Store) -> bool:
    """Whether the archive has the history tables (a read-only archive of an older release may not)."""
    return bool(store.has_tables("mine_runs", "findings"))


def _has_status(store: Store) -> bool:
    """Whether ``mine_runs`` has its ``status`` column (an archive written before it, opened read-only, has not)."""
    return bool(store.scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = 'mine_runs' "
                             "AND column_name = 'status'"))


def _counted(store: Store) -> str:
    """SQL condition on ``mine_runs`` keeping the runs that count (not :data:`EMPTY`)."""
    return f"coalesce(status, 'ok') != '{EMPTY}'" if _has_status(store) else "TRUE"


def insert_run(store: Store, run: dict[str, Any], findings: dict[str, list[Any]] | None,
               fix_checks: list[tuple[str, str, str]] | None = None) -> int:
    """Store one run (``run``: every :data:`RUN_COLUMNS` value but ``run_id``), its findings rows
    (columns of ``findings``, ``run_id`` added) and its verdicts on recorded fixes (``(fingerprint, status,
    data JSON)``, see :func:`tracemine.store.fixes.save_checks`) in one transaction; returns the new run id."""
    con = store.con
    con.execute("BEGIN TRANSACTION")
    try:
        run_id = int(store.scalar("SELECT coalesce(max(run_id), 0) + 1 FROM mine_runs"))
        values = {**run, "run_id": run_id}
        con.execute(
            f"INSERT INTO mine_runs ({', '.join(RUN_COLUMNS)}) VALUES ({', '.join('?' * len(RUN_COLUMNS))})",
            [values[c] for c in RUN_COLUMNS],
        )
        if findings:
            rows = len(next(iter(findings.values())))
            columns = {"run_id": [run_id] * rows, **findings}
            columns["rank"] = pa.array(columns["rank"], pa.int64())
            con.register("finding_batch", pa.table(columns))
            con.execute("INSERT INTO findings BY NAME SELECT * FROM finding_batch")
            con.unregister("finding_batch")
        if fix_checks:
            from tracemine.store.fixes import save_checks

            save_checks(con, run_id, fix_checks)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return run_id


def run_status(store: Store, run_id: int) -> tuple[str, str | None] | None:
    """``(status, note)`` of a stored run, ``None`` when there is no such run."""
    if not has_history(store):
        return None
    columns = "coalesce(status, 'ok'), note" if _has_status(store) else "'ok', NULL"
    row = store.one(f"SELECT {columns} FROM mine_runs WHERE run_id = ?", [run_id])
    return (str(row[0]), row[1]) if row else None


def run_exists(store: Store, run_id: int) -> bool:
    return has_history(store) and store.one("SELECT 1 FROM mine_runs WHERE run_id = ?", [run_id]) is not None


def latest_counted_run(store: Store) -> int | None:
    """The latest run that was not :data:`EMPTY` (``None`` when there is none)."""
    if not has_history(store):
        return None
    latest = store.scalar(f"SELECT max(run_id) FROM mine_runs WHERE {_counted(store)}")
    return int(latest) if latest is not None else None


def counted_runs(store: Store) -> list[int]:
    """The ids of the runs that were not :data:`EMPTY`, oldest first."""
    if not has_history(store):
        return []
    return [int(r[0]) for r in store.con.execute(
        f"SELECT run_id FROM mine_runs WHERE {_counted(store)} ORDER BY run_id").fetchall()]


def recent_counted_runs(store: Store, limit: int) -> list[tuple[int, int]]:
    """``(run_id, started_ns)`` of the last ``limit`` runs that were not :data:`EMPTY`, oldest first."""
    if not has_history(store):
        return []
    return [(int(r[0]), int(r[1] or 0)) for r in store.con.execute(
        f"SELECT run_id, started_ns FROM mine_runs WHERE {_counted(store)} ORDER BY run_id DESC LIMIT ?",
        [limit]).fetchall()][::-1]


def run_starts(store: Store) -> dict[int, int]:
    """Each run's ``started_ns``."""
    return dict(store.con.execute("SELECT run_id, started_ns FROM mine_runs").fetchall())


def run_finding_data(store: Store, run_id: int, reported_only: bool = False) -> list[str]:
    """The stored findings of a run in rank order (JSON); with ``reported_only`` the reported and resolved ones."""
    where = " AND (reported OR status = 'resolved')" if reported_only else ""
    rows = store.con.execute(f"SELECT data FROM findings WHERE run_id = ?{where} "
                             "ORDER BY rank NULLS LAST, fingerprint", [run_id]).fetchall()
    return [r[0] for r in rows]


def newest_finding_data(store: Store, fingerprint: str) -> str | None:
    """The newest stored version of the finding ``fingerprint`` (JSON), ``None`` when there is none."""
    if not has_history(store):
        return None
    row = store.one("SELECT data FROM findings WHERE fingerprint = ? ORDER BY run_id DESC LIMIT 1", [fingerprint])
    return row[0] if row else None


def fingerprints_starting_with(store: Store, prefixes: list[str]) -> list[str]:
    """The stored fingerprints that start with one of ``prefixes`` (one or two), sorted."""
    return [r[0] for r in store.con.execute(
        "SELECT DISTINCT fingerprint FROM findings WHERE starts_with(fingerprint, ?) OR starts_with(fingerprint, ?) "
        "ORDER BY 1",
        [prefixes[0], prefixes[-1]],
    ).fetchall()]


def finding_data_in_run(store: Store, run_id: int, fingerprint: str) -> str:
    """The finding ``fingerprint`` as run ``run_id`` stored it (JSON)."""
    return store.scalar("SELECT data FROM findings WHERE run_id = ? AND fingerprint = ? LIMIT 1",
                        [run_id, fingerprint])


def appearances(store: Store) -> list[tuple[int, str, str, float | None, str | None, bool]]:
    """Every stored finding row as ``(run_id, fingerprint, status, trace_share, inherited_from, reported)``,
    by run, then rank."""
    return store.con.execute(
        "SELECT run_id, fingerprint, status, trace_share, inherited_from, reported FROM findings "
        "ORDER BY run_id, rank NULLS LAST"
    ).fetchall()


def last_found_run(store: Store, fingerprint: str) -> int:
    """The last run that found ``fingerprint`` (not as resolved)."""
    return int(store.scalar("SELECT max(run_id) FROM findings WHERE fingerprint = ? AND status != 'resolved'",
                            [fingerprint]))


def shares_in_runs(store: Store, run_ids: list[int]) -> list[tuple[int, str, float | None]]:
    """``(run_id, fingerprint, trace_share)`` of what the runs ``run_ids`` found (resolved rows left out)."""
    return store.con.execute(
        "SELECT run_id, fingerprint, trace_share FROM findings WHERE status != 'resolved' "
        "AND run_id IN (SELECT unnest(?))", [run_ids]
    ).fetchall()


def found_in_run(store: Store, run_id: int) -> list[tuple[str, int | None, bool, str]]:
    """``(fingerprint, rank, reported, data)`` of what a run found (resolved rows left out), in rank order."""
    return store.con.execute(
        "SELECT fingerprint, rank, reported, data FROM findings WHERE run_id = ? AND status != 'resolved' "
        "ORDER BY rank NULLS LAST, fingerprint", [run_id]).fetchall()


def run_summaries(store: Store, limit: int | None) -> list[tuple[Any, ...]]:
    """The most recent runs, newest first, one row each: ``run_id, started_ns, since_ns, until_ns, traces,
    spans, signals, found, reported, llm_usage, seconds, status, note`` and the reported ``new``,
    ``recurring``, ``regressed`` counts and the ``resolved`` count."""
    if not has_history(store):
        return []
    status = "r.status, r.note" if _has_status(store) else "NULL, NULL"
    # found and reported are counted from the stored findings: archives written before resolved findings
    # were told apart counted them as found in ``mine_runs.findings``
    sql = f"""SELECT r.run_id, r.started_ns, r.since_ns, r.until_ns, r.traces, r.spans, r.signals,
                    count(*) FILTER (WHERE f.status != 'resolved'),
                    count(*) FILTER (WHERE f.status != 'resolved' AND f.reported), r.llm_usage, r.seconds, {status},
                    count(*) FILTER (WHERE f.status = 'new' AND f.reported),
                    count(*) FILTER (WHERE f.status = 'recurring' AND f.reported),
                    count(*) FILTER (WHERE f.status = 'regressed' AND f.reported),
                    count(*) FILTER (WHERE f.status = 'resolved')
             FROM mine_runs r LEFT JOIN findings f USING (run_id)
             GROUP BY ALL ORDER BY r.run_id DESC"""
    if limit:
        sql += f" LIMIT {int(limit)}"
    return store.con.execute(sql).fetchall()
