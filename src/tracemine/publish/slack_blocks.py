"""What the Slack publisher posts, as Block Kit: the run digest (new, regressed and fix-verified findings)
and one thread reply per finding event.

The findings given here are already redacted (:func:`tracemine.publish.render.redacted`). Text from traces
is data: ``&``, ``<`` and ``>`` are escaped so it cannot make links or mentions (``<!channel>``,
``<@U…>``, ``<url|text>``), the sections carrying it are ``verbatim`` (no auto-linked URLs or channel
names), and every text is cut to Slack's limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracemine.formatting import format_count
from tracemine.model import Finding
from tracemine.report.markdown import format_ms, format_share, format_usd

FIX_VERIFIED = "fix-verified"
"""The verdict of a finding whose recorded fix this run verified (``Finding.fix["status"]``)."""
DIGEST_SECTIONS = (("new", "New"), ("regressed", "Regressed"), (FIX_VERIFIED, "Fix verified"))
EVENT_LABEL = {"created": "New", "updated": "New figures", "regressed": "Regressed", "resolved": "Resolved",
               FIX_VERIFIED: "Fix verified"}
SEVERITY_LABEL = {"critical": ":rotating_light: critical", "high": ":red_circle: high",
                  "medium": ":large_orange_circle: medium", "low": ":white_circle: low"}
MAX_SECTION_CHARS = 2900  # Slack: 3000 per text object
MAX_HEADER_CHARS = 150
MAX_TITLE_CHARS = 200
MAX_PROSE_CHARS = 1200


def escape(text: Any) -> str:
    """``text`` as inert mrkdwn: the three characters Slack reads as control sequences are escaped."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    text = " ".join(text.split()) if "\n" not in text else text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def link(url: str, label: str) -> str:
    """A link to a configured URL (never to a URL from a trace)."""
    return f"<{escape(url).replace('|', '%7C')}|{escape(label)}>"


def _mrkdwn(text: str, *, verbatim: bool = True) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": verbatim}


def _title(finding: Finding) -> str:
    return escape(cut(finding.title or finding.fingerprint, MAX_TITLE_CHARS))


def digest_line(finding: Finding) -> str:
    severity = SEVERITY_LABEL.get(finding.severity, escape(finding.severity))
    return (f"• *{severity}* {_title(finding)} — {format_count(finding.impact.traces)} trace(s) · "
            f"`{escape(finding.fingerprint)}`")


def _lines_section(head: str, lines: list[str], total: int) -> dict[str, Any]:
    text = head
    shown = 0
    for line in lines:
        if len(text) + len(line) + 40 > MAX_SECTION_CHARS:
            break
        text += "\n" + line
        shown += 1
    if total > shown:
        text += f"\n…and {total - shown} more"
    return {"type": "section", "text": _mrkdwn(text)}


def digest_status(finding: Finding) -> str:
    """The digest section of a finding: ``fix-verified`` when this run verified its recorded fix
    (:mod:`tracemine.fixes`), else its status."""
    fix = finding.fix or {}
    return FIX_VERIFIED if fix.get("status") == FIX_VERIFIED else str(finding.status)


def digest_counts(findings: Sequence[Finding]) -> dict[str, int]:
    return {status: sum(1 for f in findings if digest_status(f) == status) for status, _ in DIGEST_SECTIONS}


def digest_text(run_id: int | None, findings: Sequence[Finding]) -> str:
    """The plain summary line (the notification text and the header)."""
    counts = digest_counts(findings)
    parts = [f"{counts[status]} {label.lower()}" for status, label in DIGEST_SECTIONS if counts[status]]
    return f"tracemine run {run_id}: " + (", ".join(parts) or "nothing new")


def digest_blocks(findings: Sequence[Finding], run_id: int | None, report_url: str | None,
                  max_items: int, threads: bool = True) -> list[dict[str, Any]]:
    """The digest: a header with the counts, one section per status, a context line (``threads``: whether
    the findings' events follow in threads, as with a bot token)."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": cut(digest_text(run_id, findings), MAX_HEADER_CHARS)}},
    ]
    for status, label in DIGEST_SECTIONS:
        group = [f for f in findings if digest_status(f) == status]
        if group:
            lines = [digest_line(f) for f in group[:max_items]]
            blocks.append(_lines_section(f"*{label}* ({len(group)})", lines, len(group)))
    context = ["Published by tracemine" + ("; each finding's updates follow in its thread." if threads else ".")]
    if report_url:
        context.insert(0, link(report_url, "Full report"))
    blocks += [{"type": "divider"}, {"type": "context", "elements": [_mrkdwn(" · ".join(context), verbatim=False)]}]
    return blocks


def finding_text(finding: Finding, event: str, run_id: int | None) -> str:
    """The notification text of a thread reply (no trace text)."""
    return f"{EVENT_LABEL.get(event, event)} (tracemine run {run_id}): {finding.fingerprint}"


def finding_blocks(finding: Finding, event: str, run_id: int | None, report_url: str | None) -> list[dict[str, Any]]:
    """A thread reply about one finding: the event, title, figures, summary and recommended fix."""
    f, imp = finding, finding.impact
    fields = [
        f"*Severity*\n{SEVERITY_LABEL.get(f.severity, escape(f.severity))}",
        f"*Status*\n{escape(f.status)}",
        f"*Traces*\n{format_count(imp.traces)} of {format_count(imp.window_traces)} ({format_share(imp.trace_share)})",
        f"*Signals*\n{format_count(imp.signals)}",
        f"*Wasted*\n{format_count(imp.tokens_wasted)} tokens, {format_ms(imp.latency_wasted_ms)}, "
        f"{format_usd(imp.cost_wasted_usd)}",
        f"*Fingerprint*\n`{escape(f.fingerprint)}`",
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": _mrkdwn(f"*{EVENT_LABEL.get(event, escape(event))}* (run {run_id}): {_title(f)}")},
        {"type": "section", "fields": [_mrkdwn(text) for text in fields]},
    ]
    for head, prose in (("Summary", f.summary), ("Recommended fix", f.recommended_fix)):
        if prose and prose.strip():
            blocks.append({"type": "section", "text": _mrkdwn(f"*{head}*\n{escape(cut(prose, MAX_PROSE_CHARS))}")})
    context = f"`tracemine show {escape(f.fingerprint)}`"
    if report_url:
        context += " · " + link(report_url, "Full report")
    blocks.append({"type": "context", "elements": [_mrkdwn(context, verbatim=False)]})
    return blocks
