"""Numbered archive migrations: an archive made by the previous release (tests/fixtures/archive_v1, an
``EXPORT DATABASE`` of an archive written by tracemine at 33c3c87) is brought to the latest schema in
one transaction with its rows intact; a newer archive is refused; a second open applies nothing."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from tracemine.cli import main
from tracemine.store import Store
from tracemine.store import migrations as store_migrations
from tracemine.store import schema as store_schema
from tracemine.store.migrations import MIGRATIONS, SCHEMA_VERSION, Migration, SchemaVersionError

ARCHIVE_V1 = Path(__file__).parent / "fixtures" / "archive_v1"
TABLES = ("meta", "spans", "traces", "ingests", "files", "quarantine", "detect_runs", "signals", "mine_runs", "findings",
          "embeddings", "cluster_runs", "clusters", "publish_issues", "fixes")


def _previous_release(tmp_path: Path, name: str = "v1.duckdb") -> str:
    """A copy of the previous release's archive (schema version 1, no ``ingests.id_clashes``)."""
    db = str(tmp_path / name)
    con = duckdb.connect(db)
    con.execute(f"IMPORT DATABASE '{ARCHIVE_V1}'")
    con.close()
    return db


def _layout(db: str) -> dict[str, list[tuple[str, str]]]:
    con = duckdb.connect(db, read_only=True)
    try:
        present = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        return {t: [(r[0], r[1]) for r in con.execute(f"DESCRIBE {t}").fetchall()] for t in TABLES if t in present}
    finally:
        con.close()


def _columns(db: str, table: str) -> list[str]:
    return [name for name, _ in _layout(db)[table]]


def _version(db: str) -> str:
    con = duckdb.connect(db, read_only=True)
    try:
        return con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()[0][0]
    finally:
        con.close()


def _set_version(db: str, value: str | None) -> None:
    con = duckdb.connect(db)
    con.execute("DELETE FROM meta WHERE key = 'schema_version'")
    if value is not None:
        con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [value])
    con.close()


def test_registry_is_numbered_in_order_with_one_line_docstrings() -> None:
    numbers = [migration.number for migration in MIGRATIONS]
    assert numbers == list(range(2, 2 + len(MIGRATIONS)))  # version 1 is the first schema
    assert numbers[-1] == SCHEMA_VERSION
    for migration in MIGRATIONS:
        assert migration.summary and "\n" not in migration.summary
    assert store_migrations.pending_migrations(0) == MIGRATIONS
    assert store_migrations.pending_migrations(SCHEMA_VERSION) == []


