"""The ``publish:`` settings section, validated with pydantic, and credentials from the environment or
``secrets_file``.

Credentials are looked up by the *names* the settings give (``token_env``, ``email_env``, ``secret_env``):
first in the environment, then in ``secrets_file`` (a YAML or JSON mapping of those names to values). A
credential value is never put in an exception message, a log record or a stored row.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tracemine.model import Severity

TRACKERS = ("github", "gitlab", "jira", "linear", "slack", "webhook")


class PublishConfigError(ValueError):
    """The ``publish:`` settings do not validate, a tracker is not configured, or a credential is missing."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GithubSettings(_Section):
    repo: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    api_url: str = "https://api.github.com"
    token_env: str = "GITHUB_TOKEN"

    @property
    def configured(self) -> bool:
        return bool(self.repo)


class GitlabSettings(_Section):
    project: str | int | None = None
    api_url: str = "https://gitlab.com/api/v4"
    token_env: str = "GITLAB_TOKEN"

    @property
    def configured(self) -> bool:
        return self.project not in (None, "")


class JiraSettings(_Section):
    base_url: str | None = None
    project_key: str | None = Field(None, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    issue_type: str = "Bug"
    email_env: str = "JIRA_EMAIL"
    token_env: str = "JIRA_API_TOKEN"
    done_transition: str = "Done"
    reopen_transition: str = "To Do"

    @property
    def configured(self) -> bool:
        return bool(self.base_url and self.project_key)


class LinearSettings(_Section):
    team: str | None = None
    """The team's key (``ENG``) or id."""
    api_url: str = "https://api.linear.app/graphql"
    token_env: str = "LINEAR_API_KEY"
    done_state: str | None = None
    """The workflow state a resolved finding's issue moves to (by name); ``None``: the team's first completed one."""
    reopen_state: str | None = None
    """The state a regressed finding's issue moves back to; ``None``: the team's first unstarted (else started) one."""
    create_labels: bool = True
    """Create the ``publish.labels`` the team does not have yet (otherwise they are left out)."""
    priority_from_severity: bool = True
    """critical → Urgent, high → High, medium → Medium, low → Low."""

    @property
    def configured(self) -> bool:
        return bool(self.team)


class SlackSettings(_Section):
    channel: str | None = None
    """The channel (id or name) a bot token posts to: the digest, and each finding's updates in a thread."""
    incoming_webhook: bool = False
    """Without ``channel``: post the digest to the incoming webhook named by ``webhook_url_env`` (no threads)."""
    api_url: str = "https://slack.com/api"
    token_env: str = "SLACK_BOT_TOKEN"
    webhook_url_env: str = "SLACK_WEBHOOK_URL"
    max_digest_items: int = Field(15, ge=1, le=50)
    """Findings listed per digest section (the rest are counted)."""

    @property
    def configured(self) -> bool:
        return bool(self.channel) or self.incoming_webhook


class WebhookSettings(_Section):
    url: str | None = None
    secret_env: str = "TRACEMINE_WEBHOOK_SECRET"
    signature_header: str = "X-Tracemine-Signature"

    @property
    def configured(self) -> bool:
        return bool(self.url)


class PublishSettings(_Section):
    min_severity: Severity = Severity.MEDIUM
    min_traces: int = Field(1, ge=0)
    labels: list[str] = Field(default_factory=lambda: ["tracemine"])
    assignees: list[str] = Field(default_factory=list)
    close_resolved: bool = False
    reopen_regressed: bool = True
    comment_on_update: bool = True
    secrets_file: str | None = None
    timeout_s: float = Field(30, gt=0, le=600)
    retries: int = Field(5, ge=0, le=20)
    max_retry_after_s: float = Field(120, ge=0)
    """Longest wait honoured from a ``Retry-After`` (or rate-limit reset) header."""
    backoff_s: float = Field(1.0, ge=0)
    """First exponential-backoff wait (doubling up to ``backoff_max_s``) for 5xx and network errors."""
    backoff_max_s: float = Field(30.0, ge=0)
    report_url: str | None = None
    github: GithubSettings = GithubSettings()
    gitlab: GitlabSettings = GitlabSettings()
    jira: JiraSettings = JiraSettings()
    linear: LinearSettings = LinearSettings()
    slack: SlackSettings = SlackSettings()
    webhook: WebhookSettings = WebhookSettings()

    @field_validator("min_severity", mode="before")
    @classmethod
    def _severity(cls, value: object) -> object:
        """The YAML spells a severity as text; strict validation wants the enum member."""
        if isinstance(value, str) and not isinstance(value, Severity):
            if Severity.rank(value) < 0:
                raise ValueError(f"input should be one of {', '.join(repr(s.value) for s in Severity)}")
            return Severity(value)
        return value

    @field_validator("report_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("labels", "assignees")
    @classmethod
    def _no_blank(cls, value: list[str]) -> list[str]:
        out = [str(v).strip() for v in value]
        if any(not v for v in out):
            raise ValueError("must not contain empty names")
        return out

    def configured(self) -> list[str]:
        return [name for name in TRACKERS if getattr(self, name).configured]

    def passes(self, severity: str, traces: int) -> str | None:
        """Why a finding of ``severity`` with ``traces`` is filtered out, or ``None`` when it passes."""
        if Severity.rank(severity) < Severity.rank(self.min_severity):
            return f"severity {severity} below min_severity {self.min_severity}"
        if traces < self.min_traces:
            return f"{traces} trace(s) below min_traces {self.min_traces}"
        return None


def _urls_ok(settings: PublishSettings) -> None:
    checks = {
        "github.api_url": settings.github.api_url,
        "gitlab.api_url": settings.gitlab.api_url,
        "jira.base_url": settings.jira.base_url,
        "linear.api_url": settings.linear.api_url,
        "slack.api_url": settings.slack.api_url,
        "webhook.url": settings.webhook.url,
    }
    for name, url in checks.items():
        if url and not str(url).startswith(("http://", "https://")):
            raise PublishConfigError(f"publish.{name} must be an http:// or https:// URL, not {url!r}")


def load_publish_settings(settings: Any) -> PublishSettings:
    """The ``publish:`` section of the tracemine settings (a :class:`tracemine.config.Settings`, a mapping
    holding a ``publish`` key, or the section itself), validated; :class:`PublishConfigError` otherwise."""
    if isinstance(settings, PublishSettings):
        return settings
    section: Any
    extra = getattr(settings, "model_extra", None)
    if extra is not None:
        section = extra.get("publish")
    elif isinstance(settings, Mapping) and "publish" in settings:
        section = settings["publish"]
    else:
        section = settings
    if section is None:
        section = {}
    if not isinstance(section, Mapping):
        raise PublishConfigError("the publish: settings must be a mapping")
    try:
        parsed = PublishSettings.model_validate(dict(section))
    except ValidationError as exc:
        problems = "; ".join(
            f"publish.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise PublishConfigError(f"invalid publish settings: {problems}") from None
    _urls_ok(parsed)
    return parsed


class Credentials:
    """Credential values by variable name (environment first, then ``secrets_file``), and masking of those
    values in any text that leaves the publisher."""

    MASK = "***"

    def __init__(self, secrets_file: str | None = None, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ if environ is not None else os.environ
        self._file: dict[str, str] = _read_secrets_file(secrets_file) if secrets_file else {}
        self._used: set[str] = set()

    def get(self, name: str) -> str | None:
        value = self._environ.get(name) or self._file.get(name)
        if value:
            self._used.add(value)
            return value
        return None

    def require(self, name: str, what: str) -> str:
        value = self.get(name)
        if not value:
            raise PublishConfigError(f"{what}: set the environment variable {name} (or put it in publish.secrets_file)")
        return value

    def remember(self, value: str) -> None:
        """Mask ``value`` too (a credential derived from others, e.g. an encoded ``email:token`` pair)."""
        if value:
            self._used.add(value)

    def mask(self, text: Any) -> str:
        """``text`` with every credential value read so far (and any in the secrets file) replaced by ``***``."""
        out = str(text)
        for value in sorted(self._used | set(self._file.values()), key=len, reverse=True):
            if value and len(value) >= 4:
                out = out.replace(value, self.MASK)
        return out


def _read_secrets_file(path: str) -> dict[str, str]:
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise PublishConfigError(f"cannot read publish.secrets_file {file}: {exc.strerror or type(exc).__name__}") from None
    try:
        data = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError):
        # never echo the parser's message: it may quote a line holding a secret
        raise PublishConfigError(f"publish.secrets_file {file} is not valid YAML/JSON") from None
    if data is None:
        data = {}
    if not isinstance(data, Mapping) or not all(isinstance(k, str) for k in data):
        raise PublishConfigError(f"publish.secrets_file {file} must be a mapping of variable names to values")
    try:
        mode = file.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            import logging

            logging.getLogger("tracemine.publish").warning(
                "publish.secrets_file %s is readable by other users; chmod 600 it", file)
    except OSError:
        pass
    return {k: str(v) for k, v in data.items() if v is not None}
