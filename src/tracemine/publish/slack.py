"""Slack: one digest message per mine run (its new, regressed and fix-verified findings, as Block Kit),
and with a bot token, each finding's events as replies in a thread.

Two modes:

- **bot token** (``publish.slack.channel`` + ``SLACK_BOT_TOKEN``): ``chat.postMessage`` posts the digest to
  the channel; a finding's first event is a reply in the thread of the digest that listed it, and every
  later event of that fingerprint (new figures, regressed, resolved, fix verified) goes into the same
  thread — the mapping table ``publish_issues`` keeps the fingerprint's thread. Re-publishing a run
  updates its digest in place (``chat.update``) when it changed, and never posts it twice.
- **incoming webhook** (``publish.slack.incoming_webhook`` + ``SLACK_WEBHOOK_URL``): the digest only (a
  webhook cannot thread), at most once per run.

Slack answers errors with HTTP 200 and ``{"ok": false, "error": …}`` (read here as failures); 429 with
``Retry-After`` (and ``error: ratelimited``) is waited out by :mod:`.http`. A post that may have reached
Slack before the connection failed is looked for (by its message metadata) before it is sent again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from tracemine.model import Finding
from tracemine.publish.base import PublishError, PublishResult, require
from tracemine.publish.http import Http, HttpError
from tracemine.publish.render import Rendered, redacted
from tracemine.publish.settings import Credentials, PublishConfigError, PublishSettings
from tracemine.publish.slack_blocks import (
    DIGEST_SECTIONS,
    FIX_VERIFIED,
    digest_blocks,
    digest_status,
    digest_text,
    finding_blocks,
    finding_text,
)
from tracemine.redact import Redactor
from tracemine.store.publish_records import IssueRecord, get_issue, put_issue

DIGEST_STATUSES = tuple(status for status, _ in DIGEST_SECTIONS)
METADATA_EVENT = "tracemine_publish"
ACTION = {"created": "created", "updated": "updated", "regressed": "reopened", "resolved": "closed",
          FIX_VERIFIED: "closed"}


def digest_key(run_id: int | None) -> str:
    """The mapping-table key of a run's digest (in the fingerprint column; no finding has this shape)."""
    return f"digest:run-{run_id}"


def rate_limited(resp: httpx.Response) -> bool:
    """Slack's rate limit said in the body (``ok: false, error: ratelimited``) rather than with a 429."""
    if "json" not in resp.headers.get("content-type", "") or not resp.content:
        return False
    data = resp.json()
    return isinstance(data, dict) and data.get("ok") is False and data.get("error") == "ratelimited"


