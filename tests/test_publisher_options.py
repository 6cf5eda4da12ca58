"""The built-in publishers' own CLI options: each overrides where its tracker publishes, selects it when no
`--to` is given, and a bad value is reported against that tracker (validated like the settings)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import tracemine
from test_components import write_traces
from tracemine.cli import main
from tracemine.config import load_settings
from tracemine.publish import publish_run
from tracemine.store import Store
from tracemine.testing import HashEmbedder, KindClusterer


@pytest.fixture(scope="module")
def mined(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("options")
    write_traces(tmp / "traces.jsonl")
    db = tmp / "options.duckdb"
    assert len(tracemine.mine([str(tmp / "traces.jsonl")], db=db, embedder=HashEmbedder(), clusterer=KindClusterer()))
    return db


def test_repo_option_selects_and_targets_github_in_a_dry_run(mined: Path) -> None:
    with Store(mined, read_only=True) as store:
        report = publish_run(store, load_settings(None), dry_run=True, options={"github_repo": "octo/demo"},
                             environ={})
    assert report.ok and report.outcomes and {o.tracker for o in report.outcomes} == {"github"}
    assert {o.target for o in report.outcomes} == {"octo/demo"}
    creates = [r for r in report.planned if r.method == "POST"]
    assert len(creates) == len(report.outcomes)  # one issue per finding, in the repository the option names
    assert all(r.url == "https://api.github.com/repos/octo/demo/issues" for r in creates)
    assert report.requests_sent == 0


def test_a_bad_option_value_is_reported_against_its_tracker(mined: Path) -> None:
    with Store(mined, read_only=True) as store:
        report = publish_run(store, load_settings(None), dry_run=True, options={"github_repo": "not a repo"},
                             environ={})
    [failure] = report.failed
    assert failure.tracker == "github" and "publish.github.repo" in failure.reason


def test_webhook_url_option_on_the_command_line(mined: Path) -> None:
    result = CliRunner(env={"COLUMNS": "300"}).invoke(
        main, ["publish", "--db", str(mined), "--dry-run", "--to", "webhook", "--webhook-url", "https://hooks.example/tm"])
    assert result.exit_code == 0, result.output
    assert "POST https://hooks.example/tm" in result.output
