"""The ``tracemine`` command line. Heavy libraries (torch, sentence-transformers, litellm) are imported
inside the commands that need them, never at start-up."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from tracemine import __version__
from tracemine.cli_plugins import plugins_command
from tracemine.cli_publishers import PublisherName, PublisherOptionsCommand, option_values
from tracemine.config import ConfigError, Settings, load_settings
from tracemine.model import FindingStatus, Severity
from tracemine.report.hints import command
from tracemine.store import DEFAULT_DB

EXIT_USAGE = 2
EXIT_FAIL_ON = 3
EXIT_PUBLISH = 4
EXIT_EMPTY = 5
EXIT_WRITE = 6
FAIL_ON = ("new", "new-high", "regressed", "high", "any")
HIGH = (Severity.HIGH, Severity.CRITICAL)


def fail_matches(finding: Any, conditions: tuple[str, ...]) -> bool:
    """Whether a reported finding meets a ``--fail-on`` condition: ``new`` / ``regressed`` (status: ``new`` is
    never reported by an earlier run, see :func:`tracemine.history.assign_statuses`), ``new-high`` (new or
    regressed, severity high or critical), ``high`` (any high or critical), ``any``."""
    fresh = finding.status in (FindingStatus.NEW, FindingStatus.REGRESSED)
    checks = {
        "new": finding.status == FindingStatus.NEW,
        "regressed": finding.status == FindingStatus.REGRESSED,
        "new-high": fresh and finding.severity in HIGH,
        "high": finding.severity in HIGH,
        "any": True,
    }
    return any(checks[c] for c in conditions)


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _check_paths(paths: tuple[str, ...]) -> None:
    """Fail on a path that names nothing before the archive is opened (no empty archive left behind)."""
    from tracemine.ingest.sources import SourceError, check_paths

    try:
        check_paths(paths)
    except SourceError as exc:
        _fail(str(exc))


def _resolve_window(ctx: click.Context, store: Any, spec: Any) -> Any:
    """``spec`` (a :class:`~tracemine.timewindow.WindowSpec`) resolved against the archive's window anchor:
    its newest span not beyond now + ingest.future_tolerance_seconds; one warning when spans beyond that
    were ignored. Raises :class:`~tracemine.timewindow.WindowError`."""
    from tracemine.timewindow import find_anchor

    anchor = find_anchor(store, _settings(ctx).ingest.future_tolerance_seconds)
    resolved = spec.resolve(anchor)
    if spec.uses_anchor:
        _warn_anchor(anchor)
    return resolved


def _warn_anchor(anchor: Any) -> None:
    """The anchor's warning on stderr, when it ignored spans (see :func:`tracemine.timewindow.find_anchor`)."""
    text = anchor.warning() if anchor is not None else None
    if text:
        click.echo(f"Warning: {text}", err=True)


def _redactor(ctx: click.Context) -> Any:
    """The configured :class:`~tracemine.redact.Redactor` (the ``redact`` section)."""
    from tracemine.redact import Redactor

    try:
        return Redactor.from_settings(_settings(ctx).model_extra.get("redact"))
    except ValueError as exc:
        _fail(f"redact settings: {exc}")
        raise


def _open_store(db: str, read_only: bool = False, wait: float = 0.0) -> Any:
    """Open the archive, turning "another process holds it" and "not a DuckDB file" into clear errors.

    DuckDB lets one process write a file at a time; with ``wait`` > 0 a second run waits up to that many
    seconds for the first to finish instead of failing at once."""
    import time

    import duckdb

    from tracemine.store import Store

    deadline = time.monotonic() + max(wait, 0.0)
    while True:
        try:
            return Store(db, read_only=read_only)
        except duckdb.IOException as exc:
            text = str(exc)
            if "could not set lock" in text.lower() or "conflicting lock" in text.lower():
                if time.monotonic() < deadline:
                    time.sleep(min(1.0, max(deadline - time.monotonic(), 0.05)))
                    continue
                _fail(f"{db} is in use by another tracemine process; wait for it to finish or pass --wait SECONDS "
                      f"({text.splitlines()[0]})")
            _fail(f"cannot open {db}: {text.splitlines()[0]}")
        except (duckdb.Error, RuntimeError) as exc:
            _fail(f"cannot open {db}: {str(exc).splitlines()[0]}")
        raise AssertionError("unreachable")


db_option = click.option(
    "--db",
    type=click.Path(dir_okay=False),
    default=DEFAULT_DB,
    show_default=True,
    envvar="TRACEMINE_DB",
    help="DuckDB archive file.",
)


