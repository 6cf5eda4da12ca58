"""Publishing a mine run: the findings it reported (and those it marked resolved) to each tracker."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from tracemine.plugins import by_name
from tracemine.publish.base import PublishError, PublishResult
from tracemine.publish.http import Http, HttpError, PlannedRequest
from tracemine.publish.render import render
from tracemine.publish.settings import Credentials, PublishConfigError, load_publish_settings
from tracemine.publish.spec import DigestPublisher, FindingPublisher, PublishContext, PublisherSpec

log = logging.getLogger("tracemine.publish")


def publishers() -> dict[str, PublisherSpec]:
    """The registered publishers by name (``register_publishers`` hook; built-ins first)."""
    return by_name("register_publishers")


@dataclass
class PublishReport:
    """What a publish did, finding by finding (``outcomes``), and in a dry run the requests it would send."""

    run_id: int | None
    dry_run: bool = False
    outcomes: list[PublishResult] = field(default_factory=list)
    planned: list[PlannedRequest] = field(default_factory=list)
    requests_sent: int = 0

    @property
    def ok(self) -> bool:
        """No finding (and no tracker) failed."""
        return not any(o.failed for o in self.outcomes)

    @property
    def failed(self) -> list[PublishResult]:
        return [o for o in self.outcomes if o.failed]

    def counts(self) -> dict[str, int]:
        """Results by action: created, updated, reopened, closed, skipped, failed (``commented`` too)."""
        counts: Counter[str] = Counter()
        for o in self.outcomes:
            if o.failed or o.skipped or not o.actions:
                counts[o.action] += 1
            else:
                counts.update(o.actions)
        return dict(counts)

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "dry_run": self.dry_run, "ok": self.ok, "counts": self.counts(),
                "outcomes": [o.to_dict() for o in self.outcomes]}


def _tracker_failure(report: PublishReport, tracker: str, target: str, reason: str) -> None:
    report.outcomes.append(PublishResult(tracker, target, "*", reason=reason, failed=True))


def publish_run(
    store: Any,
    settings: Any,
    run_id: int | None = None,
    trackers: Sequence[str] | None = None,
    dry_run: bool = False,
    console: Any = None,
    *,
    options: Mapping[str, Any] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    transport: httpx.BaseTransport | None = None,
    environ: Mapping[str, str] | None = None,
) -> PublishReport:
    """Publish the findings of mine run ``run_id`` (the latest when ``None``) to ``trackers`` (registered
    publisher names; every configured one when empty). ``options`` are the publishers' CLI option values by
    parameter name. Never raises for a tracker or a finding that fails: the report says which failed and
    why (``report.ok`` is false). With ``console`` (a rich Console) prints the requests of a dry run and a
    table of outcomes. ``sleep``, ``transport`` and ``environ`` are for tests."""
    from tracemine.history import latest_run_id

    report = PublishReport(run_id=run_id, dry_run=dry_run)
    given = dict(options or {})
    try:
        ps = load_publish_settings(settings)
    except PublishConfigError as exc:
        _tracker_failure(report, "publish", "", str(exc))
        return _finish(report, console)
    specs = publishers()
    names = list(dict.fromkeys(trackers or _configured(specs, ps, given)))
    if not names:
        _tracker_failure(report, "publish", "", "no tracker configured: set publish.github.repo, publish.gitlab.project, "
                                                "publish.jira.base_url and project_key, publish.linear.team, "
                                                "publish.slack.channel (or incoming_webhook), or publish.webhook.url")
        return _finish(report, console)
    if run_id is None:
        run_id = latest_run_id(store)
        report.run_id = run_id
    if run_id is None:
        _tracker_failure(report, "publish", "", "no mine run in the archive: run `tracemine mine` first")
        return _finish(report, console)
    redactor, trace_url = _redactor_and_trace_url(settings)
    try:
        credentials = Credentials(ps.secrets_file, environ)
    except PublishConfigError as exc:
        for name in names:
            _tracker_failure(report, name, "", str(exc))
        return _finish(report, console)
    findings = _run_findings(store, run_id)
    for name in names:
        spec = specs.get(name)
        if spec is None:
            _tracker_failure(report, name, "", f"unknown tracker {name!r}; expected one of {', '.join(specs)}")
            continue
        values = spec.option_values(given)
        try:
            why = spec.missing(ps, values)
        except PublishConfigError as exc:
            why = str(exc)
        if why is not None:
            _tracker_failure(report, name, "", why)
            continue
        http = Http(credentials, timeout_s=ps.timeout_s, retries=ps.retries, max_retry_after_s=ps.max_retry_after_s,
                    backoff_s=ps.backoff_s, backoff_max_s=ps.backoff_max_s, dry_run=dry_run, sleep=sleep,
                    transport=transport, tracker=name)
        try:
            try:
                publisher = spec.create(PublishContext(ps, http, credentials, redactor, trace_url, values))
            except PublishConfigError as exc:
                _tracker_failure(report, name, "", credentials.mask(exc))
                continue
            try:
                publisher.check()
            except PublishConfigError as exc:
                _tracker_failure(report, name, publisher.target, credentials.mask(exc))
                continue
            if isinstance(publisher, DigestPublisher):
                http.fingerprint = f"digest:run-{run_id}"
                report.outcomes.append(_publish_digest(publisher, findings, run_id, store, credentials.mask))
            for finding in findings:
                http.fingerprint = finding.fingerprint
                report.outcomes.append(_publish_one(publisher, finding, run_id, store, redactor, trace_url,
                                                    ps.report_url, credentials.mask))
        finally:
            report.planned += http.planned
            report.requests_sent += http.sent
            http.close()
    return _finish(report, console)


def publish_findings(publishers: Sequence[FindingPublisher], store: Any, run_id: int, settings: Any = None
                     ) -> PublishReport:
    """Publish mine run ``run_id``'s reported findings to ready-made ``publishers`` (objects, e.g. passed to
    :func:`tracemine.mine`): each is checked, then given each finding with its rendered issue text; one
    finding's failure is an outcome in the report, never an exception."""
    report = PublishReport(run_id=run_id)
    redactor, trace_url = _redactor_and_trace_url(settings or {})
    try:
        report_url = load_publish_settings(settings or {}).report_url
    except PublishConfigError:
        report_url = None
    findings = _run_findings(store, run_id)
    for publisher in publishers:
        try:
            publisher.check()
        except PublishConfigError as exc:
            _tracker_failure(report, publisher.name, publisher.target, str(exc))
            continue
        if isinstance(publisher, DigestPublisher):
            report.outcomes.append(_publish_digest(publisher, findings, run_id, store, str))
        for finding in findings:
            report.outcomes.append(_publish_one(publisher, finding, run_id, store, redactor, trace_url, report_url,
                                                str))
    return report


