"""Detectors on traces unlike the synth generator's: other domains (recipes, HR, logistics, weather,
genomics, property listings), other wordings and other result shapes. Each mechanism of the issue's
requirements 2–4 has a positive here, and each look-alike (pagination, polling to a terminal state, an
empty search handled, a not-found handled, a transient retry, an article about errors, similar reads of
different ids) must produce no signal of that kind."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tracemine.detect.builtin.argument_error import ArgumentErrorDetector
from tracemine.detect.builtin.loop import LoopDetector
from tracemine.detect.builtin.silent_failure import SilentFailureDetector
from tracemine.detect.view import TraceView
from tracemine.model import Signal, Span, SpanKind, Status, Trace

MS = 1_000_000


class Run:
    """A hand-built agent run: a root span (optionally declaring tools) and steps appended in order."""

    def __init__(self, tools: list[dict[str, Any]] | None = None, answer: str | None = None) -> None:
        self.spans = [Span(trace_id="g", span_id="root", name="agent", kind=SpanKind.AGENT, start_ns=0,
                           output=answer, tool_definitions=orjson.dumps(tools).decode() if tools else None)]
        self.clock = 0

    def llm(self, text: str = "next step") -> str:
        self.clock += 10 * MS
        span_id = f"l{len(self.spans)}"
        self.spans.append(Span(trace_id="g", span_id=span_id, parent_span_id="root", name="chat", kind=SpanKind.LLM,
                               start_ns=self.clock, end_ns=self.clock + 5 * MS, output=text, total_tokens=80))
        return span_id

    def call(self, tool: str, args: Any, result: Any, status: Status = Status.UNSET, message: str | None = None) -> str:
        self.llm()
        self.clock += 10 * MS
        span_id = f"c{len(self.spans)}"
        self.spans.append(Span(
            trace_id="g", span_id=span_id, parent_span_id="root", name=tool, kind=SpanKind.TOOL, start_ns=self.clock,
            end_ns=self.clock + 3 * MS, status=status, status_message=message, tool_name=tool,
            tool_arguments=orjson.dumps(args).decode(),
            tool_result=result if isinstance(result, str) else orjson.dumps(result).decode(),
        ))
        return span_id

    def view(self) -> TraceView:
        self.spans[0].end_ns = self.clock + MS
        return TraceView.build(Trace("g", list(self.spans)))


def detect(detector: Any, run: Run) -> list[Signal]:
    return detect_window(detector, [run.view()])


def detect_window(detector: Any, views: list[TraceView]) -> list[Signal]:
    """Both passes of ``detector`` over a window of views: statistics first, then every view judged."""
    for view in views:
        detector.observe(view)
    detector.finalize()
    return [s for view in views for s in detector.detect(view)]


def fn(name: str, description: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


SHIPMENT = fn("reroute_parcel", "Move a parcel to another depot.", {
    "type": "object",
    "properties": {
        "parcel": {"type": "string", "pattern": r"^PX\d{8}$"},
        "depot": {"type": "string", "enum": ["north", "south", "harbour"]},
        "deliver_on": {"type": "string", "format": "date"},
        "notify": {"type": "string", "format": "email"},
        "callback": {"type": "string", "format": "uri"},
        "priority": {"type": "integer"},
    },
    "required": ["parcel", "depot"],
    "additionalProperties": False,
})
GOOD_REROUTE = {"parcel": "PX12345678", "depot": "harbour", "deliver_on": "2027-03-04"}


# --- requirement 2: argument errors whatever happened next -------------------------------------------


def _violation(args: dict[str, Any], result: Any = "rerouted", status: Status = Status.UNSET) -> Signal:
    run = Run([SHIPMENT])
    run.call("reroute_parcel", args, result, status)
    [signal] = detect(ArgumentErrorDetector(), run)
    return signal


def test_silently_accepted_violations_of_each_keyword_are_structured() -> None:
    cases = [
        ({**GOOD_REROUTE, "depot": "Harbor"}, "depot", "enum"),
        ({**GOOD_REROUTE, "parcel": "px-1234"}, "parcel", "pattern"),
        ({**GOOD_REROUTE, "priority": "urgent"}, "priority", "type"),
        ({"parcel": "PX12345678"}, "depot", "required"),
        ({**GOOD_REROUTE, "deliver_on": "04/03/2027"}, "deliver_on", "format"),
        ({**GOOD_REROUTE, "notify": "dispatch-desk"}, "notify", "format"),
        ({**GOOD_REROUTE, "callback": "not a link"}, "callback", "format"),
        ({**GOOD_REROUTE, "signature": True}, "signature", "additionalProperties"),
    ]
    for args, field, keyword in cases:
        signal = _violation(args)
        e = signal.evidence
        assert e["mechanism"] == "schema_violation" and e["accepted"] and not e["recovered"], (field, e)
        assert e["constraint"] == {"tool": "reroute_parcel", "field": field, "keyword": keyword}
        assert signal.severity == "high"  # a write (reroute)


def test_offending_value_is_short_and_redacted() -> None:
    e = _violation({**GOOD_REROUTE, "depot": "pier 7, ask for dana.k@example.org"}).evidence
    [v] = e["violations"]
    assert "example.org" not in str(v["value"]) and "REDACTED" in str(v["value"]) and len(v["value"]) <= 60
    assert v["expected"] == '["north","south","harbour"]'


def test_error_status_then_corrected_retry_is_still_reported_with_lower_severity() -> None:
    run = Run([SHIPMENT])
    bad = run.call("reroute_parcel", {**GOOD_REROUTE, "depot": "Harbor"}, "422: depot must be one of north, south, harbour",
                   Status.ERROR)
    good = run.call("reroute_parcel", GOOD_REROUTE, {"parcel": "PX12345678", "depot": "harbour"})
    [signal] = detect(ArgumentErrorDetector(), run)
    e = signal.evidence
    assert signal.span_ids == [bad] and signal.severity == "low"
    assert e["recovered"] and e["corrected_span_id"] == good and e["attempts"] == 1 and e["failed"]


def test_validation_text_corroborates_without_a_schema() -> None:
    run = Run()
    span = run.call("convert_units", {"value": 3, "unit": "furlongs"},
                    "Unit 'furlongs' is not a valid unit; expected one of m, km, mi")
    [signal] = detect(ArgumentErrorDetector(), run)
    assert signal.span_ids == [span] and signal.evidence["mechanism"] == "validation_error_result"


def test_transient_failure_with_valid_arguments_is_not_an_argument_error() -> None:
    run = Run([SHIPMENT])
    run.call("reroute_parcel", GOOD_REROUTE, "HTTP/1.1 503 Service Unavailable", Status.ERROR, "503 Service Unavailable")
    run.call("reroute_parcel", GOOD_REROUTE, "", Status.ERROR, "ReadTimeout: timed out")
    run.call("reroute_parcel", GOOD_REROUTE, {"status": 429, "message": "slow down"}, Status.ERROR)
    run.call("reroute_parcel", GOOD_REROUTE, {"parcel": "PX12345678", "depot": "harbour"})
    assert detect(ArgumentErrorDetector(), run) == []


# --- requirement 3: loops without new information -----------------------------------------------------

RECIPES = {"recipes": [{"id": "rcp_118", "title": "Lentil dal"}, {"id": "rcp_207", "title": "Chana masala"}],
           "served_at": "2027-01-02T10:00:00Z"}


def test_paraphrased_search_with_unchanged_results_is_a_loop() -> None:
    run = Run()
    queries = ["vegan curry recipes with lentils", "lentil curry recipe (vegan)", "recipes: vegan lentil curries"]
    ids = []
    for n, query in enumerate(queries):
        result = {**RECIPES, "query": query, "served_at": f"2027-01-02T10:0{n}:00Z", "request_id": f"rq{n}"}
        ids.append(run.call("recipe_lookup", {"q": query, "max": 10}, result))
    [signal] = detect(LoopDetector(), run)
    e = signal.evidence
    assert signal.span_ids == ids and e["repeats"] == 3 and e["tool"] == "recipe_lookup"
    assert e["repetitions"] == [[i] for i in ids]
    assert e["arguments_match"] == "paraphrased" and not e["exact_arguments"] and 0.5 <= e["argument_similarity"] < 1


def test_paraphrased_calls_a_few_steps_apart_are_a_loop() -> None:
    run = Run()
    ids = []
    for k, query in enumerate(("weather in Bergen tomorrow", "Bergen weather forecast tomorrow",
                               "tomorrow's weather Bergen")):
        ids.append(run.call("forecast", {"where": query}, {"summary": "rain", "high_c": 7}))
        run.call("unit_convert", {"c": 7 + k}, {"f": 44.6 + k})
    [signal] = detect(LoopDetector(), run)
    assert signal.span_ids == ids and signal.evidence["mechanism"] == "tool_recurring"


def test_pagination_is_not_a_loop_even_when_pages_look_alike() -> None:
    run = Run()
    for cursor in ("", "eyJvIjoyMH0", "eyJvIjo0MH0", "eyJvIjo2MH0"):
        run.call("list_vacancies", {"department": "nursing staff", "cursor": cursor}, {"items": [], "next": None})
    run2 = Run()
    for offset in (0, 20, 40, 60):
        run2.call("list_vacancies", {"department": "nursing", "offset": offset},
                  {"items": [{"id": f"job-{offset + k}"} for k in range(3)]})
    assert detect(LoopDetector(), run) == [] and detect(LoopDetector(), run2) == []


def test_polling_until_a_terminal_state_is_not_a_loop() -> None:
    run = Run()
    for state in ("queued", "queued", "queued", "queued", "succeeded"):
        run.call("sequencing_job_status", {"job": "seq-7781"}, {"job": "seq-7781", "phase": state})
    assert detect(LoopDetector(), run) == []


def test_similar_reads_of_different_ids_are_not_a_loop() -> None:
    run = Run()
    for listing in ("LST-88120", "LST-88121", "LST-88122", "LST-88123"):
        run.call("listing_details", {"listing": listing, "fields": "price, rooms and floor area"}, {"status": "archived"})
    assert detect(LoopDetector(), run) == []


def test_different_questions_with_the_same_empty_answer_are_not_a_loop() -> None:
    run = Run()
    for city in ("flats to rent in Leeds", "houses for sale in Cork", "studio lofts in Porto"):
        run.call("property_search", {"text": city}, {"hits": []})
    assert detect(LoopDetector(), run) == []


# --- requirement 4: ignored failures ------------------------------------------------------------------


def _silent(run: Run) -> list[Signal]:
    return detect(SilentFailureDetector(), run)


def test_http_error_pages_and_status_lines_under_ok_are_silent_failures() -> None:
    bodies = [
        "<html><head><title>500 Internal Server Error</title></head><body><p>nginx</p></body></html>",
        "<html><body><h1>502 Bad Gateway</h1><hr>openresty</body></html>",
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30\r\n\r\n",
        "Service Unavailable",
        {"code": 504, "message": "upstream timed out"},
        {"http_status": "500", "payload": None},
    ]
    for body in bodies:
        run = Run()
        span = run.call("fetch_timetable", {"line": "S41"}, body, Status.OK)
        [signal] = _silent(run)
        assert signal.span_ids == [span] and signal.evidence["mechanism"] in ("http_status", "error_page"), body


def test_an_article_about_errors_is_not_a_failure() -> None:
    article = ("<html><head><title>Debugging intermittent 500 errors in Django</title></head><body>"
               + "<p>When a view raises, users see a 500 Internal Server Error page. Here is how we traced it.</p>" * 30
               + "</body></html>")
    run = Run()
    run.call("read_webpage", {"url": "https://blog.example.net/django-500"}, article)
    run.call("read_webpage", {"url": "https://blog.example.net/http"},
             "Status codes such as 503 Service Unavailable tell clients to retry later; 502 Bad Gateway means ...")
    assert _silent(run) == []


def test_not_found_then_used_is_an_ignored_failure_citing_both_spans() -> None:
    run = Run()
    lookup = run.call("employee_record", {"staff_no": "E-20931"}, {"message": "No employee matches staff_no E-20931"})
    run.call("payroll_calendar", {"month": "2027-02"}, {"runs": ["2027-02-25"]})
    later = run.call("grant_leave", {"staff_no": "E-20931", "days": 3}, {"granted": True})
    [signal] = _silent(run)
    e = signal.evidence
    assert signal.span_ids == [lookup, later] and signal.severity == "high"
    assert e["mechanism"] == "ignored_not_found" and e["lookup_span_id"] == lookup and e["later_span_id"] == later
    assert e["value"] == "E-20931" and e["later_is_write"]


def test_null_lookup_then_used_in_free_text_is_an_ignored_failure() -> None:
    run = Run()
    lookup = run.call("sample_registry", {"accession": "GSM5512093"}, "null")
    later = run.call("notify_lab", {"text": "Please re-sequence GSM5512093 this week"}, {"queued": True})
    [signal] = _silent(run)
    assert signal.span_ids == [lookup, later] and signal.evidence["later_field"] == "(in text)"


def test_not_found_handled_by_the_agent_is_not_a_failure() -> None:
    run = Run(answer="I could not find staff number E-20931 — could you double-check it?")
    run.call("employee_record", {"staff_no": "E-20931"}, {"found": False})
    assert _silent(run) == []


def test_value_found_another_way_before_use_is_not_ignored() -> None:
    run = Run()
    run.call("employee_record", {"staff_no": "E-20931"}, "Employee does not exist")
    run.call("employee_directory", {"surname": "Okafor"}, {"people": [{"staff_no": "E-20931", "name": "N. Okafor"}]})
    run.call("grant_leave", {"staff_no": "E-20931", "days": 3}, {"granted": True})
    assert _silent(run) == []


def test_empty_search_handled_is_not_a_failure_even_for_a_tool_that_usually_returns_data() -> None:
    detector = SilentFailureDetector()
    views = []
    for k in range(40):
        run = Run()
        run.call("recipe_lookup", {"q": f"dish {k}"}, {"recipes": [{"id": f"rcp_{k}"}]})
        views.append(run.view())
    handled = Run(answer="There are no recipes for that; want something similar?")
    handled.call("recipe_lookup", {"q": "durian risotto"}, {"recipes": []})
    handled.call("draft_menu", {"customer": "C-1001", "note": "durian risotto unavailable"}, {"saved": True})
    views.append(handled.view())
    assert detect_window(detector, views) == []


# --- not-found answers inside error payloads --------------------------------------------------------------


def test_not_found_error_payload_of_a_lookup_is_an_answer_not_a_failure() -> None:
    for body in ({"error": {"code": "NOT_FOUND", "message": "Parcel PX99999999 does not exist"}},
                 {"error": {"type": "resource_missing", "message": "No parcel with id PX99999999"}},
                 "Error: no parcel with id PX99999999"):
        run = Run(answer="That parcel number does not exist; can you check it?")
        run.call("parcel_status", {"parcel": "PX99999999"}, body)
        assert _silent(run) == [], body


def test_not_found_error_payload_then_used_is_one_ignored_failure() -> None:
    run = Run()
    lookup = run.call("parcel_status", {"parcel": "PX99999999"},
                      {"error": {"code": "NOT_FOUND", "message": "Parcel PX99999999 does not exist"}})
    later = run.call("reroute_parcel", {"parcel": "PX99999999", "depot": "north"}, {"rerouted": True})
    [signal] = _silent(run)
    assert signal.evidence["mechanism"] == "ignored_not_found" and signal.span_ids == [lookup, later]


def test_a_bare_404_or_a_write_that_misses_stays_a_failure() -> None:
    run = Run()
    read = run.call("parcel_status", {"parcel": "PX12345678"}, {"http_status": 404, "message": "Not Found"})
    assert [s.span_ids[0] for s in _silent(run)] == [read]  # neither used nor reported: the endpoint may be wrong
    run = Run()
    write = run.call("cancel_parcel", {"parcel": "PX12345678"},
                     {"error": {"code": "NOT_FOUND", "message": "Parcel PX12345678 does not exist"}})
    assert [s.span_ids[0] for s in _silent(run)] == [write]
    # both: the write used the value the read did not find, and failed in its turn: one mistake, both cited
    run = Run()
    read = run.call("parcel_status", {"parcel": "PX12345678"}, {"http_status": 404, "message": "Not Found"})
    write = run.call("cancel_parcel", {"parcel": "PX12345678"},
                     {"error": {"code": "NOT_FOUND", "message": "Parcel PX12345678 does not exist"}})
    (signal,) = _silent(run)
    assert signal.evidence["mechanism"] == "ignored_not_found" and signal.span_ids[:2] == [read, write]


def test_a_failing_call_repeated_in_a_loop_is_left_to_the_loop_detector() -> None:
    run = Run()
    for _ in range(4):
        run.call("warehouse_slot", {"aisle": "B7"}, {"error": {"code": "LOCKED", "message": "aisle B7 is locked"}})
    assert _silent(run) == []
    [loop] = detect(LoopDetector(), run)
    assert loop.evidence["failing"] and "locked" in loop.evidence["error"]


# --- duplicates: records in another order, reworded writes ------------------------------------------------


def _duplicates(run: Run) -> list[Signal]:
    from tracemine.detect.builtin.duplicate_call import DuplicateCallDetector

    return detect(DuplicateCallDetector(), run)


def test_a_write_with_its_line_items_reordered_is_a_duplicate() -> None:
    lines = [{"sku": "TEA-1", "qty": 4}, {"sku": "MUG-2", "qty": 1}]
    run = Run()
    run.call("place_order", {"customer": "C-88", "lines": lines}, {"order": "O-1"})
    run.call("place_order", {"lines": list(reversed(lines)), "customer": "C-88"}, {"order": "O-2"})
    [signal] = _duplicates(run)
    assert signal.evidence["is_write"] and signal.evidence["calls"] == 2


def test_a_write_resent_back_to_back_in_other_words_is_a_duplicate() -> None:
    run = Run()
    run.call("send_reminder", {"invoice": "INV-4410", "to": "ana@example.org",
                               "text": "Reminder: invoice INV-4410 over 320 EUR is overdue, please pay"}, {"sent": True})
    run.call("send_reminder", {"invoice": "INV-4410", "to": "ana@example.org",
                               "text": "Friendly reminder: invoice INV-4410 (320 EUR) is overdue"}, {"sent": True})
    [signal] = _duplicates(run)
    assert signal.evidence["reworded"] and signal.evidence["fix_mechanism"] == "write_repeat"


def test_two_different_updates_with_work_between_them_are_not_a_duplicate() -> None:
    run = Run()
    run.call("post_update", {"channel": "C0DEPLOY", "text": "Deployment of api started"}, {"ok": True, "ts": "1"})
    run.call("deployment_status", {"service": "api"}, {"state": "done"})
    run.call("post_update", {"channel": "C0DEPLOY", "text": "Deployment of api finished"}, {"ok": True, "ts": "2"})
    run.call("post_update", {"channel": "C0DEPLOY", "text": "Payment of 40 EUR refunded"}, {"ok": True, "ts": "3"})
    assert _duplicates(run) == []


# --- paraphrases: dropped numbers and the tool's own words -------------------------------------------------


def test_rewordings_that_drop_a_number_or_restate_the_tool_are_the_same_question() -> None:
    from tracemine.detect.actions import text_similarity

    ignore = frozenset({"search", "receipt"})
    assert text_similarity("Blue Bottle 23.45", "blue bottle receipt", ignore) >= 0.5
    assert text_similarity("Blue Bottle 23.45", "Blue Bottle 23", ignore) >= 0.5
    assert text_similarity("Blue Bottle 23.45", "Blue Bottle 24.10", ignore) == 0.0  # another amount
    assert text_similarity("flights to Paris", "flights to Lyon", frozenset({"search", "flight"})) == 0.0


# --- rejections in any words, shown by the agent's correction ---------------------------------------------


def _arguments(run: Run) -> list[Signal]:
    return detect(ArgumentErrorDetector(), run)


def test_a_rejection_in_unknown_words_corrected_by_the_next_call_is_an_argument_error() -> None:
    run = Run()
    bad = run.call("open_ticket", {"queue": "Platform Eng", "title": "disk full on db-7"},
                   {"error": "queue 'Platform Eng' cannot accept tickets"}, Status.ERROR)
    run.call("open_ticket", {"queue": "platform-eng", "title": "disk full on db-7"}, {"ticket": "T-991"})
    [signal] = _arguments(run)
    e = signal.evidence
    assert signal.span_ids == [bad] and e["mechanism"] == "corrected_after_rejection"
    assert e["changed_fields"] == ["queue"] and e["recovered"] and e["fix_mechanism"] == "rejected"


def test_transient_failures_not_found_answers_and_new_questions_are_not_corrections() -> None:
    run = Run()
    run.call("open_ticket", {"queue": "ops", "title": "disk full"}, {"error": "503 upstream busy"}, Status.ERROR)
    run.call("open_ticket", {"queue": "ops", "title": "disk full on db-7"}, {"ticket": "T-1"})
    run.call("get_host", {"host": "db-77"}, {"error": "host db-77 not found"}, Status.ERROR)
    run.call("get_host", {"host": "db-7"}, {"host": "db-7", "disk": "97%"})
    run.call("run_report", {"name": "weekly", "team": "ops"}, {"error": "report engine crashed"}, Status.ERROR)
    run.call("run_report", {"name": "monthly", "team": "sre"}, {"report": "R-1"})
    assert _arguments(run) == []


def test_a_sub_agent_error_that_rose_from_its_failed_tool_is_the_tool_failure() -> None:
    from tracemine.detect.builtin.unrecovered_error import UnrecoveredErrorDetector

    def spans(tool_status: Status) -> list[Span]:
        return [
            Span(trace_id="g", span_id="root", name="workflow", kind=SpanKind.AGENT, start_ns=0, end_ns=90 * MS,
                 status=Status.ERROR),
            Span(trace_id="g", span_id="agent", parent_span_id="root", name="Rollback agent", kind=SpanKind.AGENT,
                 start_ns=MS, end_ns=80 * MS, status=Status.ERROR, status_message="Error running tool rollback"),
            Span(trace_id="g", span_id="llm", parent_span_id="agent", name="generation", kind=SpanKind.LLM,
                 start_ns=2 * MS, end_ns=9 * MS, output="calling rollback"),
            Span(trace_id="g", span_id="tool", parent_span_id="agent", name="rollback", kind=SpanKind.TOOL,
                 start_ns=10 * MS, end_ns=20 * MS, status=tool_status, tool_name="rollback",
                 status_message="release r-41 cannot be rolled back" if tool_status == Status.ERROR else None,
                 tool_arguments='{"release": "r-41"}', tool_result='{"ok": true}'),
        ]

    detector = UnrecoveredErrorDetector()
    failed = list(detector.detect(TraceView.build(Trace("g", spans(Status.ERROR)))))
    assert [(s.evidence["step_kind"], s.evidence["tool"]) for s in failed] == [("tool", "rollback")]
    alone = list(detector.detect(TraceView.build(Trace("g", spans(Status.OK)))))
    assert [s.evidence["step_kind"] for s in alone] == ["agent"]  # no failed step inside: its own error


def test_a_read_failing_with_a_named_not_found_that_the_agent_reports_is_not_unrecovered() -> None:
    from tracemine.detect.builtin.unrecovered_error import UnrecoveredErrorDetector

    reported = "I could not find that policy — could you check the number?"

    def run_with(message: str, tool: str, answer: str = reported) -> list[Signal]:
        run = Run(answer=answer)
        run.call(tool, {"policy": "PL-20417"}, f"Error: {message}", Status.ERROR, message)
        return detect(UnrecoveredErrorDetector(), run)

    assert run_with("policy 'PL-20417' not found", "policy_details") == []
    assert run_with("No such policy", "policy_details") == []
    # a bare 404 names nothing (the endpoint may be wrong): an answer only when the agent reported a miss
    assert run_with("404 Not Found", "policy_details") == []
    assert len(run_with("404 Not Found", "policy_details", "Sorry, something went wrong, try again later.")) == 1
    # a write that misses failed — unless the agent told the user the thing does not exist (handled)
    assert len(run_with("policy 'PL-20417' not found", "cancel_policy", "Done, the policy is cancelled.")) == 1
    assert run_with("policy 'PL-20417' not found", "cancel_policy") == []


def test_a_write_told_no_such_thing_that_the_agent_reports_is_handled_not_silent() -> None:
    """The user named an invoice that does not exist; the write said so and the agent told the user: the
    request's mistake, handled. Claiming success instead is a silent failure."""
    for body in ({"error": "No invoice with id INV-2025-0917"}, {"detail": "Not Found"},
                 {"error": {"code": "resource_missing", "message": "No such invoice: 'INV-2025-0917'"}}):
        run = Run(answer="There's no invoice INV-2025-0917 in the ledger; could you check the number?")
        run.call("record_payment", {"invoice_id": "INV-2025-0917", "amount": 120.0}, body)
        assert _silent(run) == [], body
        run = Run(answer="Recorded the payment against INV-2025-0917.")
        write = run.call("record_payment", {"invoice_id": "INV-2025-0917", "amount": 120.0}, body)
        assert [s.span_ids[0] for s in _silent(run)] == [write], body


