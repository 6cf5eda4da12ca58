"""Plugins through real entry points: a third-party reader and publisher are used (a file in the plugin's
format is ingested, `tracemine publish` takes the publisher's own option and hands it the findings), the
older `tracemine.detectors` group still registers detectors, and `tracemine plugins` lists what is loaded
and from where (a plugin that cannot load is listed, not fatal)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

import tracemine
from plugin_fixtures import (
    BROKEN_WORDING,
    LEGACY_DETECTOR,
    MEANING_DETECTOR,
    MEANING_WORDING,
    TOYRUN_PLUGIN,
    install,
    on_path,
    toyrun_lines,
)
from tracemine import plugins
from tracemine.cli import main
from tracemine.history import latest_run_id, run_findings
from tracemine.store import Store
from tracemine.summarise import wording
from tracemine.summarise.facts import collect_facts
from tracemine.testing import HashEmbedder, KindClusterer

__all__ = ["on_path"]  # the fixture, used by name

TOY_ENTRY_POINTS = """
    [tracemine]
    toyrun = tm_toyrun
    broken = tm_toyrun_missing_module
"""


def _toy(tmp_path: Path, on_path) -> Path:
    root = install(tmp_path / "site", "tm-toyrun", "0.3.1", "tm_toyrun", TOYRUN_PLUGIN, TOY_ENTRY_POINTS)
    on_path(root)
    return root


def test_third_party_reader_and_publisher_are_used(tmp_path: Path, on_path) -> None:
    _toy(tmp_path, on_path)
    data = tmp_path / "runs.jsonl"
    data.write_text(toyrun_lines())
    db = tmp_path / "toy.duckdb"
    result = tracemine.mine([str(data)], db=db, embedder=HashEmbedder(), clusterer=KindClusterer())
    assert result.ingest.rejected == 1  # the record without a run id, counted (and quarantined with its line)
    with Store(db, read_only=True) as store:
        formats = {row[0] for row in store.con.execute("SELECT DISTINCT source_format FROM spans").fetchall()}
        rejected = store.con.execute("SELECT locator, reason FROM quarantine").fetchall()
    assert formats == {"toyrun"}
    assert rejected == [("line 7", "toy_run_id is not a non-empty string")]
    assert len(result) >= 1  # the plugin's records reach detection and become findings

    out = tmp_path / "published.jsonl"
    cli = CliRunner().invoke(main, ["publish", "--db", str(db), "--to", "jsonfile", "--jsonfile-path", str(out)])
    assert cli.exit_code == 0, cli.output
    sent = [json.loads(line) for line in out.read_text().splitlines()]
    with Store(db, read_only=True) as store:
        run_id = latest_run_id(store)
        expected = {f.fingerprint for f in run_findings(store, run_id, reported_only=True)}
    assert {s["fingerprint"] for s in sent} == expected and len(sent) == len(expected)
    assert {s["run"] for s in sent} == {run_id}
    assert "jsonfile" in cli.output

    # without its option the plugin publisher is not configured, and says so
    cli = CliRunner(env={"COLUMNS": "300"}).invoke(main, ["publish", "--db", str(db), "--to", "jsonfile"])
    assert cli.exit_code == 4 and "--jsonfile-path is not set" in cli.output
    # its option is part of the command's help; an unknown publisher is refused by name
    assert "--jsonfile-path" in CliRunner().invoke(main, ["publish", "--help"]).output
    cli = CliRunner().invoke(main, ["publish", "--db", str(db), "--to", "nowhere"])
    assert cli.exit_code == 2 and "'nowhere' is not one of" in cli.output and "'jsonfile'" in cli.output


def test_plugins_command_lists_components_and_where_they_come_from(tmp_path: Path, on_path) -> None:
    _toy(tmp_path, on_path)
    result = CliRunner().invoke(main, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    rows = {(r["hook"], r["name"]): r for r in listed["plugins"]}
    assert rows[("readers", "toyrun")]["distribution"] == "tm-toyrun"
    assert rows[("readers", "toyrun")]["version"] == "0.3.1"
    assert rows[("publishers", "jsonfile")]["module"] == "tm_toyrun"
    builtin = rows[("readers", "otlp_json")]
    assert builtin["builtin"] and builtin["module"] == "tracemine.default_plugins.readers"
    hooks = {r["hook"] for r in listed["plugins"]}
    assert hooks == {"detectors", "readers", "conventions", "publishers", "report_writers", "embedders",
                     "summarisers"}
    assert ("publishers", "github") in rows and ("summarisers", "offline") in rows
    assert ("conventions", "openinference") in rows and ("report_writers", "html") in rows
    [error] = listed["errors"]
    assert error["plugin"] == "broken" and error["distribution"] == "tm-toyrun"
    assert "tm_toyrun_missing_module" in error["error"]

    table = CliRunner().invoke(main, ["plugins"])
    assert table.exit_code == 0
    assert "toyrun" in table.output and "tm-toyrun 0.3.1" in table.output
    assert "not loaded: broken" in table.output


def test_detectors_entry_point_group_still_registers_detectors(tmp_path: Path, on_path) -> None:
    from tracemine.detect.registry import available, build

    root = install(tmp_path / "site", "tm-steps", "1.0", "tm_steps", LEGACY_DETECTOR,
                   "[tracemine.detectors]\nmany_steps = tm_steps:ManyStepsDetector\n")
    on_path(root)
    assert available()["many_steps"] == "tm_steps:ManyStepsDetector"
    assert list(available())[:7] == ["loop", "duplicate_call", "silent_failure", "argument_error",
                                     "unrecovered_error", "outlier", "contrast"]  # built-ins first
    [detector] = build(["many_steps"], {"many_steps": {"max_calls": 1}})
    assert detector.name == "many_steps" and detector.setting("max_calls", 3) == 1
    [row] = [r for r in plugins.listing() if r.name == "many_steps"]
    assert (row.origin.distribution, row.origin.version) == ("tm-steps", "1.0")


def test_without_plugins_only_builtins_are_registered() -> None:
    plugins.reset()
    assert all(r.origin.builtin for r in plugins.listing())
    assert not plugins.load_errors()


def test_mine_command_takes_a_plugin_publishers_option(tmp_path: Path, on_path) -> None:
    _toy(tmp_path, on_path)
    data = tmp_path / "runs.jsonl"
    data.write_text(toyrun_lines())
    db, out = tmp_path / "cli.duckdb", tmp_path / "published.jsonl"
    result = CliRunner().invoke(main, ["mine", str(data), "--db", str(db), "--out", str(tmp_path / "report"), "-q",
                                       "--publish", "jsonfile", "--jsonfile-path", str(out)])
    assert result.exit_code == 0, result.output
    with Store(db, read_only=True) as store:
        run_id = latest_run_id(store)
        expected = {f.fingerprint for f in run_findings(store, run_id, reported_only=True)}
    assert expected and {json.loads(line)["fingerprint"] for line in out.read_text().splitlines()} == expected


def test_a_plugin_detector_declares_its_waste_and_what_splits_its_findings(tmp_path: Path, on_path) -> None:
    """Findings and summaries read a detector's meaning through the detector (no detector names in them): a
    plugin's finding carries the waste and fix family its detector declares, the facts it aggregates and
    the wording of the template it ships — as complete as a built-in's."""
    _toy(tmp_path, on_path)
    on_path(install(tmp_path / "site2", "tm-refused", "0.1", "tm_refused", MEANING_DETECTOR,
                    "[tracemine]\nrefused = tm_refused\n", files={"refused.j2": MEANING_WORDING}))
    data = tmp_path / "runs.jsonl"
    data.write_text(toyrun_lines())
    failures = dict(wording.FAILURES)
    result = tracemine.mine([str(data)], db=tmp_path / "m.duckdb", embedder=HashEmbedder(),
                            clusterer=KindClusterer())
    [finding] = [f for f in result.findings if f.kinds == ["refused_send"]]
    assert finding.key["family"] == "relay smtp" and finding.key["subject"] == "send_invoice"
    assert finding.impact.signals == 6
    assert (finding.impact.tokens_wasted, finding.impact.latency_wasted_ms) == (6 * 250, 6 * 1500.0)
    # its wording, from its template over its facts (relays, retry budget) and the shared ones
    assert finding.title.endswith("`send_invoice` refused by relay `smtp` (6 traces, 100 %)")
    assert finding.summary.startswith(
        "The relay refused the message `send_invoice` sent: 6 occurrences in 6 of 6 traces (100 % of the window). "
        "Refusals by relay: `smtp` 6; 1,500 tokens of retry budget burnt.")
    assert finding.mechanism == "The relay rejects the sender, so every send burns its retry budget."
    assert finding.recommended_fix == "Register the sender with relay `smtp` and stop retrying refused sends of " \
                                      "`send_invoice`."
    assert dict(wording.FAILURES) == failures  # its template rendered (no fallback)
    # its facts are in every brief of its signals (what an LLM prompt shows as well)
    with Store(tmp_path / "m.duckdb", read_only=True) as store:
        signals = [s for s in store.signals() if s.kind == "refused_send"]
    facts = collect_facts(signals)
    assert facts["relays"] == [["smtp", 6]] and facts["retry_tokens"] == 1500
    assert list(facts) == ["signals", "traces", "kinds", "relays", "retry_tokens"]  # its own, after the shared


