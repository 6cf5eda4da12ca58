"""Backends (issue 7): trace shards, Parquet partitions by day and shard, the sharded detector passes,
and the Ray backend giving the same findings as the local one (skipped when Ray is not installed)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import orjson
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import tracemine
from tracemine.backends import BackendError, LocalBackend, get_backend
from tracemine.backends.shards import default_shards, shard_of, shard_sql
from tracemine.cli import main
from tracemine.detect.runner import detect_window, run_detection
from tracemine.export import export_parquet, list_files, read_shard_traces
from tracemine.ingest.loader import ingest_paths
from tracemine.store import Store
from tracemine.timewindow import Window

HAVE_RAY = importlib.util.find_spec("ray") is not None


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A small synthetic archive (300 traces, ~4,300 spans, seven days) and its source files."""
    tmp = tmp_path_factory.mktemp("backends")
    data = tmp / "traces"
    result = CliRunner().invoke(main, ["synth", "--traces", "300", "--seed", "11", "--out", str(data)])
    assert result.exit_code == 0, result.output
    db = tmp / "base.duckdb"
    with Store(db) as store:
        ingest_paths([str(data)], store)
    return {"tmp": tmp, "data": data, "db": db}


def _copy(archive: dict, name: str) -> Path:
    target = archive["tmp"] / name
    shutil.copy(archive["db"], target)
    return target


def _spans(db: Path) -> list[tuple]:
    with Store(db, read_only=True) as store:
        return store.con.execute(
            "SELECT trace_id, span_id, name, status, tool_arguments, tool_result, time_ns FROM spans ORDER BY 1, 2"
        ).fetchall()


def findings_key(result: tracemine.MineResult) -> list[tuple]:
    """What must not depend on the backend: fingerprints, counts, severities, scores, cited traces and spans."""
    return [(f.fingerprint, f.kinds, f.severity, f.impact.traces, f.impact.signals, round(f.score, 9),
             sorted(f.trace_ids), sorted((e.trace_id, tuple(e.span_ids)) for e in f.exemplars))
            for f in result.all_findings]


def test_shard_function_is_the_same_in_python_and_duckdb() -> None:
    ids = [f"{i:032x}" for i in range(200)] + ["trace-ü", "x"]
    con = duckdb.connect()
    sql = con.execute(f"SELECT t, {shard_sql(7, 't')} FROM (SELECT unnest(?) AS t)", [ids]).fetchall()
    assert {t: int(s) for t, s in sql} == {t: shard_of(t, 7) for t in ids}
    assert shard_of("abc", 16) == int(hashlib.md5(b"abc").hexdigest()[:8], 16) % 16
    assert len({shard_of(t, 7) for t in ids}) == 7
    assert default_shards(0, 2) == 4 and default_shards(10_000_000, 2) == 20


def test_export_writes_day_and_shard_partitions_that_read_back(archive: dict) -> None:
    out = archive["tmp"] / "export"
    result = CliRunner().invoke(main, ["export", "--db", str(archive["db"]), "--parquet", str(out), "--shards", "4"])
    assert result.exit_code == 0, result.output
    files = list_files(str(out), (".parquet",))
    assert files and all("/spans/day=" in f and "/shard=" in f for f in files)
    assert {Path(f).parent.name for f in files} == {f"shard={i}" for i in range(4)}
    assert len({Path(f).parent.parent.name for f in files}) == 7  # seven days of synthetic traffic
    for f in files[:5]:  # a trace lives in one shard
        shard = int(Path(f).parent.name.split("=")[1])
        assert {shard_of(t, 4) for t in pq.read_table(f, columns=["trace_id"]).column(0).to_pylist()} == {shard}
    assert (out / ".tracemine-export.json").is_file()
    # partitions as input: the same spans, a second import of the same files is skipped
    copy = archive["tmp"] / "imported.duckdb"
    with Store(copy) as store:
        first = LocalBackend().ingest([str(out)], store)
        again = LocalBackend().ingest([str(out)], store)
    assert first.spans_inserted == len(_spans(archive["db"])) and again.files_skipped == len(files)
    assert _spans(copy) == _spans(archive["db"])


