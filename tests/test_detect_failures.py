"""The ``silent_failure`` and ``unrecovered_error`` detectors and their shared outcome helpers: each
mechanism on hand-built traces, its look-alikes, the window baseline for empty results, and an
end-to-end check against synthetic ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from tracemine.detect.builtin.silent_failure import SilentFailureDetector
from tracemine.detect.builtin.unrecovered_error import UnrecoveredErrorDetector
from tracemine.detect.outcome import (
    EMPTY,
    HAS_DATA,
    LOOSELY_EMPTY,
    ResultBaseline,
    admits_failure,
    binomial_cdf,
    emptiness,
    is_argument_rejection,
    output_text,
    result_failure,
)
from tracemine.detect.tool_roles import is_write_tool
from tracemine.detect.view import TraceView
from tracemine.model import Signal, Span, SpanKind, Status, StatusSource, Trace

# --- building traces by hand --------------------------------------------------------------------------


class Builder:
    """A trace under construction: a root agent span and steps appended in order."""

    def __init__(self, trace_id: str = "t1", root_status: Status = Status.OK, output: str | None = None) -> None:
        self.trace_id = trace_id
        self.t = 10
        self.root = Span(trace_id=trace_id, span_id="root", name="invoke_agent helper", kind=SpanKind.AGENT,
                         start_ns=0, status=root_status, output=output, agent_name="helper")
        self.spans: list[Span] = [self.root]

    def _next(self) -> int:
        self.t += 10
        return self.t

    def llm(self, text: str = "", status: Status = Status.UNSET, span_id: str | None = None) -> Span:
        start = self._next()
        span = Span(trace_id=self.trace_id, span_id=span_id or f"l{len(self.spans)}", parent_span_id="root",
                    name="chat", kind=SpanKind.LLM, start_ns=start, end_ns=start + 5, status=status, output=text,
                    model="some-model")
        self.spans.append(span)
        return span

    def tool(self, tool: str, args: Any = None, result: Any = "__default__", status: Status = Status.OK,
             span_id: str | None = None, events: list[dict[str, Any]] | None = None,
             source: StatusSource = StatusSource.EXPLICIT, message: str | None = None) -> Span:
        start = self._next()
        if result == "__default__":
            result = {"id": f"x{start}", "value": start}
        text = None if result is None else (result if isinstance(result, str) else orjson.dumps(result).decode())
        span = Span(trace_id=self.trace_id, span_id=span_id or f"s{len(self.spans)}", parent_span_id="root",
                    name=f"execute_tool {tool}", kind=SpanKind.TOOL, start_ns=start, end_ns=start + 5,
                    status=status, status_source=source, status_message=message, tool_name=tool,
                    tool_arguments=orjson.dumps(args if args is not None else {"q": start}).decode(),
                    tool_result=text, events=events)
        self.spans.append(span)
        return span

    def child(self, parent: Span, name: str, status: Status, span_id: str, message: str = "") -> Span:
        start = (parent.start_ns or 0) + 1 + sum(1 for s in self.spans if s.parent_span_id == parent.span_id)
        span = Span(trace_id=self.trace_id, span_id=span_id, parent_span_id=parent.span_id, name=name,
                    kind=SpanKind.OTHER, start_ns=start, end_ns=start + 1, status=status, status_message=message)
        self.spans.append(span)
        return span

    def trace(self) -> Trace:
        self.root.end_ns = self._next()
        return Trace(self.trace_id, list(self.spans))

    def view(self) -> TraceView:
        return TraceView.build(self.trace())


def exception(etype: str, message: str) -> list[dict[str, Any]]:
    return [{"name": "exception", "time_ns": 1, "attributes": {"exception.type": etype, "exception.message": message}}]


def silent(view: TraceView, detector: SilentFailureDetector | None = None) -> list[Signal]:
    return list((detector or SilentFailureDetector()).detect(view))


def unrecovered(view: TraceView, **settings: Any) -> list[Signal]:
    return list(UnrecoveredErrorDetector(settings).detect(view))


def one_call_view(result: Any, status: Status = Status.OK, tool: str = "get_record") -> TraceView:
    b = Builder()
    b.llm("looking it up")
    b.tool(tool, {"id": "R-1"}, result, status=status, span_id="target")
    b.llm("done")
    return b.view()


# --- outcome helpers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("result", "mechanism"), [
    ({"error": {"code": "UPSTREAM", "message": "backend unavailable"}}, "error_in_result"),
    ({"data": None, "errors": [{"message": "quota exceeded"}]}, "error_in_result"),
    ({"content": [{"type": "text", "text": "boom"}], "isError": True}, "error_in_result"),
    ({"success": False, "message": "could not be completed"}, "success_false"),
    ({"ok": "false", "reason": "invalid_auth"}, "success_false"),
    ({"status": "failed", "reason": "rejected downstream"}, "status_field"),
    ({"state": "FAILED"}, "status_field"),
    ({"status_code": 502, "body": "Bad Gateway"}, "http_status"),
    ({"statusCode": "429", "message": "Too Many Requests"}, "http_status"),
    ("Error: connection reset by peer", "error_text"),
    ("error: unexpected response", "error_text"),
    ("Traceback (most recent call last):\n  File ...", "error_text"),
    ("ValueError: could not convert string to float", "error_text"),
    ({"output": "Error: permission denied"}, "error_text"),
])
def test_result_failure_reads_structure(result: Any, mechanism: str) -> None:
    found = result_failure(result)
    assert found is not None and found.mechanism == mechanism
    assert found.reason


@pytest.mark.parametrize("result", [
    {"errors": [], "passed": 12, "failed": 0},
    {"ok": True, "channel": "C1"},
    {"status": 200, "title": "Error handling in Python", "text": "An error is raised when..."},
    {"error": None, "items": [1]},
    {"status": "cancelled", "refund": 12.5},
    {"status": "running", "progress": 40},
    {"checks": [{"name": "tests", "conclusion": "failure"}], "state": "in_progress"},
    "The error budget for this quarter is 0.1%; nothing failed.",
    "Errors and exceptions are covered in chapter 8.",
    {"success": True, "errors": [], "error_count": 0},
])
def test_result_failure_ignores_look_alikes(result: Any) -> None:
    assert result_failure(result) is None


def test_emptiness_levels() -> None:
    assert emptiness([], "[]") == EMPTY
    assert emptiness("", "") == EMPTY
    assert emptiness({}, "{}") == EMPTY
    assert emptiness({"hits": [], "total": 0}, "x") == EMPTY
    assert emptiness({"results": [], "page": 1}, "x") == LOOSELY_EMPTY
    assert emptiness({"results": [{"a": 1}], "page": 1}, "x") == HAS_DATA
    assert emptiness({"id": "N-1", "saved": True}, "x") == HAS_DATA
    assert emptiness(None, None) is None  # no result recorded: unknown, not empty


def test_write_tools_from_verbs_and_descriptions() -> None:
    assert is_write_tool("send_email") and is_write_tool("cancelBooking") and is_write_tool("order.create")
    assert not is_write_tool("get_order") and not is_write_tool("search_flights") and not is_write_tool("read_file")
    assert is_write_tool("do_it", {"description": "Creates a ticket for the customer."})
    assert not is_write_tool("do_it", {"description": "Looks up a ticket."})


def test_argument_rejections_are_recognised() -> None:
    validation = result_failure("Error: 1 validation error for book\ncabin\n  Input should be a valid value")
    unknown = result_failure({"error": "Unknown tool: reserve_hotel"})
    http_422 = result_failure({"status": 422, "detail": [{"loc": ["body", "x"], "msg": "bad"}]})
    real = result_failure("Error: payment method not found")
    assert validation and unknown and http_422 and real
    assert is_argument_rejection(validation, None) and is_argument_rejection(unknown, None)
    assert is_argument_rejection(http_422, None)
    assert not is_argument_rejection(real, None)


def test_output_text_and_failure_admission() -> None:
    messages = '[{"role":"assistant","parts":[{"type":"text","content":"Max turns (5) exceeded"}],"finish_reason":"stop"}]'
    assert output_text(messages) == "Max turns (5) exceeded"
    assert output_text("plain answer") == "plain answer"
    assert admits_failure("I'm sorry, I couldn't complete that. Please try again later.")
    assert not admits_failure("Your order ships tomorrow.")
    for said in ("Apologies — the requisition service timed out.", "I can’t reach the WMS, please retry.",
                 "The ATS is not responding; I have to stop here.", "The booking system is currently down."):
        assert admits_failure(said), said
    assert not admits_failure("No candidates match. Want me to drop the location filter?")


def test_binomial_cdf() -> None:
    assert binomial_cdf(0, 10, 0.5) == pytest.approx(0.5**10)
    assert binomial_cdf(10, 10, 0.3) == 1.0
    assert binomial_cdf(1, 60, 0.05) == pytest.approx(0.95**60 + 60 * 0.05 * 0.95**59)


# --- silent_failure: result mechanisms --------------------------------------------------------------------


@pytest.mark.parametrize(("result", "mechanism"), [
    ({"error": "quota exceeded for this API key", "result": None}, "error_in_result"),
    ({"success": False, "errors": [{"code": 1003, "message": "account is suspended"}]}, "success_false"),
    ({"status": "error", "message": "internal processing error"}, "status_field"),
    ({"http_status": 404, "message": "Not Found"}, "http_status"),
    ("Error: request timed out after 30s", "error_text"),
])
@pytest.mark.parametrize("status", [Status.OK, Status.UNSET])
def test_silent_failure_flags_failed_results_under_ok_or_unset(result: Any, mechanism: str, status: Status) -> None:
    (signal,) = silent(one_call_view(result, status))
    assert signal.kind == "silent_failure" and signal.span_ids == ["target"]
    ev = signal.evidence
    assert ev["mechanism"] == mechanism and ev["tool"] == "get_record" and ev["status"] == status.value
    assert ev["reason"] and len(ev["result_excerpt"]) <= 200 and ev["span_ids"] == ["target"]
    assert signal.severity == "medium"
    assert "get_record" in signal.text


def test_silent_failure_ignores_clean_look_alikes_and_explicit_errors() -> None:
    for result in ({"errors": [], "sent": True, "id": "m1"}, {"ok": True, "ts": "1.2"}, {"status": 200, "title": "x"},
                   {"passed": 10, "failed": 0, "errors": []}, "Reading notes: error handling is hard."):
        assert silent(one_call_view(result)) == []
    assert silent(one_call_view("Error: boom", Status.ERROR)) == []  # explicit: not silent


def test_silent_failure_is_more_severe_for_writes_and_lighter_when_retried() -> None:
    (write,) = silent(one_call_view({"ok": False, "error": "channel_not_found"}, tool="send_message"))
    assert write.severity == "high" and write.evidence["write"] is True
    b = Builder()
    b.tool("get_record", {"id": "R-1"}, "Error: upstream returned 503", span_id="bad")
    b.tool("get_record", {"id": "R-1", "fields": "name"}, {"id": "R-1", "name": "ok"})
    (retried,) = silent(b.view())
    assert retried.span_ids == ["bad"] and retried.severity == "low" and retried.evidence["later_success"] is True
    transient = Builder()  # the same call again worked: a transient failure, recovered
    transient.tool("get_record", {"id": "R-1"}, "Error: upstream returned 503")
    transient.tool("get_record", {"id": "R-1"}, {"id": "R-1", "name": "ok"})
    assert silent(transient.view()) == []


def test_argument_rejections_are_left_to_argument_error_unless_asked() -> None:
    view = one_call_view({"error": {"type": "invalid_request_error", "message": "Invalid value for 'cabin'."}})
    assert silent(view) == []
    (signal,) = silent(view, SilentFailureDetector({"defer_argument_errors": False}))
    assert signal.evidence["mechanism"] == "error_in_result"


# --- silent_failure: events, children, exits ----------------------------------------------------------------


def test_exception_event_on_ok_span_and_on_span_whose_error_was_only_inferred() -> None:
    b = Builder()
    b.tool("send_message", {"to": "a"}, {"ok": True}, span_id="ok_event", events=exception("ConnectionResetError", "reset"))
    b.tool("read_file", {"p": "x"}, {"content": "x"}, status=Status.ERROR, source=StatusSource.INFERRED,
           span_id="inferred", events=exception("KeyError", "'data'"), message="KeyError: 'data'")
    b.tool("read_file", {"p": "y"}, None, status=Status.ERROR, span_id="explicit", events=exception("KeyError", "'x'"))
    signals = {s.span_ids[0]: s for s in silent(b.view())}
    assert set(signals) == {"ok_event", "inferred"}
    assert signals["ok_event"].evidence["mechanism"] == "exception_event"
    assert "ConnectionResetError" in signals["ok_event"].evidence["reason"]
    assert signals["inferred"].evidence["status"] == "unset"


def test_swallowed_child_error_names_both_spans_but_not_a_retried_child() -> None:
    b = Builder()
    tool = b.tool("open_url", {"url": "u"}, {"url": "u", "text": "page"}, span_id="tool")
    b.child(tool, "GET", Status.ERROR, "http", message="503 Service Unavailable")
    retried = b.tool("open_url", {"url": "v"}, {"url": "v", "text": "page"}, span_id="tool2")
    b.child(retried, "GET", Status.ERROR, "http_a", message="503")
    b.child(retried, "GET", Status.OK, "http_b")
    (signal,) = silent(b.view())
    assert signal.span_ids == ["tool", "http"]
    assert signal.evidence["mechanism"] == "swallowed_child_error" and signal.evidence["child_span_ids"] == ["http"]
    assert "503" in signal.evidence["reason"]


def test_error_of_a_tool_step_under_the_agent_is_not_swallowed() -> None:
    b = Builder()
    b.tool("get_record", {"id": 1}, None, status=Status.ERROR, message="TimeoutError: slow")
    b.llm("I could not fetch it, sorry.")
    assert silent(b.view()) == []


def test_non_step_error_swallowed_at_agent_level_is_high() -> None:
    b = Builder()
    b.llm("answer")
    b.child(b.root, "guardrail check", Status.ERROR, "guard", message="RuntimeError: policy service down")
    (signal,) = silent(b.view())
    assert signal.span_ids == ["root", "guard"] and signal.severity == "high"
    assert signal.evidence["mechanism"] == "swallowed_child_error"


@pytest.mark.parametrize(("output", "mechanism"), [
    ("Agent stopped: reached max_turns=8 before a final answer.", "max_turns_exit"),
    ("Agent stopped due to iteration limit or time limit.", "max_turns_exit"),
    ("Run timed out after 120s; returning partial results.", "timeout_exit"),
    ("Agent execution exceeded the 300s time limit.", "timeout_exit"),
])
def test_timeout_and_max_turn_exits_name_root_and_last_step(output: str, mechanism: str) -> None:
    messages = orjson.dumps([{"role": "assistant", "parts": [{"type": "text", "content": output}]}]).decode()
    b = Builder(root_status=Status.UNSET, output=messages)
    b.llm("step")
    b.tool("list_items", {"page": 1}, {"items": [1]}, span_id="last")
    (signal,) = silent(b.view())
    assert signal.evidence["mechanism"] == mechanism and signal.span_ids == ["root", "last"]
    assert signal.evidence["tool"] == "list_items" and signal.severity == "high"


def test_exit_look_alikes_are_not_flagged() -> None:
    for output in ("I raised the request timeout to 30s and the tests pass.", "Done: 3 steps completed."):
        b = Builder(output=output)
        b.tool("list_items", {"page": 1}, {"items": [1]})
        assert silent(b.view()) == []
    b = Builder(root_status=Status.ERROR, output="Max turns (5) exceeded")  # explicit: not silent
    b.tool("list_items", {"page": 1}, {"items": [1]})
    assert silent(b.view()) == []
    b = Builder(output="Sorry, the lookup timed out.")  # explained by an explicit tool error
    b.tool("get_record", {"id": 1}, None, status=Status.ERROR, message="ReadTimeout: timed out")
    assert silent(b.view()) == []


# --- silent_failure: empty results against the window baseline ----------------------------------------------


def _window(n: int, empty_every: int | None, tool: str, empty: Any, data: Any, start: int = 0) -> list[TraceView]:
    views = []
    for i in range(start, start + n):
        b = Builder(trace_id=f"{tool}-{i}")
        result = empty if empty_every and i % empty_every == 0 else data
        b.tool(tool, {"q": i}, result, span_id=f"{tool}-{i}")
        views.append(b.view())
    return views


def _run_window(views: list[TraceView], **settings: Any) -> list[Signal]:
    detector = SilentFailureDetector(settings)
    for view in views:
        detector.observe(view)
    detector.finalize()
    return [s for view in views for s in detector.detect(view)]


def test_empty_result_from_a_tool_that_normally_returns_data() -> None:
    views = _window(80, None, "get_profile", None, {"id": "P-1", "name": "Ada"})
    b = Builder(trace_id="odd")
    b.tool("get_profile", {"q": "odd"}, {}, span_id="empty")
    views.append(b.view())
    (signal,) = _run_window(views)
    ev = signal.evidence
    assert signal.span_ids == ["empty"] and ev["mechanism"] == "empty_result" and ev["tool"] == "get_profile"
    assert ev["baseline_nonempty_share"] == 1.0 and ev["baseline_calls"] == 80


def test_often_empty_tools_and_thin_baselines_are_not_flagged() -> None:
    search = _window(200, 8, "search_items", {"items": []}, {"items": [{"id": 1}]})
    assert _run_window(search) == []  # 12% legitimately empty
    thin = _window(10, None, "get_profile", None, {"id": "P-1"}) + _window(1, 1, "get_profile", {}, {}, start=99)
    assert _run_window(thin) == []  # too few calls to know what is normal
    assert len(_run_window(thin, empty_min_calls=5)) == 1


def test_well_formed_empty_needs_more_evidence_than_a_bare_one() -> None:
    data = {"items": [{"id": 1}], "page": 1}
    few = _window(40, None, "list_items", None, data) + _window(1, 1, "list_items", {"items": [], "page": 1}, data, 99)
    assert _run_window(few) == []  # 40 clean calls cannot rule out a 5% "nothing found" rate
    many = _window(150, None, "list_items", None, data) + _window(1, 1, "list_items", {"items": [], "page": 1}, data, 999)
    # issue rule: "nothing found" in the tool's own shape is a valid answer unless something corroborates
    # a failure — here nothing does …
    assert _run_window(many) == []
    # … here the agent immediately repeated the identical call: it did not believe the answer
    b = Builder(trace_id="retry")
    b.tool("list_items", {"q": "same"}, {"items": [], "page": 1}, span_id="empty")
    b.tool("list_items", {"q": "same"}, data, span_id="again")
    (signal,) = _run_window([*many[:-1], b.view()])
    assert signal.span_ids == ["empty"] and signal.evidence["usual_shape"] is True
    assert signal.evidence["corroboration"] == "retried"


def test_baselines_merge_across_shards() -> None:
    views = _window(60, 20, "get_profile", [], {"id": "P-1"})
    one = SilentFailureDetector()
    left, right = SilentFailureDetector(), SilentFailureDetector()
    for i, view in enumerate(views):
        one.observe(view)
        (left if i % 2 else right).observe(view)
    left.merge(right)
    assert left.baselines["get_profile"] == one.baselines["get_profile"]
    assert isinstance(one.baselines["get_profile"], ResultBaseline)
    assert one.baselines["get_profile"].calls == 60 and one.baselines["get_profile"].strict == 3


# --- unrecovered_error ---------------------------------------------------------------------------------------


def test_error_at_the_end_is_unrecovered() -> None:
    b = Builder(output="I'm sorry, I couldn't complete that: lookup failed. Please try again later.")
    b.tool("list_orders", {"c": 1}, {"orders": [1]})
    b.llm("checking")
    b.tool("get_order", {"id": 7}, None, status=Status.ERROR, span_id="bad", message="TimeoutError: slow upstream")
    b.llm("sorry")
    (signal,) = unrecovered(b.view())
    ev = signal.evidence
    assert signal.kind == "unrecovered_error" and signal.span_ids == ["bad"]
    assert ev["tool"] == "get_order" and ev["error"] == "TimeoutError: slow upstream" and ev["retried"] is False
    assert ev["steps_after"] == 1 and ev["final_status"] == "ok" and signal.severity == "medium"


def test_agent_crash_names_tool_and_root_with_high_severity() -> None:
    b = Builder(root_status=Status.ERROR)
    b.root.status_message = "KeyError: 'items'"
    b.tool("read_table", {"t": 1}, {"rows": [1]})
    b.tool("fetch_results", {"q": 1}, "Error: 'items'", status=Status.ERROR, span_id="bad", message="KeyError: 'items'")
    (signal,) = unrecovered(b.view())
    assert signal.span_ids == ["bad", "root"] and signal.severity == "high"
    assert signal.evidence["final_status"] == "error" and signal.evidence["run_failed"] is True


def test_root_error_without_failing_step() -> None:
    b = Builder(root_status=Status.ERROR)
    b.root.status_message = "RuntimeError: boom"
    b.llm("hi")
    (signal,) = unrecovered(b.view())
    assert signal.span_ids == ["root"] and signal.evidence["error"] == "RuntimeError: boom"


def test_successful_retry_or_corrected_arguments_recover() -> None:
    for retry_args in ({"id": 7}, {"id": "7", "fields": ["a"]}):
        b = Builder(output="Here is your order.")
        b.tool("get_order", {"id": 7}, None, status=Status.ERROR, message="httpx.ReadTimeout: timed out")
        b.llm("That failed transiently; trying again.")
        b.tool("get_order", retry_args, {"id": 7, "status": "shipped"})
        b.llm("Here is your order.")
        assert unrecovered(b.view()) == []


def test_recovery_through_another_tool_counts_only_if_the_answer_does_not_admit_failure() -> None:
    def run(answer: str, repeat_earlier: bool = False) -> list[Signal]:
        b = Builder(output=answer)
        b.tool("lookup_user", {"email": "a@b.c"}, {"id": "U1"})
        b.tool("get_user_orders", {"user": "U1"}, None, status=Status.ERROR, span_id="bad", message="NotFound")
        if repeat_earlier:
            b.tool("lookup_user", {"email": "a@b.c"}, {"id": "U1"})
        else:
            b.tool("search_orders", {"user": "U1"}, {"orders": [1]})
        b.llm(answer)
        return unrecovered(b.view())

    assert run("Your order #1 ships tomorrow.") == []
    assert [s.span_ids for s in run("Sorry, I couldn't find your orders.")] == [["bad"]]
    assert [s.span_ids for s in run("Your order ships tomorrow.", repeat_earlier=True)] == [["bad"]]


def test_repeated_failures_of_one_tool_are_one_signal() -> None:
    b = Builder()
    for i in range(3):
        b.tool("charge_card", {"amount": 10}, None, status=Status.ERROR, span_id=f"f{i}", message="RateLimitError: 429")
        b.llm("retrying")
    (signal,) = unrecovered(b.view())
    assert signal.span_ids == ["f0", "f1", "f2"] and signal.evidence["retried"] is True
    assert signal.evidence["failed_attempts"] == 3 and signal.severity == "high"  # a write


def test_llm_error_followed_by_any_successful_llm_call_recovers() -> None:
    b = Builder()
    b.llm("", status=Status.ERROR, span_id="llm_bad")
    b.llm("answer from the fallback model")
    assert unrecovered(b.view()) == []
    b = Builder()
    b.llm("first")
    b.llm("", status=Status.ERROR, span_id="llm_bad")
    (signal,) = unrecovered(b.view())
    assert signal.span_ids == ["llm_bad"] and signal.evidence["step_kind"] == "llm"


def test_silent_result_errors_count_only_when_asked() -> None:
    view = one_call_view("Error: payment declined by the issuer")
    assert unrecovered(view) == []
    (signal,) = unrecovered(view, include_result_errors=True)
    assert signal.span_ids == ["target"] and "payment declined" in signal.evidence["error"]


def test_inferred_errors_are_not_explicit() -> None:
    b = Builder()
    b.tool("read_file", {"p": 1}, {"c": 1}, status=Status.ERROR, source=StatusSource.INFERRED,
           events=exception("KeyError", "x"))
    assert unrecovered(b.view()) == []


# --- end to end on synthetic data --------------------------------------------------------------------------


def test_end_to_end_on_synthetic_traces(tmp_path: Path) -> None:
    from tracemine.detect.runner import run_detection
    from tracemine.evaluate import read_labels, score
    from tracemine.ingest.loader import ingest_paths
    from tracemine.store import Store
    from tracemine.synth import SynthConfig, generate

    out = tmp_path / "synth"
    generate(SynthConfig(traces=500, seed=11), out)
    kinds = ["silent_failure", "unrecovered_error"]
    with Store(str(tmp_path / "t.duckdb")) as store:
        ingest_paths([str(out)], store)
        report = run_detection(store, None, kinds, {}, save=False)
    assert not report.errors
    scores = score(report.signals, read_labels(out / "labels.jsonl"), kinds=kinds)
    for kind in kinds:
        s = scores[kind]
        assert s.labels >= 10, kind
        assert s.precision >= 0.95 and s.recall >= 0.95, (kind, s.precision, s.recall, s.missed[:3],
                                                           [f.text for f in s.false_positives[:3]])
