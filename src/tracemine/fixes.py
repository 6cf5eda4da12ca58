"""Fix verification: ``tracemine fix FINGERPRINT --at TIME`` records when a finding's fix shipped, and
every later ``mine`` run says whether the failure mode went away.

**Rates.** The traces the archive's non-empty runs examined (their windows, this run's included, each
trace once however many windows held it) are split by when each trace started: before the fix or not.
*Occurrences* are the traces the finding cites in any run. ``before`` and ``after`` are
``(traces, occurrences, share)`` of each side.

**Test.** Fisher's exact test, one-sided: is the share after the fix lower than before? Under "the fix
changed nothing" the after-side occurrences follow a hypergeometric law (every occurrence equally likely
in any examined trace), and the p-value is its lower tail at the count seen. It is exact for rare counts,
where a normal approximation is not; :func:`fisher_less` computes it in log space with :func:`math.lgamma`
(a few lines, so no statistics package is needed for it).

**Verdict** (:class:`FixStatus`), with ``alpha`` and ``max_residual`` from the ``history:`` settings:

* ``awaiting-data`` — fewer traces after the fix than even a perfect fix would need to reach
  ``p < alpha`` (``traces_needed`` says how many would do, if no further occurrence appears), or no
  occurrence before the fix to compare with (``traces_needed`` is then ``None``);
* ``fix-verified`` — ``p < alpha`` and the share after is at most ``max_residual`` × the share before
  (the mode is gone or nearly);
* ``fix-not-effective`` — enough traces, and the share did not fall (significantly, or far enough);
* ``regressed`` — a verified fix whose finding is found again in traces after the fix; the finding's own
  status becomes ``regressed`` in that run (which reopens its tracker issue), and the fix stays
  ``regressed`` until a new fix time is recorded.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import orjson

from tracemine.model import Finding, FindingStatus
from tracemine.store import fixes as store_fixes

MAX_TRACES_NEEDED = 10**9
"""Beyond this many traces ``traces_needed`` is not searched."""


class FixStatus(StrEnum):
    """What a run concludes about a recorded fix."""

    VERIFIED = "fix-verified"
    NOT_EFFECTIVE = "fix-not-effective"
    AWAITING = "awaiting-data"
    REGRESSED = "regressed"


class FixError(ValueError):
    """A fix that cannot be recorded (unknown finding, bad time or link)."""


# -- the exact test -------------------------------------------------------------------------------------


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_less(before_occurrences: int, before_traces: int, after_occurrences: int, after_traces: int) -> float:
    """One-sided Fisher exact p-value that the share after is lower than before: ``P(X ≤ after_occurrences)``
    for ``X`` hypergeometric (``after_traces`` drawn from all traces, the occurrences of both sides marked)."""
    total = before_traces + after_traces
    marked = before_occurrences + after_occurrences
    drawn = after_traces
    if not 0 <= before_occurrences <= before_traces or not 0 <= after_occurrences <= after_traces:
        raise ValueError("occurrences must be between 0 and the traces of their side")
    low = max(0, drawn - (total - marked))
    if after_occurrences < low:
        return 0.0
    log_total = _log_comb(total, drawn)
    tail = sum(math.exp(_log_comb(marked, x) + _log_comb(total - marked, drawn - x) - log_total)
               for x in range(low, after_occurrences + 1))
    return min(1.0, tail)


def traces_needed(before_occurrences: int, before_traces: int, after_occurrences: int, alpha: float) -> int | None:
    """The fewest traces after the fix with ``after_occurrences`` among them that give ``p < alpha``
    (:func:`fisher_less`); ``None`` without occurrences before the fix, or beyond :data:`MAX_TRACES_NEEDED`."""
    if before_occurrences <= 0 or before_traces <= 0:
        return None

    def significant(n: int) -> bool:
        return fisher_less(before_occurrences, before_traces, after_occurrences, n) < alpha

    low, high = max(after_occurrences, 1), max(after_occurrences, 1)
    while not significant(high):
        if high > MAX_TRACES_NEEDED:
            return None
        low, high = high + 1, high * 2
    while low < high:  # the p-value falls as traces grow with the same occurrences
        middle = (low + high) // 2
        if significant(middle):
            high = middle
        else:
            low = middle + 1
    return high


# -- verdicts -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rate:
    """Examined traces on one side of a fix and those with the finding."""

    traces: int
    occurrences: int

    @property
    def share(self) -> float:
        return self.occurrences / self.traces if self.traces else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"traces": self.traces, "occurrences": self.occurrences, "share": self.share}


def verdict(before: Rate, after: Rate, reappeared: bool, previous: str | None, alpha: float,
            max_residual: float) -> tuple[FixStatus, float | None, int | None]:
    """``(status, p_value, traces_needed)`` of a fix (see the module docstring); ``reappeared`` says whether
    this run found the finding in traces after the fix, ``previous`` is the last run's status."""
    p_value = fisher_less(before.occurrences, before.traces, after.occurrences, after.traces) \
        if before.traces and after.traces else None
    needed = traces_needed(before.occurrences, before.traces, after.occurrences, alpha)
    if previous == FixStatus.REGRESSED or (previous == FixStatus.VERIFIED and reappeared):
        return FixStatus.REGRESSED, p_value, needed
    perfect = traces_needed(before.occurrences, before.traces, 0, alpha)
    if perfect is None or after.traces < perfect:
        return FixStatus.AWAITING, p_value, needed
    if p_value is not None and p_value < alpha and after.share <= max_residual * before.share:
        return FixStatus.VERIFIED, p_value, needed
    return FixStatus.NOT_EFFECTIVE, p_value, needed


