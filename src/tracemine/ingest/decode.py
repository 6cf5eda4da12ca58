"""Defensive decoding of payloads: JSON inside JSON strings, Python reprs, oversized text.

Trace payloads are often JSON encoded one or more times inside strings, sometimes a Python ``repr``
(``{'a': 1}``, ``['x', None]``). The stored span keeps the raw text; these helpers decode on demand.
"""

from __future__ import annotations

import ast
from typing import Any

import orjson

from tracemine.ingest.limits import NestingError, is_too_deep

MAX_LITERAL_EVAL_CHARS = 200_000
MAX_DEPTH = 4


def _looks_structured(text: str) -> bool:
    return len(text) >= 2 and text[0] in "{[" and text[-1] in "}]"


def decode_value(value: Any, depth: int = 0) -> Any:
    """Decode ``value`` as far as it safely goes; return it unchanged when it is not encoded."""
    if depth > MAX_DEPTH:
        return value
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return value
        if _looks_structured(text) or (text[0] == '"' and text[-1] == '"' and len(text) >= 2):
            try:
                decoded = orjson.loads(text)
            except orjson.JSONDecodeError:
                decoded = _literal(text)
            if decoded is not None and decoded is not text:
                return decode_value(decoded, depth + 1)
        return value
    if isinstance(value, dict):
        return {k: decode_value(v, depth + 1) if isinstance(v, str) else v for k, v in value.items()}
    if isinstance(value, list):
        return [decode_value(v, depth + 1) if isinstance(v, str) else v for v in value]
    return value


def _literal(text: str) -> Any:
    """A Python repr (single quotes, None/True/False) as a value, or ``None`` when it is not one."""
    if len(text) > MAX_LITERAL_EVAL_CHARS or not _looks_structured(text):
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def as_text(value: Any) -> str | None:
    """Store a payload as text: strings verbatim, structures as compact JSON, ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError as exc:
        if is_too_deep(exc):
            raise NestingError(str(exc)) from None
        return str(value)


def as_json_text(value: Any) -> str | None:
    """Compact JSON for a structured value (attributes, events); ``None`` for empty containers."""
    if value is None or (isinstance(value, dict | list) and not value):
        return None
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError as exc:
        if is_too_deep(exc):
            raise NestingError(str(exc)) from None
        return orjson.dumps(str(value)).decode()


def as_mapping(value: Any) -> dict[str, Any] | None:
    """Decode ``value`` and return it if it is a dict (e.g. tool arguments), else ``None``."""
    decoded = decode_value(value)
    return decoded if isinstance(decoded, dict) else None
