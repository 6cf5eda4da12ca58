"""The ``argument_error`` and ``outlier`` detectors: each mechanism, its look-alikes, window statistics
that merge across shards, and precision/recall on a small synthetic run."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from tracemine.detect.base import Detector
from tracemine.detect.builtin.argument_error import (
    ArgumentErrorDetector,
    load_schema_file,
    validation_phrase,
)
from tracemine.detect.builtin.outlier import OutlierDetector
from tracemine.detect.schema_infer import InferredSchemas, Rules, decode_arguments
from tracemine.detect.tool_roles import is_write_tool
from tracemine.detect.view import TraceView
from tracemine.model import Signal, Span, SpanKind, Status, Trace

MS = 1_000_000

ORDER_SCHEMA = {
    "type": "object",
    "properties": {
        "order_id": {"type": "string", "pattern": r"^ORD-\d{5}$"},
        "status": {"type": "string", "enum": ["pending", "shipped", "delivered"]},
        "since": {"type": "string", "format": "date"},
        "updated_after": {"type": "string", "format": "date-time"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 50},
        "email": {"type": "string", "format": "email"},
    },
    "required": ["order_id"],
    "additionalProperties": False,
}
REFUND_SCHEMA = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}, "amount": {"type": "number"}},
    "required": ["order_id", "amount"],
}
TOOLS = [
    {"type": "function", "function": {"name": "get_order", "description": "Look up an order.", "parameters": ORDER_SCHEMA}},
    {"type": "function", "function": {"name": "issue_refund", "description": "Refund an order.", "parameters": REFUND_SCHEMA}},
    {"type": "function", "function": {"name": "search_kb", "description": "Search articles."}},
]


# --- building traces ----------------------------------------------------------------------------


class TraceMaker:
    """Builds small traces: an agent root (optionally declaring tools) with tool and LLM children."""

    def __init__(self, trace_id: str = "t1", tools: list[dict[str, Any]] | None = None) -> None:
        self.trace_id = trace_id
        self.spans = [Span(trace_id, "root", None, "agent", SpanKind.AGENT, 0, 10_000 * MS, 0, Status.OK,
                           tool_definitions=json.dumps(tools) if tools is not None else None)]
        self.clock = 0

    def tool(self, name: str, args: Any, result: Any = '{"ok": true, "data": [1]}', status: Status = Status.OK,
             ms: float = 100.0, message: str | None = None) -> str:
        span_id = f"s{len(self.spans)}"
        raw_args = args if isinstance(args, str) or args is None else json.dumps(args)
        raw_result = result if isinstance(result, str) or result is None else json.dumps(result)
        self.spans.append(Span(self.trace_id, span_id, "root", name, SpanKind.TOOL, self.clock * MS,
                               int((self.clock + ms) * MS), len(self.spans), status, message, tool_name=name,
                               tool_arguments=raw_args, tool_result=raw_result))
        self.clock += ms + 1
        return span_id

    def llm(self, model: str = "m1", ms: float = 800.0, input_tokens: int = 1000, output_tokens: int = 40,
            cost: float = 0.01) -> str:
        span_id = f"s{len(self.spans)}"
        self.spans.append(Span(self.trace_id, span_id, "root", "chat", SpanKind.LLM, self.clock * MS,
                               int((self.clock + ms) * MS), len(self.spans), Status.UNSET, output="thinking",
                               model=model, input_tokens=input_tokens, output_tokens=output_tokens, cost_usd=cost))
        self.clock += ms + 1
        return span_id

    def view(self) -> TraceView:
        return TraceView.build(Trace(self.trace_id, list(self.spans)))


def run(detector: Detector, views: Iterable[TraceView]) -> list[Signal]:
    """Both passes over ``views`` with one detector."""
    views = list(views)
    for view in views:
        detector.observe(view)
    detector.finalize()
    return [s for view in views for s in detector.detect(view)]


def arg_signals(*calls: tuple[str, Any], settings: dict[str, Any] | None = None, tools: list | None = TOOLS,
                result: Any = '{"ok": true, "data": [1]}') -> list[Signal]:
    maker = TraceMaker(tools=tools)
    for name, args in calls:
        maker.tool(name, args, result)
    return run(ArgumentErrorDetector(settings), [maker.view()])


# --- argument_error: declared schemas ------------------------------------------------------------


def test_conforming_call_is_not_flagged() -> None:
    assert arg_signals(("get_order", {"order_id": "ORD-12345", "status": "shipped", "since": "2024-05-01",
                                      "updated_after": "2024-05-01T10:00:00Z", "limit": 5.0,
                                      "email": "a@b.co"})) == []


@pytest.mark.parametrize(("args", "validator", "path"), [
    ({"status": "shipped"}, "missing_required", "$.order_id"),
    ({"order_id": 12345}, "type", "$.order_id"),
    ({"order_id": "ORD-12345", "status": "Sent"}, "enum", "$.status"),
    ({"order_id": "ord-12345"}, "pattern", "$.order_id"),
    ({"order_id": "ORD-12345", "since": "2024-13-45"}, "format", "$.since"),
    ({"order_id": "ORD-12345", "updated_after": "yesterday"}, "format", "$.updated_after"),
    ({"order_id": "ORD-12345", "limit": 0}, "minimum", "$.limit"),
    ({"order_id": "ORD-12345", "color": "red"}, "unexpected_property", "$"),
])
def test_schema_violations(args: dict[str, Any], validator: str, path: str) -> None:
    [signal] = arg_signals(("get_order", args))
    evidence = signal.evidence
    assert evidence["mechanism"] == "schema_violation"
    assert evidence["schema_source"] == "declared"
    assert {"path": path, "validator": validator} == {k: evidence["violations"][0][k] for k in ("path", "validator")}
    assert signal.span_ids == evidence["span_ids"] == ["s1"]
    assert signal.severity == "medium"
    assert "get_order" in signal.text


def test_write_tool_is_high_severity_and_one_signal_lists_every_mechanism() -> None:
    maker = TraceMaker(tools=TOOLS)
    maker.tool("issue_refund", {"order_id": "ORD-1"}, "Error: 1 validation error for issue_refund\namount\n  Field required")
    [signal] = run(ArgumentErrorDetector(), [maker.view()])
    assert signal.severity == "high"
    assert signal.evidence["mechanisms"] == ["schema_violation", "validation_error_result"]
    assert signal.evidence["write"] is True


def test_nested_json_strings_are_not_repaired() -> None:
    """A JSON array sent as a string where an array belongs is a type error, not something to decode."""
    schema = {"type": "object", "properties": {"ids": {"type": "array"}}, "required": ["ids"]}
    tools = [{"name": "bulk_get", "parameters": schema}, {"name": "other"}]
    [signal] = arg_signals(("bulk_get", {"ids": '["a", "b"]'}), tools=tools)
    assert signal.evidence["violations"][0]["validator"] == "type"
    assert arg_signals(("bulk_get", json.dumps(json.dumps({"ids": ["a"]}))), tools=tools) == []  # double-encoded


def test_malformed_schema_is_skipped_and_counted() -> None:
    tools = [{"name": "weird", "parameters": {"type": "object", "properties": {"a": {"type": 5}}}}, {"name": "x"}]
    detector = ArgumentErrorDetector()
    maker = TraceMaker(tools=tools)
    maker.tool("weird", {"a": 1})
    assert run(detector, [maker.view()]) == []
    assert detector.malformed_schemas == 1


def test_schema_file_json_mapping_yaml_and_tool_list(tmp_path: Path) -> None:
    mapping = tmp_path / "schemas.json"
    mapping.write_text(json.dumps({"lookup": REFUND_SCHEMA}))
    yaml_file = tmp_path / "schemas.yaml"
    yaml_file.write_text("lookup:\n  type: object\n  required: [order_id]\n")
    listing = tmp_path / "tools.json"
    listing.write_text(json.dumps([{"type": "function", "function": {"name": "lookup", "parameters": REFUND_SCHEMA}}]))
    assert load_schema_file(mapping)["lookup"]["required"] == ["order_id", "amount"]
    assert load_schema_file(yaml_file)["lookup"]["required"] == ["order_id"]
    assert load_schema_file(listing)["lookup"] == REFUND_SCHEMA
    [signal] = arg_signals(("lookup", {"order_id": "x"}), settings={"schema_file": str(mapping)}, tools=None)
    assert signal.evidence["schema_source"] == "config"
    with pytest.raises(ValueError, match="schema_file"):
        ArgumentErrorDetector({"schema_file": str(tmp_path / "missing.json")})


def test_unparseable_arguments() -> None:
    [signal] = arg_signals(("get_order", '{"order_id": "ORD-12345",'))
    assert signal.evidence["mechanism"] == "unparseable_arguments"
    assert arg_signals(("get_order", "{'order_id': 'ORD-12345'}")) == []  # a Python repr decodes
    assert arg_signals(("get_order", None)) == []  # arguments not recorded: nothing to judge


# --- argument_error: unknown tools ---------------------------------------------------------------


def test_unknown_tool_names_the_closest_declared_tool() -> None:
    [signal] = arg_signals(("get_order_details", {"order_id": "ORD-12345"}), result="Error: tool not found")
    assert signal.evidence["mechanism"] == "unknown_tool"
    assert signal.evidence["closest_tool"] == "get_order"
    assert signal.severity == "high"


@pytest.mark.parametrize(("name", "tools", "result"), [
    ("functions.get_order", TOOLS, "Error: boom"),  # namespaced spelling of a declared tool
    ("lookup", TOOLS[:1], "Error: unknown"),  # a single declared tool is not a tool list
    ("web_search", TOOLS, '{"results": [{"title": "x"}]}'),  # it worked: the declared list is incomplete
])
def test_unknown_tool_look_alikes(name: str, tools: list[dict[str, Any]], result: str) -> None:
    signals = arg_signals((name, {"order_id": "ORD-12345"}), tools=tools, result=result)
    assert all("unknown_tool" not in s.evidence["mechanisms"] for s in signals)


# --- argument_error: validation errors in results ------------------------------------------------


@pytest.mark.parametrize("result", [
    {"error": {"type": "invalid_request_error", "code": "invalid_parameter", "message": "Invalid value for 'x'."}},
    "Error: 1 validation error for search\nquery\n  Input should be a valid string [type=string_type]",
    {"status": 422, "detail": [{"loc": ["body", "x"], "msg": "value is not a valid enumeration member"}]},
    {"success": False, "error": "Unsupported value for parameter 'mode'"},
    {"error": {"code": "INVALID_ARGUMENT", "message": "Request contains an invalid argument."}},
    "Error: get() missing 1 required positional argument: 'key'",
    {"statusCode": 400, "message": "Bad Request"},
    "Error: payment method should be either the original one or a gift card",
])
def test_validation_error_results(result: Any) -> None:
    [signal] = arg_signals(("search_kb", {"query": "x"}), result=result)
    assert signal.evidence["mechanism"] == "validation_error_result"
    assert signal.evidence["reason"]


@pytest.mark.parametrize("result", [
    {"ok": False, "reason": "invalid_auth"},
    "Error: order ORD-12345 not found",
    "Error: connection reset by peer",
    {"ok": True, "errors": [], "items": [{"title": "Invalid value handling in Python"}]},
    {"status": 200, "message": "Missing argument checks are now stricter"},
    "Invalid parameters are rejected by the new API (release notes)",
    "Error: authentication is required",
    {"error": "Invalid key provided"},
])
def test_validation_error_look_alikes(result: Any) -> None:
    assert arg_signals(("search_kb", {"query": "x"}), result=result) == []


def test_validation_phrase_is_generic() -> None:
    assert validation_phrase("ValidationError: 'limit' must be at least 1")
    assert validation_phrase("'order_id' is a required property")
    assert validation_phrase("parameter 'page' is required")
    assert not validation_phrase("quota exceeded for this API key")


# --- argument_error: corrected calls and re-encoded repeats -------------------------------------


def _corrected_trace() -> TraceMaker:
    maker = TraceMaker(tools=TOOLS)
    maker.tool("get_order", {"order_id": 12345}, "Error: invalid arguments: 'order_id' should be string", Status.ERROR)
    maker.llm()
    maker.tool("get_order", {"order_id": "ORD-12345"})
    return maker


def test_corrected_call_is_reported_with_recovery_evidence_and_low_severity() -> None:
    # issue rule: recovery is evidence and lowers severity, it never hides the argument error
    [signal] = run(ArgumentErrorDetector(), [_corrected_trace().view()])
    assert signal.span_ids == ["s1"] and signal.severity == "low"
    e = signal.evidence
    assert e["recovered"] and e["corrected_span_id"] == "s3" and e["attempts"] == 1 and e["wasted_ms"] > 0
    assert e["constraint"] == {"tool": "get_order", "field": "order_id", "keyword": "type"}
    assert run(ArgumentErrorDetector({"report_recovered": False}), [_corrected_trace().view()]) == []


def test_a_later_repeat_of_earlier_work_is_not_a_correction() -> None:
    maker = TraceMaker(tools=TOOLS)
    maker.tool("get_order", {"order_id": "ORD-11111"})
    maker.tool("get_order", {"order_id": "ORD-22222"}, {"status": 422, "detail": [{"msg": "not a valid order"}]})
    maker.tool("get_order", {"order_id": "ORD-11111"})
    [signal] = run(ArgumentErrorDetector(), [maker.view()])
    assert signal.span_ids == ["s2"]


def test_enum_case_repeat_of_an_accepted_call_is_left_to_duplicate_detection() -> None:
    first = {"order_id": "ORD-12345", "status": "shipped"}
    again = {"order_id": "ORD-12345", "status": "SHIPPED"}
    assert arg_signals(("get_order", first), ("get_order", again)) == []
    [signal] = arg_signals(("get_order", again))
    assert signal.evidence["violations"][0]["validator"] == "enum"


# --- argument_error: inferred schemas ------------------------------------------------------------

MODES = ("fast", "full", "diff")


def _good_args(rng: random.Random) -> dict[str, Any]:
    args: dict[str, Any] = {
        "ticket_id": f"TCK-{rng.randint(10000, 99999)}",
        "day": f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        "mode": MODES[rng.randrange(3)],
        "limit": rng.randint(1, 50),
        "ref": f"q_{rng.getrandbits(40):010x}",
        "note": " ".join(rng.choice(("please", "check", "Order", "ASAP!", "thanks")) for _ in range(3)),
    }
    if rng.random() < 0.5:
        args["verbose"] = True
    return args


def _inferred_views(n: int, seed: int = 1) -> list[TraceView]:
    rng = random.Random(seed)
    views = []
    for i in range(n):
        maker = TraceMaker(f"t{i}")
        maker.tool("sync_ticket", _good_args(rng))
        views.append(maker.view())
    return views


def _judge_inferred(args: Any, history: int = 60) -> list[Signal]:
    detector = ArgumentErrorDetector()
    for view in _inferred_views(history):
        detector.observe(view)
    detector.finalize()
    maker = TraceMaker("probe")
    maker.tool("sync_ticket", args)
    return list(detector.detect(maker.view()))


BASE = {"ticket_id": "TCK-12345", "day": "2024-03-14", "mode": "full", "limit": 10, "ref": "q_00ab12cd34",
        "note": "whatever the user typed"}


@pytest.mark.parametrize(("change", "validator"), [
    ({"ticket_id": None}, "missing_required"),
    ({"limit": "10"}, "type"),
    ({"mode": "turbo"}, "enum"),
    ({"mode": "Full"}, "enum"),
    ({"day": "03/14/2024"}, "format"),
    ({"ticket_id": "tck-12345"}, "pattern"),
    ({"ref": "Q_00AB12CD34"}, "pattern"),
    ({"ref": "00ab12cd34"}, "pattern"),
])
def test_inferred_schema_deviations(change: dict[str, Any], validator: str) -> None:
    args = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    [signal] = _judge_inferred(args)
    assert signal.evidence["mechanism"] == "inferred_schema_violation"
    assert signal.evidence["schema_source"] == "inferred"
    assert signal.evidence["violations"][0]["validator"] == validator


def test_inferred_schema_look_alikes() -> None:
    assert _judge_inferred(BASE) == []
    assert _judge_inferred({**BASE, "note": "a completely different free text, with punctuation?"}) == []
    assert _judge_inferred({**BASE, "verbose": False}) == []  # optional key, either way
    assert _judge_inferred({**BASE, "limit": 10.0}) == []  # an integral float is an integer
    assert _judge_inferred({**BASE, "limit": "10"}, history=20) == []  # too little support to trust a rule


def test_declared_schema_wins_over_inferred() -> None:
    """Where a schema is declared, inferred rules are not reported for the same call."""
    detector = ArgumentErrorDetector()
    for view in _inferred_views(60):
        detector.observe(view)
    detector.finalize()
    tools = [{"name": "sync_ticket", "parameters": {"type": "object"}}, {"name": "other"}]
    maker = TraceMaker("probe", tools=tools)
    maker.tool("sync_ticket", {**BASE, "limit": "10"})
    assert list(detector.detect(maker.view())) == []


def test_inferred_statistics_merge_like_one_pass() -> None:
    views = _inferred_views(80)
    whole = InferredSchemas()
    left, right = InferredSchemas(), InferredSchemas()
    for i, view in enumerate(views):
        args = decode_arguments(view.tool_calls[0].span.tool_arguments)[0]
        whole.add("sync_ticket", args)
        (left if i % 2 else right).add("sync_ticket", args)
    left.merge(right)
    assert left.summary("sync_ticket", Rules()) == whole.summary("sync_ticket", Rules())
    summary = whole.summary("sync_ticket", Rules())
    assert summary is not None
    assert summary["required"] == ["day", "limit", "mode", "note", "ref", "ticket_id"]
    assert summary["properties"]["mode"]["enum"] == sorted(MODES)
    assert summary["properties"]["day"]["x-shape"] == "iso_date"

    detector_a, detector_b = ArgumentErrorDetector(), ArgumentErrorDetector()
    for i, view in enumerate(views):
        (detector_a if i % 2 else detector_b).observe(view)
    detector_a.merge(detector_b)
    detector_a.finalize()
    maker = TraceMaker("probe")
    maker.tool("sync_ticket", {**BASE, "limit": "10"})
    assert len(list(detector_a.detect(maker.view()))) == 1


def test_write_verbs_come_from_tool_name_words_or_description() -> None:
    assert is_write_tool("cancel_pending_order")
    assert is_write_tool("sendEmail")
    assert not is_write_tool("get_order_details")
    assert not is_write_tool("list_refunds")
    assert is_write_tool("ticket_tool", {"description": "Creates a support ticket."})
    assert not is_write_tool("ticket_tool", {"description": "Shows a ticket."})


# --- outlier ---------------------------------------------------------------------------------------


def _outlier_views(n: int, slow_ms: float | None = None, tight: bool = False, seed: int = 3,
                   slow_status: Status = Status.OK) -> list[TraceView]:
    rng = random.Random(seed)
    views = []
    for i in range(n):
        maker = TraceMaker(f"t{i}")
        maker.llm(ms=800 * rng.uniform(0.7, 1.4), input_tokens=int(1000 * rng.uniform(0.8, 1.3)),
                  output_tokens=int(40 * rng.uniform(0.6, 1.6)), cost=0.01 * rng.uniform(0.8, 1.3))
        latency = 100.0 if tight else 100 * rng.uniform(0.6, 1.7)
        maker.tool("fetch_page", {"url": "https://x"}, ms=latency)
        maker.llm(ms=3000 * rng.uniform(0.7, 1.4), output_tokens=int(250 * rng.uniform(0.6, 1.6)))  # the answer
        views.append(maker.view())
    if slow_ms is not None:
        maker = TraceMaker("slow")
        maker.llm()
        maker.tool("fetch_page", {"url": "https://x"}, status=slow_status, ms=slow_ms)
        maker.llm(ms=3000, output_tokens=250)
        views.append(maker.view())
    return views


def test_tool_latency_outlier() -> None:
    signals = run(OutlierDetector(), _outlier_views(60, slow_ms=3000))
    [signal] = signals
    evidence = signal.evidence
    assert signal.trace_id == "slow" and signal.span_ids == ["s2"]
    assert evidence["metric"] == "latency" and evidence["group"] == "tool:fetch_page"
    assert evidence["tool"] == "fetch_page"
    assert evidence["ratio"] >= 20 and evidence["robust_z"] >= 5
    assert signal.severity == "high"
    assert signal.text == "tool fetch_page latency far above its usual value"


def test_outlier_look_alikes() -> None:
    assert run(OutlierDetector(), _outlier_views(60, slow_ms=300)) == []  # within the usual spread
    assert run(OutlierDetector(), _outlier_views(60, slow_ms=140, tight=True)) == []  # huge z, small ratio
    assert run(OutlierDetector(), _outlier_views(20, slow_ms=3000)) == []  # too few samples to judge
    assert run(OutlierDetector(), _outlier_views(60, slow_ms=3000, slow_status=Status.ERROR)) == []  # failed: slow because it failed


def test_final_answers_are_judged_against_final_answers() -> None:
    """Answers are long; intermediate steps are short: neither is an outlier against the other."""
    assert run(OutlierDetector(), _outlier_views(60)) == []


def test_model_outlier_lists_every_metric_strongest_first() -> None:
    views = _outlier_views(60)
    maker = TraceMaker("big")
    maker.llm(input_tokens=30_000, cost=0.3)
    maker.tool("fetch_page", {"url": "https://x"})
    views.append(maker.view())
    [signal] = run(OutlierDetector(), views)
    evidence = signal.evidence
    assert evidence["group"] == "model:m1" and evidence["model"] == "m1"
    assert set(evidence["metrics"]) == {"input_tokens", "total_tokens", "cost"}
    assert evidence["metrics"][0] == evidence["metric"]
    assert [h["metric"] for h in evidence["others"]] == evidence["metrics"][1:]


def test_outlier_statistics_merge_across_shards() -> None:
    views = _outlier_views(60, slow_ms=3000)
    one = OutlierDetector()
    for view in views:
        one.observe(view)
    left, right = OutlierDetector(), OutlierDetector()
    for i, view in enumerate(views):
        (left if i % 2 else right).observe(view)
    left.merge(right)
    for detector in (one, left):
        detector.finalize()
    assert [s.evidence for v in views for s in one.detect(v)] == [s.evidence for v in views for s in left.detect(v)]


# --- end to end on synthetic data --------------------------------------------------------------------


@pytest.fixture(scope="module")
def synth_scores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from tracemine.detect.runner import run_detection
    from tracemine.evaluate import read_labels, score
    from tracemine.ingest.loader import ingest_paths
    from tracemine.store import Store
    from tracemine.synth import SynthConfig, generate

    out = tmp_path_factory.mktemp("synth")
    generate(SynthConfig(traces=600, seed=12), out)
    with Store(out / "archive.duckdb") as store:
        ingest_paths([str(out)], store)
        report = run_detection(store, None, ["argument_error", "outlier"], {}, save=False)
    assert not report.errors
    labels = read_labels(out / "labels.jsonl")
    scores = score(report.signals, labels, kinds=["argument_error", "outlier"])
    # synth labels an argument error the agent corrected as a hard negative (`recovered_error`); the
    # detector reports those on purpose (recovery lowers severity, it never hides the error)
    corrected = {(label.trace_id, span) for label in labels if label.mode == "corrected_args" for span in label.span_ids}
    scores["recovered_argument_errors"] = [s for s in report.signals if s.kind == "argument_error"
                                           and s.evidence.get("recovered") and (s.trace_id, s.span_ids[0]) in corrected]
    return scores


def test_synth_argument_errors(synth_scores: dict[str, Any]) -> None:
    result = synth_scores["argument_error"]
    recovered = synth_scores["recovered_argument_errors"]
    assert result.labels >= 15
    assert all(s.severity == "low" for s in recovered)
    recovered_ids = {id(s) for s in recovered}
    false_positives = [s for s in result.false_positives if id(s) not in recovered_ids]
    precision = (result.signals - len(false_positives)) / result.signals
    assert precision >= 0.95 and result.recall >= 0.95, (result.missed, false_positives)


def test_synth_outliers(synth_scores: dict[str, Any]) -> None:
    result = synth_scores["outlier"]
    assert result.labels >= 15
    assert result.precision >= 0.9 and result.recall >= 0.8, (result.missed, result.false_positives)


def _contaminated(bad: list[Any], good: Callable[[int], Any], total: int = 100) -> InferredSchemas:
    """A window of ``total`` calls of one tool whose field ``v`` holds ``good(i)`` except the ``bad`` values
    (the bad calls are part of the window the rules are learned from)."""
    schemas = InferredSchemas()
    for i in range(total - len(bad)):
        schemas.add("t", {"v": good(i)})
    for value in bad:
        schemas.add("t", {"v": value})
    return schemas


def _validators(schemas: InferredSchemas, value: Any) -> list[str]:
    stats = schemas.get("t")
    assert stats is not None
    return [v["validator"] for v in stats.check({"v": value}, Rules())]


def test_inferred_rules_hold_in_a_contaminated_window() -> None:
    """15 % bad calls in the window: a type still holds against values not written as that type, a named
    format over many distinct values still holds; serialisation slips need the stricter share."""
    bad_quantities = ["200 units", "two pallets", "3 cases"] * 5
    quantities = _contaminated(bad_quantities, lambda i: 6 + i % 40)
    assert _validators(quantities, "12 units") == ["type"]
    assert _validators(quantities, 12) == []
    assert _validators(quantities, "12") == []  # a number written as a string: needs 90 %
    bad_dates = ["30/06/2025", "June 30th", "end of June"] * 5
    dates = _contaminated(bad_dates, lambda i: f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}")
    assert _validators(dates, "July 1st") == ["format"]
    assert _validators(dates, "2025-07-01") == []
    # one value repeated is no format: a field holding a handful of dates keeps the stricter share
    few = _contaminated(bad_dates, lambda i: ("2025-01-01", "2025-02-01")[i % 2])
    assert _validators(few, "July 1st") == []


def test_inferred_whole_numbers_and_mixed_fields() -> None:
    whole = _contaminated([], lambda i: 1 + i % 50)
    assert _validators(whole, 12.5) == ["type"]  # a fraction where only whole numbers were seen
    assert _validators(whole, 12.0) == []
    prices = _contaminated([], lambda i: 10 + i % 7 + (0.5 if i % 3 else 0))
    assert _validators(prices, 12.25) == []  # fractions are usual here
    mixed = _contaminated(["Acme Corp"] * 30, lambda i: 1000 + i)  # ids or names, 30 %: no type rule
    assert _validators(mixed, "Globex") == []


def test_inferred_enum_holds_one_spelling_per_word() -> None:
    teams = ["platform-team", "payments-team", "data-team", "mobile-team"]
    enum = _contaminated(["Platform Team", "platform_team"] * 4, lambda i: teams[i % 4])
    assert _validators(enum, "Platform Team") == ["enum"]
    assert _validators(enum, "payments_team") == ["enum"]
    assert _validators(enum, "data-team") == []


def test_an_inferred_enum_holds_when_display_names_of_its_values_recur_in_the_window() -> None:
    """``Payments Team`` spells out the token ``payments`` for people: a recurring bad value, not a member
    of the enum (nor a sign that the field is free text)."""
    teams = ["payments", "platform", "data", "mobile"]
    enum = _contaminated(["Payments Team", "Data Platform Crew"] * 4, lambda i: teams[i % 4])
    assert _validators(enum, "Payments Team") == ["enum"]
    assert _validators(enum, "Mobile Squad") == ["enum"]
    assert _validators(enum, "platform") == []


def test_an_inferred_enum_holds_the_singular_and_the_plural_of_a_value_as_one_word() -> None:
    """``bank_fee`` for ``bank_fees`` (or ``taxes`` for ``tax``) recurring in the window is one value spelled
    two ways: only the frequent spelling is a member; words that merely end in ``s`` are not plurals."""
    categories = ["bank_fees", "tax", "meals", "status"]
    enum = _contaminated(["bank_fee", "taxes", "meal"] * 5, lambda i: categories[i % 4])
    assert _validators(enum, "bank_fee") == ["enum"]
    assert _validators(enum, "taxes") == ["enum"]
    assert _validators(enum, "meal") == ["enum"]
    assert _validators(enum, "meals") == []
    assert _validators(enum, "status") == []


def test_singular_removes_regular_plural_endings_only() -> None:
    from tracemine.detect.schema_infer import singular

    pairs = {"fees": "fee", "taxes": "tax", "categories": "category", "classes": "class", "cases": "case",
             "matches": "match", "status": "status", "address": "address", "analysis": "analysis", "days": "day",
             "ids": "ids", "gas": "gas", "v2s": "v2s"}
    assert {word: singular(word) for word in pairs} == pairs


def test_an_identifier_without_the_literal_prefix_of_the_fields_ids_is_another_entitys_id() -> None:
    """``CRN-2025-0042`` (a credit note) where ``INV-…`` invoice ids belong has the same shape: only the
    literal prefix, held by almost every distinct value of the field, tells the two apart — also in a
    window where a few percent of the calls carry the wrong kind of id."""
    invoices = _contaminated([f"CRN-2025-{k:04d}" for k in range(4)], lambda i: f"INV-2025-{i:04d}")
    assert _validators(invoices, "CRN-2025-0042") == ["pattern"]
    assert _validators(invoices, "INV-2025-0977") == []
    stripe = _contaminated([], lambda i: f"cus_{i:03d}x{i % 7}")
    assert _validators(stripe, "sub_118x2") == ["pattern"]
    # a field of two kinds of id in comparable numbers, or words and paths with a dash, has no prefix rule
    mixed = _contaminated([], lambda i: f"cus_{i:03d}" if i % 5 else f"gst_{i:03d}")
    assert _validators(mixed, "gst_977") == []
    branches = _contaminated([], lambda i: f"feature-{chr(97 + i % 26) * 4}")  # many names, no digits: no ids
    assert _validators(branches, "bugfix-crash") == []
    from tracemine.detect.schema_infer import id_prefix

    assert [id_prefix(v) for v in ("INV-2025-0042", "cus_N8a7Xq2", "usr:42", "feature-login", "src/app.py",
                                   "2025-01-01", "Acme Corp")] == ["INV-", "cus_", "usr:", "", "", "", ""]
