"""`tracemine detect` end to end through the CLI: synthetic traces in, signals out (JSON-lines and store)."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from tracemine.cli import main
from tracemine.evaluate import read_labels, score
from tracemine.store import Store


def test_detect_cli_writes_signals_and_stores_them(tmp_path: Path) -> None:
    runner = CliRunner()
    data = tmp_path / "traces"
    result = runner.invoke(main, ["synth", "--traces", "400", "--seed", "21", "--out", str(data)])
    assert result.exit_code == 0, result.output
    db = str(tmp_path / "d.duckdb")
    out = tmp_path / "signals.jsonl"
    result = runner.invoke(main, ["detect", str(data), "--db", db, "--out", str(out), "--window", "30d"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "signals from 7 detector(s)" in result.output
    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert rows and set(rows[0]) == {"detector", "kind", "trace_id", "span_ids", "severity", "evidence", "text",
                                     "cause_span_id", "agent"}
    assert {r["kind"] for r in rows} >= {"loop", "duplicate_call", "silent_failure", "argument_error"}
    with Store(db) as store:
        stored = store.signals()
        span_ids = {r[0] for r in store.con.execute("SELECT span_id FROM spans").fetchall()}
    assert len(stored) == len(rows)
    assert all(set(s.span_ids) <= span_ids for s in stored)  # every cited span exists in the archive
    scores = score(stored, read_labels(data / "labels.jsonl"), kinds=["loop", "silent_failure"])
    assert scores["loop"].recall >= 0.9 and scores["silent_failure"].precision >= 0.9

    only = runner.invoke(main, ["detect", "--db", db, "--detectors", "loop", "--out", str(out)])
    assert only.exit_code == 0
    assert {orjson.loads(line)["detector"] for line in out.read_bytes().splitlines()} == {"loop"}
    bad = runner.invoke(main, ["detect", "--db", db, "--detectors", "nope"])
    assert bad.exit_code == 2 and "unknown detector" in bad.output
    listing = runner.invoke(main, ["detect", "--list"])
    assert listing.exit_code == 0 and "argument_error" in listing.output and "outlier" in listing.output
