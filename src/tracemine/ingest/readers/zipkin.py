"""Zipkin v2 JSON: a span array (``/api/v2/spans`` bodies, ``/api/v2/trace/{id}`` responses, the UI's
downloads), an array of traces (``/api/v2/traces``), or spans one per JSON-lines record.

Span: ``traceId``, ``id``, ``parentId``, ``name``, ``kind`` (``CLIENT``/``SERVER``/``PRODUCER``/
``CONSUMER``), ``timestamp`` and ``duration`` in microseconds, ``localEndpoint`` (its ``serviceName``
and address are the resource), ``remoteEndpoint`` (``peer.*`` attributes), ``annotations`` (events) and
``tags`` (string attributes; GenAI / OpenInference keys map as OTLP attributes do).

Pitfalls handled: ``name``, ``timestamp`` and ``duration`` may be absent (the span is kept; what was
missing is listed in ``zipkin.missing``, and a nameless server half takes its client's name); a server
half that shares its client's ``id`` (``shared: true``) is kept as its own span under a derived id
(:func:`tracemine.ingest.tagged.separate_shared_halves`), never counted as a duplicate; any
``tags.error`` is an error status with its value as the message, even ``""`` or an HTTP code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tracemine.ingest.base import ID_CLASHES, Reader, Record
from tracemine.ingest.normalize import to_int, to_text
from tracemine.ingest.otel import make_span
from tracemine.ingest.tagged import Half, content_digest, separate_shared_halves, tag_status

_MICROS = 1000
_KINDS = frozenset({"CLIENT", "SERVER", "PRODUCER", "CONSUMER"})
_ZIPKIN_KEYS = ("localEndpoint", "remoteEndpoint", "shared", "annotations", "tags")


def is_zipkin_span(obj: Any) -> bool:
    """A Zipkin v2 span: ``traceId`` and ``id`` with a Zipkin-only field (not an OTel span's ``spanId``
    or ``attributes``, not Zipkin v1's ``binaryAnnotations``)."""
    if not isinstance(obj, dict) or "traceId" not in obj or "id" not in obj:
        return False
    if "spanId" in obj or "attributes" in obj or "binaryAnnotations" in obj:
        return False
    return any(key in obj for key in _ZIPKIN_KEYS) or obj.get("kind") in _KINDS


def _endpoint(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _resource(local: dict[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = {}
    for key, name in (("serviceName", "service.name"), ("ipv4", "net.host.ip"), ("ipv6", "net.host.ip"),
                      ("port", "net.host.port")):
        if local.get(key) not in (None, ""):
            resource.setdefault(name, local[key])
    return resource


def _peer(remote: dict[str, Any]) -> dict[str, Any]:
    peer: dict[str, Any] = {}
    for key, name in (("serviceName", "peer.service"), ("ipv4", "net.peer.ip"), ("ipv6", "net.peer.ip"),
                      ("port", "net.peer.port")):
        if remote.get(key) not in (None, ""):
            peer.setdefault(name, remote[key])
    return peer


def _events(annotations: Any) -> list[dict[str, Any]] | None:
    out = []
    for note in annotations if isinstance(annotations, list) else ():
        if isinstance(note, dict):
            stamp = to_int(note.get("timestamp"))
            out.append({"name": str(note.get("value") or ""),
                        "timeUnixNano": stamp * _MICROS if stamp is not None else None})
    return out or None


class ZipkinReader(Reader):
    """Zipkin v2 spans; kept until the end of the file so a trace's shared halves are settled together."""

    format = "zipkin_json"
    priority = 25

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self._traces: dict[str, list[tuple[dict[str, Any], str]]] = {}

    @classmethod
    def match(cls, obj: Any) -> bool:
        return is_zipkin_span(obj)

    def feed(self, obj: Any, locator: str) -> Iterator[Record]:
        if not obj.get("traceId") or not obj.get("id"):
            self.ctx.reject(locator, "span without traceId or id", obj.get("name"))
            return
        self._traces.setdefault(str(obj["traceId"]), []).append((obj, locator))
        yield from ()

    def finish(self) -> Iterator[Record]:
        traces, self._traces = self._traces, {}
        for raws in traces.values():
            names = {str(raw["id"]): raw["name"] for raw, _ in raws if to_text(raw.get("name"))}
            halves = [self._span(raw, locator, names) for raw, locator in raws]
            self.ctx.count(ID_CLASHES, separate_shared_halves(halves))
            for half in halves:
                yield half.span

    def _span(self, raw: dict[str, Any], locator: str, names: dict[str, str]) -> Half:
        tags = raw.get("tags")
        attributes: dict[str, Any] = dict(tags) if isinstance(tags, dict) else {}
        local, remote = _endpoint(raw.get("localEndpoint")), _endpoint(raw.get("remoteEndpoint"))
        attributes.update(_peer(remote))
        status, message = tag_status(attributes, any_error_value=True)
        missing = [key for key in ("name", "timestamp", "duration") if raw.get(key) in (None, "")]
        name = to_text(raw.get("name")) or names.get(str(raw["id"])) or ""
        if missing:
            attributes["zipkin.missing"] = missing
        if raw.get("shared"):
            attributes["zipkin.shared"] = True
        start, duration = to_int(raw.get("timestamp")), to_int(raw.get("duration"))
        kind = str(raw.get("kind") or "").upper() or None
        resource = _resource(local)
        span = make_span(
            trace_id=raw["traceId"],
            span_id=raw["id"],
            parent_span_id=raw.get("parentId"),
            name=name,
            native_kind=kind.lower() if kind else None,
            start=start * _MICROS if start is not None else None,
            end=(start + duration) * _MICROS if start is not None and duration is not None else None,
            status=status,
            status_message=message,
            attributes=attributes,
            events=_events(raw.get("annotations")),
            resource=resource,
            source=self.src(locator),
        )
        endpoint = f"{local.get('serviceName')}@{local.get('ipv4') or local.get('ipv6')}"
        return Half(span, kind.lower() if kind else None, endpoint, content_digest(raw))


READERS = [ZipkinReader]
