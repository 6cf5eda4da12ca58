"""Jira Cloud (REST v3): JQL search by label or marker, create with an ADF description, edit, comment,
and transitions by name (``done_transition`` to close, ``reopen_transition`` to reopen)."""

from __future__ import annotations

import base64
import re
from typing import Any

from tracemine.publish.base import Publisher, PublishError, Remote, dry_remote, require
from tracemine.publish.http import HttpError
from tracemine.publish.render import Rendered, has_marker, jira_label, marker_text

_LABEL_SAFE = re.compile(r"\s+")


def adf_text(node: Any) -> str:
    """The plain text of an ADF document (to look for the marker in a description)."""
    if isinstance(node, dict):
        if node.get("type") == "text":
            return str(node.get("text", ""))
        return " ".join(adf_text(c) for c in node.get("content", []) or [])
    if isinstance(node, list):
        return " ".join(adf_text(c) for c in node)
    return str(node) if isinstance(node, str) else ""


def _jql_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class JiraPublisher(Publisher):
    name = "jira"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cfg = self.settings.jira
        self.base = str(self.cfg.base_url or "").rstrip("/")
        self.auth: str | None = None

    @property
    def target(self) -> str:
        return f"{self.base}/{self.cfg.project_key}"

    def check(self) -> None:
        email = require(self.credentials, self.cfg.email_env, "jira", self.dry_run)
        token = require(self.credentials, self.cfg.token_env, "jira", self.dry_run)
        if email and token:
            self.auth = "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()
            self.credentials.remember(self.auth.split(" ", 1)[1])  # mask the encoded pair too

    def _call(self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None,
              idempotent: bool | None = None) -> Any:
        headers = {"Authorization": self.auth or f"Basic <{self.cfg.email_env}:{self.cfg.token_env}>",
                   "Accept": "application/json"}
        return self.http.request(method, f"{self.base}/rest/api/3{path}", headers=headers, json=json,
                                 params=params, idempotent=idempotent)

    def _labels(self, fingerprint: str) -> list[str]:
        labels = [_LABEL_SAFE.sub("-", label) for label in self.settings.labels]
        return [*labels, jira_label(fingerprint)]

    def _remote(self, issue: dict[str, Any]) -> Remote:
        fields = issue.get("fields") or {}
        category = ((fields.get("status") or {}).get("statusCategory") or {}).get("key")
        description = fields.get("description")
        return Remote(key=str(issue["key"]), id=str(issue.get("id")) if issue.get("id") is not None else None,
                      url=f"{self.base}/browse/{issue['key']}", state="closed" if category == "done" else "open",
                      title=fields.get("summary"), body=adf_text(description) if description else None,
                      labels=[str(label) for label in fields.get("labels") or ()])

    def find(self, fingerprint: str) -> Remote | None:
        label = jira_label(fingerprint)
        project = f"project = {_jql_string(str(self.cfg.project_key))}"
        queries = [
            f"{project} AND labels = {_jql_string(label)} ORDER BY created ASC",
            # the label may have been removed by hand: the marker in the description (a phrase search)
            f"{project} AND description ~ {_jql_string(_jql_string(marker_text(fingerprint)))} ORDER BY created ASC",
        ]
        for n, jql in enumerate(queries):
            try:
                data = self.json_of(self._call("POST", "/search/jql", json={
                    "jql": jql, "fields": ["summary", "status", "labels", "description"], "maxResults": 20,
                }, idempotent=True), "search")
            except (HttpError, PublishError):
                if n == 0:
                    raise
                return None  # a site may reject the text search: the label search already answered
            for issue in (data or {}).get("issues", []) or []:
                fields = issue.get("fields") or {}
                if label in (fields.get("labels") or []) or has_marker(adf_text(fields.get("description")), fingerprint):
                    return self._remote(issue)
            if data is None:  # dry run: one search shown is enough
                return None
        return None

    def fetch(self, key: str) -> Remote | None:
        resp = self._call("GET", f"/issue/{key}", params={"fields": "summary,status,labels,description"})
        if resp is not None and resp.status_code in (404, 410):
            return None
        data = self.json_of(resp, f"issue {key}")
        return self._remote(data) if data else dry_remote(key)

    def carries_marker(self, remote: Remote, fingerprints: tuple[str, ...]) -> bool:
        """The finding's label, else the marker in the description (a label removed by hand)."""
        return any(jira_label(fp) in remote.labels or has_marker(remote.body, fp) for fp in fingerprints)

    def same_content(self, remote: Remote, rendered: Rendered) -> bool:
        return False  # Jira reshapes ADF: a recovered issue is rewritten once, then tracked by body hash

    def create(self, rendered: Rendered) -> Remote:
        fields: dict[str, Any] = {
            "project": {"key": self.cfg.project_key},
            "issuetype": {"name": self.cfg.issue_type},
            "summary": rendered.title,
            "description": rendered.adf,
            "labels": self._labels(rendered.finding.fingerprint),
        }
        if self.settings.assignees:
            fields["assignee"] = {"accountId": self.settings.assignees[0]}
        data = self.json_of(self._call("POST", "/issue", json={"fields": fields}, idempotent=False), "create issue")
        if not data:
            return dry_remote()
        return Remote(key=str(data["key"]), id=str(data.get("id")), url=f"{self.base}/browse/{data['key']}")

    def update(self, remote: Remote, rendered: Rendered) -> None:
        self.json_of(self._call("PUT", f"/issue/{remote.key}", json={
            "fields": {"summary": rendered.title, "description": rendered.adf},
            "update": {"labels": [{"add": jira_label(rendered.finding.fingerprint)}]},
        }), f"update issue {remote.key}", gone=True)

    def comment(self, remote: Remote, rendered: Rendered, event: str, run_id: int | None) -> None:
        self.json_of(self._call("POST", f"/issue/{remote.key}/comment",
                                json={"body": rendered.comment_adf(event, run_id)}, idempotent=False),
                     f"comment on issue {remote.key}", gone=True)

    def _transition(self, remote: Remote, name: str) -> None:
        data = self.json_of(self._call("GET", f"/issue/{remote.key}/transitions"), f"transitions of {remote.key}",
                            gone=True)
        if data is None:  # dry run: show the transition by name
            self._call("POST", f"/issue/{remote.key}/transitions", json={"transition": {"id": f"<{name}>"}})
            return
        wanted = name.casefold()
        options = data.get("transitions") or []
        match = next((t for t in options if str(t.get("name", "")).casefold() == wanted), None) or next(
            (t for t in options if str((t.get("to") or {}).get("name", "")).casefold() == wanted), None)
        if match is None:
            names = ", ".join(repr(t.get("name")) for t in options) or "none"
            raise PublishError(f"jira: issue {remote.key} has no transition named {name!r} (available: {names})")
        self.json_of(self._call("POST", f"/issue/{remote.key}/transitions",
                                json={"transition": {"id": str(match["id"])}}), f"transition {remote.key}", gone=True)

    def close(self, remote: Remote) -> None:
        self._transition(remote, self.cfg.done_transition)

    def reopen(self, remote: Remote) -> None:
        self._transition(remote, self.cfg.reopen_transition)
