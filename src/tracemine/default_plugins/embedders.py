"""The built-in embedder: a sentence-transformers model on CPU (all-MiniLM-L6-v2, offline)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracemine.hookspecs import hookimpl


def _sentence_transformers(settings: Mapping[str, Any]) -> Any:
    from tracemine.embed.model import Embedder

    return Embedder.from_settings(settings)


@hookimpl
def register_embedders() -> list[Any]:
    from tracemine.embed.spec import DEFAULT_EMBEDDER, EmbedderSpec

    return [EmbedderSpec(DEFAULT_EMBEDDER, _sentence_transformers, "tracemine.embed.model:Embedder")]
