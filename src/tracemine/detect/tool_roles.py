"""Is a tool a write (it changes state: send, create, cancel, pay…) or a read? Judged from generic verbs
in the tool's name, then in its description — never from a list of particular tools. Repeated or
failed writes matter more than reads, so several detectors grade severity with this."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

WRITE_VERBS = frozenset({
    "accept", "activate", "add", "adjust", "allocate", "append", "apply", "approve", "archive", "assign",
    "acknowledge", "attach", "block", "book", "buy", "cancel", "change", "deactivate", "decline", "detach",
    "finalise", "forward", "mute", "redirect", "remind", "reroute", "route", "silence", "snooze", "unmute",
    "finalize", "lock", "reassign", "rebook", "renew", "restore", "revert", "rollback", "settle", "suspend",
    "unlink", "unlock",
    "charge", "checkout", "comment", "commit", "confirm", "create", "debit", "delete", "deploy", "deposit",
    "destroy", "disable", "dispatch", "drop", "edit", "enable", "enqueue", "enroll", "escalate", "exchange",
    "execute", "export", "grant", "import", "insert", "invite", "issue", "kill", "merge", "modify", "move",
    "notify", "patch", "pay", "publish", "purchase", "push", "put", "refund", "register", "reject", "release",
    "remove", "rename", "replace", "reply", "reschedule", "reserve", "reset", "restart", "revoke", "save",
    "schedule", "send", "submit", "subscribe", "terminate", "toggle", "transfer", "trigger", "truncate",
    "unblock", "unsubscribe", "update", "upgrade", "upload", "upsert", "void", "withdraw", "write",
})
# words that are verbs only when they lead a name ("email_customer", "post_message" but "user_email_lookup")
LEADING_WRITE_VERBS = frozenset({"ack", "alert", "close", "email", "flag", "label", "link", "log", "mark",
                                 "message", "order", "page", "ping", "place", "post", "record", "return", "set",
                                 "share", "ship", "sign", "start", "stop", "tag", "text"})
READ_VERBS = frozenset({
    "browse", "calculate", "check", "compute", "count", "describe", "download", "estimate", "explain", "fetch",
    "find", "get", "inspect", "list", "load", "look", "lookup", "open", "peek", "poll", "preview", "query",
    "read", "retrieve", "search", "see", "show", "summarise", "summarize", "think", "validate", "verify",
    "view", "wait", "watch",
})
_READ_ONLY_HINT = re.compile(r"\b(read[- ]only|does not (?:modify|change|write)|without (?:modifying|side effects))\b", re.I)
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")


@functools.lru_cache(maxsize=65536)
def words(name: str) -> tuple[str, ...]:
    """Lower-case words of an identifier or phrase (snake, kebab, dotted and camel case); names and keys
    recur in every trace: cached."""
    return tuple(w.lower() for w in _WORD_SPLIT.split(name or "") if w)


def _verb_verdict(ws: tuple[str, ...]) -> bool | None:
    """The first verb among ``ws`` decides: ``True`` for a write, ``False`` for a read, ``None`` for none."""
    for position, word in enumerate(ws):
        if word in WRITE_VERBS or (position == 0 and word in LEADING_WRITE_VERBS):
            return True
        if word in READ_VERBS:
            return False
    return None


def _stem(word: str) -> str:
    """``sends`` → ``send``, ``pushes`` → ``push``, ``creates`` → ``create`` (third person of a verb)."""
    if word.endswith("es") and word[:-2] in WRITE_VERBS | READ_VERBS:
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


CHECKING_WORDS = frozenset({"validate", "validator", "validation", "check", "checker", "verify", "verifier", "lint",
                            "linter", "test", "audit", "inspect", "evaluate", "assess", "review"})


def is_checking_tool(name: str) -> bool:
    """Whether a tool's job is to judge its input (``validate_address``, ``lint_sql``): its "invalid
    postcode" is the answer it was asked for, not a rejection of the call."""
    return bool(CHECKING_WORDS & set(words(name)))


def is_write_tool(name: str, definition: Mapping[str, Any] | None = None) -> bool:
    """Whether a tool changes state, judged from the verbs of its name, then of its description."""
    verdict = _verb_verdict(words(name))
    if verdict is not None:
        return verdict
    description = str((definition or {}).get("description") or "")
    if not description or _READ_ONLY_HINT.search(description):
        return False
    first = words(description)[:1]
    if not first:
        return False
    verb = _stem(first[0])
    return verb in WRITE_VERBS or (verb in LEADING_WRITE_VERBS and verb != "return")
