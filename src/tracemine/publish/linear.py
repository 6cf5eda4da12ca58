"""Linear (GraphQL): one issue per finding in a team, found again by the marker in its description,
labelled with ``publish.labels``, moved to a completed workflow state when resolved and back to an
unstarted (or started) one when regressed.

Linear answers GraphQL errors with HTTP 200 and an ``errors`` array (read here as failures), and rate
limits with a ``RATELIMITED`` error code (HTTP 400 or 429: waited out and retried by :mod:`.http`).
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from tracemine.publish.base import IssueGone, Publisher, PublishError, Remote, dry_remote, require
from tracemine.publish.render import Rendered, has_marker, marker, marker_text

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
CLOSED_TYPES = frozenset({"completed", "canceled"})
PRIORITY = {"critical": 1, "high": 2, "medium": 3, "low": 4}

ISSUE_FIELDS = "id identifier url title description trashed state { id name type }"
TEAM_QUERY = ("query Team($filter: TeamFilter) { teams(filter: $filter, first: 2) { nodes { id key name "
              "states(first: 100) { nodes { id name type position } } } } }")
LABELS_QUERY = ("query Labels($filter: IssueLabelFilter) { issueLabels(filter: $filter, first: 250) "
                "{ nodes { id name team { id } } } }")
LABEL_CREATE = ("mutation LabelCreate($input: IssueLabelCreateInput!) { issueLabelCreate(input: $input) "
                "{ success issueLabel { id name } } }")
FIND_QUERY = (f"query Find($filter: IssueFilter) {{ issues(filter: $filter, first: 20, includeArchived: true) "
              f"{{ nodes {{ {ISSUE_FIELDS} }} }} }}")
ISSUE_QUERY = f"query Issue($id: String!) {{ issue(id: $id) {{ {ISSUE_FIELDS} }} }}"
CREATE = (f"mutation Create($input: IssueCreateInput!) {{ issueCreate(input: $input) "
          f"{{ success issue {{ {ISSUE_FIELDS} }} }} }}")
UPDATE = (f"mutation Update($id: String!, $input: IssueUpdateInput!) {{ issueUpdate(id: $id, input: $input) "
          f"{{ success issue {{ {ISSUE_FIELDS} }} }} }}")
COMMENT = ("mutation Comment($input: CommentCreateInput!) { commentCreate(input: $input) "
           "{ success comment { id } } }")


def rate_limited(resp: httpx.Response) -> bool:
    """Whether Linear's answer is its rate limit (a ``RATELIMITED`` GraphQL error, any HTTP status)."""
    if not resp.content or "json" not in resp.headers.get("content-type", ""):
        return False
    data = resp.json()
    errors = data.get("errors") if isinstance(data, dict) else None
    return any(_code(e) == "RATELIMITED" for e in errors or () if isinstance(e, dict))


def _code(error: dict[str, Any]) -> str:
    return str((error.get("extensions") or {}).get("code") or "").upper()


def _not_found(error: dict[str, Any]) -> bool:
    text = f"{error.get('message', '')} {(error.get('extensions') or {}).get('userPresentableMessage', '')}".lower()
    return "not found" in text or "could not find" in text or _code(error) in ("NOT_FOUND", "ENTITY_NOT_FOUND")


def _authorization(token: str | None) -> str | None:
    """A personal API key is sent as it is; an OAuth access token (``lin_oauth_…``) as a bearer token."""
    return f"Bearer {token}" if token and token.startswith("lin_oauth_") else token


def description(rendered: Rendered) -> str:
    """The issue description: the Markdown body with the marker visible (Linear drops HTML comments)."""
    fp = rendered.finding.fingerprint
    return rendered.markdown.replace(marker(fp), f"`{marker_text(fp)}`", 1)


