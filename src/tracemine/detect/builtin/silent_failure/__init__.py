"""``silent_failure``: work that failed while the span status says OK (or nothing).

Per tool call (and per nested agent span) whose status is not an explicit ERROR, in priority order:

- the result reports failure (:func:`tracemine.detect.outcome.result_failure`): ``success_false``,
  ``http_status`` (≥ 400), ``status_field`` (failed/error…), ``error_in_result`` (a non-empty error key),
  ``error_text`` (the result *starts* with ``Error:``, a traceback, ``ValueError:``…) — except an error
  that says "there is no such thing" (a not-found code or message, HTTP 404/410): that is an answer,
  judged by ``ignored_not_found`` below;
- ``partial_failure``: a *write* whose batch result says some items failed (a failed/rejected count or
  list, per-item outcomes of which some failed: :func:`tracemine.detect.outcome.partial_failure`) while
  the agent neither called the tool again nor told the user what did not get done (for a read, a
  failure count is data);
- ``exception_event``: the span recorded an exception event;
- ``swallowed_child_error``: a descendant span is in ERROR (and was not retried successfully) under a span
  that reports success and whose result does not mention it;
- ``error_page`` / ``http_status`` in text: the body's *own* HTTP status — a leading ``HTTP/1.1 503`` line,
  the title or ``<h1>`` of a short HTML page, a short body that is essentially ``Service Unavailable`` —
  never a long page or prose that merely mentions errors (:func:`tracemine.detect.outcome.http_error_text`);
- ``empty_result``: an empty result is a valid answer ("nothing found") and alone is never a signal. It
  is flagged only when BOTH the window shows the tool normally returns data (non-empty in at least
  ``empty_min_nonempty_share`` of at least ``empty_min_calls`` other calls; for an empty in the tool's usual
  shape ``empty_usual_shape_min_nonempty_share`` and a binomial test against ``empty_legit_rate``) AND
  something corroborates a failure: the body is bare or foreign (``{}``, ``""``, ``null`` or unfamiliar
  keys from a tool whose answers have a known shape — its "nothing found" answer would keep that shape),
  or the agent immediately repeated the identical call (it did not believe the answer) — telling the user
  nothing was found is how a legitimately empty answer is handled, so it corroborates nothing. Tools that
  are often legitimately empty are never flagged.

Per trace: ``ignored_not_found`` — a lookup answered not found / null / no such entity / empty (a valid
answer on its own) and the agent then *used* the value it failed to find: an identifier-like argument
value of the lookup appears in a later write's arguments (another tool), with no call in between having
returned it. Looking the value up elsewhere (a read) is handling the miss. Both spans are cited
(severity ``severity_ignored_not_found``). A not-found the agent handles (asks the user, stops, reports
it) never uses the value, so it is not a failure: a lookup whose result means "nothing there" in any form
(null, empty, ``found: false``, HTTP 404/410, a not-found message naming nothing) is no signal at all when
a later model turn or the final answer tells the user nothing was found (``handled_miss_is_answer``). A
write told "no such thing" failed — its change did not happen — unless the agent told the user so (the
request named something that does not exist, and the agent handled it).

Per agent span that is not in ERROR: ``timeout_exit`` / ``max_turns_exit`` (its output, status message,
exit-reason attributes or events say the run stopped on a time or turn limit), an exception event on the
agent span, an error text as the agent's output, and errors of non-step child spans swallowed at the agent
level. Results that say the *call* was malformed (validation errors, unknown tools, HTTP 400/422) are
left to ``argument_error`` unless ``defer_argument_errors`` is false. A failure reported in the body and
retried with the same arguments successfully by the next call of the tool was transient: no signal; one
the agent gave up on (the last failing call, its tool not tried again, a final answer admitting failure)
was not silent: ``unrecovered_error`` reports it (``defer_admitted``) — unless the body is a server's error page,
which under an OK span is a silent failure whatever the agent did next. Calls inside a tool loop (the same
call answered the same way again and again, :mod:`tracemine.detect.builtin.loop`) are left to the loop detector,
whose finding names their error (``defer_loops``); a lookup whose not-found was then used is judged
once, as ``ignored_not_found``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from tracemine.detect.actions import loop_span_ids
from tracemine.detect.base import Detector
from tracemine.detect.builtin.argument_error import corrected_by_respelling, rejects_arguments, short_value
from tracemine.detect.builtin.loop import LoopDetectorParams
from tracemine.detect.builtin.silent_failure.evidence import SilentFailureEvidence
from tracemine.detect.outcome import (
    EMPTY,
    HAS_DATA,
    PAGE_FAILURES,
    Failure,
    ResultBaseline,
    arg_values,
    binomial_cdf,
    call_failure,
    emptiness,
    error_description,
    exception_events,
    excerpt,
    explicit_error,
    final_answer,
    gave_up_after,
    is_argument_rejection,
    lookup_miss,
    norm_key,
    not_found_failure,
    output_text,
    partial_failure,
    reaction_hidden,
    reported_status,
    reports_miss,
    reports_miss_next,
    result_failure,
    says_missing,
    tells_partial_failure,
    turns_after,
)
from tracemine.detect.schema_infer import walk
from tracemine.detect.tool_roles import is_write_tool, words
from tracemine.detect.view import ToolCall, TraceView
from tracemine.ingest.decode import decode_value
from tracemine.model import Severity, Signal, Span, SpanKind, Status, span_order_key


class SilentFailureParams(BaseModel):
    """``detect.silent_failure`` (and ``detect.loop``, read to leave calls inside loops to the loop detector).

    An empty result needs the window (the tool returned data this often…) and corroboration: a bare or
    foreign body, an immediate identical retry, or a final answer admitting failure."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True, validate_default=True)

    empty_min_nonempty_share: float = Field(0.9, ge=0, le=1, description="flag a bare empty result ([] {} \"\" "
                                            "null) when the tool returned data this often…")
    empty_min_calls: int = Field(20, ge=1, description="…over at least this many other calls in the window")
    empty_usual_shape_min_nonempty_share: float = Field(0.98, ge=0, le=1, description="stricter for empties in "
                                                        "the tool's usual \"nothing found\" shape")
    empty_legit_rate: float = Field(0.05, ge=0, le=1, description="binomial test: a legitimate-empty rate this "
                                    "high must be implausible…")
    empty_alpha: float = Field(0.05, ge=0, le=1, description="…at this significance")
    check_exception_events: bool = Field(True, description="exception events on an OK span are failures")
    check_swallowed_children: bool = Field(True, description="a failed child under an OK parent is swallowed")
    check_exits: bool = Field(True, description="timeouts and max-turn exits reported as OK")
    defer_argument_errors: bool = Field(True, description="results reporting malformed calls are argument_error's")
    severity: Severity = Field(Severity.MEDIUM, description="severity of a silent failure of a read")
    severity_recovered: Severity = Field(Severity.LOW, description="a read failure followed by a successful call "
                                         "of the tool")
    severity_write: Severity = Field(Severity.HIGH, description="severity of a silent failure of a write")
    severity_agent: Severity = Field(Severity.HIGH, description="severity of a run or sub-agent reported OK")
    check_ignored_not_found: bool = Field(True, description="a lookup found nothing and a later call used the "
                                          "looked-up value")
    handled_miss_is_answer: bool = Field(True, description="a lookup that found nothing (404, null, empty) which "
                                         "the agent reported is an answer")
    severity_ignored_not_found: Severity = Field(Severity.HIGH, description="severity of an ignored not-found")
    defer_loops: bool = Field(True, description="calls inside a tool loop are left to the loop detector")
    defer_admitted: bool = Field(True, description="a reported failure the agent then gave up on is "
                                 "unrecovered_error's")
    loop: LoopDetectorParams = Field(default_factory=LoopDetectorParams, description="the loop detector's settings")

