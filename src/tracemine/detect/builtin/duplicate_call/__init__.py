"""The ``duplicate_call`` detector: the same tool called again with the same normalised arguments after an
earlier call of it had succeeded, adjacent or not.

* Calls are grouped by tool and canonical arguments (key order, whitespace, number format and the case
  of enum-like strings do not matter). A group is a duplicate from its first *successful* call on, so a
  failed call followed by a successful retry (a recovered error) is not one.
* A repeated **write** (its name or description leads with a verb such as send, create, cancel, pay…) is
  a duplicate whatever it returned: it acted twice. A repeated **read** is one only when it returned
  what the earlier successful call returned (no new information); a read whose result changes is
  observing changing state (a poll), not duplicating work.
* A write repeated **with reworded free text** (identifiers, numbers, enum-like values and every other
  field equal), both calls succeeding, is a duplicate too — the same reminder sent twice in other words:
  back to back (the next tool call is the same tool) when the free text is alike by
  :func:`~tracemine.detect.actions.args_similarity` ≥ ``reworded_similarity``; with other work between
  only when it states exactly the same ids, amounts and dates
  (:func:`~tracemine.detect.actions.same_facts`) — an update after something changed states new facts.
* Calls inside a tool loop (see :mod:`tracemine.detect.builtin.loop`) are left to the loop detector; its
  thresholds are read from this detector's ``loop`` setting (defaults match the loop detector's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import orjson
from pydantic import BaseModel, ConfigDict, Field

from tracemine.detect.actions import (
    actions,
    args_similarity,
    call_succeeded,
    loop_span_ids,
    result_signature,
    same_facts,
)
from tracemine.detect.base import Detector, cited_waste
from tracemine.detect.builtin.argument_error import rejects_arguments
from tracemine.detect.builtin.duplicate_call.evidence import DuplicateCallEvidence
from tracemine.detect.builtin.loop import LoopDetectorParams
from tracemine.detect.outcome import lookup_miss
from tracemine.detect.tool_roles import is_write_tool
from tracemine.detect.view import ToolCall, TraceView
from tracemine.model import Signal
from tracemine.redact import redact_cut

EXCERPT = 200


class DuplicateCallParams(BaseModel):
    """``detect.duplicate_call`` (and ``detect.loop``, read to leave calls inside loops to the loop detector)."""

    model_config = ConfigDict(extra="forbid")

    skip_loops: bool = Field(True, description="leave calls inside loops to the loop detector")
    critical_write_calls: int = Field(3, ge=2, description="a write repeated this many times is critical "
                                      "(any repeated write is high)")
    medium_read_calls: int = Field(3, ge=2, description="a read repeated this many times (or adjacent) is medium, "
                                   "else low")
    reworded_similarity: float = Field(0.5, ge=0, le=1, description="reworded free-text arguments at least this "
                                       "similar count as the same call (0 = off)")
    loop: LoopDetectorParams = Field(default_factory=LoopDetectorParams, description="the loop detector's settings")


class DuplicateCallDetector(Detector):
    """Repeated tool calls with identical canonical arguments after a successful result."""

    name: ClassVar[str] = "duplicate_call"
    kinds: ClassVar[tuple[str, ...]] = ("duplicate_call",)
    wording = "wording.j2"
    facts_order = 40
    reads_settings_of: ClassVar[tuple[str, ...]] = ("loop",)
    params_model: ClassVar[type[DuplicateCallParams]] = DuplicateCallParams
    evidence_model: ClassVar[type[DuplicateCallEvidence]] = DuplicateCallEvidence
    params: DuplicateCallParams

    @classmethod
    def facts(cls, evidences: list[Mapping[str, Any]], texts: Any, top: int) -> dict[str, Any]:
        """``duplicates``: ``{"count", "median_calls", "max_calls", "reformatted", "adjacent",
        "same_result"`` (shares), ``"failed_before"}`` over the members with a number of ``calls``."""
        from tracemine.summarise.aggregate import bools, median, number, share

        dups = [ev for ev in evidences if number(ev.get("calls")) is not None]
        if not dups:
            return {}
        calls = [v for ev in dups if (v := number(ev.get("calls"))) is not None]
        out: dict[str, Any] = {"count": len(dups), "median_calls": median(calls), "max_calls": max(calls)}
        exact = [ev["exact_arguments"] for ev in dups if isinstance(ev.get("exact_arguments"), bool)]
        if exact:
            out["reformatted"] = share(sum(1 for e in exact if not e), len(exact))
        for key in ("adjacent", "same_result"):
            found = bools(dups, (key,))
            if found is not None:
                out[key] = found
        out["failed_before"] = sum(1 for ev in dups if isinstance(ev.get("failed_before_span_ids"), list)
                                   and ev["failed_before_span_ids"])
        return {"duplicates": out}

    @classmethod
    def waste(cls, signal: Signal, spans: Mapping[tuple[str, str], Any]) -> tuple[int, float, float]:
        """What the repeated calls cost, without the first (reference) call that did the work."""
        reference = (signal.evidence or {}).get("reference_span_id")
        return cited_waste(signal, [s for s in signal.span_ids if s != reference], spans)

    def detect(self, view: TraceView) -> Iterable[Signal]:
        calls = actions(view)
        position = {c.span.span_id: p for p, c in enumerate(calls)}
        groups: dict[tuple[str, str], list[ToolCall]] = {}
        for call in calls:
            groups.setdefault((call.tool, call.args_key), []).append(call)
        if len({c.tool for c in calls}) == len(calls):
            return  # no tool called twice
        in_loops = loop_span_ids(view, self.params.loop) \
            if self.params.skip_loops else set()
        flagged: set[str] = set()
        for (tool, _), group in groups.items():
            if len(group) > 1:
                found = self._group_signal(view, tool, group, in_loops, position)
                if found is not None:
                    flagged.update(found.span_ids)
                    yield found
        yield from self._reworded_writes(view, calls, in_loops | flagged)

    def _reworded_writes(self, view: TraceView, calls: list[ToolCall], taken: set[str]) -> Iterable[Signal]:
        """Writes repeated back to back with the same fields and reworded free text (see module docstring)."""
        threshold = self.params.reworded_similarity
        if threshold <= 0:
            return
        for position, a in enumerate(calls):
            if a.span.span_id in taken or not is_write_tool(a.tool, view.tool_definitions.get(a.tool)):
                continue
            b = next((c for c in calls[position + 1:] if c.tool == a.tool), None)
            if b is None or a.args_key == b.args_key or b.span.span_id in taken:
                continue
            if not (call_succeeded(a) and call_succeeded(b)) or rejects_arguments(a) or rejects_arguments(b):
                continue  # a rejected call and its corrected retry are the argument_error detector's
            adjacent = calls[position + 1] is b
            similarity = args_similarity(a, b)
            # back to back, alike is enough; with other work between, only the same facts reworded
            if not (adjacent and similarity >= threshold) and not same_facts(a, b):
                continue
            taken.update((a.span.span_id, b.span.span_id))
            evidence: dict[str, Any] = {
                "tool": a.tool, "calls": 2, "span_ids": [a.span.span_id, b.span.span_id],
                "reference_span_id": a.span.span_id, "failed_before_span_ids": [], "is_write": True,
                "first_result_excerpt": redact_cut(a.result_text, EXCERPT, ellipsis=""), "arguments": redact_cut(a.args_key, EXCERPT, ellipsis=""),
                "second_arguments": redact_cut(b.args_key, EXCERPT, ellipsis=""), "adjacent": adjacent, "exact_arguments": False,
                "reworded": True, "argument_similarity": round(similarity, 3), "steps": [a.step, b.step],
                "same_result": result_signature(a) == result_signature(b), "fix_mechanism": "write_repeat",
            }
            when = "back to back" if adjacent else "later in the run"
            text = f"write tool {a.tool} called twice {when} with the same fields and reworded text, acting twice"
            yield self.signal(view, "duplicate_call", evidence["span_ids"], self._severity(True, 2, adjacent),
                              evidence, text)

    def _group_signal(
        self, view: TraceView, tool: str, calls: list[ToolCall], in_loops: set[str], position: dict[str, int]
    ) -> Signal | None:
        write = is_write_tool(tool, view.tool_definitions.get(tool))

        def acted(call: ToolCall) -> bool:
            """Succeeded and did something: a write answered "no such board" did nothing to repeat (an
            empty answer is how many writes say they are done)."""
            miss = lookup_miss(call.result, call.span.tool_result, call.args) if write else None
            return call_succeeded(call) and not rejects_arguments(call) and miss in (None, "null", "empty_list")
        first_ok = next((i for i, c in enumerate(calls) if acted(c)), None)
        if first_ok is None or first_ok == len(calls) - 1:
            return None  # never succeeded, or only the last call did (a recovered error)
        reference = calls[first_ok]
        later = calls[first_ok + 1 :]
        if not write:
            signature = result_signature(reference)
            if any(result_signature(c) != signature for c in later):
                return None  # the result changes: the agent is watching state move (a poll)
        duplicates = [c for c in later if c.span.span_id not in in_loops]
        if not duplicates:
            return None
        named = ([reference] if reference.span.span_id not in in_loops else []) + duplicates
        adjacent = any(position[b.span.span_id] - position[a.span.span_id] == 1
                       for a, b in zip(calls[first_ok:], later, strict=False))
        count = 1 + len(later)
        exact = len({_spelling(c) for c in calls[first_ok:]}) == 1
        evidence: dict[str, Any] = {
            "tool": tool,
            "calls": count,
            "span_ids": [c.span.span_id for c in named],
            "reference_span_id": reference.span.span_id,
            "failed_before_span_ids": [c.span.span_id for c in calls[:first_ok]],
            "is_write": write,
            "first_result_excerpt": redact_cut(reference.result_text, EXCERPT, ellipsis=""),
            "arguments": redact_cut(reference.args_key, EXCERPT, ellipsis=""),
            "adjacent": adjacent,
            "exact_arguments": exact,
            "steps": [c.step for c in named],
            "same_result": len({result_signature(c) for c in calls[first_ok:]}) == 1,
            # back to back or later, spelled alike or reformatted: one fix per tool (an idempotency guard on a
            # write, remembering the answer of a read)
            "fix_mechanism": "write_repeat" if write else "read_repeat",
        }
        return self.signal(view, "duplicate_call", evidence["span_ids"], self._severity(write, count, adjacent),
                           evidence, _text(tool, write, count, adjacent))

    def _severity(self, write: bool, count: int, adjacent: bool) -> str:
        critical_calls = self.params.critical_write_calls
        if write:
            return "critical" if count >= critical_calls else "high"
        return "medium" if adjacent or count >= self.params.medium_read_calls else "low"


def _spelling(call: ToolCall) -> str:
    """The arguments as written (key order, number format and case kept; whitespace ignored)."""
    args = call.args
    if isinstance(args, dict | list):
        try:
            return orjson.dumps(args).decode()
        except TypeError:
            pass
    return " ".join(str(call.span.tool_arguments or "").split())


def _text(tool: str, write: bool, count: int, adjacent: bool) -> str:
    what = "write tool" if write else "read tool"
    when = "back to back" if adjacent else "later in the run"
    outcome = "acting again each time" if write else "getting the same result"
    return f"{what} {tool} called {count} times with identical arguments {when} after a successful result, {outcome}"
