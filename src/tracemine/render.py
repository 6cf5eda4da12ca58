"""Short, normalised texts to embed, and the exact grouping keys kept beside them (see ARCHITECTURE.md,
'Stages and data flow').

* :func:`signal_text` — the failure on its own: the detector's sentence with tool, model, agent,
  argument and host names replaced by placeholders (tool identity is an exact key, not something to
  embed: with names in the text, signals cluster by tool — measured in benchmarks/cluster_quality.py
  --ablation), volatile values masked, plus facts the sentence leaves out (the error class of its
  message, the other outlier metrics, reformatted arguments).
* :func:`signal_keys` — exact facts: kind, detector, mechanism, tool(s), argument names, model,
  severity, the error class (:func:`error_class`) and the *frame* (:func:`signal_frame`: the
  detector's sentence with everything that varies between signals of one mechanism taken out).
* :func:`trajectory_text` — a failing trace as its sequence of steps: tool names with an outcome
  (ok / error / empty) and the masked arguments of failing calls, LLM turns that are not just asking
  for the next call, repeated steps and cycles compressed (``poll_job ok ×7 (same result)``), cut to a
  bounded length."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from tracemine.detect.actions import has_exception_event, result_is_error, result_signature
from tracemine.detect.outcome import is_empty_result
from tracemine.detect.textmask import mask
from tracemine.detect.view import LlmTurn, ToolCall, TraceView
from tracemine.model import Outcome, Signal, Status, Trace

TOOL = "<tool>"
MODEL = "<model>"
AGENT = "<agent>"
SIGNAL_CHARS = 300
TRAJECTORY_CHARS = 400
ARG_CHARS = 48
VALUE_CHARS = 18
MAX_PERIOD = 4

_NAME_FIELDS = ("tool", "closest_tool", "last_step")  # evidence fields naming a tool
_LIST_NAME_FIELDS = ("cycle", "write_tools")


# --- signals -------------------------------------------------------------------------------------------


def _names(signal: Signal) -> dict[str, str]:
    """Names in ``signal`` to replace by a placeholder: tool, model and agent names from its evidence."""
    ev = signal.evidence or {}
    found: dict[str, str] = {}
    for key in _NAME_FIELDS:
        value = ev.get(key)
        if isinstance(value, str) and value:
            found[value] = TOOL
    for key in _LIST_NAME_FIELDS:
        for value in ev.get(key) or ():
            if isinstance(value, str) and value and value != "llm":
                found[value] = TOOL
    for key, placeholder in (("model", MODEL), ("llm", MODEL), ("agent", AGENT)):
        value = ev.get(key)
        if isinstance(value, str) and value:
            found.setdefault(value, placeholder)
    return found


def _variants(name: str) -> set[str]:
    """Spellings of a name as it appears in messages: as is, masked, and with ``_``, ``-``, `` `` swapped."""
    out = {name, mask(name, 1000)}
    for sep in ("_", "-", " "):
        for other in ("_", "-", " "):
            if sep != other and sep in name:
                out.add(name.replace(sep, other))
    return {v for v in out if len(v) >= 2}


@lru_cache(maxsize=16384)
def _word(value: str) -> re.Pattern[str]:
    """``value`` as a whole word (not inside a word or a placeholder), any letter case."""
    return re.compile(r"(?<![\w<])" + re.escape(value) + r"(?![\w>])", re.IGNORECASE)


def replace_names(text: str, names: dict[str, str]) -> str:
    """``text`` with every spelling of each name replaced by its placeholder (longest names first)."""
    return _replace_names(text, tuple(sorted(names.items())))


@lru_cache(maxsize=65536)
def _replace_names(text: str, names: tuple[tuple[str, str], ...]) -> str:
    spellings: list[tuple[str, str]] = []
    for name, placeholder in names:
        spellings.extend((v, placeholder) for v in _variants(name))
    folded = text.casefold()
    for spelling, placeholder in sorted(spellings, key=lambda sp: (-len(sp[0]), sp[0])):
        if spelling.casefold() in folded:
            text = _word(spelling).sub(placeholder, text)
            folded = text.casefold()
    return text


_HOST = re.compile(
    r"(?<![\w.@/<-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:com|net|org|io|ai|dev|app|cloud|co|us|uk|de|fr|eu|edu|gov|info|biz|internal|local|localhost|lan|svc|corp)"
    r"(?::\d+)?(?![\w.-])",
    re.IGNORECASE,
)
ARG = "<arg>"
VALUE = "<value>"


def mask_hosts(text: str) -> str:
    """Host names (``api.example.com``, ``search.internal``) replaced by ``<host>``."""
    return _HOST.sub("<host>", text)


def _violation_fields(signal: Signal) -> dict[str, str]:
    """Argument names of schema violations (the last segment of each violation's JSON path)."""
    found: dict[str, str] = {}
    for violation in (signal.evidence or {}).get("violations") or ():
        if isinstance(violation, dict) and isinstance(violation.get("path"), str):
            leaf = re.split(r"[.\[\]$]+", violation["path"].strip("$."))
            name = next((part for part in reversed(leaf) if part and not part.isdigit()), "")
            if name:
                found[name] = ARG
    return found


# An LLM call's extra output tokens explain its extra latency and cost, extra input tokens its extra total
# tokens and cost: when several metrics of one call are outliers, the first of these is the cause.
CAUSE_ORDER = ("output_tokens", "input_tokens", "total_tokens", "latency", "duration", "cost")


def _metrics(signal: Signal) -> tuple[str | None, list[str]]:
    """The root metric of an outlier signal (see :data:`CAUSE_ORDER`) and the other metrics, sorted."""
    ev = signal.evidence or {}
    metrics = [m for m in ev.get("metrics") or () if isinstance(m, str)]
    primary = ev.get("metric") if isinstance(ev.get("metric"), str) else None
    if primary and primary not in metrics:
        metrics.insert(0, primary)
    if not metrics:
        return None, []
    root = next((m for m in CAUSE_ORDER if m in metrics), primary or metrics[0])
    return root, sorted(m for m in set(metrics) if m != root)


def _normalise(text: str, names: dict[str, str], fields: dict[str, str]) -> str:
    """Masked text with host names, then tool/model/agent names replaced; argument names are replaced
    after the first ``": "`` only (where detectors quote violations), so that a field called like a word
    of the sentence does not break it."""
    return _normalised(text, tuple(sorted(names.items())), tuple(sorted(fields.items())))


@lru_cache(maxsize=65536)
def _normalised(text: str, names: tuple[tuple[str, str], ...], fields: tuple[tuple[str, str], ...]) -> str:
    out = _replace_names(mask_hosts(mask(text, 1000)), names)
    if fields:
        head, sep, tail = out.partition(": ")
        out = head + sep + _replace_names(tail, fields) if sep else _replace_names(out, fields)
    return out


def _base_text(signal: Signal) -> str:
    """The detector's sentence normalised; for outliers naming the root metric rather than the primary one."""
    text = _normalise(signal.text or "", _names(signal), _violation_fields(signal))
    primary = (signal.evidence or {}).get("metric")
    root, _ = _metrics(signal)
    if isinstance(primary, str) and root and root != primary:
        text = re.sub(r"\b" + re.escape(primary.replace("_", " ")) + r"\b", root.replace("_", " "), text, count=1)
    return text


# A small, generic error taxonomy (HTTP status classes and common wording): the first match names the class.
ERROR_CLASSES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in (
    ("rate limited", r"\b429\b|rate.?limit|too many requests|quota exceeded|throttl"),
    ("timeout", r"timed?[ _-]?out|deadline exceeded"),
    ("authentication or permission", r"\b40[13]\b|unauthori[sz]ed|forbidden|permission|credential|access denied"
                                     r"|invalid[_ ]auth|expired[_ ]token|token\b.{0,40}\bexpired|api[_ ]key"),
    ("not found", r"\b404\b|not[ _]found|no such\b|does not exist"),
    ("server error", r"\b5\d\d\b|server error|bad gateway|service unavailable|internal error"),
    ("connection", r"connection (?:reset|refused|aborted|closed|error)|resolve host|unreachable|\beof\b"),
    ("invalid input", r"\b4(?:00|22)\b|invalid|validation|malformed|not a valid|unsupported"),
    ("program error", r"\b(?:KeyError|ValueError|TypeError|AttributeError|IndexError|ZeroDivisionError|NameError"
                      r"|AssertionError|JSONDecodeError|NullPointerException|Traceback|panic)\b|has no attribute"
                      r"|could not convert|NoneType"),
))
_MESSAGE_FIELDS = ("error", "reason", "child_error", "message", "status_message")


