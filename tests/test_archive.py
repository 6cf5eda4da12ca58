"""The DuckDB archive through the CLI: ingest, re-ingest as a no-op, duplicate spans stored once,
windows, stats, quarantine listing, and the start-up cost of the CLI (no heavy imports)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import orjson
import pytest
from click.testing import CliRunner

from tracemine.cli import main
from tracemine.store import Store
from tracemine.timewindow import WindowError, WindowSpec, parse_duration, parse_instant

DAY = 86_400 * 1_000_000_000
T0 = 1_761_955_200_000_000_000  # 2025-11-01T00:00:00Z


def _flat_span(trace: str, span: str, parent: str, start_ns: int, **attrs) -> dict:
    return {
        "trace_id": trace, "span_id": span, "parent_span_id": parent, "name": attrs.pop("name", "step"),
        "kind": "SPAN_KIND_INTERNAL", "start_time": start_ns, "end_time": start_ns + 1_000_000,
        "status": {"code": "STATUS_CODE_OK", "message": ""}, "attributes": attrs,
    }


def _write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return path


@pytest.fixture()
def archive_files(tmp_path: Path) -> tuple[Path, Path]:
    day_spans = []
    for day in range(10):
        trace = f"{day + 1:032x}"
        day_spans.append(_flat_span(trace, f"{day:015x}a", "", T0 + day * DAY, **{"openinference.span.kind": "AGENT"}))
        day_spans.append(_flat_span(trace, f"{day:015x}b", f"{day:015x}a", T0 + day * DAY + 10,
                                    **{"openinference.span.kind": "TOOL", "tool.name": "lookup",
                                       "input.value": '{"id": 1}', "output.value": "ok"}))
    first = _write_jsonl(tmp_path / "a.jsonl", day_spans)
    # a second file repeating the spans of days 8 and 9 (an overlapping export) plus one new span
    overlap = [*day_spans[16:], _flat_span(f"{10:032x}", "ffffffffffffffff", f"{9:015x}a", T0 + 9 * DAY + 20)]
    second = _write_jsonl(tmp_path / "b.jsonl", overlap)
    return first, second


def _invoke(*args: str) -> object:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


def test_ingest_reingest_dedupe_and_windows(tmp_path: Path, archive_files: tuple[Path, Path]) -> None:
    db = str(tmp_path / "t.duckdb")
    first, second = archive_files
    result = _invoke("ingest", str(first), "--db", db, "-q")
    assert result.exit_code == 0, result.output
    assert "ingested 20 new spans" in result.output

    again = _invoke("ingest", str(first), "--db", db, "-q")
    assert "ingested 0 new spans" in again.output and "1 file(s) already ingested" in again.output

    overlap = _invoke("ingest", str(second), "--db", db, "-q")
    assert "ingested 1 new spans" in overlap.output and "4 duplicate spans" in overlap.output

    con = duckdb.connect(db, read_only=True)
    assert con.execute("SELECT count(*), count(DISTINCT (trace_id, span_id)) FROM spans").fetchone() == (21, 21)
    assert con.execute("SELECT count(*) FROM ingests").fetchone()[0] == 3
    con.close()

    stats = _invoke("stats", "--db", db, "--json")
    data = json.loads(stats.output)
    assert data["spans"] == 21 and data["traces"] == 10 and data["formats"] == {"flat_spans": 21}

    # --window ends at the newest span: 3 days → days 7, 8, 9
    last3 = json.loads(_invoke("stats", "--db", db, "--json", "--window", "3d").output)
    assert last3["traces"] == 3 and last3["spans"] == 7
    since = json.loads(_invoke("stats", "--db", db, "--json", "--since", "2025-11-05", "--until", "2025-11-07").output)
    assert since["traces"] == 2 and since["spans"] == 4
    text = _invoke("stats", "--db", db, "--window", "2d")
    assert text.exit_code == 0 and "spans" in text.output

    bad = CliRunner().invoke(main, ["stats", "--db", db, "--window", "seven days"])
    assert bad.exit_code == 2 and "cannot read duration" in bad.output


def test_store_iterates_whole_traces_in_window(tmp_path: Path, archive_files: tuple[Path, Path]) -> None:
    from tracemine.ingest.loader import ingest_paths

    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        report = ingest_paths([str(p) for p in archive_files], store)
        assert report.spans_inserted == 21 and report.duplicate_spans == 4
        window = WindowSpec(window="2d").resolve(store.newest_ns())
        traces = list(store.iter_traces(window))
    assert [t.trace_id for t in traces] == [f"{9:032x}", f"{10:032x}"]
    last = traces[-1]
    assert len(last.spans) == 3 and last.root.span_id == f"{9:015x}a"
    assert sorted(s.span_id for s in last.children[last.root.span_id]) == [f"{9:015x}b", "ffffffffffffffff"]
    tool = next(s for s in last.spans if s.tool_name)
    assert tool.tool_arguments == '{"id": 1}' and tool.attributes["tool.name"] == "lookup"


def test_quarantine_listing_and_retry_of_rejected_files(tmp_path: Path) -> None:
    db = str(tmp_path / "q.duckdb")
    bad = tmp_path / "bad.jsonl"
    good_line = orjson.dumps(_flat_span("a" * 32, "b" * 16, "", T0))
    bad.write_bytes(good_line + b"\n{not json\n" + b'{"hello": "world"}\n')
    result = _invoke("ingest", str(bad), "--db", db, "-q")
    assert "ingested 1 new spans" in result.output and "2 record(s) rejected" in result.output
    listing = _invoke("stats", "--db", db, "--quarantine")
    assert "line 2" in listing.output and "invalid JSON" in listing.output
    assert "line 3" in listing.output and "unrecognised record shape" in listing.output
    as_json = json.loads(_invoke("stats", "--db", db, "--quarantine", "--json").output)
    assert as_json["quarantined"] == 2
    assert [(r["locator"], r["file"]) for r in as_json["quarantine_records"]] == [
        ("line 2", str(bad)), ("line 3", str(bad))]
    # a file with rejects is read again next time: nothing duplicated, quarantine not doubled
    again = _invoke("ingest", str(bad), "--db", db, "-q")
    assert "ingested 0 new spans" in again.output and "1 duplicate spans" in again.output
    assert json.loads(_invoke("stats", "--db", db, "--json").output)["quarantined"] == 2


def test_directories_globs_and_missing_paths(tmp_path: Path, archive_files: tuple[Path, Path]) -> None:
    db = str(tmp_path / "g.duckdb")
    (tmp_path / "labels.jsonl").write_text('{"trace_id": "x", "kind": "loop"}\n')  # ground truth is not a trace
    result = _invoke("ingest", str(tmp_path), "--db", db, "-q")
    assert "ingested 21 new spans from 2 file(s)" in result.output
    glob_db = str(tmp_path / "h.duckdb")
    result = _invoke("ingest", str(tmp_path / "*.jsonl"), "--db", glob_db, "-q")
    assert "0 record(s) rejected" not in result.output or "ingested 21" in result.output
    missing = CliRunner().invoke(main, ["ingest", str(tmp_path / "nope.jsonl"), "--db", db])
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_window_parsing() -> None:
    assert parse_duration("7d") == 7 * DAY
    assert parse_duration("12h") == DAY // 2
    assert parse_duration("2w") == 14 * DAY
    assert parse_instant("2025-11-01") == T0
    assert parse_instant("2025-11-01T01:00:00+01:00") == T0
    with pytest.raises(WindowError):
        parse_duration("7 parsecs")
    with pytest.raises(WindowError):
        WindowSpec(window="1d", since="2025-11-01").resolve(T0)
    with pytest.raises(WindowError):
        WindowSpec(since="2025-11-02", until="2025-11-01").resolve(T0)
    window = WindowSpec(window="1d").resolve(T0)
    assert window.since_ns == T0 - DAY and window.until_ns == T0 + 1


def test_help_lists_commands_without_heavy_imports() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from tracemine.cli import main\n"
        "r = CliRunner().invoke(main, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "for cmd in ('ingest', 'stats', 'synth'):\n"
        "    assert cmd in r.output, cmd\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'litellm', 'hdbscan', 'sklearn') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_ingest_does_not_import_heavy_libraries(tmp_path: Path, archive_files: tuple[Path, Path]) -> None:
    first, _ = archive_files
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from tracemine.cli import main\n"
        f"r = CliRunner().invoke(main, ['ingest', {str(first)!r}, '--db', {str(tmp_path / 'x.duckdb')!r}, '-q'])\n"
        "assert r.exit_code == 0, r.output\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'litellm', 'hdbscan', 'sklearn') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_interrupted_ingest_is_undone_on_next_open(tmp_path: Path, archive_files: tuple[Path, Path]) -> None:
    from tracemine.config import IngestSettings
    from tracemine.ingest.loader import Task, run_task

    db = tmp_path / "crash.duckdb"
    first, second = archive_files
    with Store(db) as store:
        from tracemine.ingest.loader import ingest_paths

        ingest_paths([str(first)], store)
    # a second ingest appends and commits batches, then the process dies before finishing
    store = Store(db)
    ingest_id = store.begin_ingest([str(second)])
    result = run_task(Task(str(second), None, 1, second.stat().st_size), IngestSettings(), ingest_id, 0)
    for table in result.tables:
        store.insert_spans(table)
    store.flush()
    assert store.con.execute("SELECT count(*) FROM spans").fetchone()[0] == 25
    store.con.close()  # no commit_ingest: the "crash"

    with Store(db) as reopened:
        assert reopened.con.execute("SELECT count(*) FROM spans").fetchone()[0] == 20
        assert reopened.con.execute("SELECT count(*) FROM ingests").fetchone()[0] == 1
        from tracemine.ingest.loader import ingest_paths

        report = ingest_paths([str(second)], reopened)  # the next run completes
    assert report.spans_inserted == 1 and report.duplicate_spans == 4


def test_cli_reports_a_locked_or_invalid_archive_clearly(tmp_path: Path, archive_files: tuple[Path, Path]) -> None:
    first, _ = archive_files
    bad = tmp_path / "notes.duckdb"
    bad.write_text("not a database")
    result = CliRunner().invoke(main, ["stats", "--db", str(bad)])
    assert result.exit_code == 2 and "cannot open" in result.output
    db = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('ready', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = CliRunner().invoke(main, ["ingest", str(first), "--db", str(db), "-q"])
        assert result.exit_code == 2 and "in use by another tracemine process" in result.output
    finally:
        holder.kill()
        holder.wait()