def test_partitions_from_filesystem_urls(archive: dict) -> None:
    out = archive["tmp"] / "export-url"
    with Store(archive["db"], read_only=True) as store:
        export_parquet(store, f"file://{out}", shards=3)
    assert list_files(f"file://{out}/spans", (".parquet",))[0].startswith("file:///")
    db = archive["tmp"] / "from-url.duckdb"
    with Store(db) as store:
        LocalBackend().ingest([f"file://{out}"], store)
    assert _spans(db) == _spans(archive["db"])
    fsspec = pytest.importorskip("fsspec")
    memory = fsspec.filesystem("memory")
    for f in list_files(str(out / "spans"), (".parquet",)):
        memory.pipe(f"/tm-test/{Path(f).parent.parent.name}/{Path(f).parent.name}.parquet", Path(f).read_bytes())
    db2 = archive["tmp"] / "from-memory.duckdb"
    with Store(db2) as store:
        LocalBackend().ingest(["memory://tm-test"], store)
    assert _spans(db2) == _spans(archive["db"])


def test_shard_partitions_give_the_archives_traces(archive: dict) -> None:
    with Store(archive["db"], read_only=True) as store:
        staged = export_parquet(store, archive["tmp"] / "stage", shards=3, by_day=False, row_order=True)
        expected = {t.trace_id: t for t in store.iter_traces()}
    seen = []
    for shard in staged.shard_ids:
        traces = read_shard_traces(str(archive["tmp"] / "stage"), shard)
        assert [t.trace_id for t in traces] == sorted(t.trace_id for t in traces)
        for t in traces:
            assert sorted(s.span_id for s in t.spans) == sorted(s.span_id for s in expected[t.trace_id].spans)
            assert t.outcome == expected[t.trace_id].outcome
        seen += [t.trace_id for t in traces]
    assert sorted(seen) == sorted(expected)


DAY_NS = 86_400 * 10**9


