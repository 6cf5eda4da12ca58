"""Rich terminal output for the CLI commands."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tracemine.report.format import format_bytes, format_count, format_ns
from tracemine.report.redacted import line as safe_line
from tracemine.timewindow import Window


def print_ingest_report(console: Console, report: Any, db: str, quiet: bool = False) -> None:
    rate = f"{report.spans_per_second:,.0f} spans/s" if report.seconds > 0 else ""
    summary = (
        f"ingested {format_count(report.spans_inserted)} new spans from {report.files_read} file(s) "
        f"into {db} in {report.seconds:.1f}s ({rate}); "
        f"{format_count(report.duplicate_spans)} duplicate spans, {report.files_skipped} file(s) already ingested, "
        f"{format_count(report.rejected)} record(s) rejected"
    )
    if quiet:
        console.print(summary)
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
    console.print(summary)
    if report.repaired:
        console.print(f"[yellow]{report.repaired} record(s) had invalid UTF-8 replaced and were kept[/yellow]")
    if report.rejected:
        console.print(f"[yellow]{report.rejected} rejected record(s): see `tracemine stats --quarantine`[/yellow]")
        for record in report.quarantine[:5]:
            console.print(f"  [dim]{escape(safe_line(f'{record.file}:{record.locator}: {record.reason}'))}[/dim]")


def stats_as_dict(stats: Any, window: Window) -> dict[str, Any]:
    data = asdict(stats) if is_dataclass(stats) else dict(stats)
    data["window"] = {"since_ns": window.since_ns, "until_ns": window.until_ns}
    data["first"] = format_ns(stats.first_ns)
    data["last"] = format_ns(stats.last_ns)
    return data


def print_stats(console: Console, stats: Any, window: Window, db: str) -> None:
    table = Table(title=f"Archive {db}", show_header=False)
    table.add_column("what")
    table.add_column("value", overflow="fold")
    table.add_row("window", window.describe())
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
        order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
        return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items(), key=lambda kv: order.get(kv[0], 9)))

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
        exemplar = safe_line(node.exemplar_texts[0], 160) if node.exemplar_texts else ""
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


def print_findings(console: Console, result: Any) -> None:
    """The ranked findings of a ``mine`` run as a table, then the run's figures and report files."""
    from tracemine.report.markdown import (
        format_ms,
        format_share,
        format_usd,
        llm_usage_text,
        text_sparkline,
        window_text,
    )

    ctx = result.context
    findings = result.findings
    console.print(
        f"[bold]tracemine[/bold] — {format_count(ctx.traces)} traces, {format_count(ctx.spans)} spans, "
        f"window {escape(window_text(ctx))}"
    )
    if not findings:
        console.print("[green]No recurring failures found in this window.[/green]")
    else:
        _print_themes(console, ctx, findings)
        table = Table(show_lines=False, expand=True)
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("severity", no_wrap=True)
        table.add_column("finding", ratio=6)
        table.add_column("traces", justify="right", no_wrap=True)
        table.add_column("trend", no_wrap=True)
        table.add_column("waste", justify="right", ratio=1)
        table.add_column("fingerprint", no_wrap=True)
        colours = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}
        for rank, f in enumerate(findings, 1):
            impact = f.impact
            waste = []
            if impact.tokens_wasted:
                waste.append(f"{format_count(impact.tokens_wasted)} tok")
            if impact.latency_wasted_ms:
                waste.append(format_ms(impact.latency_wasted_ms))
            if impact.cost_wasted_usd:
                waste.append(format_usd(impact.cost_wasted_usd))
            colour = colours.get(f.severity, "white")
            status_colour = {"new": "bold magenta", "regressed": "bold red"}.get(f.status, "dim")
            shares = [share for _, share in ctx.history_of(f.fingerprint)]
            table.add_row(
                str(rank), f"[{colour}]{escape(f.severity)}[/{colour}]\n[{status_colour}]{escape(f.status)}[/]",
                f"{escape(f.title)}\n[dim]{escape(', '.join(f.kinds))} · {escape(', '.join(f.tools[:3]) or '—')}[/dim]",
                f"{format_count(impact.traces)}\n[dim]{format_share(impact.trace_share)}[/dim]",
                escape(text_sparkline(shares)) if len(shares) > 1 else "[dim]first run[/dim]",
                "\n".join(waste) or "—", escape(f.fingerprint),
            )
        console.print(table)
        if ctx.overview:
            console.print(escape(ctx.overview))
    for f in result.resolved:
        console.print(f"[green]resolved[/green] {escape(f.fingerprint)} {escape(f.title)}")
    stats = result.stats
    more = stats.get("findings", 0) - stats.get("reported", 0)
    citations = stats.get("citations", {})
    stage_text = ", ".join(f"{k} {v:.1f}s" for k, v in stats.get("stages", {}).items())
    console.print(
        f"{format_count(stats.get('signals', 0))} signals → {format_count(stats.get('findings', 0))} findings"
        + (f" ({more} more below the cut: --max-findings)" if more > 0 else "")
        + f"; {format_count(citations.get('verified', 0))} cited spans verified in the archive"
        + (f", {citations.get('dropped')} dropped (not in the archive)" if citations.get("dropped") else "")
    )
    console.print(f"{escape(llm_usage_text(ctx))}; {stage_text}")
    for kind, path in result.outputs.items():
        console.print(f"{kind}: {escape(str(path))}")
    if result.findings:
        console.print(f"[dim]verify a citation: tracemine show TRACE_ID --db {escape(ctx.archive)}; "
                      f"a finding: tracemine show FINGERPRINT[/dim]")


