"""Trace outcomes derived from root-span attributes, for traces whose reader recorded none.

Readers of formats with a first-class verdict set :attr:`TraceInfo.outcome` themselves (τ-bench
``reward``, Langfuse scores, Inspect AI scores, SWE-agent exit status); that outcome is never replaced.
Every other trace — OTLP and flat spans, OpenAI Agents SDK traces (``metadata`` on the trace object),
LangSmith runs (``feedback_stats``, scores in ``outputs`` / ``extra.metadata``), and traces whose reader
left :attr:`Outcome.UNKNOWN` — gets its outcome here from the attributes of its root spans (spans
without a parent). While a file is read, each root span's outcome-like attributes are picked out by key
(:func:`root_outcome`: the general path in :func:`tracemine.ingest.loader.run_task`, the fast path in
:class:`tracemine.ingest.fast.rows.RowBuilder`, from the same attribute dicts, so both paths give the same
result); once every file of an ingest is read, :func:`derived_trace_rows` decides per trace and
:meth:`tracemine.store.Store.add_derived_outcomes` records the outcome before the ingest is committed.
The cost is a dictionary look-up per root-span attribute key (cached per key), nothing per child span.

**Keys.** An attribute key is split into lowercase words (``.``, ``_``, ``-``, camelCase); it is an
outcome key when a word is in :data:`KEY_TIERS`. The tier says how explicit the key is:

======  ========================================================  ==========================================
tier    words                                                     examples
======  ========================================================  ==========================================
0       feedback, eval(s), evaluation, evaluator, judge, grade,   ``eval.score``, ``feedback.rating``,
        grader, graded, verdict, rating(s), thumbs,               ``metadata.eval_score``,
        annotation(s)                                             ``langsmith.feedback_stats.correct.avg``
1       score, scores, reward, rewards                            ``score``, ``metadata.reward``
2       success, succeeded, successful, passed, pass, correct,    ``task.success``, ``passed``, ``is_correct``
        correctness, resolved, solved, outcome
======  ========================================================  ==========================================

A key with a word in :data:`IGNORED_WORDS` is never a verdict (``….n``, ``score_threshold``,
``eval_run_id``, ``feedback.comment``, ``feedback_stats.x.values.correct`` — counts, limits, ids, text).

**Values** (:func:`verdict`):

* booleans: ``True`` success, ``False`` failure (also the strings ``"true"``/``"false"``);
* numbers (and numeric strings) in ``[0, 1]``: success at :data:`THRESHOLD` (0.5) or above, failure
  below — eval scores, rewards and LangSmith ``feedback_stats`` averages share this scale;
* ``-1`` under a rating-like key (``rating``, ``thumbs``, ``feedback``): failure (±1 user ratings);
* other numbers (5-star ratings, 0-10 scores, raw counts): no verdict;
* the words in :data:`SUCCESS_WORDS` / :data:`FAILURE_WORDS` (``pass``/``fail``, ``success``/``failure``,
  ``correct``/``incorrect``, ``thumbs_up``/``thumbs_down``, 👍/👎 …), any case; other text: no verdict;
* a ``feedback_stats``-style object ``{"avg": x, "n": k}`` (or ``{"score": x}``, ``{"value": x}``): its
  value, as a number. Nested objects are flattened first, so ``{"avg": 0.0}`` stored as a dict and
  ``….avg = 0.0`` stored flat read the same.

**Disagreement.** The lowest (most explicit) tier with any verdict decides: an eval or feedback key
beats a bare ``score``/``reward``, which beats a ``success``/``passed`` flag. Verdicts that disagree
within that tier leave the outcome unknown (ambiguous), whatever lower tiers say.

**Root error status.** A root span with status ``error`` is *not* a failure by itself: the detectors
already report errors, and a failure rate derived from errors would make the outcome lift of error
findings circular. ``ingest.outcome_from_root_error: true`` turns it on (only for traces with no
attribute verdict).

The matched attributes are kept, raw, in the trace's labels (``outcome_attributes``, with
``outcome_from`` naming the deciding key), so the score itself is never lost.

**Limits.** Only spans stored without a parent are roots (a trace whose root was never exported has
none). A trace already recorded by an earlier ingest keeps that record. Span events (e.g. GenAI
``gen_ai.evaluation.result`` events) are not read. A reader's ``unknown`` is completed like a missing
outcome, so a τ-bench partial reward of 0.5 or more on the ``tau.reward`` root attribute counts as a
success here although the τ-bench reader itself only decides 0 and 1.
"""

