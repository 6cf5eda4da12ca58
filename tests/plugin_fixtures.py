"""Tiny third-party plugins installed through real entry points: a package and its ``*.dist-info``
(``METADATA`` + ``entry_points.txt``) written to a folder put on ``sys.path``, as pip would leave them."""

from __future__ import annotations

import importlib
import json
import textwrap
from pathlib import Path

import pytest

from tracemine import plugins

TOYRUN_PLUGIN = '''
"""Toyrun logs (one JSON object per run) and a publisher writing findings to a JSON-lines file."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tracemine import hookimpl
from tracemine.ingest.base import Reader
from tracemine.ingest.decode import as_text
from tracemine.ingest.mappers import finish_span
from tracemine.ingest.normalize import TRACE_ID_HEX_LEN, stable_id
from tracemine.model import Outcome, Span, SpanKind, TraceInfo
from tracemine.publish.base import PublishResult
from tracemine.publish.spec import PublisherSpec

RECEIVED = []


class ToyrunReader(Reader):
    format = "toyrun"
    priority = 60
    splittable = True

    @classmethod
    def match(cls, obj):
        return isinstance(obj, dict) and "toy_run_id" in obj and isinstance(obj.get("steps"), list)

    def feed(self, obj, locator):
        run_id = obj["toy_run_id"]
        if not isinstance(run_id, str) or not run_id:
            self.ctx.reject(locator, "toy_run_id is not a non-empty string", run_id)
            return
        trace_id = stable_id("toyrun", run_id, length=TRACE_ID_HEX_LEN)
        start = int(obj.get("start_ns", 1_790_000_000_000_000_000))
        root = Span(trace_id=trace_id, span_id=stable_id(trace_id, "root"), name=f"run {run_id}",
                    kind=SpanKind.AGENT, agent_name=as_text(obj.get("agent")), raw_trace_id=run_id,
                    start_ns=start, end_ns=start + 10_000_000_000, source=self.src(locator))
        yield root
        for i, step in enumerate(obj["steps"]):
            where = f"{locator}.steps[{i}]"
            if not isinstance(step, dict) or not isinstance(step.get("tool"), str):
                self.ctx.reject(where, "step is not an object with a tool name", step)
                continue
            span = Span(trace_id=trace_id, span_id=stable_id(trace_id, "step", i), parent_span_id=root.span_id,
                        name=step["tool"], kind=SpanKind.TOOL, sequence=i, tool_name=step["tool"],
                        start_ns=start + (i + 1) * 1_000_000_000, end_ns=start + (i + 1) * 1_000_000_000 + 500_000_000,
                        tool_arguments=as_text(step.get("args")), tool_result=as_text(step.get("result")),
                        source=self.src(where))
            finish_span(span)
            yield span
        ok = obj.get("ok")
        outcome = Outcome.UNKNOWN if not isinstance(ok, bool) else (
            Outcome.SUCCESS if ok else Outcome.FAILURE)
        yield TraceInfo(trace_id=trace_id, outcome=outcome, name=root.name, source=self.src(locator))


class JsonFilePublisher:
    name = "jsonfile"

    def __init__(self, path):
        self.path = Path(path)

    @property
    def target(self):
        return str(self.path)

    def check(self):
        return None

    def publish(self, finding, rendered, run_id, store):
        RECEIVED.append(finding.fingerprint)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"run": run_id, "fingerprint": finding.fingerprint, "title": rendered.title}) + "\\n")
        return PublishResult(self.name, self.target, finding.fingerprint, finding.status, finding.title, actions=["created"])


def _missing(settings, options):
    return None if options.get("jsonfile_path") else "--jsonfile-path is not set"


def _create(context):
    return JsonFilePublisher(context.options["jsonfile_path"])


@hookimpl
def register_readers():
    return [ToyrunReader]


@hookimpl
def register_publishers():
    return [PublisherSpec("jsonfile", _create, _missing,
                          (click.Option(["--jsonfile-path"], metavar="FILE", help="JSON-lines file of findings."),))]
'''

LEGACY_DETECTOR = '''
"""A detector declared in the older ``tracemine.detectors`` entry-point group."""

from tracemine.detect.base import Detector


class ManyStepsDetector(Detector):
    """Runs with more tool calls than ``max_calls``."""

    name = "many_steps"
    kinds = ("many_steps",)

    def detect(self, view):
        calls = view.tool_calls
        if len(calls) > int(self.setting("max_calls", 3)):
            yield self.signal(view, "many_steps", [calls[-1].span.span_id], "low", {"calls": len(calls)},
                              f"{len(calls)} tool calls in one run")
'''


PARAMS_DETECTOR = '''
"""A detector declaring its own typed parameters (validated at load and at construction)."""

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from tracemine.detect.base import Detector
from tracemine.model import Severity


class LongRunParams(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True, validate_default=True)

    max_calls: int = Field(3, ge=1, description="runs with more tool calls than this are long")
    severity: Severity = Field(Severity.LOW, description="severity of a long run")


class LongRunDetector(Detector):
    """Runs with more tool calls than ``max_calls``."""

    name = "long_run"
    kinds = ("long_run",)
    params_model: ClassVar[type[LongRunParams]] = LongRunParams

    def detect(self, view):
        calls = view.tool_calls
        if len(calls) > self.params.max_calls:
            yield self.signal(view, "long_run", [calls[-1].span.span_id], self.params.severity,
                              {"calls": len(calls)}, f"{len(calls)} tool calls in one run")
'''


