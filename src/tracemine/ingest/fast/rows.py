"""Archive rows built straight from field values: the tuple :meth:`SpanBatch.add` would make of the
equivalent :class:`~tracemine.model.Span`, for spans the fast path fully understands.

Only what such a span can hold is handled (no events, explicit status); the
clipping of oversized text and the JSON of attributes and resources use the same helpers as
:class:`~tracemine.store.batch.SpanBatch`, so a row is identical whichever way it was built.
"""

from __future__ import annotations

from typing import Any

from tracemine.ingest.outcome import RootSpanFacts, root_outcome
from tracemine.model import SpanKind, Status, StatusSource
from tracemine.store.batch import SpanBatch, _clip, _clip_attributes, _dump

_INT64_MIN, _INT64_MAX = -(2**63), 2**63
_KIND_TEXT: dict[Any, str] = {m: m.value for m in SpanKind}
_STATUS_TEXT: dict[Any, str] = {m: m.value for m in Status}
_EXPLICIT = StatusSource.EXPLICIT.value


class RowBuilder:
    """Turns one span's fields into a row of :data:`~tracemine.store.schema.SPAN_COLUMNS`."""

    def __init__(self, batch: SpanBatch) -> None:
        self.ingest_id = batch.ingest_id
        self.fallback_time_ns = batch.fallback_time_ns
        self.max_field_chars = batch.max_field_chars
        self.max_attr_chars = batch.max_attr_chars
        # spans of one OTLP resource block share its dict: its JSON is made once
        self._resource: tuple[object, str | None, bool] = (None, None, False)
        # flat records: the items of the last all-text resource and its attribute dict (fast/flat.py)
        self.flat_resource: tuple[tuple[tuple[str, Any], ...] | None, dict[str, Any]] = (None, {})
        # root spans that may give their trace's outcome (tracemine.ingest.outcome.root_outcome), by the id
        # of their row: run_task keeps them in the order it takes the rows, as it does for Span objects
        self.pending_roots: dict[int, RootSpanFacts] = {}

    def resource_text(self, resource: dict[str, Any] | None) -> tuple[str | None, bool]:
        """The stored JSON of a resource and whether it was cut (cached for the last resource dict)."""
        cached = self._resource
        if resource is cached[0]:
            return cached[1], cached[2]
        text = _dump(resource) if resource else None
        cut = text is not None and len(text) > self.max_attr_chars
        if cut:
            text, _ = _clip(text, self.max_attr_chars)
        self._resource = (resource, text, cut)
        return text, cut

    def row(
        self,
        trace_id: str,
        span_id: str,
        parent_span_id: str | None,
        name: str,
        kind: SpanKind,
        start: int | None,
        end: int | None,
        status: Status,
        message: str | None,
        fields: list[Any],
        definitions: str | None,
        attrs: dict[str, Any] | None,
        resource: dict[str, Any] | None,
        raw_trace_id: str,
        raw_span_id: str,
        source_format: str,
        source_file: str,
        locator: str,
    ) -> tuple[Any, ...]:
        """``fields`` are the mapped values in :data:`tracemine.ingest.fast.mapping.FIELDS` order."""
        (model, input_tokens, output_tokens, total_tokens, cost, session_id, agent_id, agent_name, tool_name,
         tool_call_id, arguments, result, inp, out) = fields
        found = (
            root_outcome(trace_id, name, _STATUS_TEXT[status], attrs, source_format, source_file)
            if parent_span_id is None else None
        )
        limit = self.max_field_chars
        truncated = False
        if (
            (arguments is not None and len(arguments) > limit) or (result is not None and len(result) > limit)
            or (definitions is not None and len(definitions) > limit)
            or (inp is not None and len(inp) > limit) or (out is not None and len(out) > limit)
            or (message is not None and len(message) > limit) or len(name) > limit
        ):
            name, arguments, result, definitions, inp, out, message = (
                _clip(v, limit)[0] for v in (name, arguments, result, definitions, inp, out, message)
            )
            truncated = True
        attrs_text = _dump(attrs) if attrs else None
        if attrs_text is not None and len(attrs_text) > self.max_attr_chars and attrs:
            clipped, cut = _clip_attributes(attrs, self.max_attr_chars)
            if cut:
                attrs_text = _dump(clipped)
                truncated = True
        resource_text, resource_cut = self.resource_text(resource)
        row = (
            trace_id, span_id, parent_span_id, name, _KIND_TEXT[kind], start, end,
            end if end is not None else start if start is not None else self.fallback_time_ns,
            None, _STATUS_TEXT[status], message, _EXPLICIT, tool_name, tool_call_id, arguments, result, definitions,
            inp, out, model,
            input_tokens if input_tokens is None or _INT64_MIN <= input_tokens < _INT64_MAX else None,
            output_tokens if output_tokens is None or _INT64_MIN <= output_tokens < _INT64_MAX else None,
            total_tokens if total_tokens is None or _INT64_MIN <= total_tokens < _INT64_MAX else None,
            cost, session_id, agent_id, agent_name, None, attrs_text, resource_text, truncated or resource_cut,
            raw_trace_id if raw_trace_id != trace_id else None,
            raw_span_id if raw_span_id != span_id else None,
            source_format, source_file, locator, self.ingest_id,
        )
        if found is not None:
            self.pending_roots[id(row)] = found
        return row
