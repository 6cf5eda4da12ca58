"""The ``loop`` detector: the agent repeats an action, or a cycle of actions, without learning anything.

Two mechanisms (see :mod:`tracemine.detect.actions` for the shared rules):

* **tool loops** — a block of 1..``max_period`` tool calls (tool name + canonical arguments, or near-same
  arguments when only free text was trivially rephrased) repeated ``min_repeats`` or more times in a row,
  where every repetition returns the same result as the first (ignoring volatile values such as
  timestamps). A poll whose result changes is observing progress and a paginated call changes its
  arguments, so neither is a loop.
* **LLM loops** — the model produces the same (or near-same) output ``min_repeats`` or more times with
  no observation in between (no tool result, user message or retrieval).

A first pass over the window learns which tools are *polls*: tools that agents call again with the same
arguments to watch state change, i.e. whose repeated identical calls usually return a different result.
A loop on such a tool is reported as a stuck poll (the watched work made no progress), a distinct failure
from an agent re-asking a question whose answer cannot change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from pydantic import Field

from tracemine.detect.actions import (
    Loop,
    LoopParams,
    actions,
    llm_loops,
    pending_state,
    result_is_error,
    result_signature,
    tool_loops,
)
from tracemine.detect.base import Detector
from tracemine.detect.builtin.loop.evidence import LoopEvidence
from tracemine.detect.outcome import call_failure
from tracemine.detect.tool_roles import is_write_tool
from tracemine.detect.view import LlmTurn, ToolCall, TraceView
from tracemine.model import Signal, Span
from tracemine.redact import redact_cut

EXCERPT = 200


class LoopDetectorParams(LoopParams):
    """``detect.loop``: what makes a loop (:class:`LoopParams`, shared with the detectors that leave loops to
    this one), its severity, and what makes a tool a poll."""

    llm_loops: bool = Field(True, description="also report LLM turns repeating themselves with no observation between")
    high_repeats: int = Field(5, ge=2, description="severity high from this many repeats (or any write in the cycle)")
    critical_repeats: int = Field(10, ge=2, description="severity critical from this many repeats")
    high_tokens: int = Field(20_000, ge=0, description="severity high when the loop burnt this many tokens")
    poll_min_repeats: int = Field(5, ge=1, description="a tool is a poll when, over the window, at least this many "
                                  "repeated identical calls…")
    poll_changed_share: float = Field(0.5, ge=0, le=1, description="…returned a changed result this often")


class LoopDetector(Detector):
    """Repeated actions or cycles of actions without new information (settings: :class:`LoopDetectorParams`)."""

    name: ClassVar[str] = "loop"
    kinds: ClassVar[tuple[str, ...]] = ("loop",)
    wording = "wording.j2"
    facts_order = 30
    uses_window_stats: ClassVar[bool] = True
    params_model: ClassVar[type[LoopDetectorParams]] = LoopDetectorParams
    evidence_model: ClassVar[type[LoopEvidence]] = LoopEvidence
    params: LoopDetectorParams

    @classmethod
    def facts(cls, evidences: list[Mapping[str, Any]], texts: Any, top: int) -> dict[str, Any]:
        """``loops``: ``{"count", "cycles": [[cycle, n]], "median_period", "median_repeats", "max_repeats",
        "stuck_polls", "stuck_states": [[state, n]], "failing": share, "reformatted": share}`` over the
        members with a ``cycle`` or ``repeats``."""
        from collections import Counter

        from tracemine.summarise.aggregate import bools, median, number, share, texts_of
        from tracemine.summarise.aggregate import top as top_of

        loops = [ev for ev in evidences if isinstance(ev.get("cycle"), list) or number(ev.get("repeats")) is not None]
        if not loops:
            return {}
        cycles: Counter[str] = Counter()
        stuck: Counter[str] = Counter()
        for ev in loops:
            names = [texts.clean(c) for c in texts_of(ev.get("cycle"))]
            if names:
                cycles[" -> ".join(names)] += 1
            if isinstance(ev.get("stuck_state"), str) and ev["stuck_state"]:
                stuck[texts.clean(ev["stuck_state"])] += 1
        periods = [v for ev in loops if (v := number(ev.get("period"))) is not None]
        repeats = [v for ev in loops if (v := number(ev.get("repeats"))) is not None]
        out: dict[str, Any] = {"count": len(loops)}
        if cycles:
            out["cycles"] = top_of(cycles, top)
        if periods:
            out["median_period"] = median(periods)
        if repeats:
            out["median_repeats"] = median(repeats)
            out["max_repeats"] = max(repeats)
        out["stuck_polls"] = sum(stuck.values())
        if stuck:
            out["stuck_states"] = top_of(stuck, top)
        failing = bools(loops, ("failing",))
        if failing is not None:
            out["failing"] = failing
        exact = [ev[f] for ev in loops for f in ("exact_arguments", "exact_output") if isinstance(ev.get(f), bool)]
        if exact:
            out["reformatted"] = share(sum(1 for e in exact if not e), len(exact))
        return {"loops": out}

    @classmethod
    def waste(cls, signal: Signal, spans: Mapping[tuple[str, str], Any]) -> tuple[int, float, float]:
        """The repeats beyond the first: (repeats − 1) / repeats of what the loop's calls cost (the evidence
        sums them), else of what its cited spans cost."""
        ev = signal.evidence or {}
        if not any(k in ev for k in ("tokens", "duration_ms", "cost_usd")):
            return super().waste(signal, spans)
        repeats = max(int(ev.get("repeats") or 1), 1)
        part = (repeats - 1) / repeats
        return (int(float(ev.get("tokens") or 0) * part), float(ev.get("duration_ms") or 0.0) * part,
                float(ev.get("cost_usd") or 0.0) * part)

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        # tool -> [repeated identical calls seen, of which the result changed]
        self.repeat_pairs: dict[str, list[int]] = {}
        self.poll_tools: frozenset[str] = frozenset()

    def observe(self, view: TraceView) -> None:
        last: dict[tuple[str, str], str] = {}
        for call in actions(view):
            if call.failed:
                continue
            key = (call.tool, call.args_key)
            signature = result_signature(call)
            if key in last:
                counts = self.repeat_pairs.setdefault(call.tool, [0, 0])
                counts[0] += 1
                counts[1] += signature != last[key]
            last[key] = signature

    def merge(self, other: Detector) -> None:
        if isinstance(other, LoopDetector):
            for tool, (pairs, changed) in other.repeat_pairs.items():
                counts = self.repeat_pairs.setdefault(tool, [0, 0])
                counts[0] += pairs
                counts[1] += changed

    def finalize(self) -> None:
        min_pairs = self.params.poll_min_repeats
        share = self.params.poll_changed_share
        self.poll_tools = frozenset(
            tool for tool, (pairs, changed) in self.repeat_pairs.items() if pairs >= min_pairs and changed >= share * pairs
        )

    def detect(self, view: TraceView) -> Iterable[Signal]:
        params = self.params
        for loop in tool_loops(view, params):
            yield self._tool_signal(view, loop)
        if params.llm_loops:
            for loop in llm_loops(view, params):
                yield self._llm_signal(view, loop)

    # --- tool loops --------------------------------------------------------------------------------

    def _tool_signal(self, view: TraceView, loop: Loop) -> Signal:
        first: list[ToolCall] = loop.repetitions[0]  # type: ignore[assignment]
        last_call: ToolCall = loop.repetitions[-1][-1]  # type: ignore[assignment]
        cycle = [c.tool for c in first]
        if loop.gapped:  # other work sits between recurrences: count only the turns that asked again
            interleaved = [t for rep in loop.repetitions[1:] if (t := _requesting_turn(view, rep[0].step))]
        else:
            interleaved = _llm_between(view, first[0].step, last_call.step)
        spans = [c.span for c in loop.steps] + [t.span for t in interleaved]
        writes = sorted({c.tool for c in first if is_write_tool(c.tool, view.tool_definitions.get(c.tool))})
        failing = any(c.failed or result_is_error(c.result, c.result_text) for c in first)
        poll = loop.period == 1 and loop.exact and not failing and cycle[0] in self.poll_tools
        stuck = (pending_state(first[0].result) or "unchanged") if poll else None
        evidence: dict[str, Any] = {
            "mechanism": "tool_recurring" if loop.gapped else "tool_cycle" if loop.period > 1 else "tool_repeat",
            # back to back or scattered through the run, one tool asked again without new information is
            # one fix (a repetition guard on that tool); a cycle's subject is its tools
            "fix_mechanism": "tool_cycle" if loop.period > 1 else "tool_repeat",
            "cycle": cycle,
            "period": loop.period,
            "repeats": loop.repeats,
            "tool": cycle[0],
            "span_ids": [c.span.span_id for c in loop.steps],
            "repetitions": [[c.span.span_id for c in rep] for rep in loop.repetitions],
            "llm_span_ids": [t.span.span_id for t in interleaved],
            "arguments": [redact_cut(c.args_key, EXCERPT, ellipsis="") for c in first],
            "exact_arguments": loop.exact,
            "arguments_match": "exact" if loop.exact else "paraphrased",
            "argument_similarity": loop.similarity,
            "repetition_arguments": [[redact_cut(c.args_key, EXCERPT, ellipsis="") for c in rep] for rep in loop.repetitions][:10],
            "result_excerpt": redact_cut(first[0].result_text, EXCERPT, ellipsis=""),
            "failing": failing,
            "error": _error_of(first) if failing else None,
            "stuck_state": stuck,
            "write_tools": writes,
            **_cost(spans),
            "first_step": first[0].step,
            "last_step": last_call.step,
        }
        severity = self._severity(loop.repeats, evidence["tokens"], bool(writes))
        return self.signal(view, "loop", [c.span.span_id for c in loop.steps], severity, evidence,
                           _tool_text(cycle, loop, failing, stuck))

    # --- LLM loops ---------------------------------------------------------------------------------

    def _llm_signal(self, view: TraceView, loop: Loop) -> Signal:
        turns: list[LlmTurn] = loop.steps  # type: ignore[assignment]
        evidence: dict[str, Any] = {
            "mechanism": "llm_repeat",
            # the agent loop feeds a reply back as if it were progress: the guard belongs in the agent's loop
            # and prompt, whichever model wrote the reply
            "fix_subject": "",
            "cycle": ["llm"] * loop.period,
            "period": loop.period,
            "repeats": loop.repeats,
            "tool": None,
            "span_ids": [t.span.span_id for t in turns],
            "repetitions": [[t.span.span_id for t in rep] for rep in loop.repetitions],
            "output_excerpt": redact_cut(turns[0].output_text, EXCERPT, ellipsis=""),
            "exact_output": loop.exact,
            "model": turns[0].span.model,
            **_cost([t.span for t in turns]),
            "first_step": turns[0].step,
            "last_step": turns[-1].step,
        }
        severity = self._severity(loop.repeats, evidence["tokens"], False)
        what = "the same message" if loop.period == 1 else f"the same {loop.period} messages"
        text = f"model repeated {what} {loop.repeats} times with no tool call or new input in between"
        return self.signal(view, "loop", [t.span.span_id for t in turns], severity, evidence, text)

    def _severity(self, repeats: int, tokens: int, writes: bool) -> str:
        high_repeats = self.params.high_repeats
        critical_repeats = self.params.critical_repeats
        high_tokens = self.params.high_tokens
        if repeats >= critical_repeats or (writes and repeats >= high_repeats):
            return "critical"
        if writes or repeats >= high_repeats or tokens >= high_tokens:
            return "high"
        return "medium"


def _llm_between(view: TraceView, first_step: int, last_step: int) -> list[LlmTurn]:
    """LLM turns inside the loop: between its first and last tool call."""
    return [s for s in view.steps[first_step + 1 : last_step] if isinstance(s, LlmTurn)]


def _requesting_turn(view: TraceView, step: int) -> LlmTurn | None:
    """The last LLM turn before ``step`` (the one that asked for the call)."""
    for candidate in reversed(view.steps[:step]):
        if isinstance(candidate, LlmTurn):
            return candidate
    return None


def _cost(spans: list[Span]) -> dict[str, Any]:
    """Tokens, duration and cost spent in ``spans`` (unknown figures count as zero)."""
    tokens = 0
    for span in spans:
        if span.total_tokens is not None:
            tokens += span.total_tokens
        else:
            tokens += (span.input_tokens or 0) + (span.output_tokens or 0)
    duration_ns = sum(span.duration_ns or 0 for span in spans)
    cost = sum(span.cost_usd or 0.0 for span in spans)
    return {"tokens": tokens, "duration_ms": round(duration_ns / 1e6, 3), "cost_usd": round(cost, 6)}


def _error_of(calls: list[ToolCall]) -> str | None:
    """The error the first failing call of a repetition reported (status message or result)."""
    for call in calls:
        if call.failed and call.span.status_message:
            return redact_cut(call.span.status_message, EXCERPT, ellipsis="")
        failure = call_failure(call)
        if failure is not None:
            return redact_cut(failure.reason, EXCERPT, ellipsis="")
    return None


def _tool_text(cycle: list[str], loop: Loop, failing: bool, stuck: str | None = None) -> str:
    how = "the same arguments" if loop.exact else "trivially rephrased arguments"
    if stuck:
        return f"tool {cycle[0]} polled {loop.repeats} times while the work it watches made no progress"
    outcome = "the same error" if failing else "the same result"
    if loop.gapped:
        return f"tool {cycle[0]} called {loop.repeats} times with {how} and {outcome} each time, a few steps apart"
    if loop.period == 1:
        return f"tool {cycle[0]} called {loop.repeats} times in a row with {how} and {outcome} each time"
    return f"cycle {' -> '.join(cycle)} repeated {loop.repeats} times with {how} and {outcome} each time"
