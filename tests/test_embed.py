"""Embedding stage: real model (loaded once for the module), real DuckDB files, cache behaviour."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tracemine.embed import (
    Embedder,
    cache_info,
    cache_keys,
    clear_cache,
    dedupe,
    default_model_path,
    embed_texts,
    embed_unique,
)
from tracemine.store import Store

TEXTS = [
    "tool search_flights failed with TimeoutError: request timed out after <num>s",
    "tool book_hotel arguments violate its declared schema: missing required field check_in",
    "tool search_flights failed with TimeoutError: request timed out after <num>s",  # duplicate of 0
    "model repeated the same message <num> times with no tool call or new input in between",
    "tool send_email returned success=false while its span status is OK: quota exceeded",
    "tool book_hotel arguments violate its declared schema: missing required field check_in",  # duplicate of 1
]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    em = Embedder()
    em.load()
    return em


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_cache_miss_then_hit_embeds_nothing_the_second_time(tmp_path: Path, embedder: Embedder) -> None:
    path = tmp_path / "cache.duckdb"
    with Store(path) as store:
        before = embedder.texts_encoded
        first = embed_texts(TEXTS, store, embedder)
        stats = embedder.last_stats
        assert embedder.texts_encoded - before == 4  # duplicates embedded once
        assert (stats.texts, stats.unique, stats.cache_hits, stats.embedded) == (6, 4, 0, 4)
        assert stats.as_dict()["dedup_ratio"] == 1.5 and stats.texts_per_s > 0
        assert cache_info(store)[embedder.model_id]["rows"] == 4
    with Store(path) as store:  # reopened file: the cache persisted
        calls, encoded = embedder.calls, embedder.texts_encoded
        second = embed_texts(TEXTS, store, embedder)
        assert (embedder.calls, embedder.texts_encoded) == (calls, encoded)
        assert (embedder.last_stats.cache_hits, embedder.last_stats.embedded) == (4, 0)
    assert second.dtype == np.float32
    np.testing.assert_array_equal(first, second)


def test_rows_align_with_input_order_across_hits_and_misses(tmp_path: Path, embedder: Embedder) -> None:
    with Store(tmp_path / "a.duckdb") as store:
        embed_texts([TEXTS[3], TEXTS[0]], store, embedder)  # warm part of the cache
        vectors = embed_texts(TEXTS, store, embedder, chunk_size=1)
        assert (embedder.last_stats.cache_hits, embedder.last_stats.embedded) == (2, 2)
    assert vectors.shape == (len(TEXTS), 384)
    np.testing.assert_array_equal(vectors[0], vectors[2])
    np.testing.assert_array_equal(vectors[1], vectors[5])
    alone = embedder.encode(list(dict.fromkeys(TEXTS)))
    for i, text in enumerate(TEXTS):
        j = list(dict.fromkeys(TEXTS)).index(text)
        assert _cos(vectors[i], alone[j]) > 0.999, i
    assert _cos(vectors[0], vectors[1]) < 0.99  # distinct texts really differ


def test_vectors_are_unit_length_float32(embedder: Embedder) -> None:
    vectors = embed_texts([*TEXTS, "", "x" * 5000], None, embedder)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_paraphrases_are_closer_than_unrelated_failures(embedder: Embedder) -> None:
    triples = [  # (text, paraphrase, unrelated failure)
        ("the request to the payments API timed out after <num> seconds",
         "payments service call exceeded its deadline and was aborted",
         "the argument date must match the format YYYY-MM-DD"),
        ("permission denied: the credentials lack the required scope",
         "access forbidden because the token is not authorised for this action",
         "the search returned an empty list of results"),
        ("agent called the same tool again and again with identical arguments",
         "the identical tool call was repeated many times in a row",
         "upstream server responded with <num> internal server error"),
    ]
    flat = [t for triple in triples for t in triple]
    v = embed_texts(flat, None, embedder).reshape(len(triples), 3, -1)
    for anchor, para, other in v:
        assert float(anchor @ para) > float(anchor @ other) + 0.1


def test_dedupe_keeps_first_seen_order() -> None:
    unique, inverse = dedupe(["b", "a", "b", "c", "a"])
    assert unique == ["b", "a", "c"]
    assert inverse.tolist() == [0, 1, 0, 2, 1]
    result = embed_unique([], None, Embedder())  # nothing to do, nothing loaded
    assert result.vectors.shape[0] == 0 and result.inverse.shape == (0,)


def test_cache_key_is_sha256_of_model_id_and_text() -> None:
    assert cache_keys("m", ["hello"]) == [hashlib.sha256(b"m\x00hello").digest()]
    assert cache_keys("m", ["hello"]) != cache_keys("m2", ["hello"])


def test_different_model_ids_do_not_share_cache_rows(tmp_path: Path, embedder: Embedder) -> None:
    other = Embedder(max_seq_length=64)  # same weights, another token limit: another model id
    assert other.model_id != embedder.model_id
    with Store(tmp_path / "m.duckdb") as store:
        embed_texts(TEXTS, store, embedder)
        embed_texts(TEXTS, store, other)
        assert other.texts_encoded == 4  # nothing reused from the first model's rows
        info = cache_info(store)
        assert {k: v["rows"] for k, v in info.items()} == {embedder.model_id: 4, other.model_id: 4}
        assert clear_cache(store, other.model_id) == 4
        assert set(cache_info(store)) == {embedder.model_id}


def test_model_id_follows_the_model_content_name_and_precision(tmp_path: Path) -> None:
    src = default_model_path()
    copy = tmp_path / "copy" / src.name
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))
    for weights in list(src.glob("*.safetensors")) + list(src.glob("*.bin")):
        (copy / weights.name).symlink_to(weights)
    base = Embedder(model=copy)
    assert base.model_id == Embedder(model=copy).model_id
    assert Embedder(model=str(copy), precision="fp32").model_id != Embedder(model=copy, precision="bf16").model_id
    renamed = tmp_path / "another-model"
    copy.rename(renamed)
    assert Embedder(model=renamed).model_id != base.model_id
    config = renamed / "config.json"
    config.write_text(config.read_text().replace("}", ', "note": 1}', 1))
    changed = Embedder(model=renamed).model_id
    assert changed != base.model_id and changed.split("#")[0] == "another-model"
    assert Embedder(model="some-org/some-model").model_id.startswith("some-org/some-model|")
    assert Embedder().model_id.startswith("all-MiniLM-L6-v2#")


def test_progress_and_chunks_bound_model_inputs(tmp_path: Path, embedder: Embedder) -> None:
    seen: list[tuple[int, int]] = []
    sizes: list[int] = []
    encode = embedder.encode

    def spy(texts: list[str]) -> np.ndarray:
        sizes.append(len(texts))
        return encode(texts)

    texts = [f"tool t{i} failed with error number {i}" for i in range(7)]
    with Store(tmp_path / "p.duckdb") as store:
        embed_texts(texts[:2], store, embedder)
        embedder.encode = spy  # type: ignore[method-assign]
        try:
            embed_texts(texts + texts, store, embedder, progress=lambda d, t: seen.append((d, t)), chunk_size=2)
        finally:
            del embedder.encode
    assert sizes == [2, 2, 1]
    assert seen == [(2, 7), (4, 7), (6, 7), (7, 7)]


def test_read_only_store_reads_the_cache_and_writes_nothing(tmp_path: Path, embedder: Embedder) -> None:
    path = tmp_path / "ro.duckdb"
    with Store(path) as store:
        embed_texts(TEXTS[:2], store, embedder)
    with Store(path, read_only=True) as store:
        embed_texts(TEXTS, store, embedder)
        assert (embedder.last_stats.cache_hits, embedder.last_stats.embedded) == (2, 2)
        assert cache_info(store)[embedder.model_id]["rows"] == 2


def test_settings_are_validated() -> None:
    for bad in ({"batch_size": 0}, {"precision": "fp8"}, {"threads": -1}, {"model": " "}):
        with pytest.raises(ValueError):
            Embedder(**bad)
    with pytest.raises(ValueError, match="unknown embed settings"):
        Embedder.from_settings({"batchsize": 8})
    em = Embedder.from_settings({"model": None, "batch_size": 16, "precision": "fp32", "threads": 0,
                                 "max_seq_length": None})
    assert (em.batch_size, em.precision, em.threads) == (16, "fp32", None)


def test_import_and_fully_cached_run_load_nothing_heavy(tmp_path: Path, embedder: Embedder) -> None:
    path = tmp_path / "cached.duckdb"
    with Store(path) as store:
        embed_texts(TEXTS, store, embedder)
    script = textwrap.dedent(f"""
        import sys
        import tracemine.embed
        heavy = ("torch", "sentence_transformers", "transformers")
        assert not [m for m in heavy if m in sys.modules], "heavy import at module import"
        from tracemine.embed import Embedder, embed_texts
        from tracemine.store import Store
        em = Embedder()
        with Store({str(path)!r}) as store:
            v = embed_texts({TEXTS!r}, store, em)
        assert v.shape == ({len(TEXTS)}, 384) and not em.loaded and em.calls == 0
        assert not [m for m in heavy if m in sys.modules], "heavy import for a cached run"
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