def error_class(message: str) -> str | None:
    """The class of an error message (``timeout``, ``rate limited``, ``not found``…), or ``None``."""
    for name, pattern in ERROR_CLASSES:
        if pattern.search(message):
            return name
    return None


def _message(signal: Signal) -> str | None:
    ev = signal.evidence or {}
    return next((ev[k] for k in _MESSAGE_FIELDS if isinstance(ev.get(k), str) and ev[k]), None)


def _extra_facts(signal: Signal) -> list[str]:
    """Facts in the evidence that the detector's sentence does not state."""
    ev = signal.evidence or {}
    facts: list[str] = []
    message = _message(signal)
    found = error_class(message) if message else None
    if found:
        facts.append(f"{found} error")
    _, others = _metrics(signal)
    if others:
        facts.append("also " + ", ".join(m.replace("_", " ") for m in others))
    if ev.get("exact_arguments") is False and "rephrased" not in (signal.text or ""):
        facts.append("arguments reformatted")
    return facts


def signal_text(signal: Signal, limit: int = SIGNAL_CHARS) -> str:
    """The failure/outcome text of a signal: the detector's sentence without tool, model, agent and
    argument names (they are exact keys), host names and volatile values masked, plus facts the sentence
    leaves out; at most ``limit`` characters."""
    text = _base_text(signal)
    facts = _extra_facts(signal)
    if facts:
        text = f"{text}; {'; '.join(facts)}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _evidence_values(evidence: dict[str, Any]) -> list[str]:
    """String values of the evidence (top level, and inside top-level lists) that a sentence may quote."""
    out: list[str] = []
    for value in evidence.values():
        items = value if isinstance(value, list) else [value]
        out.extend(v for v in items if isinstance(v, str) and 2 <= len(v) <= 1000)
    return out