def _run_findings(store: Any, run_id: int) -> list[Any]:
    from tracemine.history import run_findings

    return run_findings(store, run_id, reported_only=True)


def _configured(specs: Mapping[str, PublisherSpec], settings: Any, options: Mapping[str, Any]) -> list[str]:
    """The publishers ready to publish without being named (configured in the settings or by their options)."""
    ready = []
    for name, spec in specs.items():
        values = spec.option_values(options)
        try:
            if spec.missing(settings, values) is None:
                ready.append(name)
        except PublishConfigError:
            if any(v is not None for v in values.values()):
                ready.append(name)  # its own options were given: publishing to it reports what is wrong
    return ready


def _publish_one(publisher: FindingPublisher, finding: Any, run_id: int, store: Any, redactor: Any,
                 trace_url: str | None, report_url: str | None, mask: Callable[[Any], str]) -> PublishResult:
    try:
        rendered = render(finding, redactor, report_url, trace_url)
        outcome = publisher.publish(finding, rendered, run_id, store)
    except (HttpError, PublishError, PublishConfigError) as exc:
        outcome = PublishResult(publisher.name, publisher.target, finding.fingerprint, finding.status, finding.title,
                          reason=mask(exc), failed=True)
    except Exception as exc:  # one finding's failure must not stop the others
        log.debug("publish %s to %s failed", finding.fingerprint, publisher.name, exc_info=False)
        outcome = PublishResult(publisher.name, publisher.target, finding.fingerprint, finding.status, finding.title,
                          reason=mask(f"{type(exc).__name__}: {exc}"), failed=True)
    level = logging.WARNING if outcome.failed else logging.INFO
    log.log(level, "%s %s: %s%s", publisher.name, finding.fingerprint, outcome.action,
            f" ({outcome.reason})" if outcome.reason else "")
    return outcome


