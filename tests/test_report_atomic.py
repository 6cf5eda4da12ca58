"""Reports written whole or not at all (issue 12): a full disk or a failing writer leaves the previous
complete reports (or none), never a truncated file; an unwritable --out fails before any work."""

from __future__ import annotations

import builtins
import errno
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import tracemine
from tracemine.cli import EXIT_USAGE, EXIT_WRITE, main
from tracemine.pipeline import write_reports
from tracemine.report import html as html_report
from tracemine.report.atomic import ReportWriteError, check_out_dir, write_text
from tracemine.report.jsonout import ReportContext, validate_document
from tracemine.store import Store

REPORTS = {"findings.json", "report.md", "report.html"}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("atomic")
    data = tmp / "traces"
    result = CliRunner().invoke(main, ["synth", "--traces", "80", "--seed", "5", "--out", str(data)])
    assert result.exit_code == 0, result.output
    db = tmp / "base.duckdb"
    result = CliRunner().invoke(main, ["ingest", str(data), "--db", str(db), "-q"])
    assert result.exit_code == 0, result.output
    return {"data": data, "db": db}


class _FullDisk:
    """``open`` whose files under ``folder`` (those whose name contains ``only``, when given) take
    ``budget`` bytes in all, then fail with ENOSPC after a partial write (what a full disk does)."""

    def __init__(self, folder: Path, budget: int, only: str | None = None) -> None:
        self.folder = folder.resolve()
        self.budget = budget
        self.only = only
        self.real = builtins.open

    def __call__(self, file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        fh = self.real(file, mode, *args, **kwargs)
        if isinstance(file, int) or not any(c in mode for c in "wxa"):
            return fh
        path = Path(os.fsdecode(file)).resolve()
        if path.parent != self.folder or (self.only and self.only not in path.name):
            return fh
        return _Filling(fh, self)


class _Filling:
    def __init__(self, fh: Any, disk: _FullDisk) -> None:
        self._fh, self._disk = fh, disk

    def write(self, data: Any) -> int:
        room = self._disk.budget
        if len(data) > room:
            self._fh.write(data[:room])
            self._fh.flush()
            self._disk.budget = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._disk.budget -= len(data)
        return self._fh.write(data)

    def __enter__(self) -> _Filling:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)


def _full_disk(monkeypatch: pytest.MonkeyPatch, folder: Path, budget: int, only: str | None = None) -> None:
    disk = _FullDisk(folder, budget, only)
    monkeypatch.setattr(builtins, "open", disk)
    monkeypatch.setattr(io, "open", disk)  # pathlib's Path.open


def _copy(archive: dict, tmp_path: Path) -> Path:
    db = tmp_path / "a.duckdb"
    shutil.copy(archive["db"], db)
    return db


def _runs(db: Path) -> int:
    with Store(db, read_only=True) as store:
        return int(store.con.execute("SELECT count(*) FROM mine_runs").fetchone()[0])


def test_a_full_disk_keeps_the_previous_reports_whole(archive: dict, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    db, out = _copy(archive, tmp_path), tmp_path / "reports"
    first = CliRunner().invoke(main, ["mine", "--db", str(db), "--out", str(out), "-q"])
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(before) == REPORTS and _runs(db) == 1

    _full_disk(monkeypatch, out, budget=4096)  # room for the --out probe, not for findings.json
    second = CliRunner().invoke(main, ["mine", "--db", str(db), "--out", str(out), "-q"])
    monkeypatch.undo()
    assert second.exit_code == EXIT_WRITE, second.output
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in second.output
    assert lines[0].startswith(f"Error: cannot write {out / 'findings.json'}: No space left on device")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no truncated file, no temporary left
    validate_document(json.loads(before["findings.json"]))
    assert _runs(db) == 1  # the failed run is not recorded


def test_a_full_disk_on_the_first_run_leaves_no_report(archive: dict, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    _full_disk(monkeypatch, out, budget=100, only="report.md")  # findings.json fits, report.md does not
    result = CliRunner().invoke(main, ["mine", "--db", str(_copy(archive, tmp_path)), "--out", str(out), "-q"])
    monkeypatch.undo()
    assert result.exit_code == EXIT_WRITE, result.output
    assert f"cannot write {out / 'report.md'}: No space left on device" in result.stderr
    assert list(out.iterdir()) == []  # not even the findings.json that fitted: all three or none


def test_a_failing_writer_leaves_the_previous_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    context = ReportContext(archive="a.duckdb", traces=3, spans=9)
    nothing = tmp_path / "none"
    monkeypatch.setattr(html_report, "render_html", lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):
        write_reports([], context, nothing)
    assert list(nothing.iterdir()) == []
    monkeypatch.undo()

    out = tmp_path / "reports"
    write_reports([], context, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(html_report, "render_html", lambda *a: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError, match="boom"):
        write_reports([], ReportContext(archive="b.duckdb", traces=5, spans=20), out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_write_text_replaces_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.txt"
    write_text(target, "old\n")
    _full_disk(monkeypatch, tmp_path, budget=10)
    with pytest.raises(ReportWriteError, match=f"cannot write {target}: No space left on device") as caught:
        write_text(target, "new contents, longer than ten bytes\n")
    monkeypatch.undo()
    assert isinstance(caught.value, OSError) and caught.value.path == target
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["f.txt"]
    write_text(target, "new\n")
    assert target.read_text() == "new\n"


@pytest.mark.parametrize("kind", ["proc", "under-a-file"])
def test_an_unwritable_out_fails_before_any_work(archive: dict, tmp_path: Path, kind: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    out = "/proc/tracemine-x" if kind == "proc" else str(blocker / "reports")
    db = tmp_path / "new.duckdb"
    result = CliRunner().invoke(main, ["mine", str(archive["data"]), "--db", str(db), "--out", out, "-q"])
    assert result.exit_code == EXIT_USAGE, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: --out: cannot create folder {out}: ")
    assert "Traceback" not in result.output
    assert not db.exists()  # nothing ingested, no archive made
    # the Python API says so before ingesting too
    with pytest.raises(ReportWriteError, match="cannot create folder"):
        tracemine.mine([str(archive["data"])], db=str(db), out=out)
    with Store(db, read_only=True) as store:
        assert store.stats().spans == 0


def test_check_out_dir_leaves_nothing_behind(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b" / "c"
    assert check_out_dir(deep) == deep
    assert list(tmp_path.iterdir()) == []  # the folders made for the probe are removed again
    existing = tmp_path / "reports"
    existing.mkdir()
    check_out_dir(existing)
    assert existing.is_dir() and list(existing.iterdir()) == []
    with pytest.raises(ReportWriteError, match="exists and is not a folder"):
        check_out_dir(Path(__file__))
