"""The deterministic summariser: each detector's wording template and mechanism over a :class:`Brief`'s facts.

:class:`OfflineSummariser` needs no model and no network; the same brief always gives the same summary.
It reads ``brief.facts`` (:func:`tracemine.summarise.facts.collect_facts`), the tool / model / agent
counts, the node's trace counts and its exemplars. For a finding it renders the wording template of the
class that declares the brief's signal kind (:mod:`tracemine.summarise.wording`; the generic template for a
detector that ships none) —

* a title naming the subject (the tool when one tool makes up ≥ 80 % of the members, otherwise "3 tools
  (mostly `x`)") and the most common message, with the affected traces and their share of the window;
* a summary saying what happens, how often, the most common messages / violations / metrics, how often
  the failing call was a write or was recovered later;
* the mechanism in one or two sentences, and a concrete fix for that mechanism naming the top tools —

and adds what every finding gets: the other kinds in the group, the waste, the sub-groups and the
exemplars. Themes reuse the kind's mechanism and fix; the overview lists the top findings. This module
names no detector.

Text that comes from traces (tool names, messages, arguments) only ever appears inside backticks, with
backticks removed from it, redacted again (idempotent) and trimmed (:class:`~tracemine.summarise.writer.Writer`).
Missing facts, zero traces or empty briefs never raise.
"""

from __future__ import annotations

from tracemine.redact import Redactor, default_redactor
from tracemine.summarise import wording
from tracemine.summarise.base import Brief, Summary
from tracemine.summarise.writer import (
    Writer,
    cap,
    first_sentence,
    fit,
    flat,
    pairs_of,
    plural,
    positive_int,
)

__all__ = ["OfflineSummariser"]


# --------------------------------------------------------------------------------------------- summariser


