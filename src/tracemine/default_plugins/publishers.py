"""Built-in publishers: GitHub, GitLab, Jira and Linear issues, a Slack digest with threads, and a signed
JSON webhook. Each is configured
under ``publish.<name>`` in the settings; its one CLI option overrides where it publishes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tracemine.hookspecs import hookimpl

if TYPE_CHECKING:
    from tracemine.publish.settings import PublishSettings
    from tracemine.publish.spec import FindingPublisher, PublishContext, PublisherSpec

_TRACKERS = {
    # name: (publisher class as "module:Class", settings key the option overrides, option, help, not-configured)
    "github": ("tracemine.publish.github:GithubPublisher", "repo", "--github-repo", "OWNER/NAME",
               "GitHub repository for --to github (overrides publish.github.repo).",
               "publish.github.repo is not set (owner/name)"),
    "gitlab": ("tracemine.publish.gitlab:GitlabPublisher", "project", "--gitlab-project", "PROJECT",
               "GitLab project id or group/name for --to gitlab (overrides publish.gitlab.project).",
               "publish.gitlab.project is not set (numeric id or group/name)"),
    "jira": ("tracemine.publish.jira:JiraPublisher", "project_key", "--jira-project-key", "KEY",
             "Jira project key for --to jira (overrides publish.jira.project_key).",
             "publish.jira.base_url and publish.jira.project_key must be set"),
    "linear": ("tracemine.publish.linear:LinearPublisher", "team", "--linear-team", "TEAM",
               "Linear team key or id for --to linear (overrides publish.linear.team).",
               "publish.linear.team is not set (team key or id)"),
    "slack": ("tracemine.publish.slack:SlackPublisher", "channel", "--slack-channel", "CHANNEL",
              "Slack channel for --to slack with a bot token (overrides publish.slack.channel).",
              "publish.slack.channel (bot token) or publish.slack.incoming_webhook is not set"),
    "webhook": ("tracemine.publish.webhook:WebhookPublisher", "url", "--webhook-url", "URL",
                "Webhook URL for --to webhook (overrides publish.webhook.url).",
                "publish.webhook.url is not set"),
}


def _option_name(name: str) -> str:
    return _TRACKERS[name][2].lstrip("-").replace("-", "_")


def tracker_settings(name: str, settings: PublishSettings, options: Mapping[str, Any]) -> PublishSettings:
    """``settings`` with ``name``'s section overridden by its CLI option, when given (validated again:
    :class:`~tracemine.publish.settings.PublishConfigError` names the setting)."""
    from tracemine.publish.settings import load_publish_settings

    value = options.get(_option_name(name))
    if value is None:
        return settings
    data = settings.model_dump()
    data[name][_TRACKERS[name][1]] = value
    return load_publish_settings(data)


def _spec(name: str) -> PublisherSpec:
    import click

    from tracemine.publish.spec import PublisherSpec

    target, _, flag, metavar, help_text, not_set = _TRACKERS[name]

    def missing(settings: PublishSettings, options: Mapping[str, Any]) -> str | None:
        return None if getattr(tracker_settings(name, settings, options), name).configured else not_set

    def create(context: PublishContext) -> FindingPublisher:
        import importlib

        module, _, cls = target.partition(":")
        publisher_class = getattr(importlib.import_module(module), cls)
        settings = tracker_settings(name, context.settings, context.options)
        return publisher_class(settings, context.http, context.credentials, redactor=context.redactor,
                               trace_url=context.trace_url)

    option = click.Option([flag], metavar=metavar, help=help_text)
    return PublisherSpec(name, create, missing, (option,), help=f"{name} ({target})")


@hookimpl
def register_publishers() -> list[PublisherSpec]:
    return [_spec(name) for name in _TRACKERS]
