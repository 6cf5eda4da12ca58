"""The plugin hooks: what a tracemine plugin may register (see ARCHITECTURE.md, 'Plugins').

Every hook takes no argument and returns an iterable of components; :mod:`tracemine.plugins` calls
each plugin's implementation separately, so it knows where every component came from. Built-ins are
registered through these same hooks (:mod:`tracemine.default_plugins`). A plugin module marks its
functions with :data:`hookimpl`::

    from tracemine import hookimpl

    @hookimpl
    def register_readers():
        return [MyFormatReader]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pluggy

PROJECT = "tracemine"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_detectors() -> Iterable[Any]:
    """:class:`tracemine.detect.base.Detector` subclasses (named by their ``name``; a built-in name wins)."""


@hookspec
def register_readers() -> Iterable[Any]:
    """Format sniffers and readers: :class:`tracemine.ingest.base.Reader` subclasses (JSON documents and
    records, matched by ``priority``) and :class:`~tracemine.ingest.base.BinaryReader` subclasses."""


@hookspec
def register_conventions() -> Iterable[Any]:
    """Attribute conventions (objects or modules with ``FIELDS``, ``TRIGGERS``, ``kind`` and ``apply``;
    see :mod:`tracemine.ingest.mappers`); registration order is precedence."""


@hookspec
def register_publishers() -> Iterable[Any]:
    """:class:`tracemine.publish.spec.PublisherSpec` objects: a name, its CLI options and a factory."""


@hookspec
def register_report_writers() -> Iterable[Any]:
    """:class:`tracemine.report.writers.ReportWriter` objects: a name, a file name and a write function."""


@hookspec
def register_embedders() -> Iterable[Any]:
    """:class:`tracemine.embed.spec.EmbedderSpec` objects: a name and a factory from the ``embed:`` settings."""


@hookspec
def register_summarisers() -> Iterable[Any]:
    """:class:`tracemine.summarise.spec.SummariserSpec` objects: a name and a factory from a redactor."""


HOOKS = ("register_detectors", "register_readers", "register_conventions", "register_publishers",
         "register_report_writers", "register_embedders", "register_summarisers")
"""Every hook, in the order ``tracemine plugins`` lists them."""