REPORTED_FAILURE = frozenset({"success_false", "http_status", "status_field", "error_in_result", "error_text",
                              "error_page"})
"""Mechanisms where the result itself reports the failure: one fix (propagate the failure to the span
status and make the agent check it), whatever the error says or how the body spells it."""

_WHAT = {
    "success_false": "returned success=false",
    "http_status": "returned an HTTP error status",
    "status_field": "returned a failed status",
    "error_in_result": "returned an error in its result",
    "error_text": "returned an error message as text",
    "exception_event": "recorded an exception",
    "swallowed_child_error": "swallowed the error of a child span",
    "empty_result": "returned an empty result where it normally returns data",
    "error_page": "returned an HTTP error page",
    "ignored_not_found": "found nothing, yet the agent used the value it looked up",
    "partial_failure": "reported that some of its items failed",
}

MAX_TURNS = re.compile(
    r"\bmax(?:imum)?[ _-]?(?:number[ _-]of[ _-])?(?:turns?|iterations?|steps?|rounds?)\b"
    r"|\b(?:reach(?:ed|ing)?|hit|exceed(?:ed|ing)?)\s+(?:the\s+)?max(?:imum)?\s+(?:of\s+)?\d+\s+"
    r"(?:turns?|iterations?|steps?|rounds?|tool calls?)\b"
    r"|\b(?:turn|iteration|step|recursion|round)s?[ _-]?limit\b"
    r"|\bstopped after \d+ (?:turns|iterations|steps|rounds)\b"
    r"|\bwithout (?:producing |reaching |giving )?a final answer\b"
    r"|maxturnsexceeded|too many (?:turns|iterations|steps)",
    re.IGNORECASE,
)
TIMEOUT = re.compile(
    r"\btimed[ _-]?out\b|\btime[ _-]?limit\b|\bdeadline[ _-]exceeded\b"
    r"|\btimeout (?:exceeded|reached|expired)\b|\bexecution timeout\b|\btimeout(?:error|exceeded)\b",
    re.IGNORECASE,
)
_REASON_KEY = re.compile(r"reason|exit|termination|stop|finish|outcome|cause")
_STEP_KINDS = (SpanKind.TOOL, SpanKind.LLM, SpanKind.AGENT)


