"""Parquet export of the archive's spans and trace records (DuckDB ``COPY … PARTITION_BY``), for
:func:`tracemine.export.export_parquet`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tracemine.store.schema import SPAN_COLUMN_NAMES, TRACE_ARROW_SCHEMA

if TYPE_CHECKING:
    from tracemine.store.archive import Store
    from tracemine.timewindow import Window


@dataclass
class CopiedPartitions:
    """What :func:`copy_partitions` wrote."""

    spans: int = 0
    traces: int = 0
    shard_ids: list[int] = field(default_factory=list)
    days: int = 0


def _window_spans_sql(window: Window | None) -> str:
    """The spans of the whole traces touching ``window`` (the bounds of :func:`tracemine.store.archive.window_clause`).

    The bounds are integer literals, not ``?`` parameters: DuckDB cannot prepare the ``CREATE VIEW``
    this query goes into (``BinderException: Unexpected prepared parameter``)."""
    bounds = []
    if window is not None and window.since_ns is not None:
        bounds.append(f"time_ns >= {int(window.since_ns)}")
    if window is not None and window.until_ns is not None:
        bounds.append(f"time_ns < {int(window.until_ns)}")
    if not bounds:
        return "SELECT *, rowid AS _rowid FROM spans"
    return ("SELECT *, rowid AS _rowid FROM spans WHERE trace_id IN "
            f"(SELECT DISTINCT trace_id FROM spans WHERE {' AND '.join(bounds)})")


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def copy_partitions(store: Store, spans_dir: Path, traces_dir: Path, window: Window | None, shard_expr: str,
                    by_day: bool, row_column: str | None, compression: str) -> CopiedPartitions:
    """Write the spans of the whole traces touching ``window`` to ``spans_dir`` (partitioned by day and
    shard, or shard only; ordered by trace and archive row, the row number as ``row_column`` when given)
    and their trace records to ``traces_dir`` (by shard). ``shard_expr`` is the SQL of a row's shard."""
    con = store.con
    out = CopiedPartitions()
    extra = f", _rowid AS {row_column}" if row_column else ""
    partition = "day, shard" if by_day else "shard"
    day = ", strftime(make_timestamp(coalesce(time_ns, 0) // 1000), '%Y-%m-%d') AS day" if by_day else ""
    columns = ", ".join(SPAN_COLUMN_NAMES)
    con.execute(f"CREATE OR REPLACE TEMP VIEW _tm_export AS {_window_spans_sql(window)}")
    try:
        out.spans = int(con.execute("SELECT count(*) FROM _tm_export").fetchall()[0][0])
        if out.spans:
            con.execute(
                f"""COPY (SELECT {columns}{extra}{day}, {shard_expr} AS shard FROM _tm_export
                          ORDER BY trace_id, _rowid)
                    TO '{_sql_path(spans_dir)}' (FORMAT parquet, PARTITION_BY ({partition}),
                    COMPRESSION {compression})""")
            trace_cols = ", ".join(f.name for f in TRACE_ARROW_SCHEMA)
            out.traces = int(con.execute(
                "SELECT count(*) FROM traces WHERE trace_id IN (SELECT DISTINCT trace_id FROM _tm_export)").fetchall()[0][0])
            if out.traces:
                con.execute(
                    f"""COPY (SELECT {trace_cols}, {shard_expr} AS shard FROM traces
                              WHERE trace_id IN (SELECT DISTINCT trace_id FROM _tm_export) ORDER BY trace_id)
                        TO '{_sql_path(traces_dir)}' (FORMAT parquet, PARTITION_BY (shard),
                        COMPRESSION {compression})""")
            out.shard_ids = sorted(int(r[0]) for r in con.execute(
                f"SELECT DISTINCT {shard_expr} FROM _tm_export").fetchall())
            if by_day:
                out.days = int(con.execute(
                    "SELECT count(DISTINCT (coalesce(time_ns, 0) // 1000 // 86400000000)) FROM _tm_export").fetchall()[0][0])
    finally:
        con.execute("DROP VIEW IF EXISTS _tm_export")
    return out
