"""Canonical forms of tool arguments and results, so that equal calls compare equal.

Two calls are "the same" when their arguments differ only in key order, whitespace, number format
(``5``, ``5.0``, ``"5"``), the case of enum-like strings (``Economy`` vs ``economy``) or the order of a
list of records (objects: order lines, recipients, filters — a set of records, unlike a list of scalars
such as a route, whose order is kept). :func:`call_key` also leaves out the tokens a client mints for
every request (idempotency keys, request and correlation ids, nonces): two requests that differ only in
those ask for the same thing.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from tracemine.detect.tool_roles import words
from tracemine.ingest.decode import decode_value

_ENUM_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,40}$")
_NUMBER = re.compile(r"^-?(?:0|[1-9]\d*)(?:\.\d+)?$")
_SPACES = re.compile(r"\s+")


def normalize_value(value: Any) -> Any:
    """A structure with the same meaning and one spelling (see module docstring)."""
    kind = type(value)
    if kind is str:
        text = _SPACES.sub(" ", value.strip()) if "  " in value or "\n" in value or "\t" in value else value.strip()
        if not text:
            return text
        first = text[0]
        if (first.isdigit() or first == "-") and _NUMBER.match(text):
            number = float(text)
            return int(number) if number.is_integer() and abs(number) < 2**53 else number
        if first.isalpha() and _ENUM_LIKE.match(text):
            return text.lower()
        return text
    if kind is dict:
        return {str(k).strip(): normalize_value(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return _records_in_order([normalize_value(v) for v in value])
    if kind is bool or value is None or kind is int:
        return value
    if kind is float:
        return int(value) if value.is_integer() and abs(value) < 2**53 else round(value, 9)
    if isinstance(value, dict):
        return {str(k).strip(): normalize_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return _records_in_order([normalize_value(v) for v in value])
    if isinstance(value, int | float):
        return normalize_value(int(value) if isinstance(value, int) else float(value))
    return str(value)


def _records_in_order(items: list[Any]) -> list[Any]:
    """A list of two or more records (objects) in one canonical order; any other list as it is."""
    if len(items) < 2 or not all(type(v) is dict for v in items):
        return items
    try:
        return sorted(items, key=lambda v: orjson.dumps(v, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS))
    except TypeError:
        return items


def canonical(value: Any) -> str:
    """Canonical text of a payload (JSON text, Python repr or a decoded value); ``""`` for none."""
    if value is None:
        return ""
    decoded = decode_value(value)
    normalized = normalize_value(decoded)
    if isinstance(normalized, str):
        return normalized
    try:
        return orjson.dumps(normalized, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return str(normalized)


_TOKEN_OWNERS = frozenset({"request", "trace", "span", "correlation", "idempotency", "dedupe", "dedup",
                           "deduplication"})
_TOKEN_TAILS = frozenset({"id", "key", "token", "uuid"})


def per_request_token(key: str) -> bool:
    """An argument a client mints afresh for every request — ``idempotency_key``, ``Idempotency-Key``,
    ``client_request_id``, ``x_correlation_id``, ``nonce`` — rather than a reference to something."""
    ws = words(key)
    return "nonce" in ws or "idempotency" in ws or (len(ws) >= 2 and ws[-1] in _TOKEN_TAILS and ws[-2] in _TOKEN_OWNERS)


def _without_tokens(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_tokens(v) for k, v in value.items() if not per_request_token(str(k))}
    if isinstance(value, list):
        return [_without_tokens(v) for v in value]
    return value


def call_key(arguments: Any) -> str:
    """:func:`canonical` arguments without per-request tokens (:func:`per_request_token`): equal for two
    requests for the same thing."""
    if arguments is None:
        return ""
    decoded = decode_value(arguments)
    if isinstance(decoded, dict) and any(per_request_token(str(k)) for k in decoded):
        return canonical(_without_tokens(decoded))
    return canonical(decoded)