_ONLY_PLACEHOLDER = re.compile(r"^<[a-z_]+>$")
_PLACEHOLDER_CHAIN = re.compile(r"(<[a-z_]+>)(?: -> \1){2,}")


def signal_frame(signal: Signal) -> str:
    """The detector's sentence with everything that varies between signals of one mechanism replaced:
    names, numbers, any evidence value it quotes (messages, statuses) and whatever follows its first
    ``": "`` (detectors quote details there), plus the violated constraints. An error message the
    sentence states inline (``tool X failed with <message> and …``) is what the signal is about: it is
    replaced by its error class (:func:`error_class`) rather than dropped. An exact key that tells a
    detector's mechanisms and variants apart (``… back to back …`` vs ``… later in the run …``)."""
    names = _names(signal)
    text = _base_text(signal)
    ev = signal.evidence or {}
    message = _message(signal)
    found = error_class(message) if message else None
    limit = len(signal.text or "") + 16  # a value longer than the sentence cannot be quoted in it
    values = {_normalise(v, names, {}): VALUE for v in _evidence_values(ev) if len(v) <= limit}
    if message and found:  # a message the sentence states inline is named by its class (after ": " it is cut)
        values[_normalise(message, names, {})] = f"<{found}>"
    folded = text.casefold()
    for value in sorted(values, key=lambda v: (-len(v), v)):
        if len(value) < 2 or _ONLY_PLACEHOLDER.match(value) or value.casefold() not in folded:
            continue
        text = _word(value).sub(lambda _m, v=value: values[v], text)
        folded = text.casefold()
    head, sep, _ = text.partition(": ")
    text = head + (f": {VALUE}" if sep else "")
    text = _PLACEHOLDER_CHAIN.sub(r"\1 -> \1", text)
    validators = sorted({str(v.get("validator")) for v in ev.get("violations") or () if isinstance(v, dict)})
    if validators:
        text += " [" + ", ".join(validators) + "]"
    return text


def signal_keys(signal: Signal) -> dict[str, Any]:
    """Exact grouping facts kept beside a signal's vector."""
    ev = signal.evidence or {}
    tool = ev.get("tool") if isinstance(ev.get("tool"), str) else None
    cycle = [t for t in ev.get("cycle") or () if isinstance(t, str) and t != "llm"]
    model = ev.get("model") if isinstance(ev.get("model"), str) else None
    mechanism = ev.get("mechanism") if isinstance(ev.get("mechanism"), str) else None
    return {
        "kind": signal.kind,
        "detector": signal.detector,
        "mechanism": mechanism,
        "frame": signal_frame(signal),
        "tool": tool,
        "tools": sorted(set(cycle)) if len(set(cycle)) > 1 else ([tool] if tool else []),
        "fields": sorted(_violation_fields(signal)),
        "error_class": error_class(_message(signal) or ""),
        "model": model,
        "severity": signal.severity,
        "trace_id": signal.trace_id,
    }


