"""`tracemine cluster` through the CLI: detect → embed → cluster, results stored, vectors cached."""

from __future__ import annotations

from pathlib import Path

import duckdb
from click.testing import CliRunner

from tracemine.cli import main


def test_cluster_cli_groups_signals_and_reuses_cached_vectors(tmp_path: Path) -> None:
    runner = CliRunner()
    data = tmp_path / "traces"
    assert runner.invoke(main, ["synth", "--traces", "300", "--seed", "5", "--out", str(data)]).exit_code == 0
    db = str(tmp_path / "c.duckdb")
    missing = runner.invoke(main, ["cluster", "--db", db])
    assert missing.exit_code == 2 and "no archive" in missing.output
    assert runner.invoke(main, ["ingest", str(data), "--db", db, "-q"]).exit_code == 0
    no_run = runner.invoke(main, ["cluster", "--db", db])
    assert no_run.exit_code == 2 and "no detection run" in no_run.output

    first = runner.invoke(main, ["cluster", "--db", db, "--window", "30d", "--no-trajectories"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "Signals:" in first.output and "clusters" in first.output
    assert "embedded" in first.output
    con = duckdb.connect(db, read_only=True)
    runs = con.execute("SELECT count(*) FROM cluster_runs").fetchone()[0]
    leaves = con.execute("SELECT count(*) FROM clusters WHERE level = 'leaf'").fetchone()[0]
    con.close()
    assert runs == 1 and leaves > 5

    second = runner.invoke(main, ["cluster", "--db", db, "--no-trajectories"], catch_exceptions=False)
    assert second.exit_code == 0, second.output
    assert " 0 embedded" in second.output  # every vector came from the cache
