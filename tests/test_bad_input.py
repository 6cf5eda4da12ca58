"""Bad input never crashes a run and never disappears silently: a corpus of broken files goes through
`tracemine ingest`, every valid span is kept and every rejected record is listed with file, line and
reason. Hypothesis fuzzes the OTLP/JSON and flat-JSONL readers."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import orjson
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracemine.cli import main
from tracemine.model import Span

from conftest import read_all, spans_of

T0 = 1_761_955_200_000_000_000


def _span(i: int, **overrides) -> dict:
    record = {
        "trace_id": f"{i + 1:032x}", "span_id": f"{i + 1:016x}", "parent_span_id": "", "name": f"step {i}",
        "kind": "SPAN_KIND_INTERNAL", "start_time": T0 + i, "end_time": T0 + i + 1000,
        "status": {"code": "STATUS_CODE_OK", "message": ""},
        "attributes": {"openinference.span.kind": "TOOL", "tool.name": "lookup", "input.value": '{"k": 1}'},
    }
    record.update(overrides)
    return record


def _line(record: dict) -> bytes:
    return orjson.dumps(record) + b"\n"


def _build_corpus(root: Path) -> dict[str, int]:
    """Write the corpus; returns the number of valid spans each file holds."""
    valid: dict[str, int] = {}
    # 1. truncated JSON-lines: the last record is cut mid-way
    data = b"".join(_line(_span(i)) for i in range(5))
    (root / "truncated.jsonl").write_bytes(data + _line(_span(5))[:40])
    valid["truncated.jsonl"] = 5
    # 2. non-JSON lines between records, a blank line, a comment line
    (root / "noise.jsonl").write_bytes(
        _line(_span(10)) + b"garbage here\n\n# comment\n" + _line(_span(11)) + b"{\"unterminated\": \n")
    valid["noise.jsonl"] = 2
    # 3. wrong types everywhere; only the records that still name a trace and a span are kept
    wrong = [
        _span(20, attributes="not-a-dict"),              # rejected: attributes is a string
        _span(21, status=["weird"], start_time={"x": 1}),  # kept: status unset, no start time
        _span(22, name=12345),                            # kept: name becomes text
        _span(23, trace_id=["list"]),                     # rejected: unusable trace id
        _span(24, span_id=None),                          # rejected: missing span id
        _span(25, end_time="yesterday", kind=7),          # kept
        [1, 2, 3],                                        # rejected: not an object
        "just a string",                                  # rejected
        {"trace_id": "ab" * 16, "spanId": None, "name": "x", "attributes": {}},  # rejected: missing span id
    ]
    (root / "wrong_types.jsonl").write_bytes(b"".join(_line(r) for r in wrong))
    valid["wrong_types.jsonl"] = 3
    # 4. invalid UTF-8 inside a string: the record is repaired and kept
    bad_utf8 = _line(_span(30)).replace(b"step 30", b"step \xff\xfe 30")
    (root / "bad_utf8.jsonl").write_bytes(bad_utf8 + _line(_span(31)))
    valid["bad_utf8.jsonl"] = 2
    # 5. a 50 MB attribute value
    big = _span(40)
    big["attributes"]["output.value"] = "x" * (50 * 1024 * 1024)
    (root / "huge_attribute.jsonl").write_bytes(_line(big) + _line(_span(41)))
    valid["huge_attribute.jsonl"] = 2
    # 6. files that are not traces at all
    (root / "image.dat").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (root / "notes.txt").write_text("these are meeting notes\nnot traces\n")
    (root / "package.json").write_text(json.dumps({"name": "left-pad", "version": "1.0.0"}, indent=2))
    (root / "empty.jsonl").write_bytes(b"")
    # 7. a truncated JSON document and a truncated gzip stream
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [
        {"traceId": "ab" * 16, "spanId": "cd" * 8, "name": "x"}]}]}]}
    (root / "truncated_doc.json").write_bytes(json.dumps(doc, indent=2).encode()[:-30])
    gz = gzip.compress(b"".join(_line(_span(500 + i)) for i in range(200)))
    (root / "cut.jsonl.gz").write_bytes(gz[: len(gz) // 2])
    # 8. deeply nested JSON (a parser bomb) between valid records
    (root / "nested.jsonl").write_bytes(_line(_span(60)) + b"[" * 5000 + b"]" * 5000 + b"\n" + _line(_span(61)))
    valid["nested.jsonl"] = 2
    # 9. an OTLP document with broken inner pieces
    otlp = {"resourceSpans": [
        {"scopeSpans": "nope"},
        {"scopeSpans": [{"spans": [
            {"traceId": "12" * 16, "spanId": "34" * 8, "name": "good", "attributes": [{"key": "a"}, "junk"]},
            {"traceId": "12" * 16, "name": "no span id"},
            "not a span",
        ]}]},
    ]}
    (root / "otlp_broken.json").write_bytes(orjson.dumps(otlp))
    valid["otlp_broken.json"] = 1
    return valid


def test_bad_input_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    valid = _build_corpus(corpus)
    db = str(tmp_path / "bad.duckdb")
    result = CliRunner().invoke(main, ["ingest", str(corpus), "--db", db, "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output

    con = duckdb.connect(db, read_only=True)
    per_file = dict(con.execute(
        "SELECT regexp_extract(source_file, '[^/]+$'), count(*) FROM spans GROUP BY 1").fetchall())
    for name, count in valid.items():
        assert per_file.get(name) == count, (name, per_file.get(name))
    # the cut gzip keeps the records before the cut
    assert 0 < per_file["cut.jsonl.gz"] < 200
    reasons = con.execute(
        "SELECT regexp_extract(file, '[^/]+$'), locator, reason FROM quarantine ORDER BY 1, 2").fetchall()
    huge = con.execute(
        "SELECT truncated, length(output) FROM spans WHERE source_file LIKE '%huge_attribute.jsonl' AND name = 'step 40'"
    ).fetchone()
    repaired = con.execute("SELECT repaired FROM ingests").fetchone()[0]
    con.close()

    by_file: dict[str, list[tuple[str, str]]] = {}
    for file, locator, reason in reasons:
        by_file.setdefault(file, []).append((locator, reason))
    assert by_file["truncated.jsonl"] == [("line 6", by_file["truncated.jsonl"][0][1])]
    assert "invalid JSON" in by_file["truncated.jsonl"][0][1]
    assert {loc for loc, _ in by_file["noise.jsonl"]} == {"line 2", "line 4", "line 6"}
    assert len(by_file["wrong_types.jsonl"]) == 6
    assert any("attributes is a str" in r for _, r in by_file["wrong_types.jsonl"])
    assert any("without trace_id or span_id" in r for _, r in by_file["wrong_types.jsonl"])
    for name in ("image.dat", "notes.txt", "package.json", "empty.jsonl", "truncated_doc.json"):
        assert name in by_file, name
    assert "truncated" in by_file["truncated_doc.json"][0][1]
    assert any("ends early" in r for _, r in by_file["cut.jsonl.gz"])
    assert [loc for loc, _ in by_file["nested.jsonl"]] == ["line 2"]
    assert len(by_file["otlp_broken.json"]) == 3  # the good span keeps its readable attributes
    assert "bad_utf8.jsonl" not in by_file and repaired == 1
    assert huge == (True, 1_000_000 + len("…[truncated 51428800 chars]"))

    listing = CliRunner().invoke(main, ["stats", "--db", db, "--quarantine", "--limit", "0"])
    assert listing.exit_code == 0
    assert "truncated.jsonl" in listing.output and "line 6" in listing.output


# -- property-based fuzzing of the OTLP/JSON and flat JSON-lines readers ------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=True)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
hexish = st.one_of(st.text(alphabet="0123456789abcdefABCDEF", min_size=0, max_size=40), json_values)


@st.composite
def flat_spans(draw: st.DrawFn) -> dict:
    record = dict(_span(draw(st.integers(0, 1000))))
    for key in draw(st.lists(st.sampled_from(sorted(record)), max_size=5, unique=True)):
        record[key] = draw(hexish if key.endswith("id") else json_values)
    for key in draw(st.lists(st.text(max_size=8), max_size=2)):
        record[key] = draw(json_values)
    return record


@st.composite
def otlp_requests(draw: st.DrawFn) -> dict:
    spans = []
    for _ in range(draw(st.integers(0, 3))):
        span = {"traceId": draw(hexish), "spanId": draw(hexish), "name": draw(json_values),
                "startTimeUnixNano": draw(json_values), "kind": draw(json_values),
                "attributes": draw(st.lists(st.fixed_dictionaries(
                    {"key": st.text(max_size=12), "value": st.dictionaries(
                        st.sampled_from(["stringValue", "intValue", "doubleValue", "boolValue", "arrayValue",
                                         "kvlistValue", "bytesValue", "junk"]), json_values, max_size=2)}),
                    max_size=4) | json_values),
                "status": draw(json_values), "events": draw(json_values)}
        spans.append(span)
    scope = draw(st.sampled_from(["scopeSpans", "instrumentationLibrarySpans", "scope_spans"]))
    return {draw(st.sampled_from(["resourceSpans", "batches"])): [
        {"resource": draw(json_values), scope: [{"spans": spans}]}]}


def _check_file(tmp_path: Path, payload: bytes, expected_records: int) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(payload)
    records, rejected = read_all(path)  # must not raise
    spans = spans_of(records)
    for span in spans:
        assert isinstance(span, Span) and span.trace_id and span.span_id
        assert span.start_ns is None or isinstance(span.start_ns, int)
    # nothing disappears silently: every record is either a span or a listed rejection
    assert len(spans) + len(rejected) >= expected_records
    for _file, locator, reason, _excerpt in rejected:
        assert locator and reason


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(flat_spans(), min_size=1, max_size=4))
def test_fuzz_flat_jsonl(tmp_path: Path, records: list[dict]) -> None:
    payload = b"".join(orjson.dumps(r, option=orjson.OPT_NON_STR_KEYS) + b"\n" for r in records
                       if _encodable(r))
    if payload:
        _check_file(tmp_path, payload, payload.count(b"\n"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(otlp_requests())
def test_fuzz_otlp_json(tmp_path: Path, request: dict) -> None:
    if not _encodable(request):
        return
    spans = next(iter(request.values()))[0]
    n_spans = len(next(v for k, v in spans.items() if k != "resource")[0]["spans"])
    _check_file(tmp_path, orjson.dumps(request, option=orjson.OPT_NON_STR_KEYS) + b"\n", n_spans)


def _encodable(value: object) -> bool:
    try:
        orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
        return True
    except (TypeError, orjson.JSONEncodeError):
        return False