class SilentFailureDetector(Detector):
    """Spans whose status is OK/unset while their result, events, children or exit show failure."""

    name = "silent_failure"
    kinds = ("silent_failure",)
    wording = "wording.j2"
    uses_window_stats = True
    reads_settings_of = ("loop",)
    params_model: ClassVar[type[SilentFailureParams]] = SilentFailureParams
    evidence_model: ClassVar[type[SilentFailureEvidence]] = SilentFailureEvidence
    params: SilentFailureParams

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.baselines: dict[str, ResultBaseline] = {}
        """tool → its results over the window"""

    # --- first pass: per-tool result emptiness --------------------------------------------------------

    def observe(self, view: TraceView) -> None:
        for call in view.tool_calls:
            level = _empty_observation(call)
            if level is not None:
                self.baselines.setdefault(call.tool, ResultBaseline()).add(call.result, level)

    def merge(self, other: Detector) -> None:
        for tool, theirs in getattr(other, "baselines", {}).items():
            self.baselines.setdefault(tool, ResultBaseline()).merge(theirs)

    # --- second pass ------------------------------------------------------------------------------------

    def detect(self, view: TraceView) -> Iterable[Signal]:
        signals: list[Signal] = []
        ignored = self._ignored_not_found(view) if self.params.check_ignored_not_found else []
        # a lookup that answered "no such thing" in any form (a message, a flag, a keyed null, a bare empty
        # body) whose value the agent then used is judged once, as that: one mistake, one finding
        lookups = {s.evidence["lookup_span_id"] for s in ignored}
        # the call that used the missing value failing in its turn is the same mistake, cited there
        lookups |= {s.evidence["later_span_id"] for s in ignored}
        in_loops = loop_span_ids(view, self.params.loop) \
            if self.params.defer_loops and len(view.tool_calls) > 2 else set()
        for call in view.tool_calls:
            if call.span.span_id in lookups or call.span.span_id in in_loops:
                continue
            found = self._judge_call(view, call)
            if found is not None:
                signals.append(found)
        signals.extend(ignored)
        root = view.root
        for span in view.trace.spans:
            is_agent = span.kind == SpanKind.AGENT or (span is root and span.kind not in (SpanKind.TOOL, SpanKind.LLM))
            if is_agent and not explicit_error(span):
                signals.extend(self._judge_agent(view, span))
        return signals

    def _judge_call(self, view: TraceView, call: ToolCall) -> Signal | None:
        span = call.span
        if explicit_error(span):
            return None  # explicit errors are not silent
        failures: list[Failure] = []
        failure = call_failure(call)
        write = is_write_tool(call.tool, view.tool_definitions.get(call.tool))
        # "there is no such thing" answers a lookup; a write that misses failed — unless the agent told the
        # user so (the entity it was asked to change does not exist: the user's mistake, handled)
        answered = not_found_failure(failure, call.result, call.args) and (not write or reports_miss(view, call))
        if self.params.handled_miss_is_answer and not answered \
                and says_missing(call.result, span.tool_result, failure, call.args) and reports_miss(view, call) \
                and not (self.params.check_swallowed_children and swallowed_errors(view, span)):
            # a lookup that found nothing, and the agent told the user so: an answer — unless a call under
            # it failed, which explains the "nothing" (the agent believed a broken tool)
            return None
        if failure is not None and not answered:
            if self.params.defer_argument_errors and (is_argument_rejection(failure, call.result)
                                                       or rejects_arguments(call)
                                                       or corrected_by_respelling(view, call)):
                return None
            failures.append(failure)
        if failure is None and write and not answered:
            partial = partial_failure(call.result)
            if partial is not None and not _partial_handled(view, call):
                failures.append(partial)
        if self.params.check_exception_events:
            failures.extend(_exception_failures(span))
        children: list[Span] = []
        if self.params.check_swallowed_children:
            children = swallowed_errors(view, span)
            if children:
                failures.append(Failure("swallowed_child_error", _child_reason(children)))
        extra: dict[str, Any] = {}
        if not failures and not answered:
            empty = self._empty_failure(call, view)
            if empty is None:
                return None
            failures.append(empty[0])
            extra = empty[1]
        if not failures:
            return None  # "there is no such thing": an answer, judged by what the agent did with it
        if failures[0].mechanism in REPORTED_FAILURE and _retried_identically(view, call):
            return None  # a transient failure the agent retried with the same arguments, successfully
        if failures[0].mechanism in REPORTED_FAILURE - PAGE_FAILURES and self.params.defer_admitted \
                and gave_up_after(view, call):
            return None  # the agent saw it and gave up: unrecovered_error's finding, not a silent one
        recovered = _later_success(view, call)
        extra["later_success"] = recovered
        if recovered and not write:
            severity = self.params.severity_recovered
        else:
            severity = self.params.severity_write if write else self.params.severity
        return self._emit(view, span, call.tool, failures, children, severity, call.result_text, write, extra)

    def _ignored_not_found(self, view: TraceView) -> list[Signal]:
        """Lookups that found nothing whose looked-up value the agent used anyway in a later call."""
        out: list[Signal] = []
        calls = view.tool_calls
        for position, call in enumerate(calls):
            if explicit_error(call.span) or call.span.tool_result is None:
                continue
            if is_write_tool(call.tool, view.tool_definitions.get(call.tool)):
                continue  # an empty acknowledgement of a write is not a lookup that found nothing
            miss = lookup_miss(call.result, call.span.tool_result, call.args)
            if miss is None or miss == "empty_list":
                continue  # an empty listing failed to find items, not the entity it was filtered by
            keys = key_values(call.args)
            if not keys:
                continue
            use = _later_use(calls, position, keys,
                             lambda c: is_write_tool(c.tool, view.tool_definitions.get(c.tool)))
            if use is None:
                continue
            later, field_name, later_field, value = use
            write = is_write_tool(later.tool, view.tool_definitions.get(later.tool))
            shown = short_value(value)
            reason = f"{call.tool} found nothing for {field_name}={shown} ({miss}); {later.tool} then used it"
            extra = {"lookup_span_id": call.span.span_id, "later_span_id": later.span.span_id, "later_tool": later.tool,
                     "value": shown, "field": field_name, "later_field": later_field, "miss": miss,
                     "later_is_write": write, "bare": _is_bare(call.result)}
            out.append(self._emit(view, call.span, call.tool, [Failure("ignored_not_found", reason)], [later.span],
                                  self.params.severity_ignored_not_found, call.result_text, write, extra,
                                  cited=[later.span]))
        return out

    def _empty_failure(self, call: ToolCall, view: TraceView | None = None) -> tuple[Failure, dict[str, Any]] | None:
        """An empty result from a tool whose other results in the window are rarely that empty (judged at
        the strict level — no data at all — then at the loose one — empty collections).

        A bare or foreign empty (``{}``, ``""``, ``null``, unfamiliar keys from a tool that returns objects
        with data) needs ``empty_min_nonempty_share`` of the other calls to have data. An empty result in
        the tool's usual shape (``{"hits": []}`` from a tool that returns ``{"hits": [...]}``) is how tools
        say "nothing found", so it needs ``empty_usual_shape_min_nonempty_share`` and other calls that make
        a legitimate empty rate of ``empty_legit_rate`` implausible (binomial tail ≤ ``empty_alpha``)."""
        level = emptiness(call.result, call.span.tool_result)
        base = self.baselines.get(call.tool)
        if level is None or level == HAS_DATA or base is None:
            return None
        well_formed = base.well_formed(call.result)
        for at in range(level, HAS_DATA, -1):
            calls, empties = base.others(at)
            if calls < self.params.empty_min_calls or calls <= 0:
                continue
            share = (calls - empties) / calls
            key = "empty_usual_shape_min_nonempty_share" if well_formed else "empty_min_nonempty_share"
            if share < getattr(self.params, key):
                continue
            if well_formed and binomial_cdf(empties, calls, self.params.empty_legit_rate) > self.params.empty_alpha:
                continue
            break
        else:
            return None
        if not well_formed and view is not None and (reports_miss_next(view, call)
                                                     or reaction_hidden(view, call)):
            # whatever its shape, the agent took it as "nothing found" and said so right after the call (a
            # next search for something else is no sign: it may be the next item) — or its model turns
            # were exported without content, so what it made of the answer cannot be read either way
            return None
        corroboration = "unusual_shape" if not well_formed else _empty_corroboration(view, call)
        if corroboration is None:
            return None  # "nothing found" in the tool's own shape, believed by the agent: a valid answer
        shown = excerpt(call.result_text, 40) or repr("")
        reason = f"empty result {shown}; non-empty in {share:.0%} of {calls} other calls"
        evidence = {"baseline_nonempty_share": round(share, 4), "baseline_calls": calls,
                    "empty_level": "strict" if at == EMPTY else "loose", "usual_shape": well_formed,
                    "corroboration": corroboration}
        return Failure("empty_result", reason), evidence

    def _judge_agent(self, view: TraceView, agent: Span) -> list[Signal]:
        out: list[Signal] = []
        is_root = agent is view.root or agent.parent_span_id is None
        if self.params.check_exits:
            exit_signal = self._exit(view, agent)
            if exit_signal is not None:
                out.append(exit_signal)
        failures: list[Failure] = []
        if self.params.check_exception_events:
            failures.extend(_exception_failures(agent))
        if agent.output and not out:
            decoded = decode_value(agent.output)
            if not isinstance(decoded, dict) or "role" in decoded:
                decoded = output_text(agent.output)
            failure = result_failure(decoded, None)
            if failure is not None and not (
                self.params.defer_argument_errors and is_argument_rejection(failure, decoded)
            ):
                failures.append(failure)
        children = swallowed_errors(view, agent) if self.params.check_swallowed_children else []
        if children:
            failures.append(Failure("swallowed_child_error", _child_reason(children)))
        if failures:
            name = agent.agent_name or agent.name
            severity = self.params.severity_agent if is_root or children else self.params.severity
            shown = output_text(agent.output) if agent.output else ""
            out.append(self._emit(view, agent, name, failures, children, severity, shown, False, {}, subject="agent"))
        return out

    def _exit(self, view: TraceView, agent: Span) -> Signal | None:
        """A run that ended on a turn limit or a timeout while the agent span is OK/unset."""
        texts = _exit_texts(agent)
        inside = {s.span_id for s in view.descendants(agent.span_id)}
        steps = [s for s in view.steps if s.span.span_id in inside]
        last = steps[-1] if steps else None
        mechanism, match = None, None
        for text in texts:
            match = MAX_TURNS.search(text)
            if match:
                mechanism = "max_turns_exit"
                break
        if mechanism is None:
            last_tool = next((s for s in reversed(steps) if isinstance(s, ToolCall)), None)
            explained = any(s is not None and explicit_error(s.span) for s in (last, last_tool))
            for position, text in enumerate(texts if not explained else ()):
                match = TIMEOUT.search(text)
                if match and (position > 0 or not agent.output or _run_timed_out(text, match)):
                    mechanism = "timeout_exit"
                    break
                match = None
        if mechanism is None or match is None:
            return None
        source = match.string
        lo = max(0, match.start() - 60)
        reason = excerpt(source[lo: match.end() + 80], 160)
        last_tool_name = last.tool if isinstance(last, ToolCall) else None
        span_ids = [agent.span_id] + ([last.span.span_id] if last is not None else [])
        what = "hit its turn limit" if mechanism == "max_turns_exit" else "timed out"
        status = reported_status(agent)
        evidence = {
            "mechanism": mechanism, "tool": last_tool_name, "reason": reason, "span_ids": span_ids, "status": status,
            "result_excerpt": excerpt(output_text(agent.output) if agent.output else reason, 200),
            "agent": agent.agent_name or agent.name,
            "last_step_span_id": last.span.span_id if last is not None else None,
            "last_step": (last.tool if isinstance(last, ToolCall) else "llm") if last is not None else None,
            "steps": len(steps),
        }
        during = f" after {last_tool_name}" if last_tool_name else ""
        text = f"agent run {what}{during} while the agent span status is {status.upper()}: {reason}"
        return self.signal(view, "silent_failure", span_ids, self.params.severity_agent, evidence, text)

    def _emit(
        self, view: TraceView, span: Span, tool: str, failures: list[Failure], children: list[Span],
        severity: str, result_text: str, write: bool, extra: dict[str, Any], subject: str = "tool",
        cited: list[Span] | None = None,
    ) -> Signal:
        primary = failures[0]
        if cited is not None:  # spans that belong to the failure but are not erroring children
            children, related = [], cited
        else:
            related = children
        span_ids = [span.span_id] + [c.span_id for c in related]
        status = reported_status(span)
        evidence: dict[str, Any] = {
            "mechanism": primary.mechanism, "tool": tool if subject == "tool" else None, "reason": primary.reason,
            "span_ids": span_ids, "status": status, "result_excerpt": excerpt(result_text or "", 200),
            "mechanisms": list(dict.fromkeys(f.mechanism for f in failures)), "write": write, **extra,
            "fix_mechanism": "reported_failure" if primary.mechanism in REPORTED_FAILURE else primary.mechanism,
        }
        if subject != "tool":
            evidence["agent"] = tool
        if children:
            evidence["child_span_ids"] = [c.span_id for c in children]
            evidence["child_names"] = [c.name for c in children]
            evidence["child_error"] = _child_reason(children)
        what = _WHAT.get(primary.mechanism, primary.mechanism)
        if primary.mechanism == "swallowed_child_error" and children:
            what = f"swallowed the error of child span {children[0].name}"
        text = f"{subject} {tool} {what} while its span status is {status.upper()}: {primary.reason}"
        return self.signal(view, "silent_failure", span_ids, severity, evidence, text)


