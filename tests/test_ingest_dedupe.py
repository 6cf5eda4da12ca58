"""What the archive calls a duplicate: the same ``(trace_id, span_id)`` with the same content. Different
records that share an id are both kept (the later ones under a derived id, deterministic) and counted
as id clashes, whatever reader produced them; reading the same records again stores nothing new."""

from __future__ import annotations

from pathlib import Path

import orjson

from tracemine.ingest.loader import ingest_paths
from tracemine.store import Store

T0 = 1_761_955_200_000_000_000
TRACE = "ab" * 16


def _flat(span: str, name: str = "step", **attrs) -> dict:
    return {"trace_id": TRACE, "span_id": span, "parent_span_id": "", "name": name, "kind": "SPAN_KIND_INTERNAL",
            "start_time": T0, "end_time": T0 + 1000, "attributes": attrs}


def _jsonl(path: Path, records: list[dict], tail: bytes = b"") -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records) + tail)
    return path


def _rows(store: Store) -> list[tuple]:
    return store.con.execute(
        "SELECT span_id, raw_span_id, name, ingest_id FROM spans ORDER BY ingest_id, name, span_id").fetchall()


def test_same_id_same_content_is_a_duplicate_different_content_is_kept(tmp_path: Path) -> None:
    one = _jsonl(tmp_path / "one.jsonl", [_flat("b" * 16), _flat("b" * 16), _flat("b" * 16, "other"), _flat("c" * 16, "next")])
    with Store(tmp_path / "a.duckdb") as store:
        report = ingest_paths([str(one)], store)
        assert (report.spans_read, report.spans_inserted, report.duplicate_spans, report.id_clashes) == (4, 3, 1, 1)
        rows = _rows(store)
    kept = {name: (span_id, raw) for span_id, raw, name, _ in rows}
    assert kept["step"] == ("b" * 16, None) and kept["step"] != kept["other"]
    derived, raw = kept["other"]
    assert derived != "b" * 16 and len(derived) == 16 and raw == "b" * 16
    # the derived id depends on the record only: another archive gives it the same id
    with Store(tmp_path / "b.duckdb") as store:
        ingest_paths([str(one)], store)
        assert _rows(store) == rows


def test_clashes_across_ingests_and_rereading_stores_each_record_once(tmp_path: Path) -> None:
    first = _jsonl(tmp_path / "first.jsonl", [_flat("b" * 16), _flat("c" * 16)])
    # the second file repeats one span, changes another and adds a third record under a used id; a bad
    # line makes it be read again on the next ingest
    second = _jsonl(tmp_path / "second.jsonl", [_flat("b" * 16), _flat("c" * 16, "changed"),
                                                 _flat("c" * 16, "third")], b"{bad\n")
    with Store(tmp_path / "x.duckdb") as store:
        ingest_paths([str(first)], store)
        report = ingest_paths([str(second)], store)
        assert (report.spans_inserted, report.duplicate_spans, report.id_clashes, report.rejected) == (2, 1, 2, 1)
        stored = _rows(store)
        assert len(stored) == 4 and len({r[0] for r in stored}) == 4
        assert {r[2] for r in stored if r[1] == "c" * 16} == {"changed", "third"}
        again = ingest_paths([str(second)], store)
        assert (again.spans_inserted, again.duplicate_spans, again.id_clashes) == (0, 3, 0)
        assert _rows(store) == stored
        # the same records in another order, in another file: still nothing new
        shuffled = _jsonl(tmp_path / "shuffled.jsonl", [_flat("c" * 16, "third"), _flat("c" * 16, "changed"),
                                                        _flat("c" * 16)])
        report = ingest_paths([str(shuffled)], store)
        assert (report.spans_inserted, report.duplicate_spans) == (0, 3)
        summary = store.one("SELECT duplicate_spans, id_clashes FROM ingests ORDER BY ingest_id LIMIT 1 OFFSET 1")
        assert summary == (1, 2)


def test_otlp_spans_sharing_an_id_are_both_kept(tmp_path: Path) -> None:
    def span(name: str) -> dict:
        return {"traceId": TRACE, "spanId": "d" * 16, "name": name,
                "startTimeUnixNano": str(T0), "endTimeUnixNano": str(T0 + 5)}

    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [span("a"), span("b"), span("a")]}]}]}
    path = tmp_path / "otlp.json"
    path.write_bytes(orjson.dumps(doc))
    with Store(tmp_path / "o.duckdb") as store:
        report = ingest_paths([str(path)], store)
        assert (report.spans_inserted, report.duplicate_spans, report.id_clashes) == (2, 1, 1)
        names = store.con.execute("SELECT name, span_id = ? FROM spans ORDER BY name", ["d" * 16]).fetchall()
    assert names == [("a", True), ("b", False)]


def test_cli_summary_shows_the_clash_counter(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from tracemine.cli import main

    path = _jsonl(tmp_path / "c.jsonl", [_flat("e" * 16), _flat("e" * 16, "other"), _flat("e" * 16)])
    result = CliRunner().invoke(main, ["ingest", str(path), "--db", str(tmp_path / "c.duckdb"), "-q"])
    assert result.exit_code == 0, result.output
    assert "1 duplicate spans, 1 reused-id spans kept apart" in result.output
