"""The detection framework: argument canonicalisation, text masking, trace views, the runner's two
passes and error isolation, the registry, and span-level scoring."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
import pytest

from tracemine.detect.args import canonical
from tracemine.detect.base import Detector
from tracemine.detect.registry import UnknownDetector, detector_class
from tracemine.detect.runner import DetectReport, detect_traces
from tracemine.detect.textmask import mask
from tracemine.detect.view import LlmTurn, ToolCall, TraceView
from tracemine.evaluate import Label, score
from tracemine.model import Signal, Span, SpanKind, Status, Trace


def _tool(span_id: str, tool: str, args: str, result: str, start: int, status: Status = Status.OK) -> Span:
    return Span(trace_id="t1", span_id=span_id, parent_span_id="root", name=f"execute_tool {tool}",
                kind=SpanKind.TOOL, start_ns=start, end_ns=start + 10, status=status, tool_name=tool,
                tool_arguments=args, tool_result=result)


def _trace() -> Trace:
    root = Span(trace_id="t1", span_id="root", name="agent", kind=SpanKind.AGENT, start_ns=0, end_ns=1000,
                tool_definitions='[{"name": "search", "parameters": {"type": "object"}}, {"name": "book"}]')
    llm = Span(trace_id="t1", span_id="l1", parent_span_id="root", name="chat", kind=SpanKind.LLM, start_ns=5,
               end_ns=8, output="calling search")
    return Trace("t1", [
        _tool("s2", "search", '{"q": "Paris", "n": 5}', '{"hits": [1]}', 20),
        root, llm,
        _tool("s1", "search", '{"n":5.0,  "q":"Paris"}', '{"hits":[1]}', 10),
    ])


def test_canonical_arguments_ignore_key_order_whitespace_number_format_and_enum_case() -> None:
    assert canonical('{"q": "Paris", "n": 5}') == canonical('{"n":5.0,  "q":"Paris"}')
    assert canonical('{"cabin": "Economy"}') == canonical("{'cabin': 'economy'}")  # Python repr too
    assert canonical('{"n": "5"}') == canonical('{"n": 5}')
    assert canonical('{"note": "Hello   World"}') == canonical('{"note": "Hello World"}')
    assert canonical('{"note": "Hello world!"}') != canonical('{"note": "hello world!"}')  # free text keeps case
    assert canonical('{"id": "00123"}') != canonical('{"id": 123}')  # leading zeros are not numbers
    assert canonical('{"q": "Paris"}') != canonical('{"q": "Rome"}')
    assert canonical(None) == ""


def test_mask_makes_the_same_failure_read_the_same() -> None:
    a = mask("get_order ORD-48213 failed at 2026-11-01T12:00:03Z: timeout after 3000 ms (req 9f8e7d6c5b4a)")
    b = mask("get_order ORD-99120 failed at 2026-10-30T08:15:59Z: timeout after 2500 ms (req 1a2b3c4d5e6f)")
    assert a == b
    assert "ORD" not in a and "<num>" in a and "<time>" in a
    assert mask("x" * 500, limit=50).endswith("…") and len(mask("x" * 500, limit=50)) == 50


def test_trace_view_orders_steps_and_decodes_calls() -> None:
    view = TraceView.build(_trace())
    assert [type(s) for s in view.steps] == [LlmTurn, ToolCall, ToolCall]
    first, second = view.tool_calls
    assert (first.span.span_id, second.span.span_id) == ("s1", "s2")
    assert first.args == {"n": 5.0, "q": "Paris"} and first.args_key == second.args_key
    assert first.result_key == second.result_key
    assert set(view.tool_definitions) == {"search", "book"}
    assert view.tool_definitions["search"]["parameters"] == {"type": "object"}


class _CountingDetector(Detector):
    """Flags every trace with more tool calls than the window's mean."""

    name = "counting"
    kinds = ("test",)
    uses_window_stats = True

    def __init__(self, settings=None) -> None:
        super().__init__(settings)
        self.calls: list[int] = []

    def observe(self, view: TraceView) -> None:
        self.calls.append(len(view.tool_calls))

    def detect(self, view: TraceView) -> Iterable[Signal]:
        if len(view.tool_calls) > sum(self.calls) / len(self.calls):
            yield self.signal(view, "test", [c.span.span_id for c in view.tool_calls], "low", {"n": len(view.tool_calls)},
                              f"{len(view.tool_calls)} calls in trace {view.trace_id}")


class _BrokenDetector(Detector):
    name = "broken"
    kinds = ("test",)

    def detect(self, view: TraceView) -> Iterable[Signal]:
        raise RuntimeError("bug")