def test_previous_release_archive_is_migrated_with_rows_intact(tmp_path: Path) -> None:
    db = _previous_release(tmp_path)
    assert _version(db) == "1" and "id_clashes" not in _columns(db, "ingests")
    fresh = str(tmp_path / "fresh.duckdb")
    Store(fresh).close()

    # read-only readers of the old archive still work (stats through the CLI), and change nothing
    old_stats = CliRunner().invoke(main, ["stats", "--db", db, "--json"])
    assert old_stats.exit_code == 0, old_stats.output
    assert json.loads(old_stats.output)["spans"] == 3 and _version(db) == "1"

    with Store(db) as store:
        assert store.applied_migrations == [2, 3, 4, 5]
        assert store.schema_version() == SCHEMA_VERSION
        assert store.id_clashes(1) == 0
        assert store.stats().spans == 3 and store.stats().quarantined == 1
        [signal] = store.signals()
        assert signal.trace_id == "t1" and signal.span_ids == ["s2"] and signal.agent == "agent run"
        assert [r.reason for r in store.quarantine()] == ["invalid JSON: invalid literal, expected 'null': "
                                                        "line 1 column 1 (char 0)"]
    assert _version(db) == str(SCHEMA_VERSION)
    assert _layout(db) == _layout(fresh)  # migrated and fresh archives end at the same schema

    result = CliRunner().invoke(main, ["stats", "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["spans"] == 3 and data["quarantined"] == 1 and data["formats"] == {"flat_spans": 3}


def test_first_schema_and_unversioned_archives_get_every_migration(tmp_path: Path) -> None:
    db = _previous_release(tmp_path)
    con = duckdb.connect(db)  # the layout before signals named their cause (dce4406^)
    con.execute("ALTER TABLE signals DROP COLUMN agent")
    con.execute("ALTER TABLE signals DROP COLUMN cause_span_id")
    con.close()
    _set_version(db, None)  # made before versions were recorded: version 0
    fresh = str(tmp_path / "fresh.duckdb")
    Store(fresh).close()

    with Store(db) as store:
        assert store.applied_migrations == [m.number for m in MIGRATIONS]
        [signal] = store.signals()
        assert signal.trace_id == "t1" and signal.agent is None and signal.cause_span_id is None
        assert store.stats().spans == 3
    assert _version(db) == str(SCHEMA_VERSION)
    assert _layout(db) == _layout(fresh)


def test_fresh_archive_is_stamped_latest_and_second_open_applies_nothing(tmp_path: Path) -> None:
    fresh = str(tmp_path / "fresh.duckdb")
    with Store(fresh) as store:
        assert store.applied_migrations == [] and store.schema_version() == SCHEMA_VERSION
    db = _previous_release(tmp_path)
    with Store(db) as store:
        assert store.applied_migrations == [2, 3, 4, 5]
    layout = _layout(db)
    with Store(db) as store:
        assert store.applied_migrations == []
    assert _layout(db) == layout and _version(db) == str(SCHEMA_VERSION)


def test_newer_archive_is_refused_clearly(tmp_path: Path) -> None:
    db = _previous_release(tmp_path)
    newer = str(SCHEMA_VERSION + 1)
    _set_version(db, newer)
    for read_only in (False, True):
        with pytest.raises(SchemaVersionError, match=f"version {newer} is newer than this tracemine's {SCHEMA_VERSION}"):
            Store(db, read_only=read_only)
    assert _version(db) == newer and "id_clashes" not in _columns(db, "ingests")  # left untouched

    result = CliRunner().invoke(main, ["stats", "--db", db])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if newer in line]
    assert len(lines) == 1 and str(SCHEMA_VERSION) in lines[0] and "upgrade tracemine" in lines[0]


def test_failed_migration_rolls_back_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def _broken(con: duckdb.DuckDBPyConnection) -> None:
        """Adds a column, then fails."""
        con.execute("ALTER TABLE spans ADD COLUMN IF NOT EXISTS doomed VARCHAR")
        raise RuntimeError("migration failed half-way")

    monkeypatch.setattr(store_migrations, "MIGRATIONS", [*MIGRATIONS, Migration(SCHEMA_VERSION + 1, _broken)])
    monkeypatch.setattr(store_migrations, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    db = _previous_release(tmp_path)
    with pytest.raises(RuntimeError, match="half-way"):
        Store(db)
    assert _version(db) == "1"
    assert "id_clashes" not in _columns(db, "ingests") and "doomed" not in _columns(db, "spans")


def test_stage_tables_made_on_first_use_by_earlier_releases_are_kept_and_completed(tmp_path: Path) -> None:
    """Releases before migration 4 created the history, cache, cluster and tracker tables on first use, the
    history in an older layout (no ``inherited_from``, ``status``, ``note``): their rows survive and the
    layout ends like a fresh archive's."""
    db = _previous_release(tmp_path)
    con = duckdb.connect(db)
    con.execute("ALTER TABLE ingests ADD COLUMN id_clashes BIGINT")  # what version 3 had
    con.execute("""CREATE TABLE mine_runs (run_id BIGINT PRIMARY KEY, started_ns BIGINT, finished_ns BIGINT,
        since_ns BIGINT, until_ns BIGINT, traces BIGINT, spans BIGINT, signals BIGINT, detect_id BIGINT,
        findings BIGINT, reported BIGINT, settings VARCHAR, llm_usage VARCHAR, stages VARCHAR, seconds DOUBLE)""")
    con.execute("""CREATE TABLE findings (run_id BIGINT, fingerprint VARCHAR, rank BIGINT, reported BOOLEAN,
        score DOUBLE, severity VARCHAR, status VARCHAR, traces BIGINT, window_traces BIGINT, trace_share DOUBLE,
        data VARCHAR)""")
    con.execute("INSERT INTO mine_runs (run_id, started_ns, traces) VALUES (1, 5, 3)")
    con.execute("INSERT INTO findings (run_id, fingerprint, status) VALUES (1, 'tm-aaaa', 'new')")
    con.execute(store_schema.EMBEDDINGS_DDL)
    con.execute("INSERT INTO embeddings VALUES ('\\x01'::BLOB, 'm', 2, [0.6, 0.8], 7)")
    con.close()
    _set_version(db, "3")
    fresh = str(tmp_path / "fresh.duckdb")
    Store(fresh).close()

    with Store(db) as store:
        assert store.applied_migrations == [4, 5]
        assert store.has_tables("cluster_runs", "clusters", "publish_issues")
    assert _layout(db) == _layout(fresh)
    con = duckdb.connect(db, read_only=True)
    try:
        assert con.execute("SELECT run_id, traces, status FROM mine_runs").fetchall() == [(1, 3, None)]
        assert con.execute("SELECT fingerprint, inherited_from FROM findings").fetchall() == [("tm-aaaa", None)]
        assert con.execute("SELECT model_id, dim FROM embeddings").fetchall() == [("m", 2)]
    finally:
        con.close()
