"""Facts about a group of signals, aggregated from their detector evidence (see ARCHITECTURE.md,
'Adding a detector').

:func:`collect_facts` turns the ``evidence`` dicts of a cluster's members into small, JSON-ready counts
that a summariser (offline templates or an LLM prompt) can state without reading every member: which
mechanisms, which error messages (masked, so that the same message from different traces counts once),
which schema constraints, how often the failing call was a write or was recovered later, which metric an
outlier is about and by how much…

Everything is keyed on evidence *field names* shared by the built-in detectors (``reason``, ``error``,
``violations``, ``metric``, ``repeats``, ``later_success`` …), never on tool, agent or dataset names, so
third-party detectors that use the same field names are summarised too. Every text is passed through the
:class:`~tracemine.redact.Redactor` *before* masking (masking could break a secret into pieces
the redactor would no longer recognise) and trimmed to :data:`TEXT_CHARS` characters.

Shapes (keys are present only when at least one member carries the field):

* ``[[value, count], …]`` — most common first, ties by value, at most ``top`` entries: ``kinds``,
  ``mechanisms``, ``all_mechanisms``, ``error_classes``, ``step_kinds``, ``statuses``, ``final_statuses``,
  ``schema_sources``, ``ended_at``, ``results``, ``arguments``, ``final_answers``.
* ``{"count": n, "of": m, "share": n / m}`` — ``m`` members carry the field, ``n`` of them have it true:
  ``writes``, ``recovered_later``, ``retried``, ``admits_failure``, ``run_failed``.
* ``messages``: ``[{"text": masked, "example": most common unmasked spelling, "count": n, "variants": k,
  "error_class": class of the example or None}]``.
* ``violations``: ``[{"validator", "path", "message", "count"}]``.
* ``unknown_tools``: ``[{"tool", "closest", "count"}]``.
* ``metrics``: ``[{"metric", "unit", "count", "primary", "median_value", "median_baseline",
  "median_ratio", "max_ratio"}]`` (outliers; ``primary`` counts members where it is the top metric).
* ``loops``: ``{"count", "cycles": [[cycle, n]], "median_period", "median_repeats", "max_repeats",
  "stuck_polls", "stuck_states": [[state, n]], "failing": share-dict, "reformatted": share-dict}``.
* ``duplicates``: ``{"count", "median_calls", "max_calls", "reformatted", "adjacent", "same_result"``
  (share-dicts), ``"failed_before"}``.
* ``runs``: ``{"median_steps", "median_steps_after", "median_failed_attempts"}`` (whichever apply).
* ``signals``, ``traces``: member and distinct-trace counts (always present).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tracemine.detect.textmask import mask
from tracemine.model import Signal
from tracemine.redact import Redactor, default_redactor, redact_cut
from tracemine.render import error_class

__all__ = ["MESSAGE_FIELDS", "TEXT_CHARS", "collect_facts", "default_redactor", "message_of"]

TEXT_CHARS = 160
"""Longest text kept in the facts (after redaction and masking)."""

MESSAGE_FIELDS = ("error", "reason", "child_error", "message", "status_message")
"""Evidence fields holding a member's failure message, in order of preference."""

_RESULT_FIELDS = ("result_excerpt", "first_result_excerpt", "output_excerpt")
_WRITE_FIELDS = ("write", "is_write")
_RECOVERED_FIELDS = ("later_success", "recovered")
_UNITS = {"latency": "ms", "duration": "ms", "cost": "usd", "input_tokens": "tokens",
          "output_tokens": "tokens", "total_tokens": "tokens"}
_SPACES = re.compile(r"\s+")