def test_a_checking_tool_returning_its_verdict_with_reasons_is_data_not_a_failure() -> None:
    report = {"valid": False, "errors": [{"rule": "BR-CO-15", "message": "VAT total must be the sum of lines"}]}
    run = Run()
    run.call("check_e_invoice", {"document": "doc_81f2", "profile": "EN16931"}, report)
    assert _silent(run) == [] and _arguments(run) == []
    run = Run()
    run.call("check_e_invoice", {"document": "doc_81f2"}, {"errors": [{"message": "validator crashed"}]})
    assert len(_silent(run)) == 1  # no verdict: the errors are the call's


def test_a_message_resent_in_other_words_stating_the_same_facts_is_a_duplicate() -> None:
    run = Run()
    run.call("send_payment_reminder", {"invoice": "INV-2025-0042", "to": "kim@example.org",
                                       "message": "Hi Kim, a friendly reminder that invoice INV-2025-0042 for "
                                                  "1,250.00 EUR was due on 2025-03-01."}, {"status": "sent"})
    run.call("send_payment_reminder", {"invoice": "INV-2025-0042", "to": "kim@example.org",
                                       "message": "Dear Kim, my records show INV-2025-0042 over 1,250.00 EUR "
                                                  "(due 2025-03-01) remains unpaid."}, {"status": "sent"})
    [signal] = _duplicates(run)
    assert signal.evidence["reworded"]


