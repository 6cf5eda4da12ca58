"""Shared reasoning about agent actions for the ``loop`` and ``duplicate_call`` detectors.

* whether a tool writes (changes the world) or only reads, from generic verbs in its name and description;
* whether a call succeeded (no error status, no error-shaped result, no exception event);
* result signatures that ignore volatile values (timestamps, request ids, durations, times relative to the
  call), so that "the same result" means "no new information", and data signatures that compare only the
  items an answer carries (hits, rows, log lines), whatever the envelope's numbers (totals, statistics);
* near-same arguments (trivially rephrased free text) and near-same LLM outputs (token-set Jaccard);
* periodic runs of actions (period 1..``max_period`` repeated ``min_repeats`` times), used by the loop
  detector to report loops and by the duplicate-call detector to skip spans a loop already covers.

Nothing here knows any particular agent, tool or dataset: every rule follows from structure and words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from tracemine.detect.args import normalize_value
from tracemine.detect.outcome import HAS_DATA, emptiness, result_failure
from tracemine.detect.schema_infer import walk
from tracemine.detect.textmask import mask
from tracemine.detect.tool_roles import words
from tracemine.detect.view import LlmTurn, ToolCall, TraceView
from tracemine.ingest.decode import decode_value
from tracemine.model import Span, SpanKind

# --- write vs read: see tracemine.detect.tool_roles --------------------------------------------------

# --- success / error -------------------------------------------------------------------------------

def result_is_error(result: Any, text: str = "") -> bool:
    """Whether a (decoded) tool result reports a failure in its own words (see :mod:`outcome`)."""
    return result_failure(result, text or None) is not None


def has_exception_event(span: Span) -> bool:
    return any(str(e.get("name", "")).lower() == "exception" for e in span.events or ())


def call_succeeded(call: ToolCall) -> bool:
    """No error status, no exception event and no error-shaped result."""
    return not (call.failed or has_exception_event(call.span) or result_is_error(call.result, call.result_text))


# --- result signatures -----------------------------------------------------------------------------

_VOLATILE_WORDS = frozenset({"at", "timestamp", "ts", "elapsed", "duration", "latency", "took", "nonce", "etag",
                             "uptime", "cached", "cache", "generated", "fetched", "retrieved", "served", "ttl",
                             "expires", "expiry"})
_VOLATILE_ID_OWNERS = frozenset({"request", "trace", "span", "correlation", "idempotency", "session", "response",
                                 "execution", "invocation", "operation", "call", "run", "event", "message"})
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?$")
_LONG_HEX = re.compile(r"^(?=.*\d)(?=.*[a-fA-F])[0-9a-fA-F]{16,}$")
VOLATILE = "<volatile>"
_RELATIVE_TIME = (r"\b\d+\s*(?:ms|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)\s+ago\b"
                  r"|\b(?:just\s+now|a\s+(?:second|minute|moment)\s+ago|an\s+hour\s+ago)\b")
"""A time relative to the moment of the call (``3m ago``): it moves with the clock, not with the content."""
_RELATIVE_ONLY = re.compile(rf"^\s*(?:{_RELATIVE_TIME})\s*$", re.IGNORECASE)


@lru_cache(maxsize=65536)
def _volatile_key(key: str) -> bool:
    ws = words(key)
    if any(w in _VOLATILE_WORDS for w in ws) or any(w.endswith("ms") and w[:-2] in _VOLATILE_WORDS for w in ws):
        return True
    return len(ws) >= 2 and ws[-1] == "id" and ws[-2] in _VOLATILE_ID_OWNERS


def strip_volatile(value: Any) -> Any:
    """``value`` with timestamps, request/trace ids and durations replaced by a placeholder."""
    if isinstance(value, dict):
        return {k: VOLATILE if _volatile_key(str(k)) else strip_volatile(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_volatile(v) for v in value]
    if isinstance(value, str) and (_UUID.match(value) or _DATETIME.match(value) or _LONG_HEX.match(value)
                                   or _RELATIVE_ONLY.match(value)):
        return VOLATILE
    return value


def _echo_free(value: Any, echoes: frozenset[str]) -> Any:
    """``value`` with strings that repeat one of the call's own free-text arguments replaced by a
    placeholder, and short messages quoting one with the quote masked (a search result echoing its query
    must not make two rephrasings of one search look different). Only the envelope is read: items of a
    list are the data found, even when one happens to equal the query."""
    if not echoes:
        return value
    if isinstance(value, dict):
        return {k: _echo_free(v, echoes) for k, v in value.items()}
    if isinstance(value, str):
        flat = _words_of(value)
        if flat in echoes:
            return "<argument>"
        if len(value) <= 500:  # a short message quoting the query: "3 matches for 'disk full' in the last hour"
            for echo in sorted(echoes, key=len, reverse=True):
                at = f" {flat} ".find(f" {echo} ")
                if at >= 0:
                    return flat[:at] + "<argument>" + flat[at + len(echo):]
    return value


def _argument_strings(args: Any, out: set[str]) -> set[str]:
    if isinstance(args, dict):
        for v in args.values():
            _argument_strings(v, out)
    elif isinstance(args, list):
        for v in args[:50]:
            _argument_strings(v, out)
    elif isinstance(args, str) and len(args.split()) >= 2:
        out.add(_words_of(args))  # free text only: an echoed id is content
    return out


def _words_of(text: str) -> str:
    """Lower-case words of a text, punctuation and spacing dropped (how an echo is recognised)."""
    return " ".join(_TOKEN.findall(text.casefold()))


def _scores_masked(value: Any) -> Any:
    """``value`` with fractional numbers replaced by a placeholder: a search re-scores the same hits for
    every wording of its query (relevance, distance), so the scores say nothing about new content."""
    if isinstance(value, dict):
        return {k: _scores_masked(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_scores_masked(v) for v in value]
        if items and all(isinstance(v, dict) for v in items):  # re-scored hits come back re-ranked
            items.sort(key=lambda v: orjson.dumps(v, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
                                                  default=str))
        return items
    if isinstance(value, float) and not value.is_integer():
        return "<score>"
    return value


def content_signature(call: ToolCall, scores: bool = True) -> str:
    """:func:`result_signature` with echoes of the call's own free-text arguments masked: equal for two
    rephrasings of one question that returned the same content (same ids, same values). ``scores=False``
    also masks fractional numbers (the relevance scores a reworded query changes)."""
    echoes = frozenset(_argument_strings(call.args, set()))
    if call.result is None or (scores and (not echoes or isinstance(call.result, str))):
        return result_signature(call)
    decoded = decode_value(call.result)
    if not scores and isinstance(decoded, str) and decoded.strip():
        return _text_signature(call, decoded, echoes)
    if decoded is None or isinstance(decoded, str):
        return result_signature(call)
    error = "!" + mask(call.span.status_message or "", 200) if call.failed else ""
    value = _echo_free(strip_volatile(decoded), echoes)
    normalized = normalize_value(value if scores else _scores_masked(value))
    if not isinstance(normalized, str):
        normalized = orjson.dumps(normalized, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()
    return error + normalized


_TEXT_VOLATILE = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|(?<![\w.])\d+\.\d+(?![\d.])"
    rf"|{_RELATIVE_TIME}",
    re.IGNORECASE,
)


def _text_signature(call: ToolCall, text: str, echoes: frozenset[str]) -> str:
    """A plain-text answer's content for comparing reworded calls: its words, with times, uuids and
    fractional numbers (scores) masked, and the call's own free-text arguments where an echo stands (once,
    in the text's head: ``Results for 'disk full on api-7': …``; the same words further on are content)."""
    error = "!" + mask(call.span.status_message or "", 200) if call.failed else ""
    flat = _words_of(_TEXT_VOLATILE.sub(" ", text[:20_000]))
    for echo in sorted(echoes, key=len, reverse=True):
        at = flat.find(echo, 0, 200 + len(echo))
        if at >= 0:
            flat = flat[:at] + "<argument>" + flat[at + len(echo):]
    return error + flat