def _trim(text: str, limit: int = TEXT_CHARS) -> str:
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Texts:
    """Redaction (cached: the same message recurs across members) then trimming / masking."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self._cache: dict[str, str] = {}

    def clean(self, value: Any) -> str:
        """Redacted, whitespace-collapsed, trimmed text ("" for anything empty)."""
        if value is None:
            return ""
        raw = value if isinstance(value, str) else str(value)
        cached = self._cache.get(raw)
        if cached is None:
            try:
                cached = _trim(redact_cut(raw, 4000, self.redactor, ellipsis=""))
            except Exception:  # a redactor must never let text through unredacted: drop it instead
                cached = ""
            self._cache[raw] = cached
        return cached

    def masked(self, value: Any) -> str:
        text = self.clean(value)
        return mask(text, TEXT_CHARS) if text else ""


def _top(counter: Counter[Any], top: int) -> list[list[Any]]:
    items = sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return [[value, count] for value, count in items[: max(top, 0)]]


def _share(count: int, of: int) -> dict[str, Any]:
    return {"count": count, "of": of, "share": round(count / of, 4) if of else 0.0}


def _median(values: Sequence[float]) -> float | None:
    return round(float(statistics.median(values)), 4) if values else None


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value == value and value not in (float("inf"), float("-inf")) else None


def message_of(evidence: Mapping[str, Any]) -> str | None:
    """The failure message of one member's evidence (first non-empty of :data:`MESSAGE_FIELDS`)."""
    for key in MESSAGE_FIELDS:
        value = evidence.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _bools(evs: Iterable[Mapping[str, Any]], fields: Sequence[str]) -> dict[str, Any] | None:
    """Share of members whose boolean ``fields`` (any of them) is true, among members carrying one."""
    known = hits = 0
    for ev in evs:
        values = [ev[f] for f in fields if isinstance(ev.get(f), bool)]
        if values:
            known += 1
            hits += any(values)
    return _share(hits, known) if known else None


