"""What every issue-tracker publisher shares: the remote issue, the outcome of one finding, and the
idempotent publish step.

For each finding the step finds its issue through the mapping table (``publish_issues``) or, when the table
has no row (a new archive, a lost database), through the marker the issue body carries; it creates an issue
only when neither finds one. Before writing to an issue the table names, it reads the issue and checks that it
carries the finding's marker: after a tracker reset the same number may be another finding's issue or a
person's, which is never overwritten (the finding's issue is found again by its marker, or created). A re-run updates the title and body only when they changed (one comment with
the new figures when ``comment_on_update``), reopens the issue when the finding ``regressed`` (with
``reopen_regressed``) and closes it when the finding is ``resolved`` (with ``close_resolved``).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from tracemine.model import Finding
from tracemine.publish.http import Http, HttpError
from tracemine.publish.render import Rendered, has_marker
from tracemine.publish.settings import Credentials, PublishConfigError, PublishSettings
from tracemine.store.publish_records import IssueRecord, delete_issue, get_issue, put_issue

log = logging.getLogger("tracemine.publish")

ACTIONS = ("created", "updated", "commented", "reopened", "closed")


class PublishError(Exception):
    """A tracker answered something the publisher cannot act on (the message never holds a credential)."""


class IssueGone(PublishError):
    """The issue the mapping table names no longer exists (deleted or moved)."""


class IssueReused(IssueGone):
    """The issue the mapping table names carries another finding's marker or none (a tracker reset)."""


@dataclass
class Remote:
    """An issue as the tracker (or the mapping table) knows it."""

    key: str
    id: str | None = None
    url: str | None = None
    state: str = "open"  # open | closed
    title: str | None = None
    body: str | None = None
    labels: list[str] = field(default_factory=list)


@dataclass
class PublishResult:
    """What publishing one finding to one tracker did (not a trace outcome: that is :class:`tracemine.model.Outcome`)."""

    tracker: str
    target: str
    fingerprint: str
    status: str = ""
    title: str = ""
    actions: list[str] = field(default_factory=list)
    issue: str | None = None
    url: str | None = None
    reason: str = ""
    failed: bool = False
    skipped: bool = False

    @property
    def action(self) -> str:
        """``failed``, ``skipped``, or the actions taken joined by ``+`` (``created``, ``updated+commented``…)."""
        if self.failed:
            return "failed"
        if self.skipped or not self.actions:
            return "skipped"
        return "+".join(self.actions)

    def to_dict(self) -> dict[str, Any]:
        return {"tracker": self.tracker, "target": self.target, "fingerprint": self.fingerprint,
                "status": self.status, "action": self.action, "actions": list(self.actions),
                "issue": self.issue, "url": self.url, "reason": self.reason}