@dataclass
class FixCheck:
    """What one run concludes about one recorded fix; ``found`` says whether the run found the finding."""

    fingerprint: str
    title: str
    at_ns: int
    note: str | None
    ref: str | None
    before: Rate
    after: Rate
    p_value: float | None
    alpha: float
    status: FixStatus
    traces_needed: int | None
    found: bool
    max_residual: float = 0.2
    finding: Finding | None = field(default=None, repr=False)
    """The finding of this run it is about (found or resolved), whose title is worded after the check."""

    def as_dict(self) -> dict[str, Any]:
        """The ``fix`` object of a finding in ``findings.json`` (and the ``fixes[]`` item, with ``title``/``found``)."""
        from tracemine.report.jsonout import iso_ns

        title = self.finding.title if self.finding is not None else self.title
        return {
            "fingerprint": self.fingerprint, "title": title, "found": self.found,
            "at": iso_ns(self.at_ns), "at_ns": self.at_ns, "note": self.note, "ref": self.ref,
            "before": self.before.as_dict(), "after": self.after.as_dict(), "p_value": self.p_value,
            "alpha": self.alpha, "max_residual": self.max_residual, "status": str(self.status),
            "traces_needed": self.traces_needed,
        }


# -- recording fixes ------------------------------------------------------------------------------------


def parse_fix_time(text: str, now_ns: int | None = None) -> int:
    """``now``, ``3d ago`` (any ``--window`` duration) or an ISO date/datetime → epoch ns."""
    from tracemine.timewindow import WindowError, parse_duration, parse_instant

    raw = (text or "").strip().lower()
    now = now_ns if now_ns is not None else time.time_ns()
    try:
        if raw == "now":
            return now
        if raw.endswith(" ago"):
            return now - parse_duration(raw[:-4])
        return parse_instant(text)
    except WindowError as exc:
        raise FixError(f"--at: {exc}; or give `now` or a duration with `ago`, e.g. `2d ago`") from None


def check_ref(ref: str | None) -> str | None:
    """``ref`` when it is an http(s) URL (the link is shown in reports and tracker comments)."""
    if ref is None:
        return None
    parts = urlsplit(ref.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c in ref for c in "<>\"' \n\r\t`"):
        raise FixError(f"--ref {ref!r} must be an http:// or https:// URL")
    return ref.strip()


def record_fix(store: Any, ident: str, at_ns: int, note: str | None = None, ref: str | None = None,
               redactor: Any = None) -> tuple[str, bool]:
    """Record that the fix of the finding ``ident`` (a fingerprint or its unique prefix) shipped at ``at_ns``;
    returns the full fingerprint and whether an earlier record was updated. ``note`` is stored redacted
    (``redactor``, default :func:`tracemine.redact.default_redactor`); a ``ref`` the redactor would change
    (a token in the link) is refused."""
    from tracemine.history import load_finding
    from tracemine.redact import default_redactor

    red = redactor or default_redactor()
    ref = check_ref(ref)
    if ref is not None and red.redact(ref) != ref:
        raise FixError("--ref looks like it holds a secret (the redactor would change it): give a link without it")
    note = red.redact(note.strip()) if note and note.strip() else None

    finding = load_finding(store, ident.strip())  # AmbiguousFingerprint (a LookupError) for a shared prefix
    if finding is None:
        raise FixError(f"no finding {ident!r} in the archive: give a fingerprint from a mine run "
                       "(findings.json, `tracemine runs`, `tracemine show`)")
    updated = store_fixes.put_fix(store, finding.fingerprint, at_ns, note, ref, time.time_ns())
    return finding.fingerprint, updated


def remove_fix(store: Any, ident: str) -> str:
    """Forget the recorded fix of ``ident`` (fingerprint or unique prefix); returns the fingerprint."""
    fingerprint = _recorded_fingerprint(store, ident)
    store_fixes.delete_fix(store, fingerprint)
    return fingerprint


