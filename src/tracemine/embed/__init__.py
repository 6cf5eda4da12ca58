"""Embedding stage: texts → unit-length float32 vectors, deduplicated and cached in the DuckDB store.

>>> from tracemine.embed import Embedder, embed_texts
>>> vectors = embed_texts([s.text for s in store.signals()], store, Embedder())  # doctest: +SKIP

Importing this package is cheap: torch and sentence-transformers load on the first text that is not
cached.
"""

from tracemine.embed.batch import EmbedResult, EmbedStats, Progress, dedupe, embed_texts, embed_unique
from tracemine.embed.model import DEFAULT_MODEL_NAME, PRECISIONS, Embedder, EmbedderError, default_model_path
from tracemine.store.embeddings import cache_info, cache_keys, clear_cache

__all__ = [
    "DEFAULT_MODEL_NAME",
    "PRECISIONS",
    "EmbedResult",
    "EmbedStats",
    "Embedder",
    "EmbedderError",
    "Progress",
    "cache_info",
    "cache_keys",
    "clear_cache",
    "dedupe",
    "default_model_path",
    "embed_texts",
    "embed_unique",
]
