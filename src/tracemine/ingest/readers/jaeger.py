"""Jaeger JSON (the query API's and the UI's model) in its three shapes:

- ``{"data": [trace, ...]}``: the query API (``/api/traces``) and the UI's "Download JSON" (the
  ``data`` wrapper is unwrapped by the file reader, each trace comes here);
- a bare trace ``{"traceID", "spans": [...], "processes": {"p1": {...}}}``;
- spans one by one (a bare array, JSON-lines) with the process inline (``"process": {...}``).

Times are microseconds (``startTime``, ``duration``); the parent is the first ``CHILD_OF`` reference,
else the first ``FOLLOWS_FROM`` (the others are kept as ``jaeger.references``), else the legacy
``parentSpanID``. Tags are ``[{"key", "type", "value"}]`` (typed by ``type``: ``"true"`` of a bool tag is
``True``); the process's service and tags are the resource. Errors: :mod:`tracemine.ingest.tagged`.
GenAI / OpenInference tags map through the same conventions as OTLP attributes. A span id repeated
within a trace by a client and a server half is kept as two spans (:func:`separate_shared_halves`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tracemine.ingest.base import ID_CLASHES, Reader, Record
from tracemine.ingest.normalize import to_float, to_int, to_text
from tracemine.ingest.otel import make_span
from tracemine.ingest.tagged import Half, content_digest, separate_shared_halves, tag_status
from tracemine.model import Span

_MICROS = 1000


def _is_span(obj: Any) -> bool:
    return (
        isinstance(obj, dict) and "spanID" in obj and "traceID" in obj
        and ("operationName" in obj or "references" in obj or "startTime" in obj)
    )


def _is_trace(obj: Any) -> bool:
    spans = obj.get("spans") if isinstance(obj, dict) else None
    if not isinstance(spans, list) or not ("processes" in obj or "traceID" in obj):
        return False
    return not spans or any(_is_span(s) for s in spans[:10])


def tag_value(tag: dict[str, Any]) -> Any:
    """A Jaeger tag's value as its ``type`` says (``bool`` tags may hold ``"true"``)."""
    value = tag.get("value")
    kind = str(tag.get("type") or "").lower()
    if kind == "bool" and isinstance(value, str):
        return value.strip().lower() == "true"
    if kind == "int64" and isinstance(value, str):
        number = to_int(value)
        return number if number is not None else value
    if kind == "float64" and isinstance(value, str):
        number = to_float(value)
        return number if number is not None else value
    return value


def tags_dict(tags: Any) -> dict[str, Any]:
    """``[{"key", "type", "value"}]`` → ``{key: value}`` (items without a string key are skipped)."""
    if isinstance(tags, dict):
        return dict(tags)
    out: dict[str, Any] = {}
    for tag in tags if isinstance(tags, list) else ():
        if isinstance(tag, dict) and isinstance(tag.get("key"), str):
            out[tag["key"]] = tag_value(tag)
    return out


def _process_resource(process: Any) -> dict[str, Any]:
    if not isinstance(process, dict):
        return {}
    resource = tags_dict(process.get("tags"))
    service = to_text(process.get("serviceName"))
    if service is not None:
        resource["service.name"] = service
    return resource


def _events(logs: Any) -> list[dict[str, Any]] | None:
    out: list[dict[str, Any]] = []
    for log in logs if isinstance(logs, list) else ():
        if not isinstance(log, dict):
            continue
        fields = tags_dict(log.get("fields"))
        stamp = to_int(log.get("timestamp"))
        name = to_text(fields.get("event")) or ("exception" if "exception.type" in fields else "log")
        out.append({"name": name, "timeUnixNano": stamp * _MICROS if stamp is not None else None,
                    "attributes": fields})
    return out or None


def _log_error(events: list[dict[str, Any]] | None) -> str | None:
    """An error message written as a log (``event: error``, ``error.object``, ``message``)."""
    for event in events or ():
        fields = event.get("attributes") or {}
        if event.get("name") == "error" or "error.object" in fields or "error.kind" in fields:
            return to_text(fields.get("message")) or to_text(fields.get("error.object")) or to_text(
                fields.get("error.kind"))
    return None