def test_runner_two_passes_and_isolates_detector_errors() -> None:
    small = Trace("t0", [_tool("x1", "search", "{}", "{}", 1)])
    traces = [small, _trace()]
    report = DetectReport(None, None, ["counting", "broken"])
    signals = detect_traces(lambda: iter(traces), [_CountingDetector(), _BrokenDetector()], report)
    assert [s.trace_id for s in signals] == ["t1"]
    assert signals[0].span_ids == ["s1", "s2"] and signals[0].text == "<num> calls in trace t1"
    assert report.errors["broken"] == 2 and "RuntimeError: bug" in report.error_examples["broken"]
    assert report.traces == 2


def test_registry_knows_builtins_and_rejects_unknown_names() -> None:
    with pytest.raises(UnknownDetector):
        detector_class("no_such_detector")
    with pytest.raises(ValueError):
        _CountingDetector().signal(TraceView.build(_trace()), "test", [], "catastrophic", {}, "x")


def test_score_is_span_level() -> None:
    labels = [Label("t1", "loop", "same_call_repeat", frozenset({"a", "b", "c", "d"})),
              Label("t2", "loop", "cycle", frozenset({"e", "f"})),
              Label("t3", "recovered_error", "transient_retry", frozenset({"g"}))]
    signals = [
        Signal("loop", "loop", "t1", ["a", "b", "c"], "low", {}, ""),       # names 3 of 4: hit
        Signal("loop", "loop", "t2", ["x", "y", "e"], "low", {}, ""),       # names 1 of 2: hit (half)
        Signal("loop", "loop", "t3", ["g"], "low", {}, ""),                 # hard negative: false positive
        Signal("loop", "loop", "t1", ["z"], "low", {}, ""),                 # right trace, wrong spans
    ]
    result = score(signals, labels, kinds=["loop"])["loop"]
    assert (result.labels, result.labels_hit, result.labels_fully_named) == (2, 2, 0)
    assert (result.signals, result.signals_correct) == (4, 2)
    assert result.precision == 0.5 and result.recall == 1.0


def test_a_signal_takes_only_the_severities_of_the_model() -> None:
    from tracemine.model import Severity

    class Probe(Detector):
        name = "probe"
        kinds = ("probe",)

        def detect(self, view: TraceView) -> Iterable[Signal]:
            return []

    view = TraceView.build(Trace("t", [Span(trace_id="t", span_id="r", name="agent", kind=SpanKind.AGENT)]))
    for severity in Severity:
        assert Probe().signal(view, "probe", ["r"], severity, {}, "x").severity == severity
    assert Probe().signal(view, "probe", ["r"], "high", {}, "x").severity == Severity.HIGH
    with pytest.raises(ValueError, match="unknown severity 'severe'"):
        Probe().signal(view, "probe", ["r"], "severe", {}, "x")


def test_a_failure_its_bad_arguments_caused_is_one_argument_error_not_also_a_silent_failure() -> None:
    """The runner keeps one account per span: a call whose arguments break the declared schema and whose
    body then said it failed is the argument error's (``ArgumentErrorDetector.explains``); a silent failure
    on another span of the trace stays."""
    from tracemine.detect.builtin.argument_error import ArgumentErrorDetector
    from tracemine.detect.builtin.silent_failure import SilentFailureDetector

    schema = {"type": "object", "properties": {"invoice_id": {"type": "string", "pattern": "^INV-\\d{4}$"},
                                               "amount": {"type": "number"}}}
    root = Span(trace_id="t1", span_id="root", name="agent", kind=SpanKind.AGENT, start_ns=0, end_ns=1000,
                output="Recorded the payment against INV-0042.",
                tool_definitions=orjson.dumps([{"name": "record_payment", "parameters": schema}]).decode())
    bad = _tool("p1", "record_payment", '{"invoice_id": "CRN-0042", "amount": 120}',
                '{"error": "No invoice with id CRN-0042"}', 10)
    fixed = _tool("p2", "record_payment", '{"invoice_id": "INV-0042", "amount": 120}', '{"payment_id": "pay_1"}', 30)
    broken = _tool("p3", "sync_ledger", '{"invoice_id": "INV-0042"}', '{"success": false, "error": "disk full"}', 50)
    detectors: list[Detector] = [ArgumentErrorDetector(), SilentFailureDetector()]
    report = DetectReport(None, None, [d.name for d in detectors])
    signals = detect_traces(lambda: iter([Trace("t1", [root, bad, fixed, broken])]), detectors, report)
    assert sorted((s.detector, s.span_ids[0]) for s in signals) == [("argument_error", "p1"), ("silent_failure", "p3")]
    alone = [SilentFailureDetector()]
    report = DetectReport(None, None, ["silent_failure"])
    signals = detect_traces(lambda: iter([Trace("t1", [root, bad, fixed, broken])]), alone, report)
    assert sorted(s.span_ids[0] for s in signals) == ["p1", "p3"]  # without the argument error, both are told
