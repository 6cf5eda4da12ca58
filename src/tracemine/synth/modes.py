"""Failure modes: each function edits a trace plan in place and returns the injected label, or ``None``
when the plan offers no suitable step (the caller then tries another mode).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from tracemine.synth import mutate
from tracemine.synth.plan import HTTP, LLM, NO_RESULT, TOOL, SpanRec, TraceBuilder


@dataclass(slots=True)
class Injected:
    """A label before span ids exist: the spans are plan steps (or the root, or an HTTP child)."""

    kind: str
    mode: str
    spans: list[SpanRec]
    tool: str | None
    detail: str
    extra: dict[str, Any] = field(default_factory=dict)


def _pick(b: TraceBuilder, seq: list[Any]) -> Any:
    return seq[b.rng.randrange(len(seq))] if seq else None


def _tag(*steps: SpanRec) -> None:
    for s in steps:
        s.tagged = True


def _call_counts(b: TraceBuilder) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for s in b.steps:
        if s.kind == TOOL:
            key = (s.tool_name, s.args_text)
            counts[key] = counts.get(key, 0) + 1
    return counts


def _unique_reads(b: TraceBuilder) -> list[int]:
    """Untagged read calls whose (tool, arguments) occur once in the trace."""
    counts = _call_counts(b)
    return [i for i in b.tool_indices(write=False) if counts[(b.steps[i].tool_name, b.steps[i].args_text)] == 1]


def _turn_start(b: TraceBuilder, i: int) -> int:
    """Index of the LLM step that requested the tool step ``i``."""
    while i > 0 and b.steps[i - 1].kind != LLM:
        i -= 1
    return i - 1 if i > 0 else 0


def _later_spots(b: TraceBuilder, i: int) -> list[int]:
    """Indices after step ``i`` where a new turn can be inserted with another tool call in between."""
    fin = b.final_index()
    steps = b.steps
    return [k for k in range(i + 2, fin) if steps[k].kind == LLM and steps[k - 1].kind == TOOL and not steps[k - 1].tagged]


def _later_boundary(b: TraceBuilder, i: int) -> int:
    """An index after step ``i`` where a new turn can be inserted, preferring one that leaves a call between."""
    spots = _later_spots(b, i)
    return _pick(b, spots) if spots else b.final_index()


def _llm_texts(b: TraceBuilder) -> list[int]:
    """Untagged LLM steps that do not sit inside an injected run of steps."""
    steps = b.steps
    return [i for i, s in enumerate(steps) if s.kind == LLM and not s.tagged and not (i and steps[i - 1].tagged)]


def _err(b: TraceBuilder, items: tuple[Any, ...]) -> Any:
    return items[b.rng.randrange(len(items))]


def _rid(b: TraceBuilder) -> str:
    return f"req_{b.rng.getrandbits(40):010x}"


# --- loop ----------------------------------------------------------------------------------------


def loop_same_call(b: TraceBuilder) -> Injected | None:
    polls = set(b.tool_indices(poll=True))  # a status poll repeated without progress is loop_poll_stuck
    i = _pick(b, [k for k in _unique_reads(b) if k not in polls])
    if i is None:
        return None
    s = b.steps[i]
    n = b.rng.randint(3, 6)
    copies = [s.clone() for _ in range(n - 1)]
    text = s.tool.intro if s.tool else ""
    b.steps[i + 1 : i + 1] = [x for c in copies for x in (b.llm_step(text), c)]
    _tag(s, *copies)
    return Injected("loop", "same_call_repeat", [s, *copies], s.tool_name,
                    f"{s.tool_name} called {n} times in a row with identical arguments and identical results")


def loop_near_same(b: TraceBuilder) -> Injected | None:
    cands = _unique_reads(b)
    b.rng.shuffle(cands)
    for i in cands:
        s = b.steps[i]
        assert s.tool is not None and s.args is not None
        n = b.rng.randint(3, 5)
        variants = mutate.near_same(b.rng, s.tool, s.args, n - 1)
        if variants is None:
            continue
        copies = []
        for v in variants:
            c = s.clone()
            c.set_args(v)
            copies.append(c)
        b.steps[i + 1 : i + 1] = [x for c in copies for x in (b.llm_step("Let me try that again."), c)]
        _tag(s, *copies)
        return Injected("loop", "near_same_repeat", [s, *copies], s.tool_name,
                        f"{s.tool_name} called {n} times with trivially rephrased arguments and the same result")
    return None


def loop_cycle(b: TraceBuilder) -> Injected | None:
    reads = set(_unique_reads(b))
    tools = [i for i, s in enumerate(b.steps) if s.kind == TOOL]
    starts = []
    for k in (2, 3):
        for j in range(len(tools) - k + 1):
            window = tools[j : j + k]
            names = {b.steps[t].tool_name for t in window}
            if all(t in reads for t in window) and len(names) == k:
                starts.append((window[0], window[-1]))
    pick = _pick(b, starts)
    if pick is None:
        return None
    first, last = pick
    lo = _turn_start(b, first)
    segment = b.steps[lo : last + 1]
    reps = b.rng.randint(2, 3)
    inserted: list[SpanRec] = []
    for _ in range(reps):
        for s in segment:
            inserted.append(s.clone() if s.kind == TOOL else b.llm_step(s.text))
    b.steps[last + 1 : last + 1] = inserted
    tool_spans = [s for s in segment if s.kind == TOOL] + [s for s in inserted if s.kind == TOOL]
    _tag(*tool_spans)
    names = "→".join(s.tool_name for s in segment if s.kind == TOOL)
    return Injected("loop", "cycle", tool_spans, None,
                    f"cycle {names} repeated {reps + 1} times with the same arguments and results")


_REPEATS = (
    "Let me look into that for you.", "I need to verify a few details before I can continue.",
    "I'll check that now.", "One moment while I gather the information.", "Let me try a different approach.",
)


def loop_llm_repeat(b: TraceBuilder) -> Injected | None:
    spots = _llm_texts(b)
    at = _pick(b, spots)
    if at is None:
        return None
    text = _err(b, _REPEATS)
    n = b.rng.randint(3, 5)
    steps = [b.llm_step(text) for _ in range(n)]
    b.steps[at:at] = steps
    _tag(*steps)
    return Injected("loop", "llm_repeat", steps, None,
                    f"the model produced the same message {n} times without calling any tool")


_STUCK = {"succeeded": "running", "success": "in_progress", "cancelled": "cancellation_pending"}


def loop_poll_stuck(b: TraceBuilder) -> Injected | None:
    polls = [i for i in b.tool_indices(poll=True)]
    if not polls:
        return None
    i = polls[-1]
    name = b.steps[i].tool_name
    while True:  # the start of this run of polls
        prev = [k for k in range(i) if b.steps[k].kind == TOOL]
        if prev and b.steps[prev[-1]].tool_name == name and prev[-1] in polls:
            i = prev[-1]
        else:
            break
    s = b.steps[i]
    stuck = dict(s.result) if isinstance(s.result, dict) else {}
    key = "state" if "state" in stuck else "status"
    stuck[key] = _STUCK.get(stuck.get(key, ""), stuck.get(key) or "running")
    if "progress" in stuck:
        stuck["progress"] = min(stuck["progress"] or 40, 60)
    if "rows" in stuck:
        stuck["rows"] = None
    if "checks" in stuck:
        stuck["checks"] = [{"name": "tests", "conclusion": None}, {"name": "lint", "conclusion": "success"}]
        stuck["completed_checks"] = 1
    if "refund_status" in stuck:
        stuck["refund_status"] = "processing"
    s.set_result(stuck)
    n = b.rng.randint(4, 7)
    b.truncate_after(i, None)
    copies = [s.clone() for _ in range(n - 1)]
    for c in copies:
        b.steps += [b.llm_step(s.tool.intro if s.tool else ""), c]
    b.finish(f"The job is still {stuck[key]} after {n} status checks; I'll stop waiting here. Please check again later.")
    _tag(s, *copies)
    return Injected("loop", "poll_no_progress", [s, *copies], name,
                    f"{name} polled {n} times, status stuck at '{stuck[key]}'")


# --- duplicate_call --------------------------------------------------------------------------------


def dup_write_adjacent(b: TraceBuilder) -> Injected | None:
    i = _pick(b, b.tool_indices(write=True))
    if i is None:
        return None
    s = b.steps[i]
    assert s.tool is not None and s.args is not None
    c = s.clone()
    c.set_result(s.tool.result(b, s.args))  # the write happened twice: new ids
    same_turn = b.rng.random() < 0.5
    b.steps[i + 1 : i + 1] = [c] if same_turn else [b.llm_step(""), c]
    _tag(s, c)
    how = "in the same turn" if same_turn else "in consecutive turns"
    return Injected("duplicate_call", "write_adjacent", [s, c], s.tool_name,
                    f"write {s.tool_name} executed twice {how} with identical arguments")


def dup_write_reformatted(b: TraceBuilder) -> Injected | None:
    i = _pick(b, b.tool_indices(write=True))
    if i is None:
        return None
    s = b.steps[i]
    assert s.tool is not None and s.args is not None
    spots = _later_spots(b, i)
    if not spots:
        return None  # "later in the run" needs other work in between; otherwise it is write_adjacent
    args, text, how = mutate.reformat(b.rng, s.tool, s.args, allow_enum_case=True)
    c = s.clone()
    c.set_args(args, text)
    c.set_result(s.tool.result(b, s.args))
    at = _pick(b, spots)
    b.steps[at:at] = [b.llm_step(""), c]
    _tag(s, c)
    return Injected("duplicate_call", "write_reformatted", [s, c], s.tool_name,
                    f"write {s.tool_name} repeated later with the same arguments ({how} differs)",
                    {"reformat": how})


def dup_read(b: TraceBuilder) -> Injected | None:
    i = _pick(b, _unique_reads(b))
    if i is None:
        return None
    s = b.steps[i]
    assert s.tool is not None and s.args is not None
    c = s.clone()
    how = "exact"
    if b.rng.random() < 0.5:
        args, text, how = mutate.reformat(b.rng, s.tool, s.args, allow_enum_case=False)
        c.set_args(args, text)
    at = _later_boundary(b, i)
    b.steps[at:at] = [b.llm_step(s.text), c]
    _tag(s, c)
    return Injected("duplicate_call", "read_repeat", [s, c], s.tool_name,
                    f"{s.tool_name} called again with the same arguments ({how}) after a successful result",
                    {"reformat": how})


# --- silent_failure ------------------------------------------------------------------------------


def _silent_target(b: TraceBuilder) -> SpanRec | None:
    i = _pick(b, b.tool_indices(write=None))
    return None if i is None else b.steps[i]


def _silent(mode: str, results: tuple[Any, ...], what: str) -> Any:
    def inject(b: TraceBuilder) -> Injected | None:
        s = _silent_target(b)
        if s is None:
            return None
        r = _err(b, results)
        s.set_result(r(b, s) if callable(r) else r)
        s.http = None
        _tag(s)
        return Injected("silent_failure", mode, [s], s.tool_name, f"{s.tool_name} {what} but the span status is not ERROR")

    inject.__name__ = f"silent_{mode}"
    return inject


silent_error_key = _silent("error_key", (
    lambda b, s: {"error": {"code": "UPSTREAM_UNAVAILABLE", "message": f"backend unavailable (request {_rid(b)})"}},
    lambda b, s: {"error": f"Could not complete {s.tool_name}: upstream returned no data"},
    {"data": None, "error": {"type": "internal_error", "message": "unexpected EOF while reading response"}},
    lambda b, s: {"result": None, "error": "quota exceeded for this API key"},
), "returned an 'error' object")

silent_success_false = _silent("success_false", (
    {"success": False, "message": "Operation could not be completed"},
    {"ok": False, "error": "channel_not_found"},
    {"success": False, "errors": [{"code": 1003, "message": "account is suspended"}]},
    {"ok": False, "reason": "invalid_auth"},
), "returned success=false / ok=false")

silent_status_failed = _silent("status_failed", (
    lambda b, s: {"status": "failed", "reason": "downstream service rejected the request", "request_id": _rid(b)},
    {"state": "FAILED", "detail": "job aborted by the scheduler"},
    {"status": "error", "message": "internal processing error"},
), "returned status 'failed'")

silent_http_status = _silent("http_error_status", (
    {"status_code": 502, "body": "<html><body><h1>502 Bad Gateway</h1></body></html>"},
    {"http_status": 404, "message": "Not Found"},
    {"statusCode": 429, "message": "Too Many Requests"},
    {"status": 503, "detail": "Service Unavailable"},
    {"status_code": 500, "body": "Internal Server Error"},
), "returned an HTTP error status in its result")

silent_error_text = _silent("error_text", (
    "Error: connection reset by peer",
    lambda b, s: f"Error: could not resolve host for {s.tool_name}",
    "Error: permission denied",
    "Error: request timed out after 30s",
    "error: unexpected response from upstream service",
), "returned an error message as text")


def silent_exception_event(b: TraceBuilder) -> Injected | None:
    s = _silent_target(b)
    if s is None:
        return None
    s.exc = _err(b, (("json.decoder.JSONDecodeError", "Expecting value: line 1 column 1 (char 0)"),
                     ("ConnectionResetError", "[Errno 104] Connection reset by peer"),
                     ("KeyError", "'data'"), ("TimeoutError", "upstream call timed out; using cached value")))
    if b.rng.random() < 0.5 and s.tool is not None and s.tool.empty is not None:
        s.set_result(s.tool.empty)
    s.http = None
    _tag(s)
    return Injected("silent_failure", "exception_event", [s], s.tool_name,
                    f"{s.tool_name} recorded a {s.exc[0]} exception event on a span whose status is not ERROR")


def silent_swallowed_child(b: TraceBuilder) -> Injected | None:
    cands = [i for i in b.tool_indices(write=None) if b.steps[i].tool is not None and b.steps[i].tool.http is not None]  # type: ignore[union-attr]
    i = _pick(b, cands)
    if i is None:
        return None
    s = b.steps[i]
    assert s.tool is not None and s.tool.http is not None
    code, exc = _err(b, ((502, ("HTTPStatusError", "502 Bad Gateway")), (500, ("HTTPStatusError", "500 Internal Server Error")),
                         (503, ("HTTPStatusError", "503 Service Unavailable")), (504, ("ReadTimeout", "timed out"))))
    s.http = (s.tool.http[0], s.tool.http[1], code, exc)
    child = SpanRec(HTTP)
    s.child = child
    if b.rng.random() < 0.5 and s.tool.empty is not None:
        s.set_result(s.tool.empty)
    _tag(s)
    return Injected("silent_failure", "swallowed_child_error", [s, child], s.tool_name,
                    f"HTTP call under {s.tool_name} failed with {code} but the tool span reports success")


_EMPTIES: tuple[Any, ...] = ([], {}, "", {"results": []})


def silent_empty(b: TraceBuilder) -> Injected | None:
    cands = [i for i in b.tool_indices(write=False) if b.steps[i].tool is not None and b.steps[i].tool.empty_rate == 0]  # type: ignore[union-attr]
    i = _pick(b, cands)
    if i is None:
        return None
    s = b.steps[i]
    empty = _err(b, _EMPTIES)
    s.set_result(empty)
    _tag(s)
    return Injected("silent_failure", "empty_result", [s], s.tool_name,
                    f"{s.tool_name}, which normally returns data, returned {empty!r}")


def _exit_cut(b: TraceBuilder) -> int | None:
    tools = [i for i, s in enumerate(b.steps) if s.kind == TOOL and not s.tagged]
    if len(tools) < 2:
        return None
    return tools[b.rng.randrange(len(tools) // 2, len(tools))]


def silent_max_turns(b: TraceBuilder) -> Injected | None:
    cut = _exit_cut(b)
    if cut is None:
        return None
    b.truncate_after(cut, None)
    turns = sum(1 for s in b.steps if s.kind == LLM)
    b.root_output = _err(b, (f"Max turns ({turns}) exceeded", f"Agent stopped: reached max_turns={turns} before a final answer.",
                             f"Stopped after {turns} iterations without a final answer."))
    last = b.steps[cut]
    _tag(last)
    return Injected("silent_failure", "max_turns_exit", [b.root, last], None,
                    f"agent hit its turn limit ({turns}) without an answer; root span status is not ERROR")


def silent_timeout(b: TraceBuilder) -> Injected | None:
    cut = _exit_cut(b)
    if cut is None:
        return None
    b.truncate_after(cut, None)
    last = b.steps[cut]
    last.lat_mult = b.rng.uniform(4, 8)
    last.set_result(NO_RESULT)
    secs = _err(b, (60, 120, 300))
    b.root_output = _err(b, (f"Run timed out after {secs}s; returning partial results.",
                             f"Agent execution exceeded the {secs}s time limit.", "Timed out waiting for tool response."))
    _tag(last)
    return Injected("silent_failure", "timeout_exit", [b.root, last], None,
                    f"agent run timed out ({secs}s) during {last.tool_name}; root span status is not ERROR")


# --- argument_error --------------------------------------------------------------------------------


def _arg_breaker(mode: str) -> Any:
    breaker = mutate.SCHEMA_BREAKERS[mode]

    def inject(b: TraceBuilder) -> Injected | None:
        cands = b.tool_indices(write=None, poll=None)
        b.rng.shuffle(cands)
        for i in cands:
            s = b.steps[i]
            assert s.tool is not None and s.args is not None
            out = breaker(b.rng, s.tool, s.args)
            if out is None:
                continue
            s.set_args(out[0])
            _tag(s)
            return Injected("argument_error", mode, [s], s.tool_name, f"{s.tool_name}: {out[1]}")
        return None

    inject.__name__ = f"arg_{mode}"
    return inject


arg_missing_required = _arg_breaker("missing_required")
arg_wrong_type = _arg_breaker("wrong_type")
arg_enum_violation = _arg_breaker("enum_violation")
arg_bad_format = _arg_breaker("bad_format")


def arg_validation_result(b: TraceBuilder) -> Injected | None:
    i = _pick(b, b.tool_indices(write=None))
    if i is None:
        return None
    s = b.steps[i]
    assert s.tool is not None
    param = _pick(b, list(mutate.props(s.tool))) or "input"
    r = _err(b, (
        {"error": {"type": "invalid_request_error", "code": "invalid_parameter", "param": param,
                   "message": f"Invalid value for '{param}'."}},
        f"Error: 1 validation error for {s.tool_name}\n{param}\n  Input should be a valid value [type=value_error]",
        {"status": 422, "detail": [{"loc": ["body", param], "msg": "value is not a valid enumeration member",
                                    "type": "type_error.enum"}]},
        {"success": False, "error": f"Unsupported value for parameter '{param}'"},
    ))
    s.set_result(r)
    b.truncate_after(i, f"I couldn't finish: the {s.tool_name.replace('_', ' ')} service rejected the value for "
                        f"'{param}'. Could you confirm the details?")
    _tag(s)
    return Injected("argument_error", "validation_error_result", [s], s.tool_name,
                    f"{s.tool_name} result reports an invalid parameter '{param}'")


def arg_unknown_tool(b: TraceBuilder) -> Injected | None:
    i = _pick(b, b.tool_indices(write=None))
    if i is None:
        return None
    s = b.steps[i]
    real = s.tool_name
    fake = _err(b, b.agent.fake_tools)
    names = ", ".join(b.agent.tools)
    s.tool = None
    s.tool_name = fake
    s.http = None
    s.set_result(_err(b, (f"Error: tool '{fake}' not found. Available tools: {names}",
                          {"error": f"Unknown tool: {fake}"},
                          f"Error: {fake} is not a valid tool, try one of [{names}].")))
    _tag(s)
    return Injected("argument_error", "unknown_tool", [s], fake,
                    f"called '{fake}', which is not among the agent's tools (meant {real}?)")


# --- unrecovered_error -------------------------------------------------------------------------------


def _host(s: SpanRec) -> str:
    if s.tool is not None and s.tool.http is not None:
        return s.tool.http[1].split("/")[2]
    return f"{s.tool_name.replace('_', '-')}.internal"


def _unrecovered(mode: str, make: Any) -> Any:
    def inject(b: TraceBuilder) -> Injected | None:
        cands = b.tool_indices(write=None)
        if mode == "not_found":
            # a write whose target does not exist failed; a read that finds nothing has answered (not a bug)
            cands = [i for i in b.tool_indices(write=True)
                     if any("pattern" in p for p in mutate.props(b.steps[i].tool).values())]  # type: ignore[arg-type]
        i = _pick(b, cands)
        if i is None:
            return None
        s = b.steps[i]
        etype, msg, secs = make(b, s)
        s.status = 2
        s.status_msg = f"{etype}: {msg}"
        s.exc = (etype, msg)
        s.http = None
        if secs:
            s.fixed_ms = secs * 1000.0
        s.set_result(f"Error: {msg}" if b.rng.random() < 0.5 else NO_RESULT)
        spans = [s]
        if mode == "agent_crash":
            b.truncate_after(i, None)
            b.root_status = 2
            b.root_msg = f"{etype}: {msg}"
            b.root_exc = (etype, msg)
            spans.append(b.root)
        else:
            claim = b.final_text if b.rng.random() < 0.4 and b.final_text else None
            b.truncate_after(i, claim or (f"I'm sorry, I couldn't complete that: {s.tool_name.replace('_', ' ')} failed "
                                          f"({etype}). Please try again later."))
        _tag(s)
        return Injected("unrecovered_error", mode, spans, s.tool_name,
                        f"{s.tool_name} failed with {etype} and the agent did not retry or recover")

    inject.__name__ = f"unrecovered_{mode}"
    return inject


def _timeout(b: TraceBuilder, s: SpanRec) -> tuple[str, str, int]:
    secs = _err(b, (10, 15, 30))
    etype = _err(b, ("TimeoutError", "httpx.ReadTimeout", "asyncio.TimeoutError"))
    return etype, f"request to {_host(s)} timed out after {secs}s", secs


unrecovered_timeout = _unrecovered("timeout", _timeout)
unrecovered_rate_limit = _unrecovered("rate_limited", lambda b, s: (
    "RateLimitError", f"429 Too Many Requests from {_host(s)}: retry after {b.rng.randint(5, 90)}s", 0))
unrecovered_auth = _unrecovered("auth_denied", lambda b, s: _err(b, (
    ("PermissionError", f"403 Forbidden: credentials lack scope '{s.tool_name.split('_')[0]}:write'", 0),
    ("AuthenticationError", f"401 Unauthorized: token for {_host(s)} expired", 0),
)))
unrecovered_5xx = _unrecovered("upstream_5xx", lambda b, s: (
    "HTTPStatusError", f"Server error '{_err(b, ('500 Internal Server Error', '502 Bad Gateway', '503 Service Unavailable'))}' "
                       f"for url 'https://{_host(s)}/'", 0))


def _not_found(b: TraceBuilder, s: SpanRec) -> tuple[str, str, int]:
    assert s.tool is not None and s.args is not None
    p = mutate.props(s.tool)
    key = next((k for k in s.args if "pattern" in p.get(k, {})), next(iter(s.args), "id"))
    return _err(b, ("NotFoundError", "LookupError", "ResourceNotFound")), f"{key} {s.args.get(key)!r} not found", 0


unrecovered_not_found = _unrecovered("not_found", _not_found)
unrecovered_crash = _unrecovered("agent_crash", lambda b, s: (*_err(b, (
    ("KeyError", "'items'"), ("ValueError", "could not convert string to float: 'N/A'"),
    ("AttributeError", "'NoneType' object has no attribute 'get'"),
    ("json.decoder.JSONDecodeError", "Expecting value: line 1 column 1 (char 0)"),
)), 0))


# --- outlier -------------------------------------------------------------------------------------


def outlier_tool_latency(b: TraceBuilder) -> Injected | None:
    i = _pick(b, b.tool_indices(write=None, poll=None))
    if i is None:
        return None
    s = b.steps[i]
    s.lat_mult = b.rng.uniform(20, 50)
    _tag(s)
    return Injected("outlier", "tool_latency", [s], s.tool_name, f"{s.tool_name} took ~{s.lat_mult:.0f}x its usual latency")


def _llm_outlier(mode: str, attr: str, lo: float, hi: float, what: str) -> Any:
    def inject(b: TraceBuilder) -> Injected | None:
        i = _pick(b, _llm_texts(b))
        if i is None:
            return None
        s = b.steps[i]
        mult = b.rng.uniform(lo, hi)
        setattr(s, attr, mult)
        _tag(s)
        return Injected("outlier", mode, [s], None, f"LLM call with ~{mult:.0f}x its usual {what}")

    inject.__name__ = f"outlier_{mode}"
    return inject


outlier_llm_latency = _llm_outlier("llm_latency", "lat_mult", 12, 25, "latency")
outlier_input_tokens = _llm_outlier("input_tokens", "in_mult", 10, 20, "input tokens")
outlier_output_tokens = _llm_outlier("output_tokens", "out_mult", 10, 16, "output tokens")


def arg_corrected_retry(b: TraceBuilder) -> Injected | None:
    """Invalid arguments, a validation error, then a retry with corrected ones: still an argument error
    (the LLM produced invalid arguments); the recovery is evidence, not an excuse."""
    cands = b.tool_indices(write=None)
    b.rng.shuffle(cands)
    for i in cands:
        s = b.steps[i]
        assert s.tool is not None and s.args is not None
        names = sorted(mutate.SCHEMA_BREAKERS)
        breaker = mutate.SCHEMA_BREAKERS[names[zlib.crc32(s.tool_name.encode()) % len(names)]]
        out = breaker(b.rng, s.tool, s.args)
        if out is None:
            continue
        c = s.clone()
        c.set_args(out[0])
        c.status = 2
        c.status_msg = f"ValidationError: {out[1]}"
        c.exc = ("ValidationError", out[1])
        c.set_result(f"Error: invalid arguments for {s.tool_name}: {out[1]}")
        b.steps[i:i] = [c, b.llm_step("The arguments were invalid; retrying with corrected values.")]
        _tag(s, c)
        return Injected("argument_error", "corrected_retry", [c, s], s.tool_name,
                        f"{s.tool_name} failed on invalid arguments ({out[1]}) and succeeded when retried with corrected ones")
    return None


# --- recovered_error (hard negative) ----------------------------------------------------------------


def recovered_transient(b: TraceBuilder) -> Injected | None:
    i = _pick(b, b.tool_indices(write=None))
    if i is None:
        return None
    s = b.steps[i]
    c = s.clone()
    etype, msg = _err(b, (("httpx.ReadTimeout", "timed out"), ("HTTPStatusError", "503 Service Unavailable"),
                          ("ConnectionResetError", "[Errno 104] Connection reset by peer")))
    c.status = 2
    c.status_msg = f"{etype}: {msg}"
    c.exc = (etype, msg)
    c.set_result(NO_RESULT)
    b.steps[i:i] = [c, b.llm_step("That call failed transiently; trying again.")]
    _tag(s, c)
    return Injected("recovered_error", "transient_retry", [c, s], s.tool_name,
                    f"{s.tool_name} failed transiently ({etype}) and succeeded on retry")
