"""The ``mine`` pipeline: the only place that knows the order of the stages (see ARCHITECTURE.md,
'Stages and data flow').

ingest → detect → embed + cluster → findings (impact, citations checked against the store) → rank →
summarise (offline, or an LLM for the reported findings) → reports → run history.

Findings are ranked before they are summarised: the score depends only on figures, so an LLM is only
asked about the ``max_findings`` that will be reported and its calls grow with the number of clusters
shown, never with the number of spans. Every other finding gets an offline summary and is kept in the
run history.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from tracemine.config import Settings, load_settings
from tracemine.errors import MineError
from tracemine.model import Finding, Theme
from tracemine.store import DEFAULT_DB, Store
from tracemine.timewindow import Anchor, Window, WindowSpec, find_anchor

Progress = Callable[[str, int, int | None], None]
"""``progress(stage, done, total)``; ``total`` is ``None`` while unknown."""



@dataclass
class MineResult(Sequence[Finding]):
    """The reported findings (a sequence, best first) and everything else a run produced.

    ``all_findings`` also holds the findings below the ``max_findings`` cut (offline-summarised, kept
    in the run history); ``outputs`` maps report kinds to files; ``stats`` has per-stage seconds,
    counts, citation checks and LLM usage.
    """

    findings: list[Finding]
    all_findings: list[Finding]
    context: Any
    run_id: int | None
    window: Window
    outputs: dict[str, Path] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    ingest: Any = None
    resolved: list[Finding] = field(default_factory=list)
    """Findings of earlier runs that this run marks resolved (absent long enough)."""
    themes: list[Theme] = field(default_factory=list)
    """Cross-cutting patterns over the reported findings, best first (see :mod:`tracemine.themes`)."""
    status: str = "ok"
    """``ok``, or ``empty``: the window held no traces or the input no trace record (``note`` says which);
    nothing was mined or written, and the run is left out of later comparisons (:mod:`tracemine.history`)."""
    note: str | None = None
    anchor: Anchor | None = None
    """Where ``--window`` ended without ``--until`` (:func:`tracemine.timewindow.find_anchor`): the newest span
    not beyond now + ``ingest.future_tolerance_seconds``, and the spans beyond it that were ignored."""
    published: Any = None
    """The :class:`~tracemine.publish.run.PublishReport` of the ``publishers`` passed to :func:`mine`, if any."""

    def __len__(self) -> int:
        return len(self.findings)

    @overload
    def __getitem__(self, index: int) -> Finding: ...

    @overload
    def __getitem__(self, index: slice) -> list[Finding]: ...

    def __getitem__(self, index: int | slice) -> Finding | list[Finding]:
        return self.findings[index]

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)


def _noop(stage: str, done: int, total: int | None) -> None:
    return None


@dataclass(frozen=True)
class Components:
    """The exchangeable parts of a run; ``None`` means the built-in, made from the settings.

    - ``embedder``: a :class:`~tracemine.embed.spec.TextEmbedder` or a registered embedder's name
      (default: ``sentence_transformers`` from ``embed:``);
    - ``clusterer``: a :class:`~tracemine.cluster.clusterer.Clusterer` (default: ``TreeClusterer`` from
      ``cluster:``);
    - ``summariser``: a :class:`~tracemine.summarise.base.Summariser` or a registered summariser's name,
      for the reported findings, themes and overview (default: the ``llm`` summariser when a model is
      configured, else ``offline``; a summariser passed makes ``llm`` unused); the findings below the
      cut, and any node it fails on, are worded by the registered ``offline`` summariser;
    - ``publishers``: :class:`~tracemine.publish.spec.FindingPublisher` objects given the reported
      findings once the run is saved (default: none; ``tracemine publish`` uses the configured ones).
    """

    embedder: Any = None
    clusterer: Any = None
    summariser: Any = None
    publishers: tuple[Any, ...] = ()


@dataclass
class _Run:
    store: Store
    settings: Settings
    progress: Progress
    stages: dict[str, float] = field(default_factory=dict)
    components: Components = field(default_factory=Components)

    def timed(self, stage: str, started: float) -> None:
        self.stages[stage] = round(time.perf_counter() - started, 3)


def run_mine(
    store: Store,
    settings: Settings,
    window: WindowSpec | None = None,
    paths: Sequence[str] = (),
    llm: str | None = None,
    max_findings: int | None = None,
    out_dir: str | Path | None = None,
    progress: Progress | None = None,
    llm_options: dict[str, Any] | None = None,
    *,
    backend: Any = "local",
    embedder: Any = None,
    clusterer: Any = None,
    summariser: Any = None,
    publishers: Sequence[Any] = (),
) -> MineResult:
    """Run every stage on ``store`` (ingesting ``paths`` first) and write the reports to ``out_dir``.

    ``llm_options`` go to :class:`~tracemine.summarise.llm.LLMSummariser` (e.g.
    ``{"completion_kwargs": {"mock_response": ...}}`` or a ``completion`` function, for tests).
    ``backend`` runs ingest, detect and embed: ``"local"``, ``"ray"`` or a
    :class:`tracemine.backends.Backend` (see :mod:`tracemine.backends`). The components default to the
    built-ins (see :class:`Components`)."""
    from tracemine.fixes import attach_fixes, check_fixes
    from tracemine.history import HistorySettings, RunRecord, assign_statuses, resolutions, save_run, trends
    from tracemine.redact import Redactor
    from tracemine.report.jsonout import ReportContext, order_findings

    run = _Run(store, settings, progress or _noop,
               components=Components(embedder, clusterer, summariser, tuple(publishers)))
    extra = settings.model_extra or {}
    mine_settings = dict(extra.get("mine") or {})
    max_findings = max_findings if max_findings is not None else int(mine_settings.get("max_findings", 20))
    try:
        redactor = Redactor.from_settings(extra.get("redact"))
        history_settings = HistorySettings.from_settings(extra.get("history"))
    except (TypeError, ValueError) as exc:
        raise MineError(f"settings: {exc}") from exc
    if summariser is None:
        check_llm(settings, llm, llm_options)
    if out_dir is not None:
        from tracemine.report.atomic import check_out_dir

        check_out_dir(out_dir)  # ReportWriteError now, not after the whole run
    record_started = time.time_ns()
    engine = _start_backend(backend, extra.get("backend"))
    try:
        ingest_report = _ingest(run, paths, engine) if paths else None
        anchor = find_anchor(store, settings.ingest.future_tolerance_seconds)
        resolved = (window or WindowSpec()).resolve(anchor)
        archive = store.stats(resolved)
        empty = empty_reason(ingest_report, archive.traces, resolved)
        if empty is None:
            detect = _detect(run, resolved, engine)
            clusters, trajectory_clusters = _cluster(run, detect.detect_id, detect.signals,
                                                     bool(mine_settings.get("trajectories", False)), engine)
    finally:
        if engine is not backend:
            engine.close()  # a backend made here from its name (one passed in is the caller's to close)
    if empty is not None:
        record = RunRecord(since_ns=resolved.since_ns, until_ns=resolved.until_ns, traces=archive.traces,
                           spans=archive.spans, signals=0, detect_id=None, stages=run.stages,
                           settings={"llm": llm, "max_findings": max_findings}, started_ns=record_started,
                           status="empty", note=empty)
        return MineResult(findings=[], all_findings=[], context=ReportContext(
            since_ns=resolved.since_ns, until_ns=resolved.until_ns, archive=store.path, traces=archive.traces,
            spans=archive.spans), run_id=save_run(store, record, [], 0), window=resolved,
            stats={"stages": run.stages, "anchor": anchor.as_dict()}, ingest=ingest_report, status="empty",
            note=empty, anchor=anchor)

    started = time.perf_counter()
    run.progress("findings", 0, None)
    signals = detect.signals + _trajectory_signals(store, resolved, trajectory_clusters, mine_settings)
    candidates, citations = _candidates(run, signals, clusters, archive.traces, redactor, mine_settings, resolved)
    _timelines(candidates, resolved, archive)
    _lifts(store, resolved, candidates, mine_settings)
    gone = assign_statuses(store, [c.finding for c in candidates], history_settings)
    fix_checks = check_fixes(store, [c.finding for c in candidates] + gone, resolved,
                             history_settings.fix_alpha, history_settings.fix_max_residual)
    _score(run, candidates)
    themes = _themes(candidates, signals, archive.traces, redactor, mine_settings)
    run.progress("findings", len(candidates), len(candidates))
    run.timed("findings", started)

    started = time.perf_counter()
    ranked = order_findings(c.finding for c in candidates)
    reported = ranked[:max_findings]
    shown = {f.fingerprint for f in reported}
    themes = [t for t in themes if shown.intersection(t.theme.findings)]
    llm_usage, summary_stats, overview = _summarise(run, candidates, themes, llm, max_findings, redactor,
                                                    llm_options or {}, archive.traces)
    run.timed("summarise", started)

    context = ReportContext(
        since_ns=resolved.since_ns, until_ns=resolved.until_ns, archive=store.path, traces=archive.traces,
        spans=archive.spans, detectors=list(detect.detectors), llm_usage=llm_usage,
        trace_url=(extra.get("report") or {}).get("trace_url"), overview=overview,
        history=trends(store, reported, history_settings.trend_runs), themes=[t.theme for t in themes],
        resolved=resolutions(store, gone), fixes=attach_fixes(fix_checks),
    )
    outputs: dict[str, Path] = {}
    if out_dir is not None:
        started = time.perf_counter()
        _cited_traces(store, reported, context, redactor, extra.get("report") or {})
        outputs = write_reports(reported, context, Path(out_dir), run.progress)
        run.timed("report", started)
    stats = {
        "stages": run.stages, "signals": len(detect.signals), "detect_id": detect.detect_id,
        "trajectory_signals": len(signals) - len(detect.signals),
        "findings": len(ranked), "reported": len(reported), "resolved": len(gone), "themes": len(themes),
        "fixes": {status: sum(1 for c in fix_checks if c.status == status)
                  for status in sorted({str(c.status) for c in fix_checks})},
        "statuses": {s: sum(1 for f in reported if f.status == s) for s in ("new", "recurring", "regressed")},
        "citations": {"checked": citations.pairs, "verified": citations.verified, "dropped": len(citations.missing)},
        "signals_outside_window": citations.outside_window,
        "clusters": clusters.stats if clusters is not None else {}, "summaries": summary_stats,
        "llm_usage": llm_usage, "detector_errors": dict(detect.errors), "anchor": anchor.as_dict(),
    }
    record = RunRecord(
        since_ns=resolved.since_ns, until_ns=resolved.until_ns, traces=archive.traces, spans=archive.spans,
        signals=len(detect.signals), detect_id=detect.detect_id,
        settings={"llm": llm, "max_findings": max_findings, "mine": mine_settings, "rank": extra.get("rank")},
        llm_usage=llm_usage, stages=run.stages, started_ns=record_started,
    )
    run_id = save_run(store, record, ranked + gone, len(reported), fix_checks)
    published = _publish(run, run_id) if publishers else None
    return MineResult(findings=reported, all_findings=ranked, context=context, run_id=run_id, window=resolved,
                      outputs=outputs, stats=stats, ingest=ingest_report, resolved=gone,
                      themes=[t.theme for t in themes], anchor=anchor, published=published)


def empty_reason(ingest: Any, window_traces: int, window: Window) -> str | None:
    """Why a run has nothing to mine, or ``None``: its input (when paths were given) had no trace record —
    no file, or every record rejected — or its window holds no trace."""
    if ingest is not None and not ingest.spans_read and not ingest.files_skipped:
        if not ingest.files_read:
            return "no trace files in the input"
        return (f"no trace records in the input: {ingest.rejected:,} record(s) rejected in "
                f"{ingest.files_read:,} file(s)")
    if not window_traces:
        return "the archive holds no traces" if window.is_open else f"no traces in the window {window.describe()}"
    return None


def _llm_settings(settings: Settings, llm: str | None) -> dict[str, Any]:
    """The ``summarise.llm`` section, with ``llm`` (``--llm``) as its model when given."""
    section = dict(((settings.model_extra or {}).get("summarise") or {}).get("llm") or {})
    if llm:
        section["model"] = llm
    return section


def check_llm(settings: Settings, llm: str | None = None, llm_options: dict[str, Any] | None = None) -> None:
    """LLM preflight before any work (:mod:`tracemine.summarise.preflight`): the model is known to litellm
    and its credentials are present. Raises :class:`MineError` (one line); nothing to check offline. A
    ``completion`` hook or ``mock_response`` in ``llm_options`` makes no real call, so needs no key."""
    section = _llm_settings(settings, llm)
    if not section.get("model"):
        return
    from tracemine.summarise.preflight import preflight

    options = llm_options or {}
    mocked = "completion" in options or "mock_response" in (options.get("completion_kwargs") or {})
    try:
        preflight(section, check_credentials=not mocked)
    except ValueError as exc:
        raise MineError(str(exc)) from None


def _cited_traces(store: Store, reported: list[Finding], context: Any, redactor: Any,
                  report_settings: dict[str, Any]) -> None:
    """The reported findings' cited traces for report.html: sections as ``tracemine show`` prints them, and
    each finding's cited spans grouped by trace (:mod:`tracemine.report.trace_sections`)."""
    from tracemine.report.trace_sections import MAX_TRACE_SECTIONS, cited_spans, trace_sections

    limit = int(report_settings.get("trace_sections", MAX_TRACE_SECTIONS) or 0)
    context.trace_sections = trace_sections(store, reported, redactor, limit)
    context.cited_spans = cited_spans(store, reported)


