"""``report.md``: the findings as GitHub-flavoured Markdown.

Text that comes from traces is data, never markup. Excerpts go into fenced code blocks whose fence is
longer than any backtick run inside them; ids go into code spans; prose (titles, summaries, mechanisms,
fixes) keeps its inline code spans (whose content Markdown shows literally) while everything else in it
has ``<``, ``>``, ``&`` turned into entities and Markdown punctuation backslash-escaped, so a trace cannot
add links, images, headings, HTML or table cells to the report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tracemine.formatting import format_count, format_ms, format_ns
from tracemine.model import Finding, Severity
from tracemine.report.atomic import make_dir, write_text
from tracemine.report.jsonout import (
    NO_FINDINGS,
    ReportContext,
    ResolvedNote,
    anchor,
    llm_usage_dict,
    order_findings,
    outcome_text,
)

MAX_TRACE_IDS = 200
"""Affected trace ids listed per finding (the full list is in findings.json)."""
MAX_SPAN_IDS = 100
MAX_EXEMPLARS = 10
MAX_EXCERPT_CHARS = 2000
COLLAPSE_AFTER = 10
"""Id lists longer than this are collapsed in a ``<details>`` block."""
MAX_TABLE_TOOLS = 3

SEVERITY_MARK = {Severity.CRITICAL: "🟥", Severity.HIGH: "🟧", Severity.MEDIUM: "🟨", Severity.LOW: "🟦"}

_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_LINE_START = re.compile(r"^([ \t]*)([#+=\-])", re.MULTILINE)
_LIST_NUMBER = re.compile(r"^([ \t]*\d+)([.)])", re.MULTILINE)
_AUTOLINK = re.compile(r"(://|www\.)", re.IGNORECASE)
# @user, @org/team (not an email's @) and #123 / org/repo#123: a zero-width space after the sign keeps
# GitHub and GitLab from pinging anyone or cross-linking an issue; it renders as the plain text
_MENTION = re.compile(r"(?<![\w&])@(?=[A-Za-z0-9])")
_ISSUE_REF = re.compile(r"(?<!&)#(?=\d)")
ZWSP = "&#8203;"


# -- figures shared with the HTML report -------------------------------------------------------------------


def format_share(share: float) -> str:
    pct = share * 100
    if pct and pct < 0.1:
        return "<0.1%"
    return f"{pct:.1f}%"


def format_usd(usd: float) -> str:
    return f"${usd:,.2f}" if usd >= 1 else f"${usd:.4f}"


SPARK_BLOCKS = "▁▂▃▄▅▆▇█"


def text_sparkline(values: Sequence[float]) -> str:
    """Unicode block sparkline of ``values`` (a space for zero), for Markdown and the terminal."""
    top = max(values, default=0) or 1
    return "".join(" " if v <= 0 else SPARK_BLOCKS[min(len(SPARK_BLOCKS) - 1, int(v / top * (len(SPARK_BLOCKS) - 1) + 0.5))]
                   for v in values)


def window_text(ctx: ReportContext) -> str:
    if ctx.since_ns is None and ctx.until_ns is None:
        return "all time"
    return f"{format_ns(ctx.since_ns)} → {format_ns(ctx.until_ns)}"


def affected_traces(findings: Iterable[Finding]) -> int:
    seen: set[str] = set()
    for finding in findings:
        seen.update(finding.trace_ids)
    return len(seen)


def llm_usage_text(ctx: ReportContext) -> str:
    usage = llm_usage_dict(ctx.llm_usage)
    if usage is None:
        return "no LLM used (offline summaries)"
    text = (
        f"{format_count(usage['calls'])} LLM call(s), {format_count(usage['input_tokens'])} input / "
        f"{format_count(usage['output_tokens'])} output tokens, estimated {format_usd(usage['cost_usd'])}"
    )
    if usage.get("ids_removed"):
        text += f"; {format_count(usage['ids_removed'])} id(s) the LLM wrote but no finding cites removed"
    return text


def truncate(text: str, limit: int = MAX_EXCERPT_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… ({len(text) - limit:,} more characters)"


STATUS_LEGEND = (
    ("new", "no earlier run reported it (it may have been found below an earlier report's cut)"),
    ("recurring", "reported by an earlier run, found again at a similar level"),
    ("regressed", "reported before, and grown, or back after being resolved or after its fix was verified"),
    ("resolved", "reported by an earlier run, not found in the last runs; listed once, under Resolved"),
)


def resolved_text(note: ResolvedNote) -> str:
    """``last found by run 3 (started 2026-11-02 02:30Z; last signal 2026-11-01 23:10Z), absent for 2 runs``."""
    started = f"started {format_ns(note.last_run_started_ns)}; " if note.last_run_started_ns is not None else ""
    seen = f"last signal {format_ns(note.last_seen_ns)}" if note.last_seen_ns is not None else "last signal unknown"
    runs = "run" if note.absent_runs == 1 else "runs"
    return f"last found by run {note.last_run} ({started}{seen}), absent for {note.absent_runs} {runs}"


FIX_LEGEND = (
    ("fix-verified", "the share of traces with it fell after the fix (one-sided Fisher exact test, p < alpha) "
                     "to at most history.fix_max_residual of the share before"),
    ("fix-not-effective", "enough traces since the fix, and the share did not fall (significantly, or far enough)"),
    ("awaiting-data", "too few traces since the fix to tell; the number needed is given"),
    ("regressed", "verified before, and found again in traces after the fix"),
)


def fix_text(fix: Mapping[str, Any]) -> str:
    """``since the fix on 2026-12-03: 0 of 4,210 traces (0.0%), was 3.1% (131 of 4,223); p < 0.001`` and
    what the status adds (traces needed, a regression); ``fix`` is a finding's ``fix`` object."""
    before, after = fix["before"], fix["after"]
    stamp = format_ns(fix["at_ns"])
    day = stamp[:10] if stamp.endswith("00:00:00Z") else stamp
    text = (f"since the fix on {day}: {format_count(after['occurrences'])} of {format_count(after['traces'])} "
            f"traces ({format_share(after['share'])}), was {format_share(before['share'])} "
            f"({format_count(before['occurrences'])} of {format_count(before['traces'])})")
    p = fix.get("p_value")
    if p is not None:
        text += "; p < 0.001" if p < 0.001 else f"; p = {p:.3f}"
    status, needed = fix["status"], fix.get("traces_needed")
    if status == "awaiting-data":
        if needed is None:
            text += "; no occurrence before the fix to compare with"
        else:
            text += f"; needs {format_count(needed)} traces since the fix to tell (has {format_count(after['traces'])})"
    elif status == "fix-not-effective" and p is not None and p < fix["alpha"]:
        text += f"; lower, but above {fix.get('max_residual', 0.2):.0%} of the share before"
    elif status == "regressed":
        text += "; verified before, found again since"
    return text