def _recorded_fingerprint(store: Any, ident: str) -> str:
    ident = ident.strip()
    known = [row["fingerprint"] for row in store_fixes.fix_rows(store)]
    if ident in known:
        return ident
    matches = [fp for fp in known if fp.startswith(ident) or fp.startswith(f"tm-{ident}")]
    if len(matches) == 1:
        return matches[0]
    if matches:
        from tracemine.history import AmbiguousFingerprint

        raise AmbiguousFingerprint(ident, matches)
    raise FixError(f"no fix recorded for {ident!r} (see `tracemine fix --list`)")


@dataclass
class FixRecord:
    """A recorded fix and the last run's verdict on it (``check``: its :meth:`FixCheck.as_dict`)."""

    fingerprint: str
    at_ns: int
    note: str | None
    ref: str | None
    recorded_ns: int | None
    status: str | None
    run_id: int | None
    check: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        """``tracemine fix --list --json``: the record and the last verdict (``check``, ``None`` before one)."""
        from tracemine.report.jsonout import iso_ns

        return {"fingerprint": self.fingerprint, "at": iso_ns(self.at_ns), "at_ns": self.at_ns, "note": self.note,
                "ref": self.ref, "recorded": iso_ns(self.recorded_ns), "status": self.status, "run_id": self.run_id,
                "check": self.check}


def list_fixes(store: Any, fingerprint: str | None = None) -> list[FixRecord]:
    """The recorded fixes (or the one of ``fingerprint``), by fingerprint."""
    return [FixRecord(r["fingerprint"], int(r["at_ns"]), r["note"], r["ref"], r["recorded_ns"], r["check_status"],
                      r["check_run_id"], orjson.loads(r["check_data"]) if r["check_data"] else None)
            for r in store_fixes.fix_rows(store, fingerprint)]


# -- checking fixes in a mine run -----------------------------------------------------------------------


def check_fixes(store: Any, findings: list[Finding], window: Any, alpha: float = 0.01,
                max_residual: float = 0.2) -> list[FixCheck]:
    """Judge every recorded fix in the run being mined (``findings``: what it found and what it resolves;
    ``window``: its :class:`~tracemine.timewindow.Window`). Each finding with a fix gets it as ``fix``
    (:meth:`FixCheck.as_dict`; :func:`attach_fixes` renews it once the finding is worded), and one whose
    verified fix failed becomes ``regressed`` (before ranking, which weighs the status)."""
    from tracemine.history import load_finding

    records = list_fixes(store)
    if not records:
        return []
    windows = [*store_fixes.examined_windows(store), (window.since_ns, window.until_ns, None)]
    by_fingerprint = {f.fingerprint: f for f in findings}
    found_now = {fp for fp, f in by_fingerprint.items() if f.status != FindingStatus.RESOLVED}
    counts = store_fixes.split_counts(store, windows, [
        (r.fingerprint, r.at_ns, list(by_fingerprint[r.fingerprint].trace_ids) if r.fingerprint in found_now else [])
        for r in records])
    checks = []
    for record in records:
        finding = by_fingerprint.get(record.fingerprint)
        found = record.fingerprint in found_now
        tb, ta, ob, oa, now_after = counts[record.fingerprint]
        before, after = Rate(tb, ob), Rate(ta, oa)
        status, p_value, needed = verdict(before, after, now_after > 0, record.status, alpha, max_residual)
        title = finding.title if finding is not None else getattr(load_finding(store, record.fingerprint), "title", "")
        check = FixCheck(record.fingerprint, title, record.at_ns, record.note, record.ref, before, after, p_value,
                         alpha, status, needed, found, max_residual, finding)
        if finding is not None:
            finding.fix = check.as_dict()
            if status == FixStatus.REGRESSED and record.status == FixStatus.VERIFIED and found:
                finding.status = FindingStatus.REGRESSED
        checks.append(check)
    return checks


def attach_fixes(checks: list[FixCheck]) -> list[dict[str, Any]]:
    """Once the findings are worded: each checked finding's ``fix`` again (with its title), and every
    check as the reports list it (:attr:`tracemine.report.jsonout.ReportContext.fixes`)."""
    out = []
    for check in checks:
        data = check.as_dict()
        if check.finding is not None:
            check.finding.fix = data
        out.append(data)
    return out


def check_rows(checks: list[FixCheck]) -> list[tuple[str, str, str]]:
    """``(fingerprint, status, data JSON)`` of each check, as the run history stores them."""
    return [(c.fingerprint, str(c.status), orjson.dumps(c.as_dict()).decode()) for c in checks]