def _texts_of(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def collect_facts(signals: Sequence[Signal], redactor: Redactor | None = None, top: int = 5) -> dict[str, Any]:
    """Aggregate the members' detector evidence into JSON-ready counts (see the module docstring for the
    keys and shapes). Every text is redacted with ``redactor`` (the default rules when ``None``), masked
    where it is counted, and trimmed; lists keep the ``top`` most common entries. Never raises on odd
    evidence (non-dict evidence, missing or mistyped fields are skipped)."""
    texts = _Texts(redactor if redactor is not None else default_redactor())
    members = [s for s in signals if isinstance(s, Signal)]
    evs: list[Mapping[str, Any]] = [s.evidence if isinstance(s.evidence, Mapping) else {} for s in members]
    facts: dict[str, Any] = {
        "signals": len(members),
        "traces": len({s.trace_id for s in members}),
    }

    def put(key: str, counter: Counter[Any]) -> None:
        if counter:
            facts[key] = _top(counter, top)

    put("kinds", Counter(texts.clean(s.kind) or "unknown" for s in members))
    put("mechanisms", Counter(texts.clean(ev["mechanism"]) for ev in evs
                              if isinstance(ev.get("mechanism"), str) and ev["mechanism"]))
    also: Counter[str] = Counter()
    for ev in evs:
        listed = {m for m in _texts_of(ev.get("mechanisms")) if m and m != ev.get("mechanism")}
        also.update(texts.clean(m) for m in listed)
    put("all_mechanisms", also)

    _messages(facts, evs, texts, top)
    _violations(facts, evs, texts, top)
    _unknown_tools(facts, evs, texts, top)
    _metrics(facts, evs, texts, top)
    _loops(facts, evs, texts, top)
    _duplicates(facts, evs)
    _contrast(facts, evs, texts)
    _trajectory(facts, evs, texts)

    for key, fields in (("writes", _WRITE_FIELDS), ("recovered_later", _RECOVERED_FIELDS),
                        ("retried", ("retried",)), ("admits_failure", ("final_answer_admits_failure",)),
                        ("run_failed", ("run_failed",))):
        found = _bools(evs, fields)
        if found is not None:
            facts[key] = found
    if "writes" not in facts:  # loops name their write tools instead of a flag
        with_list = [ev for ev in evs if isinstance(ev.get("write_tools"), list)]
        if with_list:
            facts["writes"] = _share(sum(1 for ev in with_list if ev["write_tools"]), len(with_list))

    put("step_kinds", Counter(texts.clean(ev["step_kind"]) for ev in evs if isinstance(ev.get("step_kind"), str)))
    put("statuses", Counter(texts.clean(ev["status"]) for ev in evs if isinstance(ev.get("status"), str)))
    put("final_statuses", Counter(texts.clean(ev["final_status"]) for ev in evs
                                  if isinstance(ev.get("final_status"), str)))
    put("schema_sources", Counter(texts.clean(ev["schema_source"]) for ev in evs
                                  if isinstance(ev.get("schema_source"), str)))
    put("ended_at", Counter(texts.clean(ev["last_step"]) for ev in evs
                            if isinstance(ev.get("last_step"), str) and ev["last_step"]))
    runs: dict[str, Any] = {}
    for key, field in (("median_steps", "steps"), ("median_steps_after", "steps_after"),
                       ("median_failed_attempts", "failed_attempts")):
        values = [v for ev in evs if (v := _num(ev.get(field))) is not None]
        if values:
            runs[key] = _median(values)
    if runs:
        facts["runs"] = runs

    results: Counter[str] = Counter()
    for ev in evs:
        value = next((ev[f] for f in _RESULT_FIELDS if isinstance(ev.get(f), str) and ev[f].strip()), None)
        if value is not None:
            results[texts.masked(value)] += 1
    put("results", results)
    arguments: Counter[str] = Counter()
    for ev in evs:
        args = ev.get("arguments")
        text = " | ".join(_texts_of(args)) if isinstance(args, list) else args if isinstance(args, str) else None
        if text:
            arguments[texts.masked(text)] += 1
    put("arguments", arguments)
    put("final_answers", Counter(texts.masked(ev["final_answer_excerpt"]) for ev in evs
                                 if isinstance(ev.get("final_answer_excerpt"), str)
                                 and ev["final_answer_excerpt"].strip()))
    return facts


def _trajectory(facts: dict[str, Any], evs: Sequence[Mapping[str, Any]], texts: _Texts) -> None:
    """``trajectory``: the distinguishing steps and the cluster's failure rates (shared by its members)."""
    ev = next((ev for ev in evs if isinstance(ev.get("steps"), list) and isinstance(ev.get("rate_with"), float)), None)
    if ev is None:
        return
    facts["trajectory"] = {"steps": [texts.clean(str(s)) for s in ev["steps"][:5]], "rate_with": ev["rate_with"],
                           "rate_without": _num(ev.get("rate_without")), "failed_with": _num(ev.get("failed_with")),
                           "known_with": _num(ev.get("known_with"))}


def _contrast(facts: dict[str, Any], evs: Sequence[Mapping[str, Any]], texts: _Texts) -> None:
    """``contrast``: the feature and its window counts (every member of one contrast finding shares them)."""
    ev = next((ev for ev in evs if isinstance(ev.get("feature"), str) and isinstance(ev.get("rate_with"), float)), None)
    if ev is None:
        return
    facts["contrast"] = {"feature": texts.clean(ev["feature"]), "type": texts.clean(str(ev.get("feature_type") or "")),
                         "traces_with": _num(ev.get("traces_with")), "failed_with": _num(ev.get("failed_with")),
                         "rate_with": ev["rate_with"], "rate_without": _num(ev.get("rate_without")),
                         "known": _num(ev.get("known")), "q_value": _num(ev.get("q_value"))}


def _messages(facts: dict[str, Any], evs: Sequence[Mapping[str, Any]], texts: _Texts, top: int) -> None:
    counts: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    classes: Counter[str] = Counter()
    for ev in evs:
        raw = message_of(ev)
        if raw is None:
            continue
        clean = texts.clean(raw)
        if not clean:
            continue
        key = mask(clean, TEXT_CHARS)
        counts[key] += 1
        spellings.setdefault(key, Counter())[clean] += 1
        found = error_class(clean)
        if found:
            classes[found] += 1
    if counts:
        facts["messages"] = [
            {"text": key, "example": _top(spellings[key], 1)[0][0], "count": n, "variants": len(spellings[key]),
             "error_class": error_class(_top(spellings[key], 1)[0][0])}
            for key, n in _top(counts, top)
        ]
    if classes:
        facts["error_classes"] = _top(classes, top)


def _violations(facts: dict[str, Any], evs: Sequence[Mapping[str, Any]], texts: _Texts, top: int) -> None:
    counts: Counter[tuple[str, str]] = Counter()
    messages: dict[tuple[str, str], Counter[str]] = {}
    for ev in evs:
        seen: set[tuple[str, str]] = set()
        listed = ev.get("violations")
        for v in listed if isinstance(listed, list) else ():
            if not isinstance(v, Mapping):
                continue
            key = (texts.clean(v.get("validator")) or "invalid", texts.clean(v.get("path")) or "$")
            if key in seen:
                continue
            seen.add(key)
            counts[key] += 1
            message = texts.clean(v.get("message"))
            if message:
                messages.setdefault(key, Counter())[message] += 1
    if counts:
        facts["violations"] = [
            {"validator": key[0], "path": key[1],
             "message": _top(messages[key], 1)[0][0] if key in messages else "", "count": n}
            for key, n in _top(counts, top)
        ]


def _unknown_tools(facts: dict[str, Any], evs: Sequence[Mapping[str, Any]], texts: _Texts, top: int) -> None:
    counts: Counter[tuple[str, str]] = Counter()
    for ev in evs:
        mechanisms = set(_texts_of(ev.get("mechanisms"))) | set(_texts_of(ev.get("mechanism")))
        if "unknown_tool" not in mechanisms and not isinstance(ev.get("closest_tool"), str):
            continue
        counts[(texts.clean(ev.get("tool")) or "?", texts.clean(ev.get("closest_tool")))] += 1
    if counts:
        facts["unknown_tools"] = [{"tool": k[0], "closest": k[1] or None, "count": n} for k, n in _top(counts, top)]


def _hits(ev: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """An outlier's metric hits: the evidence itself (its top metric) and its ``others``."""
    out: list[Mapping[str, Any]] = []
    if isinstance(ev.get("metric"), str):
        out.append(ev)
    others = ev.get("others")
    for other in others if isinstance(others, list) else ():
        if isinstance(other, Mapping) and isinstance(other.get("metric"), str):
            out.append(other)
    return out


def _metrics(facts: dict[str, Any], evs: Sequence[Mapping[str, Any]], texts: _Texts, top: int) -> None:
    per: dict[str, dict[str, list[float]]] = {}
    primary: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for ev in evs:
        hits = _hits(ev)
        if not hits:
            continue
        primary[texts.clean(hits[0]["metric"])] += 1
        done: set[str] = set()
        for hit in hits:
            metric = texts.clean(hit["metric"])
            if metric in done:
                continue
            done.add(metric)
            seen[metric] += 1
            slot = per.setdefault(metric, {"value": [], "median": [], "ratio": []})
            for field in ("value", "median", "ratio"):
                number = _num(hit.get(field))
                if number is not None:
                    slot[field].append(number)
    if not seen:
        return
    order = sorted(seen, key=lambda m: (-primary[m], -seen[m], m))[: max(top, 0)]
    facts["metrics"] = [
        {"metric": m, "unit": _UNITS.get(m, ""), "count": seen[m], "primary": primary[m],
         "median_value": _median(per[m]["value"]), "median_baseline": _median(per[m]["median"]),
         "median_ratio": _median(per[m]["ratio"]),
         "max_ratio": round(max(per[m]["ratio"]), 4) if per[m]["ratio"] else None}
        for m in order
    ]


def _loops(facts: dict[str, Any], evs: Sequence[Mapping[str, Any]], texts: _Texts, top: int) -> None:
    loops = [ev for ev in evs if isinstance(ev.get("cycle"), list) or _num(ev.get("repeats")) is not None]
    if not loops:
        return
    cycles: Counter[str] = Counter()
    stuck: Counter[str] = Counter()
    for ev in loops:
        names = [texts.clean(c) for c in _texts_of(ev.get("cycle"))]
        if names:
            cycles[" -> ".join(names)] += 1
        if isinstance(ev.get("stuck_state"), str) and ev["stuck_state"]:
            stuck[texts.clean(ev["stuck_state"])] += 1
    periods = [v for ev in loops if (v := _num(ev.get("period"))) is not None]
    repeats = [v for ev in loops if (v := _num(ev.get("repeats"))) is not None]
    out: dict[str, Any] = {"count": len(loops)}
    if cycles:
        out["cycles"] = _top(cycles, top)
    if periods:
        out["median_period"] = _median(periods)
    if repeats:
        out["median_repeats"] = _median(repeats)
        out["max_repeats"] = max(repeats)
    out["stuck_polls"] = sum(stuck.values())
    if stuck:
        out["stuck_states"] = _top(stuck, top)
    failing = _bools(loops, ("failing",))
    if failing is not None:
        out["failing"] = failing
    exact = [ev[f] for ev in loops for f in ("exact_arguments", "exact_output") if isinstance(ev.get(f), bool)]
    if exact:
        out["reformatted"] = _share(sum(1 for e in exact if not e), len(exact))
    facts["loops"] = out


def _duplicates(facts: dict[str, Any], evs: Sequence[Mapping[str, Any]]) -> None:
    dups = [ev for ev in evs if _num(ev.get("calls")) is not None]
    if not dups:
        return
    calls = [v for ev in dups if (v := _num(ev.get("calls"))) is not None]
    out: dict[str, Any] = {"count": len(dups), "median_calls": _median(calls), "max_calls": max(calls)}
    exact = [ev["exact_arguments"] for ev in dups if isinstance(ev.get("exact_arguments"), bool)]
    if exact:
        out["reformatted"] = _share(sum(1 for e in exact if not e), len(exact))
    for key in ("adjacent", "same_result"):
        found = _bools(dups, (key,))
        if found is not None:
            out[key] = found
    out["failed_before"] = sum(1 for ev in dups if isinstance(ev.get("failed_before_span_ids"), list)
                               and ev["failed_before_span_ids"])
    facts["duplicates"] = out
