"""The publishers' part of the command line: ``--to`` / ``--publish`` take any registered publisher's
name, and each publisher's own options are added to ``tracemine publish`` and ``tracemine mine`` when
the command runs (so the plugins load only when a command needs them, not for ``tracemine --help``)."""

from __future__ import annotations

import logging
from typing import Any

import click

log = logging.getLogger("tracemine.plugins")


def _specs() -> dict[str, Any]:
    from tracemine.publish.run import publishers

    return publishers()


class PublisherName(click.ParamType):
    """A registered publisher's name (``github``, ``gitlab``, ``jira``, ``webhook``, plugins' own)."""

    name = "publisher"

    def get_metavar(self, *args: Any, **kwargs: Any) -> str:
        return "[" + "|".join(_specs()) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        names = list(_specs())
        if value in names:
            return str(value)
        self.fail(f"{value!r} is not one of {', '.join(repr(n) for n in names)}.", param, ctx)


class PublisherOptionsCommand(click.Command):
    """A command that also takes every registered publisher's own options (passed to its callback as
    keyword arguments; :func:`option_values` collects them)."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        own = {p.name for p in self.params}
        extra: list[click.Parameter] = []
        for spec in _specs().values():
            for option in spec.options:
                if option.name in own:
                    log.warning("publisher %s: option %s clashes with `%s`'s own; left out", spec.name,
                                option.opts[0], self.name)
                    continue
                own.add(option.name)
                extra.append(option)
        return [*self.params, *extra, *params[len(self.params):]]


def option_values(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The publisher options among a callback's keyword arguments (by parameter name)."""
    names = {str(o.name) for spec in _specs().values() for o in spec.options}
    return {k: v for k, v in kwargs.items() if k in names}
