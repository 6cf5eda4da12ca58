"""The queries of fix verification (``fixes`` table, layout in :data:`tracemine.store.schema.FIXES_DDL`).

A fix row says when a finding's fix shipped; the counts before and after it come from the run history
(which windows the non-empty runs examined, which traces each stored finding cites) and the spans (when
each trace started). What the counts mean — the test, the verdict — is :mod:`tracemine.fixes`'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracemine.store.history import EMPTY, has_history

if TYPE_CHECKING:
    from tracemine.store.archive import Store

FIX_COLUMNS = ("fingerprint", "at_ns", "note", "ref", "recorded_ns", "check_status", "check_run_id", "check_data")

Examined = tuple[int | None, int | None, int | None]
"""A window a run examined: ``(since_ns, until_ns, last_ingest_id)`` (``None`` = open / no bound)."""


def has_fixes(store: Store) -> bool:
    """Whether the archive has the ``fixes`` table (a read-only archive of an older release may not)."""
    return bool(store.has_tables("fixes"))


def put_fix(store: Store, fingerprint: str, at_ns: int, note: str | None, ref: str | None, now_ns: int) -> bool:
    """Record (or update) the fix of ``fingerprint``; ``True`` when it was already recorded. A new time
    forgets the last verdict: it was about the earlier fix."""
    existed = store.one("SELECT at_ns FROM fixes WHERE fingerprint = ?", [fingerprint])
    store.con.execute(
        """INSERT INTO fixes (fingerprint, at_ns, note, ref, recorded_ns) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (fingerprint) DO UPDATE SET note = excluded.note, ref = excluded.ref,
               recorded_ns = excluded.recorded_ns,
               check_status = CASE WHEN fixes.at_ns = excluded.at_ns THEN fixes.check_status END,
               check_run_id = CASE WHEN fixes.at_ns = excluded.at_ns THEN fixes.check_run_id END,
               check_data = CASE WHEN fixes.at_ns = excluded.at_ns THEN fixes.check_data END,
               at_ns = excluded.at_ns""",
        [fingerprint, at_ns, note, ref, now_ns],
    )
    return existed is not None


def delete_fix(store: Store, fingerprint: str) -> bool:
    """Forget the fix of ``fingerprint``; ``False`` when there was none."""
    if store.one("SELECT 1 FROM fixes WHERE fingerprint = ?", [fingerprint]) is None:
        return False
    store.con.execute("DELETE FROM fixes WHERE fingerprint = ?", [fingerprint])
    return True


def fix_rows(store: Store, fingerprint: str | None = None) -> list[dict[str, Any]]:
    """Every recorded fix (or the one of ``fingerprint``) as a dict of :data:`FIX_COLUMNS`, by fingerprint."""
    if not has_fixes(store):
        return []
    where, params = ("WHERE fingerprint = ?", [fingerprint]) if fingerprint is not None else ("", [])
    rows = store.con.execute(f"SELECT {', '.join(FIX_COLUMNS)} FROM fixes {where} ORDER BY fingerprint",
                             params).fetchall()
    return [dict(zip(FIX_COLUMNS, row, strict=True)) for row in rows]


def save_checks(con: Any, run_id: int, checks: list[tuple[str, str, str]]) -> None:
    """Store each fix's verdict ``(fingerprint, status, data JSON)`` as the one of run ``run_id`` (called
    inside :func:`tracemine.store.history.insert_run`'s transaction)."""
    for fingerprint, status, data in checks:
        con.execute("UPDATE fixes SET check_status = ?, check_run_id = ?, check_data = ? WHERE fingerprint = ?",
                    [status, run_id, data, fingerprint])


def examined_windows(store: Store) -> list[Examined]:
    """The windows the non-empty runs examined, each bounded by the last ingest started before the run
    finished (a run never saw spans ingested after it), without repeats."""
    if not has_history(store):
        return []
    counted = "coalesce(r.status, 'ok') != ?"
    rows = store.con.execute(
        f"""SELECT DISTINCT r.since_ns, r.until_ns,
                   (SELECT max(i.ingest_id) FROM ingests i WHERE i.started_ns <= r.finished_ns)
            FROM mine_runs r WHERE {counted} ORDER BY 1 NULLS FIRST, 2 NULLS LAST, 3""", [EMPTY]).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


_OPEN = 2**62
"""Stands for an open bound, so windows join spans as plain ranges (DuckDB's range join)."""


def split_counts(store: Store, windows: list[Examined], fixes: list[tuple[str, int, list[str]]],
                 ) -> dict[str, tuple[int, int, int, int, int]]:
    """For each ``(fingerprint, at_ns, current_ids)`` of ``fixes``: the traces ``windows`` examined and
    those the finding affected, told apart by whether the trace started (its first span) before ``at_ns``
    or not — ``(traces_before, traces_after, affected_before, affected_after, current_after)``. Affected
    traces are those its stored findings cite plus ``current_ids`` (the run being mined, not stored yet);
    ``current_after`` counts ``current_ids`` alone. The examined traces are read once for all fixes."""
    if not fixes:
        return {}
    con = store.con
    values = ", ".join(["(CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))"] * len(windows))
    params = [v for since, until, bound in windows
              for v in (-_OPEN if since is None else since, _OPEN if until is None else until,
                        _OPEN if bound is None else bound)]
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE fix_trace_starts AS
            WITH w(since, until, bound) AS (VALUES {values}),
                 examined AS (SELECT DISTINCT s.trace_id FROM spans s JOIN w
                              ON s.time_ns >= w.since AND s.time_ns < w.until AND s.ingest_id <= w.bound)
            SELECT s.trace_id, min(s.time_ns) AS first_ns FROM spans s
            SEMI JOIN examined e ON s.trace_id = e.trace_id GROUP BY 1""", params)
    stored = ("SELECT unnest(CAST(json_extract_string(data, '$.trace_ids[*]') AS VARCHAR[])) AS trace_id "
              "FROM findings WHERE fingerprint = ?") if has_history(store) else \
        "SELECT CAST(? AS VARCHAR) AS trace_id WHERE FALSE"
    out = {}
    try:
        for fingerprint, at_ns, current_ids in fixes:
            row = store.one(
                f"""WITH current AS (SELECT DISTINCT unnest(CAST(? AS VARCHAR[])) AS trace_id),
                         affected AS ({stored} UNION SELECT trace_id FROM current)
                    SELECT count(*) FILTER (WHERE first_ns < ?), count(*) FILTER (WHERE first_ns >= ?),
                           count(*) FILTER (WHERE first_ns < ? AND trace_id IN (SELECT trace_id FROM affected)),
                           count(*) FILTER (WHERE first_ns >= ? AND trace_id IN (SELECT trace_id FROM affected)),
                           count(*) FILTER (WHERE first_ns >= ? AND trace_id IN (SELECT trace_id FROM current))
                    FROM fix_trace_starts""",
                [list(current_ids), fingerprint, *[at_ns] * 5],
            )
            out[fingerprint] = tuple(int(v or 0) for v in row) if row else (0, 0, 0, 0, 0)
    finally:
        con.execute("DROP TABLE IF EXISTS fix_trace_starts")
    return out  # type: ignore[return-value]