def test_a_search_reworded_with_optional_filters_and_rounded_amounts_is_a_loop() -> None:
    run = Run()
    for args in ({"query": "Adobe 69"}, {"query": "adobe receipt", "year": "2025"}, {"query": "Adobe 68.6"},
                 {"query": "ADOBE *68.6", "year": "2025"}):
        run.call("search_receipts", args, {"receipts": [], "total": 0, "request_id": "req_9f8e7d6c5b4a"})
    [loop] = detect(LoopDetector(), run)
    assert loop.evidence["repeats"] == 4 and loop.evidence["fix_mechanism"] == "tool_repeat"


def test_a_failure_in_the_body_right_before_the_run_gives_up_is_unrecovered_not_silent() -> None:
    from tracemine.detect.builtin.unrecovered_error import UnrecoveredErrorDetector

    gave_up = Run(answer="Sorry, I couldn't reach the ticketing system, so nothing was filed.")
    span = gave_up.call("file_ticket", {"queue": "ops", "title": "disk full"}, {"error": "TicketingDown: circuit open"})
    assert _silent(gave_up) == []
    [signal] = detect(UnrecoveredErrorDetector(), gave_up)
    assert signal.span_ids == [span] and "circuit open" in signal.evidence["error"]
    carried_on = Run(answer="Filed the ticket and paged the on-call.")  # claimed success: silent
    carried_on.call("file_ticket", {"queue": "ops", "title": "disk full"}, {"error": "TicketingDown: circuit open"})
    carried_on.call("page_oncall", {"team": "ops"}, {"paged": True})
    assert len(_silent(carried_on)) == 1 and detect(UnrecoveredErrorDetector(), carried_on) == []


