"""Ingest run unattended: hostile input costs only itself. Deeply nested JSON, impossible span times,
special files, decompression bombs and a killed ingest each reject what is wrong (counted, with file,
line and reason in `stats --quarantine`) and keep everything else; a missing path fails before the
archive is touched."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zipfile
from pathlib import Path

import orjson
import psutil
import pytest
from click.testing import CliRunner

from test_bad_input import T0, _span  # 2025-11-01; one flat OpenInference tool span
from tracemine.cli import main
from tracemine.ingest.limits import ReadLimits
from tracemine.ingest.read import read_file
from tracemine.store import Store

DEEP = "@@DEEP@@"


def _deep_span(i: int, levels: int) -> bytes:
    """A flat span whose attribute ``deep`` is ``levels`` nested lists (written by hand: no encoder nests so far)."""
    attrs = {"openinference.span.kind": "TOOL", "tool.name": "lookup", "deep": DEEP}
    return orjson.dumps(_span(i, attributes=attrs)).replace(f'"{DEEP}"'.encode(), b"[" * levels + b"]" * levels)


def _otlp(i: int, deep_levels: int = 0) -> bytes:
    attrs = [{"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}}]
    if deep_levels:
        attrs.append({"key": "deep", "value": DEEP})
    line = orjson.dumps({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [{
        "traceId": f"{i + 1:032x}", "spanId": f"{i + 1:016x}", "name": f"chat {i}",
        "startTimeUnixNano": str(T0 + i), "endTimeUnixNano": str(T0 + i + 5), "attributes": attrs}]}]}]})
    # OTLP AnyValue arrays: three JSON levels each
    nested = b'{"arrayValue":{"values":[' * deep_levels + b'{"stringValue":"x"}' + b"]}}" * deep_levels
    return line.replace(f'"{DEEP}"'.encode(), nested)


def _lines(records: list[bytes]) -> bytes:
    return b"".join(r + b"\n" for r in records)


def _ingest(tmp_path: Path, *paths: Path, config: dict | None = None, db: str = "a.duckdb") -> tuple[Path, str]:
    args = []
    if config:
        cfg = tmp_path / "cfg.yaml"
        cfg.write_text(orjson.dumps(config).decode())  # JSON is YAML
        args = ["--config", str(cfg)]
    db_path = tmp_path / db
    result = CliRunner().invoke(main, [*args, "ingest", *map(str, paths), "--db", str(db_path), "-q"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return db_path, result.output


def _stored(db: Path) -> tuple[list[str], list[tuple[str, str, str]]]:
    with Store(str(db), read_only=True) as store:
        names = [r[0] for r in store.con.execute("SELECT name FROM spans ORDER BY name").fetchall()]
        rejected = [(Path(q.file).name, q.locator, q.reason) for q in store.quarantine(limit=None)]
    return names, rejected


def _quarantine_text(db: Path) -> str:
    result = CliRunner().invoke(main, ["stats", "--db", str(db), "--quarantine", "--limit", "0"])
    assert result.exit_code == 0, result.output
    return result.output


# -- 1. deep nesting: one record, not the rest of the file -------------------------------------------------


def _deep_jsonl() -> tuple[bytes, set[str]]:
    records = [orjson.dumps(_span(i)) for i in range(10)]
    records.append(_deep_span(100, 1000))                           # line 11: parses, cannot be stored
    records += [orjson.dumps(_span(i)) for i in range(10, 20)]
    records.append(_deep_span(101, 300))                            # line 22: deeper than orjson writes
    records += [orjson.dumps(_span(i)) for i in range(20, 30)]
    records.append(_deep_span(102, 2000))                           # line 33: deeper than orjson reads
    records += [orjson.dumps(_span(i)) for i in range(30, 40)]
    return _lines(records), {f"step {i}" for i in range(40)}


@pytest.mark.parametrize("layout", ["jsonl", "gz", "byte-ranges"])
def test_deeply_nested_line_rejects_only_that_record(tmp_path: Path, layout: str) -> None:
    data, valid = _deep_jsonl()
    path = tmp_path / ("deep.jsonl.gz" if layout == "gz" else "deep.jsonl")
    path.write_bytes(gzip.compress(data) if layout == "gz" else data)
    config = {"ingest": {"chunk_bytes": 2048, "workers": 1}} if layout == "byte-ranges" else None
    db, output = _ingest(tmp_path, path, config=config)
    names, rejected = _stored(db)
    assert set(names) == valid  # every valid span before and after the deep ones is kept
    assert [(r[1], "nested too deeply" in r[2]) for r in rejected] == [
        ("line 11", True), ("line 22", True), ("line 33", True)]
    assert "3 record(s) rejected" in output
    text = _quarantine_text(db)
    for line in (11, 22, 33):
        assert f"{path.name}:line {line}: JSON nested too deeply" in text


def test_deep_records_in_otlp_and_json_documents(tmp_path: Path) -> None:
    (tmp_path / "otlp.jsonl").write_bytes(_lines(
        [_otlp(i) for i in range(5)] + [_otlp(50, deep_levels=330)] + [_otlp(i) for i in range(5, 10)]))
    doc = [_span(200 + i) for i in range(8)]
    doc[3]["attributes"]["deep"] = DEEP
    (tmp_path / "doc.json").write_bytes(orjson.dumps({"spans": doc}, option=orjson.OPT_INDENT_2).replace(
        f'"{DEEP}"'.encode(), b"[" * 600 + b"]" * 600))
    db, _ = _ingest(tmp_path, tmp_path / "otlp.jsonl", tmp_path / "doc.json")
    names, rejected = _stored(db)
    assert {n for n in names if n.startswith("chat")} == {f"chat {i}" for i in range(10)}
    assert {n for n in names if n.startswith("step")} == {f"step {200 + i}" for i in range(8) if i != 3}
    assert sorted((r[0], r[1]) for r in rejected) == [
        ("doc.json", "$.spans[3]"), ("otlp.jsonl", "line 6 resourceSpans[0].scopeSpans[0].spans[0]")]
    assert all("nested too deeply" in r[2] for r in rejected)


# -- 2. impossible times: quarantined, never stored at "now" ------------------------------------------------


def test_impossible_timestamps_are_quarantined_not_stored_now(tmp_path: Path) -> None:
    records = [
        orjson.dumps(_span(0)),
        orjson.dumps(_span(1, start_time=-5, end_time=-4)),                      # negative
        orjson.dumps(_span(2, start_time="1999-12-31T23:59:59Z", end_time=None)),  # before 2000
        orjson.dumps(_span(3, end_time=4_102_444_800_000_000_000)),             # 2100: far future
        orjson.dumps(_span(4, start_time=12345, end_time=None)),                 # not a time in any unit
        _otlp(5).replace(f'"startTimeUnixNano":"{T0 + 5}"'.encode(), b'"startTimeUnixNano":"-1000000"'),
        orjson.dumps(_span(6, start_time="2025-11-01T00:00:10Z", end_time=None)),
    ]
    (tmp_path / "times.jsonl").write_bytes(_lines(records))
    started = time.time_ns()
    db, _ = _ingest(tmp_path, tmp_path / "times.jsonl")
    names, rejected = _stored(db)
    assert names == ["step 0", "step 6"]
    assert [(r[1], r[2].split(":")[0]) for r in rejected] == [
        ("line 2", "impossible start time"), ("line 3", "impossible start time"), ("line 4", "impossible end time"),
        ("line 5", "impossible start time"), ("line 6 resourceSpans[0].scopeSpans[0].spans[0]", "impossible start time"),
    ]
    reasons = " | ".join(r[2] for r in rejected)
    assert "negative" in reasons and "before 2000-01-01" in reasons and "in the future" in reasons
    with Store(str(db), read_only=True) as store:
        newest = store.con.execute("SELECT max(time_ns) FROM spans").fetchone()[0]
    assert newest < started  # nothing was anchored at the time of the ingest
    # the tolerance is a setting: with a century of it, 2100 is accepted
    db2, _ = _ingest(tmp_path, tmp_path / "times.jsonl", config={"ingest": {"future_tolerance_seconds": 100 * 366 * 86400}},
                     db="b.duckdb")
    assert "step 3" in _stored(db2)[0]


# -- 3. only regular files -----------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_special_files_are_skipped_with_a_reason_and_never_opened(tmp_path: Path) -> None:
    data = tmp_path / "in"
    data.mkdir()
    (data / "good.jsonl").write_bytes(_lines([orjson.dumps(_span(i)) for i in range(3)]))
    (data / "dangling.jsonl").symlink_to(tmp_path / "gone.jsonl")
    os.mkfifo(data / "pipe.jsonl")
    (data / "zero.jsonl").symlink_to("/dev/zero")
    (data / "link.jsonl").symlink_to(data / "good.jsonl")  # a symlink to a regular file is read (once)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(data / "sock.jsonl"))
    db = tmp_path / "a.duckdb"
    script = "import sys; from tracemine.cli import main; sys.exit(main())"
    try:
        # a child process: the code before this change hangs on the FIFO and /dev/zero
        done = subprocess.run([sys.executable, "-c", script, "ingest", str(data), "--db", str(db), "-q"],
                              capture_output=True, text=True, timeout=60)
        explicit = subprocess.run([sys.executable, "-c", script, "ingest", str(data / "pipe.jsonl"),
                                   str(data / "dangling.jsonl"), "--db", str(tmp_path / "b.duckdb"), "-q"],
                                  capture_output=True, text=True, timeout=60)
    finally:
        sock.close()
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    names, rejected = _stored(db)
    assert names == ["step 0", "step 1", "step 2"]
    reasons = {r[0]: r[2] for r in rejected}
    assert set(reasons) == {"dangling.jsonl", "pipe.jsonl", "zero.jsonl", "sock.jsonl"}
    assert reasons["dangling.jsonl"].startswith("dangling symlink")
    assert "a FIFO" in reasons["pipe.jsonl"] and "a socket" in reasons["sock.jsonl"]
    assert "a character device (through a symlink)" in reasons["zero.jsonl"]
    assert all(r[1] == "file" for r in rejected)
    assert "4 record(s) rejected" in " ".join(done.stdout.split())
    assert explicit.returncode == 0 and "Traceback" not in explicit.stderr, explicit.stderr
    assert len(_stored(tmp_path / "b.duckdb")[1]) == 2


# -- 4. size bounds ------------------------------------------------------------------------------------------


def test_huge_line_in_small_gz_is_skipped_while_streaming(tmp_path: Path) -> None:
    huge = orjson.dumps(_span(99, attributes={"output.value": "x" * (40 << 20)}))
    path = tmp_path / "bomb.jsonl.gz"
    path.write_bytes(gzip.compress(_lines([orjson.dumps(_span(0)), huge, orjson.dumps(_span(1))]), 9))
    del huge
    assert path.stat().st_size < 200_000
    rejected: list[tuple] = []
    tracemalloc.start()
    try:
        records = list(read_file(path, lambda *a: rejected.append(a), limits=ReadLimits(2 << 20, 1 << 30)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20  # the 40 MB line never sat in memory
    assert [r.name for r in records] == ["step 0", "step 1"]
    assert [(r[1], r[2]) for r in rejected] == [
        ("line 2", "record of 40.0 MiB is over ingest.max_record_bytes (2.0 MiB): skipped")]
    # the same through the CLI, the bound set in the config
    db, _ = _ingest(tmp_path, path, config={"ingest": {"max_record_bytes": 2 << 20}})
    names, stored_rejects = _stored(db)
    assert names == ["step 0", "step 1"] and [r[1] for r in stored_rejects] == ["line 2"]
    assert "bomb.jsonl.gz:line 2: record of 40.0 MiB is over ingest.max_record_bytes" in _quarantine_text(db)


def test_decompressed_file_size_is_bounded(tmp_path: Path) -> None:
    lines = _lines([orjson.dumps(_span(i)) for i in range(40_000)])  # ~10 MB
    (tmp_path / "many.jsonl.gz").write_bytes(gzip.compress(lines))
    document = orjson.dumps({"spans": [_span(i) for i in range(8000)]}, option=orjson.OPT_INDENT_2)
    assert len(document) > 1 << 20
    (tmp_path / "doc.json").write_bytes(document)
    db, _ = _ingest(tmp_path, tmp_path / "many.jsonl.gz", tmp_path / "doc.json",
                    config={"ingest": {"max_file_bytes": 1 << 20}})
    names, rejected = _stored(db)
    kept = len(names)
    assert 2000 < kept < 5000 and set(names) == {f"step {i}" for i in range(kept)}  # the first MiB of the .gz
    assert sorted(rejected) == [
        ("doc.json", "file", "file not read: it is (or decompresses to) more than ingest.max_file_bytes (1.0 MiB)"),
        ("many.jsonl.gz", f"line {kept + 1}",
         "rest of file not read: it decompresses to more than ingest.max_file_bytes (1.0 MiB)"),
    ]


def test_zip_member_bomb_is_bounded(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("header.json", orjson.dumps({"eval": {"task": "t", "model": "m"}}))
        archive.writestr("samples/1_epoch_1.json", orjson.dumps({"id": 1, "input": "x" * (3 << 20)}))
    (tmp_path / "run.eval").write_bytes(buffer.getvalue())
    db, _ = _ingest(tmp_path, tmp_path / "run.eval", config={"ingest": {"max_record_bytes": 2 << 20}})
    _, rejected = _stored(db)
    assert rejected == [("run.eval", "samples/1_epoch_1.json",
                         "zip member decompresses to more than ingest.max_record_bytes (2.0 MiB): skipped")]


# -- 5. readers die with their parent ------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_reader_processes_die_with_a_killed_ingest(tmp_path: Path) -> None:
    data = tmp_path / "in"
    data.mkdir()
    for f in range(4):
        (data / f"f{f}.jsonl").write_bytes(_lines([orjson.dumps(_span(f * 100 + i)) for i in range(50)]))
    script = textwrap.dedent("""
        import sys, time
        from tracemine.config import IngestSettings
        from tracemine.ingest.loader import ingest_paths
        from tracemine.store import Store

        def progress(done, total):  # the first file is in: the readers wait for work while we stall
            print("READY", flush=True)
            time.sleep(120)

        ingest_paths([sys.argv[1]], Store(sys.argv[2]), IngestSettings(workers=2, parallel_min_bytes=0), progress)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script, str(data), str(tmp_path / "a.duckdb")],
                            stdout=subprocess.PIPE, text=True)
    readers: list[psutil.Process] = []
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
        readers = psutil.Process(proc.pid).children(recursive=True)
        assert len(readers) >= 2
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        _, alive = psutil.wait_procs(readers, timeout=5)
        alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
        assert not alive, f"reader processes outlived the killed ingest: {[p.pid for p in alive]}"
    finally:
        if proc.poll() is None:
            proc.kill()
        for p in readers:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()


# -- 6. a missing path fails before the archive is touched ---------------------------------------------------


@pytest.mark.parametrize("command", ["mine", "ingest", "detect"])
def test_missing_path_fails_fast_without_creating_the_archive(tmp_path: Path, command: str) -> None:
    db = tmp_path / "a.duckdb"
    args = [command, str(tmp_path / "missing" / "path"), "--db", str(db)]
    if command == "mine":
        args += ["--out", str(tmp_path / "report")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [f"Error: no such file or directory: '{tmp_path / 'missing' / 'path'}'"]
    assert not db.exists() and not list(tmp_path.glob("a.duckdb*"))
