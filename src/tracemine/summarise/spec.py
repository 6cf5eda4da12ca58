"""What a summariser plugin provides (see ARCHITECTURE.md, 'Plugins'): a :class:`SummariserSpec` (a name
and a factory) building a :class:`tracemine.summarise.base.Summariser` (one method: ``summarise(brief)``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tracemine.summarise.base import Summariser

OFFLINE = "offline"
"""The built-in deterministic summariser (:class:`tracemine.summarise.offline.OfflineSummariser`)."""
LLM = "llm"
"""The built-in LLM summariser (:class:`tracemine.summarise.llm.LLMSummariser`, through litellm)."""

SummariserFactory = Callable[..., Summariser]
"""``create(settings, redactor, **options)``: ``settings`` the ``summarise.<name>`` section (e.g.
``summarise.llm``), ``redactor`` the run's :class:`~tracemine.redact.Redactor`, ``options``
extra keyword arguments a caller passes through (``llm_options`` for the LLM summariser)."""


@dataclass(frozen=True)
class SummariserSpec:
    """A summariser as registered through the ``register_summarisers`` hook."""

    name: str
    create: SummariserFactory
    help: str = ""


def summariser_specs() -> dict[str, SummariserSpec]:
    """The registered summarisers by name (built-ins first)."""
    from tracemine.plugins import by_name

    return by_name("register_summarisers")


def make_summariser(name: str, settings: Mapping[str, Any] | None, redactor: Any, **options: Any) -> Summariser:
    """The registered summariser ``name``; ``ValueError`` when unknown."""
    specs = summariser_specs()
    if name not in specs:
        raise ValueError(f"unknown summariser {name!r}; registered: {', '.join(specs)}")
    return specs[name].create(dict(settings or {}), redactor, **options)