def _window_cases(db: Path) -> dict[str, tuple[list[str], int | None, int | None]]:
    """Each window option as CLI arguments with the bounds it should select, worked out here from the
    newest span (``--window`` ends just after it), not by tracemine.timewindow."""
    with Store(db, read_only=True) as store:
        newest = store.newest_ns()
    middle = newest - 3 * DAY_NS
    iso = datetime.fromtimestamp(middle // 10**9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    middle = middle // 10**9 * 10**9
    return {"window": (["--window", "2d"], newest - 2 * DAY_NS, newest + 1),
            "since": (["--since", iso], middle, None),
            "until": (["--until", iso], None, middle)}


def _windowed_spans(db: Path, since: int | None, until: int | None) -> set[tuple[str, str]]:
    """(trace id, span id) of every span of the traces with a span in [since, until), by a direct query."""
    with Store(db, read_only=True) as store:
        return set(store.con.execute(
            """SELECT trace_id, span_id FROM spans WHERE trace_id IN (
                   SELECT trace_id FROM spans WHERE time_ns >= coalesce(?, time_ns) AND time_ns < coalesce(?, time_ns + 1))""",
            [since, until]).fetchall())


@pytest.mark.parametrize("option", ["window", "since", "until"])
def test_export_with_each_window_option_writes_exactly_the_windowed_traces(archive: dict, option: str) -> None:
    args, since, until = _window_cases(archive["db"])[option]
    out = archive["tmp"] / f"export-{option}"
    result = CliRunner().invoke(main, ["export", "--db", str(archive["db"]), "--parquet", str(out), "--shards", "3",
                                       *args])
    assert result.exit_code == 0, result.output
    written = pq.read_table(out / "spans", columns=["trace_id", "span_id"]).to_pylist()
    expected = _windowed_spans(archive["db"], since, until)
    assert 0 < len(expected) < len(_spans(archive["db"]))  # the window selects some traces, not all
    assert len(written) == len(expected) and {(r["trace_id"], r["span_id"]) for r in written} == expected
    assert f"exported {len(expected):,} spans" in result.output


@pytest.mark.parametrize("option", [None, "window", "since", "until"])
def test_sharded_detection_equals_one_pass(archive: dict, option: str | None) -> None:
    window = None
    if option:
        _, since, until = _window_cases(archive["db"])[option]
        window = Window(since, until)
    with Store(archive["db"], read_only=True) as store:
        one = run_detection(store, window, None, {}, save=False)
        sharded = detect_window(store, window, None, {}, save=False, backend=LocalBackend(shards=5))
    assert one.signals and sharded.signals == one.signals
    assert (sharded.traces, sharded.spans, dict(sharded.errors)) == (one.traces, one.spans, dict(one.errors))


def test_ray_backend_without_ray_says_how_to_install(archive: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    result = CliRunner().invoke(main, ["mine", "--db", str(_copy(archive, "noray.duckdb")), "--backend", "ray", "-q"])
    assert result.exit_code == 2
    assert 'pip install "tracemine[ray]"' in result.output
    with pytest.raises(BackendError, match="tracemine\\[ray\\]"):
        tracemine.mine(db=str(archive["tmp"] / "noray.duckdb"), backend="ray")
    with pytest.raises(BackendError, match="unknown backend"):
        get_backend("spark")


def test_help_does_not_import_ray() -> None:
    code = ("import sys\nfrom click.testing import CliRunner\nfrom tracemine.cli import main\n"
            "r = CliRunner().invoke(main, ['mine', '--help'])\nassert r.exit_code == 0 and '--backend' in r.output\n"
            "assert 'ray' not in sys.modules, 'ray imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
# CI installs .[dev], which includes ray: there the test must run, not skip
@pytest.mark.skipif(not HAVE_RAY and os.environ.get("CI") != "true",
                    reason='Ray is not installed (pip install "tracemine[ray]")')
def test_ray_backend_finds_what_the_local_backend_finds(archive: dict) -> None:
    import ray

    from tracemine.backends.ray import RayBackend

    local = tracemine.mine(db=str(_copy(archive, "local.duckdb")), backend="local")
    assert len(local.all_findings) >= 5
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        # the same archive: detect and embed as Ray tasks over 4 shards (2 per CPU)
        on_ray = tracemine.mine(db=str(_copy(archive, "ray.duckdb")), backend="ray")
        assert findings_key(on_ray) == findings_key(local)
        assert on_ray.stats["signals"] == local.stats["signals"]
        # the same files ingested by Ray tasks, mined over 3 shards
        from_files = tracemine.mine([str(archive["data"])], db=str(archive["tmp"] / "ray-files.duckdb"),
                                    backend=RayBackend(shards=3))
        assert _spans(archive["tmp"] / "ray-files.duckdb") == _spans(archive["db"])
        assert findings_key(from_files) == findings_key(local)
        # with a window (the nightly `mine --backend ray --window 7d`): the same report as the local run's
        local_out, ray_out = archive["tmp"] / "report-local-3d", archive["tmp"] / "report-ray-3d"
        local_3d = tracemine.mine(db=str(_copy(archive, "local-3d.duckdb")), window="3d", out=local_out)
        assert len(local_3d.all_findings) >= 3 and local_3d.context.traces < local.context.traces
        result = CliRunner().invoke(main, ["mine", "--db", str(_copy(archive, "ray-3d.duckdb")), "--backend", "ray",
                                           "--window", "3d", "--out", str(ray_out), "-q"])
        assert result.exit_code == 0, result.output
        on_ray_3d, local_report = (orjson.loads((d / "findings.json").read_bytes()) for d in (ray_out, local_out))
        assert on_ray_3d["window"] == local_report["window"] and on_ray_3d["totals"] == local_report["totals"]
        assert on_ray_3d["findings"] == local_report["findings"]
    finally:
        if started_here:
            ray.shutdown()