class OfflineSummariser:
    """Deterministic summaries from templates per kind and mechanism (no model, no network).

    ``redactor`` redacts every quoted trace text once more (idempotent with what the brief already went
    through); the default rules when ``None``."""

    name = "offline"

    def __init__(self, redactor: Redactor | None = None) -> None:
        self.redactor = redactor if redactor is not None else default_redactor()

    def summarise(self, brief: Brief) -> Summary:
        try:
            w = Writer(brief, self.redactor)
            if brief.level == "overview":
                return self._overview(w)
            if brief.level == "theme":
                return self._theme(w)
            return self._node(w)
        except Exception as exc:  # never let one odd brief stop a run; say so in the text
            return Summary(
                title="Failure group (summary unavailable)",
                summary=f"The offline summariser could not describe this group ({type(exc).__name__}).",
                mechanism="Unknown.",
                recommended_fix="Open the exemplars to see the failure.",
                exemplar_refs=[],
                summariser=self.name,
            )

    # ---- leaves and findings

    def _node(self, w: Writer) -> Summary:
        kind, mechanism = _kind_and_mechanism(w)
        parts = wording.render(w, kind, mechanism)
        others = _other_kinds(w, kind)
        refs = w.exemplar_refs()
        sentences = [parts.what, others, w.impact(), w.children_note()]
        if refs:
            sentences.append(f"Exemplars: {', '.join(refs)}.")
        summary = " ".join(s.strip() for s in sentences if s and s.strip())
        agents = [name for name, _ in pairs_of(w.brief.agents)]
        title = cap(parts.title)
        if len(agents) == 1 and w.brief.level == "finding" and not title.startswith(w.q(agents[0], 48) + " "):
            title = f"{w.q(agents[0], 48)}: {title}"  # one fix: say whose (unless the title starts with it)
        return Summary(
            title=fit(title, 240),
            summary=summary,
            mechanism=parts.why,
            recommended_fix=parts.fix,
            exemplar_refs=refs,
            summariser=self.name,
        )

    # ---- themes

    def _theme(self, w: Writer) -> Summary:
        """A cross-cutting mechanism: the kind's template over all members (its mechanism and a fix naming
        the main tools), titled by how far it reaches, with its findings listed largest first."""
        kind, mechanism = _kind_and_mechanism(w)
        parts = wording.render(w, kind, mechanism)
        agents = [name for name, _ in pairs_of(w.brief.agents)]
        tools = [name for name, _ in pairs_of(w.brief.tools)]
        findings = positive_int(w.facts.get("findings")) or len(w.brief.children or ())
        label = f"{kind.replace('_', ' ')} — {(mechanism or 'same mechanism').replace('_', ' ')}"
        reach = ", ".join(x for x in (plural(w.distinct("agents", len(agents)), "agent") if agents else "",
                                      plural(w.distinct("tools", len(tools)), "tool") if tools else "") if x)
        title = f"{w.q(label, 60)} in {reach or plural(findings, 'finding')} ({w.count_phrase()})"
        children = list(w.brief.children or ())
        listed = []
        for i, summary in enumerate(w.brief.child_summaries or ()):
            text = flat(getattr(summary, "title", "") or "", 160)
            traces = children[i].traces if i < len(children) and isinstance(children[i].traces, int) else 0
            if text:
                listed.append((traces, i, text))
        listed.sort(key=lambda t: (-t[0], t[1]))
        sentences = [
            f"{plural(findings, 'finding')} share this mechanism: {w.how_often()}.",
            ("Agents: " + ", ".join(f"{w.q(n, 40)} ({c})" for n, c in pairs_of(w.brief.agents)[:5]) + ".")
            if agents else "",
            ("Tools: " + ", ".join(f"{w.q(n, 40)} ({c})" for n, c in pairs_of(w.brief.tools)[:6]) + ".")
            if tools else "",
            ("Its findings, largest first: " + "; ".join(t for _, _, t in listed[:5]) + ".")
            if listed else "",
            w.impact(),
        ]
        return Summary(
            title=fit(cap(title), 240),
            summary=" ".join(x for x in sentences if x),
            mechanism=parts.why,
            recommended_fix="One change for all of them: " + parts.fix,
            exemplar_refs=w.exemplar_refs(),
            summariser=self.name,
        )

    # ---- overview

    def _overview(self, w: Writer) -> Summary:
        brief = w.brief
        children = list(brief.children or ())
        summaries = list(brief.child_summaries or ())
        items: list[tuple[int, int, str, str]] = []  # (traces, rank order, title, fix)
        for i, summary in enumerate(summaries):
            child = children[i] if i < len(children) else None
            traces = child.traces if child is not None and isinstance(child.traces, int) else 0
            title = flat(getattr(summary, "title", "") or "", 200)
            fix = first_sentence(flat(getattr(summary, "recommended_fix", "") or "", 400))
            if title:
                items.append((traces, i, title, fix))
        if not items:
            for i, child in enumerate(children):
                kind = (child.kinds or ["failures"])[0] if isinstance(child.kinds, list) else "failures"
                items.append((child.traces if isinstance(child.traces, int) else 0, i,
                              f"{w.q(kind, 40)} ({plural(child.traces or 0, 'trace')})", ""))
        items.sort(key=lambda t: t[1])  # the children come ranked: #1 is the top finding everywhere
        count = len(children) or len(items)
        if not count:
            scope = f" in {w.window:,} traces" if w.window else ""
            return Summary(
                title=f"No failures found{scope}",
                summary=f"The detectors reported no failure{scope}.",
                mechanism="No failure mode was detected in this window.",
                recommended_fix="Nothing to fix; keep the nightly run to catch regressions.",
                exemplar_refs=w.exemplar_refs(),
                summariser=self.name,
            )
        affected = f" in {w.count_phrase()}" if w.traces else ""
        title = f"{plural(count, 'failure mode')}{affected}"
        top = items[:3]
        biggest = "; ".join(f"#{i + 1} {t}" for _, i, t, _ in top)
        kinds = pairs_of(w.facts.get("kinds")) or [(k, 0) for k in brief.kinds or () if isinstance(k, str)]
        kinds_text = ", ".join(f"{name.replace('_', ' ')} {c}" if c else name.replace("_", " ")
                               for name, c in kinds[:6])
        sentences = [f"{plural(count, 'finding')} affect {w.how_often().split(' in ', 1)[-1]}."
                     if w.traces else f"{plural(count, 'finding')}.",
                     f"The top-ranked findings: {biggest}." if biggest else "",
                     f"Signals by kind: {kinds_text}." if kinds_text else "", w.impact()]
        fixes = [f"#{i + 1} {fx}" for _, i, _, fx in top if fx]
        return Summary(
            title=title,
            summary=" ".join(s for s in sentences if s),
            mechanism=("Several independent failure modes; the highest-ranked are listed first. "
                       + (f"Most signals are {kinds[0][0].replace('_', ' ')}." if kinds else "")).strip(),
            recommended_fix=("Fix in order of impact: " + " ".join(fixes)) if fixes
            else "Open the largest findings first.",
            exemplar_refs=w.exemplar_refs(),
            summariser=self.name,
        )


def _kind_and_mechanism(w: Writer) -> tuple[str, str | None]:
    kinds = pairs_of(w.facts.get("kinds"))
    kind = kinds[0][0] if kinds else next((k for k in w.brief.kinds or () if isinstance(k, str) and k), "")
    mechanisms = pairs_of(w.brief.mechanisms) if w.brief.mechanisms else []
    if not mechanisms:
        mechanisms = pairs_of(w.facts.get("mechanisms"))
    mechanism = mechanisms[0][0] if mechanisms else None
    return kind, mechanism


def _other_kinds(w: Writer, kind: str) -> str:
    kinds = [(k, c) for k, c in pairs_of(w.facts.get("kinds")) if k != kind]
    if not kinds:
        return ""
    return "Also in this group: " + ", ".join(f"{k.replace('_', ' ')} ({c})" for k, c in kinds[:3]) + "."