# --- helpers --------------------------------------------------------------------------------------------


def _is_bare(result: Any) -> bool:
    """An empty body that says nothing: no result, ``""``, ``{}``, ``[]``."""
    return result is None or (isinstance(result, str | dict | list) and not result) or (
        isinstance(result, str) and result.strip().lower() in {"null", "none", "{}", "[]", '""'})


def _empty_observation(call: ToolCall) -> int | None:
    """How empty this call's result is, for the baseline (``None``: not a usable observation)."""
    if explicit_error(call.span) or call.span.tool_result is None or call_failure(call) is not None:
        return None
    return emptiness(call.result, call.span.tool_result)


def _empty_corroboration(view: TraceView | None, call: ToolCall) -> str | None:
    """What, beside the window, says an empty answer in the tool's usual shape was a failure: the agent
    repeated the identical call next (it did not believe it) and was told something else. An identical
    retry told the same confirms the answer."""
    if view is None:
        return None
    following = _next_of_tool(view, call)
    if following is not None and following.args_key == call.args_key:
        if emptiness(following.result, following.span.tool_result) == emptiness(call.result, call.span.tool_result):
            return None  # asked again, told the same nothing: a confirmed "nothing found"
        return "retried"
    return None  # telling the user nothing was found is how a legitimately empty answer is handled


