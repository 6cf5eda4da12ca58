"""Embedding and clustering speed: texts/s, deduplication, clustering time, the whole stage at 1 M spans.

    python benchmarks/cluster.py                              # every part (~15-20 min on 2 cores)
    python benchmarks/cluster.py --parts speed,dedup          # model throughput + dedup on a 3,000-trace run
    python benchmarks/cluster.py --parts stage --spans 200000 --workdir /tmp/tm-bench --keep

Parts:

* ``speed`` — model throughput (texts/s) on the rendered signal and trajectory texts of a synth run, per
  precision (fp32 / bf16 / int8) and batch size (16 / 32 / 64 / 128), with each precision's quality
  against fp32 (mean and minimum cosine of the same text, share of top-10 neighbours kept). The machine
  may be shared: every figure is the best of ``--reps`` runs, texts per CPU-second are printed beside
  texts per wall-second (less sensitive to other processes), and so is the load average.
* ``dedup`` — a ``--traces`` synth run → ingest → detect: how many distinct texts there are among the raw
  ``Signal.text``, the rendered signal texts (``tracemine.render``) and the failing trajectories; then
  the embedding cache cold (everything embedded) and warm (nothing embedded).
* ``stage`` — a ``--spans`` synth archive (default 1,000,000 spans, the generator's default failure
  rates) → ingest → detect, then the embed + cluster stage (render, embed with the store cache, cluster
  signals and trajectories, save clusters) in a fresh process: wall time including imports and model
  loading, and peak memory; run cold (empty cache) and warm.
* ``cluster`` — clustering time alone for 10,000 and 100,000 signals drawn from that archive (vectors
  from the cache; 100,000 is reached by sampling with replacement when the archive has fewer). The
  clusterer works on distinct texts, so ``--distinct`` adds the worst case: every signal a distinct
  point (unique text, its vector moved by a little noise).

``stage`` and ``cluster`` need ``tracemine.cluster`` (``cluster_signals``, ``cluster_trajectories``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from _common import run_measured, synth_spans

PARTS = ("speed", "dedup", "stage", "cluster")


# -- data -------------------------------------------------------------------------------------------------


def build_archive(root: Path, *, traces: int | None = None, spans: int | None = None, seed: int = 1) -> Path:
    """Synth → ingest → detect into ``root/archive.duckdb`` (reused when it is already complete)."""
    from tracemine.detect.runner import run_detection
    from tracemine.ingest.loader import ingest_paths
    from tracemine.store import Store
    from tracemine.synth import SynthConfig, generate

    db = root / "archive.duckdb"
    done = root / "archive.done"
    if db.exists() and done.exists():
        print(f"   reusing {db} ({done.read_text().strip()})")
        return db
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    started = time.perf_counter()
    if traces is None:
        result = synth_spans(root / "data", spans or 0, seed)
    else:
        result = generate(SynthConfig(traces=traces, seed=seed, fmt="otlp", days=7), root / "data")
    synth_s = time.perf_counter() - started
    with Store(db) as store:
        started = time.perf_counter()
        ingest_paths([str(root / "data")], store)
        ingest_s = time.perf_counter() - started
        started = time.perf_counter()
        report = run_detection(store, None, None, {})
        detect_s = time.perf_counter() - started
    summary = (f"{result.traces:,} traces, {result.spans:,} spans, {len(report.signals):,} signals; "
               f"synth {synth_s:.0f}s, ingest {ingest_s:.0f}s, detect {detect_s:.0f}s")
    done.write_text(summary + "\n")
    shutil.rmtree(root / "data", ignore_errors=True)
    print(f"   built {db}: {summary}")
    return db


def rendered(db: Path) -> dict[str, Any]:
    """Signals, raw and rendered signal texts and keys, trajectory texts and keys of an archive."""
    from tracemine.render import failing_traces, render_trajectories, signal_keys, signal_text
    from tracemine.store import Store

    with Store(db, read_only=True) as store:
        signals = store.signals()
        started = time.perf_counter()
        texts = [signal_text(s) for s in signals]
        keys = [signal_keys(s) for s in signals]
        trajectories = render_trajectories(failing_traces(store, signals), signals)
        seconds = time.perf_counter() - started
    return {"signals": signals, "raw": [s.text for s in signals], "texts": texts, "keys": keys,
            "trajectories": trajectories, "render_seconds": seconds}


# -- parts ------------------------------------------------------------------------------------------------


def part_speed(data: dict[str, Any], batch_sizes: list[int], precisions: list[str], n: int, reps: int) -> None:
    from tracemine.embed import Embedder

    signal_texts = list(dict.fromkeys(data["texts"] + data["raw"]))
    trajectory_texts = list(dict.fromkeys(data["trajectories"].texts))
    sets = {"signal": (signal_texts * (n // max(1, len(signal_texts)) + 1))[:n],
            "trajectory": (trajectory_texts * (n // max(1, len(trajectory_texts)) + 1))[:n]}
    print(f"== speed: {n} texts per run, best of {reps}; {len(signal_texts)} distinct signal texts, "
          f"{len(trajectory_texts)} distinct trajectory texts")
    reference: dict[str, np.ndarray] = {}
    quality_texts = signal_texts[:1000]
    for precision in precisions:
        embedder = Embedder(precision=precision)
        embedder.load()
        tokens = {name: np.mean([len(t) for t in embedder._st.tokenizer(texts[:256])["input_ids"]])
                  for name, texts in sets.items()}
        vectors = embedder.encode(quality_texts)
        if precision == "fp32":
            reference["fp32"] = vectors
        quality = ""
        if "fp32" in reference and precision != "fp32":
            ref = reference["fp32"]
            cos = (vectors * ref).sum(1)
            overlap = _neighbour_overlap(vectors, ref)
            quality = f"   vs fp32: cosine mean {cos.mean():.4f} min {cos.min():.4f}, top-10 neighbours kept {overlap:.1%}"
        print(f"-- {precision} (model id {embedder.model_id}, load {embedder.load_seconds:.1f}s){quality}")
        for name, texts in sets.items():
            row = []
            for batch_size in batch_sizes:
                embedder.batch_size = batch_size
                embedder.encode(texts[:batch_size])  # warm-up
                best = cpu_best = 0.0
                for _ in range(reps):
                    started, cpu = time.perf_counter(), time.process_time()
                    embedder.encode(texts)
                    best = max(best, len(texts) / (time.perf_counter() - started))
                    cpu_best = max(cpu_best, len(texts) / (time.process_time() - cpu))
                row.append(f"bs {batch_size}: {best:6.1f} ({cpu_best:5.1f}/cpu-s)")
            print(f"   {name:10s} (~{tokens[name]:.0f} tokens) texts/s  " + "   ".join(row)
                  + f"   [load avg {os.getloadavg()[0]:.1f}]")
        del embedder


def _neighbour_overlap(a: np.ndarray, b: np.ndarray, k: int = 10) -> float:
    def knn(v: np.ndarray) -> np.ndarray:
        sims = v @ v.T
        np.fill_diagonal(sims, -np.inf)
        return np.argsort(-sims, axis=1)[:, :k]

    ka, kb = knn(a), knn(b)
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(ka, kb, strict=True)]))


def part_dedup(db: Path, data: dict[str, Any]) -> None:
    from tracemine.embed import Embedder, embed_texts
    from tracemine.store import Store

    print("== dedup")
    rows = [("raw Signal.text", data["raw"]), ("rendered signal texts", data["texts"]),
            ("failing trajectories", data["trajectories"].texts)]
    for name, texts in rows:
        unique = len(set(texts))
        print(f"   {name:24s} {len(texts):7,} texts → {unique:7,} distinct  ({len(texts) / max(1, unique):.2f}x, "
              f"{1 - unique / max(1, len(texts)):.0%} not embedded)")
    print(f"   (rendering took {data['render_seconds']:.1f}s)")
    cache_db = db.with_name("dedup-cache.duckdb")
    cache_db.unlink(missing_ok=True)
    embedder = Embedder()
    texts = data["texts"] + data["trajectories"].texts
    with Store(cache_db) as store:
        for label in ("cold", "warm"):
            embed_texts(texts, store, embedder)
            print(f"   embed {label}: {embedder.last_stats.describe()}")
    cache_db.unlink(missing_ok=True)


def run_stage(db: Path) -> dict[str, Any]:
    """The embed + cluster stage as the CLI would run it (called in a fresh process by ``stage``)."""
    started = time.perf_counter()
    from tracemine.cluster import cluster_signals, cluster_trajectories, save_clusters
    from tracemine.embed import Embedder, embed_texts
    from tracemine.render import failing_traces, render_trajectories, signal_keys, signal_text
    from tracemine.store import Store

    out: dict[str, Any] = {"import_s": time.perf_counter() - started}
    embedder = Embedder()
    with Store(db) as store:
        t = time.perf_counter()
        signals = store.signals()
        texts = [signal_text(s) for s in signals]
        keys = [signal_keys(s) for s in signals]
        trajectories = render_trajectories(failing_traces(store, signals), signals)
        out["render_s"] = time.perf_counter() - t
        t = time.perf_counter()
        vectors = embed_texts(texts, store, embedder)
        out["embed_signals"] = embedder.last_stats.describe()
        traj_vectors = embed_texts(trajectories.texts, store, embedder)
        out["embed_trajectories"] = embedder.last_stats.describe()
        out["embed_s"] = time.perf_counter() - t
        out["model_load_s"] = embedder.load_seconds
        t = time.perf_counter()
        result = cluster_signals(signals, vectors, keys, texts=texts)
        out["cluster_signals_s"] = time.perf_counter() - t
        t = time.perf_counter()
        traj_result = cluster_trajectories(trajectories.trace_ids, trajectories.texts, traj_vectors, trajectories.keys)
        out["cluster_trajectories_s"] = time.perf_counter() - t
        t = time.perf_counter()
        save_clusters(store, result)
        save_clusters(store, traj_result)
        out["save_s"] = time.perf_counter() - t
    out.update(signals=len(signals), trajectories=len(trajectories.texts), leaves=len(result.leaves),
               parents=len(result.parents), unclustered=len(result.unclustered),
               trajectory_leaves=len(traj_result.leaves), total_s=time.perf_counter() - started,
               peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def part_stage(db: Path, runs: list[str]) -> None:
    from tracemine.embed import clear_cache
    from tracemine.store import Store

    print("== stage: embed + cluster in a fresh process")
    for label in runs:
        if label == "cold":
            with Store(db) as store:
                clear_cache(store)
        result, peak = _child([sys.executable, __file__, "--_stage", str(db)])
        print(f"   {label}: total {result['total_s']:.1f}s (imports {result['import_s']:.1f}s, render "
              f"{result['render_s']:.1f}s, embed {result['embed_s']:.1f}s incl. model load "
              f"{result['model_load_s']:.1f}s, cluster signals {result['cluster_signals_s']:.1f}s, "
              f"trajectories {result['cluster_trajectories_s']:.1f}s, save {result['save_s']:.1f}s); "
              f"peak RSS {max(peak, result['peak_rss_mib']):,.0f} MiB")
        print(f"      signals:      {result['embed_signals']}")
        print(f"      trajectories: {result['embed_trajectories']}")
        print(f"      {result['signals']:,} signals → {result['leaves']:,} leaves, {result['parents']:,} parents, "
              f"{result['unclustered']:,} unclustered; {result['trajectories']:,} trajectories → "
              f"{result['trajectory_leaves']:,} leaves")


def _child(cmd: list[str]) -> tuple[dict[str, Any], float]:
    """Run ``cmd``; returns the JSON it prints last and its peak RSS in MiB."""
    _, _, peak, output = run_measured(cmd, merge_stderr=False)
    return json.loads(output.strip().splitlines()[-1]), peak / 2**20


def part_cluster(db: Path, sizes: list[int], seed: int, distinct: bool) -> None:
    from tracemine.cluster import cluster_signals
    from tracemine.embed import Embedder, embed_texts
    from tracemine.render import signal_keys, signal_text
    from tracemine.store import Store

    print("== cluster: clustering time alone (vectors from the cache)")
    with Store(db) as store:
        signals = store.signals()
        texts = [signal_text(s) for s in signals]
        keys = [signal_keys(s) for s in signals]
        embedder = Embedder()
        vectors = embed_texts(texts, store, embedder)
        print(f"   {embedder.last_stats.describe()}")
    rng = np.random.default_rng(seed)
    for size in sizes:
        picks = rng.choice(len(signals), size=size, replace=size > len(signals))
        started = time.perf_counter()
        result = cluster_signals([signals[i] for i in picks], vectors[picks], [keys[i] for i in picks],
                                 texts=[texts[i] for i in picks])
        seconds = time.perf_counter() - started
        print(f"   {size:7,} signals ({len({texts[i] for i in picks}):,} distinct texts"
              f"{', sampled with replacement' if size > len(signals) else ''}): {seconds:6.1f}s → "
              f"{len(result.leaves):,} leaves, {len(result.parents):,} parents, {len(result.unclustered):,} unclustered")
        if not distinct:
            continue
        # worst case: every signal a distinct point (text made unique, vector moved by noise of norm ~0.2)
        noisy = vectors[picks] + rng.normal(0.0, 0.2 / np.sqrt(vectors.shape[1]), (size, vectors.shape[1]))
        noisy = (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)
        started = time.perf_counter()
        result = cluster_signals([signals[i] for i in picks], noisy, [keys[i] for i in picks],
                                 texts=[f"{texts[i]} (variant {j})" for j, i in enumerate(picks)])
        seconds = time.perf_counter() - started
        print(f"   {size:7,} signals, all distinct (worst case): {seconds:6.1f}s → {len(result.leaves):,} leaves, "
              f"{len(result.parents):,} parents, {len(result.unclustered):,} unclustered")


# -- main -------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated: {', '.join(PARTS)}")
    parser.add_argument("--traces", type=int, default=3000, help="traces of the speed/dedup run")
    parser.add_argument("--spans", type=int, default=1_000_000, help="spans of the stage/cluster archive")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-sizes", default="16,32,64,128")
    parser.add_argument("--precisions", default="fp32,bf16,int8")
    parser.add_argument("--speed-texts", type=int, default=512, help="texts per throughput run")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--cluster-sizes", default="10000,100000")
    parser.add_argument("--distinct", action="store_true",
                        help="also cluster the same sizes with every signal a distinct point (worst case)")
    parser.add_argument("--stage-runs", default="cold,warm")
    parser.add_argument("--workdir", help="where archives are built and reused (default: a temporary dir)")
    parser.add_argument("--keep", action="store_true", help="keep the workdir")
    parser.add_argument("--_stage", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._stage:
        print(json.dumps(run_stage(Path(args._stage))))
        return
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown parts {unknown}")
    if {"stage", "cluster"} & set(parts):
        try:
            import tracemine.cluster  # noqa: F401
        except ImportError:
            print("tracemine.cluster is not available: skipping the stage and cluster parts")
            parts = [p for p in parts if p not in ("stage", "cluster")]
    print(f"machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; "
          f"python {sys.version.split()[0]}; load avg {os.getloadavg()[0]:.1f}")
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="tracemine-bench-cluster-"))
    try:
        if {"speed", "dedup"} & set(parts):
            print(f"== synth run: {args.traces:,} traces, seed {args.seed}")
            db = build_archive(workdir / f"t{args.traces}-s{args.seed}", traces=args.traces, seed=args.seed)
            data = rendered(db)
            if "speed" in parts:
                part_speed(data, [int(b) for b in args.batch_sizes.split(",")], args.precisions.split(","),
                           args.speed_texts, args.reps)
            if "dedup" in parts:
                part_dedup(db, data)
        if {"stage", "cluster"} & set(parts):
            print(f"== archive: ~{args.spans:,} spans, seed {args.seed}")
            big = build_archive(workdir / f"s{args.spans}-s{args.seed}", spans=args.spans, seed=args.seed)
            if "stage" in parts:
                part_stage(big, [r.strip() for r in args.stage_runs.split(",") if r.strip()])
            if "cluster" in parts:
                part_cluster(big, [int(s) for s in args.cluster_sizes.split(",")], args.seed, args.distinct)
    finally:
        if args.keep or args.workdir:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
