"""The writer's toolkit for offline wording: quoting trace text, counts, shares and subjects of a brief.

:class:`Writer` holds one brief and its quoting rules; the wording templates
(:mod:`tracemine.summarise.wording`) and :class:`~tracemine.summarise.offline.OfflineSummariser` call it.
Text that comes from traces (tool names, messages, arguments) only ever leaves here inside backticks,
with backticks removed from it, redacted again (idempotent) and trimmed; missing or malformed facts
give empty text, never an error.
"""


from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tracemine.formatting import format_ms
from tracemine.placeholders import readable
from tracemine.redact import Redactor, redact_cut
from tracemine.summarise.base import Brief

TITLE_QUOTE = 60
"""Longest quoted message in a title (the whole title stays well under ~120 characters of trace text)."""
QUOTE = 120
"""Longest quoted text in a summary."""
DOMINANT = 0.8
"""Share of members above which one tool is named as *the* subject."""

_SPACES = re.compile(r"\s+")
_REF = re.compile(r"^[A-Za-z0-9_.-]{1,16}$")
_CONTENT = re.compile(r'"(?:content|text|message)"\s*:\s*"((?:[^"\\]|\\.){3,})"')


# --------------------------------------------------------------------------------------------- helpers


def pct(share: float) -> str:
    percent = share * 100
    if percent <= 0:
        return "0 %"
    if percent < 0.1:
        return "<0.1 %"
    return f"{percent:.1f} %" if percent < 10 else f"{percent:.0f} %"


