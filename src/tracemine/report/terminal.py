"""Rich terminal output for the CLI commands."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from tracemine.formatting import format_bytes, format_count, format_ms, format_ns, short_ids
from tracemine.model import Severity
from tracemine.placeholders import readable
from tracemine.report.columns import Col, layout
from tracemine.report.hints import command
from tracemine.report.redacted import line as safe_line
from tracemine.timewindow import Window


def print_ingest_report(console: Console, report: Any, db: str, quiet: bool = False) -> None:
    rate = f" ({report.spans_per_second:,.0f} spans/s)" if report.seconds > 0 else ""
    summary = Text(  # three lines, each wrapped to the console width (a long archive path wraps last)
        f"ingested {format_count(report.spans_inserted)} new spans from {report.files_read} file(s) "
        f"in {report.seconds:.1f}s{rate} into {db}\n"
        f"{format_count(report.duplicate_spans)} duplicate spans, "
        f"{format_count(getattr(report, 'id_clashes', 0))} reused-id spans kept apart\n"
        f"{report.files_skipped} file(s) already ingested, "
        f"{format_count(report.rejected)} record(s) rejected"
    )
    if quiet:
        console.print(summary, soft_wrap=False)
        return
    if report.files:
        table = Table(title="Files", show_lines=False)
        table.add_column("file", overflow="fold")
        table.add_column("size", justify="right")
        table.add_column("formats")
        table.add_column("spans", justify="right")
        table.add_column("rejected", justify="right")
        for f in report.files[:50]:
            formats = ", ".join(f"{k} ({v:,})" for k, v in sorted(f["formats"].items())) or "—"
            table.add_row(f["path"], format_bytes(f["size"]), formats, format_count(f["spans"]),
                          format_count(f["rejected"]))
        if len(report.files) > 50:
            table.caption = f"… and {len(report.files) - 50} more files"
        console.print(table)
    if report.ignored:
        console.print(f"[dim]ignored in directories (not trace files by name): "
                      f"{', '.join(p.name for p in report.ignored[:10])}{' …' if len(report.ignored) > 10 else ''}[/dim]")
    if report.skipped:
        console.print(f"[dim]skipped (already ingested): {', '.join(report.skipped[:10])}"
                      f"{' …' if len(report.skipped) > 10 else ''}[/dim]")
    console.print(summary, soft_wrap=False)
    if report.repaired:
        console.print(f"[yellow]{report.repaired} record(s) had invalid UTF-8 replaced and were kept[/yellow]")
    if report.rejected:
        console.print(Text(f"{report.rejected} rejected record(s); list them with:", style="yellow"), soft_wrap=False)
        console.print(Text("  " + command("stats", "--quarantine", db=db), style="cyan"), soft_wrap=True)
        for record in report.quarantine[:5]:
            console.print(f"  [dim]{escape(safe_line(f'{record.file}:{record.locator}: {record.reason}'))}[/dim]")


def stats_as_dict(stats: Any, window: Window, anchor: Any = None) -> dict[str, Any]:
    data = asdict(stats) if is_dataclass(stats) else dict(stats)
    data["window"] = {"since_ns": window.since_ns, "until_ns": window.until_ns}
    if anchor is not None:
        data["anchor"] = anchor.as_dict()
    data["first"] = format_ns(stats.first_ns)
    data["last"] = format_ns(stats.last_ns)
    return data


def print_stats(console: Console, stats: Any, window: Window, db: str, anchor: Any = None) -> None:
    table = Table(title=f"Archive {db}", show_header=False)
    table.add_column("what")
    table.add_column("value", overflow="fold")
    table.add_row("window", window.describe())
    if anchor is not None:
        table.add_row("window anchor", _anchor_text(anchor))
    table.add_row("spans", format_count(stats.spans))
    table.add_row("traces", format_count(stats.traces))
    table.add_row("error spans", format_count(stats.error_spans))
    table.add_row("time range", f"{format_ns(stats.first_ns)} → {format_ns(stats.last_ns)}")
    table.add_row("formats", ", ".join(f"{k} ({v:,})" for k, v in stats.formats.items()) or "—")
    table.add_row("span kinds", ", ".join(f"{k} ({v:,})" for k, v in stats.kinds.items()) or "—")
    table.add_row("files ingested", format_count(stats.files))
    quarantined = format_count(stats.quarantined)
    if stats.quarantine_reasons:
        quarantined += " — " + ", ".join(f"{k} ({v:,})" for k, v in list(stats.quarantine_reasons.items())[:5])
    table.add_row("quarantined records", quarantined)
    console.print(table)


def _anchor_text(anchor: Any) -> Text:
    """Where --window ends without --until, and the future-dated spans it ignored (in yellow)."""
    text = Text(format_ns(anchor.ns) if anchor.ns is not None else "none (no spans)")
    text.append(" (newest span not after now + ingest.future_tolerance_seconds)", style="dim")
    if anchor.ignored_spans:
        text.append(f"; ignored {anchor.ignored_spans:,} span(s) of {anchor.ignored_traces:,} trace(s) timed after "
                    f"{format_ns(anchor.limit_ns)}, the newest at {format_ns(anchor.ignored_newest_ns)}",
                    style="yellow")
    return text


def print_quarantine(console: Console, records: list[Any], total: int) -> None:
    """One line per rejected record, ``file:locator: reason``, so the list can be grepped and clicked."""
    if not records:
        console.print("no quarantined records")
        return
    console.print(f"[bold]Quarantined records[/bold] ({len(records):,} of {total:,} shown)")
    for r in records:
        line = escape(safe_line(f"{r.file}:{r.locator}: {r.reason}"))
        if r.excerpt:
            excerpt = safe_line(r.excerpt, 80)  # redacted before the cut (older archives stored it raw)
            line += f"  [dim]| {escape(excerpt)}[/dim]"
        console.print(line, soft_wrap=True)


def print_synth_result(console: Console, result: Any, out_dir: Path) -> None:
    labels: dict[str, dict[str, int]] = result.labels
    total = sum(sum(modes.values()) for modes in labels.values())
    console.print(
        f"wrote {format_count(result.traces)} traces / {format_count(result.spans)} spans to {out_dir} "
        f"({len(result.files)} file(s), {result.spans_per_second:,.0f} spans/s) and "
        f"{result.labels_file.name} with {format_count(total)} labels"
    )
    if labels:
        table = Table(title="Injected failures (labels.jsonl)")
        table.add_column("kind")
        table.add_column("labels", justify="right")
        table.add_column("modes", overflow="fold")
        for kind, modes in sorted(labels.items()):
            table.add_row(kind, format_count(sum(modes.values())),
                          ", ".join(f"{m} ({c:,})" for m, c in sorted(modes.items())))
        console.print(table)


def print_detect_report(console: Console, report: Any, out_path: str | None = None, top: int = 25) -> None:
    """Signals by detector, then the largest groups by detector and tool (or model)."""
    from collections import Counter, defaultdict

    def label(signal: Any) -> str:
        return signal.detector if signal.kind == signal.detector else f"{signal.detector}/{signal.kind}"

    def severities(signals: list[Any]) -> str:
        counts = Counter(s.severity for s in signals)
        def most_severe_first(kv: tuple[str, int]) -> int:
            rank = Severity.rank(kv[0])
            return len(Severity) - 1 - rank if rank >= 0 else 9

        return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items(), key=most_severe_first))

    by_detector: dict[str, list[Any]] = defaultdict(list)
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for signal in report.signals:
        evidence = signal.evidence or {}
        subject = evidence.get("tool") or evidence.get("model") or evidence.get("group") or "—"
        by_detector[label(signal)].append(signal)
        groups[(label(signal), safe_line(subject, 120))].append(signal)
    window = report.window.describe() if report.window else "all time"
    table = Table(title=f"Signals by detector — {report.traces:,} traces, {window}")
    for name, justify in (("detector", "left"), ("signals", "right"), ("traces", "right"), ("severity", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for name, signals in sorted(by_detector.items(), key=lambda kv: -len(kv[1])):
        table.add_row(name, format_count(len(signals)), format_count(len({s.trace_id for s in signals})),
                      severities(signals))
    console.print(table)
    if groups:
        detail = Table(title=f"Largest groups by tool / model (top {min(top, len(groups))} of {len(groups)})")
        for name, justify in (("detector", "left"), ("tool / model", "left"), ("signals", "right"),
                              ("traces", "right"), ("severity", "left")):
            detail.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
        for (name, subject), signals in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:top]:
            detail.add_row(name, subject, format_count(len(signals)), format_count(len({s.trace_id for s in signals})),
                           severities(signals))
        console.print(detail)
    summary = f"{len(report.signals):,} signals from {len(report.detectors)} detector(s) in {report.seconds:.1f}s"
    if report.detect_id is not None:
        summary += f"; stored as detection run {report.detect_id}"
    if out_path:
        summary += f"; written to {out_path}"
    console.print(summary)
    for name, count in report.errors.items():
        console.print(f"[yellow]{name}: {count} trace(s) failed in the detector — {escape(safe_line(report.error_examples.get(name, '')))}[/yellow]")


def print_clusters(console: Console, result: Any, signals: list[Any] | None, top: int = 20) -> None:
    """Parent groups (largest first) with their leaves: kind, size, traces, keywords and an exemplar."""
    subject = result.subject
    parents = sorted(result.parents, key=lambda n: (-n.size, n.id))
    title = (f"{subject.capitalize()}: {result.n_items:,} items in {len(result.leaves):,} clusters, "
             f"{len(parents):,} groups, {len(result.unclustered):,} unclustered")
    table = Table(title=title, show_lines=True)
    table.add_column("kind")
    table.add_column("size", justify="right")
    table.add_column("traces", justify="right")
    table.add_column("leaves", justify="right")
    table.add_column("keywords / exemplar", overflow="fold")
    for node in parents[:top]:
        exemplar = safe_line(readable(node.exemplar_texts[0]), 160) if node.exemplar_texts else ""  # no <num>
        tools = safe_line(", ".join(t for t, _ in node.tools[:3])) if node.tools else ""
        text = f"[bold]{escape(safe_line(', '.join(node.keywords[:6])))}[/bold]"
        if tools:
            text += f"  [dim]({escape(tools)})[/dim]"
        text += f"\n{escape(exemplar)}"
        table.add_row(node.kind, format_count(node.size), format_count(node.traces),
                      format_count(len([c for c in node.children if result.nodes[c].level == "leaf"])), text)
    if len(parents) > top:
        table.caption = f"… {len(parents) - top} more groups"
    console.print(table)


SEVERITY_STYLE = {Severity.CRITICAL: "bold red", Severity.HIGH: "red", Severity.MEDIUM: "yellow", Severity.LOW: "cyan"}
FIX_STYLE = {"fix-verified": "bold green", "fix-not-effective": "bold red", "awaiting-data": "yellow",
             "regressed": "bold red"}


def _print_fixes(console: Console, fixes: Any, shown: set[str]) -> None:
    """One entry per recorded fix: its verdict, fingerprint and title, then the rates and the test."""
    from tracemine.report.markdown import fix_place, fix_text

    for fix in fixes:
        line = Text()
        line.append(f"{fix['status']} ", style=FIX_STYLE.get(fix["status"], ""))
        line.append(f"{fix['fingerprint']} {short_title(fix.get('title') or '')}{fix_place(fix, shown)}")
        _wrapped(console, line)
        _wrapped(console, Text(fix_text(fix), style="dim"), indent=len(fix["status"]) + 1)


STATUS_STYLE = {"new": "bold magenta", "regressed": "bold red", "resolved": "green"}
SHORT_SEVERITY = {Severity.CRITICAL: "crit", Severity.HIGH: "high", Severity.MEDIUM: "med", Severity.LOW: "low"}
WIDE = 100
"""From this width on, severity and status are spelled out and fingerprints shown whole."""
WIDER = 140
"""From this width on, every waste figure is shown (tokens, latency, cost), not only the key one."""
_COUNTS = re.compile(r"\s*\(\d[\d,]* traces?(?:, [<\d.,]+ ?%)?\)\s*$")


def short_title(title: str) -> str:
    """A title for one terminal line: no Markdown backticks, no trailing ``(N traces, x %)`` (the row shows
    the count in its own column), whitespace collapsed."""
    return " ".join(_COUNTS.sub("", title.replace("`", "")).split())


def waste_figures(impact: Any, every: bool = True) -> list[str]:
    """What a finding wasted: tokens, latency and cost; with ``every=False`` only the key figure (cost
    from a cent, else latency, else tokens)."""
    from tracemine.report.markdown import format_usd

    figures = {
        "cost": format_usd(impact.cost_wasted_usd) if impact.cost_wasted_usd >= 0.0001 else "",
        "latency": format_ms(impact.latency_wasted_ms) if impact.latency_wasted_ms >= 1 else "",
        "tokens": f"{_compact(impact.tokens_wasted)} tok" if impact.tokens_wasted else "",
    }
    if every:
        return [figures[k] for k in ("tokens", "latency", "cost") if figures[k]]
    if impact.cost_wasted_usd >= 0.01:
        return [figures["cost"]]
    return [next((figures[k] for k in ("latency", "tokens", "cost") if figures[k]), "—")]


def _compact(count: int | float) -> str:
    """``980``, ``25.2k``, ``1.3M``: a count in at most six characters."""
    if count >= 999_500:
        return f"{count / 1e6:.1f}M"
    if count >= 10_000:
        return f"{count / 1e3:.1f}k"
    return f"{count:,.0f}"


def _wrapped(console: Console, text: str | Text, indent: int = 0, style: str = "") -> None:
    """Prose wrapped to the console width (the console is soft-wrapping by default)."""
    line = text if isinstance(text, Text) else Text(text, style=style)
    if not indent:
        console.print(line, soft_wrap=False)
        return
    for part in line.wrap(console, max(console.width - indent, 20)):
        part.rstrip()
        console.print(Text(" " * indent) + part, soft_wrap=True)


def _hint(console: Console, label: str, commands: Sequence[str]) -> None:
    """A label, then each command on its own line, never broken (so it can be pasted whole)."""
    _wrapped(console, label, style="dim")
    for cmd in commands:
        console.print(Text("  " + cmd, style="cyan"), soft_wrap=True)


def print_findings(console: Console, result: Any, details: bool = False) -> None:
    """The ranked findings of a ``mine`` run, one line each (fitted to the console width: more columns
    when it is wider), its themes above them, then the run's figures, report files and the commands that
    open a finding or a trace. ``details`` adds each finding's full title, where it happens and its fix."""
    from tracemine.report.markdown import format_share, llm_usage_text, text_sparkline

    ctx = result.context
    findings = result.findings
    width = console.width
    wide = width >= WIDE
    header = Text()
    header.append("tracemine", style="bold")
    header.append(f" — {format_count(ctx.traces)} traces, {format_count(ctx.spans)} spans, {_window(ctx)}")
    _wrapped(console, header)
    if not findings:
        _wrapped(console, "No recurring failures found in this window.", style="green")
    else:
        ranks = {f.fingerprint: rank for rank, f in enumerate(findings, 1)}
        _print_themes(console, ctx, ranks, details)
        ids = {f.fingerprint: f.fingerprint for f in findings} if wide else short_ids([f.fingerprint for f in findings])
        columns = [Col("#", "right"), Col("severity" if wide else "sev"), Col("status"), Col("traces", "right"),
                   Col("share", "right", drop=3), Col("trend", drop=4), Col("waste", "right"),
                   Col("finding", flex=True, min_width=max(32, width // 2)), Col("kinds", drop=5), Col("id" if not wide else "fingerprint")]
        rows = []
        for rank, f in enumerate(findings, 1):
            shares = [share for _, share in ctx.history_of(f.fingerprint)]
            rows.append([
                str(rank),
                Text(f.severity if wide else SHORT_SEVERITY.get(f.severity, f.severity),
                     style=SEVERITY_STYLE.get(f.severity, "")),
                Text(f.status, style=STATUS_STYLE.get(f.status, "dim")),  # spelled out: people grep for it
                format_count(f.impact.traces), format_share(f.impact.trace_share),
                Text(text_sparkline(shares)) if len(shares) > 1 else Text("first run", style="dim"),
                ", ".join(waste_figures(f.impact, every=width >= WIDER)) or "—",
                short_title(f.title), Text(", ".join(f.kinds), style="dim"), Text(ids[f.fingerprint], style="dim"),
            ])
        for line in layout(columns, rows, width):
            console.print(line, soft_wrap=True)
        if details:
            _print_details(console, findings, ctx)
        if ctx.overview:
            overview = ctx.overview if details else _first_sentence(ctx.overview)
            _wrapped(console, overview)
    from tracemine.report.markdown import resolved_text

    for note in getattr(ctx, "resolved", ()):
        line = Text()
        line.append("resolved ", style="green")
        line.append(f"{note.fingerprint} {short_title(note.title)}")
        _wrapped(console, line)
        _wrapped(console, Text(resolved_text(note), style="dim"), indent=9)
    _print_fixes(console, getattr(ctx, "fixes", ()), {f.fingerprint for f in findings})
    stats = result.stats
    more = stats.get("findings", 0) - stats.get("reported", 0)
    citations = stats.get("citations", {})
    stage_text = ", ".join(f"{k} {v:.1f}s" for k, v in stats.get("stages", {}).items())
    # one clause a line: each fits 80 columns, so a phrase is never broken across lines
    _wrapped(console,
             f"{format_count(stats.get('signals', 0))} signals → {format_count(stats.get('findings', 0))} findings"
             + (f" ({more} more below the cut: --max-findings)" if more > 0 else ""))
    if stats.get("signals_outside_window"):
        _wrapped(console, f"{format_count(stats['signals_outside_window'])} signals outside the window left out "
                          "(traces crossing its edge)")
    _wrapped(console, f"{format_count(citations.get('verified', 0))} cited spans verified in the archive"
             + (f", {citations.get('dropped')} dropped (not in the archive)" if citations.get("dropped") else ""))
    _wrapped(console, llm_usage_text(ctx))
    _wrapped(console, f"stages: {stage_text}", style="dim")
    for kind, path in result.outputs.items():
        console.print(Text(f"{kind}: {path}"), soft_wrap=True)
    if findings:
        top = findings[0]
        commands = [command("show", top.fingerprint, db=ctx.archive)]
        if top.exemplars:
            commands.append(command("show", top.exemplars[0].trace_id, db=ctx.archive))
        what = "#1 and a trace it cites" if top.exemplars else "#1"
        more_text = "" if details else "--details, or "
        _hint(console, f"details: {more_text}open {what} ({'any id above works' if wide else 'short ids work too'}):",
              commands)


def _window(ctx: Any) -> str:
    """The window as ``2026-10-25 → 2026-11-01`` (minutes when a bound is not midnight; ``all time``)."""
    if ctx.since_ns is None and ctx.until_ns is None:
        return "all time"
    bounds = [format_ns(ctx.since_ns)[:16], format_ns(ctx.until_ns)[:16]]
    if all(b.endswith(" 00:00") for b in bounds):
        bounds = [b[:10] for b in bounds]
    return " → ".join(bounds)


def _first_sentence(text: str) -> str:
    head = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    return head


def _print_details(console: Console, findings: Sequence[Any], ctx: Any) -> None:
    """``mine --details``: per finding its full title, figures, where it happens, its fix and its ``show``."""
    from tracemine.report.markdown import format_share

    for rank, f in enumerate(findings, 1):
        console.print()
        head = Text()
        head.append(f"#{rank} ", style="bold")
        head.append(f.severity, style=SEVERITY_STYLE.get(f.severity, ""))
        head.append(" · ")
        head.append(f.status, style=STATUS_STYLE.get(f.status, "dim"))
        head.append(f" · {f.fingerprint}", style="dim")
        _wrapped(console, head)
        _wrapped(console, Text(f.title.replace("`", ""), style="bold"), indent=3)
        facts = (f"{format_count(f.impact.traces)} of {format_count(f.impact.window_traces)} traces "
                 f"({format_share(f.impact.trace_share)}), {format_count(f.impact.signals)} "
                 f"signal{'' if f.impact.signals == 1 else 's'}; wasted "
                 f"{', '.join(waste_figures(f.impact)) or 'nothing measured'}; kinds {', '.join(f.kinds)}")
        _wrapped(console, Text(facts, style="dim"), indent=3)
        where = "; ".join(f"{label} {', '.join(values[:5])}" + (f" +{len(values) - 5}" if len(values) > 5 else "")
                          for label, values in (("tools", f.tools), ("agents", f.agents), ("models", f.models))
                          if values)
        if where:
            _wrapped(console, Text(where, style="dim"), indent=3)
        if f.recommended_fix:
            _wrapped(console, Text("fix: " + f.recommended_fix.replace("`", "")), indent=3)
        console.print(Text("   " + command("show", f.fingerprint, db=ctx.archive), style="cyan"), soft_wrap=True)


def _print_themes(console: Console, ctx: Any, ranks: dict[str, int], details: bool = False) -> None:
    """Themes above the findings, one line each: number, its findings' ranks, title, traces (and the
    theme id when there is room); ``details`` adds each theme's shared fix."""
    if not ctx.themes:
        return
    _wrapped(console, Text("Themes (one mechanism in several findings; each finding is one fix)", style="bold"))
    rows = []
    for n, theme in enumerate(ctx.themes, 1):
        members = [f"#{ranks[fp]}" for fp in theme.findings if fp in ranks]
        shown = members if len(members) <= 5 else [*members[:4], f"+{len(members) - 4}"]
        rows.append([f"T{n}", " ".join(shown), short_title(theme.title), format_count(theme.traces),
                     Text(theme.theme_id, style="dim")])
    columns = [Col("", "left"), Col("findings"), Col("theme", flex=True, min_width=44), Col("traces", "right"),
               Col("id", drop=1)]
    for line in layout(columns, rows, console.width):
        console.print(line, soft_wrap=True)
    if details:
        for n, theme in enumerate(ctx.themes, 1):
            if theme.recommended_fix:
                fix = theme.recommended_fix.replace("`", "").removeprefix("One change for all of them: ")
                _wrapped(console, Text(f"T{n} fix: {fix}", style="dim"), indent=1)


def print_runs(console: Console, runs: list[Any], db: str | None = None) -> None:
    """``tracemine runs``: one line per mine run, newest first, fitted to the console width (the window's
    start, status counts, LLM calls and duration are shown when there is room)."""
    if not runs:
        _hint(console, "no mine runs in this archive yet; run:", [command("mine", "PATH", db=db)])
        return
    width = console.width
    full = width >= 120
    notes = any(getattr(r, "note", None) for r in runs)
    columns = [Col("run", "right"), Col("started"), Col("window", drop=5), Col("days", "right", drop=8),
               Col("traces", "right"), Col("signals", "right", drop=6), Col("found", "right"),
               Col("reported" if full else "rep", "right"), Col("new", "right"), Col("recurring" if full else "recur", "right", drop=4),
               Col("regressed" if full else "regr", "right"), Col("resolved" if full else "gone", "right", drop=3),
               Col("LLM calls" if full else "LLM", "right", drop=7), Col("seconds" if full else "s", "right", drop=9)]
    if notes:
        columns.append(Col("note", flex=True, min_width=16))
    rows = []
    for r in runs:
        bounded = r.since_ns is not None and r.until_ns is not None
        window = _window(r) if r.since_ns is not None or r.until_ns is not None else "all"
        empty = getattr(r, "status", "ok") == "empty"
        row: list[Text | str] = [
            str(r.run_id), format_ns(r.started_ns)[:16], window,
            f"{(r.until_ns - r.since_ns) / 86_400e9:.1f}" if bounded else "—", format_count(r.traces),
            format_count(r.signals), Text("empty", style="yellow") if empty else format_count(r.findings),
            "" if empty else format_count(r.reported), str(r.statuses["new"]), str(r.statuses["recurring"]), str(r.statuses["regressed"]),
            str(r.statuses["resolved"]), str(r.llm_calls), f"{r.seconds:.1f}"]
        if notes:
            row.append(Text(getattr(r, "note", None) or "", style="dim"))
        rows.append(row)
    for line in layout(columns, rows, width):
        console.print(line, soft_wrap=True)


def print_diff(console: Console, diff: Any) -> None:
    """``tracemine diff A B``: what the runs *found* (above and below their report cut) compared — findings
    that appeared and disappeared, those found in both that crossed the report cut (rose above it, dropped
    below it), and the change of share of those found in both and reported by either; one line each, each
    count printed once, fitted to the console width."""
    from tracemine.report.markdown import format_share

    width = console.width
    ranks_a, ranks_b = getattr(diff, "ranks_a", {}), getattr(diff, "ranks_b", {})
    rose, fell = getattr(diff, "rose", []), getattr(diff, "fell", [])

    def rank(ranks: dict[str, tuple[int, bool]], fingerprint: str) -> str:
        if fingerprint not in ranks:
            return "—"
        number, reported = ranks[fingerprint]
        return f"#{number}" if reported else f"#{number} (cut)"

    _wrapped(console, Text(f"run {diff.run_a} → run {diff.run_b}: {len(diff.appeared)} appeared, "
                           f"{len(diff.disappeared)} disappeared, {len(diff.changed)} in both ({len(rose)} rose "
                           f"above the report cut, {len(fell)} dropped below it)", style="bold"))
    _wrapped(console, "compared by what each run found, above and below its report cut (--max-findings); "
                      "#N (cut): found at rank N, below the cut", style="dim")
    rows = []
    for label, colour, items in (("appeared", "magenta", [(None, f) for f in diff.appeared]),
                                 ("disappeared", "green", [(f, None) for f in diff.disappeared]),
                                 ("above cut", "magenta", rose), ("below cut", "yellow", fell)):
        for a, b in items:
            f = b or a
            rows.append([Text(label, style=colour), f.fingerprint, rank(ranks_a, f.fingerprint),
                         rank(ranks_b, f.fingerprint), f.severity, format_count(f.impact.traces),
                         format_share(f.impact.trace_share), short_title(f.title)])
    if rows:
        columns = [Col(""), Col("fingerprint"), Col(f"run {diff.run_a}", "right", drop=1),
                   Col(f"run {diff.run_b}", "right", drop=1), Col("severity", drop=2), Col("traces", "right"),
                   Col("share", "right", drop=3), Col("finding", flex=True, min_width=24)]
        for line in layout(columns, rows, width):
            console.print(line, soft_wrap=True)
    shown = [(a, b) for a, b in diff.changed
             if ranks_a.get(a.fingerprint, (0, True))[1] or ranks_b.get(b.fingerprint, (0, True))[1]]
    if shown:
        _wrapped(console, Text("in both runs, reported by either (share of traces)", style="bold"))
        both = []
        for a, b in shown:
            delta = b.impact.trace_share - a.impact.trace_share
            both.append([b.fingerprint, format_share(a.impact.trace_share), format_share(b.impact.trace_share),
                         ("+" if delta >= 0 else "−") + format_share(abs(delta)), short_title(b.title)])
        columns = [Col("fingerprint"), Col(f"run {diff.run_a}", "right"), Col(f"run {diff.run_b}", "right"),
                   Col("change", "right"), Col("finding", flex=True, min_width=24)]
        for line in layout(columns, both, width):
            console.print(line, soft_wrap=True)
    hidden = len(diff.changed) - len(shown)
    if hidden:
        _wrapped(console, Text(f"{hidden} more found in both runs, below the report cut in both", style="dim"))