_ID_KEY_WORDS = frozenset({"id", "ids", "key", "code", "number", "no", "num", "email", "sku", "ref", "reference",
                           "handle", "username", "user", "slug", "uuid", "name", "account", "login", "phone"})
_ID_SHAPE = re.compile(r"^(?=.*[0-9@])[\w@.+:/#-]{3,120}$|^[\w.+-]*[-_.:/#][\w.+-]+$")


_DATE_LIKE = re.compile(r"^\d{1,4}[-/.]\d{1,2}(?:[-/.]\d{1,4})?(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$|^\d{1,2}:\d{2}")


def key_values(args: Any) -> list[tuple[str, str]]:
    """``(field, value)`` of the identifier-like arguments of a lookup: values with digits, ``@`` or
    separators (``ORD-1042``, ``ada@example.org``, ``inv_7f3a``), or values of id/key/code/name-like fields
    — never free text (spaces), short words or booleans."""
    out: list[tuple[str, str]] = []
    for path, leaf in walk(args):
        if isinstance(leaf, bool) or not isinstance(leaf, str | int):
            continue
        value = str(leaf).strip()
        field_words = words(path.rsplit(".", 1)[-1].replace("[]", ""))
        id_field = any(w in _ID_KEY_WORDS for w in field_words)
        if isinstance(leaf, int):
            if id_field and abs(leaf) >= 100:
                out.append((path, value))
            continue
        if not 3 <= len(value) <= 120 or " " in value or _DATE_LIKE.match(value):
            continue  # dates and times are parameters of a lookup, not the entity looked up
        if _ID_SHAPE.match(value) or (id_field and len(value) >= 4):
            out.append((path, value))
    return out


