"""Run history in the archive: every ``mine`` run (window, counts, settings, LLM usage, duration) and its
findings keyed by fingerprint, so ``tracemine show FINGERPRINT`` and later runs can find them again.

A finding is stored as its ``findings.json`` item (:func:`tracemine.report.jsonout.to_dict`), beside the
columns that queries need (fingerprint, rank, score, severity, status, traces, share).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa

from tracemine.model import Finding

HISTORY_DDL = [
    """CREATE TABLE IF NOT EXISTS mine_runs (
        run_id BIGINT PRIMARY KEY, started_ns BIGINT, finished_ns BIGINT, since_ns BIGINT, until_ns BIGINT,
        traces BIGINT, spans BIGINT, signals BIGINT, detect_id BIGINT, findings BIGINT, reported BIGINT,
        settings VARCHAR, llm_usage VARCHAR, stages VARCHAR, seconds DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS findings (
        run_id BIGINT, fingerprint VARCHAR, rank BIGINT, reported BOOLEAN, score DOUBLE, severity VARCHAR,
        status VARCHAR, traces BIGINT, window_traces BIGINT, trace_share DOUBLE, data VARCHAR)""",
]


class AmbiguousFingerprint(LookupError):
    """A fingerprint prefix matches several findings; ``matches`` lists their fingerprints."""

    def __init__(self, prefix: str, matches: list[str]) -> None:
        super().__init__(f"{prefix!r} matches {len(matches)} findings: {', '.join(matches[:10])}")
        self.matches = matches


@dataclass
class RunRecord:
    """What a ``mine`` run stores about itself."""

    since_ns: int | None
    until_ns: int | None
    traces: int
    spans: int
    signals: int
    detect_id: int | None
    settings: dict[str, Any] = field(default_factory=dict)
    llm_usage: dict[str, Any] | None = None
    stages: dict[str, float] = field(default_factory=dict)
    started_ns: int = field(default_factory=time.time_ns)


def ensure_tables(store: Any) -> None:
    for statement in HISTORY_DDL:
        store.con.execute(statement)


def _has_tables(store: Any) -> bool:
    row = store.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('mine_runs', 'findings')"
    ).fetchone()
    return bool(row and row[0] == 2)


def save_run(store: Any, record: RunRecord, findings: list[Finding], reported: int) -> int:
    """Store one run and its findings (in rank order) in one transaction; returns the run id."""
    from tracemine.report.jsonout import to_dict

    ensure_tables(store)
    con = store.con
    con.execute("BEGIN TRANSACTION")
    try:
        run_id = int(con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM mine_runs").fetchone()[0])
        con.execute(
            "INSERT INTO mine_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, record.started_ns, time.time_ns(), record.since_ns, record.until_ns, record.traces,
             record.spans, record.signals, record.detect_id, len(findings), reported,
             orjson.dumps(record.settings, default=str).decode(),
             orjson.dumps(record.llm_usage).decode() if record.llm_usage is not None else None,
             orjson.dumps(record.stages).decode(), (time.time_ns() - record.started_ns) / 1e9],
        )
        if findings:
            con.register("finding_batch", pa.table({
                "run_id": [run_id] * len(findings),
                "fingerprint": [f.fingerprint for f in findings],
                "rank": list(range(1, len(findings) + 1)),
                "reported": [i < reported for i in range(len(findings))],
                "score": [float(f.score) for f in findings],
                "severity": [f.severity for f in findings],
                "status": [f.status for f in findings],
                "traces": [f.impact.traces for f in findings],
                "window_traces": [f.impact.window_traces for f in findings],
                "trace_share": [f.impact.trace_share for f in findings],
                "data": [orjson.dumps(to_dict(f, i + 1)).decode() for i, f in enumerate(findings)],
            }))
            con.execute("INSERT INTO findings SELECT * FROM finding_batch")
            con.unregister("finding_batch")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return run_id


def latest_run_id(store: Any) -> int | None:
    if not _has_tables(store):
        return None
    row = store.con.execute("SELECT max(run_id) FROM mine_runs").fetchone()
    return int(row[0]) if row and row[0] is not None else None


def run_findings(store: Any, run_id: int | None = None, reported_only: bool = False) -> list[Finding]:
    """The findings of a run (the latest by default), in rank order; with ``reported_only``, those the
    run reported (its top ``max_findings``) plus those it marked ``resolved``."""
    from tracemine.report.jsonout import from_dict

    run_id = run_id if run_id is not None else latest_run_id(store)
    if run_id is None:
        return []
    where = " AND (reported OR status = 'resolved')" if reported_only else ""
    rows = store.con.execute(f"SELECT data FROM findings WHERE run_id = ?{where} ORDER BY rank", [run_id]).fetchall()
    return [from_dict(orjson.loads(r[0])) for r in rows]


def load_finding(store: Any, fingerprint: str) -> Finding | None:
    """The newest stored version of the finding whose fingerprint is ``fingerprint`` or starts with it
    (with or without its ``tm-``; a prefix must be unique: :class:`AmbiguousFingerprint` otherwise); ``None`` when there is none."""
    from tracemine.report.jsonout import from_dict

    if not fingerprint or not _has_tables(store):
        return None
    exact = store.con.execute(
        "SELECT data FROM findings WHERE fingerprint = ? ORDER BY run_id DESC LIMIT 1", [fingerprint]
    ).fetchone()
    if exact:
        return from_dict(orjson.loads(exact[0]))
    prefixes = [fingerprint] if fingerprint.startswith("tm-") else [fingerprint, f"tm-{fingerprint}"]
    matches = [r[0] for r in store.con.execute(
        "SELECT DISTINCT fingerprint FROM findings WHERE starts_with(fingerprint, ?) OR starts_with(fingerprint, ?) "
        "ORDER BY 1",
        [prefixes[0], prefixes[-1]],
    ).fetchall()]
    if not matches:
        return None
    if len(matches) > 1:
        raise AmbiguousFingerprint(fingerprint, matches)
    return load_finding(store, matches[0])
