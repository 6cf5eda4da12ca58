"""What a tracker issue says about a finding: a title, a Markdown body (GitHub, GitLab), an Atlassian
Document Format description (Jira), the webhook payload, and the "new figures" comment of a re-run.

The body depends only on the finding (never on the run id or the time of publishing), so its hash tells
whether a re-run has anything new to say. Every text from a trace is redacted again here and escaped as
the reports escape it (``tracemine.report.markdown``), so trace text cannot add links, images or HTML.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass
from typing import Any

import orjson

from tracemine.formatting import format_count, format_ns
from tracemine.model import Exemplar, Finding
from tracemine.redact import Redactor
from tracemine.report.markdown import (
    SEVERITY_MARK,
    fix_text,
    format_ms,
    format_share,
    format_usd,
    md_code,
    md_fence,
    md_prose,
    md_text,
    md_url,
    truncate,
)

MAX_TITLE_CHARS = 240
MAX_EXEMPLARS = 5
MAX_EXCERPT_CHARS = 1200
MAX_TRACE_IDS = 20
MARKER_PREFIX = "tracemine:fingerprint="
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
_LABEL_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def marker_text(fingerprint: str) -> str:
    return f"{MARKER_PREFIX}{fingerprint}"


def marker(fingerprint: str) -> str:
    """The hidden marker put in GitHub/GitLab issue bodies: ``<!-- tracemine:fingerprint=tm-… -->``."""
    return f"<!-- {marker_text(fingerprint)} -->"


def jira_label(fingerprint: str) -> str:
    """The Jira label naming a finding (labels cannot hold spaces): ``tracemine-<fingerprint>``."""
    return "tracemine-" + _LABEL_SAFE.sub("-", fingerprint)


def has_marker(text: str | None, fingerprint: str) -> bool:
    """Whether ``text`` carries the marker of exactly this fingerprint (not of one it is a prefix of)."""
    if not text:
        return False
    return re.search(re.escape(marker_text(fingerprint)) + r"(?![A-Za-z0-9_-])", text) is not None


# -- a tiny document model rendered to Markdown and to ADF -------------------------------------------------
# inline runs: ("text" | "strong" | "code" | "prose", text) or ("link", text, url)
# blocks: ("h", text), ("p", runs), ("prose", text), ("ul", [runs, ...]), ("code", text), ("marker", fp)

Run = tuple[str, ...]
Block = tuple[Any, ...]


def _md_runs(runs: list[Run]) -> str:
    out = []
    for run in runs:
        kind, text = run[0], run[1]
        lead = " " if text[:1].isspace() else ""
        trail = " " if text[-1:].isspace() and text.strip() else ""
        if kind == "strong":
            out.append(f"{lead}**{md_text(text)}**{trail}")
        elif kind == "code":
            out.append(md_code(text))
        elif kind == "prose":
            out.append(md_prose(text, cell=True))
        elif kind == "link":
            out.append(f"[{md_text(text)}]({md_url(run[2])})")
        else:
            out.append(f"{lead}{md_text(text)}{trail}" if text.strip() else text)
    return "".join(out)


def to_markdown(blocks: list[Block]) -> str:
    parts: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "marker":
            parts.append(marker(block[1]))
        elif kind == "h":
            parts.append(f"### {md_text(block[1])}")
        elif kind == "p":
            parts.append(_md_runs(block[1]))
        elif kind == "prose":
            parts.append(md_prose(block[1]) or "—")
        elif kind == "ul":
            parts.append("\n".join(f"- {_md_runs(item)}" for item in block[1]))
        elif kind == "code":
            parts.append(md_fence(block[1]))
        elif kind == "small":
            parts.append(f"<sub>{_md_runs(block[1])}</sub>")
    return "\n\n".join(parts) + "\n"


def _adf_text(text: str, marks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": text}
    if marks:
        node["marks"] = marks
    return node


def _adf_prose_inline(text: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    last = 0
    for m in _CODE_SPAN.finditer(text):
        if m.start() > last:
            nodes.append(_adf_text(text[last:m.start()]))
        code = " ".join(m.group(2).split())
        if code:
            nodes.append(_adf_text(code, [{"type": "code"}]))
        last = m.end()
    if last < len(text):
        nodes.append(_adf_text(text[last:]))
    return nodes


def _adf_runs(runs: list[Run]) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    for run in runs:
        kind, text = run[0], run[1]
        if not text:
            continue
        if kind == "strong":
            nodes.append(_adf_text(text, [{"type": "strong"}]))
        elif kind == "code":
            nodes.append(_adf_text(text, [{"type": "code"}]))
        elif kind == "prose":
            nodes += _adf_prose_inline(" ".join(text.split()))
        elif kind == "link":
            nodes.append(_adf_text(text, [{"type": "link", "attrs": {"href": run[2]}}]))
        else:
            nodes.append(_adf_text(text))
    return nodes


def _adf_paragraph(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "paragraph", "content": nodes} if nodes else {"type": "paragraph"}


def to_adf(blocks: list[Block]) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for block in blocks:
        kind = block[0]
        if kind == "marker":
            content.append(_adf_paragraph([_adf_text(marker_text(block[1]), [{"type": "code"}])]))
        elif kind == "h":
            content.append({"type": "heading", "attrs": {"level": 3}, "content": [_adf_text(block[1])]})
        elif kind in ("p", "small"):
            content.append(_adf_paragraph(_adf_runs(block[1])))
        elif kind == "prose":
            text = str(block[1]).replace("\r\n", "\n").strip() or "—"
            for para in re.split(r"\n\s*\n", text):
                nodes: list[dict[str, Any]] = []
                for i, line in enumerate(line for line in para.split("\n") if line.strip()):
                    if i:
                        nodes.append({"type": "hardBreak"})
                    nodes += _adf_prose_inline(line.strip())
                if nodes:
                    content.append(_adf_paragraph(nodes))
        elif kind == "ul":
            content.append({"type": "bulletList", "content": [
                {"type": "listItem", "content": [_adf_paragraph(_adf_runs(item))]} for item in block[1]
            ]})
        elif kind == "code":
            content.append({"type": "codeBlock", "attrs": {"language": "text"},
                            "content": [_adf_text(block[1])] if block[1] else []})
    return {"type": "doc", "version": 1, "content": content}


# -- the finding ----------------------------------------------------------------------------------------------


def redacted(finding: Finding, redactor: Redactor) -> Finding:
    """A copy of ``finding`` whose texts (not its ids) went through ``redactor`` once more."""
    r = redactor.redact
    return dataclasses.replace(
        finding,
        title=r(finding.title),
        summary=r(finding.summary),
        mechanism=r(finding.mechanism),
        recommended_fix=r(finding.recommended_fix),
        tools=[r(t) for t in finding.tools],
        agents=[r(a) for a in finding.agents],
        models=[r(m) for m in finding.models],
        exemplars=[Exemplar(e.trace_id, list(e.span_ids), r(e.excerpt)) for e in finding.exemplars],
        fix={**finding.fix, "note": r(finding.fix["note"]) if finding.fix.get("note") else finding.fix.get("note")}
        if finding.fix else None,
    )


def fix_runs(fix: dict[str, Any], label: bool = True) -> list[Run]:
    """The verdict on a finding's recorded fix: ``Fix: fix-verified — since the fix on …; p < 0.001``
    (without ``Fix:`` when not ``label``), the note and a link to the change."""
    runs: list[Run] = [("strong", "Fix: " if label else f"{fix['status']} "),
                       ("text", f"{fix['status'] + ' ' if label else ''}— {fix_text(fix)}")]
    if fix.get("note"):
        runs += [("text", " · "), ("prose", fix["note"])]
    if fix.get("ref"):
        runs += [("text", " · "), ("link", "change", fix["ref"])]
    return runs


def issue_title(finding: Finding) -> str:
    title = " ".join(finding.title.split()) or finding.fingerprint
    if len(title) > MAX_TITLE_CHARS:
        title = title[: MAX_TITLE_CHARS - 1].rstrip() + "…"
    return f"[tracemine] {title}"


def figures_line(finding: Finding) -> list[Run]:
    imp = finding.impact
    runs: list[Run] = [
        ("strong", "Status: "), ("text", finding.status), ("text", " · "),
        ("strong", "Traces: "),
        ("text", f"{format_count(imp.traces)} of {format_count(imp.window_traces)} ({format_share(imp.trace_share)})"),
        ("text", " · "), ("strong", "Signals: "), ("text", format_count(imp.signals)),
        ("text", " · "), ("strong", "Wasted: "),
        ("text", f"{format_count(imp.tokens_wasted)} tokens, {format_ms(imp.latency_wasted_ms)}, "
                 f"{format_usd(imp.cost_wasted_usd)}"),
        ("text", " · "), ("strong", "Last seen: "), ("text", format_ns(finding.last_seen_ns)),
    ]
    return runs


def _names(values: list[str]) -> list[Run]:
    if not values:
        return [("text", "—")]
    runs: list[Run] = []
    for i, value in enumerate(values[:10]):
        if i:
            runs.append(("text", ", "))
        runs.append(("code", value))
    if len(values) > 10:
        runs.append(("text", f" and {len(values) - 10} more"))
    return runs


def issue_blocks(finding: Finding, report_url: str | None = None, trace_url: str | None = None) -> list[Block]:
    f = finding
    imp = f.impact
    blocks: list[Block] = [
        ("marker", f.fingerprint),
        ("p", [("strong", "Severity: "), ("text", f"{SEVERITY_MARK.get(f.severity, '')} {f.severity}".strip()),
               ("text", " · "), ("strong", "Status: "), ("text", f.status), ("text", " · "),
               ("strong", "Kinds: "), *_names(f.kinds), ("text", " · "),
               ("strong", "Fingerprint: "), ("code", f.fingerprint)]),
        ("h", "Summary"), ("prose", f.summary),
        ("h", "Mechanism"), ("prose", f.mechanism),
        ("h", "Recommended fix"), ("prose", f.recommended_fix),
        ("h", "Impact"),
        ("ul", [
            [("strong", "Traces affected: "),
             ("text", f"{format_count(imp.traces)} of {format_count(imp.window_traces)} "
                      f"({format_share(imp.trace_share)} of the window)")],
            [("strong", "Signals: "), ("text", format_count(imp.signals))],
            [("strong", "Tokens wasted: "), ("text", format_count(imp.tokens_wasted))],
            [("strong", "Time wasted: "), ("text", format_ms(imp.latency_wasted_ms))],
            [("strong", "Cost wasted: "), ("text", format_usd(imp.cost_wasted_usd))],
            [("strong", "First seen: "), ("text", format_ns(f.first_seen_ns)),
             ("text", " · "), ("strong", "Last seen: "), ("text", format_ns(f.last_seen_ns))],
            [("strong", "Tools: "), *_names(f.tools)],
            [("strong", "Agents: "), *_names(f.agents)],
            [("strong", "Models: "), *_names(f.models)],
        ]),
    ]
    if f.fix:
        blocks += [("h", "Fix"), ("p", fix_runs(f.fix, label=False))]
    if f.exemplars:
        blocks.append(("h", "Exemplars"))
        for ex in f.exemplars[:MAX_EXEMPLARS]:
            runs: list[Run] = [("text", "trace "), *_trace_runs(ex.trace_id, trace_url)]
            if ex.span_ids:
                runs += [("text", " · spans "), *_names(ex.span_ids)]
            blocks.append(("p", runs))
            if ex.excerpt:
                blocks.append(("code", truncate(ex.excerpt, MAX_EXCERPT_CHARS)))
    if f.trace_ids:
        shown = f.trace_ids[:MAX_TRACE_IDS]
        head = f"Affected traces ({len(f.trace_ids):,}" + (f", first {len(shown)})" if len(f.trace_ids) > len(shown) else ")")
        blocks += [("h", head), ("ul", [_trace_runs(t, trace_url) for t in shown])]
    footer: list[Run] = [("text", "Open it locally with "), ("code", f"tracemine show {f.fingerprint}")]
    if report_url:
        footer += [("text", " · "), ("link", "full report", report_url)]
    footer += [("text", ". Published by tracemine; this issue is updated when a run finds new figures.")]
    blocks.append(("small", footer))
    return blocks


def _trace_runs(trace_id: str, trace_url: str | None) -> list[Run]:
    if trace_url and "{trace_id}" in trace_url:
        from urllib.parse import quote

        return [("link", trace_id, trace_url.replace("{trace_id}", quote(trace_id, safe="")).replace("{span_id}", ""))]
    return [("code", trace_id)]


@dataclass
class Rendered:
    """Everything a publisher sends about one finding."""

    finding: Finding
    """The redacted finding."""
    title: str
    markdown: str
    adf: dict[str, Any]
    body_hash: str

    def comment_markdown(self, event: str, run_id: int | None) -> str:
        return to_markdown(comment_blocks(self.finding, event, run_id)).rstrip("\n")

    def comment_adf(self, event: str, run_id: int | None) -> dict[str, Any]:
        return to_adf(comment_blocks(self.finding, event, run_id))


EVENT_TEXT = {
    "updated": "New figures",
    "regressed": "Regressed: reopened",
    "resolved": "Resolved: absent from the latest window",
}


def comment_blocks(finding: Finding, event: str, run_id: int | None) -> list[Block]:
    where = f" (tracemine run {run_id})" if run_id is not None else ""
    blocks: list[Block] = [("p", [("strong", EVENT_TEXT.get(event, event) + where + ": ")]), ("p", figures_line(finding))]
    if finding.fix:
        blocks.append(("p", fix_runs(finding.fix)))
    return blocks


def render(finding: Finding, redactor: Redactor, report_url: str | None = None,
           trace_url: str | None = None) -> Rendered:
    """Title, bodies and body hash of ``finding`` (texts redacted once more)."""
    safe = redacted(finding, redactor)
    blocks = issue_blocks(safe, report_url, trace_url)
    title = redactor.redact(issue_title(safe))
    body = redactor.redact(to_markdown(blocks))
    if not has_marker(body, finding.fingerprint):  # the marker must survive redaction
        body = marker(finding.fingerprint) + "\n\n" + body
    adf = to_adf(blocks)
    digest = hashlib.sha256(orjson.dumps({"title": title, "body": body})).hexdigest()
    return Rendered(safe, title, body, adf, digest)
