"""Reads of stored traces and spans for the later stages: failing traces and outcomes (trajectories, lift),
cited spans (findings, reports), the window anchor, and the look-ups of ``tracemine show``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa

from tracemine.store.archive import window_clause

if TYPE_CHECKING:
    from tracemine.store.archive import Store
    from tracemine.timewindow import Window

#: The detection run whose flags ``show`` prints for a trace: the latest whose window holds one of its spans
#: (:mod:`tracemine.retention` keeps that run for every trace it keeps).
COVERING_DETECT_RUN = """SELECT max(r.detect_id) FROM detect_runs r
   WHERE EXISTS (SELECT 1 FROM spans s WHERE s.trace_id = ?
                 AND (r.since_ns IS NULL OR s.time_ns >= r.since_ns)
                 AND (r.until_ns IS NULL OR s.time_ns < r.until_ns))"""


def _in_window(window: Window | None) -> tuple[str, list[Any]]:
    """`` AND trace_id IN (…)`` restricting ``traces`` rows to traces with a span in ``window`` ('' when open)."""
    where, params = window_clause(window)
    return (f" AND trace_id IN (SELECT DISTINCT trace_id FROM spans {where})" if where else ""), params


def failed_trace_ids(store: Store, window: Window | None) -> list[str]:
    """The traces recorded as failed (``traces.outcome``) with a span in ``window``."""
    clause, params = _in_window(window)
    return [r[0] for r in store.con.execute(
        f"SELECT trace_id FROM traces WHERE outcome = 'failure'{clause}", params).fetchall()]


def known_outcomes(store: Store, window: Window | None) -> list[tuple[str, str]]:
    """``(trace_id, outcome)`` of the traces in ``window`` whose outcome is success or failure."""
    if not store.has_tables("traces"):
        return []
    clause, params = _in_window(window)
    return store.con.execute(
        f"SELECT trace_id, outcome FROM traces WHERE outcome IN ('success', 'failure'){clause}", params).fetchall()


def outcomes_of(store: Store, trace_ids: list[str]) -> dict[str, str]:
    """The recorded outcome of each of ``trace_ids`` that has a trace record."""
    return dict(store.con.execute(
        "SELECT trace_id, outcome FROM traces WHERE trace_id IN (SELECT unnest(?))", [trace_ids]).fetchall())


def span_rows(store: Store, trace_ids: list[str]) -> list[dict[str, Any]]:
    """Every span row of ``trace_ids`` (all columns, as dicts), ordered by trace id."""
    return store.con.sql("SELECT * FROM spans WHERE trace_id IN (SELECT unnest(?)) ORDER BY trace_id",
                         params=[trace_ids]).to_arrow_table().to_pylist()


def root_span_ids(store: Store, trace_ids: list[str]) -> dict[str, str]:
    """Each trace's first root span (no parent; earliest, then by span id)."""
    return dict(store.con.execute(
        """SELECT trace_id, first(span_id ORDER BY coalesce(start_ns, time_ns), span_id) FROM spans
           WHERE trace_id IN (SELECT unnest(?)) AND (parent_span_id IS NULL OR parent_span_id = '')
           GROUP BY trace_id""", [trace_ids]).fetchall())


def cited_span_facts(store: Store, pairs: list[tuple[str, str]]) -> tuple[list[tuple[Any, ...]], list[tuple[str, Any]]]:
    """For the cited ``(trace_id, span_id)`` pairs, one join: the rows ``(trace_id, span_id, time_ns,
    duration_ms, tokens, cost_usd, model, kind, tool)`` of the pairs the archive holds, and each cited
    trace's agent ``(trace_id, name)`` (its earliest agent span)."""
    table = pa.table({"trace_id": [p[0] for p in pairs], "span_id": [p[1] for p in pairs]})
    con = store.con
    con.register("cited_pairs", table)
    try:
        rows = con.execute(
            """SELECT c.trace_id, c.span_id, s.time_ns, (s.end_ns - s.start_ns) / 1e6,
                      coalesce(s.total_tokens, s.input_tokens + s.output_tokens, s.input_tokens, s.output_tokens),
                      s.cost_usd, s.model, s.kind, coalesce(s.tool_name, s.name)
               FROM cited_pairs c JOIN spans s USING (trace_id, span_id)"""
        ).fetchall()
        # the earliest agent span; ties (equal start times) broken by name and span id, never by storage order
        agents = con.execute(
            """SELECT trace_id, first(coalesce(agent_name, name) ORDER BY coalesce(start_ns, time_ns),
                                      agent_name IS NULL, coalesce(agent_name, name), span_id)
               FROM spans WHERE trace_id IN (SELECT DISTINCT trace_id FROM cited_pairs)
                 AND (agent_name IS NOT NULL OR kind = 'agent')
               GROUP BY trace_id"""
        ).fetchall()
    finally:
        con.unregister("cited_pairs")
    return rows, agents