from __future__ import annotations

import math
import re
from typing import Any

from tracemine.model import Outcome

THRESHOLD = 0.5
"""A number in ``[0, 1]`` at or above this is a success, below it a failure."""

KEY_TIERS: dict[str, int] = {
    **dict.fromkeys(
        ("feedback", "eval", "evals", "evaluation", "evaluator", "judge", "grade", "grader", "graded", "verdict",
         "rating", "ratings", "thumbs", "annotation", "annotations"), 0),
    **dict.fromkeys(("score", "scores", "reward", "rewards"), 1),
    **dict.fromkeys(
        ("success", "succeeded", "successful", "passed", "pass", "correct", "correctness", "resolved", "solved",
         "outcome"), 2),
}
"""Words naming an outcome in an attribute key, with how explicit they are (0 = most)."""

RATING_WORDS = frozenset({"rating", "ratings", "thumbs", "feedback"})
"""Key words under which ``-1`` is a thumbs-down."""

IGNORED_WORDS = frozenset({
    "n", "count", "counts", "total", "values", "stdev", "std", "variance", "errors", "error", "comment", "comments",
    "sources", "source", "threshold", "min", "max", "weight", "id", "ids", "uuid", "name", "names", "key", "reason",
    "reasoning", "explanation", "rationale", "type", "model", "version", "time", "timestamp", "latency", "ms",
    "tokens", "cost", "url", "link", "config", "criteria", "rubric", "prompt", "template",
})
"""Key words that make an outcome-like key something else (counts, limits, ids, free text)."""

SUCCESS_WORDS = frozenset({
    "pass", "passed", "success", "successful", "succeeded", "correct", "true", "yes", "resolved", "solved",
    "thumbs_up", "thumbsup", "thumbs up", "thumbs-up", "up", "👍", "good", "positive",
})
FAILURE_WORDS = frozenset({
    "fail", "failed", "failure", "incorrect", "false", "no", "unresolved", "unsolved", "thumbs_down",
    "thumbsdown", "thumbs down", "thumbs-down", "down", "👎", "bad", "negative", "wrong",
})

_DICT_VALUE_KEYS = ("avg", "mean", "score", "value")
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

_MAX_LABEL_CHARS = 500


def key_tier(key: str) -> int | None:
    """The tier of an outcome key (:data:`KEY_TIERS`), or ``None`` when ``key`` is not one."""
    words = _WORD_SPLIT.split(_CAMEL.sub("_", key).lower())
    tier: int | None = None
    for word in words:
        if word in IGNORED_WORDS:
            return None
        found = KEY_TIERS.get(word)
        if found is not None and (tier is None or found < tier):
            tier = found
    return tier


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def verdict(value: Any, rating: bool = False) -> Outcome | None:
    """The outcome a value states (rules in the module docstring), or ``None`` when it states none."""
    if isinstance(value, bool):
        return Outcome.SUCCESS if value else Outcome.FAILURE
    if isinstance(value, dict):
        for key in _DICT_VALUE_KEYS:
            if key in value:
                return verdict(value[key], rating)
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in SUCCESS_WORDS:
            return Outcome.SUCCESS
        if text in FAILURE_WORDS:
            return Outcome.FAILURE
    number = _number(value)
    if number is None:
        return None
    if 0.0 <= number <= 1.0:
        return Outcome.SUCCESS if number >= THRESHOLD else Outcome.FAILURE
    if rating and number == -1.0:
        return Outcome.FAILURE
    return None


def _flatten(attrs: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in attrs.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict) and value and not any(k in value for k in _DICT_VALUE_KEYS):
            flat.update(_flatten(value, full + "."))
        else:
            flat[full] = value
    return flat