def _start_backend(spec: Any, settings: Any) -> Any:
    """The backend named by ``spec`` (or ``spec`` itself), started: Ray missing or unreachable fails here,
    before any work."""
    from tracemine.backends import get_backend

    engine = get_backend(spec, settings=settings if isinstance(settings, dict) else None)
    engine.start()
    return engine


def _ingest(run: _Run, paths: Sequence[str], backend: Any) -> Any:
    """Ingest ``paths`` (files, folders, globs, Parquet partitions, filesystem URLs) through ``backend``."""
    started = time.perf_counter()
    report = backend.ingest(list(paths), run.store, run.settings.ingest,
                            lambda done, total: run.progress("ingest", done, total))
    run.timed("ingest", started)
    return report


def _detect(run: _Run, window: Window, backend: Any) -> Any:
    from tracemine.detect.runner import detect_window

    started = time.perf_counter()
    report = detect_window(run.store, window, None, run.settings.detect,
                           lambda stage, done, total: run.progress("detect", done, total), backend=backend)
    run.timed("detect", started)
    return report


def _cluster(run: _Run, detect_id: int | None, signals: list[Any], trajectories: bool, backend: Any
             ) -> tuple[Any, Any]:
    """Embed (through ``backend``) and cluster the detection run's signals and, with ``trajectories``, its
    failing trajectories (``None`` for what there is none of)."""
    if not signals and not trajectories:
        return None, None
    from tracemine.cluster import ClusterSettings, TreeClusterer, cluster_store
    from tracemine.embed.spec import DEFAULT_EMBEDDER, make_embedder

    embedder, clusterer = run.components.embedder, run.components.clusterer
    try:
        if embedder is None or isinstance(embedder, str):
            embedder = make_embedder(embedder or DEFAULT_EMBEDDER, run.settings.embed)
        if clusterer is None:
            clusterer = TreeClusterer(ClusterSettings.from_settings(run.settings.cluster))
    except ValueError as exc:
        raise MineError(str(exc)) from exc
    started = time.perf_counter()
    embed_seconds = 0.0

    def encode(texts: list[str]) -> Any:
        nonlocal embed_seconds
        began = time.perf_counter()
        vectors = backend.embed_texts(texts, run.store, embedder,
                                      progress=lambda done, total: run.progress("embed", done, total))
        embed_seconds += time.perf_counter() - began
        return vectors

    result = cluster_store(run.store, encode, detect_id=detect_id, trajectories=trajectories,
                           model=embedder.model_id, clusterer=clusterer)
    run.stages["embed"] = round(embed_seconds, 3)
    run.stages["cluster"] = round(time.perf_counter() - started - embed_seconds, 3)
    run.progress("cluster", 1, 1)
    return result.signals, result.trajectories


