"""What an embedder plugin provides (see ARCHITECTURE.md, 'Plugins'): an :class:`EmbedderSpec` (a name
and a factory from the ``embed:`` settings) building a :class:`TextEmbedder`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

DEFAULT_EMBEDDER = "sentence_transformers"
"""The built-in embedder (:class:`tracemine.embed.model.Embedder`, all-MiniLM-L6-v2 offline)."""


@runtime_checkable
class TextEmbedder(Protocol):
    """Texts to unit-length float32 vectors. ``model_id`` keys the vector cache (change it whenever the
    vectors would change); ``dim`` is the vector width once known (``None`` before the first encode).
    :func:`tracemine.embed.embed_texts` sets ``last_stats`` on it after each call."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int | None: ...

    def encode(self, texts: list[str]) -> np.ndarray:
        """One unit row per text, in order."""


@dataclass(frozen=True)
class EmbedderSpec:
    """An embedder as registered through the ``register_embedders`` hook: ``create(embed_settings)``."""

    name: str
    create: Callable[[Mapping[str, Any]], TextEmbedder]
    help: str = ""


def embedder_specs() -> dict[str, EmbedderSpec]:
    """The registered embedders by name (built-in first)."""
    from tracemine.plugins import by_name

    return by_name("register_embedders")


def make_embedder(name: str, settings: Mapping[str, Any] | None) -> TextEmbedder:
    """The registered embedder ``name`` built from the ``embed:`` settings; ``ValueError`` when unknown."""
    specs = embedder_specs()
    if name not in specs:
        raise ValueError(f"unknown embedder {name!r}; registered: {', '.join(specs)}")
    return specs[name].create(dict(settings or {}))
