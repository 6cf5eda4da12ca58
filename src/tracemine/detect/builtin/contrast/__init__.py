"""``contrast``: tool-call features over-represented in failed traces (outcome-aware; ARCHITECTURE.md, 'Where concepts live').

Where traces carry an outcome (``Trace.outcome``: rewards, eval scores, feedback, exit statuses), the
first pass counts, over the window's traces with a known outcome, how many carry each *feature* and how
many of those failed. Features of a trace (a set: a trace counts once per feature), per tool call:

* ``tool`` — the tool was called;
* ``argument`` — the call passed this argument key;
* ``value`` — this argument had this value class: ``null``, ``empty``, ``true``/``false``, ``number``,
  ``list``, ``object``, the value itself for a short string of one or two words (enum-like, lower-cased),
  ``id`` for a short token with digits, ``text`` otherwise;
* ``result`` — the call's result class: ``error`` (status, exception or error-shaped result), ``empty``
  or ``ok``.

Between the passes each feature seen in at least ``min_support`` known-outcome traces (``min_failed`` of
them failed) is tested against the rest of the window with a one-sided Fisher exact test; p-values are
adjusted with Benjamini–Hochberg and features with ``q ≤ max_q`` whose failure rate exceeds the others'
by ``min_difference`` are kept. A general feature is dropped when a refinement of it (tool → argument →
value) is kept, is clearly more failure-prone and covers most of its failed traces; a refinement is dropped
when it is no more telling than its kept generalisation. Statistics are plain counts, so shards merge by addition.

Each failed trace carrying a kept feature gets one signal per feature, citing the calls that carry it
(severity low for a tool merely being called, the least specific contrast; high from ``high_difference``);
its evidence declares the feature as the finding's ``family`` (one finding per feature), with the
counts, both rates, the p- and q-value. Windows without enough known outcomes of both kinds give none.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from tracemine.detect.actions import has_exception_event, result_is_error
from tracemine.detect.base import Detector
from tracemine.detect.builtin.contrast.evidence import ContrastEvidence
from tracemine.detect.outcome import is_empty_result
from tracemine.detect.view import ToolCall, TraceView
from tracemine.model import Outcome, Signal

_WORD = re.compile(r"^(?=.{1,24}$)[A-Za-z][A-Za-z_\-]*(?: [A-Za-z_\-]+)?$")  # one or two words: enum-like
_ID = re.compile(r"^(?=.*\d)\S{1,40}$")
MAX_FEATURES = 200
"""Features kept per trace (bounds memory on traces with many calls)."""


def value_class(value: Any) -> str:
    """A short class for an argument value (see the module docstring)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list | tuple):
        return "list" if value else "empty"
    if isinstance(value, dict):
        return "object" if value else "empty"
    text = str(value).strip()
    if not text:
        return "empty"
    if _WORD.match(text):
        return text.lower()
    return "id" if _ID.match(text) else "text"


def result_class(call: ToolCall) -> str:
    if call.failed or has_exception_event(call.span) or result_is_error(call.result, call.result_text):
        return "error"
    return "empty" if is_empty_result(call.result, call.span.tool_result) else "ok"


def call_features(call: ToolCall) -> list[tuple[str, str]]:
    """``(feature, type)`` pairs of one call, general first."""
    tool = call.tool
    out = [(f"{tool} called", "tool"), (f"{tool} → {result_class(call)}", "result")]
    args = call.args
    if isinstance(args, dict):
        for key in sorted(args, key=str)[:20]:
            out.append((f"{tool}({key})", "argument"))
            out.append((f"{tool}({key}={value_class(args[key])})", "value"))
    return out


def _parent(feature: str, kind: str) -> str | None:
    """The generalisation of a feature: value → argument → tool; result → tool."""
    if kind == "value":
        return feature.split("=", 1)[0] + ")"
    if kind in ("argument", "result"):
        return feature.split("(", 1)[0].split(" → ", 1)[0] + " called"
    return None


