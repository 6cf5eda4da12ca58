"""Arize Phoenix / OpenInference span JSON: ``context.{trace_id,span_id}``, ``parent_id``, ``span_kind``,
``status_code``, nested ``attributes`` (``{"llm": {"model_name": ...}}``), as Phoenix exports and
``px.Client().get_spans_dataframe().to_json(orient="records")`` writes (dotted column names included).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tracemine.ingest.base import Reader, Record
from tracemine.ingest.readers.flat import is_flat_span, span_from_flat


def _from_dataframe_record(obj: dict[str, Any]) -> dict[str, Any]:
    """Spans-dataframe records spell nested keys as columns (``context.span_id``, ``attributes.llm``)."""
    out: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    context: dict[str, Any] = {}
    for key, value in obj.items():
        if key.startswith("attributes."):
            attributes[key[len("attributes."):]] = value
        elif key.startswith("context."):
            context[key[len("context."):]] = value
        else:
            out[key] = value
    if context:
        out["context"] = context
    if attributes:
        out["attributes"] = attributes
    return out


class PhoenixSpanReader(Reader):
    format = "phoenix_json"
    priority = 40
    splittable = True

    @classmethod
    def match(cls, obj: Any) -> bool:
        if not isinstance(obj, dict) or "span_kind" not in obj:
            return False
        if "context.span_id" in obj or "context.trace_id" in obj:
            return True
        return is_flat_span(obj)

    def feed(self, obj: Any, locator: str) -> Iterator[Record]:
        if "context.span_id" in obj or "context.trace_id" in obj:
            obj = _from_dataframe_record(obj)
        attributes = obj.get("attributes")
        if isinstance(attributes, dict) and "openinference.span.kind" not in attributes:
            nested = attributes.get("openinference")
            if not (isinstance(nested, dict) and "span" in nested):
                attributes = {**attributes, "openinference.span.kind": obj.get("span_kind")}
                obj = {**obj, "attributes": attributes}
        span = span_from_flat(obj, self, locator, kind_key="span_kind")
        if span is not None:
            yield span


READERS = [PhoenixSpanReader]