def _publish_digest(publisher: DigestPublisher, findings: Sequence[Any], run_id: int, store: Any,
                    mask: Callable[[Any], str]) -> PublishResult:
    """The run's digest (before its findings); a failure is an outcome like a finding's."""
    key = f"digest:run-{run_id}"
    try:
        outcome = publisher.publish_digest(findings, run_id, store)
    except (HttpError, PublishError, PublishConfigError) as exc:
        outcome = PublishResult(publisher.name, publisher.target, key, reason=mask(exc), failed=True)
    except Exception as exc:  # the findings are still published (or fail on their own)
        outcome = PublishResult(publisher.name, publisher.target, key, reason=mask(f"{type(exc).__name__}: {exc}"),
                                failed=True)
    level = logging.WARNING if outcome.failed else logging.INFO
    log.log(level, "%s %s: %s%s", publisher.name, key, outcome.action, f" ({outcome.reason})" if outcome.reason else "")
    return outcome


def _redactor_and_trace_url(settings: Any) -> tuple[Any, str | None]:
    from tracemine.redact import Redactor

    extra = getattr(settings, "model_extra", None) or (settings if isinstance(settings, Mapping) else {})
    try:
        redactor = Redactor.from_settings(extra.get("redact")) if isinstance(extra.get("redact"), Mapping) \
            else Redactor()
    except ValueError:
        redactor = Redactor()
    report_section = extra.get("report")
    trace_url = report_section.get("trace_url") if isinstance(report_section, Mapping) else None
    return redactor, trace_url if isinstance(trace_url, str) else None


def _finish(report: PublishReport, console: Any) -> PublishReport:
    if console is not None:
        print_report(console, report)
    return report


_VERB = {"created": "create", "updated": "update", "commented": "comment", "reopened": "reopen", "closed": "close"}


def print_report(console: Any, report: PublishReport) -> None:
    """The dry run's requests (credentials masked), then one row per finding and tracker."""
    from rich.table import Table
    from rich.text import Text

    if report.dry_run:
        console.print(Text(f"Dry run: {len(report.planned)} request(s) would be sent; nothing was sent.",
                           style="bold"))
        for req in report.planned:
            console.print(Text(f"[{req.tracker} {req.fingerprint}]", style="dim"))
            console.print(Text(req.render()))
    if not report.outcomes:
        console.print(Text(f"Nothing to publish from run {report.run_id}."))
        return
    table = Table(title=f"Publish run {report.run_id}" + (" (dry run)" if report.dry_run else ""), title_justify="left")
    for column in ("tracker", "fingerprint", "status", "action"):
        table.add_column(column, no_wrap=True)
    for column in ("issue", "reason"):
        table.add_column(column, overflow="fold")
    styles = {"failed": "bold red", "skipped": "dim"}
    for o in report.outcomes:
        issue = o.url or o.issue or ""
        action = o.action
        if report.dry_run and o.actions and not (o.failed or o.skipped):
            action = "would " + "+".join(_VERB.get(a, a) for a in o.actions)
        table.add_row(Text(o.tracker), Text(o.fingerprint), Text(o.status),
                      Text(action, style=styles.get(o.action, "green")), Text(issue), Text(o.reason))
    console.print(table)
    counts = report.counts()
    prefix = "would be " if report.dry_run else ""
    console.print(Text(", ".join(f"{n} {prefix if k in _VERB else ''}{k}" for k, n in sorted(counts.items()))
                       or "nothing done"))