def fisher_greater(a: int, b: int, c: int, d: int) -> float:
    """One-sided Fisher exact p-value that the first row fails more often ([[a, b], [c, d]]: failed, ok)."""
    from scipy.stats import hypergeom

    # P(X >= a) for X ~ Hypergeom(M = a+b+c+d, n = a+c failed in all, N = a+b with the feature)
    return float(hypergeom.sf(a - 1, a + b + c + d, a + c, a + b))


def benjamini_hochberg(pvalues: list[float]) -> list[float]:
    """q-values (Benjamini–Hochberg adjusted p-values), same order."""
    n = len(pvalues)
    order = sorted(range(n), key=lambda i: pvalues[i])
    q = [1.0] * n
    running = 1.0
    for rank in range(n, 0, -1):
        i = order[rank - 1]
        running = min(running, pvalues[i] * n / rank)
        q[i] = running
    return q


class ContrastParams(BaseModel):
    """``detect.contrast``: when a tool-call feature is over-represented in failed traces (needs outcomes)."""

    model_config = ConfigDict(extra="forbid")

    min_known: int = Field(40, ge=2, description="traces with a known outcome (both kinds present) before "
                           "anything is tested")
    min_support: int = Field(10, ge=1, description="traces carrying a feature before it is tested…")
    min_failed: int = Field(5, ge=1, description="…of which failed")
    max_q: float = Field(0.05, ge=0, le=1, description="Benjamini–Hochberg adjusted one-sided Fisher p-value")
    min_difference: float = Field(0.2, ge=0, le=1, description="failure rate with the feature minus without it")
    refinement_gain: float = Field(0.1, ge=0, le=1, description="a refinement (tool → argument → value, tool → "
                                   "result) is kept only when it fails this much more often than its generalisation…")
    refinement_cover: float = Field(0.8, ge=0, le=1, description="…and replaces it when it covers this share of "
                                    "its failed traces")
    high_difference: float = Field(0.5, ge=0, le=1, description="severity high from this difference")