def held_spans(store: Store, trace_ids: list[str], span_ids: list[str]) -> list[tuple[str, str]]:
    """``(trace_id, span_id)`` of the stored spans among ``trace_ids`` × ``span_ids``."""
    return store.con.execute(
        "SELECT trace_id, span_id FROM spans WHERE trace_id IN (SELECT unnest(?)) AND span_id IN (SELECT unnest(?))",
        [trace_ids, span_ids],
    ).fetchall()


def held_traces(store: Store, trace_ids: list[str]) -> set[str]:
    """The ``trace_ids`` the archive holds spans of."""
    return {r[0] for r in store.con.execute(
        "SELECT DISTINCT trace_id FROM spans WHERE trace_id IN (SELECT unnest(?))", [trace_ids]).fetchall()}


def anchor_counts(store: Store, limit_ns: int) -> tuple[Any, Any, Any, Any]:
    """``(newest time_ns not after limit_ns, spans after it, traces after it, newest time_ns)``."""
    rows = store.con.execute(
        """SELECT max(time_ns) FILTER (WHERE time_ns <= $1), count(*) FILTER (WHERE time_ns > $1),
                  count(DISTINCT trace_id) FILTER (WHERE time_ns > $1), max(time_ns) FROM spans""",
        [limit_ns],
    ).fetchall()
    return rows[0] if rows else (None, 0, 0, None)


def has_trace(store: Store, trace_id: str) -> bool:
    return store.one("SELECT 1 FROM spans WHERE trace_id = ? LIMIT 1", [trace_id]) is not None


def traces_with_raw_id(store: Store, raw_trace_id: str, limit: int) -> list[str]:
    """Up to ``limit`` trace ids whose source spelled their id ``raw_trace_id``."""
    return [r[0] for r in store.con.execute(
        "SELECT DISTINCT trace_id FROM spans WHERE raw_trace_id = ? LIMIT ?", [raw_trace_id, limit]).fetchall()]


def traces_with_prefix(store: Store, prefix: str, limit: int) -> list[str]:
    """Up to ``limit`` trace ids (sorted) starting with ``prefix`` (as given or lower-cased), or whose raw
    id does."""
    return [r[0] for r in store.con.execute(
        """SELECT DISTINCT trace_id FROM spans
           WHERE starts_with(trace_id, ?) OR starts_with(trace_id, ?) OR starts_with(raw_trace_id, ?)
           ORDER BY 1 LIMIT ?""",
        [prefix, prefix.lower(), prefix, limit],
    ).fetchall()]


def trace_summaries(store: Store, trace_ids: list[str]) -> list[tuple[str, str | None, int, int | None, str | None]]:
    """``(trace_id, raw_trace_id, spans, start_ns, root name)`` of each trace, by trace id."""
    return store.con.execute(
        """SELECT trace_id, any_value(raw_trace_id), count(*), min(start_ns),
                  arg_min(name, coalesce(start_ns, 0)) FILTER (WHERE parent_span_id IS NULL)
           FROM spans WHERE trace_id IN (SELECT unnest(?)) GROUP BY trace_id ORDER BY trace_id""",
        [trace_ids],
    ).fetchall()


def covering_detect_run(store: Store, trace_id: str) -> int | None:
    """The :data:`COVERING_DETECT_RUN` of ``trace_id`` (raises ``duckdb.CatalogException`` without detection tables)."""
    return store.scalar(COVERING_DETECT_RUN, [trace_id])


def newest_citing_finding(store: Store, trace_id_json: str) -> tuple[str, int] | None:
    """``(fingerprint, run_id)`` of the newest stored finding whose JSON contains ``trace_id_json``."""
    if not store.has_tables("findings"):
        return None
    row = store.one("SELECT fingerprint, run_id FROM findings WHERE contains(data, ?) ORDER BY run_id DESC LIMIT 1",
                    [trace_id_json])
    return (row[0], int(row[1])) if row else None


def outcome_of(store: Store, trace_id: str) -> str | None:
    """The recorded outcome of ``trace_id`` (``None`` without a record)."""
    row = store.one("SELECT outcome FROM traces WHERE trace_id = ? LIMIT 1", [trace_id])
    return row[0] if row else None