def _trajectory_signals(store: Store, window: Window, clusters: Any, mine_settings: dict[str, Any]) -> list[Any]:
    """Signals of the trajectory clusters that fail far more often than the window (outcomes needed)."""
    if clusters is None:
        return []
    from tracemine.lift import window_outcomes
    from tracemine.trajectories import trajectory_signals

    return trajectory_signals(store, clusters, window_outcomes(store, window),
                              min_traces=int(mine_settings.get("trajectory_min_traces", 5)))


def _candidates(run: _Run, signals: list[Any], clusters: Any, window_traces: int, redactor: Any,
                mine_settings: dict[str, Any], window: Window | None = None) -> tuple[list[Any], Any]:
    """The findings' candidates, from the signals whose symptom lies in ``window`` (a trace crossing the
    window's edge brings its spans outside it: their signals are left out)."""
    from tracemine.findings import CitationCheck, build_candidates

    if not signals:
        return [], CitationCheck()
    return build_candidates(
        run.store, signals, clusters, window_traces, redactor,
        exemplars=int(mine_settings.get("exemplars", 5)), min_traces=int(mine_settings.get("min_traces", 1)),
        max_leaf_briefs=int(mine_settings.get("max_leaf_briefs", 4)),
        window=(window.since_ns, window.until_ns) if window is not None else None)