class ContrastDetector(Detector):
    """Features of tool calls that come with failed traces far more often than the window's other traces."""

    name = "contrast"
    kinds = ("contrast",)
    wording = "wording.j2"
    facts_order = 50
    uses_window_stats = True
    explained_level = 1  # a feature of failed runs that a detector's finding names is that finding's
    params_model: ClassVar[type[ContrastParams]] = ContrastParams
    evidence_model: ClassVar[type[ContrastEvidence]] = ContrastEvidence
    params: ContrastParams

    @classmethod
    def facts(cls, evidences: list[Mapping[str, Any]], texts: Any, top: int) -> dict[str, Any]:
        """``contrast``: the feature and its window counts (every member of one contrast finding shares
        them)."""
        from tracemine.summarise.aggregate import number

        ev = next((ev for ev in evidences
                   if isinstance(ev.get("feature"), str) and isinstance(ev.get("rate_with"), float)), None)
        if ev is None:
            return {}
        return {"contrast": {
            "feature": texts.clean(ev["feature"]), "type": texts.clean(str(ev.get("feature_type") or "")),
            "traces_with": number(ev.get("traces_with")), "failed_with": number(ev.get("failed_with")),
            "rate_with": ev["rate_with"], "rate_without": number(ev.get("rate_without")),
            "known": number(ev.get("known")), "q_value": number(ev.get("q_value"))}}

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.known = 0
        self.failed = 0
        self.with_known: Counter[str] = Counter()
        self.with_failed: Counter[str] = Counter()
        self.types: dict[str, str] = {}
        self.kept: dict[str, dict[str, Any]] = {}

    # --- pass 1 ---------------------------------------------------------------------------------------

    @staticmethod
    def _features(view: TraceView) -> dict[str, str]:
        found: dict[str, str] = {}
        for call in view.tool_calls:
            for feature, kind in call_features(call):
                if len(found) >= MAX_FEATURES:
                    return found
                found.setdefault(feature, kind)
        return found

    def observe(self, view: TraceView) -> None:
        outcome = view.trace.outcome
        if outcome not in (Outcome.SUCCESS, Outcome.FAILURE):
            return
        failed = outcome == Outcome.FAILURE
        self.known += 1
        self.failed += failed
        for feature, kind in self._features(view).items():
            self.with_known[feature] += 1
            if failed:
                self.with_failed[feature] += 1
            self.types.setdefault(feature, kind)

    def merge(self, other: Detector) -> None:
        assert isinstance(other, ContrastDetector)
        self.known += other.known
        self.failed += other.failed
        self.with_known.update(other.with_known)
        self.with_failed.update(other.with_failed)
        for feature, kind in other.types.items():
            self.types.setdefault(feature, kind)

    def finalize(self) -> None:
        self.kept = {}
        known, failed = self.known, self.failed
        if known < self.params.min_known or failed in (0, known):
            return
        min_support, min_failed = self.params.min_support, self.params.min_failed
        tested: list[tuple[str, int, int, float]] = []
        for feature, n in self.with_known.items():
            f = self.with_failed.get(feature, 0)
            if n < min_support or f < min_failed or n == known:
                continue
            tested.append((feature, n, f, fisher_greater(f, n - f, failed - f, known - n - (failed - f))))
        if not tested:
            return
        qvalues = benjamini_hochberg([t[3] for t in tested])
        base_rate = failed / known
        kept: dict[str, dict[str, Any]] = {}
        for (feature, n, f, p), q in zip(tested, qvalues, strict=True):
            rate_with = f / n
            rate_without = (failed - f) / (known - n)
            if q <= self.params.max_q and rate_with - rate_without >= self.params.min_difference:
                kept[feature] = {"feature": feature, "feature_type": self.types[feature], "traces_with": n,
                                 "failed_with": f, "known": known, "failed": failed,
                                 "rate_with": round(rate_with, 4), "rate_without": round(rate_without, 4),
                                 "base_rate": round(base_rate, 4), "p_value": p, "q_value": q}
        self.kept = self._prune(kept)

    def _prune(self, kept: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """One feature per cause: a refinement (tool → argument → value, tool → result) replaces its nearest
        kept generalisation only when its failure rate is clearly higher (by ``refinement_gain``), and then
        the generalisation goes when the refinement covers most of its failed traces
        (``refinement_cover``); a refinement no more telling than its generalisation (an argument every
        call passes, a result every call returns) is dropped."""
        cover = self.params.refinement_cover
        gain = self.params.refinement_gain
        drop: set[str] = set()
        for feature, facts in kept.items():
            parent = _parent(feature, facts["feature_type"])
            while parent is not None and parent not in kept:
                parent = _parent(parent, self.types.get(parent, "tool"))
            if parent is None:
                continue
            general = kept[parent]
            if facts["rate_with"] < general["rate_with"] + gain:
                drop.add(feature)
            elif facts["failed_with"] >= cover * general["failed_with"]:
                drop.add(parent)
        return {k: v for k, v in kept.items() if k not in drop}

    # --- pass 2 ---------------------------------------------------------------------------------------

    def detect(self, view: TraceView) -> Iterable[Signal]:
        if not self.kept or view.trace.outcome != Outcome.FAILURE:
            return []
        spans: dict[str, list[str]] = {}
        tools: dict[str, str] = {}
        for call in view.tool_calls:
            for feature, _kind in call_features(call):
                if feature in self.kept:
                    spans.setdefault(feature, []).append(call.span.span_id)
                    tools.setdefault(feature, call.tool)
        out = []
        for feature, span_ids in sorted(spans.items()):
            facts = self.kept[feature]
            difference = facts["rate_with"] - facts["rate_without"]
            if facts["feature_type"] == "tool":  # "runs that call X fail more": the least specific contrast
                severity = "low"
            else:
                severity = "high" if difference >= self.params.high_difference else "medium"
            evidence = {**facts, "tool": tools[feature], "family": feature, "mechanism": facts["feature_type"],
                        "difference": round(difference, 4), "span_ids": span_ids[:20]}
            text = (f"{tools[feature]}: runs with {feature} failed {facts['rate_with']:.0%} of the time "
                    f"({facts['failed_with']} of {facts['traces_with']}) vs {facts['rate_without']:.0%} without it "
                    f"(q={facts['q_value']:.1e})")
            out.append(self.signal(view, "contrast", span_ids[:20], severity, evidence, text))
        return out