def test_an_llm_call_with_no_model_on_record_is_judged_against_the_agents_usual_model() -> None:
    from tracemine.detect.builtin.outlier import OutlierDetector

    def run(model: str | None, seconds: float, k: int) -> TraceView:
        spans = [Span(trace_id=f"t{k}", span_id="root", name="workflow", kind=SpanKind.AGENT, start_ns=0,
                      end_ns=200_000 * MS, agent_name="Scheduler"),
                 Span(trace_id=f"t{k}", span_id="llm", parent_span_id="root", name="response", kind=SpanKind.LLM,
                      start_ns=MS, end_ns=MS + int(seconds * 1000 * MS), model=model, output="next")]
        return TraceView.build(Trace(f"t{k}", spans))

    views = [run("gpt-4.1-mini", 1.5 + (k % 7) * 0.1, k) for k in range(40)] + [run(None, 95.0, 99)]
    detector = OutlierDetector()
    [signal] = detect_window(detector, views)
    assert signal.trace_id == "t99" and signal.evidence["model"] == "gpt-4.1-mini"
    assert signal.evidence["metric"] == "latency" and signal.evidence["fix_mechanism"] == "llm_latency"


def test_turn_limits_in_other_words_are_exits() -> None:
    from tracemine.detect.builtin.silent_failure import MAX_TURNS

    assert MAX_TURNS.search("Stopped: reached the maximum of 30 steps.")
    assert not MAX_TURNS.search("The maximum 3 rounds of review went fine.")


def test_a_reworded_search_over_a_moving_time_window_with_the_same_answer_is_a_loop() -> None:
    run = Run()
    for since, text in (("2027-03-04T10:00:00Z", "OOMKilled payments pod"), ("2027-03-04T10:02:00Z", "payments pod OOMKilled"),
                        ("2027-03-04T10:05:00Z", "payments OOMKilled pod restarts")):
        run.call("query_logs", {"text": text, "since": since}, {"lines": ["payments-7f9 OOMKilled exit 137"]})
    [loop] = detect(LoopDetector(), run)
    assert loop.evidence["repeats"] == 3


def test_a_page_resent_later_stating_the_same_facts_is_a_duplicate_but_a_new_update_is_not() -> None:
    run = Run()
    run.call("page_responder", {"service": "payments", "message": "P1: payments error rate 23% since 10:02"},
             {"paged": "u-17"})
    run.call("service_metrics", {"service": "payments"}, {"error_rate": 0.23})
    run.call("page_responder", {"service": "payments", "message": "Urgent P1 — payments at 23% errors (since 10:02)"},
             {"paged": "u-17"})
    [signal] = _duplicates(run)
    assert signal.evidence["reworded"] and not signal.evidence["adjacent"]
    update = Run()
    update.call("page_responder", {"service": "payments", "message": "P1: payments error rate 23% since 10:02"},
                {"paged": "u-17"})
    update.call("service_metrics", {"service": "payments"}, {"error_rate": 0.02})
    update.call("page_responder", {"service": "payments", "message": "Resolved: payments error rate back to 2%"},
                {"paged": "u-17"})
    assert _duplicates(update) == []


def test_a_lookup_miss_in_any_form_that_the_agent_reports_is_an_answer() -> None:
    """A 404 body, a keyed null, ``found: false`` or a bare ``{"detail": "Not Found"}`` from a read, followed
    by the agent telling the user nothing was found: no silent failure. The same miss whose value a later
    write uses is an ignored failure, whatever form the miss took."""
    from tracemine.detect.builtin.silent_failure import SilentFailureDetector

    misses = [{"status": 404, "error": "Not Found"}, {"unit": None}, {"found": False, "unit_id": "U-10442"},
              {"detail": "Not Found"}, "Not Found"]
    for body in misses:
        handled = Run(answer="There's no unit U-10442 on record. Could you check the unit number?")
        handled.call("get_unit", {"unit_id": "U-10442"}, body)
        assert detect(SilentFailureDetector(), handled) == [], body
        used = Run(answer="Work order WO-1 logged for U-10442.")
        lookup = used.call("get_unit", {"unit_id": "U-10442"}, body)
        used.call("create_work_order", {"unit_id": "U-10442", "category": "plumbing"}, {"work_order_id": "WO-1"})
        signals = detect(SilentFailureDetector(), used)
        assert [s.evidence["mechanism"] for s in signals if lookup in s.span_ids] == ["ignored_not_found"], body
    # an HTTP error that is not a miss stays a failure however the agent words its answer
    broken = Run(answer="There's no unit U-10442 on record.")
    broken.call("get_unit", {"unit_id": "U-10442"}, {"status": 500, "error": "Internal Server Error"})
    assert [s.evidence["mechanism"] for s in detect(SilentFailureDetector(), broken)] == ["http_status"]


def test_a_body_that_is_only_an_http_error_status_is_read_as_one() -> None:
    from tracemine.detect.outcome import http_status_only

    assert http_status_only("422 Unprocessable Entity") == 422
    assert http_status_only("Bad Request") == 400 and http_status_only("HTTP 503") == 503
    assert http_status_only("Error: 500 Internal Server Error") == 500
    # data that merely looks like one: a bare number, one ordinary word, a mismatched phrase, prose
    for text in ("404", "450", "Locked", "Conflict", "422 Not Found", "The 404 page was redesigned"):
        assert http_status_only(text) is None, text


def test_a_bare_422_body_then_a_corrected_call_is_an_argument_error() -> None:
    run = Run()
    bad = run.call("create_work_order", {"unit_id": "U-10442", "priority": "high", "description": "tap leaks"},
                   "422 Unprocessable Entity")
    run.call("create_work_order", {"unit_id": "U-10442", "priority": "urgent", "description": "tap leaks"},
             {"work_order_id": "WO-1", "status": "open"})
    (signal,) = detect(ArgumentErrorDetector(), run)
    assert signal.span_ids[0] == bad and signal.evidence["mechanisms"] == ["validation_error_result"]
    assert signal.evidence["recovered"] is True
    # worded in no validation terms and naming nothing that changed: not a correction
    run = Run()
    run.call("create_work_order", {"unit_id": "U-10442", "priority": "high", "description": "tap leaks"},
                   "Error: request rejected by upstream")
    run.call("create_work_order", {"unit_id": "U-10442", "priority": "urgent", "description": "tap leaks"},
             {"work_order_id": "WO-1", "status": "open"})
    assert detect(ArgumentErrorDetector(), run) == []  # says nothing about the request: the next item
    # the next request of another item after a transient failure is no correction
    other = Run()
    other.call("create_work_order", {"unit_id": "U-10442", "priority": "high", "description": "tap leaks"},
               "503 Service Unavailable")
    other.call("create_work_order", {"unit_id": "U-10442", "priority": "low", "description": "tap leaks"},
               {"work_order_id": "WO-2", "status": "open"})
    assert detect(ArgumentErrorDetector(), other) == []


def test_reworded_searches_that_echo_the_query_and_rescore_the_same_hits_are_a_loop() -> None:
    """Each answer echoes its own query and scores the hits differently; the hits (ids, titles, states)
    never change. Back to back, the same non-empty answer needs little in common between the wordings."""
    hits = [{"work_order_id": "WO-551195", "title": "wasp nest above the balcony", "status": "closed"},
            {"work_order_id": "WO-078101", "title": "mice in the storage room", "status": "closed"}]
    queries = ["balcony the above nest wasp", "U-12879 balcony", "wasp nest above the balcony",
               "open order wasp nest above the balcony"]
    run = Run(answer="I could not find an open work order for the wasp nest.")
    for n, q in enumerate(queries):
        scored = [{**hit, "score": round(11.3 - 2.7 * i + 0.37 * n, 3)} for i, hit in enumerate(hits)]
        run.call("search_work_orders", {"q": q}, {"query": q, "hits": scored[::-1] if n % 2 else scored,
                                                 "took_ms": 12 + n})
    (signal,) = detect(LoopDetector(), run)
    assert signal.evidence["repeats"] == 4
    # different questions that find nothing each time are not a loop (a legitimately empty search)
    empty = Run(answer="No vendor covers those postcodes.")
    for code in ("1012AB", "1034CK", "1056GH"):
        empty.call("search_vendors", {"trade": "plumber", "postcode": code}, {"vendors": [], "postcode": code})
    assert detect(LoopDetector(), empty) == []


