"""What a publisher plugin provides (see ARCHITECTURE.md, 'Plugins'): a :class:`PublisherSpec` — its
name, the CLI options it brings to ``tracemine publish`` and ``tracemine mine``, why it cannot publish
yet, and a factory — and the :class:`FindingPublisher` protocol its objects implement (with
:class:`DigestPublisher` for those that also say something once per run, like the Slack digest)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import click

    from tracemine.model import Finding
    from tracemine.publish.base import PublishResult
    from tracemine.publish.http import Http
    from tracemine.publish.render import Rendered
    from tracemine.publish.settings import Credentials, PublishSettings


@runtime_checkable
class FindingPublisher(Protocol):
    """Keeps one target in step with a run's findings. ``name`` and ``target`` (repo, project, URL) label
    its outcomes. :class:`tracemine.publish.base.Publisher` implements it for issue trackers."""

    name: str

    @property
    def target(self) -> str: ...

    def check(self) -> None:
        """Raise :class:`~tracemine.publish.settings.PublishConfigError` when it cannot publish (a missing
        credential, except in a dry run)."""

    def publish(self, finding: Finding, rendered: Rendered, run_id: int, store: Any) -> PublishResult:
        """Publish one finding (``rendered``: its redacted, escaped title and body); never raise for the
        tracker's answer alone: say it in the :class:`~tracemine.publish.base.PublishResult`."""


@runtime_checkable
class DigestPublisher(FindingPublisher, Protocol):
    """A :class:`FindingPublisher` that also publishes one message per run (the Slack digest). The publish
    step calls :meth:`publish_digest` once with the run's findings, before it gives it each finding."""

    def publish_digest(self, findings: Sequence[Finding], run_id: int, store: Any) -> PublishResult:
        """Publish the run's digest at most once per run (idempotently); the result's fingerprint names the
        digest (``digest:run-<id>``), not a finding. Never raise for the tracker's answer alone."""


@dataclass(frozen=True)
class PublishContext:
    """What a publisher factory is given: the validated ``publish:`` settings, the HTTP client made for
    it (retries, dry-run planning, credential masking), credentials, the redactor, the trace URL template
    and the values of its own CLI options (by parameter name; ``None`` when not given)."""

    settings: PublishSettings
    http: Http
    credentials: Credentials
    redactor: Any
    trace_url: str | None
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def dry_run(self) -> bool:
        return self.http.dry_run


@dataclass(frozen=True)
class PublisherSpec:
    """A publisher as registered through the ``register_publishers`` hook.

    ``create(context)`` builds the :class:`FindingPublisher`; ``missing(settings, options)`` says why it
    is not configured (``None`` when it is: publishing without ``--to`` uses every configured one);
    ``options`` are click options added to ``tracemine publish`` and ``tracemine mine`` (their parameter
    names must be unique among publishers; their values reach ``create`` and ``missing``)."""

    name: str
    create: Callable[[PublishContext], FindingPublisher]
    missing: Callable[[PublishSettings, Mapping[str, Any]], str | None]
    options: tuple[click.Option, ...] = ()
    help: str = ""

    def option_values(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """This publisher's own option values out of every publisher option given."""
        return {str(o.name): given.get(str(o.name)) for o in self.options}