def _score(run: _Run, candidates: list[Any]) -> None:
    from tracemine.rank import RankSettings, score

    try:
        rank_settings = RankSettings.from_settings((run.settings.model_extra or {}).get("rank"))
    except ValueError as exc:
        raise MineError(f"rank settings: {exc}") from exc
    for c in candidates:
        c.finding.score = score(c.finding, rank_settings, c.isolated)


def _themes(candidates: list[Any], signals: list[Any], window_traces: int, redactor: Any,
            mine_settings: dict[str, Any]) -> list[Any]:
    from tracemine.themes import build_themes

    return build_themes(candidates, signals, window_traces, redactor,
                        min_findings=int(mine_settings.get("theme_min_findings", 2)))


def _lifts(store: Store, window: Window, candidates: list[Any], mine_settings: dict[str, Any]) -> None:
    """Each finding's outcome lift, where the window's traces carry outcomes (see :mod:`tracemine.lift`)."""
    from tracemine.lift import finding_lifts, window_outcomes

    outcomes = window_outcomes(store, window)
    lifts = finding_lifts(outcomes, (c.finding for c in candidates), int(mine_settings.get("lift_min_known", 20)))
    for c in candidates:
        lift = lifts.get(c.finding.fingerprint)
        c.finding.outcome = lift.as_dict() if lift is not None else None


