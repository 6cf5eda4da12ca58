"""Facts about a group of signals, aggregated from their detector evidence (see ARCHITECTURE.md,
'Adding a detector').

:func:`collect_facts` turns the ``evidence`` dicts of a cluster's members into small, JSON-ready counts
that a summariser (offline templates or an LLM prompt) can state without reading every member: which
mechanisms, which error messages (masked, so that the same message from different traces counts once),
which schema constraints, how often the failing call was a write or was recovered later, which metric an
outlier is about and by how much…

The facts shared by every detector are keyed on evidence *field names* (``reason``, ``error``,
``later_success``, ``write`` …), never on tool, agent or dataset names, so third-party detectors that use
the same field names are summarised too. Facts about fields only one detector writes (a loop's repeats, an
outlier's metrics…) are its own: every known detector class (and signal source) adds them from its
``facts`` classmethod (:meth:`tracemine.detect.base.Detector.facts`), in ``facts_order``, over the
members' evidence — so a plugin detector contributes its facts the same way; one that raises is skipped
with a warning. This module names no detector. Every text is passed through the
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
* each detector's own keys (see its ``facts``): ``violations`` and ``unknown_tools`` (argument errors),
  ``metrics`` (outliers), ``loops``, ``duplicates``, ``contrast``, ``trajectory``.
* ``runs``: ``{"median_steps", "median_steps_after", "median_failed_attempts"}`` (whichever apply).
* ``signals``, ``traces``: member and distinct-trace counts (always present).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from tracemine.detect.textmask import mask
from tracemine.model import Signal
from tracemine.redact import Redactor, default_redactor
from tracemine.render import error_class
from tracemine.summarise.aggregate import TEXT_CHARS, Texts, bools, median, number, share, texts_of
from tracemine.summarise.aggregate import top as _top

__all__ = ["MESSAGE_FIELDS", "TEXT_CHARS", "collect_facts", "default_redactor", "message_of"]

log = logging.getLogger("tracemine.summarise")

MESSAGE_FIELDS = ("error", "reason", "child_error", "message", "status_message")
"""Evidence fields holding a member's failure message, in order of preference."""

_RESULT_FIELDS = ("result_excerpt", "first_result_excerpt", "output_excerpt")
_WRITE_FIELDS = ("write", "is_write")
_RECOVERED_FIELDS = ("later_success", "recovered")


def message_of(evidence: Mapping[str, Any]) -> str | None:
    """The failure message of one member's evidence (first non-empty of :data:`MESSAGE_FIELDS`)."""
    for key in MESSAGE_FIELDS:
        value = evidence.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def collect_facts(signals: Sequence[Signal], redactor: Redactor | None = None, top: int = 5) -> dict[str, Any]:
    """Aggregate the members' detector evidence into JSON-ready counts (see the module docstring for the
    keys and shapes). Every text is redacted with ``redactor`` (the default rules when ``None``), masked
    where it is counted, and trimmed; lists keep the ``top`` most common entries. Never raises on odd
    evidence (non-dict evidence, missing or mistyped fields are skipped)."""
    texts = Texts(redactor if redactor is not None else default_redactor())
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
        listed = {m for m in texts_of(ev.get("mechanisms")) if m and m != ev.get("mechanism")}
        also.update(texts.clean(m) for m in listed)
    put("all_mechanisms", also)

    _messages(facts, evs, texts, top)
    _detector_facts(facts, evs, texts, top)

    for key, fields in (("writes", _WRITE_FIELDS), ("recovered_later", _RECOVERED_FIELDS),
                        ("retried", ("retried",)), ("admits_failure", ("final_answer_admits_failure",)),
                        ("run_failed", ("run_failed",))):
        found = bools(evs, fields)
        if found is not None:
            facts[key] = found
    if "writes" not in facts:  # loops name their write tools instead of a flag
        with_list = [ev for ev in evs if isinstance(ev.get("write_tools"), list)]
        if with_list:
            facts["writes"] = share(sum(1 for ev in with_list if ev["write_tools"]), len(with_list))

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
        values = [v for ev in evs if (v := number(ev.get(field))) is not None]
        if values:
            runs[key] = median(values)
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
        text = " | ".join(texts_of(args)) if isinstance(args, list) else args if isinstance(args, str) else None
        if text:
            arguments[texts.masked(text)] += 1
    put("arguments", arguments)
    put("final_answers", Counter(texts.masked(ev["final_answer_excerpt"]) for ev in evs
                                 if isinstance(ev.get("final_answer_excerpt"), str)
                                 and ev["final_answer_excerpt"].strip()))
    return facts


def _messages(facts: dict[str, Any], evs: Sequence[Mapping[str, Any]], texts: Texts, top: int) -> None:
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


def _specs() -> list[type]:
    """Every class that declares signals (the detectors in registry order, then other signal sources),
    ordered by their ``facts_order``."""
    from tracemine.detect.registry import SIGNAL_SOURCES, detector_classes, load_target

    found = list(detector_classes().values())
    for target in SIGNAL_SOURCES.values():
        cls = load_target(target)
        if cls not in found:
            found.append(cls)
    return sorted(found, key=lambda cls: getattr(cls, "facts_order", 100))


def _detector_facts(facts: dict[str, Any], evs: list[Mapping[str, Any]], texts: Texts, top: int) -> None:
    """Each detector's own facts over the members' evidence (a key already set is kept)."""
    for spec in _specs():
        try:
            found = spec.facts(evs, texts, top)
        except Exception as exc:  # a plugin's broken facts must not stop a run
            log.warning("the facts of %s.%s failed (%s: %s); left out", spec.__module__, spec.__qualname__,
                        type(exc).__name__, exc)
            continue
        for key, value in (found.items() if isinstance(found, Mapping) else ()):
            facts.setdefault(str(key), value)
