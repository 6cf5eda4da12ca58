"""OTLP protobuf: binary ``ExportTraceServiceRequest`` (``.pb``/``.bin``/``.protobuf``, as an OTLP/HTTP
body or a collector dump) and its protobuf text form. Messages are converted to the OTLP/JSON shape
(ids as hex) and read by the OTLP/JSON reader, so both encodings map identically."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tracemine.ingest.base import BinaryReader, ReadContext, Record
from tracemine.ingest.readers.otlp import OtlpJsonReader

_BINARY_SUFFIXES = (".pb", ".bin", ".protobuf", ".otlp", ".proto")


def _request_type() -> Any:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    return ExportTraceServiceRequest


def _as_json_shape(message: Any) -> dict[str, Any]:
    from google.protobuf.json_format import MessageToDict

    data = MessageToDict(message)
    for r_block, r_msg in zip(data.get("resourceSpans", []), message.resource_spans, strict=False):
        for s_block, s_msg in zip(r_block.get("scopeSpans", []), r_msg.scope_spans, strict=False):
            for span, span_msg in zip(s_block.get("spans", []), s_msg.spans, strict=False):
                span["traceId"] = span_msg.trace_id.hex()
                span["spanId"] = span_msg.span_id.hex()
                span["parentSpanId"] = span_msg.parent_span_id.hex()
    return data


class _ProtoReaderBase(BinaryReader):
    def _decode(self, data: bytes) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def read(self, data: bytes, ctx: ReadContext) -> Iterator[Record]:
        try:
            message = self._decode(data)
        except Exception as exc:
            ctx.reject("file", f"invalid OTLP protobuf: {type(exc).__name__}: {exc}")
            return
        if not message.resource_spans:
            ctx.reject("file", "OTLP protobuf message without resource spans")
            return
        reader = OtlpJsonReader(ctx)
        reader.format = self.format  # type: ignore[misc]  # records name the encoding actually read
        yield from reader.feed(_as_json_shape(message), "message")


class OtlpProtobufReader(_ProtoReaderBase):
    format = "otlp_protobuf"

    @classmethod
    def match_file(cls, path: str, head: bytes) -> bool:
        if not head or head[:1] != b"\x0a":  # field 1 (resource_spans), length-delimited
            return False
        if path.lower().endswith(_BINARY_SUFFIXES):
            return True
        return b"\x00" in head[:4096] or not _is_text(head)

    def _decode(self, data: bytes) -> Any:
        message = _request_type()()
        message.ParseFromString(data)
        return message


class OtlpProtobufTextReader(_ProtoReaderBase):
    format = "otlp_protobuf_text"

    @classmethod
    def match_file(cls, path: str, head: bytes) -> bool:
        stripped = b"\n".join(line for line in head.splitlines() if not line.lstrip().startswith(b"#")).lstrip()
        return stripped.startswith((b"resource_spans", b"resourceSpans")) and b"{" in stripped

    def _decode(self, data: bytes) -> Any:
        from google.protobuf import text_format

        return text_format.Parse(data.decode("utf-8", errors="replace"), _request_type()())


def _is_text(head: bytes) -> bool:
    try:
        head[:4096].decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


BINARY_READERS = [OtlpProtobufReader, OtlpProtobufTextReader]