def derive(root_attributes: list[dict[str, Any]], root_error: bool = False,
           outcome_from_root_error: bool = False) -> tuple[Outcome, dict[str, Any] | None]:
    """The outcome of a trace from its root spans' attributes, and the labels that record why.

    Returns ``(Outcome.UNKNOWN, None)`` when no attribute names an outcome (and the root-error rule is
    off or does not apply); otherwise the labels hold every outcome-like attribute as stored
    (``outcome_attributes``) and the deciding key (``outcome_from``), also when the result is unknown.
    """
    matched: dict[str, Any] = {}
    votes: dict[int, dict[Outcome, str]] = {}
    for attrs in root_attributes:
        for key, value in _flatten(attrs).items():
            tier = key_tier(key)
            if tier is None:
                continue
            matched.setdefault(key, _label_value(value))
            words = set(_WORD_SPLIT.split(_CAMEL.sub("_", key).lower()))
            found = verdict(value, rating=bool(words & RATING_WORDS))
            if found is not None:
                votes.setdefault(tier, {}).setdefault(found, key)
    outcome, source = Outcome.UNKNOWN, None
    if votes:
        decided = votes[min(votes)]
        if len(decided) == 1:
            outcome, source = next(iter(decided.items()))
        else:
            source = "ambiguous: " + ", ".join(sorted(decided.values()))
    if outcome == Outcome.UNKNOWN and not votes and root_error and outcome_from_root_error:
        outcome, source = Outcome.FAILURE, "root_error"
    if not matched and source is None:
        return Outcome.UNKNOWN, None
    labels: dict[str, Any] = {"outcome_from": source}
    if matched:
        labels["outcome_attributes"] = matched
    return outcome, labels


def _label_value(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _MAX_LABEL_CHARS:
        return value[:_MAX_LABEL_CHARS]
    return value


RootSpanFacts = tuple[str, str, bool, "dict[str, Any] | None", str, str]
"""What ingest keeps of a root span for its trace's outcome: ``(trace_id, name, is_error, outcome-like
attributes or None, source_format, source_file)`` (:func:`root_outcome`)."""

_KEY_CACHE: dict[str, int | None] = {}
_KEY_CACHE_MAX = 50_000


def _cached_tier(key: str) -> int | None:
    try:
        return _KEY_CACHE[key]
    except KeyError:
        if len(_KEY_CACHE) >= _KEY_CACHE_MAX:
            _KEY_CACHE.clear()
        tier = _KEY_CACHE[key] = key_tier(key)
        return tier


def outcome_attributes(attrs: dict[str, Any] | None) -> dict[str, Any] | None:
    """The attributes of ``attrs`` whose key names an outcome (values as they are), or ``None``.

    Looks at keys only (each key's tier is cached: keys repeat across traces), so a root span with large
    attribute values costs no more than one with small ones."""
    if not attrs:
        return None
    found: dict[str, Any] | None = None
    for key, value in attrs.items():
        if type(value) is dict:
            if any(k in value for k in _DICT_VALUE_KEYS):
                if _cached_tier(key) is None:
                    continue
            else:
                nested = outcome_attributes({f"{key}.{k}": v for k, v in value.items()})
                if nested:
                    found = {**(found or {}), **nested}
                continue
        elif _cached_tier(key) is None:
            continue
        if found is None:
            found = {}
        found[key] = value
    return found


def root_outcome(trace_id: str, name: str, status: str, attrs: dict[str, Any] | None, source_format: str,
                 source_file: str) -> RootSpanFacts | None:
    """What to keep of a root span (one without a parent) for the outcome of its trace: ``None`` when
    it has no outcome-like attribute and no error status. Called once per root span by both ingest paths
    (:class:`tracemine.ingest.fast.rows.RowBuilder` and :func:`tracemine.ingest.loader.run_task`)."""
    found = outcome_attributes(attrs)
    is_error = status == "error"
    if found is None and not is_error:
        return None
    return (trace_id, name, is_error, found, source_format, source_file)


def derived_trace_rows(roots: list[RootSpanFacts], ingest_id: int,
                       outcome_from_root_error: bool = False) -> list[dict[str, Any]]:
    """Trace records (rows of the ``traces`` table, ``labels`` as a dict) for the traces whose root spans
    state an outcome, from the root spans of one ingest in the order they were read; a trace with
    several root spans pools their attributes. :meth:`tracemine.store.Store.add_derived_outcomes`
    stores them without overriding what a reader recorded."""
    by_trace: dict[str, dict[str, Any]] = {}
    for trace_id, name, is_error, attrs, source_format, source_file in roots:
        entry = by_trace.get(trace_id)
        if entry is None:
            entry = by_trace[trace_id] = {"name": name, "attrs": [], "error": False, "format": source_format,
                                          "file": source_file}
        entry["error"] = entry["error"] or is_error
        if attrs:
            entry["attrs"].append(attrs)
    rows: list[dict[str, Any]] = []
    for trace_id, entry in by_trace.items():
        outcome, labels = derive(entry["attrs"], entry["error"], outcome_from_root_error)
        if labels is None:
            continue
        rows.append({"trace_id": trace_id, "outcome": outcome.value, "name": entry["name"], "labels": labels,
                     "source_format": entry["format"], "source_file": entry["file"], "ingest_id": ingest_id})
    return rows
