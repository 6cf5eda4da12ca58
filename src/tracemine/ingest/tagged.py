"""What Jaeger and Zipkin spans share: errors written as tags, and RPC halves that reuse one span id.

Both tracers put a span's status in its tags: ``error`` (Jaeger: bool ``true`` or the string ``"true"``;
Zipkin: any value, even ``""`` or an HTTP code) or OTel's ``otel.status_code``/``otel.status_description``.

Zipkin's B3 propagation lets a server record its half of an RPC under the client's span id (``shared``
in Zipkin v2, two spans with one ``spanID`` in Jaeger). Such halves are two spans: the client keeps the
id, each server half gets a derived id (deterministic: trace, id, endpoint, start) as a child of the
client, and the children recorded under the shared id in the server's process move under that half, as
Jaeger's own span-id deduper does. Records that repeat byte for byte are left alone: the archive counts
them as duplicates.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import orjson

from tracemine.ingest.normalize import stable_id, to_text
from tracemine.model import Span

_FALSE_WORDS = frozenset({"false", "0", "no"})


def tag_status(tags: dict[str, Any], *, any_error_value: bool) -> tuple[str | None, str | None]:
    """``(status word, message)`` from a span's tags; ``any_error_value``: every ``error`` tag is an error
    (Zipkin), else ``false``/``0`` are not (Jaeger)."""
    code = to_text(tags.get("otel.status_code"))
    message = to_text(tags.get("otel.status_description"))
    if "error" in tags:
        value = tags["error"]
        if any_error_value or not (value is False or str(value).strip().lower() in _FALSE_WORDS):
            text = to_text(value) if not isinstance(value, bool) else None
            if text is not None and text.lower() == "true":
                text = None
            detail = message or to_text(tags.get("error.message")) or text
            if detail is None:
                http = to_text(tags.get("http.response.status_code", tags.get("http.status_code")))
                detail = f"HTTP {http}" if http is not None else None
            if detail is None and text is None and isinstance(value, str):
                detail = "error tag (empty)"
            return "error", detail or "error"
    if code is not None:
        return code.lower(), message
    return None, None


@dataclass(slots=True)
class Half:
    """A span with what is needed to tell RPC halves apart: ``side`` (``client``/``server``/``None``),
    ``endpoint`` (service and host), and the record's content digest."""

    span: Span
    side: str | None
    endpoint: str
    digest: bytes


def content_digest(raw: Any) -> bytes:
    """A digest of a raw record (key order does not matter)."""
    return orjson.dumps(raw, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def separate_shared_halves(halves: list[Half]) -> int:
    """Give server halves that share their client's span id a derived id (see the module docstring);
    returns how many spans were given one. ``halves`` are the spans of one trace, in file order."""
    groups: dict[str, list[Half]] = defaultdict(list)
    for half in halves:
        groups[half.span.span_id].append(half)
    moved: dict[str, list[Half]] = {}
    renamed = 0
    for span_id, group in groups.items():
        distinct: list[Half] = []
        seen: set[bytes] = set()
        for half in group:
            if half.digest not in seen:
                seen.add(half.digest)
                distinct.append(half)
        if len(distinct) < 2:
            continue
        keeper = next((h for h in distinct if h.side != "server"), None)
        if keeper is None:
            continue  # servers only: nothing says which is whose; the archive keeps them apart
        servers = [h for h in distinct if h is not keeper and h.side == "server"]
        for ordinal, half in enumerate(servers):
            span = half.span
            span.raw_span_id = span.raw_span_id or span_id
            span.span_id = stable_id(span.trace_id, span_id, "shared", half.endpoint, span.start_ns, ordinal)
            span.parent_span_id = span_id
            attrs = dict(span.attributes or {})
            attrs["tracemine.shared_span_id"] = span_id
            span.attributes = attrs
            renamed += 1
        if servers:
            moved[span_id] = servers
    if moved:
        for half in halves:
            servers = moved.get(half.span.parent_span_id or "")
            if servers is None or half in servers:
                continue
            target = _server_for(half, servers)
            if target is not None:
                half.span.parent_span_id = target.span.span_id
    return renamed


def _server_for(child: Half, servers: list[Half]) -> Half | None:
    """The server half a child recorded under a shared id belongs to: one in the child's process (the
    latest to start before the child when several are)."""
    same = [h for h in servers if h.endpoint == child.endpoint]
    if not same:
        return None
    start = child.span.start_ns
    if start is not None:
        before = [h for h in same if h.span.start_ns is not None and h.span.start_ns <= start]
        if before:
            return max(before, key=lambda h: h.span.start_ns or 0)
    return same[0]
