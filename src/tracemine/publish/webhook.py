"""A generic JSON webhook: POST the finding with an HMAC-SHA256 signature of the raw body.

Events: ``created`` (first time), ``updated`` (the figures or texts changed), ``regressed`` (the finding
regressed, or came back after a ``resolved``), ``resolved``. Unchanged findings send nothing. The receiver
checks ``X-Tracemine-Signature: sha256=<hex of HMAC-SHA256(secret, raw body)>`` and may use
``X-Tracemine-Delivery`` (the same for a retried delivery) to drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson

from tracemine import __version__
from tracemine.model import Finding
from tracemine.publish.base import Publisher, PublishError, PublishResult, Remote, require
from tracemine.publish.render import Rendered
from tracemine.store.publish_records import IssueRecord, get_issue, put_issue


def sign(secret: str, body: bytes) -> str:
    """The signature header value for ``body``: ``sha256=<hex>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str | None) -> bool:
    """Constant-time check of a received signature (for receivers and tests)."""
    return bool(signature) and hmac.compare_digest(sign(secret, body), str(signature))


class WebhookPublisher(Publisher):
    name = "webhook"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cfg = self.settings.webhook
        self.secret: str | None = None

    @property
    def target(self) -> str:
        return str(self.cfg.url)

    def check(self) -> None:
        self.secret = require(self.credentials, self.cfg.secret_env, "webhook", self.dry_run)

    # a webhook has no issue to find, fetch or edit: publish() below replaces the shared step
    def find(self, fingerprint: str) -> Remote | None:
        return None

    def fetch(self, key: str) -> Remote | None:
        return None

    def create(self, rendered: Rendered) -> Remote:
        raise NotImplementedError

    def update(self, remote: Remote, rendered: Rendered) -> None:
        raise NotImplementedError

    def comment(self, remote: Remote, rendered: Rendered, event: str, run_id: int | None) -> None:
        raise NotImplementedError

    def close(self, remote: Remote) -> None:
        raise NotImplementedError

    def reopen(self, remote: Remote) -> None:
        raise NotImplementedError

    def event_for(self, finding: Finding, rendered: Rendered, rec: IssueRecord | None) -> tuple[str | None, str]:
        """The event to send (``None``: nothing) and why."""
        status = finding.status
        if rec is None:
            if status == "resolved":
                return None, "resolved, and never published"
            reason = self.settings.passes(finding.severity, finding.impact.traces)
            if reason:
                return None, reason
            return ("regressed" if status == "regressed" else "created"), ""
        if status == "resolved":
            return ("resolved", "") if rec.state != "closed" else (None, "already resolved")
        reason = self.settings.passes(finding.severity, finding.impact.traces)
        if reason:
            return None, reason
        if status == "regressed" and (rec.state == "closed" or rec.last_status != "regressed"):
            return "regressed", ""
        if rec.state == "closed":  # seen again after a resolved
            return "regressed", "back after resolved"
        if rendered.body_hash != rec.body_hash:
            return "updated", ""
        return None, f"unchanged since run {rec.last_run_id}" if rec.last_run_id else "unchanged"

    def payload(self, event: str, rendered: Rendered, run_id: int | None) -> dict[str, Any]:
        from tracemine.report.jsonout import to_dict

        return {
            "event": event,
            "fingerprint": rendered.finding.fingerprint,
            "run_id": run_id,
            "tracemine_version": __version__,
            "report_url": self.settings.report_url,
            "title": rendered.title,
            "body_markdown": rendered.markdown,
            "finding": to_dict(rendered.finding),
        }

    def publish(self, finding: Finding, rendered: Rendered, run_id: int | None, store: Any) -> PublishResult:
        fp = finding.fingerprint
        out = PublishResult(self.name, self.target, fp, finding.status, rendered.title)
        rec = get_issue(store, self.name, self.target, fp)
        event, reason = self.event_for(finding, rendered, rec)
        if event is None:
            out.skipped, out.reason = True, reason
            return out
        raw = orjson.dumps(self.payload(event, rendered, run_id), option=orjson.OPT_SORT_KEYS)
        delivery = hashlib.sha256(f"{fp}|{run_id}|{event}|{rendered.body_hash}".encode()).hexdigest()[:32]
        headers = {
            "Content-Type": "application/json",
            self.cfg.signature_header: sign(self.secret, raw) if self.secret else "sha256=<hmac>",
            "X-Tracemine-Event": event,
            "X-Tracemine-Delivery": delivery,
        }
        resp = self.http.request("POST", self.target, headers=headers, content=raw, idempotent=True,
                                 secret_headers=frozenset({self.cfg.signature_header}))
        if resp is not None and resp.status_code >= 400:
            raise PublishError(f"webhook: HTTP {resp.status_code}")
        out.actions.append({"created": "created", "updated": "updated", "regressed": "reopened",
                            "resolved": "closed"}[event])
        out.reason = f"event {event}" + (f" ({reason})" if reason else "")
        if not self.dry_run:
            put_issue(store, IssueRecord(
                tracker=self.name, target=self.target, fingerprint=fp, issue_key=fp, url=None,
                state="closed" if event == "resolved" else "open", body_hash=rendered.body_hash,
                last_status=finding.status, last_run_id=run_id,
                created_ns=rec.created_ns if rec is not None else None,
            ))
        return out
