"""Run history in the archive: every ``mine`` run (window, counts, settings, LLM usage, duration) and its
findings keyed by fingerprint, so ``tracemine show FINGERPRINT`` and later runs can find them again.

A run stores every finding it found, in rank order, with its ``rank`` and whether it was ``reported``
(above the ``--max-findings`` cut), as its ``findings.json`` item (:func:`tracemine.report.jsonout.to_dict`)
beside the columns that queries need (fingerprint, rank, score, severity, status, traces, share); the
findings it resolves are stored after them with status ``resolved``, no rank and ``reported`` false.

A run has a ``status``: ``ok``, or ``empty`` when its window held no traces or its input had no trace
record (no files, all rejected). An empty run stores no findings and is left out of every comparison:
statuses, resolution and trends look at the non-empty runs only, so a night without data neither resolves
nor later regresses anything.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from tracemine.model import Finding, FindingStatus
from tracemine.store import history as store_history

EMPTY = store_history.EMPTY
"""The status of a run that had nothing to mine (see the module docstring)."""


class AmbiguousFingerprint(LookupError):
    """A fingerprint prefix matches several findings; ``matches`` lists their fingerprints."""

    def __init__(self, prefix: str, matches: list[str]) -> None:
        super().__init__(f"{prefix!r} matches {len(matches)} findings: {', '.join(matches[:10])}")
        self.matches = matches


@dataclass
class RunRecord:
    """What a ``mine`` run stores about itself."""

    since_ns: int | None
    until_ns: int | None
    traces: int
    spans: int
    signals: int
    detect_id: int | None
    settings: dict[str, Any] = field(default_factory=dict)
    llm_usage: dict[str, Any] | None = None
    stages: dict[str, float] = field(default_factory=dict)
    started_ns: int = field(default_factory=time.time_ns)
    status: str = "ok"
    """``ok`` or :data:`EMPTY`."""
    note: str | None = None
    """Why the run was empty."""


def save_run(store: Any, record: RunRecord, findings: list[Finding], reported: int,
             fix_checks: Sequence[Any] = ()) -> int:
    """Store one run in one transaction and return its id: ``findings`` are what it found in rank order
    (the first ``reported`` of them above the report cut), then those it resolves (status ``resolved``:
    stored without a rank, not counted as found); ``fix_checks`` (:class:`tracemine.fixes.FixCheck`) become
    the latest verdict of each recorded fix."""
    from tracemine.report.jsonout import to_dict

    found = [f for f in findings if f.status != FindingStatus.RESOLVED]
    ranks = [i + 1 if f.status != FindingStatus.RESOLVED else None for i, f in enumerate(findings)]
    run = {
        "started_ns": record.started_ns, "finished_ns": time.time_ns(), "since_ns": record.since_ns,
        "until_ns": record.until_ns, "traces": record.traces, "spans": record.spans, "signals": record.signals,
        "detect_id": record.detect_id, "findings": len(found), "reported": min(reported, len(found)),
        "settings": orjson.dumps(record.settings, default=str).decode(),
        "llm_usage": orjson.dumps(record.llm_usage).decode() if record.llm_usage is not None else None,
        "stages": orjson.dumps(record.stages).decode(), "seconds": (time.time_ns() - record.started_ns) / 1e9,
        "status": record.status, "note": record.note,
    }
    rows = None
    if findings:
        rows = {
            "fingerprint": [f.fingerprint for f in findings],
            "rank": ranks,
            "reported": [r is not None and r <= reported for r in ranks],
            "score": [float(f.score) for f in findings],
            "severity": [f.severity for f in findings],
            "status": [f.status for f in findings],
            "traces": [f.impact.traces for f in findings],
            "window_traces": [f.impact.window_traces for f in findings],
            "trace_share": [f.impact.trace_share for f in findings],
            "data": [orjson.dumps(to_dict(f, r)).decode() for f, r in zip(findings, ranks, strict=True)],
            "inherited_from": [f.inherited_from for f in findings],
        }
    from tracemine.fixes import check_rows

    return store_history.insert_run(store, run, rows, check_rows(list(fix_checks)))


def run_status(store: Any, run_id: int) -> tuple[str, str | None] | None:
    """``(status, note)`` of a stored run, ``None`` when there is no such run."""
    return store_history.run_status(store, run_id)


def latest_run_id(store: Any) -> int | None:
    """The latest run that was not :data:`EMPTY` (``None`` when there is none)."""
    return store_history.latest_counted_run(store)


def run_findings(store: Any, run_id: int | None = None, reported_only: bool = False) -> list[Finding]:
    """The findings of a run (the latest by default), in rank order; with ``reported_only``, those the
    run reported (its top ``max_findings``) plus those it marked ``resolved``."""
    from tracemine.report.jsonout import from_dict

    run_id = run_id if run_id is not None else latest_run_id(store)
    if run_id is None:
        return []
    return [from_dict(orjson.loads(data)) for data in store_history.run_finding_data(store, run_id, reported_only)]


def load_finding(store: Any, fingerprint: str) -> Finding | None:
    """The newest stored version of the finding whose fingerprint is ``fingerprint`` or starts with it
    (with or without its ``tm-``; a prefix must be unique: :class:`AmbiguousFingerprint` otherwise); ``None`` when there is none."""
    from tracemine.report.jsonout import from_dict

    if not fingerprint or not store_history.has_history(store):
        return None
    exact = store_history.newest_finding_data(store, fingerprint)
    if exact:
        return from_dict(orjson.loads(exact))
    prefixes = [fingerprint] if fingerprint.startswith("tm-") else [fingerprint, f"tm-{fingerprint}"]
    matches = store_history.fingerprints_starting_with(store, prefixes)
    if not matches:
        return None
    if len(matches) > 1:
        raise AmbiguousFingerprint(fingerprint, matches)
    return load_finding(store, matches[0])


# -- statuses against earlier runs ----------------------------------------------------------------------


@dataclass
class HistorySettings:
    """``history:`` settings: when a finding counts as regressed or resolved, and how many runs a trend shows."""

    regressed_factor: float = 1.5
    resolved_after_runs: int = 2
    trend_runs: int = 8
    fix_alpha: float = 0.01
    """Significance level of fix verification (:mod:`tracemine.fixes`)."""
    fix_max_residual: float = 0.2
    """A verified fix leaves at most this fraction of the share of traces before it."""

    @classmethod
    def from_settings(cls, settings: Any) -> HistorySettings:
        data = dict(settings or {})
        unknown = set(data) - {"regressed_factor", "resolved_after_runs", "trend_runs", "fix_alpha", "fix_max_residual"}
        if unknown:
            raise ValueError(f"unknown history settings {sorted(unknown)}")
        out = cls(**data)
        if out.regressed_factor < 1 or out.resolved_after_runs < 1 or out.trend_runs < 1:
            raise ValueError("history: regressed_factor must be ≥ 1, resolved_after_runs and trend_runs ≥ 1")
        for name in ("fix_alpha", "fix_max_residual"):
            value = getattr(out, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
                raise ValueError(f"history: {name} must be a number between 0 and 1 (exclusive), got {value!r}")
        return out


@dataclass
class _Seen:
    """One earlier appearance of a fingerprint."""

    run_id: int
    status: str
    share: float
    reported: bool = False


def _appearances(store: Any) -> tuple[list[int], dict[str, list[_Seen]], set[str]]:
    """Earlier run ids (oldest first), per fingerprint its rows in those runs (oldest first), and the
    fingerprints whose history a later finding continues (split findings: see :func:`assign_statuses`)."""
    if not store_history.has_history(store):
        return [], {}, set()
    runs = store_history.counted_runs(store)
    seen: dict[str, list[_Seen]] = {}
    continued: set[str] = set()
    for run_id, fingerprint, status, share, inherited, reported in store_history.appearances(store):
        seen.setdefault(fingerprint, []).append(_Seen(int(run_id), status, float(share or 0.0), bool(reported)))
        if inherited:
            continued.add(inherited)
    return runs, seen, continued


def _heirs(findings: list[Finding], seen: dict[str, list[_Seen]], continued: set[str]) -> None:
    """A finding never seen itself whose ``legacy_fingerprint`` (the first model's id, one finding per
    mechanism across tools and agents) was, and is its largest child in this run (most traces, then
    fingerprint), continues that history: ``inherited_from`` is set on it."""
    current = {f.fingerprint for f in findings}
    for f in sorted(findings, key=lambda f: (-f.impact.traces, f.fingerprint)):
        legacy = f.legacy_fingerprint
        if (legacy and legacy not in current and legacy in seen and legacy not in continued
                and f.fingerprint not in seen):
            f.inherited_from = legacy
            continued.add(legacy)


def assign_statuses(store: Any, findings: list[Finding], settings: HistorySettings | None = None) -> list[Finding]:
    """Set each finding's ``status`` against the earlier runs in ``store`` and return the findings that
    this run resolves (as they were last found, with status ``resolved``; :func:`resolutions` says when).

    * **new** — no earlier run reported it (above its ``--max-findings`` cut); it may have been found
      below the cut before;
    * **regressed** — reported before, and resolved since and back, or its share of traces grew beyond
      ``regressed_factor`` × its share when last found (also: found again after its recorded fix was
      verified, set by :func:`tracemine.fixes.check_fixes` after this);
    * **recurring** — reported before, found again at a similar level (also after a gap shorter than the
      resolution, and also when this run ranks it below the cut);
    * **resolved** — reported by an earlier run and not found (above or below the cut) in
      ``resolved_after_runs`` consecutive non-empty runs (this one included), and not already marked
      resolved. A finding never reported is never resolved: it was never shown, so it is dropped silently.

    A finding split by the one-fix model (its ``legacy_fingerprint`` was reported, it was not) keeps
    that history on its largest child (:func:`_heirs`); the earlier fingerprint is then never resolved.
    """
    from tracemine.report.jsonout import from_dict

    s = settings or HistorySettings()
    runs, seen, continued = _appearances(store)
    _heirs(findings, seen, continued)
    current = {f.fingerprint for f in findings}
    for f in findings:
        marks = seen.get(f.fingerprint) or seen.get(f.inherited_from or "", [])
        past = [x for x in marks if x.status != FindingStatus.RESOLVED]
        if not any(x.reported for x in marks):
            f.status = FindingStatus.NEW
            continue
        back = marks[-1].status == FindingStatus.RESOLVED
        grew = f.impact.trace_share > s.regressed_factor * past[-1].share and f.impact.traces > 1
        f.status = FindingStatus.REGRESSED if back or grew else FindingStatus.RECURRING
    resolved: list[Finding] = []
    for fingerprint, marks in sorted(seen.items()):
        if (fingerprint in current or fingerprint in continued or marks[-1].status == FindingStatus.RESOLVED
                or not any(x.reported for x in marks)):
            continue
        last = marks[-1]
        if _absent_runs(runs, last.run_id) >= s.resolved_after_runs:
            data = store_history.finding_data_in_run(store, last.run_id, fingerprint)
            finding = from_dict(orjson.loads(data))
            finding.status = FindingStatus.RESOLVED
            resolved.append(finding)
    return resolved


def _absent_runs(runs: list[int], last_run_id: int) -> int:
    """Non-empty runs without a finding last found in ``last_run_id``: this run plus the later stored ones."""
    return 1 + sum(1 for r in runs if r > last_run_id)


def resolutions(store: Any, resolved: list[Finding]) -> list[Any]:
    """What the reports say of each finding this run resolves (:func:`assign_statuses`): the run that last
    found it, when, its last signal and for how many non-empty runs (this one included) it has been absent,
    as :class:`tracemine.report.jsonout.ResolvedNote`."""
    from tracemine.report.jsonout import ResolvedNote

    if not resolved:
        return []
    runs, _, _ = _appearances(store)
    started = store_history.run_starts(store)
    notes = []
    for f in resolved:
        last = store_history.last_found_run(store, f.fingerprint)
        notes.append(ResolvedNote(
            fingerprint=f.fingerprint, title=f.title, severity=f.severity, kinds=list(f.kinds),
            last_run=last, last_run_started_ns=started.get(last), last_seen_ns=f.last_seen_ns,
            absent_runs=_absent_runs(runs, last), traces=f.impact.traces, trace_share=f.impact.trace_share))
    return notes


def trends(store: Any, findings: list[Finding], runs: int = 8) -> dict[str, list[tuple[str, float]]]:
    """Each finding's share of traces in the last ``runs - 1`` stored runs plus this one (its current
    share, labelled ``now``), oldest first; 0 for runs it was absent from."""
    if not findings:
        return {}
    earlier: list[tuple[int, int]] = []
    shares: dict[tuple[int, str], float] = {}
    if runs > 1:
        earlier = store_history.recent_counted_runs(store, runs - 1)
        if earlier:
            for run_id, fingerprint, share in store_history.shares_in_runs(store, [r for r, _ in earlier]):
                shares[(int(run_id), fingerprint)] = float(share or 0.0)
    from tracemine.formatting import format_ns

    labels = [(run_id, f"#{run_id} {format_ns(started)[:10]}") for run_id, started in earlier]
    return {
        f.fingerprint: [(label, shares.get((run_id, f.fingerprint), shares.get((run_id, f.inherited_from or ""), 0.0)))
                        for run_id, label in labels]
        + [("now", f.impact.trace_share)]
        for f in findings
    }


# -- listing and comparing runs -------------------------------------------------------------------------


@dataclass
class RunSummary:
    """One row of ``tracemine runs``: ``findings`` counts what the run found (above and below the report
    cut), ``reported`` those above it; ``statuses`` counts the reported findings that were ``new``,
    ``recurring`` and ``regressed``, and the earlier findings the run ``resolved`` (never counted as found)."""

    run_id: int
    started_ns: int | None
    since_ns: int | None
    until_ns: int | None
    traces: int
    spans: int
    signals: int
    findings: int
    reported: int
    statuses: dict[str, int]
    llm_calls: int
    seconds: float
    status: str = "ok"
    """``ok`` or :data:`EMPTY` (``note`` says why)."""
    note: str | None = None


def list_runs(store: Any, limit: int | None = 20) -> list[RunSummary]:
    """The most recent runs, newest first."""
    out = []
    for row in store_history.run_summaries(store, limit):
        usage = orjson.loads(row[9]) if row[9] else {}
        out.append(RunSummary(
            run_id=int(row[0]), started_ns=row[1], since_ns=row[2], until_ns=row[3], traces=int(row[4] or 0),
            spans=int(row[5] or 0), signals=int(row[6] or 0), findings=int(row[7] or 0), reported=int(row[8] or 0),
            statuses={"new": row[13], "recurring": row[14], "regressed": row[15], "resolved": row[16]},
            llm_calls=int((usage or {}).get("calls", 0) or 0), seconds=float(row[10] or 0.0),
            status=row[11] or "ok", note=row[12],
        ))
    return out


@dataclass
class RunDiff:
    """What changed between two runs, by what each run *found* (above and below its report cut):
    ``appeared`` (found in B only) and ``disappeared`` (found in A only), in rank order, and ``changed``
    (found in both, largest change of trace share first). Apart from that, ``rose`` and ``fell`` are the
    findings found in both that crossed the report cut: reported in B but not A (rose above the cut), and
    in A but not B (dropped below it). ``ranks_a``/``ranks_b`` give each found fingerprint its rank and
    whether it was reported."""

    run_a: int
    run_b: int
    appeared: list[Finding]
    disappeared: list[Finding]
    changed: list[tuple[Finding, Finding]]
    rose: list[tuple[Finding, Finding]] = field(default_factory=list)
    fell: list[tuple[Finding, Finding]] = field(default_factory=list)
    ranks_a: dict[str, tuple[int, bool]] = field(default_factory=dict)
    ranks_b: dict[str, tuple[int, bool]] = field(default_factory=dict)


def _found(store: Any, run_id: int) -> tuple[dict[str, Finding], dict[str, tuple[int, bool]]]:
    """What a run found, in rank order (resolved rows left out), and each fingerprint's (rank, reported)."""
    from tracemine.report.jsonout import from_dict

    found: dict[str, Finding] = {}
    ranks: dict[str, tuple[int, bool]] = {}
    for fingerprint, rank, reported, data in store_history.found_in_run(store, run_id):
        found[fingerprint] = from_dict(orjson.loads(data))
        ranks[fingerprint] = (int(rank or 0), bool(reported))
    return found, ranks


def diff_runs(store: Any, run_a: int, run_b: int) -> RunDiff:
    """Compare what two runs found by fingerprint, with what crossed the report cut told apart (see
    :class:`RunDiff`)."""
    for run_id in (run_a, run_b):
        if not store_history.run_exists(store, run_id):
            raise LookupError(f"no run {run_id} in the archive (see `tracemine runs`)")
    a, ranks_a = _found(store, run_a)
    b, ranks_b = _found(store, run_b)
    both = [(a[k], b[k]) for k in a if k in b]
    rose = [(x, y) for x, y in both if ranks_b[y.fingerprint][1] and not ranks_a[x.fingerprint][1]]
    fell = [(x, y) for x, y in both if ranks_a[x.fingerprint][1] and not ranks_b[y.fingerprint][1]]
    both.sort(key=lambda p: (-abs(p[1].impact.trace_share - p[0].impact.trace_share), p[1].fingerprint))
    return RunDiff(run_a, run_b, [f for k, f in b.items() if k not in a], [f for k, f in a.items() if k not in b],
                   both, rose, fell, ranks_a, ranks_b)
