"""The recursive, budgeted summarisation walk over the finding hierarchy (see ARCHITECTURE.md,
'Stages and data flow').

:func:`summarise_tree` summarises each finding brief post-order: when a node has at least two children,
the children are summarised first (recursively) and their summaries are written into the node's
``child_summaries`` (same order as ``children``); then the node itself. ``theme`` and ``overview``
briefs, when given, are summarised last, from their findings' summaries.

Any failure of the primary summariser for one node — an exception, an invalid answer, a budget stop —
gives that node the fallback's summary, marked ``"<fallback name> (fallback: <reason>)"`` in
``Summary.summariser``. Once a budget is reached — or the LLM deadline passes, or the circuit breaker
opens after consecutive failed calls — every remaining node goes straight to the fallback without another
call, with one warning line. Repeated identical failures are logged once. The number of LLM calls grows with the number of clusters (at most one per node),
never with the number of spans: a brief carries a bounded sample of exemplars only.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tracemine.summarise.base import Brief, Summariser, Summary
from tracemine.summarise.budget import BudgetExceeded, SummariseError

log = logging.getLogger(__name__)

_MAX_ERRORS = 20
LATE_LEVELS = ("theme", "overview")
"""Levels written from other briefs' summaries: after every other brief, in the order given."""


@dataclass(slots=True)
class SummaryStats:
    """What one walk did. ``calls``/``input_tokens``/``output_tokens``/``cost_usd`` are the primary
    summariser's usage during the walk (0 when it has no ``usage``). ``llm`` counts nodes the primary (LLM)
    summariser wrote, ``offline`` nodes given to the fallback by choice (``summarise_leaves``/``overview``
    off), ``fallbacks`` nodes that fell back, by reason (``budget reached``, ``deadline passed``,
    ``circuit open``, ``call failed``, ``invalid output``, ``error``). ``budget_reached`` names the limit
    that stopped calls (``max_calls`` … ``deadline_s``, ``max_consecutive_failures``)."""

    nodes: int = 0
    llm: int = 0
    offline: int = 0
    fallbacks: Counter[str] = field(default_factory=Counter)
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    budget_reached: str | None = None
    ids_removed: int = 0
    """Ids the LLM wrote that its nodes do not cite, replaced by ``[id]``."""
    errors: list[str] = field(default_factory=list)
    """The first few failure messages (redacted by the summariser), for logs."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "nodes": self.nodes,
            "llm": self.llm,
            "offline": self.offline,
            "fallbacks": dict(self.fallbacks),
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 6),
            "budget_reached": self.budget_reached,
            "ids_removed": self.ids_removed,
            "errors": list(self.errors),
        }


def summarise_tree(
    briefs: Sequence[Brief],
    summariser: Summariser,
    fallback: Summariser,
    *,
    summarise_leaves: bool | None = None,
    overview: bool | None = None,
    min_children: int = 2,
    workers: int = 1,
) -> tuple[list[Summary], SummaryStats]:
    """Summarise ``briefs`` (finding briefs, optionally one or more ``overview`` briefs) with
    ``summariser``, falling back to ``fallback`` node by node.

    Returns ``(summaries, stats)``: ``summaries[i]`` is the summary of ``briefs[i]`` (overview briefs
    included, at their own position, though they are summarised after every other brief). Children's
    summaries are left in each parent's ``brief.child_summaries`` (the briefs are updated in place;
    child summaries already present, one per child, are kept and not redone).

    ``summarise_leaves`` (children of a node with ≥ ``min_children`` children) and ``overview`` default
    to the summariser's ``settings`` (``summarise.llm.summarise_leaves`` / ``.overview``) or ``True``;
    when off, those nodes get the fallback's summary without a call (counted as ``offline``).
    ``workers > 1`` summarises findings in parallel threads (the budget is shared and thread-safe).
    """
    settings = getattr(summariser, "settings", None)
    if summarise_leaves is None:
        summarise_leaves = bool(getattr(settings, "summarise_leaves", True))
    if overview is None:
        overview = bool(getattr(settings, "overview", True))
    walk = _Walk(summariser, fallback, summarise_leaves, min_children)
    usage_before = _usage(summariser)

    results: list[Summary | None] = [None] * len(briefs)
    normal = [i for i, b in enumerate(briefs) if b.level not in LATE_LEVELS]
    overviews = [i for i, b in enumerate(briefs) if b.level in LATE_LEVELS]

    if workers > 1 and len(normal) > 1:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="summarise") as pool:
            for i, summary in zip(normal, pool.map(lambda i: walk.node(briefs[i]), normal), strict=True):
                results[i] = summary
    else:
        for i in normal:
            results[i] = walk.node(briefs[i])

    done = {id(briefs[i]): results[i] for i in normal}
    by_node_id = {briefs[i].node_id: results[i] for i in normal}
    for i in overviews:
        ov = briefs[i]
        if len(ov.child_summaries) != len(ov.children):
            children: list[Summary] = []
            for child in ov.children:
                s = done.get(id(child)) or by_node_id.get(child.node_id)
                children.append(s if s is not None else walk.node(child))
            ov.child_summaries = children
        results[i] = walk.one(ov, use_primary=overview or ov.level != "overview")

    stats = walk.stats
    usage_after = _usage(summariser)
    for key in ("calls", "input_tokens", "output_tokens"):
        setattr(stats, key, int(usage_after.get(key, 0) or 0) - int(usage_before.get(key, 0) or 0))
    stats.cost_usd = float(usage_after.get("cost_usd", 0.0) or 0.0) - float(
        usage_before.get("cost_usd", 0.0) or 0.0
    )
    if stats.budget_reached is None and usage_after.get("budget_reached"):
        stats.budget_reached = str(usage_after["budget_reached"])
    return [s for s in results if s is not None], stats


def _usage(summariser: Any) -> dict[str, Any]:
    try:
        usage = getattr(summariser, "usage", None)
        return dict(usage) if isinstance(usage, dict) else {}
    except Exception:  # pragma: no cover - a broken usage property must not break the walk
        return {}


class _Walk:
    def __init__(self, primary: Summariser, fallback: Summariser, leaves: bool, min_children: int) -> None:
        self.primary = primary
        self.fallback = fallback
        self.fallback_name = getattr(fallback, "name", "offline") or "offline"
        self.leaves = leaves
        self.min_children = max(1, min_children)
        self.stats = SummaryStats()
        self.stopped: str | None = None
        self.stop_reason = BudgetExceeded.reason
        self._seen_errors: set[str] = set()
        self._lock = threading.Lock()

    def node(self, brief: Brief, use_primary: bool = True) -> Summary:
        """Post-order: children first (when there are enough of them), then ``brief``."""
        if len(brief.children) >= self.min_children and len(brief.child_summaries) != len(brief.children):
            brief.child_summaries = [
                self.node(child, use_primary=use_primary and self.leaves) for child in brief.children
            ]
        return self.one(brief, use_primary)

    def one(self, brief: Brief, use_primary: bool = True) -> Summary:
        with self._lock:
            self.stats.nodes += 1
            stopped = self.stopped
        if not use_primary or self.primary is self.fallback:
            summary = self.fallback.summarise(brief)
            with self._lock:
                self.stats.offline += 1
            return summary
        if stopped is not None:
            return self._fall_back(brief, self.stop_reason)
        try:
            summary = self.primary.summarise(brief)
        except BudgetExceeded as exc:
            with self._lock:
                if self.stopped is None:
                    self.stopped = exc.limit
                    self.stop_reason = exc.reason
                    self.stats.budget_reached = exc.limit
                    log.warning("%s; the remaining summaries are offline", exc)
            return self._fall_back(brief, exc.reason)
        except SummariseError as exc:
            self._error(brief, exc)
            return self._fall_back(brief, exc.reason)
        except Exception as exc:  # a bug or an unexpected failure in the summariser: fall back, say so
            self._error(brief, exc)
            return self._fall_back(brief, "error")
        with self._lock:
            self.stats.llm += 1
            self.stats.ids_removed += getattr(summary, "ids_removed", 0)
        return summary

    def _error(self, brief: Brief, exc: BaseException) -> None:
        cause = f"{type(exc).__name__}: {exc}"[:360]
        message = f"{brief.level} {brief.node_id}: {cause}"
        with self._lock:
            repeated = cause in self._seen_errors
            self._seen_errors.add(cause)
            if len(self.stats.errors) < _MAX_ERRORS:
                self.stats.errors.append(message)
        if repeated:
            log.debug("summariser failed again, using the offline summary: %s", message)
        else:
            log.warning("summariser failed, using the offline summary: %s", message)

    def _fall_back(self, brief: Brief, reason: str) -> Summary:
        summary = self.fallback.summarise(brief)
        with self._lock:
            self.stats.fallbacks[reason] += 1
        return dataclasses.replace(summary, summariser=f"{self.fallback_name} (fallback: {reason})")