def _print_themes(console: Console, ctx: Any, findings: list[Any]) -> None:
    """Themes above the findings table: id, title, the ranks of its findings, the shared fix."""
    if not ctx.themes:
        return
    ranks = {f.fingerprint: rank for rank, f in enumerate(findings, 1)}
    console.print("[bold]Themes[/bold] (one mechanism in several findings; each finding is one fix)")
    for n, theme in enumerate(ctx.themes, 1):
        members = ", ".join(f"#{ranks[fp]}" for fp in theme.findings if fp in ranks)
        console.print(f"T{n} [dim]{escape(theme.theme_id)}[/dim] {escape(theme.title)} — findings {members}")
        if theme.recommended_fix:
            console.print(f"   [dim]fix: {escape(theme.recommended_fix[:300])}[/dim]")


def print_runs(console: Console, runs: list[Any]) -> None:
    """``tracemine runs``: one row per mine run, newest first."""
    if not runs:
        console.print("no mine runs in this archive yet: run `tracemine mine`")
        return
    table = Table()
    for name, justify in (("run", "right"), ("started", "left"), ("window", "left"), ("traces", "right"),
                          ("signals", "right"), ("findings", "right"), ("new", "right"), ("recurring", "right"),
                          ("regressed", "right"), ("resolved", "right"), ("LLM calls", "right"), ("seconds", "right")):
        table.add_column(name, justify=justify, no_wrap=True)
    for r in runs:
        window = f"{format_ns(r.since_ns)[:16]} → {format_ns(r.until_ns)[:16]}" if r.since_ns or r.until_ns else "all"
        table.add_row(str(r.run_id), format_ns(r.started_ns)[:19], escape(window), format_count(r.traces),
                      format_count(r.signals), "empty" if r.status == "empty" else f"{r.reported}/{r.findings}",
                      str(r.statuses["new"]),
                      str(r.statuses["recurring"]), str(r.statuses["regressed"]), str(r.statuses["resolved"]),
                      str(r.llm_calls), f"{r.seconds:.1f}")
    console.print(table)


def print_diff(console: Console, diff: Any) -> None:
    """``tracemine diff A B``: findings that appeared, disappeared, and changed share between two runs."""
    from tracemine.report.markdown import format_share

    console.print(f"[bold]run {diff.run_a} → run {diff.run_b}[/bold]: {len(diff.appeared)} appeared, "
                  f"{len(diff.disappeared)} disappeared, {len(diff.changed)} in both")
    for label, colour, items in (("appeared", "magenta", diff.appeared), ("disappeared", "green", diff.disappeared)):
        for f in items:
            console.print(f"[{colour}]{label:11s}[/{colour}] {escape(f.fingerprint)} [{escape(f.severity)}] "
                          f"{escape(f.title)} ({format_count(f.impact.traces)} traces, "
                          f"{format_share(f.impact.trace_share)})")
    if diff.changed:
        table = Table(title="in both runs")
        for name in ("fingerprint", "finding", f"share run {diff.run_a}", f"share run {diff.run_b}", "change"):
            table.add_column(name)
        for a, b in diff.changed:
            delta = b.impact.trace_share - a.impact.trace_share
            table.add_row(escape(b.fingerprint), escape(b.title), format_share(a.impact.trace_share),
                          format_share(b.impact.trace_share),
                          ("+" if delta >= 0 else "−") + format_share(abs(delta)))
        console.print(table)
