"""Retention and archive states on a multi-day archive mined night after night: `prune` keeps or drops
whole traces, keeps the detection runs `show` needs for kept traces (flags identical before and after),
removes orphans and says what it kept and why; `show`, `stats`, `runs` and `diff` work on an archive in
every state (fresh, ingested only, mined, pruned, written by an older schema) and every archive query
releases its result."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import orjson
import pytest
from click.testing import CliRunner, Result

import tracemine.retention as retention
from tracemine.cli import main
from tracemine.report.show import trace_signals
from tracemine.store import Store
from tracemine.timewindow import parse_instant

DAY = 86_400 * 10**9
WIDE = {"COLUMNS": "200"}
# three nightly runs over a 10-day synthetic archive (spans from 2026-10-22 to 2026-11-01):
# (window since, until, when the run was made)
NIGHTS = [
    ("2026-10-22", "2026-10-24", "2026-10-24"),  # an old run: its citations are not kept
    ("2026-10-24", "2026-10-26", "2026-10-31"),  # an old window mined again recently: its citations are kept
    ("2026-10-28", "2026-11-02", "2026-11-01"),  # the latest run
]


def _cli(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args), env=WIDE)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def _ids(db: Path, sql: str, params: list | None = None) -> list:
    with duckdb.connect(str(db), read_only=True) as con:
        return [r[0] if len(r) == 1 else r for r in con.execute(sql, params or []).fetchall()]


def _cited(db: Path, runs: list[int]) -> set[str]:
    """Trace ids the findings of ``runs`` name (trace ids and exemplars)."""
    cited: set[str] = set()
    for data in _ids(db, "SELECT data FROM findings WHERE run_id IN (SELECT unnest(?))", [runs]):
        doc = orjson.loads(data)
        cited.update(doc["trace_ids"])
        cited.update(e["trace_id"] for e in doc["exemplars"])
    return cited


def _spans_per_trace(db: Path) -> dict[str, int]:
    return dict(_ids(db, "SELECT trace_id, count(*) FROM spans GROUP BY 1"))


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Archives in each state: ``fresh``, ``ingested``, ``mined`` (three nightly windowed runs), plus the
    prune cutoff (inside an uncited trace, after run 2's window) and the ``now`` that gives it with 5d."""
    tmp = tmp_path_factory.mktemp("retention")
    data = tmp / "traces"
    assert _cli("synth", "--traces", "300", "--days", "10", "--seed", "5", "--out", str(data)).exit_code == 0
    fresh = tmp / "fresh.duckdb"
    Store(fresh).close()
    ingested = tmp / "ingested.duckdb"
    assert _cli("ingest", str(data), "--db", str(ingested), "-q").exit_code == 0
    mined = tmp / "mined.duckdb"
    shutil.copy(ingested, mined)
    # a clustering of the first two days (detection run #1), later superseded by run 1's own detection
    result = _cli("cluster", "--db", str(mined), "--since", "2026-10-22", "--until", "2026-10-24", "--no-trajectories")
    assert result.exit_code == 0, result.output
    for since, until, made in NIGHTS:
        result = _cli("mine", "--db", str(mined), "--since", since, "--until", until, "-q",
                      "--out", str(tmp / f"report-{since}"))
        assert result.exit_code == 0, result.output
        with Store(mined) as store:  # the run as it would have been made on its night
            store.con.execute("UPDATE mine_runs SET started_ns = ? WHERE run_id = (SELECT max(run_id) FROM mine_runs)",
                              [parse_instant(made)])
    assert _ids(mined, "SELECT count(*) FROM mine_runs WHERE findings > 0") == [3]
    # the cutoff falls inside a trace no finding cites, after run 2's window, well before run 3's
    cited = _cited(mined, [1, 2, 3])
    lo, hi = parse_instant("2026-10-26T06:00:00Z"), parse_instant("2026-10-27T18:00:00Z")
    candidates = [(t, last) for t, first, last in _ids(
        mined, "SELECT trace_id, min(time_ns), max(time_ns) FROM spans GROUP BY 1 HAVING min(time_ns) < max(time_ns) "
        "AND max(time_ns) BETWEEN ? AND ? ORDER BY 1", [lo, hi]) if t not in cited]
    straddling, cutoff = candidates[0]
    return {"tmp": tmp, "fresh": fresh, "ingested": ingested, "mined": mined, "cutoff": cutoff,
            "now": cutoff + 5 * DAY, "straddling": straddling}