class Publisher(ABC):
    """One tracker. Subclasses implement the REST calls; :meth:`publish` is the shared logic."""

    name: ClassVar[str]

    def __init__(self, settings: PublishSettings, http: Http, credentials: Credentials, *,
                 redactor: Any = None, trace_url: str | None = None) -> None:
        self.settings = settings
        self.http = http
        self.credentials = credentials
        self.redactor = redactor
        self.trace_url = trace_url
        self.dry_run = http.dry_run

    # -- what a subclass provides ---------------------------------------------------------------------------

    @property
    @abstractmethod
    def target(self) -> str:
        """The repo / project / site the issues live in (part of the mapping key)."""

    @abstractmethod
    def check(self) -> None:
        """Raise :class:`PublishConfigError` when a credential is missing (not in a dry run)."""

    @abstractmethod
    def find(self, fingerprint: str) -> Remote | None:
        """The issue whose body (or label) carries ``fingerprint``'s marker, searched on the tracker."""

    @abstractmethod
    def fetch(self, key: str) -> Remote | None:
        """The issue as it is now; ``None`` when it is gone."""

    @abstractmethod
    def create(self, rendered: Rendered) -> Remote: ...

    @abstractmethod
    def update(self, remote: Remote, rendered: Rendered) -> None: ...

    @abstractmethod
    def comment(self, remote: Remote, rendered: Rendered, event: str, run_id: int | None) -> None: ...

    @abstractmethod
    def close(self, remote: Remote) -> None: ...

    @abstractmethod
    def reopen(self, remote: Remote) -> None: ...

    def carries_marker(self, remote: Remote, fingerprints: tuple[str, ...]) -> bool:
        """Whether the issue carries the marker of one of ``fingerprints`` (in its body by default)."""
        return any(has_marker(remote.body, fp) for fp in fingerprints)

    def same_content(self, remote: Remote, rendered: Rendered) -> bool:
        """Whether an issue found by its marker already says what ``rendered`` says."""
        def norm(text: str | None) -> str:
            return (text or "").replace("\r\n", "\n").strip()

        return remote.title == rendered.title and norm(remote.body) == norm(rendered.markdown)

    # -- helpers ----------------------------------------------------------------------------------------------

    def json_of(self, resp: httpx.Response | None, what: str, *, gone: bool = False) -> Any:
        """The JSON of a successful response; ``None`` in a dry run; :class:`IssueGone` on 404/410 when
        ``gone`` (an issue we knew), :class:`PublishError` otherwise."""
        if resp is None:
            return None
        if resp.status_code in (404, 410):
            if gone:
                raise IssueGone(f"{what}: the issue is gone (HTTP {resp.status_code})")
            raise PublishError(f"{what}: HTTP {resp.status_code} (check the {self.name} target and the token's access)")
        if resp.status_code == 204 or not resp.content:
            return {}
        try:
            return resp.json()
        except ValueError:
            raise PublishError(f"{what}: the tracker did not answer JSON (HTTP {resp.status_code})") from None

    # -- the shared publish step ------------------------------------------------------------------------------

    def publish(self, finding: Finding, rendered: Rendered, run_id: int | None, store: Any) -> PublishResult:
        try:
            return self._publish(finding, rendered, run_id, store, use_mapping=True)
        except IssueGone as exc:
            # deleted, moved or reused by another issue: forget it, then find it by its marker or create one
            if not self.dry_run:
                delete_issue(store, self.name, self.target, finding.fingerprint)
            out = self._publish(finding, rendered, run_id, store, use_mapping=False)
            if isinstance(exc, IssueReused):
                out.reason = "; ".join(r for r in (str(exc), out.reason) if r)
            return out

    def _publish(self, finding: Finding, rendered: Rendered, run_id: int | None, store: Any,
                 use_mapping: bool) -> PublishResult:
        fp = finding.fingerprint
        out = PublishResult(self.name, self.target, fp, finding.status, rendered.title)
        rec = get_issue(store, self.name, self.target, fp) if use_mapping else None
        markers: tuple[str, ...] = (fp,)
        if rec is None and use_mapping and finding.inherited_from:
            # the first run after a finding split: its largest child carries the earlier issue on
            rec = get_issue(store, self.name, self.target, finding.inherited_from)
            markers = (fp, finding.inherited_from)
        filtered = None if finding.status == "resolved" else self.settings.passes(finding.severity, finding.impact.traces)
        if filtered:  # below the thresholds: leave any issue as it is, search for none
            out.skipped, out.reason = True, filtered
            if rec is not None:
                out.issue, out.url = rec.issue_key, rec.url
            return out
        remote: Remote | None = None
        if rec is not None:
            writes = finding.status in ("regressed", "resolved") or rendered.body_hash != rec.body_hash
            if writes and not self.dry_run:
                remote = self.fetch(rec.issue_key)  # its state now: a person may have closed or reopened it
                if remote is None:
                    raise IssueGone(f"issue {rec.issue_key} is gone")
                if not self.carries_marker(remote, markers):  # numbers reused after a tracker reset
                    raise IssueReused(f"issue {rec.issue_key} carries another marker or none, left as it is")
            else:
                remote = Remote(rec.issue_key, rec.issue_id, rec.url, rec.state or "open")
        else:
            remote = self.find(fp)
            if remote is not None:
                out.reason = "found by its marker"
        if remote is None:
            if finding.status == "resolved":
                out.skipped, out.reason = True, "resolved, and never published"
                return out
            remote = self._create(rendered, fp)
            out.actions.append("created")
        else:
            changed = (rendered.body_hash != rec.body_hash) if rec is not None else not self.same_content(remote, rendered)
            if changed:
                self.update(remote, rendered)
                out.actions.append("updated")
                if self.settings.comment_on_update:
                    event = finding.status if finding.status in ("regressed", "resolved") else "updated"
                    self.comment(remote, rendered, event, run_id)
                    out.actions.append("commented")
            if finding.status == "regressed" and self.settings.reopen_regressed and remote.state == "closed":
                self.reopen(remote)
                remote.state = "open"
                out.actions.append("reopened")
            if finding.status == "resolved" and self.settings.close_resolved and remote.state == "open":
                self.close(remote)
                remote.state = "closed"
                out.actions.append("closed")
            if not out.actions:
                out.skipped = True
                out.reason = out.reason or (f"unchanged since run {rec.last_run_id}" if rec and rec.last_run_id
                                            else "unchanged")
        out.issue, out.url = remote.key, remote.url
        if not self.dry_run:
            put_issue(store, IssueRecord(
                tracker=self.name, target=self.target, fingerprint=fp, issue_key=remote.key, issue_id=remote.id,
                url=remote.url, state=remote.state, body_hash=rendered.body_hash, last_status=finding.status,
                last_run_id=run_id, created_ns=rec.created_ns if rec is not None else None,
            ))
        return out

    def _create(self, rendered: Rendered, fingerprint: str) -> Remote:
        try:
            return self.create(rendered)
        except HttpError as exc:
            if not exc.maybe_sent:
                raise
            # the tracker may have created it before the connection failed: look before creating again
            log.info("%s: create of %s may have reached the server (%s); checking", self.name, fingerprint, exc)
            found = self.find(fingerprint)
            return found if found is not None else self.create(rendered)


def dry_remote(key: str = "(new)") -> Remote:
    return Remote(key=key, state="open")


def require(credentials: Credentials, env: str, what: str, dry_run: bool) -> str | None:
    """A credential by variable name; missing is an error except in a dry run."""
    value = credentials.get(env)
    if not value and not dry_run:
        raise PublishConfigError(f"{what}: set the environment variable {env} (or put it in publish.secrets_file)")
    return value