EVIDENCE_DETECTOR = '''
"""A detector declaring the model of its evidence (validated in ``Detector.signal``); ``leak: true`` makes it
write a key the model does not declare."""

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from tracemine.detect.base import Detector


class BusyRunParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_calls: int = Field(3, ge=1, description="runs with more tool calls than this are busy")
    leak: bool = Field(False, description="also write an undeclared evidence key")


class BusyRunEvidence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calls: int = Field(description="tool calls in the run")
    last_tool: str = Field(description="the run's last tool")


class BusyRunDetector(Detector):
    """Runs with more tool calls than ``max_calls``."""

    name = "busy_run"
    kinds = ("busy_run",)
    params_model: ClassVar[type[BusyRunParams]] = BusyRunParams
    evidence_model: ClassVar[type[BusyRunEvidence]] = BusyRunEvidence

    def detect(self, view):
        calls = view.tool_calls
        if len(calls) > self.params.max_calls:
            evidence = {"calls": len(calls), "last_tool": calls[-1].tool}
            if self.params.leak:
                evidence["note"] = "undeclared"
            yield self.signal(view, "busy_run", [calls[-1].span.span_id], "low", evidence,
                              f"{len(calls)} tool calls in one run")
'''


MEANING_DETECTOR = '''
"""A detector that also says what its signals mean downstream: its waste, what splits its findings, its
facts and its offline wording (refused.j2, shipped beside this module)."""

from collections import Counter

from tracemine import hookimpl
from tracemine.detect.base import Detector


class RefusedSendDetector(Detector):
    """Sends whose result says the relay refused the message; the retry budget it burns is the waste."""

    name = "refused_send"
    kinds = ("refused_send",)
    wording = "refused.j2"

    @classmethod
    def facts(cls, evidences, texts, top):
        relays = Counter(texts.clean(ev["relay"]) for ev in evidences if isinstance(ev.get("relay"), str))
        budget = sum(ev["retry_tokens"] for ev in evidences if isinstance(ev.get("retry_tokens"), int))
        return {"relays": [[r, n] for r, n in relays.most_common(top)], "retry_tokens": budget} if relays else {}

    def detect(self, view):
        for call in view.tool_calls:
            if "refused" in call.result_text:
                yield self.signal(view, "refused_send", [call.span.span_id], "medium",
                                  {"tool": call.tool, "relay": "smtp", "retry_tokens": 250},
                                  f"{call.tool}: the relay refused the message")

    @classmethod
    def waste(cls, signal, spans):
        return int(signal.evidence["retry_tokens"]), 1500.0, 0.0

    @classmethod
    def fix_family(cls, signal):
        return "relay " + signal.evidence["relay"]


@hookimpl
def register_detectors():
    return [RefusedSendDetector]
'''


MEANING_WORDING = """\
{#- The offline wording of refused sends: the parts title, what, why and fix. -#}
{% set subject = w.tools() %}
{% set relays = pairs_of(facts.get("relays")) %}
{% set title %}
  {{ subject.text }} refused by relay {{ w.q(relays[0][0], 20) }} ({{ w.count_phrase() }})
{% endset %}
{% set what %}
  The relay refused the message {{ subject.text }} sent: {{ w.how_often() }}.
  Refusals by relay: {% for r, c in relays %}{{ w.q(r, 20) }} {{ c }}{% endfor %};
  {{ num(facts.get("retry_tokens")) }} tokens of retry budget burnt.
{% endset %}
{% set why %}The relay rejects the sender, so every send burns its retry budget.{% endset %}
{% set fix %}
  Register the sender with relay {{ w.q(relays[0][0], 20) }} and stop retrying refused sends of {{ w.top_tools() }}.
{% endset %}
"""

BROKEN_WORDING = "{% set title %}{{ no_such_fact }}{% endset %}{% set what %}x{% endset %}"
"""A template naming a variable the wording engine does not define."""


def install(root: Path, dist: str, version: str, module: str, source: str, entry_points: str,
            files: dict[str, str] | None = None) -> Path:
    """Write ``module`` (a package, with ``files`` beside its ``__init__.py``) and ``dist``'s dist-info (with
    ``entry_points``) under ``root``."""
    package = root / module
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(source))
    for name, text in (files or {}).items():
        (package / name).write_text(text)
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    return root


@pytest.fixture
def on_path(monkeypatch: pytest.MonkeyPatch):
    """Put folders on ``sys.path`` for one test, with the plugin manager loaded afresh before and after."""

    def add(root: Path) -> None:
        monkeypatch.syspath_prepend(str(root))
        importlib.invalidate_caches()
        plugins.reset()

    yield add
    monkeypatch.undo()
    importlib.invalidate_caches()
    plugins.reset()


def toyrun_lines(runs: int = 6) -> str:
    """``runs`` toyrun records whose send_invoice step answers OK-shaped JSON that says it failed."""
    records = []
    for i in range(runs):
        steps = [{"tool": "lookup_order", "args": {"order": f"A{i}"}, "result": {"status": "shipped"}},
                 {"tool": "send_invoice", "args": {"order": f"A{i}"},
                  "result": {"ok": False, "error": "SMTP relay refused the message"}}]
        records.append({"toy_run_id": f"run-{i}", "agent": "billing", "ok": True, "steps": steps,
                        "start_ns": 1_790_000_000_000_000_000 + i * 60_000_000_000})
    records.append({"toy_run_id": "", "steps": []})  # rejected with its line
    return "\n".join(json.dumps(r) for r in records) + "\n"
