"""Fake Linear (GraphQL) and Slack (Web API and an incoming webhook) on 127.0.0.1, on top of the publish
tests' fake trackers (:mod:`publish_server`: recorded requests and injected failures with ``fail``).

Linear is served at ``/linear/graphql``, the Slack Web API under ``/slack/api/``, and an incoming webhook
at ``/slack-hook`` + :data:`HOOK_PATH`.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from publish_server import FakeTrackers

HOOK_PATH = "/services/T0ACME/B0TRACE/Hook0Secret0Path0XYZ"
TEAM_ID = "7b1e4c1e-0000-4000-8000-00000000e1a0"
STATES = [
    {"id": "st-backlog", "name": "Backlog", "type": "backlog", "position": 0},
    {"id": "st-todo", "name": "Todo", "type": "unstarted", "position": 1},
    {"id": "st-progress", "name": "In Progress", "type": "started", "position": 2},
    {"id": "st-done", "name": "Done", "type": "completed", "position": 3},
    {"id": "st-canceled", "name": "Canceled", "type": "canceled", "position": 4},
]
NOT_FOUND = {"data": None, "errors": [{"message": "Entity not found: Issue",
                                       "extensions": {"code": "INVALID_INPUT",
                                                      "userPresentableMessage": "Could not find referenced Issue."}}]}
RATELIMITED = {"errors": [{"message": "Rate limit exceeded", "extensions": {"code": "RATELIMITED"}}]}
CHANNEL_ID = "C0AGENTS"


class FakeNotify(FakeTrackers):
    def __init__(self, linear_key: str, slack_token: str) -> None:
        super().__init__()
        self.linear_key = linear_key
        self.slack_token = slack_token
        self.issues: dict[str, dict[str, Any]] = {}  # by id
        self.comments: dict[str, list[str]] = {}
        self.labels: dict[str, dict[str, Any]] = {"tracemine": {"id": "lab-tracemine", "name": "tracemine", "team": None}}
        self.numbers = itertools.count(1)
        self.messages: list[dict[str, Any]] = []  # Slack, in post order
        self.hook_posts: list[dict[str, Any]] = []
        self.ts = itertools.count(100)

    # -- Linear ---------------------------------------------------------------------------------------------

    def route(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any,
              raw: bytes) -> tuple[int, dict[str, str], Any]:
        if path == "/linear/graphql" and method == "POST":
            if headers.get("authorization") != self.linear_key:
                return 401, {}, {"errors": [{"message": "Authentication required",
                                             "extensions": {"code": "AUTHENTICATION_ERROR"}}]}
            return 200, {}, self._linear(body["query"], body.get("variables") or {})
        if path.startswith("/slack/api/"):
            if headers.get("authorization") != f"Bearer {self.slack_token}":
                return 200, {}, {"ok": False, "error": "invalid_auth"}
            return 200, {}, self._slack(path.rsplit("/", 1)[1], body, {k: v[0] for k, v in query.items()})
        if path == "/slack-hook" + HOOK_PATH and method == "POST":
            self.hook_posts.append(body)
            return 200, {}, "ok"
        if path.startswith("/slack-hook/"):
            return 404, {}, "no_service"
        return 404, {}, {"message": "Not Found"}

    def issue_by(self, key: str) -> dict[str, Any] | None:
        return self.issues.get(key) or next((i for i in self.issues.values() if i["identifier"] == key), None)

    def view(self, issue: dict[str, Any]) -> dict[str, Any]:
        state = next(s for s in STATES if s["id"] == issue["stateId"])
        return {"id": issue["id"], "identifier": issue["identifier"], "url": issue["url"], "title": issue["title"],
                "description": issue["description"], "trashed": issue.get("trashed", False),
                "state": {"id": state["id"], "name": state["name"], "type": state["type"]}}

    def _linear(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        operation = re.match(r"\s*(query|mutation)\s+(\w+)", query).group(2)
        if operation == "Team":
            flt = variables["filter"]
            match = flt.get("key", {}).get("eq") == "ENG" or flt.get("id", {}).get("eq") == TEAM_ID
            team = {"id": TEAM_ID, "key": "ENG", "name": "Engineering", "states": {"nodes": STATES[::-1]}}
            return {"data": {"teams": {"nodes": [team] if match else []}}}
        if operation == "Labels":
            names = variables["filter"]["name"]["in"]
            return {"data": {"issueLabels": {"nodes": [v for k, v in self.labels.items() if k in names]}}}
        if operation == "LabelCreate":
            name = variables["input"]["name"]
            self.labels[name] = {"id": f"lab-{name}", "name": name, "team": {"id": variables["input"]["teamId"]}}
            return {"data": {"issueLabelCreate": {"success": True, "issueLabel": self.labels[name]}}}
        if operation == "Find":
            flt = variables["filter"]
            text = flt["description"]["contains"]
            nodes = [self.view(i) for i in self.issues.values()
                     if i["teamId"] == flt["team"]["id"]["eq"] and text in i["description"]]
            return {"data": {"issues": {"nodes": nodes}}}
        if operation == "Issue":
            issue = self.issue_by(variables["id"])
            return NOT_FOUND if issue is None else {"data": {"issue": self.view(issue)}}
        if operation == "Create":
            fields = variables["input"]
            if fields["teamId"] != TEAM_ID:
                return {"data": None, "errors": [{"message": "Argument Validation Error",
                                                  "extensions": {"code": "INVALID_INPUT"}}]}
            n = next(self.numbers)
            issue = {"id": f"iss-{n:04d}", "identifier": f"ENG-{n}", "url": f"https://linear.example/acme/issue/ENG-{n}",
                     "stateId": "st-backlog", **fields}
            self.issues[issue["id"]] = issue
            return {"data": {"issueCreate": {"success": True, "issue": self.view(issue)}}}
        if operation == "Update":
            issue = self.issue_by(variables["id"])
            if issue is None:
                return NOT_FOUND
            issue.update(variables["input"])
            return {"data": {"issueUpdate": {"success": True, "issue": self.view(issue)}}}
        if operation == "Comment":
            issue = self.issue_by(variables["input"]["issueId"])
            if issue is None:
                return NOT_FOUND
            self.comments.setdefault(issue["id"], []).append(variables["input"]["body"])
            return {"data": {"commentCreate": {"success": True, "comment": {"id": "c1"}}}}
        return {"errors": [{"message": f"unknown operation {operation}"}]}

    # -- Slack ----------------------------------------------------------------------------------------------

    def top_level(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if not m.get("thread_ts")]

    def replies(self, thread_ts: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("thread_ts") == thread_ts]

    def _slack(self, method: str, body: Any, params: dict[str, str]) -> dict[str, Any]:
        if method == "chat.postMessage":
            if body["channel"] not in ("#agents", CHANNEL_ID):
                return {"ok": False, "error": "channel_not_found"}
            thread = body.get("thread_ts")
            if thread and not any(m["ts"] == thread for m in self.top_level()):
                return {"ok": False, "error": "thread_not_found"}
            msg = {**body, "channel": CHANNEL_ID, "ts": f"1790000000.{next(self.ts):06d}"}
            self.messages.append(msg)
            return {"ok": True, "channel": CHANNEL_ID, "ts": msg["ts"], "message": {"text": body["text"]}}
        if method == "chat.update":
            msg = next((m for m in self.messages if m["ts"] == body["ts"]), None)
            if msg is None:
                return {"ok": False, "error": "message_not_found"}
            msg.update(text=body["text"], blocks=body["blocks"])
            return {"ok": True, "channel": CHANNEL_ID, "ts": msg["ts"]}
        if method in ("conversations.history", "conversations.replies"):
            if params.get("channel") != CHANNEL_ID:
                return {"ok": False, "error": "channel_not_found"}
            found = self.top_level() if method == "conversations.history" else (
                [m for m in self.messages if m["ts"] == params["ts"]] + self.replies(params["ts"]))
            with_meta = params.get("include_all_metadata") == "true"
            return {"ok": True, "messages": [{k: v for k, v in m.items() if with_meta or k != "metadata"}
                                             for m in reversed(found)]}
        return {"ok": False, "error": "unknown_method"}
