"""The mapping table ``publish_issues`` (:data:`tracemine.store.schema.PUBLISH_DDL`): which tracker issue
stands for which finding.

One row per (tracker, target, fingerprint): ``target`` is the GitHub repo, the GitLab project, the Jira
site and project key, or the webhook URL. The row never holds a credential.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from tracemine.store.schema import PUBLISH_TABLE

TABLE = PUBLISH_TABLE
COLUMNS = ("tracker", "target", "fingerprint", "issue_key", "issue_id", "url", "state", "body_hash",
           "last_status", "last_run_id", "created_ns", "updated_ns")


@dataclass
class IssueRecord:
    tracker: str
    target: str
    fingerprint: str
    issue_key: str
    issue_id: str | None = None
    url: str | None = None
    state: str = "open"
    body_hash: str | None = None
    last_status: str | None = None
    last_run_id: int | None = None
    created_ns: int | None = None
    updated_ns: int | None = None


def _exists(store: Any) -> bool:
    return bool(store.has_tables(TABLE))


def get_issue(store: Any, tracker: str, target: str, fingerprint: str) -> IssueRecord | None:
    if not _exists(store):
        return None
    row = store.one(
        f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE tracker = ? AND target = ? AND fingerprint = ?",
        [tracker, target, fingerprint],
    )
    return IssueRecord(*row) if row else None


def put_issue(store: Any, record: IssueRecord) -> None:
    now = time.time_ns()
    if record.created_ns is None:
        record.created_ns = now
    record.updated_ns = now
    store.con.execute(
        f"INSERT OR REPLACE INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
        [getattr(record, c) for c in COLUMNS],
    )


def delete_issue(store: Any, tracker: str, target: str, fingerprint: str) -> None:
    if _exists(store):
        store.con.execute(f"DELETE FROM {TABLE} WHERE tracker = ? AND target = ? AND fingerprint = ?",
                          [tracker, target, fingerprint])


def list_issues(store: Any, tracker: str | None = None) -> list[IssueRecord]:
    if not _exists(store):
        return []
    where, params = ("WHERE tracker = ?", [tracker]) if tracker else ("", [])
    rows = store.con.execute(
        f"SELECT {', '.join(COLUMNS)} FROM {TABLE} {where} ORDER BY tracker, target, fingerprint", params
    ).fetchall()
    return [IssueRecord(*r) for r in rows]