def _timelines(candidates: list[Any], window: Window, archive: Any) -> None:
    """Each finding's signals over the window (the archive's time range when the window is open)."""
    from tracemine.findings import timeline

    since = window.since_ns if window.since_ns is not None else archive.first_ns
    until = window.until_ns if window.until_ns is not None else (archive.last_ns + 1 if archive.last_ns else None)
    if since is None or until is None:
        return
    for c in candidates:
        c.finding.timeline = timeline(c.signal_times, since, until)


def _overview_brief(top: list[Any], window_traces: int) -> Any:
    """The run-level brief: its children are the reported findings (summarised before it)."""
    from tracemine.summarise.base import Brief

    traces = len({t for c in top for t in c.finding.trace_ids})
    return Brief(node_id="overview", level="overview", kinds=sorted({k for c in top for k in c.finding.kinds}),
                 signals=sum(c.finding.impact.signals for c in top), traces=traces, window_traces=window_traces,
                 severity=top[0].finding.severity if top else "low", children=[c.brief for c in top])


def _summarise(run: _Run, candidates: list[Any], themes: list[Any], llm: str | None, max_findings: int,
               redactor: Any, llm_options: dict[str, Any], window_traces: int,
               ) -> tuple[dict[str, Any] | None, dict[str, Any], str]:
    """Word every finding — the LLM (when configured) for the reported ones, offline for the rest — then
    the ``themes`` (from their reported findings' summaries) and the run's overview. Returns LLM usage
    (``None`` offline), walk statistics and the overview text."""
    from tracemine.report.jsonout import order_findings
    from tracemine.summarise.spec import OFFLINE

    offline = _make_summariser(OFFLINE, {}, redactor)
    order = {f.fingerprint: i for i, f in enumerate(order_findings(c.finding for c in candidates))}
    candidates = sorted(candidates, key=lambda c: order[c.finding.fingerprint])
    top, rest = candidates[:max_findings], candidates[max_findings:]
    by_fingerprint = {c.finding.fingerprint: c for c in top}
    theme_members = [[by_fingerprint[fp] for fp in t.theme.findings if fp in by_fingerprint] for t in themes]
    for t, members in zip(themes, theme_members, strict=True):
        t.brief.children = [c.brief for c in members]  # summarised from what is reported
        t.brief.child_summaries = []
    overview = _overview_brief(top, window_traces)
    usage: dict[str, Any] | None = None
    stats: dict[str, Any] = {"offline": 0, "llm": 0, "fallbacks": {}}
    total = len(candidates) + len(themes)
    run.progress("summarise", 0, total)
    overview_summary = None
    summariser = _primary_summariser(run, llm, redactor, llm_options) if top else None
    if summariser is not None:
        from tracemine.summarise.recursive import summarise_tree

        briefs = [c.brief for c in top] + [t.brief for t in themes] + [overview]
        summaries, walk = summarise_tree(briefs, summariser, offline)
        spent = getattr(summariser, "usage", None)
        if isinstance(spent, dict):
            usage = {**spent, "fallbacks": dict(walk.fallbacks),  # kept in the run history
                     "ids_removed": walk.ids_removed}
        stats.update(walk.as_dict())
        for c, summary in zip(top, summaries, strict=False):
            _apply(c, summary, redactor)
        for t, summary in zip(themes, summaries[len(top):], strict=False):
            _apply_theme(t, summary, redactor)
        overview_summary = summaries[-1]
        done_offline = rest
    else:
        done_offline = candidates
    for n, c in enumerate(done_offline, 1):
        _apply(c, offline.summarise(c.brief), redactor)
        stats["offline"] += 1
        if n % 50 == 0:
            run.progress("summarise", len(candidates) - len(done_offline) + n, total)
    if overview_summary is None:
        for t, members in zip(themes, theme_members, strict=True):
            t.brief.child_summaries = [_summary_of(c) for c in members]
            _apply_theme(t, offline.summarise(t.brief), redactor)
            stats["offline"] += 1
        if top:
            overview.child_summaries = [_summary_of(c) for c in top]
            overview_summary = offline.summarise(overview)
    run.progress("summarise", total, total)
    text = redactor.redact(overview_summary.summary) if overview_summary is not None else ""
    if text:
        from tracemine.placeholders import readable

        text = readable(text)
    return usage, stats, text


