"""``report.html``: a self-contained page (inline CSS, inline SVG charts, a few lines of optional JS).

The page makes no network request: no external stylesheet, font, script or image, and a
Content-Security-Policy that allows only the page's own inline style and its one inline script (by hash),
so even a hypothetical escaping bug could not run injected script. Every string that may come from a trace
(titles, summaries, excerpts, ids, tool names) is HTML-escaped; the only outgoing links are the optional
click-through trace links built from ``ReportContext.trace_url``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from tracemine.formatting import format_count, format_ns, short_ids
from tracemine.model import Finding, Severity
from tracemine.report.atomic import make_dir, write_text
from tracemine.report.hints import command
from tracemine.report.jsonout import NO_FINDINGS, ReportContext, anchor, order_findings, outcome_text
from tracemine.report.markdown import (
    FIX_LEGEND,
    MAX_EXCERPT_CHARS,
    MAX_EXEMPLARS,
    MAX_SPAN_IDS,
    MAX_TRACE_IDS,
    STATUS_LEGEND,
    affected_traces,
    fix_place,
    fix_text,
    format_ms,
    format_share,
    format_usd,
    llm_usage_text,
    resolved_text,
    truncate,
    window_text,
)

MAX_CHART_BARS = 25
BAR_LABEL_CHARS = 46
SEVERITY_COLOURS = {Severity.CRITICAL: "#b3123b", Severity.HIGH: "#d9480f", Severity.MEDIUM: "#c99700", Severity.LOW: "#1c7ed6"}
_CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)

CSS = """
:root{--fg:#1d2330;--muted:#5c6677;--bg:#f6f7f9;--card:#fff;--line:#dde1e8;--accent:#3b5bdb;
--critical:#b3123b;--high:#d9480f;--medium:#c99700;--low:#1c7ed6}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{margin:0 0 8px;font-size:26px}h2{font-size:19px;margin:0 0 6px}h3{font-size:15px;margin:16px 0 4px}
a{color:var(--accent)}
code,pre,.id{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
code{background:#eef0f4;padding:1px 4px;border-radius:3px}
pre{background:#f1f3f6;border:1px solid var(--line);border-radius:6px;padding:10px;overflow:auto;
white-space:pre-wrap;word-break:break-word;max-height:320px;margin:6px 0}
.meta{color:var(--muted)}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:8px;margin:12px 0 20px}
.fact{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 12px}
.fact b{display:block;font-size:20px}
.panel{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px;margin:16px 0}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{font-size:13px;color:var(--muted);font-weight:600}
td.num,th.num{text-align:right;white-space:nowrap}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;color:#fff;
background:var(--muted);white-space:nowrap}
.sev-critical .badge.sev,.badge.sev-critical{background:var(--critical)}
.sev-high .badge.sev,.badge.sev-high{background:var(--high)}
.sev-medium .badge.sev,.badge.sev-medium{background:var(--medium)}
.sev-low .badge.sev,.badge.sev-low{background:var(--low)}
.badge.status{background:#eef0f4;color:var(--fg);border:1px solid var(--line)}
.badge.status-regressed{background:#ffe3e3;border-color:#ffa8a8}
.badge.status-new{background:#e7f5ff;border-color:#a5d8ff}
.badge.status-resolved{background:#ebfbee;border-color:#b2f2bb}
.badge.fix-fix-verified{background:#ebfbee;border-color:#b2f2bb}
.badge.fix-fix-not-effective,.badge.fix-regressed{background:#ffe3e3;border-color:#ffa8a8}
.badge.fix-awaiting-data{background:#fff9db;border-color:#ffe066}
.card{background:var(--card);border:1px solid var(--line);border-left:6px solid var(--muted);border-radius:8px;
padding:16px 18px;margin:18px 0}
.card.sev-critical{border-left-color:var(--critical)}.card.sev-high{border-left-color:var(--high)}
.card.sev-medium{border-left-color:var(--medium)}.card.sev-low{border-left-color:var(--low)}
.card header{display:flex;justify-content:space-between;gap:16px;align-items:flex-start}
.impact{display:flex;flex-wrap:wrap;gap:6px 18px;margin:8px 0}
.impact span b{font-size:17px}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0}
ul.ids{columns:3 260px;margin:6px 0;padding-left:18px}
ul.spans{margin:6px 0;padding-left:18px}ul.spans li{margin:2px 0}
.traces article{border-top:1px solid var(--line);padding-top:8px;margin-top:12px}
.traces pre{max-height:480px;white-space:pre;word-break:normal}
a.sec{text-decoration:none}
details{margin:8px 0}summary{cursor:pointer;color:var(--accent)}
.filters{display:flex;gap:8px;flex-wrap:wrap;margin:8px 0}
.filters input,.filters select{font:inherit;padding:4px 8px;border:1px solid var(--line);border-radius:6px}
svg.chart{max-width:100%;height:auto}
svg text{font:12px system-ui,sans-serif;fill:var(--fg)}
svg .bar-critical{fill:var(--critical)}svg .bar-high{fill:var(--high)}svg .bar-medium{fill:var(--medium)}
svg .bar-low{fill:var(--low)}svg .bar-other{fill:var(--muted)}
svg.spark polyline{fill:none;stroke:var(--accent);stroke-width:1.5}svg.spark circle{fill:var(--accent)}
svg.timeline rect{fill:var(--accent)}svg.timeline line{stroke:var(--muted);stroke-width:1}
.empty{font-size:18px;padding:24px;text-align:center}
footer{color:var(--muted);font-size:13px;margin:32px 0}
[hidden]{display:none!important}
"""

JS = """
(function(){
  var q=document.getElementById('f-q'),s=document.getElementById('f-sev'),t=document.getElementById('f-status');
  if(!q){return;}
  function apply(){
    var text=q.value.toLowerCase(),sev=s.value,st=t.value;
    document.querySelectorAll('[data-fp]').forEach(function(el){
      var ok=(!sev||el.getAttribute('data-severity')===sev)&&(!st||el.getAttribute('data-status')===st)&&
        (!text||el.getAttribute('data-text').indexOf(text)>=0);
      el.hidden=!ok;
    });
  }
  [q,s,t].forEach(function(el){el.addEventListener('input',apply);el.addEventListener('change',apply);});
  document.getElementById('filters').hidden=false;
})();
"""


def _csp() -> str:
    digest = base64.b64encode(hashlib.sha256(JS.encode("utf-8")).digest()).decode("ascii")
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def html_prose(text: str) -> str:
    """Escaped prose with inline code spans as ``<code>`` and blank-line-separated paragraphs."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return "<p>—</p>"
    paragraphs = []
    for para in re.split(r"\n\s*\n", text):
        paragraphs.append("<p>" + _inline(para).replace("\n", "<br>") + "</p>")
    return "".join(paragraphs)


def _inline(text: str) -> str:
    out: list[str] = []
    last = 0
    for m in _CODE_SPAN.finditer(text):
        out.append(esc(text[last : m.start()]))
        out.append(f"<code>{esc(' '.join(m.group(2).split()))}</code>")
        last = m.end()
    out.append(esc(text[last:]))
    return "".join(out)


def trace_anchor(trace_id: str) -> str:
    """The HTML id of a trace's section: ``t-`` and the id (a hash is added when characters were replaced)."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "-", trace_id)[:96] or "x"
    if safe != trace_id:
        safe += "-" + hashlib.sha1(trace_id.encode("utf-8")).hexdigest()[:8]
    return "t-" + safe


def _link(ctx: ReportContext, trace_id: str, span_id: str | None = None) -> str:
    """A trace (or span) id that links to the trace: ``report.trace_url`` when configured (with a ``§`` link
    to the trace's section in this report beside a trace id), else the section itself; a plain id when the
    trace has no section."""
    label = f'<span class="id">{esc(span_id if span_id is not None else trace_id)}</span>'
    section = f"#{trace_anchor(trace_id)}" if trace_id in ctx.trace_sections else None
    url = ctx.trace_link(trace_id, span_id)
    if url:
        outside = f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{label}</a>'
        if section and span_id is None:
            outside += f' <a class="sec" href="{section}" title="this trace in the report">§</a>'
        return outside
    if section:
        return f'<a href="{section}" title="this trace in the report">{label}</a>'
    return label


def _names(values: Sequence[str], limit: int | None = None) -> str:
    if not values:
        return "—"
    shown = list(values) if limit is None else list(values)[:limit]
    text = ", ".join(f"<code>{esc(v)}</code>" for v in shown)
    if limit is not None and len(values) > limit:
        text += f" +{len(values) - limit}"
    return text


def _badges(f: Finding) -> str:
    return (
        f'<span class="badge sev sev-{esc(f.severity)}">{esc(f.severity)}</span> '
        f'<span class="badge status status-{esc(f.status)}">{esc(f.status)}</span>'
    )


# -- charts ------------------------------------------------------------------------------------------------


def bar_labels(findings: Sequence[Finding], limit: int = BAR_LABEL_CHARS) -> dict[str, str]:
    """A short name per finding, distinct within ``findings``, at most ``limit`` characters: what fails,
    where and whose (``write repeat · charge_card · travel-agent``) from its fix key, else its title; a
    name shared by two findings (or cut to the same text) ends with the finding's id."""
    def name(f: Finding) -> str:
        key = f.key or {}
        parts = [(key.get("mechanism") or "").replace("_", " "), key.get("subject") or "", key.get("agent") or ""]
        text = " · ".join(p for p in parts if p)
        return text or " ".join(_CODE_SPAN.sub(lambda m: m.group(2), f.title).split())

    def cut(text: str, room: int) -> str:
        return text if len(text) <= room else text[: room - 1].rstrip() + "…"

    labels = {f.fingerprint: cut(name(f), limit) for f in findings}
    counts: dict[str, int] = {}
    for label in labels.values():
        counts[label] = counts.get(label, 0) + 1
    twins = [f.fingerprint for f in findings if counts[labels[f.fingerprint]] > 1]
    idents = short_ids(twins)
    for f in findings:
        if f.fingerprint in idents:
            ident = idents[f.fingerprint]
            labels[f.fingerprint] = f"{cut(name(f), max(limit - len(ident) - 1, 8))} {ident}"
    return labels


def bar_chart(ordered: Sequence[Finding]) -> str:
    """Horizontal bars: traces affected per finding (top :data:`MAX_CHART_BARS`), coloured by severity, each
    labelled by its rank and its own short name (:func:`bar_labels`)."""
    shown = list(ordered[:MAX_CHART_BARS])
    if not shown:
        return ""
    labels = bar_labels(shown)
    row, label_w, bar_w, width = 24, 340, 290, 760
    height = row * len(shown) + 8
    top = max((f.impact.traces for f in shown), default=0) or 1
    parts = [
        f'<svg class="chart" role="img" aria-label="Traces affected per finding" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for i, f in enumerate(shown):
        y = 4 + i * row
        rank = i + 1
        plain = _CODE_SPAN.sub(lambda m: m.group(2), f.title)
        title = labels[f.fingerprint]
        length = max(2.0, bar_w * f.impact.traces / top) if f.impact.traces else 0.0
        colour = f.severity if f.severity in SEVERITY_COLOURS else "other"
        value = f"{format_count(f.impact.traces)} traces ({format_share(f.impact.trace_share)})"
        parts.append(
            f'<a href="#{anchor(f.fingerprint)}"><g><title>{esc(f"#{rank} {plain}: {value}")}</title>'
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{esc(f"{rank}. {title}")}</text>'
            f'<rect class="bar-{colour}" x="{label_w}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" rx="2"/>'
            f'<text x="{label_w + length + 6:.1f}" y="{y + 15}">{esc(value)}</text></g></a>'
        )
    parts.append("</svg>")
    caption = f"Traces affected per finding (top {len(shown)} of {len(ordered)})" if len(ordered) > len(shown) \
        else "Traces affected per finding"
    return f'<figure class="panel"><figcaption class="meta">{esc(caption)}</figcaption>{"".join(parts)}</figure>'


def sparkline(history: Sequence[tuple[str, float]], width: int = 140, height: int = 32) -> str:
    """A small line of the finding's trace share across recent runs (oldest first)."""
    if not history:
        return ""
    values = [max(0.0, float(share)) for _, share in history]
    top = max(values) or 1.0
    pad = 3
    step = (width - 2 * pad) / max(1, len(values) - 1)
    points = [
        (pad + i * step if len(values) > 1 else width / 2, height - pad - (height - 2 * pad) * v / top)
        for i, v in enumerate(values)
    ]
    label = "; ".join(f"{run}: {format_share(share)}" for run, share in history)
    poly = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    last_x, last_y = points[-1]
    return (
        f'<svg class="spark" role="img" aria-label="{esc("Share of traces in recent runs: " + label)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f"<title>{esc('Share of traces in recent runs — ' + label)}</title>"
        f'<polyline points="{poly}"/><circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2.5"/></svg>'
    )


def timeline_chart(timeline: Sequence[tuple[int, int]], width: int = 240, height: int = 40) -> str:
    """Bars of a finding's signals per time bucket across the window (oldest first)."""
    if not timeline:
        return ""
    top = max(count for _, count in timeline) or 1
    step = width / len(timeline)
    bars = []
    for i, (start, count) in enumerate(timeline):
        h = (height - 2) * count / top
        bars.append(f'<rect x="{i * step + 0.5:.1f}" y="{height - 1 - h:.1f}" width="{max(step - 1, 1):.1f}" '
                    f'height="{h:.1f}"><title>{esc(f"{format_ns(start)}: {count} signal(s)")}</title></rect>')
    label = f"Signals over the window, {format_ns(timeline[0][0])} onwards, {len(timeline)} buckets"
    return (
        f'<svg class="timeline" role="img" aria-label="{esc(label)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{"".join(bars)}'
        f'<line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}"/></svg>'
    )


# -- document ----------------------------------------------------------------------------------------------


def render_html(findings: Iterable[Finding], ctx: ReportContext) -> str:
    ordered = order_findings(findings)
    body: list[str] = [
        "<header>",
        "<h1>tracemine report</h1>",
        f'<div class="meta">Window {esc(window_text(ctx))} · archive <code>{esc(ctx.archive or "—")}</code> · '
        f"generated {esc(format_ns(ctx.generated_ns))} by tracemine {esc(ctx.version)}</div>",
        '<div class="facts">',
        _fact("findings", format_count(len(ordered))),
        _fact("traces in window", format_count(ctx.traces)),
        _fact("spans in window", format_count(ctx.spans)),
        _fact("traces cited by findings", format_count(affected_traces(ordered))),
        "</div>",
        f'<div class="meta">Detectors: {_names(ctx.detectors)}</div>',
        "</header>",
    ]
    if not ordered:
        body.append(f'<p class="panel empty">{esc(NO_FINDINGS)}</p>')
    else:
        if ctx.overview:
            body.append(f'<section class="panel overview"><h2>Overview</h2>{html_prose(ctx.overview)}</section>')
        body += _themes(ordered, ctx)
        body.append(bar_chart(ordered))
        body += _filters(ordered)
        body += _table(ordered)
        body += _breakdown(ordered)
        for rank, f in enumerate(ordered, 1):
            body += _card(rank, f, ctx)
        body += _trace_sections(ordered, ctx)
    body += _resolved(ctx)
    body += _fixes(ctx, {f.fingerprint for f in ordered})
    body += _footer(ctx)
    title = f"tracemine report — {len(ordered)} finding(s), {window_text(ctx)}"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_csp()}">',  # a constant: no quotes to escape
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="referrer" content="no-referrer">',
            f"<title>{esc(title)}</title>",
            f"<style>{CSS}</style>",
            "</head>",
            "<body>",
            "<main>",
            *body,
            "</main>",
            f"<script>{JS}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def write_html(findings: Iterable[Finding], ctx: ReportContext, path: str | Path) -> Path:
    """Write ``report.html`` to ``path`` (parent folders are created; written whole or not at all, see
    :mod:`tracemine.report.atomic`) and return the path."""
    out = Path(path)
    make_dir(out.parent)
    write_text(out, render_html(findings, ctx))
    return out


def _fact(label: str, value: str) -> str:
    return f'<div class="fact"><b>{esc(value)}</b><span class="meta">{esc(label)}</span></div>'


def _data_attrs(f: Finding) -> str:
    text = " ".join([f.title, f.fingerprint, *f.kinds, *f.tools, *f.agents, *f.models]).lower()
    return (
        f'data-fp="{esc(f.fingerprint)}" data-severity="{esc(f.severity)}" data-status="{esc(f.status)}" '
        f'data-text="{esc(text)}"'
    )


def _filters(ordered: Sequence[Finding]) -> list[str]:
    severities = [s for s in SEVERITY_COLOURS if any(f.severity == s for f in ordered)]
    statuses = sorted({f.status for f in ordered})
    sev_opts = "".join(f'<option value="{esc(s)}">{esc(s)}</option>' for s in severities)
    st_opts = "".join(f'<option value="{esc(s)}">{esc(s)}</option>' for s in statuses)
    return [
        '<div class="filters" id="filters" hidden>',
        '<input id="f-q" type="search" placeholder="filter by title, tool, kind, fingerprint…" '
        'aria-label="filter findings">',
        f'<select id="f-sev" aria-label="severity"><option value="">any severity</option>{sev_opts}</select>',
        f'<select id="f-status" aria-label="status"><option value="">any status</option>{st_opts}</select>',
        "</div>",
    ]


def _table(ordered: Sequence[Finding]) -> list[str]:
    rows = [
        '<section class="panel">',
        "<h2>Ranked findings</h2>",
        "<table>",
        '<thead><tr><th class="num">#</th><th>severity</th><th>finding</th><th class="num">traces affected</th>'
        '<th class="num">share</th><th>status</th><th>tools</th><th class="num">score</th></tr></thead>',
        "<tbody>",
    ]
    for rank, f in enumerate(ordered, 1):
        rows.append(
            f'<tr class="sev-{esc(f.severity)}" {_data_attrs(f)}><td class="num">{rank}</td>'
            f'<td><span class="badge sev">{esc(f.severity)}</span></td>'
            f'<td><a href="#{anchor(f.fingerprint)}">{_inline(f.title)}</a></td>'
            f'<td class="num">{format_count(f.impact.traces)}</td>'
            f'<td class="num">{esc(format_share(f.impact.trace_share))}</td>'
            f'<td><span class="badge status status-{esc(f.status)}">{esc(f.status)}</span></td>'
            f"<td>{_names(f.tools, 3)}</td><td class=\"num\">{f.score:.3g}</td></tr>"
        )
    rows += ["</tbody>", "</table>", "</section>"]
    return rows


def _id_details(items: list[str], total: int, noun: str, limit: int) -> list[str]:
    lines = [f"<details><summary>All {noun} ({total:,})</summary>", '<ul class="ids">']
    lines += [f"<li>{item}</li>" for item in items[:limit]]
    lines.append("</ul>")
    if total > limit:
        lines.append(f'<p class="meta">… and {total - limit:,} more (every id is in findings.json)</p>')
    lines.append("</details>")
    return lines


def _card(rank: int, f: Finding, ctx: ReportContext) -> list[str]:
    imp = f.impact
    history = ctx.history_of(f.fingerprint)
    spark = ""
    if f.timeline:
        spark += f'<div class="meta">signals over the window<br>{timeline_chart(f.timeline)}</div>'
    if history:
        spark += f'<div class="meta">share in recent runs<br>{sparkline(history)}</div>'
    lines = [
        f'<section class="card sev-{esc(f.severity)}" id="{anchor(f.fingerprint)}" {_data_attrs(f)}>',
        "<header><div>",
        f"<h2>{rank}. {_inline(f.title)}</h2>",
        f'<div>{_badges(f)} <span class="meta">kinds {_names(f.kinds)} · fingerprint '
        f"<code>{esc(f.fingerprint)}</code> · score {f.score:.3g} · summary by {esc(f.summariser)}</span></div>",
        f"</div>{spark}</header>",
        '<div class="impact">',
        f"<span><b>{format_count(imp.traces)}</b> of {format_count(imp.window_traces)} traces "
        f"({esc(format_share(imp.trace_share))})</span>",
        f"<span><b>{format_count(imp.signals)}</b> signals</span>",
        f"<span><b>{format_count(imp.tokens_wasted)}</b> tokens wasted</span>",
        f"<span><b>{esc(format_ms(imp.latency_wasted_ms))}</b> latency wasted</span>",
        f"<span><b>{esc(format_usd(imp.cost_wasted_usd))}</b> cost wasted</span>",
        "</div>",
        "<h3>Summary</h3>",
        html_prose(f.summary),
        "<h3>Mechanism</h3>",
        html_prose(f.mechanism),
        "<h3>Recommended fix</h3>",
        html_prose(f.recommended_fix),
        '<dl class="kv">',
        f"<dt>tools</dt><dd>{_names(f.tools)}</dd>",
        f"<dt>agents</dt><dd>{_names(f.agents)}</dd>",
        f"<dt>models</dt><dd>{_names(f.models)}</dd>",
        f"<dt>first seen</dt><dd>{esc(format_ns(f.first_seen_ns))}</dd>",
        f"<dt>last seen</dt><dd>{esc(format_ns(f.last_seen_ns))}</dd>",
        f"<dt>clusters</dt><dd>{_names(f.cluster_ids, 10)}</dd>",
        *(f"<dt>fix key: {esc(label)}</dt><dd><code>{esc(f.key[part])}</code></dd>"
          for part, label in (("agent", "agent"), ("subject", "subject"), ("mechanism", "mechanism"),
                              ("family", "constraint / error")) if (f.key or {}).get(part)),
        *([f"<dt>outcome</dt><dd>{esc(outcome_text(f.outcome))}</dd>"] if f.outcome else []),
        *([f"<dt>fix</dt><dd>{fix_html(f.fix)}</dd>"] if f.fix else []),
        *([f'<dt>theme</dt><dd><a href="#{anchor(f.theme_id)}"><code>{esc(f.theme_id)}</code></a></dd>']
          if f.theme_id else []),
        "</dl>",
    ]
    if f.exemplars:
        lines.append("<h3>Exemplars</h3>")
        lines.append("<ol>")
        for ex in f.exemplars[:MAX_EXEMPLARS]:
            spans = ", ".join(_link(ctx, ex.trace_id, s) for s in ex.span_ids) or "—"
            cause = f" · cause (LLM call) {_link(ctx, ex.trace_id, ex.cause_span_id)}" if ex.cause_span_id else ""
            lines.append(
                f"<li>trace {_link(ctx, ex.trace_id)} · symptom spans {spans}{cause}"
                f"<pre>{esc(truncate(ex.excerpt, MAX_EXCERPT_CHARS))}</pre></li>"
            )
        lines.append("</ol>")
        if len(f.exemplars) > MAX_EXEMPLARS:
            lines.append(
                f'<p class="meta">… and {len(f.exemplars) - MAX_EXEMPLARS} more exemplar(s) in findings.json</p>'
            )
    lines += _id_details([_link(ctx, t) for t in f.trace_ids[:MAX_TRACE_IDS]], len(f.trace_ids),
                         "affected traces", MAX_TRACE_IDS)
    if f.span_ids:
        lines += _cited_spans(f, ctx)
    lines.append("</section>")
    return lines


def _cited_spans(f: Finding, ctx: ReportContext) -> list[str]:
    """"All cited spans", one line per trace: the trace id (linked) and the spans cited in it."""
    groups = [(t, list(spans)) for t, spans in ctx.cited_spans.get(f.fingerprint, ())]
    if not groups:  # reports rendered without the archive: what the exemplars say, then the rest
        for ex in f.exemplars:
            if ex.span_ids and ex.trace_id not in {t for t, _ in groups}:
                groups.append((ex.trace_id, list(ex.span_ids)))
    placed = {s for _, spans in groups for s in spans}
    rest = [s for s in f.span_ids if s not in placed]
    shown, items = 0, []
    for trace_id, spans in groups:
        if shown >= MAX_SPAN_IDS:
            break
        spans = spans[: MAX_SPAN_IDS - shown]
        shown += len(spans)
        items.append(f"trace {_link(ctx, trace_id)}: " + ", ".join(_link(ctx, trace_id, s) for s in spans))
    if rest and shown < MAX_SPAN_IDS:
        items.append("trace not recorded: " + ", ".join(f'<span class="id">{esc(s)}</span>'
                                                          for s in rest[: MAX_SPAN_IDS - shown]))
    traces = len(groups) + (1 if rest else 0)
    lines = [f"<details><summary>All cited spans ({len(f.span_ids):,} in {traces:,} "
             f"trace{'' if traces == 1 else 's'})</summary>", '<ul class="spans">']
    lines += [f"<li>{item}</li>" for item in items]
    lines.append("</ul>")
    if len(f.span_ids) > MAX_SPAN_IDS:
        lines.append(f'<p class="meta">… and {len(f.span_ids) - MAX_SPAN_IDS:,} more (every id is in findings.json)</p>')
    lines.append("</details>")
    return lines


def _trace_sections(ordered: Sequence[Finding], ctx: ReportContext) -> list[str]:
    """The cited traces as ``tracemine show`` prints them, each with an anchor its ids link to."""
    if not ctx.trace_sections:
        return []
    ranks: dict[str, list[str]] = {}
    for rank, f in enumerate(ordered, 1):
        for trace_id in f.trace_ids:
            ranks.setdefault(trace_id, []).append(f'<a href="#{anchor(f.fingerprint)}">#{rank}</a>')
    out = ['<section class="panel traces" id="traces"><h2>Cited traces</h2>',
           f'<p class="meta">{len(ctx.trace_sections):,} of the cited traces as <code>tracemine show</code> prints '
           "them (redacted; ▶ marks the spans a detector flagged, ◆ the LLM call that caused it).</p>"]
    for trace_id, text in ctx.trace_sections.items():
        cited_by = ", ".join(ranks.get(trace_id, [])) or "—"
        external = ctx.trace_link(trace_id)
        outside = (f' · <a href="{esc(external)}" target="_blank" rel="noopener noreferrer">open in the trace '
                   "viewer</a>") if external else ""
        out += [
            f'<article id="{trace_anchor(trace_id)}">',
            f'<h3>trace <span class="id">{esc(trace_id)}</span></h3>',
            f'<div class="meta">cited by {cited_by} · <code>{esc(command("show", trace_id, db=ctx.archive))}</code>'
            f"{outside}</div>",
            f"<pre>{esc(text)}</pre>",
            "</article>",
        ]
    out.append("</section>")
    return out


def _themes(ordered: Sequence[Finding], ctx: ReportContext) -> list[str]:
    """Cross-cutting patterns above the findings, each linking to its findings."""
    if not ctx.themes:
        return []
    ranks = {f.fingerprint: rank for rank, f in enumerate(ordered, 1)}
    out = ['<section class="panel themes"><h2>Themes</h2>',
           '<p class="meta">One mechanism in several findings (agents, tools); each finding below is one fix.</p>']
    for n, t in enumerate(ctx.themes, 1):
        members = ", ".join(f'<a href="#{anchor(fp)}">#{ranks[fp]}</a>' for fp in t.findings if fp in ranks)
        share = format_share(t.traces / t.window_traces) if t.window_traces else "—"
        reach = ", ".join(f"<code>{esc(a)}</code> ({c})" for a, c in t.agents)
        tools = ", ".join(f"<code>{esc(a)}</code> ({c})" for a, c in t.tools[:12])
        out += [
            f'<article id="{anchor(t.theme_id)}" class="sev-{esc(t.severity)}">',
            f"<h3>T{n}. {_inline(t.title)}</h3>",
            f'<div class="meta">theme <code>{esc(t.theme_id)}</code> · {esc(t.severity)} · '
            f"{format_count(t.traces)} traces ({esc(share)}) · findings {members or '—'}</div>",
            html_prose(t.summary),
            f"<p><b>Fix for all of them:</b> {_inline(t.recommended_fix)}</p>",
            f'<dl class="kv"><dt>agents</dt><dd>{reach or "—"}</dd><dt>tools</dt><dd>{tools or "—"}</dd></dl>',
            "</article>",
        ]
    out.append("</section>")
    return out


def _breakdown(ordered: Sequence[Finding]) -> list[str]:
    """Reported findings and affected traces per agent and per tool."""
    from tracemine.report.jsonout import breakdown

    rows = breakdown(list(ordered))
    out = ['<section class="panel breakdown"><h2>By agent and tool</h2><dl class="kv">']
    for label, key in (("agents", "agents"), ("tools", "tools")):
        items = ", ".join(f"<code>{esc(r['name'])}</code> {r['findings']} finding(s), {format_count(r['traces'])} "
                          "trace(s)" for r in rows[key])
        out.append(f"<dt>{label}</dt><dd>{items or '—'}</dd>")
    out.append("</dl></section>")
    return out


def _resolved(ctx: ReportContext) -> list[str]:
    """The findings this run resolves, once each: when they were last found and for how many runs not."""
    if not ctx.resolved:
        return []
    out = ['<section class="panel resolved" id="resolved"><h2>Resolved</h2>',
           '<p class="meta">Reported by earlier runs and not found since (listed in this report only).</p><ul>']
    for note in ctx.resolved:
        out.append(f'<li id="{anchor(note.fingerprint)}"><span class="badge status status-resolved">resolved</span> '
                   f"<code>{esc(note.fingerprint)}</code> {_inline(note.title)} — {esc(resolved_text(note))}</li>")
    out.append("</ul></section>")
    return out


def fix_html(fix: Mapping[str, Any]) -> str:
    """A fix verdict: status badge, rates and test, the note and a link to the change."""
    out = (f'<span class="badge fix fix-{esc(fix["status"])}">{esc(fix["status"])}</span> '
           f"{esc(fix_text(fix))}")
    if fix.get("note"):
        out += f" · {_inline(fix['note'])}"
    if fix.get("ref"):
        out += f' · <a href="{esc(fix["ref"])}" rel="noopener noreferrer nofollow">change</a>'
    return out


def _fixes(ctx: ReportContext, shown: set[str]) -> list[str]:
    """Every recorded fix and this run's verdict, found in this run or not (a fixed mode may be gone)."""
    if not ctx.fixes:
        return []
    out = ['<section class="panel fixes" id="fixes"><h2>Fixes</h2>',
           '<p class="meta">Fixes recorded with <code>tracemine fix</code>, and the share of traces with each '
           "finding before and after its fix.</p><ul>"]
    for fix in ctx.fixes:
        fingerprint = f"<code>{esc(fix['fingerprint'])}</code>"
        if fix["fingerprint"] in shown:
            fingerprint = f'<a href="#{anchor(fix["fingerprint"])}">{fingerprint}</a>'
        out.append(f"<li>{fingerprint} {_inline(fix.get('title') or '')}{esc(fix_place(fix, shown))} — "
                   f"{fix_html(fix)}</li>")
    legend = "".join(f"<li><b>{esc(name)}</b> — {esc(meaning)}</li>" for name, meaning in FIX_LEGEND)
    out.append(f"</ul><ul class=\"meta\">{legend}</ul></section>")
    return out


def _footer(ctx: ReportContext) -> list[str]:
    legend = "".join(f"<li><b>{esc(name)}</b> — {esc(meaning)}</li>" for name, meaning in STATUS_LEGEND)
    return [
        "<footer>",
        f"<p><b>LLM usage:</b> {esc(llm_usage_text(ctx))}</p>",
        "<p><b>Fingerprints.</b> A fingerprint names a failure mode, not a run: the same failure keeps its "
        "fingerprint across runs and windows, so it links this report to earlier ones, to findings.json and to "
        "tracker issues. Status compares it with earlier runs:</p>",
        f"<ul>{legend}</ul>",
        f"<p>Generated by tracemine {esc(ctx.version)} · {esc(format_ns(ctx.generated_ns))}</p>",
        "</footer>",
    ]