def _later_use(calls: list[ToolCall], position: int, keys: list[tuple[str, str]],
               acts: Callable[[ToolCall], bool]) -> tuple[ToolCall, str, str, str] | None:
    """The first later call of another tool that acts (``acts``: a write) with one of ``keys``' values in its
    arguments, unless a call in between returned that value (the agent found it some other way). Looking
    the value up elsewhere (a read) is handling the miss, not using it."""
    lookup = calls[position]
    wanted = {value.casefold(): (field_name, value) for field_name, value in keys}
    learned: set[str] = set()
    for later in calls[position + 1:]:
        if later.tool != lookup.tool and acts(later):
            leaves = {str(leaf).strip().casefold(): path for path, leaf in walk(later.args)
                      if isinstance(leaf, str | int) and not isinstance(leaf, bool)}
            raw = (later.span.tool_arguments or "").casefold()
            for folded, (field_name, value) in wanted.items():
                if folded in learned:
                    continue
                if folded in leaves:
                    return later, field_name, leaves[folded], value
                if len(folded) >= 5 and any(c.isdigit() or c == "@" for c in folded) and folded in raw:
                    return later, field_name, "(in text)", value
        if later.span.tool_result and not explicit_error(later.span) and call_failure(later) is None \
                and lookup_miss(later.result, later.span.tool_result) is None:
            text = later.span.tool_result.casefold()
            learned.update(f for f in wanted if f in text)
    return None


