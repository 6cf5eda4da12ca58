"""Each detector ships its offline wording as a template and its facts as a classmethod; summarise/ names none."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest

from tracemine.detect.registry import BUILTIN, SIGNAL_SOURCES, load_target
from tracemine.summarise import wording
from tracemine.summarise.base import Brief
from tracemine.summarise.offline import OfflineSummariser

ROOT = Path(__file__).resolve().parents[1]
SPECS = [load_target(t) for t in [*BUILTIN.values(), *SIGNAL_SOURCES.values()]]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_builtin_ships_a_template_that_renders_on_an_empty_brief(spec) -> None:
    """The template is found beside its class, is package data, and renders without falling back even
    when the brief has no facts at all."""
    assert wording.template_source(spec)
    path = Path(__import__(spec.__module__, fromlist=["_"]).__file__).parent / spec.wording
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["tracemine"]
    relative = path.relative_to(ROOT / "src" / "tracemine").as_posix()
    assert any(fnmatch.fnmatch(relative, g) for g in globs), relative
    before = dict(wording.FAILURES)
    brief = Brief(node_id="n", level="finding", kinds=[spec.kinds[0]], signals=0, traces=0, window_traces=0,
                  severity="low")
    summary = OfflineSummariser().summarise(brief)
    assert dict(wording.FAILURES) == before
    assert summary.title and summary.mechanism and summary.recommended_fix
    assert "without a dedicated template" not in summary.mechanism


def test_a_kind_nobody_declares_gets_the_generic_wording() -> None:
    brief = Brief(node_id="n", level="finding", kinds=["mystery"], signals=3, traces=2, window_traces=10,
                  severity="low", tools=[("lookup", 3)], mechanisms=[("odd", 3)])
    summary = OfflineSummariser().summarise(brief)
    assert summary.title == "`lookup`: `odd` (2 traces, 20 %)"
    assert summary.mechanism == ("Signals of kind `mystery` (mechanism `odd`) from a detector without a dedicated "
                                 "template; see the exemplars for the evidence.")


def test_summarise_names_no_detector() -> None:
    """No module of summarise/ branches on a detector or signal kind: their wording and facts are theirs."""
    kinds = {k for spec in SPECS for k in spec.kinds} | {spec.name for spec in SPECS}
    for module in (ROOT / "src" / "tracemine" / "summarise").glob("*.py"):
        text = module.read_text()
        named = [k for k in kinds if f'"{k}"' in text or f"'{k}'" in text]
        assert not named, (module.name, named)
