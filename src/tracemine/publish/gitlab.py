"""GitLab Issues (REST v4): search by marker, list, create, edit (incl. ``state_event`` close/reopen), notes."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tracemine.publish.base import Publisher, PublishError, Remote, dry_remote, require
from tracemine.publish.http import HttpError
from tracemine.publish.render import Rendered, has_marker, marker_text

MAX_LIST_PAGES = 10


class GitlabPublisher(Publisher):
    name = "gitlab"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cfg = self.settings.gitlab
        self.api = self.cfg.api_url.rstrip("/")
        self.token: str | None = None
        self._assignee_ids: list[int] | None = None

    @property
    def target(self) -> str:
        return str(self.cfg.project)

    def check(self) -> None:
        self.token = require(self.credentials, self.cfg.token_env, "gitlab", self.dry_run)

    def _call(self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None,
              idempotent: bool | None = None) -> Any:
        headers = {"PRIVATE-TOKEN": self.token or f"<{self.cfg.token_env}>", "Accept": "application/json"}
        return self.http.request(method, f"{self.api}{path}", headers=headers, json=json, params=params,
                                 idempotent=idempotent)

    def _issues(self) -> str:
        return f"/projects/{quote(str(self.cfg.project), safe='')}/issues"

    @staticmethod
    def _remote(item: dict[str, Any]) -> Remote:
        return Remote(key=str(item["iid"]), id=str(item.get("id")) if item.get("id") is not None else None,
                      url=item.get("web_url"), state="closed" if item.get("state") == "closed" else "open",
                      title=item.get("title"), body=item.get("description"))

    def find(self, fingerprint: str) -> Remote | None:
        try:
            items = self.json_of(self._call("GET", self._issues(), params={
                "search": marker_text(fingerprint), "in": "description", "scope": "all", "per_page": 20}), "search")
        except (HttpError, PublishError):
            items = None
        for item in items or []:
            if has_marker(item.get("description"), fingerprint):
                return self._remote(item)
        params: dict[str, Any] = {"scope": "all", "per_page": 100}
        if self.settings.labels:
            params["labels"] = ",".join(self.settings.labels)
        for page in range(1, MAX_LIST_PAGES + 1):
            items = self.json_of(self._call("GET", self._issues(), params={**params, "page": page}), "list issues")
            if not items:
                return None
            for item in items:
                if has_marker(item.get("description"), fingerprint):
                    return self._remote(item)
            if len(items) < params["per_page"]:
                return None
        return None

    def fetch(self, key: str) -> Remote | None:
        resp = self._call("GET", f"{self._issues()}/{key}")
        if resp is not None and resp.status_code in (404, 410):
            return None
        data = self.json_of(resp, f"issue #{key}")
        return self._remote(data) if data else dry_remote(key)

    def _assignees(self) -> list[int]:
        """``publish.assignees`` as user ids: numbers as they are, usernames looked up once."""
        if self._assignee_ids is None:
            ids: list[int] = []
            for name in self.settings.assignees:
                if name.isdigit():
                    ids.append(int(name))
                    continue
                users = self.json_of(self._call("GET", "/users", params={"username": name.lstrip("@")}),
                                     f"look up user {name}")
                if users:
                    ids.append(int(users[0]["id"]))
                elif users is not None:
                    raise PublishError(f"gitlab: no user named {name!r} (publish.assignees)")
            self._assignee_ids = ids
        return self._assignee_ids

    def create(self, rendered: Rendered) -> Remote:
        body: dict[str, Any] = {"title": rendered.title, "description": rendered.markdown,
                                "labels": ",".join(self.settings.labels)}
        assignees = self._assignees()
        if assignees:
            body["assignee_ids"] = assignees
        data = self.json_of(self._call("POST", self._issues(), json=body, idempotent=False), "create issue")
        return self._remote(data) if data else dry_remote()

    def _edit(self, remote: Remote, body: dict[str, Any], what: str) -> None:
        self.json_of(self._call("PUT", f"{self._issues()}/{remote.key}", json=body), f"{what} issue #{remote.key}",
                     gone=True)

    def update(self, remote: Remote, rendered: Rendered) -> None:
        self._edit(remote, {"title": rendered.title, "description": rendered.markdown}, "update")

    def comment(self, remote: Remote, rendered: Rendered, event: str, run_id: int | None) -> None:
        self.json_of(self._call("POST", f"{self._issues()}/{remote.key}/notes",
                                json={"body": rendered.comment_markdown(event, run_id)}, idempotent=False),
                     f"comment on issue #{remote.key}", gone=True)

    def close(self, remote: Remote) -> None:
        self._edit(remote, {"state_event": "close"}, "close")

    def reopen(self, remote: Remote) -> None:
        self._edit(remote, {"state_event": "reopen"}, "reopen")