def _parent(raw: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
    """The parent span id and the references that are not it."""
    references = [r for r in raw.get("references") or () if isinstance(r, dict)]
    for ref_type in ("CHILD_OF", "FOLLOWS_FROM"):
        for index, ref in enumerate(references):
            if str(ref.get("refType", "")).upper() == ref_type and ref.get("spanID"):
                return ref["spanID"], references[:index] + references[index + 1:]
    return raw.get("parentSpanID"), references


class JaegerReader(Reader):
    """Jaeger traces (``{traceID, spans, processes}``) and Jaeger spans (with ``process`` inline)."""

    format = "jaeger_json"
    priority = 20

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self._loose: dict[str, list[tuple[Any, str]]] = {}

    @classmethod
    def match(cls, obj: Any) -> bool:
        return _is_trace(obj) or _is_span(obj)

    def feed(self, obj: Any, locator: str) -> Iterator[Record]:
        if _is_trace(obj):
            processes = obj.get("processes")
            yield from self._trace(
                [(raw, f"{locator}.spans[{i}]") for i, raw in enumerate(obj["spans"])],
                processes if isinstance(processes, dict) else {},
            )
            return
        # a span on its own: kept until the end of the file, so a trace's spans are settled together
        self._loose.setdefault(str(obj.get("traceID")), []).append((obj, locator))

    def finish(self) -> Iterator[Record]:
        loose, self._loose = self._loose, {}
        for spans in loose.values():
            yield from self._trace(spans, {})

    def _trace(self, raws: list[tuple[Any, str]], processes: dict[str, Any]) -> Iterator[Record]:
        halves: list[Half] = []
        resources: dict[str, dict[str, Any]] = {}
        for raw, locator in raws:
            if not isinstance(raw, dict):
                self.ctx.reject(locator, "span is not an object", raw)
                continue
            if not raw.get("traceID") or not raw.get("spanID"):
                self.ctx.reject(locator, "span without traceID or spanID", raw.get("operationName"))
                continue
            process = raw.get("process")
            key = None
            if not isinstance(process, dict):
                key = str(raw.get("processID"))
                process = processes.get(key)
            if key is None:
                resource = _process_resource(process)
            else:  # spans of one process share its resource dict (stored once per batch)
                resource = resources.get(key) or resources.setdefault(key, _process_resource(process))
            half = self._span(raw, resource, locator)
            if half is not None:
                halves.append(half)
        self.ctx.count(ID_CLASHES, separate_shared_halves(halves))
        for half in halves:
            yield half.span

    def _span(self, raw: dict[str, Any], resource: dict[str, Any], locator: str) -> Half | None:
        tags = tags_dict(raw.get("tags"))
        start = to_int(raw.get("startTime"))
        duration = to_int(raw.get("duration"))
        parent, other_refs = _parent(raw)
        events = _events(raw.get("logs"))
        status, message = tag_status(tags, any_error_value=False)
        if status == "error" and message == "error":
            message = _log_error(events) or message
        side = str(tags.get("span.kind") or "").lower() or None
        if other_refs:
            tags["jaeger.references"] = other_refs
        warnings = raw.get("warnings")
        if warnings:
            tags["jaeger.warnings"] = warnings
        span: Span = make_span(
            trace_id=raw["traceID"],
            span_id=raw["spanID"],
            parent_span_id=parent,
            name=raw.get("operationName"),
            native_kind=side,
            start=start * _MICROS if start is not None else None,
            end=(start + duration) * _MICROS if start is not None and duration is not None else None,
            status=status,
            status_message=message,
            attributes=tags,
            events=events,
            resource=resource,
            source=self.src(locator),
        )
        endpoint = f"{resource.get('service.name')}@{resource.get('hostname', resource.get('ip'))}"
        return Half(span, side, endpoint, content_digest(raw))


READERS = [JaegerReader]
