"""Normal scenarios (one agent workflow per trace) and the registry of injected failure modes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tracemine.synth import modes as m
from tracemine.synth.catalog import AgentSpec
from tracemine.synth.modes import Injected
from tracemine.synth.plan import TraceBuilder

KINDS: tuple[str, ...] = (
    "loop", "duplicate_call", "silent_failure", "argument_error", "unrecovered_error", "outlier", "recovered_error",
)
"""Label kinds; ``recovered_error`` is a hard negative (an error the agent fixed), not a failure."""

DEFAULT_RATES: dict[str, float] = {
    "loop": 0.05,
    "duplicate_call": 0.05,
    "silent_failure": 0.06,
    "argument_error": 0.04,
    "unrecovered_error": 0.04,
    "outlier": 0.04,
    "recovered_error": 0.05,
}
"""Probability that a trace's (first) injected label is of each kind."""


@dataclass(frozen=True, slots=True)
class Mode:
    """A failure mechanism. Terminal modes end the trace early, so only one per trace."""

    kind: str
    name: str
    inject: Callable[[TraceBuilder], Injected | None]
    terminal: bool = False


def _modes(kind: str, *items: tuple[str, Callable[[TraceBuilder], Injected | None], bool]) -> tuple[Mode, ...]:
    return tuple(Mode(kind, name, fn, terminal) for name, fn, terminal in items)


MODES: dict[str, tuple[Mode, ...]] = {
    "loop": _modes(
        "loop",
        ("same_call_repeat", m.loop_same_call, False),
        ("near_same_repeat", m.loop_near_same, False),
        ("cycle", m.loop_cycle, False),
        ("llm_repeat", m.loop_llm_repeat, False),
        ("poll_no_progress", m.loop_poll_stuck, True),
    ),
    "duplicate_call": _modes(
        "duplicate_call",
        ("write_adjacent", m.dup_write_adjacent, False),
        ("write_reformatted", m.dup_write_reformatted, False),
        ("read_repeat", m.dup_read, False),
    ),
    "silent_failure": _modes(
        "silent_failure",
        ("error_key", m.silent_error_key, False),
        ("success_false", m.silent_success_false, False),
        ("status_failed", m.silent_status_failed, False),
        ("http_error_status", m.silent_http_status, False),
        ("error_text", m.silent_error_text, False),
        ("exception_event", m.silent_exception_event, False),
        ("swallowed_child_error", m.silent_swallowed_child, False),
        ("empty_result", m.silent_empty, False),
        ("max_turns_exit", m.silent_max_turns, True),
        ("timeout_exit", m.silent_timeout, True),
    ),
    "argument_error": _modes(
        "argument_error",
        ("missing_required", m.arg_missing_required, False),
        ("wrong_type", m.arg_wrong_type, False),
        ("enum_violation", m.arg_enum_violation, False),
        ("bad_format", m.arg_bad_format, False),
        ("validation_error_result", m.arg_validation_result, True),
        ("unknown_tool", m.arg_unknown_tool, False),
        ("corrected_retry", m.arg_corrected_retry, False),
    ),
    "unrecovered_error": _modes(
        "unrecovered_error",
        ("timeout", m.unrecovered_timeout, True),
        ("rate_limited", m.unrecovered_rate_limit, True),
        ("auth_denied", m.unrecovered_auth, True),
        ("upstream_5xx", m.unrecovered_5xx, True),
        ("not_found", m.unrecovered_not_found, True),
        ("agent_crash", m.unrecovered_crash, True),
    ),
    "outlier": _modes(
        "outlier",
        ("tool_latency", m.outlier_tool_latency, False),
        ("llm_latency", m.outlier_llm_latency, False),
        ("input_tokens", m.outlier_input_tokens, False),
        ("output_tokens", m.outlier_output_tokens, False),
    ),
    "recovered_error": _modes(
        "recovered_error",
        ("transient_retry", m.recovered_transient, False),
    ),
}


def run_workflow(agent: AgentSpec, b: TraceBuilder) -> None:
    """Build a clean trace: pick one of the agent's workflows by weight and run it."""
    u = b.rng.random() * sum(w for w, _ in agent.workflows)
    chosen = agent.workflows[-1][1]
    for weight, workflow in agent.workflows:
        u -= weight
        if u < 0:
            chosen = workflow
            break
    chosen(b)


@dataclass
class BugSites:
    """Each failure mode is one bug per agent at one site, as in production: the first trace of an agent
    a mode is injected into fixes its tool there (or, for modes about LLM calls or the run, its model);
    later traces of that agent get the mode at that tool, with that model. The same mode in several
    agents is several bugs (several fixes) with one mechanism. Modes of one kind never share a site in
    one agent (their signals would rightly be one fix)."""

    sites: dict[tuple[str, str, str], tuple[str | None, str | None]] = field(default_factory=dict)

    def prepare(self, md: Mode, b: TraceBuilder) -> None:
        site = self.sites.get((md.kind, md.name, b.agent.name))
        if site is None:
            b.only_tool = None
            b.avoid_tools = frozenset(tool for (kind, _, agent), (tool, _m) in self.sites.items()
                                      if kind == md.kind and agent == b.agent.name and tool)
        else:
            b.only_tool, b.avoid_tools = site[0], frozenset()
            if site[0] is None and site[1] is not None:
                b.model = site[1]

    def record(self, md: Mode, b: TraceBuilder, label: Injected) -> None:
        self.sites.setdefault((md.kind, md.name, b.agent.name), (label.tool, None if label.tool else b.model))

    def release(self, b: TraceBuilder) -> None:
        b.only_tool, b.avoid_tools = None, frozenset()


def _try_kind(b: TraceBuilder, kind: str, *, terminal_ok: bool, sites: BugSites | None = None) -> Injected | None:
    modes = [md for md in MODES[kind] if terminal_ok or not md.terminal]
    b.rng.shuffle(modes)
    for md in modes:
        if sites is not None:
            sites.prepare(md, b)
        label = md.inject(b)
        if sites is not None:
            sites.release(b)
            if label is not None:
                sites.record(md, b, label)
        if label is not None:
            return label
    return None


def inject(b: TraceBuilder, rates: Mapping[str, float], second_rate: float,
           sites: BugSites | None = None) -> list[Injected]:
    """Draw this trace's injected failures (usually none, sometimes one, rarely two) and apply them;
    with ``sites``, each mode stays at its bug site (:class:`BugSites`)."""
    rng = b.rng
    u = rng.random()
    first = None
    for kind in KINDS:
        u -= rates.get(kind, 0.0)
        if u < 0:
            first = kind
            break
    if first is None:
        return []
    labels = []
    label = _try_kind(b, first, terminal_ok=True, sites=sites)
    if label is not None:
        labels.append(label)
    if rng.random() < second_rate:
        others = [(k, rates.get(k, 0.0)) for k in KINDS if k != first and rates.get(k, 0.0) > 0]
        total = sum(w for _, w in others)
        if total > 0:
            v = rng.random() * total
            for kind, w in others:
                v -= w
                if v < 0:
                    second = _try_kind(b, kind, terminal_ok=False, sites=sites)
                    if second is not None:
                        labels.append(second)
                    break
    return labels