# --- trajectories -------------------------------------------------------------------------------------


def is_failing(trace: Trace, flagged: set[str]) -> bool:
    """A trace is failing when a detector flagged it or its source records a failed outcome."""
    return trace.trace_id in flagged or trace.outcome == Outcome.FAILURE


def _short_value(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, int | float):
        return "<num>"
    if isinstance(value, list):
        return "[…]" if value else "[]"
    if isinstance(value, dict):
        return "{…}" if value else "{}"
    text = mask(str(value), 1000)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def _args(call: ToolCall, values: bool) -> str:
    """Argument names (with short masked values when ``values``), at most :data:`ARG_CHARS` characters."""
    args = call.args
    if args is None:
        return ""
    if isinstance(args, dict):
        items = sorted(args.items(), key=lambda kv: str(kv[0]))
        text = ", ".join(f"{k}={_short_value(v)}" if values else str(k) for k, v in items)
    else:
        text = _short_value(args) if values else type(args).__name__
    return text if len(text) <= ARG_CHARS else text[: ARG_CHARS - 1] + "…"


def call_outcome(call: ToolCall) -> str:
    """``error`` (status, exception or an error-shaped result), ``empty`` or ``ok``."""
    if call.failed or has_exception_event(call.span) or result_is_error(call.result, call.result_text):
        return "error"
    if is_empty_result(call.result, call.span.tool_result):
        return "empty"
    return "ok"


@dataclass(frozen=True, slots=True)
class _Step:
    text: str  # what is shown
    key: str  # what must be equal for two steps to count as a repeat
    result: str  # result signature, to tell "same result" from "results differ"


ARG_STYLES = ("none", "failing", "names", "values")


def _steps(view: TraceView, args: str) -> list[_Step]:
    """Tool calls and LLM turns; a turn that only asks for the next tool call is left out (it would
    otherwise sit between every two calls and hide repeated cycles of calls)."""
    out: list[_Step] = []
    steps = view.steps
    for k, step in enumerate(steps):
        if isinstance(step, ToolCall):
            outcome = call_outcome(step)
            show = args in ("names", "values") or (args == "failing" and outcome != "ok")
            text = f"{step.tool}({_args(step, args != 'names')}) {outcome}" if show else f"{step.tool} {outcome}"
            out.append(_Step(text, "t:" + text, result_signature(step)))
        elif isinstance(step, LlmTurn):
            if step.span.status != Status.ERROR and k + 1 < len(steps) and isinstance(steps[k + 1], ToolCall):
                continue
            text = "llm error" if step.span.status == Status.ERROR else "llm"
            out.append(_Step(text, "l:" + text, ""))
    return out


def _compress(steps: Sequence[_Step]) -> list[str]:
    """Runs of a repeated step or cycle of up to :data:`MAX_PERIOD` steps become one item with ``×n``."""
    items: list[str] = []
    i = 0
    n = len(steps)
    while i < n:
        best_period, best_repeats = 1, 1
        for period in range(1, MAX_PERIOD + 1):
            block = [s.key for s in steps[i : i + period]]
            if len(block) < period:
                break
            repeats = 1
            while [s.key for s in steps[i + repeats * period : i + (repeats + 1) * period]] == block:
                repeats += 1
            if repeats >= 2 and repeats * period > best_repeats * best_period:
                best_period, best_repeats = period, repeats
        block_steps = steps[i : i + best_period]
        if best_repeats == 1:
            items.append(block_steps[0].text)
            i += 1
            continue
        covered = steps[i : i + best_period * best_repeats]
        same = all(covered[j].result == covered[j % best_period].result for j in range(len(covered)))
        body = "; ".join(s.text for s in block_steps)
        body = body if best_period == 1 else f"[{body}]"
        note = "" if all(s.key.startswith("l:") for s in block_steps) else (
            " (same result)" if same else " (results differ)")
        items.append(f"{body} ×{best_repeats}{note}")
        i += best_period * best_repeats
    return items


