"""GitHub Issues (REST): search by marker, list, create, update (PATCH), comment, close/reopen by state."""

from __future__ import annotations

from typing import Any

from tracemine.publish.base import Publisher, PublishError, Remote, dry_remote, require
from tracemine.publish.http import HttpError
from tracemine.publish.render import Rendered, has_marker, marker_text

MAX_LIST_PAGES = 10


class GithubPublisher(Publisher):
    name = "github"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cfg = self.settings.github
        self.api = self.cfg.api_url.rstrip("/")
        self.token: str | None = None

    @property
    def target(self) -> str:
        return str(self.cfg.repo)

    def check(self) -> None:
        self.token = require(self.credentials, self.cfg.token_env, "github", self.dry_run)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        headers["Authorization"] = f"Bearer {self.token or '<' + self.cfg.token_env + '>'}"
        return headers

    def _call(self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None,
              idempotent: bool | None = None) -> Any:
        return self.http.request(method, f"{self.api}{path}", headers=self._headers(), json=json, params=params,
                                 idempotent=idempotent)

    def _issues(self) -> str:
        return f"/repos/{self.cfg.repo}/issues"

    @staticmethod
    def _remote(item: dict[str, Any]) -> Remote:
        return Remote(key=str(item["number"]), id=str(item.get("id")) if item.get("id") is not None else None,
                      url=item.get("html_url"), state="closed" if item.get("state") == "closed" else "open",
                      title=item.get("title"), body=item.get("body"))

    def find(self, fingerprint: str) -> Remote | None:
        query = f'repo:{self.cfg.repo} is:issue in:body "{marker_text(fingerprint)}"'
        try:
            data = self.json_of(self._call("GET", "/search/issues", params={"q": query, "per_page": 20}), "search")
        except (HttpError, PublishError):  # the search API may be unavailable or limited: list instead
            data = None
        for item in (data or {}).get("items", []) or []:
            if "pull_request" not in item and has_marker(item.get("body"), fingerprint):
                return self._remote(item)
        # the search index lags behind new issues: list the issues carrying our labels too
        params: dict[str, Any] = {"state": "all", "per_page": 100}
        if self.settings.labels:
            params["labels"] = ",".join(self.settings.labels)
        for page in range(1, MAX_LIST_PAGES + 1):
            items = self.json_of(self._call("GET", self._issues(), params={**params, "page": page}), "list issues")
            if not items:
                return None
            for item in items:
                if "pull_request" not in item and has_marker(item.get("body"), fingerprint):
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

    def create(self, rendered: Rendered) -> Remote:
        body: dict[str, Any] = {"title": rendered.title, "body": rendered.markdown, "labels": self.settings.labels}
        if self.settings.assignees:
            body["assignees"] = self.settings.assignees
        data = self.json_of(self._call("POST", self._issues(), json=body, idempotent=False), "create issue")
        return self._remote(data) if data else dry_remote()

    def update(self, remote: Remote, rendered: Rendered) -> None:
        self.json_of(self._call("PATCH", f"{self._issues()}/{remote.key}",
                                json={"title": rendered.title, "body": rendered.markdown}),
                     f"update issue #{remote.key}", gone=True)

    def comment(self, remote: Remote, rendered: Rendered, event: str, run_id: int | None) -> None:
        self.json_of(self._call("POST", f"{self._issues()}/{remote.key}/comments",
                                json={"body": rendered.comment_markdown(event, run_id)}, idempotent=False),
                     f"comment on issue #{remote.key}", gone=True)

    def close(self, remote: Remote) -> None:
        self.json_of(self._call("PATCH", f"{self._issues()}/{remote.key}",
                                json={"state": "closed", "state_reason": "completed"}),
                     f"close issue #{remote.key}", gone=True)

    def reopen(self, remote: Remote) -> None:
        self.json_of(self._call("PATCH", f"{self._issues()}/{remote.key}", json={"state": "open"}),
                     f"reopen issue #{remote.key}", gone=True)