def _next_of_tool(view: TraceView, call: ToolCall) -> ToolCall | None:
    """The next call of the same tool, if any."""
    return next((c for c in view.tool_calls[call.index + 1:] if c.tool == call.tool), None)


def _partial_handled(view: TraceView, call: ToolCall) -> bool:
    """A write that reported some items failed, and the agent retried them — the next call of the tool
    repeats the call or names an item of its result (the failed ones) — or told the user what did not get
    done right after the call (its final answer, when no tool call follows)."""
    following = _next_of_tool(view, call)
    if following is not None:
        named, own = call.result_text.casefold(), set(arg_values(call.args))
        if following.args_key == call.args_key or any(
                value in named for value in arg_values(following.args) if value not in own):
            return True
    turns, followed = turns_after(view, call)
    texts = [output_text(t.output_text) for t in turns] + ([] if followed else [final_answer(view)])
    return any(tells_partial_failure(text) for text in texts)


def _retried_identically(view: TraceView, call: ToolCall) -> bool:
    """The next call of the same tool has the same arguments and reports no failure."""
    following = _next_of_tool(view, call)
    return (following is not None and following.args_key == call.args_key and not explicit_error(following.span)
            and call_failure(following) is None)


def _later_success(view: TraceView, call: ToolCall) -> bool:
    """A later call of the same tool returned a result that reports no failure and is not empty."""
    return any(
        later.tool == call.tool and not explicit_error(later.span) and later.span.tool_result is not None
        and call_failure(later) is None and emptiness(later.result, later.span.tool_result) == HAS_DATA
        for later in view.tool_calls[call.index + 1:]
    )