def _make_summariser(name: str, settings: dict[str, Any], redactor: Any, **options: Any) -> Any:
    """The registered summariser ``name`` (:mod:`tracemine.summarise.spec`); bad settings are a :class:`MineError`."""
    from tracemine.summarise.spec import make_summariser

    try:
        return make_summariser(name, settings, redactor, **options)
    except ValueError as exc:
        raise MineError(f"summarise.{name} settings: {exc}") from exc


def _primary_summariser(run: _Run, llm: str | None, redactor: Any, llm_options: dict[str, Any]) -> Any:
    """The summariser for the reported findings: the one passed to the run (an object, or a registered
    name), else the LLM when a model is configured; ``None``: offline only."""
    from tracemine.summarise.spec import LLM

    chosen = run.components.summariser
    if chosen is not None and not isinstance(chosen, str):
        return chosen
    if isinstance(chosen, str):
        section = ((run.settings.model_extra or {}).get("summarise") or {}).get(chosen) or {}
        return _make_summariser(chosen, dict(section), redactor)
    llm_settings = _llm_settings(run.settings, llm)
    if not llm_settings.get("model"):
        return None
    return _make_summariser(LLM, llm_settings, redactor, **llm_options)


def _publish(run: _Run, run_id: int | None) -> Any:
    """The run's reported findings given to the publisher objects passed to the run."""
    from tracemine.publish.run import publish_findings

    if run_id is None:
        return None
    return publish_findings(run.components.publishers, run.store, run_id, run.settings)


def _apply_theme(candidate: Any, summary: Any, redactor: Any) -> None:
    from tracemine.placeholders import readable

    theme = candidate.theme
    theme.title = readable(redactor.redact(summary.title))
    theme.summary = readable(redactor.redact(summary.summary))
    theme.recommended_fix = readable(redactor.redact(summary.recommended_fix))
    theme.summariser = summary.summariser