def test_a_call_failing_inside_a_cycle_of_tools_is_the_cycle_not_an_unrecovered_error() -> None:
    from tracemine.detect.builtin.unrecovered_error import UnrecoveredErrorDetector

    run = Run(answer="I couldn't book a visit; the calendar keeps offering a slot that is taken.")
    calendar = {"vendor_id": "V-4281", "slots": [{"date": "2025-04-24", "window": "evening"}]}
    taken = "Slot 2025-04-24 evening is no longer available"
    for _ in range(3):
        run.call("get_vendor_calendar", {"vendor_id": "V-4281"}, calendar)
        run.call("schedule_visit", {"work_order_id": "WO-1", "date": "2025-04-24"}, {"detail": taken},
                 Status.ERROR, taken)
    assert [s.evidence["period"] for s in detect(LoopDetector(), run)] == [2]
    assert detect(UnrecoveredErrorDetector(), run) == []


def test_reworded_searches_answered_in_plain_text_with_the_same_lines_are_a_loop() -> None:
    lines = ("2025-03-04T10:1{n}:02Z ERROR api-7 disk full on /var/lib/data (used 0.98{n})\n"
             "2025-03-04T10:1{n}:09Z WARN api-7 write retry queue at 312 items")
    run = Run(answer="I could not find why api-7 fails.")
    for n, q in enumerate(["api-7 disk full errors", "disk full api-7", "errors disk api-7 full volume"]):
        run.call("search_logs", {"query": q, "service": "api-7"},
                 f"Results for '{q}' (took 0.0{n}s):\n" + lines.format(n=n))
    (signal,) = detect(LoopDetector(), run)
    assert signal.evidence["repeats"] == 3
    # new lines each time (the answer moved on): no loop
    moving = Run(answer="Found it.")
    for n, q in enumerate(["api-7 disk full errors", "disk full api-7", "errors disk api-7 full volume"]):
        moving.call("search_logs", {"query": q, "service": "api-7"},
                    f"Results for '{q}':\n2025-03-04T10:1{n}:02Z ERROR api-7 shard {n} of the volume is full")
    assert detect(LoopDetector(), moving) == []


ERROR_PAGES = {
    "cloudflare": ("<!DOCTYPE html><html><head><title>status.example.com | 502: Bad gateway</title></head><body>"
                   "<h1>Bad gateway</h1><p>Error code 502</p><p>The web server reported a bad gateway error.</p>"
                   "</body></html>", 502),
    "tomcat": ("<html><head><title>HTTP Status 500 – Internal Server Error</title></head><body><h1>HTTP Status 500 "
               "– Internal Server Error</h1><p><b>Type</b> Exception Report</p></body></html>", 500),
    "django": "<!doctype html><html lang='en'><head><title>Server Error (500)</title></head><body><h1>Server "
              "Error (500)</h1><p></p></body></html>",
    "google": ("<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Error 404 (Not Found)!!1</title><p><b>404."
               "</b> <ins>That's an error.</ins>", 404),
    "heroku": ("<!DOCTYPE html><html><head><title>Application Error</title></head><body><iframe src='//www.herokucdn"
               ".com/error-pages/application-error.html'></iframe></body></html>", None),
    "iis": ("<html><head><title>500 - Internal server error.</title></head><body><h2>500 - Internal server error."
            "</h2></body></html>", 500),
}


