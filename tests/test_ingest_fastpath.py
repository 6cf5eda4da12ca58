"""The ingest fast path (rows built straight from OTLP / flat records) stores exactly what the general
path stores: the same rows in the same order, the same rejections, the same format counts — on
synthetic data, on irregular variants of its records, and on the sample files of every format."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest

import tracemine.ingest.fast as fast
from tracemine.config import IngestSettings
from tracemine.ingest.loader import run_task
from tracemine.ingest.normalize import iso_z_ns, to_ns
from tracemine.ingest.tasks import Task
from tracemine.synth import SynthConfig, generate

from conftest import FIXTURES, SAMPLES


def _run(path: Path, enabled: bool, monkeypatch: pytest.MonkeyPatch, **settings: Any) -> dict[str, Any]:
    monkeypatch.setattr(fast, "ENABLED", enabled)
    task = Task(str(path), None, 1, path.stat().st_size)
    result = run_task(task, IngestSettings(**settings), 7, 123)
    rows = [row for table in result.tables for row in table.to_pylist()]
    return {"rows": rows, "quarantine": result.quarantine, "formats": result.formats, "spans": result.spans}


def _same(path: Path, monkeypatch: pytest.MonkeyPatch, **settings: Any) -> dict[str, Any]:
    general = _run(path, False, monkeypatch, **settings)
    quick = _run(path, True, monkeypatch, **settings)
    for i, (a, b) in enumerate(zip(general["rows"], quick["rows"], strict=True)):
        assert a == b, (path.name, i, {k: (a[k], b[k]) for k in a if a[k] != b[k]})
    assert general["quarantine"] == quick["quarantine"]
    assert general["formats"] == quick["formats"] and general["spans"] == quick["spans"]
    return quick


@pytest.fixture(scope="module")
def synth_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("synth")
    out = {}
    for fmt in ("otlp", "jsonl"):
        generate(SynthConfig(traces=60, seed=3, fmt=fmt), root / fmt)
        out[fmt] = root / fmt / "traces.jsonl"
    return out


@pytest.mark.parametrize("fmt", ["otlp", "jsonl"])
def test_synthetic_data_is_stored_identically(fmt: str, synth_files: dict[str, Path], monkeypatch) -> None:
    result = _same(synth_files[fmt], monkeypatch)
    assert result["spans"] > 500
    # small limits: payloads, attributes and resources are cut the same way
    _same(synth_files[fmt], monkeypatch, max_field_chars=1000, max_attr_chars=100, batch_spans=100)


def _hex_variants(value: str) -> list[Any]:
    return [value.upper(), "0x" + value, base64.b64encode(bytes.fromhex(value)).decode(), int(value, 16),
            "0" * len(value), "", None, "span_" + value, value[:5], f"  {value} "]


def _otlp_span_variants(span: dict[str, Any]) -> list[dict[str, Any]]:
    """One change each to a regular OTLP span: everything the fast path must either get right or hand over."""
    changes: list[Any] = []
    for key in ("traceId", "spanId", "parentSpanId"):
        changes += [{key: v} for v in _hex_variants(span.get(key) or "ab" * 8)]
    changes += [
        {"status": s} for s in ({"code": 2, "message": "boom"}, {"code": "STATUS_CODE_ERROR"}, {"code": "1"}, {},
                                "bad", {"code": 7}, {"message": 5}, {"code": 0, "message": "m"}, {"code": None})
    ]
    changes += [{"kind": k} for k in ("SPAN_KIND_SERVER", 0, 5, 9, None, "internal", 2.0)]
    changes += [{"startTimeUnixNano": t} for t in (1792886531043880074, "", None, "abc", "2026-10-25T00:02:11Z", 1.5e9)]
    changes += [{"name": n} for n in (5, "", None, "x" * 1200, "tool: lookup", "Function.Get Data")]
    changes += [{"events": e} for e in (
        [], "x", [{"name": "log", "timeUnixNano": "1792886531043880074"}],
        [{"name": "exception", "attributes": [{"key": "exception.message", "value": {"stringValue": "m"}}]}])]
    changes += [{"attributes": a} for a in ({}, {"gen_ai.tool.name": "t"}, "junk", None, [], [5, {"key": 1}])]
    extra = [
        ("error.type", {"stringValue": "TimeoutError"}), ("gen_ai.usage.input_tokens", {"stringValue": "None"}),
        ("gen_ai.usage.output_tokens", {"intValue": str(2**70)}), ("gen_ai.usage.cost", {"stringValue": "0.5"}),
        ("gen_ai.tool.definitions", {"stringValue": '[{"type":"function","function":{"name":"f"}}]'}),
        ("traceloop.entity.name", {"stringValue": "e"}), ("gen_ai.prompt.0.content", {"stringValue": "hi"}),
        ("openinference.span.kind", {"stringValue": "RETRIEVER"}), ("gen_ai.agent.name", {"intValue": "5"}),
        ("gen_ai.tool.call.arguments", {"kvlistValue": {"values": [{"key": "k", "value": {"stringValue": "v"}}]}}),
        ("big", {"stringValue": "y" * 300}), ("list", {"arrayValue": {"values": [{"boolValue": True}]}}),
        ("gen_ai.usage.input_tokens", {"doubleValue": 12.7}), ("gen_ai.input.messages", {"stringValue": "z" * 1500}),
        ("gen_ai.output.messages", {"string_value": "snake"}), ("llm.request.type", {"stringValue": "embedding"}),
    ]
    changes += [{"attributes": (span.get("attributes") or []) + [{"key": k, "value": v}]} for k, v in extra]
    changes += [{"trace_id": span["traceId"], "traceId": None}, {"droppedAttributesCount": 1, "links": []}]
    out = []
    for change in changes:
        variant = copy.deepcopy(span)
        variant.update(change)
        out.append({key: value for key, value in variant.items() if value is not None or key == "parentSpanId"})
    return out


def _flat_variants(record: dict[str, Any]) -> list[dict[str, Any]]:
    changes: list[Any] = []
    for key in ("trace_id", "span_id", "parent_span_id"):
        changes += [{key: v} for v in _hex_variants(record.get(key) or "ab" * 8)]
    stamp = record["start_time"]
    changes += [{"start_time": t} for t in (
        stamp[:-1] + "+02:00", stamp[:19] + "Z", stamp[:-1] + "z", stamp.replace("T", " "), 1792886531043,
        "1792886531043880074", [1792886531, 5], "yesterday", None, stamp[:26] + "Z", stamp[:10], " " + stamp,
        stamp[:20] + "x" + stamp[21:], stamp[:20] + "Z")]
    changes += [{"status": s} for s in ({"code": "STATUS_CODE_ERROR", "message": "boom"}, "ERROR", None, {},
                                        {"status_code": "OK", "description": "d"}, 2, {"code": "weird"})]
    changes += [{"kind": k} for k in ("SPAN_KIND_SERVER", 3, None, "SpanKind.CLIENT", "")]
    changes += [{"events": e} for e in (None, "x", [{"name": "exception", "attributes": {"exception.type": "E"}}])]
    changes += [{"attributes": a} for a in ("junk", 5, {}, [{"key": "tool.name", "value": {"stringValue": "t"}}],
                                            {"a": {"b": 1}, "openinference": {"span": {"kind": "TOOL"}}})]
    changes += [{"resource": r} for r in (None, {}, "x", {"service.name": "s"}, {"attributes": {"a": 1, "b": True}},
                                          {"attributes": {"a": True, "b": 1}}, {"attributes": {"big": "r" * 300}},
                                          {"attributes": [{"key": "n", "value": {"intValue": "1"}}]},
                                          # consecutive resources: the fast path reuses the last one's JSON
                                          {"attributes": {"x": "1", "y": "2"}}, {"attributes": {"x": "1", "y": "2"}},
                                          {"attributes": {"y": "2", "x": "1"}}, {"attributes": {"x": "1", "y": 2}},
                                          {"attributes": {"x": "1", "y": "2"}}, {"x": "1", "y": "2"},
                                          {"attributes": {"x": "1", "y": "2", "z": {"a": "b"}}},
                                          {"attributes": {"x": "1", "y": "2"}}, {"attributes": {"x": "1", "y": "2"}})]
    extra = [("error.type", "E"), ("llm.token_count.prompt", "None"), ("llm.token_count.completion", 2**70),
             ("llm.cost.total", "0.5"), ("tool.parameters", '{"type":"object"}'), ("agent.tools", ["a"]),
             ("input.value", {"a": [1]}), ("output.value", "z" * 1500), ("session.id", None), ("flag", True),
             ("inference.observation_kind", "AGENT"), ("tool_call.function.name", "tf"), ("nested", {"a": {"b": 1}})]
    changes += [{"attributes": {**record.get("attributes", {}), k: v}} for k, v in extra]
    schemas = ({"tool.name": "t", "tool.parameters": '{"type":"object"}', "tool.description": "d"},
               {"tool.name": "t", "tool.parameters": {"type": "object"}}, {"tool.parameters": "junk"},
               {"tool.name": "t", "tool.parameters": '{"a":1}', "llm.tools.0.tool.json_schema": '{"name":"t","parameters":{"b":2}}',
                "llm.tools.1.tool.json_schema": "junk"},
               {"llm.tools.0.tool.json_schema": '{"name":"u"}', "llm.tools.1.tool.json_schema": {"name": "v"}},
               {"llm.tools.0.tool.json_schema": '{"name":"w","parameters":{"x":"' + "y" * 1200 + '"}}'})
    changes += [{"attributes": {**record.get("attributes", {}), **schema}} for schema in schemas]
    changes += [{"parentSpanId": "ab" * 8, "parent_span_id": _DROP}, {"parent": {"span_id": "cd" * 8}, "parent_span_id": _DROP},
                {"parent_id": "ef" * 8, "parent_span_id": _DROP}, {"span_kind": "LLM"}, {"x": 1},
                {"context": {"trace_id": record["trace_id"], "span_id": record["span_id"]}, "trace_id": None},
                {"timestamp": 1792886531043880, "duration": 5, "start_time": None}]
    out = []
    for change in changes:
        variant = copy.deepcopy(record)
        variant.update(change)
        out.append({key: value for key, value in variant.items()
                    if value is not _DROP and (value is not None or key in change)})
    return out


_DROP = object()


def test_irregular_records_are_handed_over_and_stored_identically(synth_files, tmp_path: Path, monkeypatch) -> None:
    otlp_lines = synth_files["otlp"].read_text().splitlines()[:12]
    flat_lines = synth_files["jsonl"].read_text().splitlines()[:40]
    otlp_out, flat_out = [], []
    for n, line in enumerate(otlp_lines):
        request = json.loads(line)
        spans = request["resourceSpans"][0]["scopeSpans"][0]["spans"]
        for variant in _otlp_span_variants(spans[n % len(spans)]):
            spans[n % len(spans)] = variant
            otlp_out.append(json.dumps(request))
    for n, line in enumerate(flat_lines):
        for variant in _flat_variants(json.loads(line)):
            flat_out.append(json.dumps(variant))
        if n % 5 == 0:
            flat_out.append("{not json")
    (tmp_path / "otlp.jsonl").write_text("\n".join(otlp_out) + "\n[1]\n")
    (tmp_path / "flat.jsonl").write_text("\n".join(flat_out) + "\n")
    for name in ("otlp.jsonl", "flat.jsonl"):
        result = _same(tmp_path / name, monkeypatch)
        assert result["quarantine"] and result["spans"] > 100
        _same(tmp_path / name, monkeypatch, max_field_chars=1000, max_attr_chars=100, batch_spans=100)


def test_sample_and_fixture_files_are_stored_identically(monkeypatch) -> None:
    files = sorted(p for p in FIXTURES.rglob("*") if p.is_file())
    if SAMPLES.is_dir():
        files += sorted(p for p in SAMPLES.iterdir() if p.is_file() and p.suffix != ".md")
    assert files
    for path in files:
        _same(path, monkeypatch)


def test_cached_iso_times_match_the_general_parser() -> None:
    base = "2026-10-25T00:02:11"
    for value in (f"{base}.043880074Z", f"{base}.0Z", f"{base}.0438800741234Z", "2026-13-25T00:02:11.04Z",
                  f"{base[:-1]}x.04Z", f"{base}.0a4Z", f"{base}.٣Z", f"{base}.-1Z", f"{base}.1_0Z", f"{base}. 1Z",
                  "2026-02-30T00:02:11.5Z", "2026-10-25T24:60:61.5Z", f"{base}.5z", f"{base}Z", 17, None,
                  # nine-digit fractions after their second is cached
                  f"{base}.043880074Z", f"{base}.04388007aZ", f"{base}.٣٣٣٣٣٣٣٣٣Z", f"{base}.-43880074Z",
                  "2026-13-25T00:02:11.043880074Z", "2026-13-25T00:02:11.043880074Z"):
        assert iso_z_ns(value) == to_ns(value), value