class LinearPublisher(Publisher):
    name = "linear"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cfg = self.settings.linear
        self.api = self.cfg.api_url
        self.token: str | None = None
        self._team: dict[str, Any] | None = None
        self._team_planned = False
        self._label_ids: list[str] | None = None

    @property
    def target(self) -> str:
        return str(self.cfg.team)

    def check(self) -> None:
        self.token = require(self.credentials, self.cfg.token_env, "linear", self.dry_run)

    # -- GraphQL ------------------------------------------------------------------------------------------

    def _gql(self, query: str, variables: dict[str, Any], what: str, *, mutation: bool = False,
             idempotent: bool = True, gone: bool = False) -> dict[str, Any] | None:
        """``data`` of a GraphQL request; ``None`` in a dry run. GraphQL errors (HTTP 200 included) raise
        :class:`PublishError` (:class:`IssueGone` for a missing issue when ``gone``)."""
        headers = {"Authorization": _authorization(self.token) or f"<{self.cfg.token_env}>", "Accept": "application/json"}
        resp = self.http.request("POST", self.api, headers=headers, json={"query": query, "variables": variables},
                                 idempotent=idempotent or not mutation, rate_limited=rate_limited)
        body = self.json_of(resp, what)
        if body is None:
            return None
        errors = [e for e in body.get("errors") or () if isinstance(e, dict)] if isinstance(body, dict) else []
        if errors:
            if gone and any(_not_found(e) for e in errors):
                raise IssueGone(f"{what}: the issue is gone")
            messages = "; ".join(str(e.get("message", "error")) for e in errors)[:300]
            raise PublishError(self.http.mask(f"linear: {what}: {messages}"))
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise PublishError(f"linear: {what}: no data in the answer")
        return data

    def _mutate(self, query: str, variables: dict[str, Any], field: str, what: str, *,
                idempotent: bool = False, gone: bool = False) -> dict[str, Any] | None:
        data = self._gql(query, variables, what, mutation=True, idempotent=idempotent, gone=gone)
        if data is None:
            return None
        result = data.get(field) or {}
        if not result.get("success"):
            raise PublishError(f"linear: {what}: Linear did not accept it")
        return result

    # -- the team, its workflow states and labels --------------------------------------------------------

    def team(self) -> dict[str, Any] | None:
        """The team (``id``, ``key``, ``states``) named by ``publish.linear.team``; ``None`` in a dry run."""
        if self._team is None and not self._team_planned:
            team = str(self.cfg.team)
            field = "id" if _UUID.match(team) else "key"
            data = self._gql(TEAM_QUERY, {"filter": {field: {"eq": team}}}, f"team {team}")
            if data is None:  # a dry run: the lookup is shown once
                self._team_planned = True
                return None
            nodes = (data.get("teams") or {}).get("nodes") or []
            if not nodes:
                raise PublishError(f"linear: no team with {field} {team!r} (check publish.linear.team and the key's access)")
            self._team = nodes[0]
        return self._team

    def _team_id(self) -> str:
        team = self.team()
        return str(team["id"]) if team else f"<team {self.cfg.team}>"

    def state(self, wanted: str | None, types: tuple[str, ...]) -> str:
        """The id of the workflow state named ``wanted``, else of the first (by position) of ``types``."""
        team = self.team()
        if team is None:
            return f"<{wanted or types[0]} state>"
        states = sorted(((team.get("states") or {}).get("nodes") or []), key=lambda s: s.get("position") or 0)
        if wanted:
            match = next((s for s in states if str(s.get("name", "")).casefold() == wanted.casefold()), None)
            if match is None:
                names = ", ".join(repr(s.get("name")) for s in states) or "none"
                raise PublishError(f"linear: team {self.cfg.team} has no workflow state named {wanted!r} "
                                   f"(available: {names})")
            return str(match["id"])
        for kind in types:
            match = next((s for s in states if s.get("type") == kind), None)
            if match is not None:
                return str(match["id"])
        raise PublishError(f"linear: team {self.cfg.team} has no workflow state of type {' or '.join(types)}")

    def label_ids(self) -> list[str]:
        """The ids of ``publish.labels`` (the team's or the workspace's), created when missing."""
        if self._label_ids is not None:
            return self._label_ids
        names = list(self.settings.labels)
        if not names:
            self._label_ids = []
            return []
        team_id = self._team_id()
        data = self._gql(LABELS_QUERY, {"filter": {"name": {"in": names}}}, "labels")
        if data is None:
            self._label_ids = [f"<label {n}>" for n in names]
            return self._label_ids
        found: dict[str, str] = {}
        for label in (data.get("issueLabels") or {}).get("nodes") or []:
            owner = (label.get("team") or {}).get("id")
            if owner in (None, team_id) and label.get("name") in names:
                found.setdefault(label["name"], str(label["id"]))
        for name in names:
            if name not in found and self.cfg.create_labels:
                created = self._mutate(LABEL_CREATE, {"input": {"name": name, "teamId": team_id}},
                                       "issueLabelCreate", f"create label {name}")
                if created:
                    found[name] = str(created["issueLabel"]["id"])
        self._label_ids = [found[n] for n in names if n in found]
        return self._label_ids

    # -- the issue ------------------------------------------------------------------------------------------

    @staticmethod
    def _remote(issue: dict[str, Any]) -> Remote:
        kind = (issue.get("state") or {}).get("type")
        return Remote(key=str(issue.get("identifier") or issue["id"]), id=str(issue["id"]), url=issue.get("url"),
                      state="closed" if kind in CLOSED_TYPES else "open", title=issue.get("title"),
                      body=issue.get("description"))

    def find(self, fingerprint: str) -> Remote | None:
        flt = {"team": {"id": {"eq": self._team_id()}}, "description": {"contains": marker_text(fingerprint)}}
        data = self._gql(FIND_QUERY, {"filter": flt}, "search")
        for issue in ((data or {}).get("issues") or {}).get("nodes") or []:
            if not issue.get("trashed") and has_marker(issue.get("description"), fingerprint):
                return self._remote(issue)
        return None

    def fetch(self, key: str) -> Remote | None:
        try:
            data = self._gql(ISSUE_QUERY, {"id": key}, f"issue {key}", gone=True)
        except IssueGone:
            return None
        if data is None:
            return dry_remote(key)
        issue = data.get("issue")
        return None if not issue or issue.get("trashed") else self._remote(issue)

    def carries_marker(self, remote: Remote, fingerprints: tuple[str, ...]) -> bool:
        return any(has_marker(remote.body, fp) for fp in fingerprints)

    def same_content(self, remote: Remote, rendered: Rendered) -> bool:
        def norm(text: str | None) -> str:
            return (text or "").replace("\r\n", "\n").strip()

        return remote.title == rendered.title and norm(remote.body) == norm(description(rendered))

    def create(self, rendered: Rendered) -> Remote:
        fields: dict[str, Any] = {"teamId": self._team_id(), "title": rendered.title,
                                  "description": description(rendered), "labelIds": self.label_ids()}
        if self.cfg.priority_from_severity:
            fields["priority"] = PRIORITY.get(rendered.finding.severity, 0)
        if self.settings.assignees:
            fields["assigneeId"] = self.settings.assignees[0]
        result = self._mutate(CREATE, {"input": fields}, "issueCreate", "create issue")
        return self._remote(result["issue"]) if result else dry_remote()

    def _update(self, remote: Remote, fields: dict[str, Any], what: str) -> None:
        self._mutate(UPDATE, {"id": remote.id or remote.key, "input": fields}, "issueUpdate",
                     f"{what} {remote.key}", idempotent=True, gone=True)

    def update(self, remote: Remote, rendered: Rendered) -> None:
        self._update(remote, {"title": rendered.title, "description": description(rendered)}, "update issue")

    def comment(self, remote: Remote, rendered: Rendered, event: str, run_id: int | None) -> None:
        self._mutate(COMMENT, {"input": {"issueId": remote.id or remote.key,
                                         "body": rendered.comment_markdown(event, run_id)}},
                     "commentCreate", f"comment on issue {remote.key}", gone=True)

    def close(self, remote: Remote) -> None:
        self._update(remote, {"stateId": self.state(self.cfg.done_state, ("completed",))}, "close issue")

    def reopen(self, remote: Remote) -> None:
        self._update(remote, {"stateId": self.state(self.cfg.reopen_state, ("unstarted", "started"))},
                     "reopen issue")