class SlackPublisher:
    """A :class:`~tracemine.publish.spec.DigestPublisher` (see the module docstring)."""

    name = "slack"

    def __init__(self, settings: PublishSettings, http: Http, credentials: Credentials, *,
                 redactor: Any = None, trace_url: str | None = None) -> None:
        self.settings = settings
        self.cfg = settings.slack
        self.http = http
        self.credentials = credentials
        self.redactor = redactor if redactor is not None else Redactor()
        self.trace_url = trace_url
        self.dry_run = http.dry_run
        self.bot = bool(self.cfg.channel)
        self.api = self.cfg.api_url.rstrip("/")
        self.token: str | None = None
        self.webhook_url: str | None = None
        self.digest_thread: tuple[str, str | None] | None = None
        """(ts, channel id) of this run's digest once posted or found: the thread of its findings' first events."""

    @property
    def target(self) -> str:
        return str(self.cfg.channel) if self.bot else "incoming-webhook"

    def check(self) -> None:
        if self.bot:
            self.token = require(self.credentials, self.cfg.token_env, "slack", self.dry_run)
            return
        url = require(self.credentials, self.cfg.webhook_url_env, "slack", self.dry_run)
        if url:
            if not url.startswith(("https://", "http://")):
                raise PublishConfigError(f"slack: {self.cfg.webhook_url_env} must be an http(s) URL")
            path = urlsplit(url).path
            if len(path) > 8:
                self.credentials.remember(path)  # the URL's path is the secret: masked in errors and logs too
        self.webhook_url = url

    # -- the run digest -------------------------------------------------------------------------------------

    def digest_findings(self, findings: Sequence[Finding]) -> list[Finding]:
        """The findings the digest lists (redacted): new and regressed ones above the thresholds, and those
        whose fix was verified."""
        listed = [f for f in findings if digest_status(f) in DIGEST_STATUSES and (
            digest_status(f) == FIX_VERIFIED or self.settings.passes(f.severity, f.impact.traces) is None)]
        return [redacted(f, self.redactor) for f in listed]

    def publish_digest(self, findings: Sequence[Finding], run_id: int, store: Any) -> PublishResult:
        key = digest_key(run_id)
        listed = self.digest_findings(findings)
        out = PublishResult(self.name, self.target, key, "digest", digest_text(run_id, listed))
        text = self.redactor.redact(digest_text(run_id, listed))
        blocks = digest_blocks(listed, run_id, self.settings.report_url, self.cfg.max_digest_items, threads=self.bot)
        body_hash = hashlib.sha256(orjson.dumps({"text": text, "blocks": blocks})).hexdigest()
        rec = get_issue(store, self.name, self.target, key)
        if rec is not None:  # this run's digest is out already: never post it twice
            self.digest_thread = (rec.issue_key, rec.issue_id)
            out.issue = rec.issue_key
            if self.bot and rec.body_hash != body_hash and listed:
                self._api("chat.update", {"channel": rec.issue_id or self.cfg.channel, "ts": rec.issue_key,
                                          "text": text, "blocks": blocks}, "update the digest", idempotent=True)
                out.actions.append("updated")
                self._record(store, rec, key, rec.issue_key, rec.issue_id, body_hash, "digest", run_id)
            else:
                out.skipped, out.reason = True, f"digest of run {run_id} already posted"
            return out
        if not listed:
            out.skipped, out.reason = True, "nothing new, regressed or fix-verified"
            return out
        message = {"text": text, "blocks": blocks, "unfurl_links": False, "unfurl_media": False}
        if self.bot:
            posted = self._post({**message, "channel": self.cfg.channel}, key, None)
            ts, channel = (posted["ts"], posted.get("channel")) if posted else ("<digest ts>", self.cfg.channel)
        else:
            self._webhook_post(message)
            ts, channel = "posted", None
        self.digest_thread = (ts, channel)
        out.actions.append("created")
        out.issue = ts if self.bot else None
        out.reason = f"{len(listed)} finding(s) listed"
        self._record(store, None, key, ts, channel, body_hash, "digest", run_id)
        return out

    # -- one finding: its thread -----------------------------------------------------------------------------

    def event_for(self, finding: Finding, rendered: Rendered, rec: IssueRecord | None) -> tuple[str | None, str]:
        """The event to post in the finding's thread (``None``: nothing) and why."""
        status = digest_status(finding)
        if status not in ("resolved", FIX_VERIFIED):
            reason = self.settings.passes(finding.severity, finding.impact.traces)
            if reason:
                return None, reason
        if rec is None:
            if status in DIGEST_STATUSES:
                return "created", ""
            return None, "no thread yet: a thread starts when a digest lists the finding"
        if status == "resolved":
            return ("resolved", "") if rec.state != "closed" else (None, "already resolved")
        if status == FIX_VERIFIED:
            return (FIX_VERIFIED, "") if rec.last_status != FIX_VERIFIED else (None, "fix already verified")
        if status == "regressed" and (rec.state == "closed" or rec.last_status != "regressed"):
            return "regressed", ""
        if rec.state == "closed":
            return "regressed", "back after resolved"
        if rendered.body_hash != rec.body_hash:
            return "updated", ""
        return None, f"unchanged since run {rec.last_run_id}" if rec.last_run_id else "unchanged"

    def publish(self, finding: Finding, rendered: Rendered, run_id: int, store: Any) -> PublishResult:
        fp = finding.fingerprint
        out = PublishResult(self.name, self.target, fp, finding.status, rendered.title)
        if not self.bot:
            listed = finding.status in DIGEST_STATUSES
            out.skipped = True
            out.reason = "in the run digest (an incoming webhook has no threads)" if listed else "not a digest entry"
            return out
        rec = get_issue(store, self.name, self.target, fp)
        event, reason = self.event_for(finding, rendered, rec)
        if event is None:
            out.skipped, out.reason = True, reason
            if rec is not None:
                out.issue = rec.issue_key
            return out
        thread = (rec.issue_key, rec.issue_id) if rec is not None else self.digest_thread
        if thread is None:
            raise PublishError("slack: the run's digest was not posted, so the finding has no thread yet")
        ts, channel = thread
        blocks = finding_blocks(rendered.finding, event, run_id, self.settings.report_url)
        message = {"channel": channel or self.cfg.channel, "thread_ts": ts, "text": finding_text(finding, event, run_id),
                   "blocks": blocks, "unfurl_links": False, "unfurl_media": False}
        self._post(message, f"{fp}|run-{run_id}|{event}|{rendered.body_hash}", ts)
        out.actions.append(ACTION[event])
        out.issue = ts
        out.reason = f"event {event} in the thread" + (f" ({reason})" if reason else "")
        state = "closed" if event in ("resolved", FIX_VERIFIED) else "open"
        self._record(store, rec, fp, ts, channel, rendered.body_hash, finding.status, run_id, state)
        return out

    # -- Slack ----------------------------------------------------------------------------------------------

    def _record(self, store: Any, rec: IssueRecord | None, key: str, ts: str, channel: str | None,
                body_hash: str, status: str, run_id: int | None, state: str = "open") -> None:
        if self.dry_run:
            return
        put_issue(store, IssueRecord(
            tracker=self.name, target=self.target, fingerprint=key, issue_key=ts, issue_id=channel, url=None,
            state=state, body_hash=body_hash, last_status=status, last_run_id=run_id,
            created_ns=rec.created_ns if rec is not None else None,
        ))

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token or '<' + self.cfg.token_env + '>'}",
                "Content-Type": "application/json; charset=utf-8"}

    def _api(self, method: str, payload: dict[str, Any], what: str, *, idempotent: bool = False) -> dict[str, Any] | None:
        """A Web API call (JSON body); ``None`` in a dry run; :class:`PublishError` on ``ok: false``."""
        resp = self.http.request("POST", f"{self.api}/{method}", headers=self._headers(), json=payload,
                                 idempotent=idempotent, rate_limited=rate_limited)
        return _answer(resp, method, what)

    def _read(self, method: str, params: dict[str, Any], what: str) -> dict[str, Any] | None:
        resp = self.http.request("GET", f"{self.api}/{method}", headers={"Authorization": self._headers()["Authorization"]},
                                 params=params, rate_limited=rate_limited)
        return _answer(resp, method, what)

    def _post(self, message: dict[str, Any], key: str, thread_ts: str | None) -> dict[str, Any] | None:
        """``chat.postMessage`` carrying ``key`` in its metadata; when the post may have reached Slack before
        the connection failed, the message is looked for by that key before it is sent again."""
        message = {**message, "metadata": {"event_type": METADATA_EVENT, "event_payload": {"key": key}}}
        what = "post a thread reply" if thread_ts else "post the digest"
        try:
            return self._api("chat.postMessage", message, what)
        except HttpError as exc:
            if not exc.maybe_sent:
                raise
            found = self._find_posted(str(message["channel"]), key, thread_ts)
            return found if found is not None else self._api("chat.postMessage", message, what)

    def _find_posted(self, channel: str, key: str, thread_ts: str | None) -> dict[str, Any] | None:
        params: dict[str, Any] = {"channel": channel, "include_all_metadata": "true", "limit": 100}
        try:
            if thread_ts:
                data = self._read("conversations.replies", {**params, "ts": thread_ts}, "read the thread")
            else:
                data = self._read("conversations.history", params, "read the channel")
        except (HttpError, PublishError):
            return None  # e.g. no channels:history scope: post again rather than lose the message
        for msg in (data or {}).get("messages") or []:
            meta = msg.get("metadata") or {}
            if meta.get("event_type") == METADATA_EVENT and (meta.get("event_payload") or {}).get("key") == key:
                return {"ts": msg.get("ts"), "channel": channel}
        return None

    def _webhook_post(self, message: dict[str, Any]) -> None:
        url = self.webhook_url or f"<{self.cfg.webhook_url_env}>"
        resp = self.http.request("POST", url, headers={"Content-Type": "application/json"}, json=message,
                                 idempotent=False)
        if resp is not None and resp.status_code >= 400:
            raise PublishError(f"slack: the incoming webhook answered HTTP {resp.status_code} "
                               f"(check {self.cfg.webhook_url_env})")


def _answer(resp: httpx.Response | None, method: str, what: str) -> dict[str, Any] | None:
    if resp is None:
        return None
    if resp.status_code >= 400:
        raise PublishError(f"slack: {what}: {method} answered HTTP {resp.status_code}")
    try:
        data = resp.json()
    except ValueError:
        raise PublishError(f"slack: {what}: {method} did not answer JSON (HTTP {resp.status_code})") from None
    if not isinstance(data, dict) or not data.get("ok"):
        error = data.get("error") if isinstance(data, dict) else None
        raise PublishError(f"slack: {what}: {method} failed: {error or 'no ok in the answer'}")
    return data