# -- escaping -----------------------------------------------------------------------------------------------


def _escape_plain(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _ISSUE_REF.sub("#" + ZWSP, _MENTION.sub("@" + ZWSP, text))
    # break GFM's extended autolinks (https://…, www.…) so trace text cannot become a link
    return _AUTOLINK.sub(lambda m: m.group(1).replace("/", "\\/").replace(".", "\\."), text)


def md_text(text: str) -> str:
    """Escape short inline ``text`` (never at a line start) so that it renders literally, on one line."""
    return _escape_plain(" ".join(str(text).split()))


def md_prose(text: str, *, cell: bool = False) -> str:
    """Escape prose but keep its inline code spans (``like `this` ``) as code."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    if cell:
        text = " ".join(text.split())
    out: list[str] = []
    last = 0
    for m in _CODE_SPAN.finditer(text):
        out.append(_escape_plain(text[last : m.start()]))
        out.append(md_code(m.group(2), cell=cell))
        last = m.end()
    out.append(_escape_plain(text[last:]))
    result = "".join(out)
    if cell:
        return result
    # a line may not start a heading, list, quote or setext underline (code spans start with a backtick)
    result = _LIST_NUMBER.sub(r"\1\\\2", _LINE_START.sub(r"\1\\\2", result))
    # keep paragraphs; single newlines become hard breaks; leading spaces cannot start a code block
    paragraphs = []
    for para in re.split(r"\n\s*\n", result.strip()):
        lines = [line.strip() for line in para.split("\n") if line.strip()]
        if lines:
            paragraphs.append("  \n".join(lines))
    return "\n\n".join(paragraphs)


def md_code(text: str, *, cell: bool = False) -> str:
    """``text`` as an inline code span (delimiter longer than any backtick run inside)."""
    text = " ".join(str(text).split())
    if cell:
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_fence(text: str, info: str = "text") -> str:
    """``text`` in a fenced code block that it cannot close."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def md_url(url: str) -> str:
    """A link destination that cannot end the link early."""
    for char, code in (("(", "%28"), (")", "%29"), (" ", "%20"), ("<", "%3C"), (">", "%3E")):
        url = url.replace(char, code)
    return url


def md_trace(ctx: ReportContext, trace_id: str, span_id: str | None = None) -> str:
    """A trace (or span) id as code, linked when the context has a ``trace_url``."""
    label = md_code(span_id if span_id is not None else trace_id)
    url = ctx.trace_link(trace_id, span_id)
    return f"[{label}]({md_url(url)})" if url else label


def _names(values: Sequence[str], limit: int | None = None, *, cell: bool = False) -> str:
    if not values:
        return "—"
    shown = list(values) if limit is None else list(values)[:limit]
    text = ", ".join(md_code(v, cell=cell) for v in shown)
    if limit is not None and len(values) > limit:
        text += f" +{len(values) - limit}"
    return text


# -- document ----------------------------------------------------------------------------------------------


def render_markdown(findings: Iterable[Finding], ctx: ReportContext) -> str:
    ordered = order_findings(findings)
    lines: list[str] = ["# tracemine report", ""]
    lines += [
        f"- **Window:** {md_text(window_text(ctx))}",
        f"- **Archive:** {md_code(ctx.archive) if ctx.archive else '—'}",
        f"- **Traces / spans in window:** {format_count(ctx.traces)} / {format_count(ctx.spans)}",
        f"- **Findings:** {len(ordered)}, covering {format_count(affected_traces(ordered))} distinct trace(s)",
        f"- **Detectors:** {_names(ctx.detectors)}",
        f"- **Generated:** {md_text(format_ns(ctx.generated_ns))} by tracemine {md_text(ctx.version)}",
        "",
    ]
    if not ordered:
        lines += [f"**{NO_FINDINGS}**", ""]
    else:
        if ctx.overview:
            lines += ["## Overview", "", md_prose(ctx.overview), ""]
        lines += _themes(ordered, ctx)
        lines += _summary_table(ordered)
        lines += _breakdown(ordered)
        for rank, finding in enumerate(ordered, 1):
            lines += _section(rank, finding, ctx)
    lines += _resolved(ctx)
    lines += _fixes(ctx, {f.fingerprint for f in ordered})
    lines += _footer(ordered, ctx)
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(findings: Iterable[Finding], ctx: ReportContext, path: str | Path) -> Path:
    """Write ``report.md`` to ``path`` (parent folders are created; written whole or not at all, see
    :mod:`tracemine.report.atomic`) and return the path."""
    out = Path(path)
    make_dir(out.parent)
    write_text(out, render_markdown(findings, ctx))
    return out


def _resolved(ctx: ReportContext) -> list[str]:
    """The findings this run resolves, once each: when they were last found and for how many runs not."""
    if not ctx.resolved:
        return []
    lines = ["## Resolved", "", "Reported by earlier runs and not found since (listed in this report only):", ""]
    for note in ctx.resolved:
        lines.append(f"- {md_code(note.fingerprint)} {md_prose(note.title, cell=True)} — "
                     f"{md_text(resolved_text(note))}")
    lines.append("")
    return lines


def fix_line(fix: Mapping[str, Any]) -> str:
    """A fix verdict as one Markdown line: status, rates and test, then the note and a link to the change."""
    line = f"**{md_text(fix['status'])}** — {md_text(fix_text(fix))}"
    if fix.get("note"):
        line += f" · {md_prose(fix['note'], cell=True)}"
    if fix.get("ref"):
        line += f" · [change]({md_url(fix['ref'])})"
    return line


def fix_place(fix: Mapping[str, Any], shown: set[str]) -> str:
    """Where a fixed finding is in this run's report: ``""`` when reported, else why it is not."""
    if fix["fingerprint"] in shown:
        return ""
    return " (found below the report cut)" if fix.get("found") else " (not found in this window)"


def _fixes(ctx: ReportContext, shown: set[str]) -> list[str]:
    """Every recorded fix and this run's verdict, found in this run or not (a fixed mode may be gone);
    ``shown`` are the reported fingerprints (linked to their section)."""
    if not ctx.fixes:
        return []
    lines = ["## Fixes", "", "Fixes recorded with `tracemine fix`, and the share of traces with each finding "
             "before and after its fix:", ""]
    for fix in ctx.fixes:
        where = f"[{md_code(fix['fingerprint'])}](#{anchor(fix['fingerprint'])})" if fix["fingerprint"] in shown \
            else md_code(fix["fingerprint"])
        absent = fix_place(fix, shown)
        lines.append(f"- {where} {md_prose(fix.get('title') or '', cell=True)}{absent} — {fix_line(fix)}")
    lines += ["", "; ".join(f"**{name}**: {md_text(meaning)}" for name, meaning in FIX_LEGEND), ""]
    return lines


def _summary_table(ordered: list[Finding]) -> list[str]:
    lines = [
        "## Ranked findings",
        "",
        "| # | severity | finding | traces affected | status | tools |",
        "|---:|---|---|---:|---|---|",
    ]
    for rank, f in enumerate(ordered, 1):
        severity = f"{SEVERITY_MARK.get(f.severity, '')} {md_text(f.severity)}".strip()
        title = f"[{md_prose(f.title, cell=True)}](#{anchor(f.fingerprint)})"
        traces = f"{format_count(f.impact.traces)} ({format_share(f.impact.trace_share)})"
        lines.append(
            f"| {rank} | {severity} | {title} | {md_text(traces)} | {md_text(f.status)} "
            f"| {_names(f.tools, MAX_TABLE_TOOLS, cell=True)} |"
        )
    lines.append("")
    return lines


def _themes(ordered: list[Finding], ctx: ReportContext) -> list[str]:
    """Cross-cutting patterns, above the findings: each with its id, reach, fix and its findings."""
    if not ctx.themes:
        return []
    ranks = {f.fingerprint: rank for rank, f in enumerate(ordered, 1)}
    lines = ["## Themes", "",
             "Patterns shared by several findings (one mechanism in several agents or tools); each finding below "
             "is one fix.", ""]
    for n, t in enumerate(ctx.themes, 1):
        share = format_share(t.traces / t.window_traces) if t.window_traces else "—"
        members = [f"[#{ranks[fp]}](#{anchor(fp)})" for fp in t.findings if fp in ranks]
        below = len(t.findings) - len(members)
        lines += [
            f"### T{n}. {md_prose(t.title, cell=True)}",
            "",
            f"**Theme:** {md_code(t.theme_id)} · **Severity:** {SEVERITY_MARK.get(t.severity, '')} {md_text(t.severity)}"
            f" · **Traces:** {format_count(t.traces)} ({md_text(share)}) · **Findings:** {', '.join(members) or '—'}"
            + (f" (+{below} below the cut)" if below > 0 else ""),
            "",
            md_prose(t.summary) or "—",
            "",
            f"**Fix for all of them:** {md_prose(t.recommended_fix) or '—'}",
            "",
            f"- **Agents:** {', '.join(f'{md_code(a)} ({c})' for a, c in t.agents) or '—'}",
            f"- **Tools:** {', '.join(f'{md_code(a)} ({c})' for a, c in t.tools[:MAX_TABLE_TOOLS * 3]) or '—'}",
            "",
        ]
    return lines


def _breakdown(ordered: list[Finding]) -> list[str]:
    """Reported findings and affected traces per agent and per tool."""
    from tracemine.report.jsonout import breakdown

    lines: list[str] = []
    table = breakdown(ordered)
    for label, rows in (("agent", table["agents"]), ("tool", table["tools"])):
        if not rows:
            continue
        lines += [f"**By {label}:** " + ", ".join(
            f"{md_code(r['name'])} {r['findings']} finding(s), {format_count(r['traces'])} trace(s)" for r in rows), ""]
    return lines


def _id_list(ctx: ReportContext, ids: Sequence[str], noun: str, limit: int, trace_of: str | None = None) -> list[str]:
    shown = ids[:limit]
    items = [f"- {md_trace(ctx, trace_of, i) if trace_of else md_trace(ctx, i)}" for i in shown]
    if len(ids) > limit:
        items.append(f"- … and {len(ids) - limit:,} more (every id is in `findings.json`)")
    if len(ids) <= COLLAPSE_AFTER:
        return [f"**Affected {noun}s ({len(ids):,}):**", "", *items, ""]
    return ["<details>", f"<summary>All affected {noun}s ({len(ids):,})</summary>", "", *items, "", "</details>", ""]


def _section(rank: int, f: Finding, ctx: ReportContext) -> list[str]:
    imp = f.impact
    lines = [
        f'<a id="{anchor(f.fingerprint)}"></a>',
        "",
        f"## {rank}. {md_prose(f.title, cell=True)}",
        "",
        f"**Severity:** {SEVERITY_MARK.get(f.severity, '')} {md_text(f.severity)} · "
        f"**Status:** {md_text(f.status)} · **Kinds:** {_names(f.kinds)} · "
        f"**Fingerprint:** {md_code(f.fingerprint)} · **Score:** {f.score:.3g} · "
        f"**Summary by:** {md_text(f.summariser)}",
        "",
        "### Summary",
        "",
        md_prose(f.summary) or "—",
        "",
        "### Mechanism",
        "",
        md_prose(f.mechanism) or "—",
        "",
        "### Recommended fix",
        "",
        md_prose(f.recommended_fix) or "—",
        "",
        "### Impact",
        "",
        "| traces affected | share of window | signals | tokens wasted | latency wasted | cost wasted |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {format_count(imp.traces)} of {format_count(imp.window_traces)} | {md_text(format_share(imp.trace_share))} "
        f"| {format_count(imp.signals)} | {format_count(imp.tokens_wasted)} | {format_ms(imp.latency_wasted_ms)} "
        f"| {format_usd(imp.cost_wasted_usd)} |",
        "",
        f"- **Tools:** {_names(f.tools)}",
        f"- **Agents:** {_names(f.agents)}",
        f"- **Models:** {_names(f.models)}",
        f"- **One fix:** {_key_text(f)}",
        *([f"- **Outcome:** {md_text(outcome_text(f.outcome))}"] if f.outcome else []),
        *([f"- **Fix:** {fix_line(f.fix)}"] if f.fix else []),
        f"- **First seen:** {md_text(format_ns(f.first_seen_ns))} · **Last seen:** {md_text(format_ns(f.last_seen_ns))}",
    ]
    if f.timeline:
        lines.append(f"- **Signals over the window:** `{text_sparkline([c for _, c in f.timeline])}` "
                     f"({len(f.timeline)} buckets from {md_text(format_ns(f.timeline[0][0]))}, "
                     f"peak {max(c for _, c in f.timeline)})")
    history = ctx.history_of(f.fingerprint)
    if history:
        trend = " → ".join(f"{md_text(label)}: {md_text(format_share(share))}" for label, share in history)
        lines.append(f"- **Share in recent runs:** {trend}")
    lines.append("")
    if f.exemplars:
        lines += ["### Exemplars", ""]
        for n, ex in enumerate(f.exemplars[:MAX_EXEMPLARS], 1):
            spans = ", ".join(md_trace(ctx, ex.trace_id, s) for s in ex.span_ids) or "—"
            cause = f" · cause (LLM call) {md_trace(ctx, ex.trace_id, ex.cause_span_id)}" if ex.cause_span_id else ""
            lines += [f"{n}. trace {md_trace(ctx, ex.trace_id)} · symptom spans {spans}{cause}", ""]
            fence = md_fence(truncate(ex.excerpt))
            lines += ["   " + line if line else "" for line in fence.split("\n")]
            lines.append("")
        if len(f.exemplars) > MAX_EXEMPLARS:
            lines += [f"… and {len(f.exemplars) - MAX_EXEMPLARS} more exemplar(s) in `findings.json`.", ""]
    lines += _id_list(ctx, f.trace_ids, "trace", MAX_TRACE_IDS)
    if f.span_ids:
        lines += _span_list(ctx, f)
    return lines


def _key_text(f: Finding) -> str:
    """The fix key in words: agent, subject, mechanism, family; the theme when it has one."""
    key = f.key or {}
    parts = [f"{label} {md_code(key[part])}" for part, label in
             (("agent", "agent"), ("subject", "subject"), ("mechanism", "mechanism"), ("family", "constraint/error"))
             if key.get(part)]
    if f.theme_id:
        parts.append(f"theme {md_code(f.theme_id)}")
    return " · ".join(parts) or "—"


def _span_list(ctx: ReportContext, f: Finding) -> list[str]:
    # span ids are listed as code, not linked: a bare span id does not say which trace it belongs to
    ids = f.span_ids
    shown = [f"- {md_code(s)}" for s in ids[:MAX_SPAN_IDS]]
    if len(ids) > MAX_SPAN_IDS:
        shown.append(f"- … and {len(ids) - MAX_SPAN_IDS:,} more (every id is in `findings.json`)")
    return ["<details>", f"<summary>Cited spans ({len(ids):,})</summary>", "", *shown, "", "</details>", ""]


def _footer(ordered: list[Finding], ctx: ReportContext) -> list[str]:
    lines = ["---", "", f"**LLM usage:** {md_text(llm_usage_text(ctx))}", ""]
    lines += [
        "**Fingerprints.** A fingerprint names a failure mode, not a run: the same failure keeps its fingerprint "
        "across runs and windows, so it links this report to earlier ones, to `findings.json` and to tracker "
        "issues. Status compares it with earlier runs:",
        "",
    ]
    lines += [f"- **{name}** — {meaning}" for name, meaning in STATUS_LEGEND]
    lines.append("")
    if ordered:
        lines += ["| fingerprint | # | finding |", "|---|---:|---|"]
        lines += [
            f"| {md_code(f.fingerprint, cell=True)} | {rank} | {md_prose(f.title, cell=True)} |"
            for rank, f in enumerate(ordered, 1)
        ]
        lines.append("")
    return lines
