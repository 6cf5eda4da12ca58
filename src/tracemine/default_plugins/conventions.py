"""Built-in attribute conventions, in precedence order: OpenInference, OTel GenAI, OpenLLMetry, HALO."""

from __future__ import annotations

from typing import Any

from tracemine.hookspecs import hookimpl


@hookimpl
def register_conventions() -> list[Any]:
    from tracemine.ingest.mappers import genai, halo, openinference, openllmetry

    return [openinference, genai, openllmetry, halo]
