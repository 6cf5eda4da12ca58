"""Issue 13, item 5: ``tracemine ingest`` reads what ``tracemine export --parquet`` writes, exactly as
``tracemine mine DIR`` does (one path for both): the round trip export → ingest into a fresh archive gives
identical span rows, and no Parquet file is ignored or quarantined."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from tracemine.cli import main
from tracemine.store import Store
from tracemine.store.schema import SPAN_COLUMN_NAMES, TRACE_ARROW_SCHEMA

SPAN_ROW = ", ".join(c for c in SPAN_COLUMN_NAMES if c != "ingest_id")  # an ingest id is the archive's own count
TRACE_ROW = ", ".join(f.name for f in TRACE_ARROW_SCHEMA if f.name != "ingest_id")


def _invoke(*args: str) -> object:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def _rows(db: Path, table: str, columns: str) -> list[tuple]:
    with Store(db, read_only=True) as store:
        return store.con.execute(f"SELECT {columns} FROM {table} ORDER BY ALL").fetchall()


def _quarantine(db: Path) -> list[tuple]:
    with Store(db, read_only=True) as store:
        return store.con.execute("SELECT file, locator, reason FROM quarantine ORDER BY ALL").fetchall()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A multi-day synthetic archive and its Parquet export (several days x shards)."""
    tmp = tmp_path_factory.mktemp("roundtrip")
    data = tmp / "traces"
    _invoke("synth", "--traces", "150", "--days", "5", "--seed", "7", "--out", str(data))
    db = tmp / "source.duckdb"
    _invoke("ingest", str(data), "--db", str(db), "-q")
    out = tmp / "export"
    _invoke("export", "--db", str(db), "--parquet", str(out), "--shards", "4")
    files = sorted(out.rglob("*.parquet"))
    assert len(files) > 8 and any("day=" in str(f) for f in files)
    return {"tmp": tmp, "db": db, "out": out, "files": files, "spans": _rows(db, "spans", SPAN_ROW),
            "traces": _rows(db, "traces", TRACE_ROW)}


def test_ingest_reads_an_export_back_as_identical_span_rows(exported: dict) -> None:
    fresh = exported["tmp"] / "fresh.duckdb"
    result = _invoke("ingest", str(exported["out"]), "--db", str(fresh))
    assert "ignored" not in result.output and "rejected record(s);" not in result.output, result.output
    assert f"from {len(exported['files'])} file(s)" in result.output
    assert _rows(fresh, "spans", SPAN_ROW) == exported["spans"]
    assert _rows(fresh, "traces", TRACE_ROW) == exported["traces"]
    assert _quarantine(fresh) == []
    with Store(fresh, read_only=True) as store:
        recorded = {r[0] for r in store.con.execute("SELECT path FROM files").fetchall()}
    assert recorded == {str(f) for f in exported["files"]}  # every partition read, none ignored
    stats = orjson.loads(_invoke("stats", "--db", str(fresh), "--json").stdout)
    assert stats["spans"] == len(exported["spans"]) and stats["quarantined"] == 0
    # the same folder again: every partition already ingested, nothing added
    again = _invoke("ingest", str(exported["out"]), "--db", str(fresh), "-q")
    assert f"{len(exported['files'])} file(s) already ingested" in again.output
    assert _rows(fresh, "spans", SPAN_ROW) == exported["spans"]


