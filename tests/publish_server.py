"""A fake GitHub / GitLab / Jira / webhook server on 127.0.0.1 for the publish tests.

Issues live in memory; every request is recorded (method, path, query, headers, JSON body). ``fail`` rules
make chosen requests answer an error a given number of times (429 with Retry-After, 500, 422…).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

MARKER = re.compile(r"tracemine:fingerprint=(tm-[A-Za-z0-9_-]+)")


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    raw: bytes


@dataclass
class FailRule:
    method: str
    path: str  # regex on the path
    status: int
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    body_contains: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    delay_s: float = 0.0


class FakeTrackers:
    def __init__(self, token: str = "t0ken", jira_email: str = "bot@example.com", jira_token: str = "jtok",
                 webhook_secret: str = "whsec") -> None:
        self.token = token
        self.jira_auth = "Basic " + base64.b64encode(f"{jira_email}:{jira_token}".encode()).decode()
        self.webhook_secret = webhook_secret
        self.requests: list[Recorded] = []
        self.rules: list[FailRule] = []
        self.github: dict[int, dict[str, Any]] = {}
        self.github_comments: dict[int, list[str]] = {}
        self.github_numbers = itertools.count(1)
        self.github_search = True  # False: the search index lags (finds nothing)
        self.gitlab: dict[int, dict[str, Any]] = {}
        self.gitlab_notes: dict[int, list[str]] = {}
        self.jira: dict[str, dict[str, Any]] = {}
        self.jira_comments: dict[str, list[Any]] = {}
        self.deliveries: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeTrackers:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if (method is None or r.method == method)
                and (path is None or re.search(path, r.path))]

    def fail(self, method: str, path: str, status: int, times: int = 1, **kw: Any) -> FailRule:
        rule = FailRule(method, path, status, times, **kw)
        self.rules.append(rule)
        return rule

    # -- dispatch -------------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
               raw: bytes) -> tuple[int, dict[str, str], Any]:
        body = json.loads(raw) if raw else None
        with self.lock:
            self.requests.append(Recorded(method, path, query, headers, body, raw))
            for rule in self.rules:
                if rule.times > 0 and rule.method == method and re.search(rule.path, path) and (
                        rule.body_contains is None or rule.body_contains in raw.decode()):
                    rule.times -= 1
                    delay = rule.delay_s
                    if not delay:
                        return rule.status, rule.headers, rule.payload or {"message": f"injected {rule.status}"}
                    break
            else:
                delay = 0.0
        if delay:
            time.sleep(delay)
        with self.lock:
            if path.startswith("/gh/"):
                return self._github(method, path[3:], query, headers, body)
            if path.startswith("/gl/api/v4/"):
                return self._gitlab(method, path[10:], query, headers, body)
            if path.startswith("/jira/rest/api/3/"):
                return self._jira(method, path[16:], query, headers, body)
            if path == "/hook":
                return self._hook(headers, raw, body)
            return self.route(method, path, query, headers, body, raw)

    def route(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any,
              raw: bytes) -> tuple[int, dict[str, str], Any]:
        """Any other path (a subclass serves more trackers here; under the lock, after the fail rules)."""
        return 404, {}, {"message": "Not Found"}

    # -- GitHub ---------------------------------------------------------------------------------------------

    def _github(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
                body: Any) -> tuple[int, dict[str, str], Any]:
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {}, {"message": "Bad credentials"}
        if method == "GET" and path == "/search/issues":
            q = query.get("q", [""])[0]
            m = MARKER.search(q)
            items = [] if not self.github_search or not m else [
                i for i in self.github.values() if m.group(0) in (i["body"] or "")]
            return 200, {}, {"total_count": len(items), "items": items}
        m = re.fullmatch(r"/repos/([^/]+)/([^/]+)/issues(?:/(\d+))?(/comments)?", path)
        if not m:
            return 404, {}, {"message": "Not Found"}
        number = int(m.group(3)) if m.group(3) else None
        if number is None and method == "GET":
            labels = [x for x in query.get("labels", [""])[0].split(",") if x]
            items = [i for i in self.github.values() if all(lab in i["labels"] for lab in labels)]
            page, per = int(query.get("page", ["1"])[0]), int(query.get("per_page", ["30"])[0])
            return 200, {}, items[(page - 1) * per: page * per]
        if number is None and method == "POST":
            n = next(self.github_numbers)
            issue = {"number": n, "id": 1000 + n, "html_url": f"https://github.example/{m.group(1)}/{m.group(2)}/issues/{n}",
                     "state": "open", "title": body["title"], "body": body["body"],
                     "labels": list(body.get("labels", [])), "assignees": list(body.get("assignees", []))}
            self.github[n] = issue
            return 201, {}, issue
        issue = self.github.get(number)
        if issue is None:
            return 404, {}, {"message": "Not Found"}
        if m.group(4) and method == "POST":
            self.github_comments.setdefault(number, []).append(body["body"])
            return 201, {}, {"id": 1, "body": body["body"]}
        if method == "GET":
            return 200, {}, issue
        if method == "PATCH":
            for key in ("title", "body", "state"):
                if key in body:
                    issue[key] = body[key]
            return 200, {}, issue
        return 405, {}, {}

    # -- GitLab ---------------------------------------------------------------------------------------------

    def _gitlab(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
                body: Any) -> tuple[int, dict[str, str], Any]:
        if headers.get("private-token") != self.token:
            return 401, {}, {"message": "401 Unauthorized"}
        if path == "/users" and method == "GET":
            name = query.get("username", [""])[0]
            return 200, {}, [{"id": 77, "username": name}] if name == "alice" else []
        m = re.fullmatch(r"/projects/([^/]+)/issues(?:/(\d+))?(/notes)?", path)
        if not m:
            return 404, {}, {"message": "404 Not Found"}
        project = unquote(m.group(1))
        iid = int(m.group(2)) if m.group(2) else None
        if iid is None and method == "GET":
            search = query.get("search", [""])[0]
            labels = [x for x in query.get("labels", [""])[0].split(",") if x]
            items = [i for i in self.gitlab.values() if (not search or search in (i["description"] or ""))
                     and all(lab in i["labels"] for lab in labels)]
            page, per = int(query.get("page", ["1"])[0]), int(query.get("per_page", ["20"])[0])
            return 200, {}, items[(page - 1) * per: page * per]
        if iid is None and method == "POST":
            n = max(self.gitlab, default=0) + 1
            issue = {"iid": n, "id": 5000 + n, "web_url": f"https://gitlab.example/{project}/-/issues/{n}",
                     "state": "opened", "title": body["title"], "description": body["description"],
                     "labels": [x for x in body.get("labels", "").split(",") if x],
                     "assignee_ids": body.get("assignee_ids", [])}
            self.gitlab[n] = issue
            return 201, {}, issue
        issue = self.gitlab.get(iid)
        if issue is None:
            return 404, {}, {"message": "404 Not found"}
        if m.group(3) and method == "POST":
            self.gitlab_notes.setdefault(iid, []).append(body["body"])
            return 201, {}, {"id": 9, "body": body["body"]}
        if method == "GET":
            return 200, {}, issue
        if method == "PUT":
            for key in ("title", "description"):
                if key in body:
                    issue[key] = body[key]
            if body.get("state_event") == "close":
                issue["state"] = "closed"
            elif body.get("state_event") == "reopen":
                issue["state"] = "opened"
            return 200, {}, issue
        return 405, {}, {}

    # -- Jira -----------------------------------------------------------------------------------------------

    TRANSITIONS: ClassVar[list[dict[str, Any]]] = [
        {"id": "11", "name": "To Do", "to": {"name": "To Do", "statusCategory": {"key": "new"}}},
        {"id": "31", "name": "Done", "to": {"name": "Done", "statusCategory": {"key": "done"}}},
    ]

    def _jira(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
              body: Any) -> tuple[int, dict[str, str], Any]:
        if headers.get("authorization") != self.jira_auth:
            return 401, {}, {"errorMessages": ["Unauthorized"]}
        if path == "/search/jql" and method == "POST":
            labels = re.findall(r'labels = "([^"]+)"', body["jql"])
            issues = [self._jira_view(i) for i in self.jira.values() if set(labels) & set(i["fields"]["labels"])]
            return 200, {}, {"issues": issues}
        if path == "/issue" and method == "POST":
            n = len(self.jira) + 1
            key = f"{body['fields']['project']['key']}-{n}"
            fields = dict(body["fields"])
            fields["status"] = {"name": "To Do", "statusCategory": {"key": "new"}}
            self.jira[key] = {"id": str(10000 + n), "key": key, "fields": fields}
            return 201, {}, {"id": str(10000 + n), "key": key, "self": f"{self.url}/jira/rest/api/3/issue/{key}"}
        m = re.fullmatch(r"/issue/([A-Z]+-\d+)(/comment|/transitions)?", path)
        if not m or m.group(1) not in self.jira:
            return 404, {}, {"errorMessages": ["Issue does not exist"]}
        issue = self.jira[m.group(1)]
        if m.group(2) == "/comment" and method == "POST":
            self.jira_comments.setdefault(m.group(1), []).append(body["body"])
            return 201, {}, {"id": "1"}
        if m.group(2) == "/transitions":
            if method == "GET":
                return 200, {}, {"transitions": self.TRANSITIONS}
            to = next(t for t in self.TRANSITIONS if t["id"] == body["transition"]["id"])["to"]
            issue["fields"]["status"] = {"name": to["name"], "statusCategory": to["statusCategory"]}
            return 204, {}, None
        if method == "GET":
            return 200, {}, self._jira_view(issue)
        if method == "PUT":
            issue["fields"].update(body.get("fields", {}))
            for op in body.get("update", {}).get("labels", []):
                if "add" in op and op["add"] not in issue["fields"]["labels"]:
                    issue["fields"]["labels"].append(op["add"])
            return 204, {}, None
        return 405, {}, {}

    @staticmethod
    def _jira_view(issue: dict[str, Any]) -> dict[str, Any]:
        return {"id": issue["id"], "key": issue["key"], "fields": issue["fields"]}

    # -- webhook --------------------------------------------------------------------------------------------

    def _hook(self, headers: dict[str, str], raw: bytes, body: Any) -> tuple[int, dict[str, str], Any]:
        expected = "sha256=" + hmac.new(self.webhook_secret.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(headers.get("x-tracemine-signature", ""), expected):
            return 401, {}, {"message": "bad signature"}
        self.deliveries.append({"event": headers.get("x-tracemine-event"), "body": body,
                                "delivery": headers.get("x-tracemine-delivery")})
        return 202, {}, {"ok": True}


def _handler(fake: FakeTrackers) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, payload = fake.handle(self.command, parts.path, parse_qs(parts.query), headers, raw)
            data = b"" if payload is None else json.dumps(payload).encode()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                self._reply(status, extra, data)

        def _reply(self, status: int, extra: dict[str, str], data: bytes) -> None:
            self.send_response(status)
            for k, v in extra.items():
                self.send_header(k, v)
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
