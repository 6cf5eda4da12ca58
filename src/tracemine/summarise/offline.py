"""The deterministic summariser: templates per signal kind and mechanism over a :class:`Brief`'s facts.

:class:`OfflineSummariser` needs no model and no network; the same brief always gives the same summary.
It reads ``brief.facts`` (:func:`tracemine.summarise.facts.collect_facts`), the tool / model / agent
counts, the node's trace counts and its exemplars, and writes

* a title naming the subject (the tool when one tool makes up ≥ 80 % of the members, otherwise "3 tools
  (mostly `x`)") and the most common message, with the affected traces and their share of the window;
* a summary saying what happens, how often, the most common messages / violations / metrics, how often
  the failing call was a write or was recovered later, and which exemplars show it;
* the mechanism in one or two sentences, and a concrete fix for that mechanism naming the top tools.

Text that comes from traces (tool names, messages, arguments) only ever appears inside backticks, with
backticks removed from it, redacted again (idempotent) and trimmed. Unknown kinds (third-party detectors)
get a generic template; missing facts, zero traces or empty briefs never raise.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tracemine.formatting import format_ms
from tracemine.placeholders import readable
from tracemine.redact import Redactor, default_redactor, redact_cut
from tracemine.summarise.base import Brief, Summary

__all__ = ["OfflineSummariser"]

TITLE_QUOTE = 60
"""Longest quoted message in a title (the whole title stays well under ~120 characters of trace text)."""
QUOTE = 120
"""Longest quoted text in a summary."""
DOMINANT = 0.8
"""Share of members above which one tool is named as *the* subject."""

_SPACES = re.compile(r"\s+")
_REF = re.compile(r"^[A-Za-z0-9_.-]{1,16}$")
_CONTENT = re.compile(r'"(?:content|text|message)"\s*:\s*"((?:[^"\\]|\\.){3,})"')


# --------------------------------------------------------------------------------------------- helpers


def _pct(share: float) -> str:
    pct = share * 100
    if pct <= 0:
        return "0 %"
    if pct < 0.1:
        return "<0.1 %"
    return f"{pct:.1f} %" if pct < 10 else f"{pct:.0f} %"


def _n(value: Any) -> str:
    """A count or a median as text: ``4``, ``4.5``, ``1,234``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "?"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


def _share_of(facts: Mapping[str, Any], key: str) -> tuple[float, int]:
    """``(share, count)`` of a share-dict in the facts, ``(0.0, 0)`` when absent or malformed."""
    value = facts.get(key)
    if not isinstance(value, Mapping):
        return 0.0, 0
    share, count = value.get("share"), value.get("count")
    if isinstance(share, int | float) and isinstance(count, int) and not isinstance(count, bool):
        return float(share), count
    return 0.0, 0


def _pairs(value: Any) -> list[tuple[str, int]]:
    """``[[value, count], …]`` (or tuples) as ``(str, int)`` pairs, skipping malformed entries."""
    out: list[tuple[str, int]] = []
    for item in value if isinstance(value, list | tuple) else ():
        if (isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[1], int | float)
                and item[0] is not None and str(item[0])):
            out.append((str(item[0]), int(item[1])))
    return out


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list | tuple) else []


def _readable(text: str) -> str:
    """The message inside a JSON-ish excerpt (``[{"role":…,"content":"Let me check."}]`` → ``Let me check.``)."""
    m = _CONTENT.search(text)
    return m.group(1).replace('\\"', '"') if m else text


def _sentence(text: str) -> str:
    """The first sentence of a text (for overview fixes)."""
    head = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    return head


@dataclass(slots=True)
class _Subject:
    """What the node is about, as title text: ``\\`tool\\``` or ``3 tools (mostly \\`tool\\`)``."""

    text: str
    plural: bool
    names: list[str]  # top names, most common first (raw; quote when used)