def data_signature(call: ToolCall) -> str | None:
    """The data an answer carries apart from its envelope: the items of its lists (hits, rows, log lines),
    compared in any order with volatile values, echoes of the call's free text and scores masked, beside the
    envelope's words; the envelope's numbers (how many lines the wording matched, the statistics of the
    query's execution) are left out. A plain-text answer's items are its lines after a header line whose
    numbers are left out. ``None`` when the answer carries no such items: nothing but an envelope to compare."""
    if call.result is None:
        return None
    echoes = frozenset(_argument_strings(call.args, set()))
    decoded = decode_value(call.result)
    if isinstance(decoded, str):
        return _text_data(decoded, echoes)
    if not isinstance(decoded, dict | list):
        return None
    found: list[bool] = []
    view = _data_view(_echo_free(strip_volatile(decoded), echoes), found)
    if not found:
        return None
    error = "!" + mask(call.span.status_message or "", 200) if call.failed else ""
    return error + orjson.dumps(view, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str).decode()


def _data_view(value: Any, found: list[bool]) -> Any:
    if isinstance(value, dict):
        return {k: _data_view(v, found) for k, v in value.items()}
    if isinstance(value, list):
        if not value:
            return []
        found.append(True)
        return sorted(orjson.dumps(normalize_value(_scores_masked(v)), option=orjson.OPT_SORT_KEYS
                                   | orjson.OPT_NON_STR_KEYS, default=str).decode() for v in value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "<number>"
    return value


_BARE_NUMBER = re.compile(r"(?<![\w.-])\d[\d,]*(?![\w.-])")


def _text_data(text: str, echoes: frozenset[str]) -> str | None:
    lines = [line.strip() for line in text[:20_000].splitlines() if line.strip()]
    if len(lines) < 3:
        return None  # a sentence or two: no items apart from an envelope
    header = _words_of(_BARE_NUMBER.sub("#", _TEXT_VOLATILE.sub(" ", lines[0])))
    for echo in sorted(echoes, key=len, reverse=True):
        header = header.replace(echo, "<argument>", 1)
    items = sorted(_words_of(_TEXT_VOLATILE.sub(" ", line)) for line in lines[1:])
    return "\n".join([header, *items])


def result_signature(call: ToolCall) -> str:
    """Canonical result without volatile values, prefixed for a failed call by its masked error message
    (two failures with the same output but different errors are different results)."""
    error = "!" + mask(call.span.status_message or "", 200) if call.failed else ""
    if call.result is None and not call.result_text:
        return error
    normalized = normalize_value(strip_volatile(decode_value(call.result)))
    if not isinstance(normalized, str):
        normalized = orjson.dumps(normalized, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()
    return error + normalized if error else normalized


# --- near-same text --------------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def tokens(text: str) -> frozenset[str]:
    return frozenset(t.casefold() for t in _TOKEN.findall(text or ""))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


_STOPWORDS = frozenset({
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "from", "by", "with", "about", "and", "or", "is", "are",
    "be", "me", "my", "i", "you", "your", "it", "its", "this", "that", "these", "those", "what", "which", "who",
    "how", "please", "any", "some", "all", "can", "could", "would", "do", "does", "find", "show", "get", "give",
    "list", "tell", "search", "look", "up", "s",
})
PAGING_WORDS = frozenset({"page", "cursor", "offset", "token", "after", "before", "skip", "next", "start",
                           "continuation", "marker", "from", "since", "until", "pagination"})


def _stem(token: str) -> str:
    for suffix in ("ing", "ies", "es", "ed", "s"):
        if len(token) > len(suffix) + 3 and token.endswith(suffix):
            return token[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return token


def _content_tokens(text: str) -> list[str]:
    return [_stem(t) for t in _TOKEN.findall(text.casefold()) if t not in _STOPWORDS]


def _trigrams(text: str) -> frozenset[str]:
    padded = f"  {text} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _numbers(text: str, context: frozenset[str] = frozenset()) -> list[str]:
    """The numbers a text states, without dates and times (a time qualifier, like a moved time window) and
    without the ``context`` numbers (those the call's other arguments state: ``KGR-12`` beside
    ``building_id: KGR-12`` restates the call, it asks nothing new)."""
    text = _DATE_TIME.sub(" ", text)
    return [n for m in _NUMBER.findall(text) if (n := m.replace(",", "")) not in context]


_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")


def _same_number(x: str, y: str) -> bool:
    """Equal, or one is the other at a lower precision (``69`` and ``68.6``; ``0006`` and ``6``)."""
    if x == y:
        return True
    dx, dy = len(x.partition(".")[2]), len(y.partition(".")[2])
    low = min(dx, dy)
    return round(float(x), low) == round(float(y), low)


def _covered(small: list[str], big: list[str]) -> bool:
    return all(any(_same_number(x, y) for y in big) for x in small)


def _numbers_conflict(a: str, b: str, context: frozenset[str] = frozenset()) -> bool:
    """Both texts state numbers (ids, amounts; see :func:`_numbers`) and neither's are all among the other's."""
    na, nb = _numbers(a, context), _numbers(b, context)
    return bool(na) and bool(nb) and not (_covered(na, nb) or _covered(nb, na))


def text_similarity(a: str, b: str, ignore: frozenset[str] = frozenset(),
                    context: frozenset[str] = frozenset()) -> float:
    """How alike two free texts are, 0..1: the larger of the token-set Jaccard and the character-trigram
    Jaccard of their content words (case, punctuation, stop words, plural/verb endings, bare numbers and
    the ``ignore`` words — a tool's own name words, which restate its domain rather than the question —
    left out). Texts whose numbers conflict (each states numbers — dates, ids, amounts — and neither's are
    all among the other's) are different questions: 0. Dropping a number, or stating it at another
    precision (``69`` for ``68.6``), is rewording."""
    ta, tb = _content_tokens(a), _content_tokens(b)
    if ta == tb:
        return 1.0
    if _numbers_conflict(a, b, context):
        return 0.0
    sa = frozenset(t for t in ta if not t.isdigit()) - ignore
    sb = frozenset(t for t in tb if not t.isdigit()) - ignore
    if not sa or not sb:
        return 0.0
    return max(jaccard(sa, sb), jaccard(_trigrams(" ".join(sorted(sa))), _trigrams(" ".join(sorted(sb)))))


def _value_similarity(a: Any, b: Any, key: str = "", ignore: frozenset[str] = frozenset(),
                      context: frozenset[str] = frozenset()) -> float:
    """The least similarity of corresponding values (1.0 equal, 0.0 incompatible). Keys must match;
    identifiers, single words, numbers and paging arguments must be equal; free text may be reworded
    (:data:`REWORDED` when nothing but the numbers it states is shared)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return 0.0
        return min((_value_similarity(a[k], b[k], str(k), ignore, context) for k in a), default=1.0)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return 0.0
        return min((_value_similarity(x, y, key, ignore, context) for x, y in zip(a, b, strict=True)), default=1.0)
    if isinstance(a, str) and isinstance(b, str):
        ta, tb = _TOKEN.findall(a.casefold()), _TOKEN.findall(b.casefold())
        if ta == tb:
            return 1.0  # only case, spacing or punctuation differ
        if min(len(ta), len(tb)) < 2 or any(w in PAGING_WORDS for w in words(key)):
            return 0.0  # identifiers, single words and cursors must match
        similar = text_similarity(a, b, ignore, context)
        if similar == 0.0 and not _numbers_conflict(a, b, context):
            return REWORDED  # free text in other words entirely: still possibly the same question
        return similar
    return 1.0 if a == b else 0.0


REWORDED = 0.01
"""The similarity of two free texts with no content word in common (and no conflicting numbers): above the
0.0 of values that must match (identifiers, single words, cursors, other numbers), below any real overlap."""


def _facts(text: str) -> frozenset[str]:
    """The digit-bearing tokens of a text: the ids, amounts and dates it states."""
    return frozenset(t for t in _TOKEN.findall(text.casefold()) if any(c.isdigit() for c in t))


def _same_facts(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_facts(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_facts(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, str) and isinstance(b, str) and a != b:
        if min(len(_TOKEN.findall(a)), len(_TOKEN.findall(b))) < 3:
            return False  # identifiers and short values must be equal; only prose may be reworded
        facts = _facts(a)
        return len(facts) >= 2 and facts == _facts(b)  # a follow-up leaving facts out is often an update
    return a == b


def same_facts(a: ToolCall, b: ToolCall) -> bool:
    """Same tool, same fields, every value equal except prose, which states exactly the same ids, amounts
    and dates (at least two) in other words: the same message rewritten."""
    return a.tool == b.tool and _same_facts(normalize_value(a.args), normalize_value(b.args))


_TIME_VALUE = re.compile(
    rf"^{_DATE_TIME.pattern}$"  # a point in time
    r"|^(?:now\s*)?-?\s*\d+\s*(?:s|sec|secs|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)$"  # 15m, now-1h
    r"|^(?:last|past)\s+(?:\d+\s+)?(?:seconds?|minutes?|hours?|days?|weeks?)$"  # last 24 hours, past day
    r"|^P(?:\d+[YMWD])*(?:T(?:\d+[HMS])+)?$",  # ISO 8601 durations: PT1H, P7D
    re.IGNORECASE)
_TIME_KEY_WORDS = frozenset({"since", "until", "from", "to", "start", "end", "after", "before", "window", "range",
                             "lookback", "last", "past", "period", "interval", "timeframe", "time", "duration", "ago"})
_UNIT_KEY_WORDS = frozenset({"seconds", "secs", "minutes", "mins", "hours", "hrs", "days", "weeks"})
_SIZE_KEY_WORDS = frozenset({"limit", "size", "top", "k", "max", "count", "results", "per", "n"})


def _moved_window(key: Any, a: Any, b: Any) -> bool:
    """An argument that only moves or widens what a call looks at, not what it asks: a time window
    (``since``, ``window``, ``lookback_minutes`` holding times or durations: ``2025-03-01T10:00Z``, ``15m``,
    ``last 24 hours``, ``PT1H``) or a result size (``limit``, ``top_k``, ``max_results``). Compared only for
    calls whose answers have exactly the same content: looking further back or asking for more, and being
    told the same, brought nothing new."""
    if a == b:
        return False
    if isinstance(a, dict) and isinstance(b, dict):  # {"time_range": {"from": …, "to": …}}
        return a.keys() == b.keys() and all(_moved_window(f"{key} {k}", a[k], b[k]) for k in a if a[k] != b[k])
    key_words = set(words(str(key)))
    if key_words & _TIME_KEY_WORDS and all(isinstance(v, str) and _TIME_VALUE.match(v.strip()) for v in (a, b)):
        return True
    numbers = all(isinstance(v, int) and not isinstance(v, bool) for v in (a, b))
    return numbers and bool(key_words & (_UNIT_KEY_WORDS | _SIZE_KEY_WORDS))


def args_similarity(a: ToolCall, b: ToolCall, optional_keys: bool = False) -> float:
    """Similarity of two calls' arguments (see :func:`_value_similarity`); 0.0 for different tools.

    With ``optional_keys`` (used only for calls whose answers have exactly the same content), a filter
    added or dropped at the top level (``category`` in one search, not in the next) and a moved time window
    (``since``/``until``/``from`` holding times: asking again a little later and being told the same) do
    not make the calls different: the other keys both have are compared, as long as they include a
    free-text one (the question itself). Cursors, offsets and pages must still match."""
    if a.tool != b.tool:
        return 0.0
    if a.args_key == b.args_key:
        return 1.0
    tool_words = frozenset(_stem(w) for w in words(a.tool))
    x, y = normalize_value(a.args), normalize_value(b.args)
    if optional_keys and isinstance(x, dict) and isinstance(y, dict):
        common = {k for k in x.keys() & y.keys() if not _moved_window(k, x[k], y[k])}
        if common != x.keys() or common != y.keys():
            if not any(isinstance(x[k], str) and len(_TOKEN.findall(x[k])) >= 2 for k in common):
                return 0.0
            x, y = {k: x[k] for k in common}, {k: y[k] for k in common}
    return _value_similarity(x, y, ignore=tool_words, context=_shared_numbers(x, y))


def _shared_numbers(x: Any, y: Any) -> frozenset[str]:
    """Numbers of the argument values both calls pass unchanged (a building id, a year): the context both
    questions are asked in, which their free text may restate."""
    def leaves(value: Any) -> set[tuple[str, str]]:
        return {(path, str(leaf)) for path, leaf in walk(value)
                if isinstance(leaf, str | int | float) and not isinstance(leaf, bool)}
    return frozenset(n.replace(",", "") for _path, leaf in leaves(x) & leaves(y) for n in _NUMBER.findall(leaf))


def _near_same_value(a: Any, b: Any, threshold: float) -> bool:
    """Trivially rephrased: the historical token-set rule (three or more words, Jaccard ≥ ``threshold``)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_near_same_value(a[k], b[k], threshold) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_near_same_value(x, y, threshold) for x, y in zip(a, b, strict=True))
    if isinstance(a, str) and isinstance(b, str):
        ta, tb = _TOKEN.findall(a.casefold()), _TOKEN.findall(b.casefold())
        if ta == tb:
            return True  # only case, spacing or punctuation differ
        # free text (several words) may be reworded; identifiers and single words must match
        return min(len(ta), len(tb)) >= 3 and jaccard(frozenset(ta), frozenset(tb)) >= threshold
    return a == b


def near_same_args(a: ToolCall, b: ToolCall, threshold: float) -> bool:
    """Same tool and arguments that differ only in trivially rephrased free text."""
    if a.tool != b.tool:
        return False
    if a.args_key == b.args_key:
        return True
    return _near_same_value(normalize_value(a.args), normalize_value(b.args), threshold)


_SCAFFOLD_KEYS = frozenset({"role", "type", "finish_reason", "id", "tool_call_id", "call_id", "index", "refusal"})


_METADATA_WORDS = frozenset({"usage", "metadata", "token", "tokens", "logprobs", "fingerprint", "info", "stats",
                             "timing", "latency", "cost", "lc", "serialized"})
"""Words of keys holding facts about a call rather than what the model said (token counts, provider
metadata): they change with every call, so two identical replies would look different."""


def _text_leaves(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).lower() not in _SCAFFOLD_KEYS and not set(words(str(key))) & _METADATA_WORDS:
                _text_leaves(item, out)
    elif isinstance(value, list):
        for item in value:
            _text_leaves(item, out)
    elif isinstance(value, str):
        decoded = decode_value(value)
        if decoded is not value and not isinstance(decoded, str):
            _text_leaves(decoded, out)
        else:
            out.append(value)
    elif value is not None:
        out.append(str(value))


def llm_output_tokens(turn: LlmTurn) -> frozenset[str]:
    """Tokens of what an LLM turn said or requested, without message scaffolding (roles, call ids)."""
    leaves: list[str] = []
    _text_leaves(decode_value(turn.output_text), leaves)
    return tokens(" ".join(leaves))


# --- periodic runs ---------------------------------------------------------------------------------


class LoopParams(BaseModel):
    """What makes repeated actions a loop: the settings every detector reading ``detect.loop`` shares (the
    loop detector's own :class:`~tracemine.detect.builtin.loop.LoopDetectorParams` adds its severities)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_repeats: int = Field(3, ge=2, description="repetitions of an action or cycle, the first included")
    max_period: int = Field(4, ge=1, description="longest cycle, in tool calls")
    max_gap: int = Field(3, ge=0, description="other calls allowed between recurrences of one call (0 = off)")
    arg_similarity: float = Field(0.8, ge=0, le=1, description="token-set Jaccard at which rephrased free-text "
                                  "arguments count as the same")
    result_similarity: float = Field(0.9, ge=0, le=1, description="Jaccard of results, for calls with rephrased "
                                     "arguments only")
    text_similarity: float = Field(0.85, ge=0, le=1, description="Jaccard at which LLM outputs count as repeated")
    paraphrase_similarity: float = Field(0.5, ge=0, le=1, description="reworded arguments (0 = off) are the same "
                                         "question when their results have the same content (args_similarity)")
    same_data_similarity: float = Field(REWORDED, ge=0, le=1, description="back to back, calls whose answers carry "
                                        "the same non-empty data need only this much in common")

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> LoopParams:
        """The loop thresholds among ``settings`` (other keys ignored), counts raised to their minimum."""
        known = {k: v for k, v in settings.items() if k in cls.model_fields}
        for key, least in (("min_repeats", 2), ("max_period", 1), ("max_gap", 0)):
            if key in known:
                known[key] = max(least, int(known[key]))
        return cls.model_validate(known)


@dataclass(frozen=True, slots=True)
class Run:
    """Items ``start .. start + period * repeats - 1`` repeat a block of ``period`` items."""

    start: int
    period: int
    repeats: int

    @property
    def end(self) -> int:
        return self.start + self.period * self.repeats


def periodic_runs(n: int, same: Callable[[int, int], bool], min_repeats: int, max_period: int,
                  block_ok: Callable[[int, int], bool] | None = None) -> list[Run]:
    """Non-overlapping runs, left to right; at each start the period covering most items wins (shortest on ties).

    ``block_ok(start, period)``, when given, may refuse a block as a cycle.
    ``same(i, j)`` says whether item ``j`` repeats item ``i`` (``i < j``); a repetition continues the run
    when each of its items repeats the corresponding item of *any* earlier repetition (a rewording of a
    rewording of the first question is still that question).
    """
    runs: list[Run] = []
    i = 0
    while i < n:
        best: Run | None = None
        for period in range(1, max_period + 1):
            if i + period * min_repeats > n:
                break
            if block_ok is not None and not block_ok(i, period):
                continue
            repeats = 1
            while i + period * (repeats + 1) <= n and all(
                any(same(i + period * r + k, i + period * repeats + k) for r in range(repeats))
                for k in range(period)
            ):
                repeats += 1
            if repeats >= min_repeats and (best is None or period * repeats > best.period * best.repeats):
                best = Run(i, period, repeats)
        if best is None:
            i += 1
        else:
            runs.append(best)
            i = best.end
    return runs


def _primitive(block: list[str]) -> bool:
    """A cycle is reported once: a block that is itself a repetition (A A) is not primitive."""
    n = len(block)
    return not any(n % p == 0 and block == block[:p] * (n // p) for p in range(1, n))


@dataclass(slots=True)
class Loop:
    """A detected loop: ``repetitions`` holds the steps of each repetition, in order."""

    kind: str  # "tool" or "llm"
    period: int
    repetitions: list[list[ToolCall]] | list[list[LlmTurn]]
    exact: bool  # every repetition has exactly the same canonical arguments / output
    gapped: bool = False  # one call recurring with a few other calls between recurrences
    similarity: float = 1.0  # least argument similarity of a repetition to the first one (1.0 when exact)

    @property
    def repeats(self) -> int:
        return len(self.repetitions)

    @property
    def steps(self) -> list[ToolCall | LlmTurn]:
        return [s for rep in self.repetitions for s in rep]


def actions(view: TraceView) -> list[ToolCall]:
    """The agent's tool calls, once each: a tool span nested in a span of the same tool and arguments (a
    client span around a server span, a wrapper around the real call) is the same action recorded twice."""
    by_id = {c.span.span_id: c for c in view.tool_calls}
    spans = view.spans_by_id
    out = []
    for call in view.tool_calls:
        parent = call.span.parent_span_id
        seen: set[str] = set()
        while parent in spans and parent not in seen and parent not in by_id:
            seen.add(parent)
            parent = spans[parent].parent_span_id
        outer = by_id.get(parent) if parent is not None else None
        if outer is None or outer.tool != call.tool or outer.args_key != call.args_key:
            out.append(call)
    return out


def tool_loops(view: TraceView, params: LoopParams) -> list[Loop]:
    """Repeated blocks of tool calls whose results bring no new information (computed once per view and
    thresholds: the loop, duplicate-call and silent-failure detectors all ask)."""
    key = ("tool_loops", params)
    if key not in view.memo:
        view.memo[key] = _tool_loops(view, params)
    return view.memo[key]


def _tool_loops(view: TraceView, params: LoopParams) -> list[Loop]:
    calls = actions(view)
    signatures = [content_signature(c) for c in calls]
    unscored = cache(lambda i: content_signature(calls[i], scores=False))
    data = cache(lambda i: data_signature(calls[i]))
    result_tokens: dict[int, frozenset[str]] = {}
    similarity = _memo(lambda i, j: args_similarity(calls[i], calls[j], optional_keys=True))

    def rtokens(i: int) -> frozenset[str]:
        if i not in result_tokens:
            result_tokens[i] = tokens(signatures[i])
        return result_tokens[i]

    def same(i: int, j: int) -> bool:
        a, b = calls[i], calls[j]
        if a.tool != b.tool or a.failed != b.failed:
            return False
        if a.args_key == b.args_key:
            return signatures[i] == signatures[j]
        if near_same_args(a, b, params.arg_similarity) and (
                signatures[i] == signatures[j] or jaccard(rtokens(i), rtokens(j)) >= params.result_similarity):
            return True
        return reworded_repeat(i, j)

    def reworded_repeat(i: int, j: int) -> bool:
        """Reworded arguments: the same question only if the answer has exactly the same content (or the
        same items, the envelope's numbers aside). The same non-empty answer again: little in common
        suffices; the same empty answer (nothing found for several different questions) needs real
        rewording."""
        a = calls[i]
        if params.paraphrase_similarity <= 0:
            return False
        if unscored(i) != unscored(j):
            if data(i) is None or data(i) != data(j):
                return False
            empty = False  # data() is None for an answer without items
        else:
            empty = (emptiness(a.result, a.span.tool_result) or HAS_DATA) > HAS_DATA
        threshold = params.paraphrase_similarity if empty else min(params.same_data_similarity,
                                                                   params.paraphrase_similarity)
        return similarity(i, j) >= threshold

    loops = []
    def block_ok(start: int, period: int) -> bool:
        # one tool asked again and again is a repetition of period 1, however its rewordings pair up
        return period == 1 or len({c.tool for c in calls[start:start + period]}) > 1

    for run in periodic_runs(len(calls), _memo(same), params.min_repeats, params.max_period, block_ok):
        block = calls[run.start : run.start + run.period]
        if run.period > 1 and not _primitive([c.args_key for c in block]):
            continue
        reps = [calls[run.start + r * run.period : run.start + (r + 1) * run.period] for r in range(run.repeats)]
        exact = all(c.args_key == reps[0][k].args_key for rep in reps for k, c in enumerate(rep))
        least = min((similarity(run.start + k, run.start + r * run.period + k)
                     for r in range(1, run.repeats) for k in range(run.period)), default=1.0)
        loops.append(Loop("tool", run.period, reps, exact, similarity=round(least, 3)))
    if params.max_gap:
        covered = {c.span.span_id for loop in loops for c in loop.steps}

        def recurs(i: int, j: int) -> bool:
            if signatures[i] == signatures[j] and (calls[i].args_key == calls[j].args_key or (
                    params.paraphrase_similarity > 0 and similarity(i, j) >= params.paraphrase_similarity)):
                return True
            return calls[i].args_key != calls[j].args_key and reworded_repeat(i, j)
        loops.extend(_recurring(calls, covered, params, recurs, similarity))
        loops.sort(key=lambda loop: loop.steps[0].step)
    return [loop for loop in loops if not _poll_that_progressed(loop, calls, signatures)]


def _poll_that_progressed(loop: Loop, calls: list[ToolCall], signatures: list[str]) -> bool:
    """A one-call loop whose result reports work in progress (``running``, ``pending``…) and a later call
    of the same tool with the same arguments got a different result: the agent polled until the state
    changed — waiting, not looping."""
    if loop.period != 1 or not loop.exact:
        return False
    last: ToolCall = loop.repetitions[-1][0]  # type: ignore[assignment]
    if pending_state(last.result) is None:
        return False
    position = next(p for p, c in enumerate(calls) if c is last)
    return any(c.tool == last.tool and c.args_key == last.args_key and signatures[p] != signatures[position]
               for p, c in enumerate(calls[position + 1 :], start=position + 1))


def _recurring(calls: list[ToolCall], covered: set[str], params: LoopParams, recurs: Callable[[int, int], bool],
               similarity: Callable[[int, int], float]) -> list[Loop]:
    """One call coming back ``min_repeats`` times, at most ``max_gap`` calls apart, each time repeating a
    call of its chain (``recurs``: the same arguments and result, or reworded arguments and the same
    content)."""
    groups: dict[tuple[str, bool], list[int]] = {}
    for position, call in enumerate(calls):
        if call.span.span_id not in covered:
            groups.setdefault((call.tool, call.failed), []).append(position)
    loops = []
    for group in groups.values():
        if len(group) < params.min_repeats:
            continue
        chains: list[list[int]] = []
        for position in group:
            for chain in chains:
                if position - chain[-1] - 1 <= params.max_gap and any(recurs(p, position) for p in chain):
                    chain.append(position)
                    break
            else:
                chains.append([position])
        for chain in chains:
            if len(chain) >= params.min_repeats:
                exact = len({calls[p].args_key for p in chain}) == 1
                least = min((similarity(chain[0], p) for p in chain[1:]), default=1.0)
                loops.append(Loop("tool", 1, [[calls[p]] for p in chain], exact, gapped=True,
                                  similarity=round(least, 3)))
    return loops


_IN_PROGRESS = frozenset({"pending", "running", "in_progress", "inprogress", "queued", "processing", "waiting",
                          "started", "submitted", "scheduled", "initializing", "provisioning", "busy"})


def pending_state(result: Any) -> str | None:
    """The in-progress state a result reports (``{"status": "running"}``), or ``None``."""
    if not isinstance(result, dict):
        return None
    for key, value in result.items():
        if isinstance(value, str) and any(w in ("status", "state", "phase") for w in words(str(key))):
            state = value.strip().lower().replace("-", "_").replace(" ", "_")
            if state in _IN_PROGRESS:
                return state
    return None


def _memo(same: Callable[[int, int], Any]) -> Callable[[int, int], Any]:
    cache: dict[tuple[int, int], Any] = {}

    def wrapped(i: int, j: int) -> Any:
        key = (i, j)
        if key not in cache:
            cache[key] = same(i, j)
        return cache[key]

    return wrapped


def _observation_spans(view: TraceView) -> tuple[set[str], set[str]]:
    """Spans that bring the model new input (tools, user messages, retrievals; not LLM internals or
    containers), and the spans that contain LLM turns."""
    spans = view.spans_by_id
    llm_ids = {t.span.span_id for t in view.llm_turns}
    containers: set[str] = set()
    for span_id in llm_ids:
        parent = spans[span_id].parent_span_id
        while parent in spans and parent not in containers:
            containers.add(parent)
            parent = spans[parent].parent_span_id
    out = set()
    for span in view.trace.spans:
        if span.kind in (SpanKind.TOOL, SpanKind.RETRIEVER):
            out.add(span.span_id)  # some formats nest the tool call under the LLM turn that requested it
            continue
        if span.span_id in llm_ids or span.span_id in containers or span.kind in (SpanKind.AGENT, SpanKind.CHAIN):
            continue
        parent, inside_llm = span.parent_span_id, False
        while parent in spans:
            if parent in llm_ids:
                inside_llm = True
                break
            parent = spans[parent].parent_span_id
        if not inside_llm:
            out.add(span.span_id)
    return out, containers


def llm_runs(view: TraceView) -> list[list[LlmTurn]]:
    """Maximal sequences of LLM turns with no observation (tool result, user message…) between them.

    An LLM span that contains another LLM span (a framework wrapper around the provider call) is not a
    turn of its own."""
    observations, containers = _observation_spans(view)
    turns = {t.span.span_id: t for t in view.llm_turns if t.span.span_id not in containers}
    runs: list[list[LlmTurn]] = [[]]
    for span in view.trace.ordered():
        if span.span_id in turns:
            runs[-1].append(turns[span.span_id])
        elif span.span_id in observations and runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def llm_loops(view: TraceView, params: LoopParams) -> list[Loop]:
    """LLM turns that repeat the same (or near-same) output with nothing observed in between."""
    loops = []
    for run in llm_runs(view):
        if len(run) < params.min_repeats:
            continue
        toks = [llm_output_tokens(t) for t in run]

        def same(i: int, j: int, toks: list[frozenset[str]] = toks) -> bool:
            return bool(toks[i]) and bool(toks[j]) and jaccard(toks[i], toks[j]) >= params.text_similarity

        for found in periodic_runs(len(run), _memo(same), params.min_repeats, params.max_period):
            reps = [run[found.start + r * found.period : found.start + (r + 1) * found.period] for r in range(found.repeats)]
            if found.period > 1 and not _primitive([" ".join(sorted(toks[found.start + k])) for k in range(found.period)]):
                continue
            exact = all(t.output_key == reps[0][k].output_key for rep in reps for k, t in enumerate(rep))
            loops.append(Loop("llm", found.period, reps, exact))
    return loops


def loop_span_ids(view: TraceView, params: LoopParams, min_period: int = 1) -> set[str]:
    """Tool spans inside a tool loop (the duplicate-call detector leaves these to the loop detector);
    ``min_period=2``: inside a cycle of several tools only."""
    return {c.span.span_id for loop in tool_loops(view, params) if loop.period >= min_period for c in loop.steps}