def num(value: Any) -> str:
    """A count or a median as text: ``4``, ``4.5``, ``1,234``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "?"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


def share_of(facts: Mapping[str, Any], key: str) -> tuple[float, int]:
    """``(share, count)`` of a share-dict in the facts, ``(0.0, 0)`` when absent or malformed."""
    value = facts.get(key)
    if not isinstance(value, Mapping):
        return 0.0, 0
    share, count = value.get("share"), value.get("count")
    if isinstance(share, int | float) and isinstance(count, int) and not isinstance(count, bool):
        return float(share), count
    return 0.0, 0


def pairs_of(value: Any) -> list[tuple[str, int]]:
    """``[[value, count], …]`` (or tuples) as ``(str, int)`` pairs, skipping malformed entries."""
    out: list[tuple[str, int]] = []
    for item in value if isinstance(value, list | tuple) else ():
        if (isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[1], int | float)
                and item[0] is not None and str(item[0])):
            out.append((str(item[0]), int(item[1])))
    return out


def dicts_of(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list | tuple) else []


def dicts_with(value: Any, key: str) -> list[Mapping[str, Any]]:
    """The mappings in ``value`` whose ``key`` is set (truthy)."""
    return [v for v in dicts_of(value) if v.get(key)]


def message_in(text: str) -> str:
    """The message inside a JSON-ish excerpt (``[{"role":…,"content":"Let me check."}]`` → ``Let me check.``)."""
    m = _CONTENT.search(text)
    return m.group(1).replace('\\"', '"') if m else text


def first_sentence(text: str) -> str:
    """The first sentence of a text (for overview fixes)."""
    head = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    return head


@dataclass(slots=True)
class Subject:
    """What the node is about, as title text: ``\\`tool\\``` or ``3 tools (mostly \\`tool\\`)``."""

    text: str
    plural: bool
    names: list[str]  # top names, most common first (raw; quote when used)


class Writer:
    """Per-brief state and the quoting rules."""

    def __init__(self, brief: Brief, redactor: Redactor) -> None:
        self.brief = brief
        self.redactor = redactor
        self.facts: Mapping[str, Any] = brief.facts if isinstance(brief.facts, Mapping) else {}
        self.traces = brief.traces if isinstance(brief.traces, int) and brief.traces > 0 else 0
        self.window = brief.window_traces if isinstance(brief.window_traces, int) and brief.window_traces > 0 else 0
        self.signals = brief.signals if isinstance(brief.signals, int) and brief.signals > 0 else 0
        if not self.traces:
            self.traces = positive_int(self.facts.get("traces"))
        if not self.signals:
            self.signals = positive_int(self.facts.get("signals"))

    # ---- quoting
    def q(self, text: Any, limit: int = QUOTE) -> str:
        """Trace text as a backticked code span: redacted, backticks removed, whitespace collapsed, trimmed."""
        if text is None:
            return ""
        raw = text if isinstance(text, str) else str(text)
        try:
            clean = redact_cut(raw, 2000, self.redactor, ellipsis="")
        except Exception:
            return ""
        clean = _SPACES.sub(" ", readable(clean).replace("`", "'")).strip()  # no <num> placeholders
        if not clean:
            return ""
        if len(clean) > limit:
            clean = clean[: limit - 1].rstrip() + "…"
        return f"`{clean}`"

    # ---- counts
    def count_phrase(self) -> str:
        """``34 traces, 1.7 %`` (or ``34 traces`` when the window size is unknown)."""
        traces = plural(self.traces, "trace")
        return f"{traces}, {pct(self.traces / self.window)}" if self.window else traces

    def how_often(self) -> str:
        signals = plural(self.signals, "occurrence")
        if self.window:
            return (f"{signals} in {self.traces:,} of {self.window:,} traces "
                    f"({pct(self.traces / self.window)} of the window)")
        return f"{signals} in {plural(self.traces, 'trace')}"

    # ---- subjects
    def distinct(self, nouns: str, shown: int) -> int:
        """How many different ``nouns`` (tools, models, agents) the members have: the exact count from
        ``facts["distinct"]`` (a brief lists only the most common names), never fewer than ``shown``."""
        counts = self.facts.get("distinct")
        exact = counts.get(nouns) if isinstance(counts, Mapping) else None
        return max(exact, shown) if isinstance(exact, int) and not isinstance(exact, bool) else shown

    def subject(self, pairs: Sequence[tuple[str, int]], noun: str, nouns: str, fallback: str) -> Subject:
        names = [name for name, _ in pairs if name]
        if not names:
            return Subject(fallback, True, [])
        total = sum(max(c, 0) for _, c in pairs) or 1
        top_name, top_count = pairs[0]
        count = self.distinct(nouns, len(names))
        if count == 1 or top_count / total >= DOMINANT:
            return Subject(self.q(top_name, 48), False, names)
        most = "mostly" if top_count / total >= 0.5 else "most often"
        return Subject(f"{count:,} {nouns} ({most} {self.q(top_name, 48)})", True, names)

    def tools(self, fallback: str = "Tool calls") -> Subject:
        pairs = pairs_of(self.brief.tools) if self.brief.tools else []
        return self.subject(pairs, "tool", "tools", fallback)

    def models(self, fallback: str = "LLM calls") -> Subject:
        pairs = pairs_of(self.brief.models) if self.brief.models else []
        return self.subject(pairs, "model", "models", fallback)

    def agents(self, fallback: str = "Agent runs") -> Subject:
        pairs = pairs_of(self.brief.agents) if self.brief.agents else []
        subject = self.subject(pairs, "agent", "agents", fallback)
        if subject.names and not subject.plural:
            return Subject(f"{subject.text} runs", True, subject.names)
        return subject

    def top_tools(self, k: int = 3) -> str:
        """``\\`a\\`, \\`b\\` and \\`c\\``` — the most common tools, for fixes ("" when none)."""
        names = [name for name, _ in pairs_of(self.brief.tools)][:k]
        return join_and([self.q(n, 48) for n in names])

    # ---- facts
    def messages(self) -> list[Mapping[str, Any]]:
        return [m for m in dicts_of(self.facts.get("messages")) if isinstance(m.get("text"), str) and m["text"]]

    def message_text(self, m: Mapping[str, Any]) -> str:
        """A message as quoted: its real spelling when all members share it, else the masked form."""
        example = m.get("example")
        variants = m.get("variants")
        if isinstance(example, str) and example and (variants == 1 or not isinstance(variants, int)):
            return example
        return str(m.get("text") or "")

    def top_message(self, limit: int = TITLE_QUOTE) -> str:
        """The most common message, quoted ("" when there is none)."""
        found = self.messages()
        return self.q(self.message_text(found[0]), limit) if found else ""

    def message_clause(self, lead: str = ": ", minor: str = ", e.g. ", limit: int = TITLE_QUOTE) -> str:
        """The most common message joined to a title: ``lead`` + quote when at least half the members
        share it, else ``minor`` + quote (one example among several); "" when there is none."""
        quoted = self.top_message(limit)
        if not quoted:
            return ""
        count = self.messages()[0].get("count")
        common = not (isinstance(count, int) and self.signals and count * 2 < self.signals)
        return f"{lead if common else minor}{quoted}"

    def message_list(self, k: int = 3, label: str = "Most common messages") -> str:
        found = self.messages()[:k]
        if not found:
            return ""
        items = [f"{self.q(self.message_text(m))} ({num(m.get('count'))})" for m in found]
        return f"{label}: {', '.join(items)}."

    def error_classes(self, k: int = 3) -> list[tuple[str, int]]:
        return pairs_of(self.facts.get("error_classes"))[:k]

    def class_list(self) -> str:
        found = self.error_classes()
        if not found:
            return ""
        return "Error classes: " + ", ".join(f"{name} {count}" for name, count in found) + "."

    def shares(self) -> str:
        """Writes, recoveries, retries and admissions of failure, as short sentences."""
        parts: list[str] = []
        share, count = share_of(self.facts, "writes")
        if count:
            parts.append(f"{pct(share)} of them were writes ({count:,})")
        share, count = share_of(self.facts, "recovered_later")
        if "recovered_later" in self.facts:
            parts.append(f"{pct(share)} succeeded on a later call" if count else "none succeeded on a later call")
        share, count = share_of(self.facts, "retried")
        if count:
            parts.append(f"{pct(share)} were retried")
        share, count = share_of(self.facts, "admits_failure")
        if "admits_failure" in self.facts:
            parts.append(f"the final answer admits the failure in {pct(share)}" if count
                         else "the final answer never admits the failure")
        if not parts:
            return ""
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."

    def impact(self) -> str:
        imp = self.brief.impact if isinstance(self.brief.impact, Mapping) else {}
        parts: list[str] = []
        tokens = imp.get("tokens_wasted")
        if isinstance(tokens, int | float) and tokens >= 1:
            parts.append(f"{num(round(tokens))} tokens")
        latency = imp.get("latency_wasted_ms")
        if isinstance(latency, int | float) and latency >= 1:
            parts.append(format_ms(latency))
        cost = imp.get("cost_wasted_usd")
        if isinstance(cost, int | float) and cost >= 0.0001:
            parts.append(f"${cost:,.4f}" if cost < 1 else f"${cost:,.2f}")
        return f"Wasted: {', '.join(parts)}." if parts else ""

    def exemplar_refs(self, k: int = 3) -> list[str]:
        refs: list[str] = []
        for e in self.brief.exemplars or ():
            ref = getattr(e, "ref", None)
            if isinstance(ref, str) and _REF.match(ref) and ref not in refs:
                refs.append(ref)
            if len(refs) >= k:
                break
        return refs

    def children_note(self) -> str:
        """A sentence on the sub-groups, when the recursive walk has summarised them (optional)."""
        summaries = list(self.brief.child_summaries or ())
        children = list(self.brief.children or ())
        titled = [i for i, s in enumerate(summaries) if isinstance(getattr(s, "title", None), str) and s.title]
        if len(titled) < 2:
            return ""

        def size(i: int) -> int:
            traces = getattr(children[i], "traces", 0) if i < len(children) else 0
            return traces if isinstance(traces, int) else 0

        largest = min(titled, key=lambda i: (-size(i), i))
        return f"It splits into {len(titled)} sub-groups; the largest: {fit(summaries[largest].title, 160)}."


def positive_int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def flat(text: str, limit: int) -> str:
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters without leaving a code span open."""
    text = flat(text, limit)
    if text.count("`") % 2:
        text = text[: limit - 2] + "…`" if len(text) >= limit else text + "`"
    return text


def join_and(items: Sequence[str]) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return items[0] if items else ""
    return ", ".join(items[:-1]) + " and " + items[-1]


def metric_value(value: Any, unit: str) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "?"
    if unit == "ms":
        return format_ms(float(value))
    if unit == "usd":
        return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"
    if unit == "tokens":
        return f"{num(round(value))} tokens"
    return num(value)


def verb(subject: Subject, singular: str, plural: str) -> str:
    return plural if subject.plural else singular


def cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text and not text.startswith("`") else text