class _Writer:
    """Per-brief state and the quoting rules."""

    def __init__(self, brief: Brief, redactor: Redactor) -> None:
        self.brief = brief
        self.redactor = redactor
        self.facts: Mapping[str, Any] = brief.facts if isinstance(brief.facts, Mapping) else {}
        self.traces = brief.traces if isinstance(brief.traces, int) and brief.traces > 0 else 0
        self.window = brief.window_traces if isinstance(brief.window_traces, int) and brief.window_traces > 0 else 0
        self.signals = brief.signals if isinstance(brief.signals, int) and brief.signals > 0 else 0
        if not self.traces:
            self.traces = _int(self.facts.get("traces"))
        if not self.signals:
            self.signals = _int(self.facts.get("signals"))

    # ---- quoting
    def q(self, text: Any, limit: int = QUOTE) -> str:
        """Trace text as a backticked code span: redacted, backticks removed, whitespace collapsed, trimmed."""
        if text is None:
            return ""
        raw = text if isinstance(text, str) else str(text)
        try:
            clean = redact_cut(raw, 2000, self.redactor, ellipsis="")
        except Exception:
            return ""
        clean = _SPACES.sub(" ", readable(clean).replace("`", "'")).strip()  # no <num> placeholders
        if not clean:
            return ""
        if len(clean) > limit:
            clean = clean[: limit - 1].rstrip() + "…"
        return f"`{clean}`"

    # ---- counts
    def count_phrase(self) -> str:
        """``34 traces, 1.7 %`` (or ``34 traces`` when the window size is unknown)."""
        traces = _plural(self.traces, "trace")
        return f"{traces}, {_pct(self.traces / self.window)}" if self.window else traces

    def how_often(self) -> str:
        signals = _plural(self.signals, "occurrence")
        if self.window:
            return (f"{signals} in {self.traces:,} of {self.window:,} traces "
                    f"({_pct(self.traces / self.window)} of the window)")
        return f"{signals} in {_plural(self.traces, 'trace')}"

    # ---- subjects
    def distinct(self, nouns: str, shown: int) -> int:
        """How many different ``nouns`` (tools, models, agents) the members have: the exact count from
        ``facts["distinct"]`` (a brief lists only the most common names), never fewer than ``shown``."""
        counts = self.facts.get("distinct")
        exact = counts.get(nouns) if isinstance(counts, Mapping) else None
        return max(exact, shown) if isinstance(exact, int) and not isinstance(exact, bool) else shown

    def subject(self, pairs: Sequence[tuple[str, int]], noun: str, nouns: str, fallback: str) -> _Subject:
        names = [name for name, _ in pairs if name]
        if not names:
            return _Subject(fallback, True, [])
        total = sum(max(c, 0) for _, c in pairs) or 1
        top_name, top_count = pairs[0]
        count = self.distinct(nouns, len(names))
        if count == 1 or top_count / total >= DOMINANT:
            return _Subject(self.q(top_name, 48), False, names)
        most = "mostly" if top_count / total >= 0.5 else "most often"
        return _Subject(f"{count:,} {nouns} ({most} {self.q(top_name, 48)})", True, names)

    def tools(self, fallback: str = "Tool calls") -> _Subject:
        pairs = _pairs(self.brief.tools) if self.brief.tools else []
        return self.subject(pairs, "tool", "tools", fallback)

    def models(self, fallback: str = "LLM calls") -> _Subject:
        pairs = _pairs(self.brief.models) if self.brief.models else []
        return self.subject(pairs, "model", "models", fallback)

    def agents(self, fallback: str = "Agent runs") -> _Subject:
        pairs = _pairs(self.brief.agents) if self.brief.agents else []
        subject = self.subject(pairs, "agent", "agents", fallback)
        if subject.names and not subject.plural:
            return _Subject(f"{subject.text} runs", True, subject.names)
        return subject

    def top_tools(self, k: int = 3) -> str:
        """``\\`a\\`, \\`b\\` and \\`c\\``` — the most common tools, for fixes ("" when none)."""
        names = [name for name, _ in _pairs(self.brief.tools)][:k]
        return _join([self.q(n, 48) for n in names])

    # ---- facts
    def messages(self) -> list[Mapping[str, Any]]:
        return [m for m in _dicts(self.facts.get("messages")) if isinstance(m.get("text"), str) and m["text"]]

    def message_text(self, m: Mapping[str, Any]) -> str:
        """A message as quoted: its real spelling when all members share it, else the masked form."""
        example = m.get("example")
        variants = m.get("variants")
        if isinstance(example, str) and example and (variants == 1 or not isinstance(variants, int)):
            return example
        return str(m.get("text") or "")

    def top_message(self, limit: int = TITLE_QUOTE) -> str:
        """The most common message, quoted ("" when there is none)."""
        found = self.messages()
        return self.q(self.message_text(found[0]), limit) if found else ""

    def message_clause(self, lead: str = ": ", minor: str = ", e.g. ", limit: int = TITLE_QUOTE) -> str:
        """The most common message joined to a title: ``lead`` + quote when at least half the members
        share it, else ``minor`` + quote (one example among several); "" when there is none."""
        quoted = self.top_message(limit)
        if not quoted:
            return ""
        count = self.messages()[0].get("count")
        common = not (isinstance(count, int) and self.signals and count * 2 < self.signals)
        return f"{lead if common else minor}{quoted}"

    def message_list(self, k: int = 3, label: str = "Most common messages") -> str:
        found = self.messages()[:k]
        if not found:
            return ""
        items = [f"{self.q(self.message_text(m))} ({_n(m.get('count'))})" for m in found]
        return f"{label}: {', '.join(items)}."

    def error_classes(self, k: int = 3) -> list[tuple[str, int]]:
        return _pairs(self.facts.get("error_classes"))[:k]

    def class_list(self) -> str:
        found = self.error_classes()
        if not found:
            return ""
        return "Error classes: " + ", ".join(f"{name} {count}" for name, count in found) + "."

    def shares(self) -> str:
        """Writes, recoveries, retries and admissions of failure, as short sentences."""
        parts: list[str] = []
        share, count = _share_of(self.facts, "writes")
        if count:
            parts.append(f"{_pct(share)} of them were writes ({count:,})")
        share, count = _share_of(self.facts, "recovered_later")
        if "recovered_later" in self.facts:
            parts.append(f"{_pct(share)} succeeded on a later call" if count else "none succeeded on a later call")
        share, count = _share_of(self.facts, "retried")
        if count:
            parts.append(f"{_pct(share)} were retried")
        share, count = _share_of(self.facts, "admits_failure")
        if "admits_failure" in self.facts:
            parts.append(f"the final answer admits the failure in {_pct(share)}" if count
                         else "the final answer never admits the failure")
        if not parts:
            return ""
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."

    def impact(self) -> str:
        imp = self.brief.impact if isinstance(self.brief.impact, Mapping) else {}
        parts: list[str] = []
        tokens = imp.get("tokens_wasted")
        if isinstance(tokens, int | float) and tokens >= 1:
            parts.append(f"{_n(round(tokens))} tokens")
        latency = imp.get("latency_wasted_ms")
        if isinstance(latency, int | float) and latency >= 1:
            parts.append(format_ms(latency))
        cost = imp.get("cost_wasted_usd")
        if isinstance(cost, int | float) and cost >= 0.0001:
            parts.append(f"${cost:,.4f}" if cost < 1 else f"${cost:,.2f}")
        return f"Wasted: {', '.join(parts)}." if parts else ""

    def exemplar_refs(self, k: int = 3) -> list[str]:
        refs: list[str] = []
        for e in self.brief.exemplars or ():
            ref = getattr(e, "ref", None)
            if isinstance(ref, str) and _REF.match(ref) and ref not in refs:
                refs.append(ref)
            if len(refs) >= k:
                break
        return refs

    def children_note(self) -> str:
        """A sentence on the sub-groups, when the recursive walk has summarised them (optional)."""
        summaries = list(self.brief.child_summaries or ())
        children = list(self.brief.children or ())
        titled = [i for i, s in enumerate(summaries) if isinstance(getattr(s, "title", None), str) and s.title]
        if len(titled) < 2:
            return ""

        def size(i: int) -> int:
            traces = getattr(children[i], "traces", 0) if i < len(children) else 0
            return traces if isinstance(traces, int) else 0

        largest = min(titled, key=lambda i: (-size(i), i))
        return f"It splits into {len(titled)} sub-groups; the largest: {_fit(summaries[largest].title, 160)}."


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _flat(text: str, limit: int) -> str:
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters without leaving a code span open."""
    text = _flat(text, limit)
    if text.count("`") % 2:
        text = text[: limit - 2] + "…`" if len(text) >= limit else text + "`"
    return text


def _join(items: Sequence[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return items[0] if items else ""
    return ", ".join(items[:-1]) + " and " + items[-1]


def _value(value: Any, unit: str) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "?"
    if unit == "ms":
        return format_ms(float(value))
    if unit == "usd":
        return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"
    if unit == "tokens":
        return f"{_n(round(value))} tokens"
    return _n(value)


def _verb(subject: _Subject, singular: str, plural: str) -> str:
    return plural if subject.plural else singular


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text and not text.startswith("`") else text


# ------------------------------------------------------------------------------------ kind templates


@dataclass(slots=True)
class _Parts:
    title: str
    what: str  # the first sentence(s) of the summary: what happens
    mechanism: str
    fix: str
    details: list[str]  # further summary sentences (messages, violations, shares…)


_SILENT_VERBS = {
    "success_false": "while returning success=false",
    "http_status": "while returning an HTTP error",
    "status_field": "while returning a failed status",
    "error_in_result": "while returning an error",
    "error_text": "while returning an error message as text",
    "exception_event": "while recording an exception",
    "swallowed_child_error": "after a child call failed",
}


def _status_phrase(w: _Writer, subject: _Subject) -> str:
    statuses = dict(_pairs(w.facts.get("statuses")))
    ok, unset = statuses.get("ok", 0), statuses.get("unset", 0)
    if unset > ok:
        return _verb(subject, "leaves its span status unset", "leave their span status unset")
    return _verb(subject, "reports OK", "report OK")


def _silent(w: _Writer, mechanism: str | None) -> _Parts:
    counts = f"({w.count_phrase()})"
    msg = w.top_message()
    tools = w.top_tools() or "the tool"
    details = [w.message_list(), w.class_list(), w.shares()]
    statuses = _pairs(w.facts.get("statuses"))
    status_note = (" The span status was " + ", ".join(f"{s.upper()} in {c}" for s, c in statuses) + "."
                   if statuses else "")
    if mechanism in ("max_turns_exit", "timeout_exit"):
        named = w.top_tools()  # "" when the members name no tool: the fix then names none
        subject = w.agents()
        ended = _pairs(w.facts.get("ended_at"))
        ended_total = sum(c for _, c in ended) or 1
        after = f" after {w.q(ended[0][0], 48)}" if ended and ended[0][1] / ended_total >= 0.5 else ""
        if mechanism == "max_turns_exit":
            event = _verb(subject, "hits the turn limit", "hit the turn limit")
            reason = "the agent ran out of turns before a final answer"
            fix = ("Treat a turn-limit exit as a failure: set the agent span status to ERROR and return an explicit "
                   "'incomplete' result to the caller. Then find why runs need so many turns (often a loop or a "
                   f"tool that keeps failing{', e.g. around ' + named if named else ''}) and fix that, or raise the "
                   "limit for long tasks.")
        else:
            event = _verb(subject, "times out", "time out")
            reason = "the run hit its time limit"
            fix = ("Treat a timeout exit as a failure: set the agent span status to ERROR and tell the caller the "
                   "answer is partial. Put per-tool timeouts below the run budget, and look at the slow or polling "
                   f"steps the runs ended on{f' ({named})' if named else ''}.")
        title = f"{subject.text} {event}{after} yet {_verb(subject, 'reports', 'report')} success"
        title += f"{w.message_clause()} {counts}"
        runs = w.facts.get("runs") if isinstance(w.facts.get("runs"), Mapping) else {}
        steps = f" after a median of {_n(runs['median_steps'])} steps" if isinstance(
            runs.get("median_steps"), int | float) else ""
        ends = (" Runs ended at " + ", ".join(f"{w.q(n, 48)} ({c})" for n, c in ended[:3]) + ".") if ended else ""
        what = (f"{_cap(subject.text)} stopped{steps} because {reason}, but the agent span does not report an "
                f"error, so the run looks successful: {w.how_often()}.{status_note}{ends}")
        mech = (f"The agent framework ends the run when {reason} and returns its stop message as the output, "
                "while the agent span keeps status OK/unset; nothing downstream learns the task was not done.")
        return _Parts(title, what, mech, fix, details)
    if mechanism == "empty_result":
        subject = w.tools()
        results = _pairs(w.facts.get("results"))
        shape = f" ({w.q(results[0][0], 40)})" if results else ""
        title = (f"{subject.text} {_verb(subject, 'returns', 'return')} an empty result{shape} where "
                 f"{_verb(subject, 'it normally returns', 'they normally return')} data {counts}")
        what = (f"{_cap(subject.text)} returned an empty result although the same tool returns data in almost all "
                f"other calls, and the span reported no error: {w.how_often()}.{status_note}")
        mech = ("The tool (or the service behind it) swallows a failure — a timeout, an error response, a bad query — "
                "and returns an empty value instead of an error, so the agent reads 'no results' as a fact.")
        fix = (f"Make {tools} distinguish 'nothing found' from 'could not look': return an error (and set the span "
               "status to ERROR) when the backend call fails, and tell the agent which one happened so it can retry "
               "or report it instead of answering from an empty result.")
        return _Parts(title, what, mech, fix, details)
    subject = w.tools()
    verb = _SILENT_VERBS.get(mechanism or "", "while its result shows a failure")
    status = _status_phrase(w, subject)
    joined = w.message_clause(" with ", ", e.g. with ") if mechanism in ("success_false", "swallowed_child_error") \
        else w.message_clause()
    title = f"{subject.text} {status} {verb}{joined} {counts}"
    what = (f"{_cap(subject.text)} finished without an error status although {_verb(subject, 'its', 'their')} "
            f"{'child span' if mechanism == 'swallowed_child_error' else 'result'} shows a failure: "
            f"{w.how_often()}.{status_note}")
    if mechanism == "swallowed_child_error":
        mech = ("A call inside the tool (an HTTP request or sub-step) failed and the tool caught the error and "
                "carried on, returning a normal-looking result with status OK; the failure is only visible in the "
                "child span.")
        fix = (f"In {tools}, do not swallow the child error: propagate it (or retry it with backoff and fail "
               "after the last attempt), set the tool span status to ERROR, and return an error result the "
               "agent can act on.")
    elif mechanism == "exception_event":
        mech = ("The tool recorded an exception on its span but caught it and returned a result anyway, leaving the "
                "span status OK/unset; the agent proceeds on data that may be partial or stale.")
        fix = (f"In the wrapper of {tools}, set the span status to ERROR whenever an exception is recorded, and "
               "either re-raise or return an explicit error result"
               + (f"; then fix the most common exception, {msg}." if msg else "."))
    else:
        mech = ("The tool reports its failure inside the result payload (an error field, an HTTP status, "
                "success=false or a failed status) instead of raising, so the span status stays OK/unset and "
                "the failure is invisible to monitoring; whether the agent notices depends on it reading the "
                "payload.")
        fix = (f"Set the span status to ERROR from the wrapper of {tools} when the result carries an error key, an "
               "HTTP status ≥ 400, success=false or a failed status, and surface the error to the agent as an "
               "error (not as data) so it retries or reports it; add retries with backoff for transient classes.")
    return _Parts(title, what, mech, fix, details)


def _loop(w: _Writer, mechanism: str | None) -> _Parts:
    counts = f"({w.count_phrase()})"
    loops = w.facts.get("loops") if isinstance(w.facts.get("loops"), Mapping) else {}
    repeats = loops.get("median_repeats")
    times = f"{_n(math.floor(repeats + 0.5))}×" if isinstance(repeats, int | float) else "repeatedly"
    max_rep = loops.get("max_repeats")
    cycles = _pairs(loops.get("cycles"))
    stuck = _pairs(loops.get("stuck_states"))
    stuck_n = loops.get("stuck_polls") if isinstance(loops.get("stuck_polls"), int) else 0
    failing, _ = _share_of(loops, "failing")
    reformatted, _ = _share_of(loops, "reformatted")
    tools = w.top_tools() or "the repeated tool"
    results = _pairs(w.facts.get("results"))
    details = [w.shares() if _share_of(w.facts, "writes")[1] else ""]
    if isinstance(max_rep, int | float) and isinstance(repeats, int | float):
        details.insert(0, f"Median {_n(repeats)} repeats per run, up to {_n(max_rep)}.")
    fix_common = ("Add a repetition guard to the agent loop: stop (or inject a 'you already called this with these "
                  "arguments and got this result' message) after N identical calls (e.g. max 2), and count it "
                  "as a failed step.")
    if mechanism == "llm_repeat":
        subject = w.models("The model")
        said = w.q(_readable(results[0][0]), TITLE_QUOTE) if results else ""
        title = (f"{subject.text} {_verb(subject, 'repeats', 'repeat')} the same message {times} with no new input"
                 + (f": {said}" if said else "") + f" {counts}")
        what = (f"{_cap(subject.text)} produced the same reply {times} in a row (median) with no tool result or "
                f"user input in between: {w.how_often()}.")
        if results:
            details.insert(0, "Repeated replies: " + ", ".join(
                f"{w.q(_readable(r), 80)} ({c})" for r, c in results[:3]) + ".")
        mech = ("The model keeps answering with a holding message ('let me check…') without calling a tool, and the "
                "agent loop feeds the reply back as if progress were made, so each turn reproduces the last.")
        fix = ("Detect a reply identical to the previous one in the agent loop and break it: force a tool call "
               "(tool_choice=required) or end the run with an explicit failure; tighten the system prompt so the "
               "model acts instead of announcing that it will, and cap turns without a tool call.")
        return _Parts(title, what, mech, fix, details)
    if stuck_n and stuck_n * 2 >= (loops.get("count") or 1):
        subject = w.tools()
        state = f" (stuck in {w.q(stuck[0][0], 32)})" if stuck else ""
        title = f"{subject.text} polled {times} with no progress{state} {counts}"
        what = (f"The agent polled {subject.text} {times} (median) with the same arguments while the work it "
                f"watches stayed in the same state: {w.how_often()}.")
        if stuck:
            details.insert(0, "States: " + ", ".join(f"{w.q(s, 32)} ({c})" for s, c in stuck[:4]) + ".")
        mech = ("The job the agent is waiting for never leaves its pending state (stuck, failed upstream or never "
                "started), and the agent keeps polling without a limit, burning turns until the run ends.")
        fix = (f"Give polls of {tools} a deadline and backoff (e.g. exponential, max N polls), return progress "
               "state and elapsed time in the result so the agent can tell a stuck job from a slow one, and fail "
               "the step explicitly when the deadline passes. " + fix_common)
        return _Parts(title, what, mech, fix, details)
    if mechanism == "tool_cycle" or (cycles and " -> " in cycles[0][0]):
        subject = w.subject(cycles, "cycle", "tool cycles", "A cycle of tool calls")
        title = f"Cycle {subject.text} {_verb(subject, 'repeats', 'repeat')} {times} with the same results {counts}"
        if subject.plural:
            title = f"{subject.text} {_verb(subject, 'repeats', 'repeat')} {times} with the same results {counts}"
        what = (f"The agent went round the same sequence of tool calls {times} (median), with the same arguments "
                f"and the same results each time: {w.how_often()}.")
        mech = ("The agent does not keep what it learned from the cycle's results (the answer is already in "
                "context but not used, or a later step fails and restarts the sequence), so it repeats a "
                "sequence whose results cannot change.")
        fix = (fix_common + f" Return progress state from {tools} (what was found, what to do next) and keep earlier "
               "results visible in the prompt so the agent can move on.")
        return _Parts(title, what, mech, fix, details)
    subject = w.tools()
    where = "again and again through the run" if mechanism == "tool_recurring" else f"{times} in a row"
    outcome = "failing each time" if failing >= 0.5 else "getting the same result each time"
    args = "near-identical" if reformatted >= 0.5 else "the same"
    title = f"{subject.text} called {where} with {args} arguments, {outcome} {counts}"
    what = (f"The agent called {subject.text} {where} with {args} arguments, {outcome}: {w.how_often()}.")
    if stuck_n:
        details.append(f"{_plural(stuck_n, 'loop was a poll', 'loops were polls')} of work that made no progress"
                       + (" (" + ", ".join(f"{w.q(st, 32)} {c}" for st, c in stuck[:3]) + ")" if stuck else "")
                       + ".")
    if reformatted > 0:
        details.append(f"Arguments were only reformatted (same values) in {_pct(reformatted)} of the loops.")
    if results:
        details.append(f"Most common repeated result: {w.q(results[0][0], 100)}.")
    mech = ("The agent gets an answer it does not act on — it expected something else, missed that the result "
            "already answers its question, or the result is an error it does not understand — and asks again.")
    fix = fix_common + f" Make {tools} return results that say plainly what was found and what to do next."
    if failing >= 0.5:
        fix += " Return errors from the tool as errors with an actionable message, so the agent changes course."
    return _Parts(title, what, mech, fix, details)


def _duplicate(w: _Writer, mechanism: str | None) -> _Parts:
    counts = f"({w.count_phrase()})"
    dup = w.facts.get("duplicates") if isinstance(w.facts.get("duplicates"), Mapping) else {}
    writes, write_n = _share_of(w.facts, "writes")
    adjacent, _ = _share_of(dup, "adjacent")
    reformatted, reformatted_n = _share_of(dup, "reformatted")
    same, _ = _share_of(dup, "same_result")
    subject = w.tools()
    tools = w.top_tools() or "the tool"
    when = "back to back" if adjacent >= 0.5 else "later in the run"
    calls = dup.get("median_calls")
    times = f"{_n(calls)}×" if isinstance(calls, int | float) and calls >= 2 else "twice"
    args = " (arguments reformatted)" if reformatted >= 0.5 else ""
    details = [f"{_pct(writes)} of the repeated calls were writes ({write_n})." if write_n else "",
               f"Arguments differed only in formatting in {_pct(reformatted)} of them." if reformatted_n else "",
               _same_result(same, writes, "same_result" in dup)]
    args_top = _pairs(w.facts.get("arguments"))
    if args_top:
        details.append(f"Most common arguments: {w.q(args_top[0][0], 100)}.")
    if writes >= 0.5:
        title = (f"Writes through {subject.text} repeated with identical arguments {when}"
                 f"{args}, risking duplicate side effects {counts}")
        what = (f"The agent performed the same write through {subject.text} {times} with the same arguments "
                f"{when}, after the first call had succeeded: {w.how_often()}.")
        mech = ("The agent does not trust or does not see the first write's success (a slow or ambiguous result, a "
                "lost context, a retry wrapper around a call that did succeed) and issues it again; a write "
                "without an idempotency key then happens twice — a double charge, booking or message.")
        fix = (f"Make {tools} idempotent: accept an idempotency key (derived from the run and the arguments) and "
               "return the first result for a repeated key; have the tool result state clearly that the write "
               "succeeded; and add a guard in the agent loop against identical write calls within one run.")
    else:
        title = (f"{subject.text} called {times} with identical arguments {when}{args} after a successful result "
                 f"{counts}")
        what = (f"The agent called {subject.text} again with the same arguments {when}, although the first call "
                f"had already succeeded: {w.how_often()}.")
        mech = ("The agent re-asks a question it already has the answer to — the earlier result fell out of context "
                "or was not recognised as the answer — wasting a call, latency and tokens.")
        fix = (f"Cache results of {tools} per run (keyed by normalised arguments) and return the cached result with "
               "a note that it was already fetched; keep earlier results visible to the agent; add a guard "
               "against identical calls within a run.")
    return _Parts(title, what, mech, fix, details)


def _same_result(same: float, writes: float, known: bool) -> str:
    if not known:
        return ""
    if same <= 0:
        return ("The repeat returned a different result every time, so the write most likely took effect twice."
                if writes >= 0.5 else "The repeat returned a different result every time.")
    return f"The repeat returned the same result in {_pct(same)}."


def _argument(w: _Writer, mechanism: str | None) -> _Parts:
    counts = f"({w.count_phrase()})"
    subject = w.tools()
    tools = w.top_tools() or "the tool"
    details = [w.message_list(label="Most common errors") if mechanism != "schema_violation" else ""]
    if mechanism == "unknown_tool":
        unknown = [u for u in _dicts(w.facts.get("unknown_tools")) if u.get("tool")]
        first = unknown[0] if unknown else {}
        closest = f" (closest declared tool: {w.q(first['closest'], 48)})" if first.get("closest") else ""
        if len(unknown) > 1:
            title = (f"Agents call {len(unknown)} undeclared tools, e.g. {w.q(first['tool'], 48)}{closest} "
                     f"{counts}")
        elif unknown:
            title = f"Agents call undeclared tool {w.q(first['tool'], 48)}{closest} {counts}"
        else:
            title = f"Agents call tools they were not given {counts}"
        what = f"The model called a tool that is not among the tools the agent declares: {w.how_often()}."
        if unknown:
            details.insert(0, "Called → closest declared: " + ", ".join(
                f"{w.q(u['tool'], 48)} → {w.q(u.get('closest'), 48) or 'none'} ({_n(u.get('count'))})"
                for u in unknown[:4]) + ".")
        mech = ("The model invents a tool name — a plausible synonym of a declared tool, or a tool from its "
                "training data or an earlier prompt version — and the call fails with 'tool not found'.")
        fix = ("Map common invented names to the declared tool (an alias table) or return the list of valid tool "
               "names in the error so the model can correct itself; make the declared tools' names and "
               "descriptions unambiguous, and check that the prompt does not mention tools the agent lacks.")
        return _Parts(title, what, mech, fix, details)
    if mechanism == "unparseable_arguments":
        title = f"{subject.text} {_verb(subject, 'receives', 'receive')} arguments that are not valid JSON {counts}"
        what = f"The model produced tool-call arguments that do not parse as JSON: {w.how_often()}."
        mech = ("The model's tool-call arguments are malformed (truncated by max_tokens, unescaped quotes, "
                "trailing text), so the tool cannot read them.")
        fix = (f"Use the provider's structured/strict tool calling for {tools}, raise max_tokens for calls with long "
               "arguments, and return the parse error to the model so it can resend valid JSON.")
        return _Parts(title, what, mech, fix, details)
    if mechanism in ("schema_violation", "inferred_schema_violation"):
        violations = [v for v in _dicts(w.facts.get("violations")) if v.get("validator")]
        inferred = mechanism == "inferred_schema_violation"
        schema = "the schema inferred from its successful calls" if inferred else "its declared schema"
        if violations:
            v = violations[0]
            title = (f"{subject.text} called with arguments violating {w.q(v['validator'], 24)} at "
                     f"{w.q(v.get('path'), 40)}"
                     + (f": {w.q(v['message'], 50)}" if v.get("message") else "") + f" {counts}")
            details.insert(0, "Violations: " + ", ".join(
                f"{w.q(x['validator'], 24)} at {w.q(x.get('path'), 40)}"
                + (f" — {w.q(x['message'], 80)}" if x.get("message") else "") + f" ({_n(x.get('count'))})"
                for x in violations[:3]) + ".")
            constraint = f"the {w.q(v['validator'], 24)} constraint on {w.q(v.get('path'), 40)}"
        else:
            title = f"{subject.text} called with arguments that break {schema} {counts}"
            constraint = "the violated constraints"
        what = f"The model called {subject.text} with arguments that break {schema}: {w.how_often()}."
        share, n = _share_of(w.facts, "writes")
        if n:
            details.append(f"{_pct(share)} of these calls were writes.")
        mech = ("The model fills the arguments from its own idea of the tool (wrong enum casing, wrong type, a "
                "missing required field) rather than from the schema, which is either too loose in its "
                "description or not enforced before the call.")
        fix = (f"Name {constraint} in the description of {tools} (allowed values, types, required fields, an "
               "example call), enable strict schema enforcement where the provider supports it, and validate "
               "arguments before calling the tool, returning the validation error to the model so it can correct "
               "the call.")
        return _Parts(title, what, mech, fix, details)
    # validation_error_result and anything else the argument detector reports
    title = f"{subject.text} {_verb(subject, 'rejects its', 'reject their')} arguments{w.message_clause()} {counts}"
    what = f"{_cap(subject.text)} returned a validation error for the arguments the model sent: {w.how_often()}."
    mech = ("The arguments pass the declared schema (or there is none) but break a rule the tool enforces "
            "itself — a format, a range, an allowed value — that the model was never told about.")
    fix = (f"State the rule the tool enforces in the schema and description of {tools} (format, range, allowed "
           "values, an example), validate before calling, and return the validation message to the model so it "
           "can fix the call.")
    return _Parts(title, what, mech, fix, details)


_CLASS_FIXES = {
    "timeout": "retry with exponential backoff and a longer per-call timeout, and make the tool return a clear "
               "timeout error the agent can report",
    "rate limited": "retry with exponential backoff honouring Retry-After, and throttle concurrent calls",
    "authentication or permission": "fix the credentials or scopes the tool uses (retrying will not help) and "
                                    "make the agent report the permission problem instead of ending silently",
    "not found": "validate identifiers before calling and let the agent look the object up again (search) "
                 "instead of giving up",
    "server error": "retry with exponential backoff and jitter, with a circuit breaker for a failing backend",
    "connection": "retry with backoff on connection errors, and alert when the backend stays unreachable",
    "invalid input": "return the validation message to the agent so it can correct the arguments and retry",
    "program error": "fix the tool's code path (it crashes on an unexpected response shape) and return a "
                     "structured error instead of an exception",
}


def _unrecovered(w: _Writer, mechanism: str | None) -> _Parts:
    counts = f"({w.count_phrase()})"
    subject = w.tools(fallback="")
    if not subject.names:
        subject = w.models(fallback="")
    if not subject.names:
        subject = w.agents(fallback="Agent steps")
    tools = w.top_tools() or subject.text
    classes = w.error_classes()
    found = w.messages()
    retried, retried_n = _share_of(w.facts, "retried")
    top_share = (found[0].get("count") or 0) / max(w.signals, 1) if found else 0.0
    if found and (top_share >= 0.3 or not classes):
        failure = f"fails with {w.q(w.message_text(found[0]), TITLE_QUOTE)}"
    elif classes:
        example = next((m for m in found if m.get("error_class") == classes[0][0]), None)
        failure = f"fails with {classes[0][0]} errors" + (
            f" (e.g. {w.q(w.message_text(example), 40)})" if example else "")
    else:
        failure = "fails"
    after = "after a failed retry" if retried >= 0.5 else "with no retry or recovery"
    title = f"{subject.text} {_verb(subject, failure, failure.replace('fails', 'fail', 1))} {after} {counts}"
    runs = w.facts.get("runs") if isinstance(w.facts.get("runs"), Mapping) else {}
    steps_after = runs.get("median_steps_after")
    after_steps = ""
    if isinstance(steps_after, int | float) and not isinstance(steps_after, bool):
        after_steps = (" The run usually ended right after the error." if steps_after < 0.5 else
                       f" The agent took a median of {_n(steps_after)} more step{'' if steps_after == 1 else 's'} "
                       "after the error.")
    what = (f"{_cap(subject.text)} returned an explicit error and the agent neither retried it successfully nor "
            f"worked around it before finishing: {w.how_often()}.{after_steps}")
    run_failed, run_failed_n = _share_of(w.facts, "run_failed")
    details = [w.message_list(), w.class_list(), w.shares(),
               f"The run itself ended in error in {_pct(run_failed)}." if run_failed_n else ""]
    mech = ("The error reaches the agent, but there is no retry policy for it and the agent has no alternative "
            "path, so it finishes with the task undone — sometimes with an answer that does not admit it.")
    advice = [_CLASS_FIXES[c] for c, _ in classes[:2] if c in _CLASS_FIXES]
    policy = (f"Strengthen the retry policy of {tools} (these calls were retried and failed again)"
              if retried >= 0.5 else f"Add a retry policy to {tools}")
    fix = (f"{policy} for the error classes seen here: "
           + ("; for the next class, ".join(advice) if advice else "retry transient failures with exponential "
              "backoff, fail fast on permanent ones")
           + ". Make the agent's final answer say the task failed when a required step did not succeed.")
    if retried_n == 0 and "retried" in w.facts:
        fix += " None of these calls was retried."
    return _Parts(title, what, mech, fix, details)


_METRIC_WORDS = {"latency": "latency", "duration": "duration", "cost": "cost", "input_tokens": "input tokens",
                 "output_tokens": "output tokens", "total_tokens": "total tokens"}


def _outlier(w: _Writer, mechanism: str | None) -> _Parts:
    counts = f"({w.count_phrase()})"
    metrics = [m for m in _dicts(w.facts.get("metrics")) if isinstance(m.get("metric"), str)]
    subject = w.tools(fallback="") if w.brief.tools else _Subject("", True, [])
    if not subject.names:
        subject = w.models("LLM and tool calls")
        if subject.names and not subject.plural:
            subject = _Subject(f"{subject.text} calls", True, subject.names)
    top = metrics[0] if metrics else {}
    metric = str(top.get("metric") or "")
    words = _METRIC_WORDS.get(metric, metric.replace("_", " ") or "cost or latency")
    unit = str(top.get("unit") or "")
    ratio = top.get("median_ratio")
    times = f"{_n(ratio)}×" if isinstance(ratio, int | float) else "far"
    if top.get("median_value") is not None and top.get("median_baseline") is not None:
        vs = f" (median {_value(top['median_value'], unit)} vs {_value(top['median_baseline'], unit)})"
    else:
        vs = ""
    title = f"{subject.text}: {words} {times} above usual{vs} {counts}"
    what = (f"{_cap(subject.text)} had {words} far above the usual value for the same tool or model: "
            f"{w.how_often()}.")
    details = []
    if metrics:
        details.append("Metrics: " + "; ".join(
            f"{_METRIC_WORDS.get(str(m['metric']), str(m['metric']))} in {_n(m.get('count'))} "
            f"(median {_value(m.get('median_value'), str(m.get('unit') or ''))}, "
            f"{_n(m.get('median_ratio'))}× usual, up to {_n(m.get('max_ratio'))}×)" for m in metrics[:3]) + ".")
    names = {str(m["metric"]) for m in metrics}
    tools = w.top_tools() or subject.text
    if metric == "output_tokens":
        mech = "The model generates far longer outputs than usual (verbose answers, runaway lists or repetition)."
        fix = (f"Cap max_tokens for {tools}, ask for concise output in the prompt, and stop generation on "
               "repetition; long outputs also explain the extra latency and cost.")
    elif metric in ("input_tokens", "total_tokens") or (metric == "cost" and names & {"input_tokens",
                                                                                       "total_tokens"}):
        mech = ("The prompt grows far beyond its usual size — the whole history or large tool results are sent "
                "back on every turn — which drives tokens and cost.")
        fix = (f"Trim the context sent to {tools}: truncate or summarise long tool results and old turns, cap "
               "context tokens per call, and set a per-run token budget.")
    elif metric == "cost":
        mech = "Single calls cost far more than usual for the same model or tool."
        fix = f"Set a per-run cost budget and cap max_tokens for {tools}; route long tasks to a cheaper model."
    else:
        mech = ("Calls take far longer than usual for the same tool or model — a slow backend, a retry inside the "
                "call, or a much larger request.")
        fix = (f"Set timeouts on {tools} near the usual latency (with one retry), stream long LLM responses, and "
               "alert on the slow backend; cap max_tokens where long outputs explain the time.")
    return _Parts(title, what, mech, fix, details)


def _generic(w: _Writer, mechanism: str | None, kind: str) -> _Parts:
    counts = f"({w.count_phrase()})"
    subject = w.tools(fallback="")
    if not subject.names:
        subject = w.models(fallback="")
    if not subject.names:
        subject = w.agents()
    label = w.q((mechanism or kind or "signal").replace("`", ""), 40)
    title = f"{subject.text}: {label}{w.message_clause(' — ', ' — e.g. ')} {counts}"
    frame = w.brief.frame if isinstance(w.brief.frame, str) else ""
    what = f"A detector reported {label} for {subject.text}: {w.how_often()}." + (
        f" Detector sentence: {w.q(frame, 160)}." if frame else "")
    keywords = [k for k in (w.brief.keywords or ()) if isinstance(k, str) and k][:6]
    details = [w.message_list(), w.class_list(), w.shares(),
               ("Keywords: " + ", ".join(w.q(k, 32) for k in keywords) + ".") if keywords else ""]
    mech = (f"Signals of kind {w.q(kind or 'unknown', 40)}"
            + (f" (mechanism {w.q(mechanism, 40)})" if mechanism else "")
            + " from a detector without a dedicated template; see the exemplars for the evidence.")
    tools = w.top_tools()
    fix = ("Open the exemplars" + (f" for {tools}" if tools else "")
           + ", confirm the failure, and fix it where the messages point; surface the error to the agent and set "
             "the span status to ERROR so it is visible.")
    return _Parts(title, what, mech, fix, details)


_CONTRAST_FIXES = {
    "value": "Tighten the tool description and schema for this argument (an enum, a pattern, an example) and "
             "validate it in the tool so the bad value is rejected with an actionable message; add an eval case "
             "that passes this value.",
    "argument": "Check when the agent passes this argument: make the tool description say when it applies, or "
                "drop it from the schema if it misleads; add an eval case for the runs that pass it.",
    "result": "Make the agent handle this result of the tool: retry, ask the user or stop with an explicit "
              "failure instead of carrying on; make the result say plainly what went wrong.",
    "tool": "Review why runs that call this tool fail: its description, when the agent chooses it, and what it "
            "returns; add eval cases from the cited runs.",
}


def _contrast(w: _Writer, mechanism: str | None) -> _Parts:
    facts = w.facts.get("contrast") if isinstance(w.facts.get("contrast"), Mapping) else {}
    feature = w.q(facts.get("feature") or "this feature", 80)
    rate_with, rate_without = facts.get("rate_with"), facts.get("rate_without")
    rates = (f"{_pct(rate_with)} of the runs with it failed vs {_pct(rate_without)} without it"
             if isinstance(rate_with, int | float) and isinstance(rate_without, int | float) else "")
    subject = w.tools()
    title = f"{subject.text}: runs with {feature} fail more often" + (f" ({rates})" if rates else "") + \
        f" ({w.count_phrase()} failed)"
    q = facts.get("q_value")
    what = (f"Failed runs carry {feature} far more often than the other runs of the window"
            + (f": {rates}" if rates else "")
            + (f" (over {_n(facts.get('traces_with'))} runs with it, adjusted p = {q:.1e})"
               if isinstance(q, int | float) else "") + ".")
    mech = ("No detector names a failure here: the runs' outcomes do. Something about this call — the value "
            "passed, whether the argument is used, what the tool returned — goes with failed runs; the cited "
            "calls show it. A contrast is a correlation to check, not a proven cause.")
    fix = _CONTRAST_FIXES.get(mechanism or "", _CONTRAST_FIXES["tool"])
    return _Parts(title, what, mech, fix, [])


def _trajectory(w: _Writer, mechanism: str | None) -> _Parts:
    facts = w.facts.get("trajectory") if isinstance(w.facts.get("trajectory"), Mapping) else {}
    steps = [w.q(s, 60) for s in facts.get("steps") or () if isinstance(s, str)]
    path = " → ".join(steps) or "one path"
    rate_with, rate_without = facts.get("rate_with"), facts.get("rate_without")
    rates = (f"{_pct(rate_with)} failed vs {_pct(rate_without)} of the other runs"
             if isinstance(rate_with, int | float) and isinstance(rate_without, int | float) else "")
    title = f"Runs that go {path} fail far more often" + (f" ({rates})" if rates else "") + f" ({w.count_phrase()})"
    what = (f"A cluster of similar failing runs shares steps that successful runs rarely take ({path})"
            + (f": {rates}" if rates else "") + f"; {w.how_often()}.")
    mech = ("The runs follow one path the agent should not take — these steps appear in most of them and seldom "
            "in successful runs. No detector names a single faulty call; the path as a whole goes with failure.")
    fix = ("Replay the cited runs and find where the path diverges from successful ones: tighten the prompt or "
           "tool descriptions at that step, add a guard for the situation that leads there, and turn the runs "
           "into eval cases.")
    return _Parts(title, what, mech, fix, [])


_TEMPLATES: dict[str, Callable[[_Writer, str | None], _Parts]] = {
    "silent_failure": _silent,
    "loop": _loop,
    "duplicate_call": _duplicate,
    "argument_error": _argument,
    "unrecovered_error": _unrecovered,
    "outlier": _outlier,
    "contrast": _contrast,
    "trajectory": _trajectory,
}


# --------------------------------------------------------------------------------------------- summariser


class OfflineSummariser:
    """Deterministic summaries from templates per kind and mechanism (no model, no network).

    ``redactor`` redacts every quoted trace text once more (idempotent with what the brief already went
    through); the default rules when ``None``."""

    name = "offline"

    def __init__(self, redactor: Redactor | None = None) -> None:
        self.redactor = redactor if redactor is not None else default_redactor()

    def summarise(self, brief: Brief) -> Summary:
        try:
            w = _Writer(brief, self.redactor)
            if brief.level == "overview":
                return self._overview(w)
            if brief.level == "theme":
                return self._theme(w)
            return self._node(w)
        except Exception as exc:  # never let one odd brief stop a run; say so in the text
            return Summary(
                title="Failure group (summary unavailable)",
                summary=f"The offline summariser could not describe this group ({type(exc).__name__}).",
                mechanism="Unknown.",
                recommended_fix="Open the exemplars to see the failure.",
                exemplar_refs=[],
                summariser=self.name,
            )

    # ---- leaves and findings

    def _node(self, w: _Writer) -> Summary:
        kind, mechanism = _kind_and_mechanism(w)
        template = _TEMPLATES.get(kind)
        parts = template(w, mechanism) if template else _generic(w, mechanism, kind)
        others = _other_kinds(w, kind)
        refs = w.exemplar_refs()
        sentences = [parts.what, *parts.details, others, w.impact(), w.children_note()]
        if refs:
            sentences.append(f"Exemplars: {', '.join(refs)}.")
        summary = " ".join(s.strip() for s in sentences if s and s.strip())
        agents = [name for name, _ in _pairs(w.brief.agents)]
        title = _cap(parts.title)
        if len(agents) == 1 and w.brief.level == "finding" and not title.startswith(w.q(agents[0], 48) + " "):
            title = f"{w.q(agents[0], 48)}: {title}"  # one fix: say whose (unless the title starts with it)
        return Summary(
            title=_fit(title, 240),
            summary=summary,
            mechanism=parts.mechanism,
            recommended_fix=parts.fix,
            exemplar_refs=refs,
            summariser=self.name,
        )

    # ---- themes

    def _theme(self, w: _Writer) -> Summary:
        """A cross-cutting mechanism: the kind's template over all members (its mechanism and a fix naming
        the main tools), titled by how far it reaches, with its findings listed largest first."""
        kind, mechanism = _kind_and_mechanism(w)
        template = _TEMPLATES.get(kind)
        parts = template(w, mechanism) if template else _generic(w, mechanism, kind)
        agents = [name for name, _ in _pairs(w.brief.agents)]
        tools = [name for name, _ in _pairs(w.brief.tools)]
        findings = _int(w.facts.get("findings")) or len(w.brief.children or ())
        label = f"{kind.replace('_', ' ')} — {(mechanism or 'same mechanism').replace('_', ' ')}"
        reach = ", ".join(x for x in (_plural(w.distinct("agents", len(agents)), "agent") if agents else "",
                                      _plural(w.distinct("tools", len(tools)), "tool") if tools else "") if x)
        title = f"{w.q(label, 60)} in {reach or _plural(findings, 'finding')} ({w.count_phrase()})"
        children = list(w.brief.children or ())
        listed = []
        for i, summary in enumerate(w.brief.child_summaries or ()):
            text = _flat(getattr(summary, "title", "") or "", 160)
            traces = children[i].traces if i < len(children) and isinstance(children[i].traces, int) else 0
            if text:
                listed.append((traces, i, text))
        listed.sort(key=lambda t: (-t[0], t[1]))
        sentences = [
            f"{_plural(findings, 'finding')} share this mechanism: {w.how_often()}.",
            ("Agents: " + ", ".join(f"{w.q(n, 40)} ({c})" for n, c in _pairs(w.brief.agents)[:5]) + ".")
            if agents else "",
            ("Tools: " + ", ".join(f"{w.q(n, 40)} ({c})" for n, c in _pairs(w.brief.tools)[:6]) + ".")
            if tools else "",
            ("Its findings, largest first: " + "; ".join(t for _, _, t in listed[:5]) + ".")
            if listed else "",
            w.impact(),
        ]
        return Summary(
            title=_fit(_cap(title), 240),
            summary=" ".join(x for x in sentences if x),
            mechanism=parts.mechanism,
            recommended_fix="One change for all of them: " + parts.fix,
            exemplar_refs=w.exemplar_refs(),
            summariser=self.name,
        )

    # ---- overview

    def _overview(self, w: _Writer) -> Summary:
        brief = w.brief
        children = list(brief.children or ())
        summaries = list(brief.child_summaries or ())
        items: list[tuple[int, int, str, str]] = []  # (traces, rank order, title, fix)
        for i, summary in enumerate(summaries):
            child = children[i] if i < len(children) else None
            traces = child.traces if child is not None and isinstance(child.traces, int) else 0
            title = _flat(getattr(summary, "title", "") or "", 200)
            fix = _sentence(_flat(getattr(summary, "recommended_fix", "") or "", 400))
            if title:
                items.append((traces, i, title, fix))
        if not items:
            for i, child in enumerate(children):
                kind = (child.kinds or ["failures"])[0] if isinstance(child.kinds, list) else "failures"
                items.append((child.traces if isinstance(child.traces, int) else 0, i,
                              f"{w.q(kind, 40)} ({_plural(child.traces or 0, 'trace')})", ""))
        items.sort(key=lambda t: t[1])  # the children come ranked: #1 is the top finding everywhere
        count = len(children) or len(items)
        if not count:
            scope = f" in {w.window:,} traces" if w.window else ""
            return Summary(
                title=f"No failures found{scope}",
                summary=f"The detectors reported no failure{scope}.",
                mechanism="No failure mode was detected in this window.",
                recommended_fix="Nothing to fix; keep the nightly run to catch regressions.",
                exemplar_refs=w.exemplar_refs(),
                summariser=self.name,
            )
        affected = f" in {w.count_phrase()}" if w.traces else ""
        title = f"{_plural(count, 'failure mode')}{affected}"
        top = items[:3]
        biggest = "; ".join(f"#{i + 1} {t}" for _, i, t, _ in top)
        kinds = _pairs(w.facts.get("kinds")) or [(k, 0) for k in brief.kinds or () if isinstance(k, str)]
        kinds_text = ", ".join(f"{name.replace('_', ' ')} {c}" if c else name.replace("_", " ")
                               for name, c in kinds[:6])
        sentences = [f"{_plural(count, 'finding')} affect {w.how_often().split(' in ', 1)[-1]}."
                     if w.traces else f"{_plural(count, 'finding')}.",
                     f"The top-ranked findings: {biggest}." if biggest else "",
                     f"Signals by kind: {kinds_text}." if kinds_text else "", w.impact()]
        fixes = [f"#{i + 1} {fx}" for _, i, _, fx in top if fx]
        return Summary(
            title=title,
            summary=" ".join(s for s in sentences if s),
            mechanism=("Several independent failure modes; the highest-ranked are listed first. "
                       + (f"Most signals are {kinds[0][0].replace('_', ' ')}." if kinds else "")).strip(),
            recommended_fix=("Fix in order of impact: " + " ".join(fixes)) if fixes
            else "Open the largest findings first.",
            exemplar_refs=w.exemplar_refs(),
            summariser=self.name,
        )


def _kind_and_mechanism(w: _Writer) -> tuple[str, str | None]:
    kinds = _pairs(w.facts.get("kinds"))
    kind = kinds[0][0] if kinds else next((k for k in w.brief.kinds or () if isinstance(k, str) and k), "")
    mechanisms = _pairs(w.brief.mechanisms) if w.brief.mechanisms else []
    if not mechanisms:
        mechanisms = _pairs(w.facts.get("mechanisms"))
    mechanism = mechanisms[0][0] if mechanisms else None
    return kind, mechanism


def _other_kinds(w: _Writer, kind: str) -> str:
    kinds = [(k, c) for k, c in _pairs(w.facts.get("kinds")) if k != kind]
    if not kinds:
        return ""
    return "Also in this group: " + ", ".join(f"{k.replace('_', ' ')} ({c})" for k, c in kinds[:3]) + "."