def window_options(func: Any) -> Any:
    func = click.option("--until", help="End of the window (ISO date/time, exclusive).")(func)
    func = click.option("--since", help="Start of the window (ISO date/time).")(func)
    func = click.option(
        "--window", help="Window length ending at --until or at the newest span, e.g. 7d, 24h, 2w."
    )(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="tracemine")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False),
    envvar="TRACEMINE_CONFIG",
    help="YAML settings overlaid on the defaults (configs/default.yaml).",
)
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """Mine LLM-agent traces for recurring failures: loops, duplicate tool calls, silent failures,
    invalid tool arguments, unrecovered errors and outliers — each finding citing its traces and spans."""
    try:
        ctx.obj = {"settings": load_settings(config_path)}
    except ConfigError as exc:
        _fail(str(exc))


@main.command()
@click.argument("paths", nargs=-1, required=True)
@db_option
@click.option("--workers", type=int, help="Reader processes (default: one per core).")
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary line.")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[str, ...], db: str, workers: int | None, quiet: bool) -> None:
    """Read trace files (files, directories, globs; .gz too) into the archive.

    Formats are detected per file and per JSON-lines record. Parquet partitions written by `tracemine
    export --parquet` (a folder, files, globs or a filesystem URL) are read back as the rows they were
    written from, as `tracemine mine DIR` reads them. Files already ingested (same content) are
    skipped, duplicate spans are stored once, and every rejected record is kept in the quarantine
    (see `tracemine stats --quarantine`).
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from tracemine.backends import LocalBackend
    from tracemine.ingest.sources import SourceError
    from tracemine.pipeline import MineError

    settings = _settings(ctx).ingest
    if workers is not None:
        settings = settings.model_copy(update={"workers": max(workers, 0)})
    _check_paths(paths)
    console = _console()
    try:
        with _open_store(db) as store, Progress(
            TextColumn("ingest"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
            console=console, transient=True, disable=quiet,
        ) as bar:
            task = bar.add_task("ingest", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = LocalBackend().ingest(list(paths), store, settings, progress)
    except (SourceError, MineError) as exc:
        _fail(str(exc))
        return
    from tracemine.report.terminal import print_ingest_report

    print_ingest_report(console, report, db, quiet=quiet)


@main.command(cls=PublisherOptionsCommand)
@click.argument("paths", nargs=-1)
@db_option
@window_options
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="tracemine-report", show_default=True,
              help="Folder for findings.json, report.md and report.html.")
@click.option("--llm", "llm", metavar="MODEL",
              help="litellm model for summaries (e.g. gpt-4o-mini, ollama/llama3.1); offline summaries without one.")
@click.option("--max-findings", type=click.IntRange(min=1), help="Findings to report (default: mine.max_findings, 20).")
@click.option("--publish", "trackers", multiple=True, type=PublisherName(),
              help="Publish the reported findings to an issue tracker or other registered publisher (repeatable); "
                   "see `tracemine publish` and `tracemine plugins`.")
@click.option("--dry-run", is_flag=True, help="With --publish: print what would be sent, send nothing.")
@click.option("--fail-on", "fail_on", type=click.Choice(FAIL_ON), multiple=True,
              help="Exit with code 3 when a finding of this kind appears (for CI gates; repeatable).")
@click.option("--wait", type=click.FloatRange(min=0), default=0, show_default=True,
              help="Seconds to wait for another run holding the archive before giving up.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@click.option("--details", is_flag=True,
              help="After the one-line-per-finding table, each finding's full title, figures, fix and `show` command.")
@click.option("--backend", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Who runs ingest, detect and embed per trace shard: this process, or Ray tasks (pip install "
                   "'tracemine[ray]'). The findings are the same.")
@click.option("--ray-address", metavar="ADDRESS",
              help="Ray cluster for --backend ray: auto, ray://HOST:10001 (default: RAY_ADDRESS, else a local Ray).")
@click.pass_context
def mine(
    ctx: click.Context, paths: tuple[str, ...], db: str, window: str | None, since: str | None, until: str | None,
    out_dir: str, llm: str | None, max_findings: int | None, trackers: tuple[str, ...], dry_run: bool,
    fail_on: tuple[str, ...], wait: float, quiet: bool, backend: str = "local", ray_address: str | None = None,
    details: bool = False, **publisher_options: Any,
) -> None:
    """Find recurring failures: ingest PATHS (if given), detect, embed, cluster, summarise, rank, report.

    Prints the ranked findings and writes findings.json, report.md and report.html to --out. Each finding
    cites the trace and span ids it came from (checked against the archive): open one with
    `tracemine show TRACE_ID`. Runs offline unless --llm (or summarise.llm.model) names a model. Each
    finding is compared with earlier runs of the archive (new, recurring, regressed; resolved ones listed).

    Exit codes: 0 done; 2 bad input or options, an LLM that fails its preflight (unknown model, missing
    key), or the archive is held by another run; 3 a --fail-on condition was met; 4 publishing failed for
    at least one finding; 5 empty run: the window held no traces or the input no trace record (recorded
    as `empty`, not compared with other runs); 6 the reports could not be written (e.g. a full disk; the
    previous reports are left whole).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tracemine.ingest.sources import SourceError
    from tracemine.pipeline import MineError, check_llm, run_mine
    from tracemine.report.atomic import ReportWriteError, check_out_dir
    from tracemine.report.terminal import print_findings
    from tracemine.timewindow import WindowError, WindowSpec

    if not paths and not Path(db).exists():
        _fail(f"no archive at {db}: give trace files to read, or run `{command('ingest', 'PATH', db=db)}` first")
    _check_paths(paths)
    if ray_address and backend != "ray":
        _fail("--ray-address needs --backend ray")
    try:
        check_out_dir(out_dir)  # an unwritable --out is said now, not after the whole run
    except ReportWriteError as exc:
        _fail(f"--out: {exc}")
    try:
        check_llm(_settings(ctx), llm)  # before the archive is opened or any work is done
    except MineError as exc:
        _fail(str(exc))
    if backend == "ray":
        from tracemine.backends import BackendError, get_backend

        try:
            engine: Any = get_backend("ray", ray_address, (_settings(ctx).model_extra or {}).get("backend"))
            engine.start()  # Ray missing or unreachable: said now, before any work
        except BackendError as exc:
            _fail(str(exc))
    else:
        engine = "local"
    spec = WindowSpec(window, since, until)
    try:
        spec.validate()
    except WindowError as exc:
        _fail(str(exc))
    console = _console()
    with _open_store(db, wait=wait) as store, Progress(
        TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True, disable=quiet,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                for other in tasks.values():  # earlier stages are done
                    bar.update(other, completed=bar.tasks[other].total or 1, total=bar.tasks[other].total or 1)
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            result = run_mine(store, _settings(ctx), spec, paths, llm, max_findings, out_dir, progress,
                              backend=engine)
        except (SourceError, MineError, WindowError) as exc:
            _fail(str(exc))
            return
        except ReportWriteError as exc:
            click.echo(f"Error: {exc} (the reports in {out_dir} are left as they were; run not recorded)", err=True)
            sys.exit(EXIT_WRITE)
        if result.ingest is not None:
            from tracemine.report.terminal import print_ingest_report

            print_ingest_report(console, result.ingest, db, quiet=True)
        if spec.uses_anchor:
            _warn_anchor(result.anchor)
        if result.status == "empty":
            _empty_run(result, db)
        print_findings(console, result, details=details)
        published_ok = True
        if trackers:
            from tracemine.publish import publish_run

            report = publish_run(store, _settings(ctx), result.run_id, list(trackers), dry_run=dry_run,
                                 console=console, options=option_values(publisher_options))
            published_ok = report.ok
    gate = [f for f in result.findings if fail_matches(f, fail_on)]
    if gate:
        console.print(f"[bold red]--fail-on {', '.join(fail_on)}: {len(gate)} finding(s)[/bold red] "
                      + ", ".join(f.fingerprint for f in gate[:10]))
        sys.exit(EXIT_FAIL_ON)
    if not published_ok:
        sys.exit(EXIT_PUBLISH)


def _empty_run(result: Any, db: str) -> None:
    """One line on an empty run, with a pointer to the quarantine; exits with :data:`EXIT_EMPTY`."""
    import shlex

    where = "" if db == DEFAULT_DB else f" --db {shlex.quote(db)}"
    click.echo(f"Empty run {result.run_id} ({result.note}): nothing mined, reported or published, nothing "
               f"resolved; see tracemine stats --quarantine{where}", err=True)
    sys.exit(EXIT_EMPTY)


@main.command()
@db_option
@click.option("--limit", type=int, default=20, show_default=True, help="Runs to list (0 = all).")
def runs(db: str, limit: int) -> None:
    """List earlier `tracemine mine` runs of the archive: window, findings found and reported (above the
    --max-findings cut), reported new / recurring / regressed, findings resolved, LLM calls, duration."""
    from tracemine.history import list_runs
    from tracemine.report.terminal import print_runs

    if not Path(db).exists():
        _fail(f"no archive at {db}")
    with _open_store(db, read_only=True) as store:
        print_runs(_console(), list_runs(store, limit or None), db=db)


@main.command()
@click.argument("run_a", type=int)
@click.argument("run_b", type=int)
@db_option
def diff(run_a: int, run_b: int, db: str) -> None:
    """Compare what two runs found (see `tracemine runs`), above and below their report cut: appeared,
    disappeared, rose above or dropped below the report cut (--max-findings), changed share."""
    from tracemine.history import diff_runs
    from tracemine.report.terminal import print_diff

    if not Path(db).exists():
        _fail(f"no archive at {db}")
    with _open_store(db, read_only=True) as store:
        try:
            result = diff_runs(store, run_a, run_b)
        except LookupError as exc:  # a run it does not know: the hint names this archive
            _fail(str(exc.args[0]).replace("`tracemine runs`", f"`{command('runs', db=db)}`"))
            return
    print_diff(_console(), result)


@main.command()
@db_option
@click.option("--older-than", "older_than", required=True, help="Drop spans older than this, e.g. 30d, 12w.")
@click.option("--dry-run", is_flag=True, help="Count what would be dropped, drop nothing.")
@click.option("--wait", type=click.FloatRange(min=0), default=0, help="Seconds to wait for a run holding the archive.")
def prune(db: str, older_than: str, dry_run: bool, wait: float) -> None:
    """Drop whole traces older than --older-than (from now), keeping the run history, every trace cited by
    a finding of a run within that period (and of the latest run with findings) and the detection runs
    `tracemine show` takes kept traces' flags from, so kept findings stay verifiable."""
    from tracemine.retention import prune as prune_store
    from tracemine.timewindow import WindowError, parse_duration

    try:
        age = parse_duration(older_than)
    except WindowError as exc:
        _fail(str(exc))
        return
    if not Path(db).exists():
        _fail(f"no archive at {db}")
    with _open_store(db, wait=wait) as store:
        report = prune_store(store, age, dry_run=dry_run)
    click.echo("\n".join(report.lines()))


@main.command()
@db_option
@window_options
@click.option("--quarantine", "show_quarantine", is_flag=True, help="List rejected records with file, line and reason.")
@click.option("--limit", type=int, default=50, show_default=True, help="Rows of quarantine to list (0 = all).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def stats(
    ctx: click.Context, db: str, window: str | None, since: str | None, until: str | None, show_quarantine: bool,
    limit: int, as_json: bool,
) -> None:
    """Show what the archive holds: spans, traces, formats, time range, quarantined records, and the window
    anchor (where --window ends without --until: the newest span not beyond now +
    ingest.future_tolerance_seconds; spans timed beyond it are counted and ignored)."""
    from tracemine.report.terminal import print_quarantine, print_stats, stats_as_dict
    from tracemine.timewindow import WindowError, WindowSpec, find_anchor

    if not Path(db).exists():
        _fail(f"no archive at {db}: run `{command('ingest', 'PATH', db=db)}` first")
    with _open_store(db, read_only=True) as store:
        anchor = find_anchor(store, _settings(ctx).ingest.future_tolerance_seconds)
        try:
            resolved = WindowSpec(window, since, until).resolve(anchor)
        except WindowError as exc:
            _fail(str(exc))
            return
        archive = store.stats(resolved)
        records = store.quarantine(limit=None if limit == 0 else limit) if show_quarantine else []
    if as_json:
        import orjson

        _warn_anchor(anchor)
        payload = stats_as_dict(archive, resolved, anchor)
        if show_quarantine:
            from tracemine.report.redacted import quarantine_record

            payload["quarantine_records"] = [quarantine_record(r) for r in records]
        click.echo(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
        return
    console = _console()
    print_stats(console, archive, resolved, db, anchor)
    if show_quarantine:
        print_quarantine(console, records, archive.quarantined)


def _ingest_quietly(ctx: click.Context, paths: tuple[str, ...], store: Any, console: Any) -> None:
    """Ingest ``paths`` before another command runs on the archive (one summary line), as `tracemine
    ingest` does."""
    from tracemine.backends import LocalBackend
    from tracemine.ingest.sources import SourceError
    from tracemine.pipeline import MineError
    from tracemine.report.terminal import print_ingest_report

    try:
        report = LocalBackend().ingest(list(paths), store, _settings(ctx).ingest)
    except (SourceError, MineError) as exc:
        _fail(str(exc))
        return
    print_ingest_report(console, report, store.path, quiet=True)


@main.command()
@click.argument("paths", nargs=-1)
@db_option
@window_options
@click.option("--detectors", help="Comma-separated detector names (default: all). See `--list`.")
@click.option("--list", "list_only", is_flag=True, help="List the available detectors and exit.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), help="Also write the signals as JSON-lines.")
@click.pass_context
def detect(
    ctx: click.Context, paths: tuple[str, ...], db: str, window: str | None, since: str | None, until: str | None,
    detectors: str | None, list_only: bool, out_path: str | None,
) -> None:
    """Run the deterministic failure detectors over the archive (ingesting PATHS first, if given).

    Signals are stored in the archive for the later stages and, with --out, written as JSON-lines:
    {"detector", "kind", "trace_id", "span_ids", "severity", "evidence", "text", "cause_span_id", "agent"}
    (cause_span_id: the LLM call that decided the failure; agent: the agent that made it). Every text in
    them (text, evidence, agent) is redacted; ids are kept.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from tracemine.detect.registry import UnknownDetector, available, detector_class
    from tracemine.detect.runner import run_detection
    from tracemine.report.terminal import print_detect_report
    from tracemine.timewindow import WindowError, WindowSpec

    if list_only:
        for name, target in available().items():
            cls = detector_class(name)
            doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
            click.echo(f"{name:18s} {doc}  [{target}]")
        return
    names = [n.strip() for n in detectors.split(",") if n.strip()] if detectors else None
    try:
        for name in names or ():
            detector_class(name)
    except UnknownDetector as exc:
        _fail(str(exc.args[0]))
    if not paths and not Path(db).exists():
        _fail(f"no archive at {db}: give trace files to read, or run `{command('ingest', 'PATH', db=db)}` first")
    _check_paths(paths)
    console = _console()
    with _open_store(db) as store:
        if paths:
            _ingest_quietly(ctx, paths, store, console)
        try:
            resolved = _resolve_window(ctx, store, WindowSpec(window, since, until))
        except WindowError as exc:
            _fail(str(exc))
            return
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=console, transient=True,
        ) as bar:
            task = bar.add_task("detect", total=None)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total)

            report = run_detection(store, resolved, names, _settings(ctx).detect, progress)
    if out_path:
        import orjson

        from tracemine.report.redacted import signal_record

        redactor = _redactor(ctx)
        with open(out_path, "wb") as fh:
            for signal in report.signals:
                fh.write(orjson.dumps(signal_record(signal, redactor), option=orjson.OPT_NON_STR_KEYS) + b"\n")
    print_detect_report(console, report, out_path)


@main.command()
@db_option
@window_options
@click.option("--trajectories/--no-trajectories", default=True, show_default=True,
              help="Also cluster the failing traces' trajectories.")
@click.option("--top", type=int, default=20, show_default=True, help="Parent groups to list.")
@click.pass_context
def cluster(
    ctx: click.Context, db: str, window: str | None, since: str | None, until: str | None, trajectories: bool, top: int,
) -> None:
    """Embed and cluster the stored signals into failure modes (a hierarchy: kind → group → leaf).

    Without a window, the latest `tracemine detect` run is clustered; with one, the detectors run on that
    window first. Vectors are cached in the archive: a second run embeds nothing new.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from tracemine.cluster import ClusterSettings, cluster_store
    from tracemine.detect.runner import run_detection
    from tracemine.embed import Embedder, embed_texts
    from tracemine.report.terminal import print_clusters
    from tracemine.timewindow import WindowError, WindowSpec

    if not Path(db).exists():
        _fail(f"no archive at {db}: run `{command('ingest', 'PATH', db=db)}` and `{command('detect', db=db)}` first")
    settings = _settings(ctx)
    try:
        embedder = Embedder.from_settings(settings.embed)
        cluster_settings = ClusterSettings.from_settings(settings.cluster)
    except ValueError as exc:
        _fail(str(exc))
        return
    console = _console()
    with _open_store(db) as store:
        if window or since or until:
            try:
                resolved = _resolve_window(ctx, store, WindowSpec(window, since, until))
            except WindowError as exc:
                _fail(str(exc))
                return
            run_detection(store, resolved, None, settings.detect)
        if store.latest_detect_id() is None:
            _fail(f"no detection run in the archive: run `{command('detect', db=db)}` first (or give --window)")
        with Progress(
            TextColumn("embed"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=console, transient=True,
        ) as bar:
            task = bar.add_task("embed", total=None)
            embed_stats: list[Any] = []

            def encode(texts: list[str]) -> Any:
                vectors = embed_texts(texts, store, embedder,
                                      progress=lambda done, total: bar.update(task, completed=done, total=total))
                embed_stats.append(embedder.last_stats)
                return vectors

            result = cluster_store(store, encode, cluster_settings, trajectories=trajectories,
                                   model=embedder.model_id)
        signals = store.signals()
    print_clusters(console, result.signals, signals, top=top)
    if result.trajectories is not None:
        print_clusters(console, result.trajectories, None, top=min(top, 10))
    for what, stats in zip(("signals", "trajectories"), embed_stats, strict=False):
        if stats is not None:
            console.print(f"embedding {what}: {stats.describe()}")


@main.command()
@click.argument("ident", metavar="ID")
@db_option
@click.option("--full", is_flag=True, help="Print arguments, results, inputs and events in full (not trimmed).")
@click.pass_context
def show(ctx: click.Context, ident: str, db: str, full: bool) -> None:
    """Show a trace as a tree with the spans detectors flagged, or a stored finding in full.

    ID is a trace id (normalised or as the source spelled it), a finding fingerprint, or a unique prefix
    of either (at least 8 characters for traces). Trace text is redacted before it is printed.
    """
    from tracemine.redact import Redactor
    from tracemine.report.show import (
        citing_finding,
        find_trace,
        missing_traces,
        print_candidates,
        print_finding,
        print_trace,
        trace_outcome,
        trace_signals,
    )

    try:
        redactor = Redactor.from_settings(_settings(ctx).model_extra.get("redact"))
    except ValueError as exc:
        _fail(f"redact settings: {exc}")
        return
    if not Path(db).exists():
        _fail(f"no archive at {db}: run `{command('ingest', 'PATH', db=db)}` first")
    console = _console()
    with _open_store(db, read_only=True) as store:
        found = find_trace(store, ident)
        if found.trace_id is not None:
            detect_id, signals = trace_signals(store, found.trace_id)
            print_trace(console, store.spans_of(found.trace_id), signals, redactor, full=full, detect_id=detect_id,
                        outcome=trace_outcome(store, found.trace_id), matched=found.how, db=db)
            return
        if found.candidates:
            print_candidates(console, ident, found.candidates, redactor)
            sys.exit(EXIT_USAGE)
        finding = None
        try:
            from tracemine.history import load_finding
        except ImportError:
            load_finding = None
        if load_finding is not None:
            try:
                finding = load_finding(store, ident.strip())
            except LookupError as exc:  # an ambiguous fingerprint prefix
                _fail(f"{exc}; give more characters")
        if finding is not None:
            print_finding(console, finding, redactor, db=db)
            from tracemine.fixes import list_fixes
            from tracemine.report.show import print_fix

            for record in list_fixes(store, finding.fingerprint):
                print_fix(console, record, redactor)
            gone = missing_traces(store, finding.trace_ids)
            if gone:
                console.print(f"{len(gone)} of its {len(finding.trace_ids)} cited trace(s) are no longer in the "
                              "archive: `tracemine prune` dropped them (it keeps the traces cited by runs since its "
                              "cutoff and by the latest run with findings)", style="dim")
            return
        cited = citing_finding(store, ident.strip())
    if cited is not None:
        import shlex

        where = "" if db == DEFAULT_DB else f" --db {shlex.quote(db)}"
        _fail(f"trace {ident.strip()!r} is no longer in {db}: `tracemine prune` dropped it; finding {cited[0]} of "
              f"mine run #{cited[1]} cites it (`tracemine show {cited[0]}{where}` prints the finding as stored)")
    _fail(f"no trace or finding matches {ident!r} in {db}")


@main.command("fix")
@click.argument("fingerprint", required=False)
@click.option("--at", "at", metavar="TIME",
              help="When the fix shipped: ISO date or date-time (UTC unless it says otherwise), `now`, or `2d ago`.")
@click.option("--note", help="What the fix was (shown in reports and tracker comments).")
@click.option("--ref", metavar="URL", help="Link to the change (pull request, commit, ticket): http(s) only.")
@click.option("--list", "list_only", is_flag=True, help="List the recorded fixes and the last run's verdict on each.")
@click.option("--remove", is_flag=True, help="Forget the recorded fix of FINGERPRINT.")
@click.option("--json", "as_json", is_flag=True, help="With --list: machine-readable output.")
@db_option
@click.option("--wait", type=click.FloatRange(min=0), default=0, help="Seconds to wait for a run holding the archive.")
@click.pass_context
def fix(ctx: click.Context, fingerprint: str | None, at: str | None, note: str | None, ref: str | None,
        list_only: bool, remove: bool, as_json: bool, db: str, wait: float) -> None:
    """Record that the fix of finding FINGERPRINT (or a unique prefix) shipped at --at.

    Every later `tracemine mine` compares the share of traces with the finding before and after that
    time (one-sided Fisher exact test) and reports fix-verified, fix-not-effective or awaiting-data (with
    the traces still needed); a verified finding found again becomes regressed and reopens its tracker
    issue. Recording a fix again updates it (a new time starts the verification afresh).
    """
    import orjson

    from tracemine.fixes import FixError, list_fixes, parse_fix_time, record_fix, remove_fix
    from tracemine.formatting import format_ns

    if not Path(db).exists():
        _fail(f"no archive at {db}: run `{command('mine', 'PATH', db=db)}` first")
    if list_only:
        if fingerprint or at or note or ref or remove:
            _fail("--list takes no FINGERPRINT, --at, --note, --ref or --remove")
        with _open_store(db, read_only=True, wait=wait) as store:
            records = list_fixes(store)
        if as_json:
            click.echo(orjson.dumps([record.as_dict() for record in records], option=orjson.OPT_INDENT_2).decode())
            return
        from tracemine.report.show import print_fix

        console = _console()
        if not records:
            console.print(f"no fix recorded in {db}: `tracemine fix FINGERPRINT --at TIME` records one")
        redactor = _redactor(ctx)
        for record in records:
            print_fix(console, record, redactor, heading=False)
        return
    if as_json:
        _fail("--json goes with --list")
    if not fingerprint:
        _fail("give the FINGERPRINT of the finding that was fixed (or --list)")
        return
    if remove:
        if at or note or ref:
            _fail("--remove takes no --at, --note or --ref")
        with _open_store(db, wait=wait) as store:
            try:
                removed = remove_fix(store, fingerprint)
            except (LookupError, FixError) as exc:
                _fail(f"{exc}")
                return
        click.echo(f"forgot the fix of {removed}")
        return
    if not at:
        _fail("--at TIME is required: when the fix shipped (e.g. 2026-12-03, 2026-12-03T14:00:00Z, now, 2d ago)")
        return
    try:
        at_ns = parse_fix_time(at)
        with _open_store(db, wait=wait) as store:
            full, updated = record_fix(store, fingerprint, at_ns, note, ref, _redactor(ctx))
    except FixError as exc:
        _fail(str(exc))
        return
    except LookupError as exc:  # an ambiguous prefix
        _fail(f"{exc}; give more characters")
        return
    verb = "updated the fix" if updated else "recorded the fix"
    click.echo(f"{verb} of {full} at {format_ns(at_ns)}; each later `tracemine mine` compares its traces "
               "before and after (tracemine fix --list, tracemine show)")


@main.command(cls=PublisherOptionsCommand)
@db_option
@click.option("--run", "run_id", type=click.IntRange(min=1), help="Mine run to publish (default: the latest).")
@click.option("--to", "trackers", multiple=True, type=PublisherName(),
              help="Tracker or other registered publisher to publish to (repeatable; default: every one configured, "
                   "under publish: or by its options).")
@click.option("--dry-run", is_flag=True, help="Print the requests that would be sent (credentials masked); send nothing.")
@click.pass_context
def publish(ctx: click.Context, db: str, run_id: int | None, trackers: tuple[str, ...], dry_run: bool,
            **publisher_options: Any) -> None:
    """Publish a mine run's findings to GitHub, GitLab, Jira or a webhook, one issue per finding.

    Idempotent: a finding's issue is found again (mapping table, else the marker in its body) and updated
    only when its figures changed; regressed findings reopen it, resolved ones close it (see `publish:` in
    the settings). Tokens come from the environment variables the settings name, or publish.secrets_file.
    Each publisher brings its own options (below); publisher plugins add theirs (`tracemine plugins`).

    Exit codes: 0 done; 2 bad settings or options; 4 publishing failed for at least one finding.
    """
    from tracemine.history import EMPTY, latest_run_id, run_status
    from tracemine.publish import PublishConfigError, load_publish_settings, publish_run

    try:
        load_publish_settings(_settings(ctx))
    except PublishConfigError as exc:
        _fail(str(exc))
    if not Path(db).exists():
        _fail(f"no archive at {db}: run `{command('mine', 'PATH', db=db)}` first")
    console = _console()
    with _open_store(db, read_only=dry_run) as store:
        latest = latest_run_id(store)
        if latest is None:
            _fail(f"no mine run in {db}: run `{command('mine', 'PATH', db=db)}` first")
        stored = run_status(store, run_id) if run_id is not None else None
        if run_id is not None and stored is None:
            _fail(f"no mine run {run_id} in {db} (the latest is {latest})")
        if stored is not None and stored[0] == EMPTY:
            why = f" ({stored[1]})" if stored[1] else ""
            _fail(f"mine run {run_id} was empty{why}: it found nothing to publish; the latest run with "
                  f"findings is {latest}")
        report = publish_run(store, _settings(ctx), run_id, list(trackers), dry_run=dry_run, console=console,
                             options=option_values(publisher_options))
    if not report.ok:
        sys.exit(EXIT_PUBLISH)


@main.command()
@db_option
@window_options
@click.option("--parquet", "parquet_dir", required=True, metavar="DIR",
              help="Folder (or filesystem URL, e.g. s3://bucket/prefix) for the Parquet partitions.")
@click.option("--shards", type=click.IntRange(min=1), default=16, show_default=True,
              help="Trace shards (hash of the trace id): one trace's spans are always in one shard.")
@click.pass_context
def export(ctx: click.Context, db: str, window: str | None, since: str | None, until: str | None, parquet_dir: str,
           shards: int) -> None:
    """Write the archive (whole traces touching the window; all without one) as Parquet partitions by day
    and trace shard: DIR/spans/day=YYYY-MM-DD/shard=N/*.parquet and DIR/traces/shard=N/*.parquet.

    The partitions are input for `tracemine ingest DIR`, `tracemine mine DIR` and `tracemine mine s3://…
    --backend ray` (read back as the same span rows)."""
    from tracemine.export import PartitionError, export_parquet
    from tracemine.timewindow import WindowError, WindowSpec

    if not Path(db).exists():
        _fail(f"no archive at {db}: run `{command('ingest', 'PATH', db=db)}` first")
    spec = WindowSpec(window, since, until)
    try:
        spec.validate()
    except WindowError as exc:
        _fail(str(exc))
    with _open_store(db, read_only=True) as store:
        try:
            resolved = _resolve_window(ctx, store, spec)
        except WindowError as exc:
            _fail(str(exc))
            return
        try:
            report = export_parquet(store, parquet_dir, None if resolved.is_open else resolved, shards=shards)
        except (PartitionError, OSError) as exc:
            _fail(f"cannot export to {parquet_dir}: {exc}")
            return
    click.echo(f"exported {report.spans:,} spans of {report.traces:,} trace records to {report.out}: "
               f"{report.files:,} Parquet files over {report.days} day(s) x {len(report.shard_ids)} shard(s) "
               f"in {report.seconds:.1f}s")


@main.command()
@click.option("--traces", "n_traces", type=click.IntRange(min=1), default=1000, show_default=True, help="Traces to generate.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Output directory.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same files).")
@click.option("--format", "fmt", type=click.Choice(["otlp", "jsonl"]), default="otlp", show_default=True,
              help="otlp: OTLP/JSON lines with GenAI attributes; jsonl: flat HALO-style spans with OpenInference attributes.")
@click.option("--days", type=click.IntRange(min=1), default=7, show_default=True, help="Spread traces over this many days.")
@click.option("--rate", "rates", multiple=True, metavar="KIND=RATE",
              help="Failure rate per kind, e.g. --rate loop=0.1 --rate outlier=0 (repeatable).")
def synth(n_traces: int, out_dir: str, seed: int, fmt: str, days: int, rates: tuple[str, ...]) -> None:
    """Generate realistic agent traces with injected, labelled failures (labels.jsonl)."""
    from tracemine.synth import SynthConfig, generate

    parsed: dict[str, float] = {}
    for item in rates:
        kind, _, value = item.partition("=")
        try:
            parsed[kind.strip()] = float(value)
        except ValueError:
            _fail(f"--rate expects KIND=NUMBER, got {item!r}")
    try:
        config = SynthConfig(traces=n_traces, seed=seed, fmt=fmt, days=days, rates=parsed)
    except (TypeError, ValueError) as exc:
        _fail(str(exc))
        return
    result = generate(config, Path(out_dir))
    console = _console()
    from tracemine.report.terminal import print_synth_result

    print_synth_result(console, result, Path(out_dir))


@main.group("config")
def config_group() -> None:
    """Show or check settings: the packaged defaults (configs/default.yaml) overlaid by a user YAML file.
    An unknown or mistyped setting fails with its dotted path (exit 2)."""


@config_group.command("show")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False),
              help="YAML settings to overlay (default: tracemine --config or TRACEMINE_CONFIG).")
@click.pass_context
def config_show(ctx: click.Context, config_path: str | None) -> None:
    """Print the effective settings as YAML (values that could be credentials masked)."""
    from tracemine.config import effective_yaml

    settings = _settings(ctx)
    if config_path:
        try:
            settings = load_settings(config_path)
        except ConfigError as exc:
            _fail(str(exc))
    click.echo(effective_yaml(settings), nl=False)


@config_group.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def config_check(path: str) -> None:
    """Validate a settings file against the defaults: exit 0 when it loads, 2 (naming the setting) when not."""
    try:
        load_settings(path)
    except ConfigError as exc:
        _fail(str(exc))
    click.echo(f"{path}: ok")


main.add_command(plugins_command)


if __name__ == "__main__":  # pragma: no cover
    main()