def test_a_broken_wording_template_falls_back_to_the_generic_wording(tmp_path: Path, on_path, caplog) -> None:
    """A plugin template that fails (here: an undefined variable) does not stop the run: its findings get
    the generic wording, and the failure is counted per detector class and logged once."""
    _toy(tmp_path, on_path)
    on_path(install(tmp_path / "site2", "tm-refused-broken", "0.1", "tm_refused_broken", MEANING_DETECTOR,
                    "[tracemine]\nrefused = tm_refused_broken\n", files={"refused.j2": BROKEN_WORDING}))
    data = tmp_path / "runs.jsonl"
    data.write_text(toyrun_lines())
    key = "tm_refused_broken:RefusedSendDetector"
    before = wording.FAILURES[key]
    with caplog.at_level("WARNING", logger="tracemine.summarise"):
        result = tracemine.mine([str(data)], db=tmp_path / "m.duckdb", embedder=HashEmbedder(),
                                clusterer=KindClusterer())
    [finding] = [f for f in result.findings if f.kinds == ["refused_send"]]
    assert finding.summary.startswith("A detector reported `refused_send` for `send_invoice`: 6 occurrences")
    assert "from a detector without a dedicated template" in finding.mechanism
    assert finding.recommended_fix.startswith("Open the exemplars for `send_invoice`")
    assert wording.FAILURES[key] > before
    warnings = [r for r in caplog.records if key in r.getMessage()]
    assert len(warnings) == 1 and "no_such_fact" in warnings[0].getMessage()