def _summary_of(candidate: Any) -> Any:
    from tracemine.summarise.base import Summary

    f = candidate.finding
    return Summary(f.title, f.summary, f.mechanism, f.recommended_fix, summariser=f.summariser)


def _apply(candidate: Any, summary: Any, redactor: Any) -> None:
    """Put a summary's wording on the finding (redacted again: an LLM may echo what it was shown) and
    move the exemplars the summary relies on to the front."""
    from tracemine.placeholders import readable  # an LLM may echo the <num> placeholders it was shown

    f = candidate.finding
    f.title = readable(redactor.redact(summary.title))
    f.summary = readable(redactor.redact(summary.summary))
    f.mechanism = readable(redactor.redact(summary.mechanism))
    f.recommended_fix = readable(redactor.redact(summary.recommended_fix))
    f.summariser = summary.summariser
    refs = {e.ref: i for i, e in enumerate(candidate.brief.exemplars)}
    cited = [refs[r] for r in summary.exemplar_refs if r in refs and refs[r] < len(f.exemplars)]
    if cited:
        first = list(dict.fromkeys(cited))
        f.exemplars = [f.exemplars[i] for i in first] + [e for i, e in enumerate(f.exemplars) if i not in first]


def write_reports(findings: list[Finding], context: Any, out_dir: Path, progress: Progress | None = None
                  ) -> dict[str, Path]:
    """Every registered report file (built-ins: ``findings.json``, ``report.md``, ``report.html``) in
    ``out_dir``, all or none: each is written to a temporary file and they are renamed into place together
    (:mod:`tracemine.report.atomic`); a failure raises :class:`~tracemine.report.atomic.ReportWriteError`
    and leaves the previous reports."""
    from tracemine.report.atomic import make_dir, replacing
    from tracemine.report.writers import report_writers

    make_dir(out_dir)
    writers = report_writers()
    outputs = {w.name: out_dir / w.filename for w in writers}
    with replacing(*outputs.values()) as temps:
        for n, (writer, temp) in enumerate(zip(writers, temps, strict=True), 1):
            writer.write(findings, context, temp)
            if progress:
                progress("report", n, len(writers))
    return outputs


def mine(
    paths: Sequence[str] | str = (),
    *,
    db: str | Path = DEFAULT_DB,
    window: str | None = None,
    since: str | None = None,
    until: str | None = None,
    out: str | Path | None = None,
    llm: str | None = None,
    max_findings: int | None = None,
    config: str | Path | Settings | None = None,
    progress: Progress | None = None,
    llm_options: dict[str, Any] | None = None,
    backend: Any = "local",
    embedder: Any = None,
    clusterer: Any = None,
    summariser: Any = None,
    publishers: Sequence[Any] = (),
) -> MineResult:
    """Mine traces for recurring failures and return the ranked findings (a :class:`MineResult`, which is
    a sequence of :class:`~tracemine.model.Finding`, best first).

    ``paths`` are ingested into the archive ``db`` first; ``window`` (``7d``), ``since``/``until`` select
    the spans mined; ``out`` is a folder for ``findings.json``, ``report.md`` and ``report.html`` (none
    written when ``None``); ``llm`` a litellm model name (offline summaries without one); ``config`` a
    YAML file or :class:`~tracemine.config.Settings`; ``backend`` ``"local"`` (default), ``"ray"`` or a
    :class:`tracemine.backends.Backend` such as ``RayBackend(address="auto")`` runs ingest, detect and
    embed (the findings are the same). ``embedder``, ``clusterer``, ``summariser`` and ``publishers`` replace
    the built-in components (see :class:`Components`; :mod:`tracemine.testing` has in-memory ones).
    """
    settings = config if isinstance(config, Settings) else load_settings(config)
    spec = WindowSpec(window, since, until)
    spec.validate()
    with Store(db) as store:
        return run_mine(store, settings, spec, [paths] if isinstance(paths, str) else list(paths), llm,
                        max_findings, out, progress, llm_options, backend=backend, embedder=embedder,
                        clusterer=clusterer, summariser=summariser, publishers=publishers)
