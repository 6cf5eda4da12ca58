"""Format-neutral episodes: LLM turns, the tool calls they ask for, and the labels that cite them.

Scenario code appends turns and calls; a writer turns an episode into its file format and fills in the
normalised ``span_id`` of every turn and call, so labels can be resolved after writing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

PREAMBLES = ["Let me check that.", "One moment while I look this up.", "I'll pull up the details.",
             "Checking now.", "Let me verify that first.", "Looking into it."]
KINDS = ("loop", "duplicate_call", "argument_error", "silent_failure", "unrecovered_error", "lookalike")


@dataclass
class Call:
    tool: str
    args: dict[str, Any]
    result: Any  # str: plain text as returned; anything else: a structured return value
    error: str | None = None  # the span is marked failed with this message
    ms: int = 120
    span_id: str = ""
    call_id: str = ""


@dataclass
class Turn:
    calls: list[Call]
    content: str = ""
    ms: int = 1500
    error: str | None = None  # the model call itself failed
    span_id: str = ""


@dataclass
class Label:
    kind: str
    mode: str
    refs: list[Call | Turn]
    tool: str | None
    detail: str


@dataclass
class Episode:
    agent: str
    index: int
    rng: random.Random
    model: str
    user: str
    start_ns: int = 0
    session: str = ""
    turns: list[Turn] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)
    success: bool = True
    ended_by_error: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    def _ms(self, tool: str) -> int:
        slow = {"search_logs": 900, "query_metrics": 700, "estimate_payout": 600, "submit_payment": 800}
        return self.rng.randint(40, slow.get(tool, 350))

    def call(self, tool: str, args: dict[str, Any], result: Any, error: str | None = None, ms: int | None = None) -> Call:
        """One LLM turn asking for one tool call, and its execution."""
        made = Call(tool, args, result, error, ms if ms is not None else self._ms(tool))
        self.turns.append(Turn([made], content=self._preamble(), ms=self.rng.randint(600, 3800)))
        return made

    def _preamble(self) -> str:
        """Models sometimes narrate before a tool call."""
        if self.rng.random() >= 0.2:
            return ""
        return self.rng.choice(PREAMBLES)

    def parallel(self, calls: list[tuple[str, dict[str, Any], Any]]) -> list[Call]:
        """One LLM turn asking for several tool calls at once."""
        made = [Call(tool, args, result, None, self._ms(tool)) for tool, args, result in calls]
        self.turns.append(Turn(made, ms=self.rng.randint(800, 4200)))
        return made

    def model_error(self, message: str) -> Turn:
        turn = Turn([], ms=self.rng.randint(200, 1200), error=message)
        self.turns.append(turn)
        self.ended_by_error = True
        self.meta["aborted"] = True
        return turn

    def label(self, kind: str, mode: str, refs: list[Call | Turn], tool: str | None, detail: str) -> None:
        assert kind in KINDS, kind
        self.labels.append(Label(kind, mode, list(refs), tool, detail))
        if kind != "lookalike":
            self.modes.append(mode)

    def note(self, text: str) -> None:
        self.notes.append(text)