def test_error_pages_of_common_servers_and_proxies_are_read_as_http_errors() -> None:
    from tracemine.detect.outcome import http_error_text

    for name, page in ERROR_PAGES.items():
        html, code = page if isinstance(page, tuple) else (page, 500)
        failure = http_error_text(html)
        assert failure is not None, name
        assert (f"HTTP {code}:" in failure.reason) if code else not failure.reason.startswith("HTTP"), name
    for title in ("How to fix a 502 Bad Gateway error", "Troubleshooting | 500 errors in the API",
                  "Error handling in Go", "Our error budget policy"):
        assert http_error_text(f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>") \
            is None, title


def test_an_error_that_rejects_one_of_the_calls_own_arguments_by_name_is_an_argument_error() -> None:
    from tracemine.detect.builtin.argument_error import names_rejected_argument

    assert names_rejected_argument("unknown_trade", {"trade": "heating-engineer"}) == "unknown_trade"
    assert names_rejected_argument("Invalid team slug", {"team_slug": "sre"})
    assert names_rejected_argument("category is not supported", {"category": "water-damage"})
    assert names_rejected_argument("policy PL-1 not found", {"policy": "PL-1"}) is None  # a miss, not a rejection
    assert names_rejected_argument("an unexpected error", {"error": "x"}) is None  # generic words name nothing
    assert names_rejected_argument("unknown_trade", {"postcode": "1012AB"}) is None  # not this call's argument
    run = Run()
    bad = run.call("search_vendors", {"trade": "Heating Engineer", "postcode": "1012AB"},
                   {"ok": False, "error": "unknown_trade", "detail": "Heating Engineer"})
    (signal,) = detect(ArgumentErrorDetector(), run)
    assert signal.span_ids[0] == bad and signal.evidence["mechanisms"] == ["validation_error_result"]
    assert detect(SilentFailureDetector(), run) == []  # left to argument_error: one finding, not two


def test_a_value_respelled_after_a_rejection_is_a_corrected_argument_even_after_not_found() -> None:
    run = Run()
    bad = run.call("search_vendors", {"trade": "heating-engineer", "postcode": "1012AB"},
                   {"detail": "404: trade heating-engineer not found"}, Status.ERROR,
                   "404: trade heating-engineer not found")
    run.call("search_vendors", {"trade": "heating_engineer", "postcode": "1012AB"}, {"vendors": [{"id": "V-1"}]})
    (signal,) = detect(ArgumentErrorDetector(), run)
    assert signal.span_ids[0] == bad and signal.evidence["mechanisms"] == ["corrected_after_rejection"]
    # another value after a not-found is the next item: the user gave two numbers
    other = Run()
    other.call("get_unit", {"unit_id": "U-10442"}, {"detail": "unit U-10442 not found"}, Status.ERROR,
               "unit U-10442 not found")
    other.call("get_unit", {"unit_id": "U-10424"}, {"unit_id": "U-10424", "floor": 2})
    assert detect(ArgumentErrorDetector(), other) == []


def test_a_latency_many_times_the_median_is_an_outlier_even_in_a_window_full_of_spikes() -> None:
    """Usual latencies spread 150–1500 ms and a quarter of the window's calls took 40–95 s: the spread and
    the spikes hold the robust z to 3.4–4.1 (below 5), yet each spike is ≥ 40× the median."""
    import random

    from tracemine.detect.builtin.outlier import OutlierDetector

    rng = random.Random(7)
    views = []
    for i in range(120):
        spike = i % 4 == 0
        ms = rng.randint(40_000, 95_000) if spike else rng.randint(150, 1500)
        spans = [Span(trace_id=f"t{i}", span_id=f"r{i}", name="agent", kind=SpanKind.AGENT, start_ns=0,
                      end_ns=(ms + 10) * MS),
                 Span(trace_id=f"t{i}", span_id=f"c{i}", parent_span_id=f"r{i}", name="get_balance",
                      kind=SpanKind.TOOL, start_ns=MS, end_ns=(ms + 1) * MS, tool_name="get_balance",
                      tool_arguments='{"account": "acc_1"}', tool_result='{"balance": 12.5}')]
        views.append(TraceView.build(Trace(f"t{i}", spans)))
    detector = OutlierDetector()
    flagged = {s.trace_id for s in detect_window(detector, views)}
    assert flagged == {f"t{i}" for i in range(0, 120, 4)}


def test_back_to_back_searches_in_other_words_told_the_same_events_are_a_loop() -> None:
    """The wordings share no word ("heating down", "BOILER-2 error"), the hits come back re-ranked with new
    scores and the resolved time window moves; the events never change: no new information, a loop. Other
    numbers (another device, another day) are another question."""
    events = [{"ts": "2025-04-08T04:27:08Z", "device": "BOILER-1", "level": "WARN", "msg": "burner lockout"},
              {"ts": "2025-04-08T18:25:24Z", "device": "CIRC-PUMP-3", "level": "INFO", "msg": "pump restarted"}]
    run = Run(answer="The event log doesn't show what went wrong.")
    for n, q in enumerate(["BOILER-2 error", "device:BOILER-2 level:ERROR", "heating down", "why no heat tonight"]):
        hits = [{**e, "_score": round(8.1 - 3.3 * i + 0.7 * n, 4)} for i, e in enumerate(events)]
        hits.sort(key=lambda h: -h["_score"] if n % 2 else h["_score"])
        run.call("search_event_log", {"q": q, "building_id": "PRG-401"},
                 {"query": {"text": q, "from": f"2025-04-08T05:0{n}:11Z"}, "total": 2, "hits": hits})
    (signal,) = detect(LoopDetector(), run)
    assert signal.evidence["repeats"] == 4
    other = Run(answer="Nothing about either device.")
    for q in ("BOILER-2 error", "BOILER-3 error", "PUMP-4 error"):
        other.call("search_event_log", {"q": q, "building_id": "PRG-401"}, {"total": 2, "hits": events})
    assert detect(LoopDetector(), other) == []


def test_an_empty_answer_in_the_tools_second_shape_is_not_a_failure() -> None:
    """A tool answering in two shapes (two backends): an empty answer in the less common one is still the
    tool's own "nothing found", not a foreign body."""
    detector = SilentFailureDetector()
    views = []
    for k in range(60):
        run = Run(answer="Here is what I found.")
        body = ({"matched": 2, "events": [{"id": k}, {"id": k + 1}]} if k % 3 else
                {"total": 2, "max_score": 3.5, "hits": [{"id": k}]})
        run.call("search_event_log", {"q": f"boiler {k}"}, body)
        views.append(run.view())
    empty = Run(answer="No errors; the boiler only logged routine events.")
    empty.call("search_event_log", {"q": "level:ERROR heating"}, {"total": 0, "max_score": None, "hits": []})
    empty.call("search_event_log", {"q": "heating"}, {"total": 1, "max_score": 2.0, "hits": [{"id": 7}]})
    views.append(empty.view())
    assert detect_window(detector, views) == []


def test_an_empty_answer_in_a_foreign_shape_is_an_answer_when_the_agent_takes_it_as_nothing_found() -> None:
    """A log search that usually answers ``{"lines": [...]}`` answers ``[]``: reported to the user as nothing
    found, it was believed and handled; carried on as if data came back, it is a silent failure (a next
    search for something else is no sign either way)."""
    def judge(answer: str, broaden: bool) -> list[Signal]:
        detector = SilentFailureDetector()
        views = []
        for k in range(40):
            run = Run(answer="Here is what the logs show.")
            run.call("query_logs", {"q": f"timeout api-{k}"}, {"lines": [f"api-{k} timeout after 30s"]})
            views.append(run.view())
        probe = Run(answer=answer)
        probe.call("query_logs", {"q": "oom killer payments"}, [])
        if broaden:
            probe.call("query_logs", {"q": "payments"}, {"lines": ["payments restarted"]})
        views.append(probe.view())
        return detect_window(detector, views)

    assert judge("I couldn't find any OOM events for payments in the logs.", broaden=False) == []
    (signal,) = judge("The payments service is healthy.", broaden=False)
    assert signal.evidence["mechanism"] == "empty_result"
    assert len(judge("Payments restarted once; nothing else.", broaden=True)) == 1


def test_looking_further_back_or_asking_for_more_with_the_same_answer_is_a_loop() -> None:
    """A log search re-run with a wider relative window (``15m`` → ``1h`` → ``last 24 hours``) and a larger
    limit, told the same lines each time; a cursor or an offset that moves is paging, never this."""
    lines = {"lines": ["10:02:11 ERROR payments pool exhausted", "10:02:19 WARN payments retrying"]}
    run = Run(answer="The logs only show the pool warnings.")
    for q, window, limit in (("payments errors", "15m", 20), ("errors in payments", "1h", 50),
                             ("payments error logs", "last 24 hours", 100)):
        run.call("search_logs", {"query": q, "window": window, "limit": limit}, lines)
    (signal,) = detect(LoopDetector(), run)
    assert signal.evidence["repeats"] == 3
    pages = Run(answer="Done.")
    for q, offset in (("payments errors", 0), ("errors in payments", 50), ("payments error logs", 100)):
        pages.call("search_logs", {"query": q, "offset": offset}, lines)
    assert detect(LoopDetector(), pages) == []


SDK_REJECTIONS = ["Invalid category: Water Damage", "Unsupported category 'Water Damage'",
                  "Bad Request: unknown payout category 'Water Damage'", "HTTP 400: category invalid",
                  "expected one of ['water_damage', 'fire'] for category, got 'Water Damage'",
                  "error: value 'Water Damage' not allowed for field category"]


@pytest.mark.parametrize("message", SDK_REJECTIONS)
def test_a_rejection_returned_as_text_with_no_error_status_is_an_argument_error(message: str) -> None:
    """Agent SDKs hand a tool's error back to the model as its result, status unset: a short text that
    rejects one of the call's own arguments by name is an argument error, corrected or not."""
    for corrected in (True, False):
        run = Run(answer="Estimate created." if corrected else "I could not create the estimate.")
        run.call("estimate_payout", {"claim_id": "CLM-1001", "category": "Water Damage"}, message)
        if corrected:
            run.call("estimate_payout", {"claim_id": "CLM-1001", "category": "water_damage"}, {"estimate": 1200})
        (signal,) = detect(ArgumentErrorDetector(), run)
        assert signal.span_ids == ["c2"]


def test_a_miss_corrected_by_respelling_is_an_argument_error_but_a_checking_tools_verdict_is_data() -> None:
    run = Run(answer="Alerts listed.")
    run.call("list_alerts", {"team_slug": "Platform Team"}, "No team with slug 'Platform Team'")
    run.call("list_alerts", {"team_slug": "platform-team"}, {"alerts": [{"id": "A-1"}]})
    (signal,) = detect(ArgumentErrorDetector(), run)
    assert "corrected_after_rejection" in signal.evidence["mechanisms"]
    other = Run(answer="Alerts listed for the other team.")
    other.call("list_alerts", {"team_slug": "platform-team"}, "No team with slug 'platform-team'")
    other.call("list_alerts", {"team_slug": "payments-team"}, {"alerts": [{"id": "A-2"}]})
    assert detect(ArgumentErrorDetector(), other) == []  # another team after a miss: the next item
    again = Run(answer="No hotels in Berlin for those dates.")
    for city in ("Berlin", "Berlin?", '"Berlin"'):
        again.call("search_hotels", {"city": city, "guests": 3}, {"hotels": []})
    assert detect(ArgumentErrorDetector(), again) == []  # respelled and still nothing: no correction
    verdict = Run(answer="That postcode is not valid; please check it.")
    verdict.call("validate_address", {"postcode": "XX1"}, "Invalid postcode: XX1")
    assert detect(ArgumentErrorDetector(), verdict) == []


def test_a_search_whose_summary_quotes_each_wording_and_finds_the_same_lines_is_a_loop() -> None:
    lines = ["10:02:11 ERROR payments pool exhausted", "10:02:19 WARN payments retrying"]
    run = Run(answer="Only pool warnings in the logs.")
    for q in ("payments errors", "errors in payments service", "payment failures"):
        run.call("search_logs", {"query": q}, {"summary": f"2 lines matching \"{q}\" in the last hour",
                                               "lines": lines})
    (signal,) = detect(LoopDetector(), run)
    assert signal.evidence["repeats"] == 3


def test_nothing_found_reported_after_a_failed_call_underneath_is_still_a_silent_failure() -> None:
    """The search's HTTP call failed (500) and the tool answered an empty list; the agent told the user
    nothing was found. The miss is explained by the failure: a silent failure, not a handled miss."""
    run = Run(answer="I found no recent sources on sparse mixture of experts.")
    tool_id = run.call("web_search", {"query": "sparse mixture of experts latest"}, {"results": [], "page": 1})
    run.spans.append(Span(trace_id="g", span_id="http", parent_span_id=tool_id, name="GET", kind=SpanKind.OTHER,
                          start_ns=run.clock + MS, end_ns=run.clock + 2 * MS, status=Status.ERROR,
                          status_message="500 Internal Server Error"))
    (signal,) = detect(SilentFailureDetector(), run)
    assert signal.evidence["mechanism"] == "swallowed_child_error"
    clean = Run(answer="I found no recent sources on sparse mixture of experts.")
    clean.call("web_search", {"query": "sparse mixture of experts latest"}, {"results": [], "page": 1})
    assert detect(SilentFailureDetector(), clean) == []


def test_a_miss_reported_later_counts_for_the_call_it_names() -> None:
    from tracemine.detect.outcome import reports_miss

    run = Run(answer="I found no flights MEX→BER that day; hotels: Nordic Light Hotel.")
    run.call("get_weather", {"city": "Berlin", "date": "2027-01-19"}, {"results": []})
    run.call("search_flights", {"origin": "MEX", "destination": "BER"}, {"flights": []})
    run.call("search_hotels", {"city": "Berlin"}, {"hotels": [{"name": "Nordic Light Hotel"}]})
    view = run.view()
    weather, flights, _ = view.tool_calls
    assert not reports_miss(view, weather)  # the final answer's miss is about flights
    assert reports_miss(view, flights)  # it names MEX and BER
    asked = Run(answer="Booked.")
    asked.call("get_unit", {"unit_id": "U-12345"}, {"unit": None})
    asked.llm("There's no unit U-12345 on record; which address is it?")
    asked.call("get_unit", {"unit_id": "U-12346"}, {"unit": {"id": "U-12346"}})
    view = asked.view()
    assert reports_miss(view, view.tool_calls[0])  # said right after the call


def test_an_empty_answer_retried_identically_and_told_the_same_is_confirmed() -> None:
    """A search that usually finds hits comes back empty; the agent asks again, identically: told the same
    nothing, the answer is confirmed; told something else, the first answer was a failure."""
    def judge(second: Any) -> list[Signal]:
        detector = SilentFailureDetector()
        views = []
        for k in range(80):
            run = Run(answer="Here are the events.")
            run.call("search_event_log", {"q": f"boiler {k}"}, {"total": 1, "hits": [{"id": k}]})
            views.append(run.view())
        probe = Run(answer="No boiler errors were logged that day.")
        probe.call("search_event_log", {"q": "level:ERROR boiler"}, {"total": 0, "hits": []})
        probe.call("search_event_log", {"q": "level:ERROR boiler"}, second)
        views.append(probe.view())
        return detect_window(detector, views)

    assert judge({"total": 0, "hits": []}) == []
    (signal,) = judge({"total": 1, "hits": [{"id": "E-1"}]})
    assert signal.evidence["mechanism"] == "empty_result"


def _log_lines(n: int) -> list[dict[str, Any]]:
    return [{"_id": f"doc-{i}", "_score": 1.5 + i / 7, "_source": {"@timestamp": f"2025-05-02T08:1{i}:00Z",
                                                                    "message": f"pick task T10{i} assigned"}}
            for i in range(n)]


def test_reworded_log_searches_whose_match_totals_and_statistics_move_are_a_loop_when_the_lines_repeat() -> None:
    """Elasticsearch-style hits, a total that depends on the wording, ``took``, and a nested time range
    that moves with the clock: the top lines never change, so nothing new was learnt. Another search
    whose lines change each time is the agent learning."""
    run = Run(answer="The logs show only routine entries.")
    for n, q in enumerate(["pick failed", "scanner dropped task", "why picks fail", "stalled wave"]):
        run.call("query_logs", {"query": q, "site": "AMS1",
                                "time_range": {"from": f"2025-05-02T0{n}:00:00Z", "to": f"2025-05-02T1{n}:00:00Z"}},
                 {"took": 40 + n, "hits": {"total": {"value": 12 + 37 * n}, "hits": _log_lines(3)}})
    (signal,) = detect(LoopDetector(), run)
    assert signal.evidence["repeats"] == 4
    learning = Run(answer="Scanner SC-1 dropped its session.")
    for n, q in enumerate(["pick failed", "scanner dropped task", "why picks fail"]):
        learning.call("query_logs", {"query": q, "site": "AMS1"},
                      {"took": 40 + n, "hits": {"total": {"value": 3 + n}, "hits": _log_lines(3 + n)}})
    assert detect(LoopDetector(), learning) == []


def test_a_poll_whose_list_stays_but_whose_state_moves_is_not_a_loop() -> None:
    """Only the envelope's numbers may differ for items to count as the same answer: a state word changing
    beside an unchanged list is progress."""
    run = Run()
    for n, state in enumerate(["queued", "running", "done"]):
        run.call("get_job", {"job": "J-1", "note": ["check again please", "is it done yet", "status now"][n]},
                 {"state": state, "steps": ["fetch", "parse"], "progress": 10 * n})
    assert detect(LoopDetector(), run) == []


def test_plain_text_log_answers_with_relative_times_and_other_totals_are_a_loop() -> None:
    run = Run(answer="Nothing useful in the logs.")
    for n, q in enumerate(["pick failed", "scanner dropped task", "error picking"]):
        lines = [f"[{3 + 2 * n + i}m ago] INFO  pick task T10{i} assigned to scanner SC-{i}" for i in range(3)]
        run.call("query_logs", {"query": q, "site": "AMS1"}, f"Showing 3 of {40 + 9 * n} matching lines:\n"
                 + "\n".join(lines))
    (signal,) = detect(LoopDetector(), run)
    assert signal.evidence["repeats"] == 3


def test_reworded_searches_with_a_side_check_between_them_are_one_loop() -> None:
    run = Run(answer="Could not find the cause.")
    for n, q in enumerate(["pick failed", "scanner dropped task", "why picks fail", "stalled wave"]):
        run.call("query_logs", {"query": q, "site": "AMS1"}, {"took": n, "total": 9 + n, "hits": _log_lines(2)})
        if n == 1:
            run.call("get_stock", {"sku": "FAS-12345"}, {"available": 4})
    (signal,) = detect(LoopDetector(), run)
    assert signal.evidence["repeats"] == 4


def test_a_final_answer_saying_something_else_timed_out_is_not_the_run_timing_out() -> None:
    said = Run(answer="Scanner SC-104 dropped its session at 09:12; picks assigned to it timed out.")
    said.call("query_logs", {"query": "scanner"}, {"hits": _log_lines(2)})
    assert [s for s in detect(SilentFailureDetector(), said) if s.evidence.get("mechanism") == "timeout_exit"] == []
    ran_out = Run(answer="Run timed out after 300s; returning partial results.")
    ran_out.call("query_logs", {"query": "scanner"}, {"hits": _log_lines(2)})
    assert [s.evidence["mechanism"] for s in detect(SilentFailureDetector(), ran_out)] == ["timeout_exit"]


def test_an_error_page_under_an_ok_span_is_silent_even_when_the_agent_then_gives_up() -> None:
    """A server's error page hidden by an OK status is the silent failure of rule 4 whatever the agent did
    next; an error message in the body (a status in words) that the agent gave up on stays unrecovered."""
    from tracemine.detect.builtin.unrecovered_error import UnrecoveredErrorDetector

    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>nginx</body></html>"
    gave_up = Run(answer="Sorry, I couldn't attach the document, the upload service failed.")
    span = gave_up.call("attach_document", {"claim": "CLM-1", "file": "photo.jpg"}, page)
    [signal] = _silent(gave_up)
    assert signal.span_ids[0] == span and signal.evidence["mechanism"] == "error_page"
    assert detect(UnrecoveredErrorDetector(), gave_up) == []
    said = Run(answer="I apologise — I can't reach the document store. Please retry later.")
    said.call("attach_document", {"claim": "CLM-1", "file": "photo.jpg"}, "503 Service Unavailable: maintenance window")
    assert _silent(said) == [] and len(detect(UnrecoveredErrorDetector(), said)) == 1


@pytest.mark.parametrize("said", [
    "There are no open claims on that policy.", "I don't see any incidents for that service.",
    "Nothing in the logs matches that.", "The policy has no open claims.", "No open incidents right now.",
    "I wasn't able to find that order.", "The search came back empty.", "None of the runbooks match.",
])
def test_the_agent_telling_the_user_nothing_was_found_in_everyday_words_is_recognised(said: str) -> None:
    from tracemine.detect.outcome import _TELLS_MISS

    assert _TELLS_MISS.search(said)
    for data in ("I found two matching claims.", "The deployment has 3 replicas.", "Your claim was paid."):
        assert not _TELLS_MISS.search(data)


def test_a_failure_the_agent_reports_after_alerting_someone_is_unrecovered_not_silent() -> None:
    """Work after the failure that is no retry of it (paging the on-call) does not make it silent when the
    agent said right away that it failed and so does the final answer. Carried on from as if it worked, it
    is silent — even when a later, unrelated part of the run ends in an apology."""
    from tracemine.detect.builtin.unrecovered_error import UnrecoveredErrorDetector

    reported = Run(answer="The rollback of payments failed, so I paged the on-call engineer.")
    span = reported.call("rollback", {"service": "payments", "to": "v41"}, {"ok": False, "error": "helm: timed out"})
    reported.llm("The rollback failed (helm timed out). Paging the payments on-call.")
    reported.call("page_oncall", {"team": "payments", "text": "rollback failed"}, {"paged": True})
    assert _silent(reported) == []
    [signal] = detect(UnrecoveredErrorDetector(), reported)
    assert signal.span_ids[0] == span
    hidden = Run(answer="Rolled payments back to v41 and told the on-call.")
    hidden.call("rollback", {"service": "payments", "to": "v41"}, {"ok": False, "error": "helm: timed out"})
    hidden.call("page_oncall", {"team": "payments", "text": "rolled back"}, {"paged": True})
    assert len(_silent(hidden)) == 1 and detect(UnrecoveredErrorDetector(), hidden) == []
    later_apology = Run(answer="Sorry, I couldn't find why payments was slow.")
    later_apology.call("rollback", {"service": "payments", "to": "v41"}, {"ok": False, "error": "helm: timed out"})
    later_apology.llm("Rolled back. Now looking into the latency.")
    later_apology.call("search_logs", {"q": "payments latency"}, {"lines": ["GET /pay 200 12ms"]})
    assert len(_silent(later_apology)) == 1 and detect(UnrecoveredErrorDetector(), later_apology) == []


def test_a_display_name_replaced_by_the_identifier_it_spells_out_after_a_miss_is_a_corrected_argument() -> None:
    """``Payments Team`` → ``payments`` after "not found", even with a lookup of the valid values between:
    the agent passed a name where the identifier belongs. A shorter search query after a miss is another
    question."""
    run = Run(answer="3 alerts are open for payments.")
    span = run.call("list_alerts", {"team_slug": "Payments Team", "state": "open"}, "team 'Payments Team' not found")
    run.call("list_teams", {}, {"teams": [{"slug": "payments", "name": "Payments Team"}]})
    run.call("list_alerts", {"team_slug": "payments", "state": "open"}, {"alerts": [{"id": "AL-1"}]})
    [signal] = _arguments(run)
    assert signal.span_ids[0] == span and "corrected_after_rejection" in signal.evidence["mechanisms"]
    trimmed = Run(answer="3 alerts are open for payments.")
    trimmed.call("list_alerts", {"team_slug": "payments-team"}, "team 'payments-team' not found")
    trimmed.call("list_alerts", {"team_slug": "payments"}, {"alerts": [{"id": "AL-1"}]})
    assert len(_arguments(trimmed)) == 1
    search = Run(answer="Found Acme.")
    search.call("search_customers", {"query": "Acme Corporation Ltd", "country": "NL"}, "no customer found")
    search.call("search_customers", {"query": "acme", "country": "NL"}, {"customers": [{"id": "C-1"}]})
    assert _arguments(search) == []


def test_a_value_respelled_only_in_letter_case_after_a_miss_is_corrected_and_no_duplicate_write() -> None:
    from tracemine.detect.builtin.duplicate_call import DuplicateCallDetector

    run = Run(answer="REQ-1 is live on Otta.")
    span = run.call("post_job_ad", {"requisition_id": "REQ-1", "board": "Otta"}, "No job board named 'Otta'")
    run.call("post_job_ad", {"requisition_id": "REQ-1", "board": "otta"}, {"ad_id": "ad_1", "status": "live"})
    [signal] = _arguments(run)
    assert signal.span_ids[0] == span and signal.evidence["changed_fields"] == ["board"]
    assert detect(DuplicateCallDetector(), run) == []
    body = Run(answer="REQ-1 is live on Himalayas.")
    body.call("post_job_ad", {"requisition_id": "REQ-1", "board": "Himalayas Remote"},
              {"ok": False, "error": "No job board named 'Himalayas Remote'"})
    body.call("list_job_boards", {}, {"boards": [{"slug": "himalayas", "name": "Himalayas Remote"}]})
    body.call("post_job_ad", {"requisition_id": "REQ-1", "board": "himalayas"}, {"ad_id": "ad_2", "status": "live"})
    assert len(_arguments(body)) == 1 and _silent(body) == []  # one finding: the argument's, not also silent


def _lc(kind: str, content: str, **extra: Any) -> dict[str, Any]:
    return {"lc": 1, "type": "constructor", "id": ["langchain", "schema", "messages", kind],
            "kwargs": {"content": content, "type": {"AIMessage": "ai", "ToolMessage": "tool",
                                                    "HumanMessage": "human"}[kind], **extra}}


def test_a_langgraph_final_state_is_read_as_its_last_ai_message() -> None:
    """A retried tool timeout inside the conversation is no statement that the run timed out."""
    from tracemine.detect.outcome import final_answer

    state = {"messages": [_lc("HumanMessage", "Email the candidate."),
                          _lc("ToolMessage", "Error: TimeoutError('SMTP relay timeout')\n Please fix your mistakes."),
                          _lc("ToolMessage", '{"queued": true}'), _lc("AIMessage", "The invitation is on its way.")]}
    run = Run(answer=orjson.dumps(state).decode())
    run.call("send_email", {"to": "a@example.com"}, {"queued": True})
    assert final_answer(run.view()) == "The invitation is on its way."
    assert [s for s in _silent(run) if s.evidence.get("mechanism") == "timeout_exit"] == []


def test_identical_replies_whose_token_counts_differ_are_an_llm_loop() -> None:
    run = Run()
    for n in range(3):
        result = {"generations": [[{"text": "Let me check the calendar for that day.", "message": _lc(
            "AIMessage", "Let me check the calendar for that day.",
            usage_metadata={"input_tokens": 900 + 40 * n, "output_tokens": 12, "total_tokens": 912 + 40 * n})}]],
            "llm_output": {"token_usage": {"prompt_tokens": 900 + 40 * n, "completion_tokens": 12}}}
        run.llm(orjson.dumps(result).decode())
    [signal] = detect(LoopDetector(), run)
    assert signal.evidence["repeats"] == 3


def test_an_empty_answer_in_a_foreign_shape_is_no_sign_when_the_agents_reaction_is_not_on_record() -> None:
    """Model turns exported without content (OpenAI Agents SDK ``response`` spans) hide whether the agent
    took an empty answer as "nothing found": no silent failure either way."""
    def judge(reaction: str | None) -> list[Signal]:
        detector = SilentFailureDetector()
        views = []
        for k in range(40):
            run = Run(answer="Here is what the logs show.")
            run.call("query_logs", {"q": f"timeout api-{k}"}, {"lines": [f"api-{k} timeout after 30s"]})
            views.append(run.view())
        probe = Run(answer=None)
        probe.call("query_logs", {"q": "oom killer payments"}, [])
        probe.llm(reaction)  # type: ignore[arg-type]
        views.append(probe.view())
        return detect_window(detector, views)

    assert judge(None) == []
    (signal,) = judge("The payments service is healthy.")
    assert signal.evidence["mechanism"] == "empty_result"


# --- partly failed batch writes ---------------------------------------------------------------------------


def test_a_batch_write_that_partly_failed_while_the_agent_claimed_it_done_is_a_silent_failure() -> None:
    """Counts or lists of failed items, or per-item outcomes of which some failed, in any common shape."""
    bodies = [{"sent": 31, "failed": 4, "failures": [{"unit_id": "U-10041", "reason": "invalid phone number"}]},
              {"delivered": 9, "undeliverable": [{"unit_id": "U-10041", "reason": "opted out"}]},
              {"accepted": 10, "rejected": 2},
              {"batch_id": "nb_1", "results": [{"unit_id": "U-10041", "status": "failed", "error": "mailbox full"},
                                               {"unit_id": "U-20817", "status": "delivered"}]}]
    for body in bodies:
        run = Run(answer="All tenants of KGR-12 have been notified.")
        write = run.call("notify_building_tenants", {"building_id": "KGR-12", "message": "Water off at 9."}, body)
        [signal] = _silent(run)
        assert signal.span_ids[0] == write and signal.evidence["mechanism"] == "partial_failure", body


def test_a_partly_failed_batch_write_the_agent_reported_or_retried_is_handled() -> None:
    body = {"sent": 31, "failed": 2, "failures": [{"unit_id": "U-10041", "reason": "invalid phone number"},
                                                 {"unit_id": "U-20817", "reason": "mailbox full"}]}
    for answer in ("31 of 33 tenants got the notice; 2 couldn't be reached (U-10041, U-20817).",
                   "Notice sent, but 2 tenants didn't receive it. Want me to try e-mail for them?"):
        run = Run(answer=answer)
        run.call("notify_building_tenants", {"building_id": "KGR-12", "message": "Water off at 9."}, body)
        assert _silent(run) == [], answer
    run = Run(answer="Everyone has the notice now.")
    run.call("notify_building_tenants", {"building_id": "KGR-12", "message": "Water off at 9."}, body)
    run.call("notify_building_tenants", {"units": ["U-10041", "U-20817"], "message": "Water off at 9.",
                                         "channel": "email"}, {"sent": 2, "failed": 0, "failures": []})
    assert _silent(run) == []  # the failed items, retried (another channel)
    # a read's failure count is data about the world, not a failed call
    run = Run(answer="The last campaign reached 120 tenants; 3 messages failed.")
    run.call("get_campaign_stats", {"campaign_id": "cmp_0042"}, {"sent": 120, "failed": 3})
    assert _silent(run) == []


def test_a_write_resent_with_a_fresh_idempotency_key_is_a_duplicate() -> None:
    """Tokens a client mints for every request (idempotency keys, request and correlation ids, nonces) do
    not make two requests for the same thing different; references such as an order or message id do."""
    from tracemine.detect.args import per_request_token

    for key, values in (("idempotency_key", ["ntf-8f2a", "ntf-93bd"]), ("Idempotency-Key", ["a1", "b2"]),
                        ("client_request_id", ["6f1c2d9e", "0a9b8c7d"]), ("nonce", ["n1", "n2"])):
        run = Run(answer="Payment recorded.")
        for value in values:
            run.call("record_payment", {"invoice_id": "INV-2025-0042", "amount": 120.0, key: value},
                     {"payment_id": f"pay_{value}", "status": "recorded"})
        assert len(_duplicates(run)) == 1, key
    run = Run(answer="Replied to both messages.")
    for message in ("msg_1", "msg_2"):
        run.call("reply_to_message", {"message_id": message, "text": "Thanks, noted."}, {"sent": True})
    assert _duplicates(run) == []
    assert [k for k in ("idempotency_key", "x-correlation-id", "trace_id", "order_id", "client_id", "message_id",
                        "session_token") if per_request_token(k)] == ["idempotency_key", "x-correlation-id", "trace_id"]
