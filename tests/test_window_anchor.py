"""Issue 13, item 4: one future-dated span must not take over every window. ``--window`` ends at the newest
span not beyond now + ``ingest.future_tolerance_seconds``; spans beyond it are ignored with one warning,
and ``stats`` reports the anchor it used (terminal and ``--json``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from tracemine.cli import main
from tracemine.store import Store
from tracemine.timewindow import WindowSpec, parse_duration

YEAR_2100_NS = int(dt.datetime(2100, 1, 1, tzinfo=dt.UTC).timestamp()) * 1_000_000_000
CENTURY = {"ingest": {"future_tolerance_seconds": 100 * 366 * 86400}}


def _future_span() -> bytes:
    """One flat span ending at 2100-01-01 (a clock set a century ahead), in a trace of its own."""
    return orjson.dumps({
        "trace_id": "f" * 32, "span_id": "f" * 16, "parent_span_id": "", "name": "clock from the future",
        "kind": "SPAN_KIND_INTERNAL", "start_time": YEAR_2100_NS - 1_000_000_000, "end_time": YEAR_2100_NS,
        "status": {"code": "STATUS_CODE_OK", "message": ""},
        "attributes": {"openinference.span.kind": "TOOL", "tool.name": "lookup", "input.value": '{"k": 1}'},
    }) + b"\n"


def _invoke(*args: str) -> object:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Seven days of synthetic traces, plus one span ending in 2100 that an older ingest (or one with a
    century of tolerance) stored."""
    tmp = tmp_path_factory.mktemp("anchor")
    data = tmp / "traces"
    _invoke("synth", "--traces", "120", "--days", "10", "--seed", "5", "--out", str(data))
    future = tmp / "future.jsonl"
    future.write_bytes(_future_span())
    db = tmp / "a.duckdb"
    _invoke("ingest", str(data), "--db", str(db), "-q")
    config = tmp / "century.yaml"
    config.write_text(orjson.dumps(CENTURY).decode())  # JSON is YAML
    _invoke("--config", str(config), "ingest", str(future), "--db", str(db), "-q")
    with Store(db, read_only=True) as store:
        newest_real, future_spans, real_traces = store.con.execute(
            f"""SELECT max(time_ns) FILTER (WHERE time_ns < {YEAR_2100_NS}),
                       count(*) FILTER (WHERE time_ns >= {YEAR_2100_NS}),
                       count(DISTINCT trace_id) FILTER (WHERE time_ns < {YEAR_2100_NS}) FROM spans""").fetchall()[0]
    assert future_spans == 1 and real_traces == 120  # the archive the issue describes
    week = parse_duration("7d")
    with Store(db, read_only=True) as store:
        in_week = store.con.execute(
            "SELECT count(DISTINCT trace_id) FROM spans WHERE time_ns >= ? AND time_ns < ?",
            [newest_real - week, newest_real + 1]).fetchall()[0][0]
    return {"tmp": tmp, "db": db, "config": config, "newest": newest_real, "week_traces": in_week}


def test_mine_window_ends_at_the_newest_plausible_span_and_warns_once(archive: dict) -> None:
    out = archive["tmp"] / "report"
    result = _invoke("mine", "--db", str(archive["db"]), "--window", "7d", "--out", str(out), "-q")
    report = orjson.loads((out / "findings.json").read_bytes())
    newest = archive["newest"]
    window = report["window"]
    assert (window["since_ns"], window["until_ns"]) == (newest - parse_duration("7d"), newest + 1)
    assert report["totals"]["traces"] == archive["week_traces"] > 50  # the real data, not 1 trace in 2100
    warnings = [line for line in result.output.splitlines() if "ignored" in line and "2100-01-01" in line]
    assert len(warnings) == 1, result.output
    assert "future_tolerance_seconds" in warnings[0] and "1 span" in warnings[0]


def test_stats_reports_the_anchor_it_used(archive: dict) -> None:
    newest = archive["newest"]
    payload = orjson.loads(_invoke("stats", "--db", str(archive["db"]), "--window", "7d", "--json").stdout)
    anchor = payload["anchor"]
    assert anchor["ns"] == newest and anchor["ignored_spans"] == 1 and anchor["ignored_traces"] == 1
    assert anchor["ignored_newest_ns"] == YEAR_2100_NS
    assert payload["window"] == {"since_ns": newest - parse_duration("7d"), "until_ns": newest + 1}
    assert payload["traces"] == archive["week_traces"]
    terminal = _invoke("stats", "--db", str(archive["db"]), "--window", "7d").output
    anchor_rows = [line for line in terminal.splitlines() if "window anchor" in line]
    assert anchor_rows and dt.datetime.fromtimestamp(newest / 1e9, dt.UTC).strftime("%Y-%m-%d") in anchor_rows[0]
    assert "1 span" in terminal and "2100-01-01" in terminal


def test_the_tolerance_is_the_ingest_setting(archive: dict) -> None:
    """With a century of tolerance the 2100 span is plausible again, and it anchors the window."""
    payload = orjson.loads(_invoke("--config", str(archive["config"]), "stats", "--db", str(archive["db"]),
                                   "--window", "7d", "--json").stdout)
    assert payload["anchor"]["ns"] == YEAR_2100_NS and payload["anchor"]["ignored_spans"] == 0
    assert payload["traces"] == 1


def test_anchor_of_an_archive_without_future_spans_is_its_newest_span(archive: dict, tmp_path: Path) -> None:
    from tracemine.timewindow import find_anchor

    with Store(archive["db"], read_only=True) as store:
        anchor = find_anchor(store, tolerance_seconds=86400)
        assert anchor.ns == archive["newest"] and anchor.warning() is not None
        assert find_anchor(store, tolerance_seconds=86400, now_ns=YEAR_2100_NS).warning() is None
    with Store(tmp_path / "empty.duckdb") as store:
        empty = find_anchor(store, tolerance_seconds=86400)
    assert empty.ns is None and empty.warning() is None
    assert WindowSpec(window="7d").resolve(empty).is_open
