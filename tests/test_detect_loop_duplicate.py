"""The ``loop`` and ``duplicate_call`` detectors: each mechanism and its look-alikes on hand-built traces,
the shared helpers (write verbs, error-shaped results, volatile values), and an end-to-end check of
precision and recall on a small synthetic run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from tracemine.detect.actions import LoopParams, periodic_runs, result_is_error, strip_volatile
from tracemine.detect.builtin.duplicate_call import DuplicateCallDetector
from tracemine.detect.builtin.loop import LoopDetector
from tracemine.detect.tool_roles import is_write_tool
from tracemine.detect.view import TraceView
from tracemine.model import Signal, Span, SpanKind, Status, Trace

MS = 1_000_000


class TraceBuilder:
    """Appends spans one after the other (1 ms apart) under an agent root."""

    def __init__(self, definitions: list[dict[str, Any]] | None = None) -> None:
        self.spans = [Span(trace_id="t", span_id="root", name="agent", kind=SpanKind.AGENT, start_ns=0,
                           tool_definitions=orjson.dumps(definitions).decode() if definitions else None)]
        self.clock = 0

    def _next(self, prefix: str) -> tuple[str, int]:
        self.clock += 10 * MS
        return f"{prefix}{len(self.spans)}", self.clock

    def llm(self, text: str = "thinking", tokens: int = 100) -> str:
        span_id, start = self._next("l")
        self.spans.append(Span(trace_id="t", span_id=span_id, parent_span_id="root", name="chat", kind=SpanKind.LLM,
                               start_ns=start, end_ns=start + 5 * MS, output=text, total_tokens=tokens))
        return span_id

    def tool(self, name: str, args: Any, result: Any, status: Status = Status.OK,
             events: list[dict[str, Any]] | None = None, llm: bool = True) -> str:
        if llm:
            self.llm()
        span_id, start = self._next("s")
        self.spans.append(Span(
            trace_id="t", span_id=span_id, parent_span_id="root", name=f"execute_tool {name}", kind=SpanKind.TOOL,
            start_ns=start, end_ns=start + 2 * MS, status=status, tool_name=name,
            tool_arguments=args if isinstance(args, str) else orjson.dumps(args).decode(),
            tool_result=None if result is None else result if isinstance(result, str) else orjson.dumps(result).decode(),
            events=events,
        ))
        return span_id

    def user(self, text: str) -> str:
        span_id, start = self._next("u")
        self.spans.append(Span(trace_id="t", span_id=span_id, parent_span_id="root", name="user", kind=SpanKind.OTHER,
                               start_ns=start, end_ns=start + MS, input=text))
        return span_id

    def view(self) -> TraceView:
        self.spans[0].end_ns = self.clock + MS
        return TraceView.build(Trace("t", list(self.spans)))


def loops(b: TraceBuilder, **settings: Any) -> list[Signal]:
    return list(LoopDetector(settings).detect(b.view()))


def dups(b: TraceBuilder, **settings: Any) -> list[Signal]:
    return list(DuplicateCallDetector(settings).detect(b.view()))


SEARCH_RESULT = {"results": [{"title": "Cheap flights", "price": 120}], "total": 1}


# --- loops: tool repeats and cycles -----------------------------------------------------------------


def test_same_call_three_times_with_the_same_result_is_a_loop_with_cost_evidence() -> None:
    b = TraceBuilder()
    b.tool("lookup_order", {"order_id": "A-1"}, {"status": "shipped"})
    ids = [b.tool("search_flights", {"origin": "CDG", "dest": "JFK"}, SEARCH_RESULT) for _ in range(3)]
    b.llm("done")
    [signal] = loops(b)
    e = signal.evidence
    assert signal.kind == "loop" and signal.span_ids == ids
    assert (e["period"], e["repeats"], e["cycle"], e["tool"]) == (1, 3, ["search_flights"], "search_flights")
    assert e["repetitions"] == [[i] for i in ids]
    assert len(e["llm_span_ids"]) == 2 and e["tokens"] == 200  # the turns that asked again
    assert e["duration_ms"] == pytest.approx(3 * 2 + 2 * 5)
    assert e["first_step"] < e["last_step"] and e["exact_arguments"] and not e["failing"]
    assert signal.severity == "medium"
    assert "<num>" in signal.text and "search_flights" in signal.text
    assert dups(b) == []  # the loop owns these spans


def test_rephrased_free_text_with_the_same_result_is_a_near_same_loop() -> None:
    b = TraceBuilder()
    queries = ["cheap flights to paris in may", "Cheap flights to Paris in May?", "cheap  flights to paris in may "]
    ids = [b.tool("web_search", {"query": q, "num": 5}, SEARCH_RESULT) for q in queries]
    [signal] = loops(b)
    assert signal.span_ids == ids and not signal.evidence["exact_arguments"]
    assert "rephrased" in signal.text


def test_different_identifiers_are_not_near_same() -> None:
    b = TraceBuilder()
    for order in ("ORD-1001", "ORD-1002", "ORD-1003"):
        b.tool("get_order", {"order_id": order}, {"status": "shipped"})
    assert loops(b) == []


def test_cycle_of_two_tools_repeated_three_times() -> None:
    b = TraceBuilder()
    ids = []
    for _ in range(3):
        ids.append(b.tool("web_search", {"query": "coral reefs"}, SEARCH_RESULT))
        ids.append(b.tool("open_url", {"url": "https://example.org/reefs"}, {"text": "Reefs are bleaching."}))
    [signal] = loops(b)
    e = signal.evidence
    assert (e["period"], e["repeats"], e["cycle"]) == (2, 3, ["web_search", "open_url"])
    assert signal.span_ids == ids and e["repetitions"] == [ids[0:2], ids[2:4], ids[4:6]]
    assert "web_search -> open_url" in signal.text


def test_max_period_and_min_repeats_are_settings() -> None:
    b = TraceBuilder()
    for _ in range(3):
        b.tool("a_tool", {"x": 1}, {"v": 1})
        b.tool("b_tool", {"x": 2}, {"v": 2})
        b.tool("c_tool", {"x": 3}, {"v": 3})
    assert len(loops(b)) == 1
    assert loops(b, max_period=2, max_gap=0) == []
    assert loops(b, min_repeats=4) == []


def test_poll_whose_result_changes_is_not_a_loop_nor_a_duplicate() -> None:
    b = TraceBuilder()
    for progress in (10, 40, 80, 100):
        b.tool("get_job_status", {"job_id": "j1"}, {"state": "running", "progress": progress})
    assert loops(b) == [] and dups(b) == []


def test_stuck_poll_is_a_loop_even_when_timestamps_change() -> None:
    b = TraceBuilder()
    for minute in range(4):
        b.tool("get_job_status", {"job_id": "j1"},
               {"state": "running", "progress": 40, "checked_at": f"2026-01-01T10:0{minute}:00Z", "elapsed_ms": minute})
    [signal] = loops(b)
    assert signal.evidence["repeats"] == 4


def test_pagination_is_not_a_loop() -> None:
    b = TraceBuilder()
    for page in (1, 2, 3, 4):
        b.tool("fetch_results", {"query_id": "q1", "page": page}, {"rows": [], "page": page})
    assert loops(b) == [] and dups(b) == []


def test_two_repetitions_are_a_duplicate_not_a_loop() -> None:
    b = TraceBuilder()
    ids = [b.tool("get_weather", {"city": "Oslo"}, {"temp": 3}) for _ in range(2)]
    assert loops(b) == []
    [signal] = dups(b)
    assert signal.span_ids == ids and signal.evidence["adjacent"]


def test_same_failing_call_recurring_a_few_steps_apart_is_a_loop() -> None:
    b = TraceBuilder()
    failing = []
    for k in range(3):
        failing.append(b.tool("book_seat", {"flight": "HA1"}, "Error: payment amount does not add up"))
        b.tool("calculate", {"expression": f"{k} + 1"}, str(k + 1))
    [signal] = loops(b)
    e = signal.evidence
    assert e["mechanism"] == "tool_recurring" and signal.span_ids == failing
    assert e["failing"] and e["write_tools"] == ["book_seat"] and signal.severity == "high"
    assert "same error" in signal.text
    assert loops(b, max_gap=0) == []
    assert dups(b) == []  # never succeeded


def test_repeated_write_loop_is_severe() -> None:
    b = TraceBuilder()
    for _ in range(5):
        b.tool("send_email", {"to": "a@b.c", "body": "hi"}, {"sent": True})
    [signal] = loops(b)
    assert signal.severity == "critical"


# --- loops: LLM repeats ---------------------------------------------------------------------------


def _message(text: str, call_id: str = "") -> str:
    parts: list[dict[str, Any]] = [{"type": "text", "content": text}]
    if call_id:
        parts.append({"type": "tool_call", "id": call_id, "name": "lookup", "arguments": {"q": "x"}})
    return orjson.dumps([{"role": "assistant", "parts": parts}]).decode()


def test_llm_repeating_itself_without_observation_is_a_loop() -> None:
    b = TraceBuilder()
    b.tool("get_order", {"order_id": "A-1"}, {"status": "shipped"})
    ids = [b.llm(_message("Let me look into that for you."), tokens=50) for _ in range(4)]
    [signal] = loops(b)
    e = signal.evidence
    assert signal.span_ids == ids and e["cycle"] == ["llm"] and e["repeats"] == 4 and e["tokens"] == 200
    assert e["mechanism"] == "llm_repeat" and e["tool"] is None
    assert e["fix_subject"] == ""  # the agent loop's fix, whichever model wrote the reply


def test_llm_near_same_outputs_count_and_call_ids_are_ignored() -> None:
    b = TraceBuilder()
    for k in range(3):
        b.llm(_message("One moment while I gather the information." + " " * k, call_id=f"call_{k}abcdef123"))
    assert len(loops(b)) == 1


def test_llm_repeats_separated_by_user_messages_or_tools_are_not_loops() -> None:
    b = TraceBuilder()
    for k in range(3):
        b.llm("Could you give me your booking reference?")
        b.user(f"It is ABC{k}")
    assert loops(b) == []
    b = TraceBuilder()
    for k in range(3):
        b.llm("Checking.")
        b.tool("get_order", {"order_id": f"A-{k}"}, {"status": "shipped"}, llm=False)
    assert loops(b) == []


def test_tool_spans_nested_under_their_llm_turn_still_separate_turns() -> None:
    b = TraceBuilder()
    for k in range(3):
        turn = b.llm('{"content": null, "tool_calls": [{"function": {"name": "calc"}}]}')
        call = b.tool("calculate", {"expression": f"{k} * 2"}, str(k * 2), llm=False)
        b.spans[-1].parent_span_id = turn
        assert call
    assert loops(b) == []


def test_llm_loops_can_be_switched_off() -> None:
    b = TraceBuilder()
    for _ in range(3):
        b.llm("Same words again.")
    assert len(loops(b)) == 1 and loops(b, llm_loops=False) == []


# --- duplicate calls ------------------------------------------------------------------------------


def test_read_repeated_later_with_the_same_result_is_a_low_duplicate() -> None:
    b = TraceBuilder()
    first = b.tool("get_order", {"order_id": "A-1", "fields": ["items"]}, {"status": "shipped"})
    b.tool("list_tickets", {"customer": "c1"}, {"tickets": []})
    again = b.tool("get_order", '{"fields": ["items"],   "order_id": "A-1"}', {"status": "shipped"})
    [signal] = dups(b)
    e = signal.evidence
    assert signal.kind == "duplicate_call" and signal.span_ids == [first, again]
    assert (e["tool"], e["calls"], e["is_write"], e["adjacent"]) == ("get_order", 2, False, False)
    assert e["first_result_excerpt"].startswith('{"status"') and '"order_id":"a-1"' in e["arguments"]
    assert signal.severity == "low"


def test_write_repeated_is_high_even_with_new_ids_and_reformatted_arguments() -> None:
    b = TraceBuilder()
    first = b.tool("issue_refund", {"order_id": "A-1", "amount": 20, "reason": "damaged"}, {"refund_id": "R-1"})
    again = b.tool("issue_refund", {"reason": "DAMAGED", "amount": "20.0", "order_id": "A-1"}, {"refund_id": "R-2"})
    [signal] = dups(b)
    assert signal.span_ids == [first, again] and signal.evidence["is_write"] and signal.severity == "high"
    assert signal.evidence["adjacent"] and not signal.evidence["same_result"]


def test_write_repeated_three_times_is_critical() -> None:
    b = TraceBuilder()
    for k in range(3):
        b.tool("charge_card", {"token": "tok_1", "amount": 5}, {"charge_id": f"ch_{k}"})
        b.tool("get_balance", {"k": k}, {"balance": k})
    [signal] = dups(b)
    assert signal.evidence["calls"] == 3 and signal.severity == "critical"


def test_recovered_errors_are_not_duplicates() -> None:
    b = TraceBuilder()
    b.tool("get_order", {"order_id": "A-1"}, None, status=Status.ERROR)
    b.tool("get_order", {"order_id": "A-1"}, {"status": "shipped"})
    b.tool("send_email", {"to": "x@y.z"}, "Error: connection reset by peer")
    b.tool("send_email", {"to": "x@y.z"}, {"sent": True})
    b.tool("get_user", {"id": "u1"}, {"name": "A"},
           events=[{"name": "exception", "attributes": {"exception.type": "TimeoutError"}}])
    b.tool("get_user", {"id": "u1"}, {"name": "A"})
    assert dups(b) == []


def test_failed_attempts_before_success_are_listed_and_only_later_calls_duplicate() -> None:
    b = TraceBuilder()
    failed = b.tool("create_ticket", {"subject": "Broken"}, {"success": False, "message": "try again"})
    ok = b.tool("create_ticket", {"subject": "Broken"}, {"ticket_id": "T-1"})
    dup = b.tool("create_ticket", {"subject": "Broken"}, {"ticket_id": "T-2"})
    [signal] = dups(b)
    assert signal.span_ids == [ok, dup] and signal.evidence["failed_before_span_ids"] == [failed]


def test_write_classification_uses_description_when_the_name_is_silent() -> None:
    definitions = [{"name": "ticketing", "description": "Create a support ticket for a customer.",
                    "parameters": {"type": "object"}}]
    b = TraceBuilder(definitions)
    b.tool("ticketing", {"subject": "x"}, {"id": 1})
    b.tool("ticketing", {"subject": "x"}, {"id": 2})
    [signal] = dups(b)
    assert signal.evidence["is_write"] and signal.severity == "high"


def test_loop_settings_for_the_duplicate_detector_follow_the_loop_setting() -> None:
    b = TraceBuilder()
    for _ in range(3):
        b.tool("get_weather", {"city": "Oslo"}, {"temp": 3})
    assert dups(b) == []
    [signal] = dups(b, loop={"min_repeats": 4})
    assert signal.evidence["calls"] == 3 and signal.severity == "medium"


# --- helpers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "description", "write"), [
    ("get_order", "", False), ("cancel_booking", "", True), ("send_slack_message", "", True),
    ("user_email_lookup", "", False), ("email_customer", "", True), ("issueRefund", "", True),
    ("search_orders", "", False), ("run_query", "Submit a read-only SQL query.", False),
    ("run_tests", "Run the test suite.", False), ("return_delivered_items", "", True),
    ("weather", "Returns the forecast.", False), ("think", "", False),
])
def test_write_verbs(name: str, description: str, write: bool) -> None:
    assert is_write_tool(name, {"description": description}) is write


@pytest.mark.parametrize(("result", "error"), [
    ({"errors": []}, False), ({"ok": True}, False), ({"status": 200}, False), ({"status": "succeeded"}, False),
    ({"status": 503}, True), ({"statusCode": 429}, True), ({"success": False}, True), ({"state": "FAILED"}, True),
    ({"error": {"message": "boom"}}, True), ("Error: permission denied", True), ("All good", False),
])
def test_error_shaped_results(result: Any, error: bool) -> None:
    assert result_is_error(result) is error


def test_volatile_values_are_ignored_in_results() -> None:
    a = strip_volatile({"state": "running", "updated_at": "x", "request_id": "r1", "took_ms": 5, "order_id": "o1"})
    assert a == {"state": "running", "updated_at": "<volatile>", "request_id": "<volatile>", "took_ms": "<volatile>",
                 "order_id": "o1"}
    assert strip_volatile(["2026-01-01T10:00:00Z", "2026-01-01"]) == ["<volatile>", "2026-01-01"]


def test_periodic_runs_prefer_the_longest_coverage_and_shortest_period() -> None:
    seq = list("xABABABAAAy")
    runs = periodic_runs(len(seq), lambda i, j: seq[i] == seq[j], 3, 4)
    assert [(r.start, r.period, r.repeats) for r in runs] == [(1, 2, 3), (7, 1, 3)]


def test_loop_params_from_settings() -> None:
    p = LoopParams.from_settings({"min_repeats": 1, "max_period": 6})
    assert p.min_repeats == 2 and p.max_period == 6 and p.arg_similarity == LoopParams().arg_similarity


# --- end to end on synthetic data -----------------------------------------------------------------


def test_precision_and_recall_on_a_small_synthetic_run(tmp_path: Path) -> None:
    from tracemine.detect.runner import run_detection
    from tracemine.evaluate import read_labels, score
    from tracemine.ingest.loader import ingest_paths
    from tracemine.store import Store
    from tracemine.synth import SynthConfig, generate

    out = tmp_path / "synth"
    generate(SynthConfig(traces=500, seed=11), out)
    with Store(tmp_path / "t.duckdb") as store:
        ingest_paths([str(out)], store)
        report = run_detection(store, None, ["loop", "duplicate_call"], {}, save=False)
    assert not report.errors
    scores = score(report.signals, read_labels(out / "labels.jsonl"), kinds=["loop", "duplicate_call"])
    for kind in ("loop", "duplicate_call"):
        s = scores[kind]
        assert s.labels >= 10, kind
        assert s.precision >= 0.95, (kind, s.false_positives[:3])
        assert s.recall >= 0.95, (kind, s.missed[:3])


def test_nested_records_of_one_call_are_one_action() -> None:
    b = TraceBuilder()
    for k in range(2):
        outer = b.tool("get_order", {"order_id": f"A-{k}"}, {"status": "shipped"})
        b.tool("get_order", {"order_id": f"A-{k}"}, {"status": "shipped"}, llm=False)
        b.spans[-1].parent_span_id = outer  # e.g. an MCP client span around the server span
    assert dups(b) == [] and loops(b) == []


def test_llm_wrapper_spans_are_not_extra_turns() -> None:
    b = TraceBuilder()
    b.llm("The answer is 42.")
    inner = b.llm("The answer is 42.")
    b.spans[-1].parent_span_id = b.spans[-2].span_id
    b.llm("The answer is 42.")
    b.spans[-1].parent_span_id = inner
    assert loops(b) == []