def test_ingest_and_mine_read_partitions_the_same_way(exported: dict) -> None:
    """`mine DIR` and `ingest DIR` store the same rows; so do Parquet files named one by one, by a glob, or
    in a folder that also holds JSON-lines trace files."""
    by_mine = exported["tmp"] / "mine.duckdb"
    _invoke("mine", str(exported["out"]), "--db", str(by_mine), "--out", str(exported["tmp"] / "report"), "-q")
    assert _rows(by_mine, "spans", SPAN_ROW) == exported["spans"]
    named = exported["tmp"] / "named.duckdb"
    _invoke("ingest", *map(str, exported["files"]), "--db", str(named), "-q")
    assert _rows(named, "spans", SPAN_ROW) == exported["spans"] and _quarantine(named) == []
    globbed = exported["tmp"] / "glob.duckdb"
    _invoke("ingest", f"{exported['out']}/spans/**/*.parquet", "--db", str(globbed), "-q")
    assert _rows(globbed, "spans", SPAN_ROW) == exported["spans"] and _quarantine(globbed) == []
    mixed = exported["tmp"] / "mixed"
    shutil.copytree(exported["out"], mixed / "parquet")
    extra = {"trace_id": "e" * 32, "span_id": "e" * 16, "parent_span_id": "", "name": "extra step",
             "kind": "SPAN_KIND_INTERNAL", "start_time": 1_790_000_000_000_000_000,
             "end_time": 1_790_000_001_000_000_000, "status": {"code": "STATUS_CODE_OK", "message": ""},
             "attributes": {"openinference.span.kind": "TOOL", "tool.name": "lookup", "input.value": "{}"}}
    (mixed / "extra.jsonl").write_bytes(orjson.dumps(extra) + b"\n")
    both = exported["tmp"] / "mixed.duckdb"
    result = _invoke("ingest", str(mixed), "--db", str(both))
    assert "ignored" not in result.output, result.output
    rows = _rows(both, "spans", "trace_id, span_id")
    assert len(rows) == len(exported["spans"]) + 1 and ("e" * 32, "e" * 16) in rows
    assert _quarantine(both) == []


def test_a_broken_parquet_file_is_quarantined_and_the_rest_is_read(exported: dict) -> None:
    folder = exported["tmp"] / "broken"
    shutil.copytree(exported["out"], folder)
    bad = folder / "spans" / "day=2000-01-01" / "shard=0" / "data_0.parquet"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"PAR1 this is not a Parquet file")
    db = exported["tmp"] / "broken.duckdb"
    result = _invoke("ingest", str(folder), "--db", str(db))
    assert "1 record(s) rejected" in result.output, result.output
    assert _rows(db, "spans", SPAN_ROW) == exported["spans"]
    [(file, locator, reason)] = _quarantine(db)
    assert file == str(bad) and locator == "file" and "Parquet" in reason


def test_partition_spans_with_impossible_times_are_quarantined_with_file_and_row(exported: dict) -> None:
    """The ingest limits hold for Parquet too: a span ending in 2100 (stored under a century of tolerance,
    then exported) is quarantined by an ingest with the default tolerance, naming its file and row."""
    tmp = exported["tmp"]
    future = tmp / "future.jsonl"
    end = 4_102_444_800 * 1_000_000_000  # 2100-01-01
    future.write_bytes(orjson.dumps({
        "trace_id": "f" * 32, "span_id": "f" * 16, "parent_span_id": "", "name": "clock from the future",
        "kind": "SPAN_KIND_INTERNAL", "start_time": end - 1_000_000_000, "end_time": end,
        "status": {"code": "STATUS_CODE_OK", "message": ""}, "attributes": {"openinference.span.kind": "TOOL"}})
        + b"\n")
    config = tmp / "century.yaml"
    config.write_text(orjson.dumps({"ingest": {"future_tolerance_seconds": 100 * 366 * 86400}}).decode())
    db = tmp / "with-future.duckdb"
    shutil.copy(exported["db"], db)
    _invoke("--config", str(config), "ingest", str(future), "--db", str(db), "-q")
    out = tmp / "export-future"
    _invoke("export", "--db", str(db), "--parquet", str(out), "--shards", "2")
    fresh = tmp / "fresh-future.duckdb"
    result = _invoke("ingest", str(out), "--db", str(fresh))
    assert "1 record(s) rejected" in result.output, result.output
    assert _rows(fresh, "spans", SPAN_ROW) == exported["spans"]
    [(file, locator, reason)] = _quarantine(fresh)
    assert "day=2100-01-01" in file and locator == "row 1"
    assert reason.startswith("impossible start time: 2099-12-31") and "future_tolerance_seconds" in reason


def test_ingest_reads_partitions_from_a_filesystem_url_as_mine_does(exported: dict) -> None:
    db = exported["tmp"] / "url.duckdb"
    _invoke("ingest", f"file://{exported['out']}", "--db", str(db), "-q")
    assert _rows(db, "spans", SPAN_ROW) == exported["spans"] and _quarantine(db) == []
    missing = exported["tmp"] / "missing.duckdb"
    result = CliRunner().invoke(main, ["ingest", f"file://{exported['tmp']}/nothere", "--db", str(missing)])
    assert result.exit_code == 2 and "no such file or directory" in result.output
    assert not missing.exists()  # checked before the archive is opened