def _pruned(nights: dict, monkeypatch: pytest.MonkeyPatch, name: str, *extra: str) -> tuple[Path, Result]:
    db = nights["tmp"] / f"{name}.duckdb"
    shutil.copy(nights["mined"], db)
    monkeypatch.setattr(retention, "_now_ns", lambda: nights["now"])
    result = _cli("prune", "--db", str(db), "--older-than", "5d", *extra)
    assert result.exit_code == 0, result.output
    return db, result


def _flags(db: Path, trace_id: str) -> str:
    """All `show` prints about a trace: its spans, the flags on them, the detection run and its signals."""
    result = _cli("show", trace_id, "--db", str(db))
    assert result.exit_code == 0, result.output
    return result.output.replace(str(db), "DB")


def _signals(db: Path, trace_ids: list[str]) -> dict[str, tuple]:
    """Per trace, the detection run `show` takes its flags from and those flags."""
    with Store(db, read_only=True) as store:
        return {t: (lambda d, s: (d, [(x.kind, x.span_ids, x.text) for x in s]))(*trace_signals(store, t))
                for t in trace_ids}


def test_prune_keeps_the_flags_of_every_cited_trace(nights: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    mined = nights["mined"]
    cited = sorted(_cited(mined, [2, 3]))  # run 2 was made after the cutoff, run 3 is the latest with findings
    before = _signals(mined, cited)
    # flagged traces cited by run 2, wholly older than the cutoff, whose flags come from run 2's detection
    run2_detect = _ids(mined, "SELECT detect_id FROM mine_runs WHERE run_id = 2")[0]
    old = [t for t in cited if before[t][0] == run2_detect and before[t][1] and _ids(
        mined, "SELECT max(time_ns) < ? FROM spans WHERE trace_id = ?", [nights["cutoff"], t])[0]]
    assert len(old) >= 3
    shown = {t: _flags(mined, t) for t in old[:3]}
    db, result = _pruned(nights, monkeypatch, "flags")
    spans_before, spans_after = _spans_per_trace(mined), _spans_per_trace(db)
    assert {t: spans_after.get(t) for t in cited} == {t: spans_before[t] for t in cited}
    assert _signals(db, cited) == before
    assert {t: _flags(db, t) for t in shown} == shown  # `show` prints the same tree, flags and detection run
    # the detection run each citing run found its findings in is kept
    assert set(_ids(db, "SELECT detect_id FROM mine_runs WHERE run_id IN (2, 3)")) <= set(
        _ids(db, "SELECT detect_id FROM detect_runs"))
    assert "mine run(s) #2, #3" in result.output


def test_prune_keeps_or_drops_whole_traces(nights: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    mined, cutoff = nights["mined"], nights["cutoff"]
    before = _spans_per_trace(mined)
    last = dict(_ids(mined, "SELECT trace_id, max(time_ns) FROM spans GROUP BY 1"))
    cited = _cited(mined, [2, 3])
    db, _ = _pruned(nights, monkeypatch, "whole")
    after = _spans_per_trace(db)
    assert after == {t: n for t, n in before.items() if t in after}  # no trace lost some of its spans
    dropped = set(before) - set(after)
    assert dropped and all(last[t] < cutoff and t not in cited for t in dropped)
    assert all(t in after for t in before if last[t] >= cutoff or t in cited)
    straddling = nights["straddling"]
    assert _ids(mined, "SELECT count(*) FROM spans WHERE trace_id = ? AND time_ns < ?", [straddling, cutoff])[0] > 0
    assert after[straddling] == before[straddling]  # kept whole: later runs judge it whole
    # a trace only the old run 1 cited is dropped: show says which finding cited it
    only_old = sorted(_cited(mined, [1]) - cited - set(after))
    assert only_old
    gone = _cli("show", only_old[0], "--db", str(db))
    assert gone.exit_code == 2 and "`tracemine prune` dropped it" in gone.output
    fingerprint = re.search(r"finding (tm-[0-9a-f]+) of mine run #1 cites it", gone.output).group(1)
    assert _cli("show", fingerprint, "--db", str(db)).exit_code == 0


def test_show_notes_a_finding_whose_traces_were_pruned(nights: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    # a later prune: only the latest run (3) still started after the cutoff
    later = {**nights, "now": parse_instant("2026-10-31T01:00:00Z") + 5 * DAY}
    db, result = _pruned(later, monkeypatch, "later")
    mined = nights["mined"]
    fingerprint = _ids(mined, "SELECT fingerprint FROM findings GROUP BY 1 HAVING max(run_id) = 2 ORDER BY 1")[0]
    finding = _cli("show", fingerprint, "--db", str(db))
    assert finding.exit_code == 0 and "cited trace(s) are no longer in the archive" in finding.output
    kept = _cli("show", _ids(mined, "SELECT fingerprint FROM findings WHERE run_id = 3 AND rank = 1")[0],
                "--db", str(db))
    assert kept.exit_code == 0 and "no longer in the archive" not in kept.output
    assert "mine run(s) #3 (" in result.output


def test_prune_removes_orphans_and_says_what_it_kept(nights: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    mined = nights["mined"]
    dry_db, dry = _pruned(nights, monkeypatch, "dry", "--dry-run")
    assert _spans_per_trace(dry_db) == _spans_per_trace(mined)  # a dry run changes nothing
    db, result = _pruned(nights, monkeypatch, "orphans")
    # detection run #1 (superseded by mine run 1's over the same days) is no longer needed: it goes, with
    # its signals and the cluster runs made from it
    assert _ids(mined, "SELECT count(*) FROM cluster_runs WHERE detect_id = 1")[0] > 0
    assert 1 not in _ids(db, "SELECT detect_id FROM detect_runs")
    assert _ids(db, "SELECT count(*) FROM cluster_runs WHERE detect_id NOT IN (SELECT detect_id FROM detect_runs)") == [0]
    assert _ids(db, "SELECT count(*) FROM clusters WHERE cluster_run_id NOT IN "
                    "(SELECT cluster_run_id FROM cluster_runs)") == [0]
    assert _ids(db, "SELECT count(*) FROM signals WHERE detect_id NOT IN (SELECT detect_id FROM detect_runs) "
                    "OR trace_id NOT IN (SELECT trace_id FROM spans)") == [0]
    assert _ids(db, "SELECT count(*) FROM mine_runs") == [3]  # run history kept
    assert "1 detection run(s) and" in result.output
    assert _ids(db, "SELECT count(*) FROM findings") == _ids(mined, "SELECT count(*) FROM findings")
    assert dry.output.replace("would drop", "dropped").replace("would keep", "kept") == result.output
    # the figures it prints are the archive's
    before, after = _spans_per_trace(mined), _spans_per_trace(db)
    dropped = set(before) - set(after)
    cutoff = nights["cutoff"]
    numbers = [int(n.replace(",", "")) for n in re.findall(r"\b\d[\d,]*\b", result.output.split("cutoff")[0])]
    assert numbers[:2] == [sum(before[t] for t in dropped), len(dropped)]
    cited_old = [t for t in _cited(mined, [2, 3]) if t in after and _ids(
        db, "SELECT min(time_ns) < ? FROM spans WHERE trace_id = ?", [cutoff, t])[0]]
    old_spans = sum(_ids(db, "SELECT count(*) FROM spans WHERE trace_id = ? AND time_ns < ?", [t, cutoff])[0]
                    for t in cited_old)
    assert f"kept {old_spans:,} older span(s) of {len(cited_old):,} trace(s) cited by the findings of mine run(s) " \
           "#2, #3" in result.output
    assert "that go on past the cutoff: traces are kept or dropped whole" in result.output
    assert "cluster run(s) whose detection run is gone" in result.output


def _old_schema(src: Path, dst: Path) -> Path:
    """``src`` as an older tracemine wrote it: no cause/agent columns on signals, no run status/note, no
    `inherited_from` on findings."""
    shutil.copy(src, dst)
    with duckdb.connect(str(dst)) as con:
        for table, column in [("signals", "cause_span_id"), ("signals", "agent"), ("mine_runs", "status"),
                              ("mine_runs", "note"), ("findings", "inherited_from")]:
            con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    return dst


def _check_readers(db: Path, trace_id: str, fingerprint: str) -> dict[str, int]:
    """Run show (trace and finding), stats, runs and diff on ``db``: each exits 0, or 2 with one clear
    `Error:` line, never with a traceback."""
    codes = {}
    for args in (["show", trace_id], ["show", fingerprint], ["stats"], ["stats", "--json"], ["runs"],
                 ["diff", "1", "2"]):
        result = _cli(*args, "--db", str(db))
        assert "Traceback" not in result.output
        assert result.exit_code in (0, 2), (args, result.output)
        if result.exit_code == 2:
            assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1, result.output
        codes[" ".join(args[:1] + (["trace"] if args[1:] == [trace_id] else ["finding"] if args[1:] == [fingerprint]
                                   else args[1:]))] = result.exit_code
    return codes


def test_every_command_works_on_every_archive_state(nights: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    mined = nights["mined"]
    data = _ids(mined, "SELECT data FROM findings WHERE run_id = 3 ORDER BY rank LIMIT 1")[0]
    doc = orjson.loads(data)
    trace_id, fingerprint = doc["trace_ids"][0], doc["fingerprint"]
    pruned, _ = _pruned(nights, monkeypatch, "states")
    old = _old_schema(mined, nights["tmp"] / "old.duckdb")
    nothing = {"show trace": 2, "show finding": 2, "stats": 0, "stats --json": 0, "runs": 0, "diff 1 2": 2}
    assert _check_readers(nights["fresh"], trace_id, fingerprint) == nothing
    # ingested, never mined: the trace is shown without flags (this used to crash on an unfinished result)
    assert _check_readers(nights["ingested"], trace_id, fingerprint) == {**nothing, "show trace": 0}
    everything = dict.fromkeys(nothing, 0)
    assert _check_readers(mined, trace_id, fingerprint) == everything
    assert _check_readers(pruned, trace_id, fingerprint) == everything
    assert _check_readers(old, trace_id, fingerprint) == everything  # read-only: not migrated
    assert _signals(old, [trace_id]) == _signals(mined, [trace_id])  # the flags (their causes were not stored)
    migrated, result = _pruned({**nights, "mined": old}, monkeypatch, "old-pruned")  # opened for writing: migrated
    assert "dropped" in result.output
    assert _check_readers(migrated, trace_id, fingerprint) == everything
    assert _signals(migrated, [trace_id]) == _signals(mined, [trace_id])
    ingested_show = _cli("show", trace_id, "--db", str(nights["ingested"]))
    assert "no detection run in the archive" in ingested_show.output


def test_archive_queries_release_their_results(nights: dict) -> None:
    trace_id = _ids(nights["ingested"], "SELECT min(trace_id) FROM spans")[0]
    with Store(nights["ingested"], read_only=True) as store:
        for query in (store.newest_ns, store.latest_detect_id, store.stats, lambda: store.signals(trace_id=trace_id),
                      lambda: store._has_columns("signals", "agent"), lambda: store.one("SELECT 1"),
                      lambda: store.scalar("SELECT max(time_ns) FROM spans")):
            query()
            assert store.con.sql("SELECT 42").fetchall() == [(42,)]  # nothing left open
        store.con.execute("SELECT max(time_ns) FROM spans").fetchone()  # another module's unfinished result
        assert store.spans_of(trace_id)  # the archive's own reads end it first