def trajectory_text(view: TraceView, limit: int = TRAJECTORY_CHARS, args: str = "failing") -> str:
    """A failing trace as its compressed sequence of steps, at most ``limit`` characters.

    ``args``: which calls show their arguments (short masked values): ``failing`` (calls whose outcome
    is error or empty; the default), ``values`` (all), ``names`` (all, names only) or ``none``. Texts
    stay short — embedding cost grows with length (~40-token texts embed at ~90/s on two cores,
    ~200-token ones at ~16/s) — and traces that did the same thing read the same, so they are
    embedded once."""
    if args not in ARG_STYLES:
        raise ValueError(f"args must be one of {ARG_STYLES}, got {args!r}")
    items = _compress(_steps(view, args))
    root = view.root
    end = "end " + (root.status.value if root is not None else "unset")
    if view.trace.outcome != Outcome.UNKNOWN:
        end += f", outcome {view.trace.outcome.value}"
    items.append(end)
    text = " | ".join(items)
    if len(text) <= limit:
        return text
    return _cut(items, limit)


def _cut(items: list[str], limit: int) -> str:
    """Keep the first and last items that fit, with the number of items left out between them."""
    head: list[str] = []
    tail: list[str] = []
    budget = limit - 24
    i, j = 0, len(items) - 1
    used = 0
    while i <= j:
        take_head = len(head) <= 2 * len(tail)
        item = items[i] if take_head else items[j]
        item = item if len(item) <= budget // 3 else item[: budget // 3 - 1] + "…"
        if used + len(item) + 3 > budget:
            break
        used += len(item) + 3
        if take_head:
            head.append(item)
            i += 1
        else:
            tail.append(item)
            j -= 1
    skipped = j - i + 1
    middle = [f"… {skipped} steps …"] if skipped > 0 else []
    return " | ".join(head + middle + tail[::-1])


def trajectory_keys(view: TraceView, kinds: Iterable[str] = ()) -> dict[str, Any]:
    """Exact facts kept beside a trajectory's vector: agent, outcome, final status, tools, signal kinds."""
    root = view.root
    return {
        "kind": "trajectory",
        "trace_id": view.trace_id,
        "agent": view.agent_name,
        "outcome": view.trace.outcome.value,
        "status": root.status.value if root is not None else None,
        "tools": sorted({c.tool for c in view.tool_calls}),
        "models": sorted({t.span.model for t in view.llm_turns if t.span.model}),
        "signal_kinds": sorted(set(kinds)),
    }


@dataclass
class RenderedTrajectories:
    trace_ids: list[str]
    texts: list[str]
    keys: list[dict[str, Any]]


def render_trajectories(traces: Iterable[Trace], signals: Sequence[Signal], limit: int = TRAJECTORY_CHARS,
                        args: str = "failing") -> RenderedTrajectories:
    """Texts and keys of the failing traces among ``traces`` (flagged by a signal, or failed by outcome)."""
    kinds: dict[str, set[str]] = {}
    for s in signals:
        kinds.setdefault(s.trace_id, set()).add(s.kind)
    out = RenderedTrajectories([], [], [])
    for trace in traces:
        if not is_failing(trace, set(kinds)):
            continue
        view = TraceView.build(trace)
        out.trace_ids.append(trace.trace_id)
        out.texts.append(trajectory_text(view, limit, args))
        out.keys.append(trajectory_keys(view, kinds.get(trace.trace_id, ())))
    return out


def failing_traces(store: Any, signals: Sequence[Signal], window: Any = None, batch: int = 2000) -> Iterator[Trace]:
    """The traces of ``store`` flagged by ``signals`` or recorded as failed, fetched in bounded batches.

    Only those traces are read (not the whole window): a trace id list, then spans by id."""
    from tracemine.store import traces as stored
    from tracemine.store.archive import row_to_span

    ids = {s.trace_id for s in signals}
    ids.update(stored.failed_trace_ids(store, window))
    outcomes = stored.outcomes_of(store, sorted(ids))
    ordered = sorted(ids)
    for start in range(0, len(ordered), batch):
        chunk = ordered[start : start + batch]
        rows = stored.span_rows(store, chunk)
        by_trace: dict[str, list[Any]] = {}
        for row in rows:
            by_trace.setdefault(row["trace_id"], []).append(row_to_span(row))
        for trace_id in chunk:
            spans = by_trace.get(trace_id)
            if spans:
                value = outcomes.get(trace_id)
                outcome = Outcome(value) if value in {o.value for o in Outcome} else Outcome.UNKNOWN
                yield Trace(trace_id, spans, outcome)
