"""Publishing findings to issue trackers (GitHub, GitLab, Jira, Linear), Slack and webhooks, idempotently.

``publish_run(store, settings, run_id, trackers, dry_run, console)`` is the entry point; the mapping table
``publish_issues`` (:mod:`tracemine.store.publish_records`) remembers which issue stands for which finding.
"""

from tracemine.publish.base import Publisher, PublishError, PublishResult, Remote
from tracemine.publish.http import Http, HttpError, PlannedRequest
from tracemine.publish.run import PublishReport, print_report, publish_findings, publish_run, publishers
from tracemine.publish.settings import (
    TRACKERS,
    Credentials,
    PublishConfigError,
    PublishSettings,
    load_publish_settings,
)
from tracemine.publish.spec import DigestPublisher, FindingPublisher, PublishContext, PublisherSpec

__all__ = [
    "TRACKERS",
    "Credentials",
    "DigestPublisher",
    "FindingPublisher",
    "Http",
    "HttpError",
    "PlannedRequest",
    "PublishConfigError",
    "PublishContext",
    "PublishError",
    "PublishReport",
    "PublishResult",
    "PublishSettings",
    "Publisher",
    "PublisherSpec",
    "Remote",
    "load_publish_settings",
    "print_report",
    "publish_findings",
    "publish_run",
    "publishers",
]
