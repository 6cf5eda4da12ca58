"""Embedding many texts: deduplicate, look up the cache, embed the misses chunk by chunk, write back."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tracemine.embed.spec import TextEmbedder
from tracemine.store import embeddings as cache

if TYPE_CHECKING:
    from tracemine.store import Store

Progress = Callable[[int, int], None]
"""Called with ``(done, total)`` over the unique texts: once after the cache lookup, then per chunk."""

DEFAULT_CHUNK = 512


@dataclass
class EmbedStats:
    """What one embedding call did. ``embed_seconds`` includes loading the model (``load_seconds``)."""

    model_id: str
    texts: int
    unique: int
    cache_hits: int
    embedded: int
    seconds: float
    embed_seconds: float = 0.0
    load_seconds: float = 0.0

    @property
    def texts_per_s(self) -> float:
        """Model throughput: texts embedded per second of encoding (model loading excluded)."""
        busy = self.embed_seconds - self.load_seconds
        return self.embedded / busy if self.embedded and busy > 0 else 0.0

    @property
    def dedup_ratio(self) -> float:
        """Texts per unique text (1.0 = no duplicates)."""
        return self.texts / self.unique if self.unique else 1.0

    def as_dict(self) -> dict[str, Any]:
        """Plain figures (for JSON output and run records)."""
        return {**asdict(self), "texts_per_s": round(self.texts_per_s, 1), "dedup_ratio": round(self.dedup_ratio, 3)}

    def describe(self) -> str:
        rate = f" at {self.texts_per_s:,.0f} texts/s" if self.embedded else ""
        return (f"{self.texts:,} texts, {self.unique:,} unique ({self.dedup_ratio:.2f}x), "
                f"{self.cache_hits:,} cached, {self.embedded:,} embedded{rate} in {self.seconds:.1f}s")


@dataclass
class EmbedResult:
    """Vectors of the unique texts and, for each input text, the row of its vector."""

    vectors: np.ndarray  # unique x dim, float32, unit length
    inverse: np.ndarray  # len(texts) int64: texts[i] has vector vectors[inverse[i]]
    unique_texts: list[str]
    stats: EmbedStats

    def aligned(self) -> np.ndarray:
        """One row per input text, in input order."""
        return self.vectors[self.inverse]


def dedupe(texts: list[str]) -> tuple[list[str], np.ndarray]:
    """Unique texts in first-seen order and the index of each input text among them."""
    index: dict[str, int] = {}
    inverse = np.fromiter((index.setdefault(t, len(index)) for t in texts), dtype=np.int64, count=len(texts))
    return list(index), inverse


def _load_seconds(embedder: TextEmbedder) -> float:
    """Seconds the embedder spent loading its model so far (0 for one that does not say)."""
    return float(getattr(embedder, "load_seconds", 0.0) or 0.0)


def embed_unique(texts: list[str], store: Store | None, embedder: TextEmbedder, progress: Progress | None = None,
                 chunk_size: int = DEFAULT_CHUNK) -> EmbedResult:
    """Embed ``texts`` once per distinct text, reusing and filling the store's vector cache.

    At most ``chunk_size`` texts are handed to the model at a time; each chunk's vectors are written to
    the cache as soon as they exist, so an interrupted run keeps what it computed. Without a store
    nothing is cached. The model is loaded only if some text is missing from the cache.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    started = time.perf_counter()
    unique, inverse = dedupe(texts)
    total = len(unique)
    model_id = embedder.model_id
    found = np.zeros(total, dtype=bool)
    vectors: np.ndarray | None = None
    keys: list[bytes] = []
    writable = False
    if store is not None and total:
        keys = cache.cache_keys(model_id, unique)
        writable = cache.writable(store)
        found, vectors = cache.lookup(store, model_id, keys)
    hits = int(found.sum())
    if progress is not None:
        progress(hits, total)
    misses = np.flatnonzero(~found)
    # longest first, so each batch holds texts of similar length (less padding) and the slowest
    # chunks come first (the progress bar's estimate only improves)
    misses = misses[np.argsort([-len(unique[i]) for i in misses], kind="stable")]
    embed_started = time.perf_counter()
    load_before = _load_seconds(embedder)
    done = hits
    for start in range(0, len(misses), chunk_size):
        rows = misses[start:start + chunk_size]
        batch = embedder.encode([unique[i] for i in rows])
        if vectors is None:
            vectors = np.zeros((total, batch.shape[1]), dtype=np.float32)
        vectors[rows] = batch
        if writable:
            cache.write(store, model_id, [keys[i] for i in rows], batch)  # type: ignore[union-attr]
        done += len(rows)
        if progress is not None:
            progress(done, total)
    now = time.perf_counter()
    if vectors is None:
        vectors = np.zeros((0, embedder.dim or 0), dtype=np.float32)
    stats = EmbedStats(
        model_id=model_id, texts=len(texts), unique=total, cache_hits=hits, embedded=len(misses),
        seconds=now - started, embed_seconds=now - embed_started if len(misses) else 0.0,
        load_seconds=_load_seconds(embedder) - load_before,
    )
    return EmbedResult(vectors=vectors, inverse=inverse, unique_texts=unique, stats=stats)


def embed_texts(texts: list[str], store: Store | None, embedder: TextEmbedder, progress: Progress | None = None,
                chunk_size: int = DEFAULT_CHUNK) -> np.ndarray:
    """Unit-length float32 vectors, one row per text in input order (see :func:`embed_unique`)."""
    result = embed_unique(texts, store, embedder, progress, chunk_size)
    embedder.last_stats = result.stats
    return result.aligned()