def _exception_failures(span: Span) -> list[Failure]:
    events = exception_events(span)
    if not events:
        return []
    etype, message = events[-1]
    return [Failure("exception_event", excerpt(f"{etype}: {message}" if message else etype, 160))]


def _child_reason(children: list[Span]) -> str:
    child = children[0]
    return excerpt(f"{child.name}: {error_description(child)}", 160)


def _owner(view: TraceView, span: Span) -> Span | None:
    """The nearest ancestor that is a tool or agent span (the root when there is none)."""
    by_id = view.spans_by_id
    parent = by_id.get(span.parent_span_id or "")
    last = None
    while parent is not None:
        if parent.kind in (SpanKind.TOOL, SpanKind.AGENT):
            return parent
        last = parent
        parent = by_id.get(parent.parent_span_id or "")
    return last


def swallowed_errors(view: TraceView, owner: Span) -> list[Span]:
    """Error spans under ``owner`` (topmost of each error chain) that ``owner`` absorbed: their nearest
    tool/agent ancestor is ``owner`` and no later sibling of the same name succeeded (a retry).

    Under an agent span, only non-step spans count (a failed tool or LLM call the agent saw is an explicit
    error, the ``unrecovered_error`` detector's business)."""
    out: list[Span] = []
    by_id = view.spans_by_id
    agent_level = owner.kind != SpanKind.TOOL
    for span in view.descendants(owner.span_id):
        if span.status != Status.ERROR:
            continue
        if agent_level and span.kind in _STEP_KINDS:
            continue
        parent = by_id.get(span.parent_span_id or "")
        if parent is not None and parent is not owner and parent.status == Status.ERROR:
            continue  # not the topmost error of its chain
        if _owner(view, span) is not owner:
            continue
        siblings = view.children(span.parent_span_id or "")
        key = span_order_key(span)
        if any(s.name == span.name and s.status != Status.ERROR and span_order_key(s) > key for s in siblings):
            continue  # retried successfully
        out.append(span)
    out.sort(key=span_order_key)
    return out


_RUN_SUBJECT = re.compile(r"(?:^|\b(?:run|agent|execution|request|task|workflow|job|session|operation|process"
                          r"|invocation|conversation|i|we)(?:\s+(?:has|had|was|have|just))?\s+)$", re.IGNORECASE)


def _run_timed_out(output: str, match: re.Match[str]) -> bool:
    """Whether a timeout phrase in the agent's output is about the run itself: the output opens with it
    (``Timed out waiting for …``) or the run is its subject (``Run timed out after 30s``, ``I timed out``).
    A final answer reporting that something else timed out (``picks assigned to it timed out``) is data."""
    if not match.group(0).lower().startswith("timed"):
        return True  # "time limit", "deadline exceeded": a limit's own words
    return bool(_RUN_SUBJECT.search(output[max(0, match.start() - 40): match.start()].lstrip()))


def _exit_texts(agent: Span) -> list[str]:
    """Where an agent span says why it stopped: output (first, when there is one), status message,
    exit-reason attributes, events."""
    texts = []
    if agent.output:
        texts.append(output_text(agent.output))
    if agent.status_message:
        texts.append(agent.status_message)
    for key, value in (agent.attributes or {}).items():
        if isinstance(value, str) and _REASON_KEY.search(norm_key(key)):
            texts.append(value)
    for event in agent.events or ():
        attrs = event.get("attributes") or {}
        texts.append(" ".join([str(event.get("name") or "")] + [str(v) for v in attrs.values() if isinstance(v, str)]))
    return [t for t in texts if t]
