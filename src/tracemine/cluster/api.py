"""Clustering signals and trajectories into a hierarchy: root → kind → parent group → leaf.

Vectors come in as numpy arrays (one unit row per item, however they were made). Items with identical
texts in one partition are one point, so work grows with distinct texts, not with items.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from tracemine.cluster.describe import ctfidf_keywords, exemplars
from tracemine.cluster.groups import GroupStats, agglomerate, centroids, leaf_labels, unit
from tracemine.cluster.result import ClusterInfo, ClusterResult
from tracemine.cluster.settings import ClusterSettings
from tracemine.model import Signal


@dataclass
class _Points:
    """Distinct (partition, text) points: vector, item count, member items, kind, leaf."""

    texts: list[str]
    vectors: np.ndarray
    counts: np.ndarray
    members: list[list[int]]
    kinds: list[str]
    partitions: list[tuple[str, tuple[Any, ...], tuple[Any, ...]]]


Partition = tuple[str, tuple[Any, ...], tuple[Any, ...]]  # kind, split values, group values


def _points(texts: Sequence[str], vectors: np.ndarray, keys: Sequence[Mapping[str, Any]], s: ClusterSettings,
            ) -> tuple[_Points, set[str]]:
    """Distinct points per partition, and the kinds that were split by ``s.split_keys``."""
    values: dict[str, set[tuple[Any, ...]]] = {}
    distinct: dict[str, set[str]] = {}
    for i, text in enumerate(texts):
        kind = str(keys[i].get("kind") or "")
        values.setdefault(kind, set()).add(tuple(_hashable(keys[i].get(k)) for k in s.split_keys))
        distinct.setdefault(kind, set()).add(text)
    split = {kind for kind, found in values.items() if s.split_keys and any(v is not None for t in found for v in t)
             and (len(found) <= s.split_max or len(found) <= s.split_share * len(distinct[kind]))}
    index: dict[tuple[Any, ...], int] = {}
    members: list[list[int]] = []
    first: list[int] = []
    kinds: list[str] = []
    partitions: list[Partition] = []
    no_split = (None,) * len(s.split_keys)
    for i, text in enumerate(texts):
        key = keys[i]
        kind = str(key.get("kind") or "")
        partition: Partition = (
            kind,
            tuple(_hashable(key.get(k)) for k in s.split_keys) if kind in split else no_split,
            tuple(_hashable(key.get(k)) for k in s.group_keys),
        )
        point_key = (partition, text)
        p = index.get(point_key)
        if p is None:
            p = index[point_key] = len(members)
            members.append([])
            first.append(i)
            kinds.append(kind)
            partitions.append(partition)
        members[p].append(i)
    # identical texts have identical vectors (one embedding per distinct text): the first one stands for all
    point_vectors = vectors[first] if members else np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0),
                                                            dtype=np.float32)
    counts = np.asarray([len(m) for m in members], dtype=np.int64)
    return _Points([texts[i] for i in first], point_vectors, counts, members, kinds, partitions), split


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    return value


def _digest(*parts: str) -> str:
    return hashlib.sha1("\x00".join(parts).encode("utf-8", "replace")).hexdigest()[:12]


def _order(partition: Partition) -> tuple[str, ...]:
    return (partition[0], *map(str, partition[1]), *map(str, partition[2]))


def _leaves(pts: _Points, s: ClusterSettings) -> tuple[np.ndarray, list[Partition], list[dict[str, Any]]]:
    """Leaf of each point (``-1``: unclustered), the partition of each leaf, and per-partition stats.

    Points sharing a value of ``group_keys`` (e.g. an error class) form one leaf; the others are
    grouped by their vectors (:func:`leaf_labels`)."""
    leaf_of_point = np.full(len(pts.texts), -1, dtype=np.int64)
    leaf_partition: list[Partition] = []
    stats: list[dict[str, Any]] = []
    by_partition: dict[Partition, list[int]] = {}
    for p, partition in enumerate(pts.partitions):
        by_partition.setdefault(partition, []).append(p)
    for partition in sorted(by_partition, key=_order):
        idx = np.asarray(by_partition[partition], dtype=np.int64)
        if any(v is not None for v in partition[2]):
            total = int(pts.counts[idx].sum())
            labels = np.zeros(len(idx), dtype=np.int64) if total >= s.min_cluster_size else np.full(len(idx), -1)
            gstats = GroupStats(method="group key", points=len(idx), unclustered=int((labels < 0).sum()))
        else:
            labels, gstats = leaf_labels(pts.vectors[idx], pts.counts[idx], s)
        found = int(labels.max()) + 1 if (labels >= 0).any() else 0
        leaf_of_point[idx[labels >= 0]] = labels[labels >= 0] + len(leaf_partition)
        leaf_partition.extend([partition] * found)
        stats.append({"kind": partition[0], "split": [str(x) for x in partition[1]],
                      "group": [str(x) for x in partition[2]], "items": int(pts.counts[idx].sum()),
                      "leaves": found, **asdict(gstats)})
    return leaf_of_point, leaf_partition, stats


def _parents(pts: _Points, leaf_of_point: np.ndarray, leaf_partition: list[Partition], split_kinds: set[str],
             s: ClusterSettings) -> np.ndarray:
    """Parent group of each point (``-1``: none). In split kinds every frame is a group (frames whose
    centroids lie within ``frame_merge_distance`` are one), so a point left out of the leaves still
    belongs to its mechanism; elsewhere leaves within ``parent_distance`` share a group and points
    outside the leaves have none."""
    n_leaves = len(leaf_partition)
    weights = pts.counts.astype(np.float64)
    parent_of_point = np.full(len(pts.texts), -1, dtype=np.int64)
    n_parents = 0
    points_by_kind: dict[str, list[int]] = {}
    for p, kind in enumerate(pts.kinds):
        points_by_kind.setdefault(kind, []).append(p)
    leaf_centers = centroids(pts.vectors, weights, leaf_of_point, n_leaves)
    for kind in sorted(points_by_kind):
        points = np.asarray(points_by_kind[kind], dtype=np.int64)
        if kind in split_kinds:
            frames = sorted({pts.partitions[p][1] for p in points.tolist()}, key=lambda t: tuple(map(str, t)))
            frame_index = {f: j for j, f in enumerate(frames)}
            frame_of_point = np.asarray([frame_index[pts.partitions[p][1]] for p in points.tolist()], dtype=np.int64)
            frame_centers = centroids(pts.vectors[points], weights[points], frame_of_point, len(frames))
            groups = agglomerate(frame_centers, s.frame_merge_distance)[frame_of_point]
            parent_of_point[points] = groups + n_parents
            n_parents += int(groups.max()) + 1
        else:
            leaves = sorted({int(x) for x in leaf_of_point[points] if x >= 0})
            if not leaves:
                continue
            groups = agglomerate(leaf_centers[leaves], s.parent_distance)
            group_of_leaf = dict(zip(leaves, (groups + n_parents).tolist(), strict=True))
            inside = points[leaf_of_point[points] >= 0]
            parent_of_point[inside] = [group_of_leaf[int(x)] for x in leaf_of_point[inside]]
            n_parents += int(groups.max()) + 1
    return _renumber_parents(parent_of_point)


def _renumber_parents(parent_of_point: np.ndarray) -> np.ndarray:
    mapping: dict[int, int] = {}
    out = np.full(len(parent_of_point), -1, dtype=np.int64)
    for p, parent in enumerate(parent_of_point.tolist()):
        if parent >= 0:
            out[p] = mapping.setdefault(parent, len(mapping))
    return out


def cluster_items(
    texts: Sequence[str],
    vectors: np.ndarray,
    keys: Sequence[Mapping[str, Any]],
    subject: str,
    settings: ClusterSettings | Mapping[str, Any] | None = None,
    item_ids: Sequence[str] | None = None,
) -> ClusterResult:
    """Cluster items (texts with their vectors and exact keys; ``keys[i]["kind"]`` partitions them)."""
    s = ClusterSettings.from_settings(settings)
    started = time.perf_counter()
    vectors = np.asarray(vectors, dtype=np.float32)
    n = len(texts)
    if len(keys) != n or (n and (vectors.ndim != 2 or vectors.shape[0] != n)):
        raise ValueError(f"texts ({n}), vectors ({vectors.shape}) and keys ({len(keys)}) must be aligned")
    if vectors.ndim != 2:
        vectors = vectors.reshape(0, 0)
    vectors = unit(vectors) if n else vectors
    from threadpoolctl import threadpool_limits

    # many BLAS threads on small matrices spin against each other (and against a busy machine): an
    # SVD of 200x384 takes 2 s with two OpenBLAS threads on a loaded 2-core box and 10 ms with one
    with threadpool_limits(limits=s.blas_threads, user_api="blas"):
        pts, split_kinds = _points(texts, vectors, keys, s)
        leaf_of_point, leaf_partition, partition_stats = _leaves(pts, s)
        parent_of_point = _parents(pts, leaf_of_point, leaf_partition, split_kinds, s)
        result = _assemble(pts, leaf_of_point, parent_of_point, keys, subject, s, item_ids, n)
    result.stats.update({
        "items": n,
        "distinct_texts": len(pts.texts),
        "leaves": len(leaf_partition),
        "parents": len(result.parents),
        "unclustered": len(result.unclustered),
        "noise_texts": sum(p["noise"] for p in partition_stats),
        "noise_attached": sum(p["attached"] for p in partition_stats),
        "noise_regrouped": sum(p["regrouped"] for p in partition_stats),
        "split_kinds": sorted(split_kinds),
        "partitions": partition_stats,
        "seconds": round(time.perf_counter() - started, 3),
        "settings": asdict(s),
    })
    return result


def _assemble(pts: _Points, leaf_of_point: np.ndarray, parent_of_point: np.ndarray,
              keys: Sequence[Mapping[str, Any]], subject: str, s: ClusterSettings, item_ids: Sequence[str] | None,
              n: int) -> ClusterResult:
    """Nodes with members, sizes, traces, exemplars, keywords, tools, models and severities, linked
    root → kind → parent group → leaf; items outside the leaves sit in an ``unclustered`` node under
    their parent group (or under their kind when they have none)."""
    trace_of = [str(k.get("trace_id")) if k.get("trace_id") is not None else (item_ids[i] if item_ids else str(i))
                for i, k in enumerate(keys)]
    n_leaves = int(leaf_of_point.max()) + 1 if (leaf_of_point >= 0).any() else 0
    n_parents = int(parent_of_point.max()) + 1 if (parent_of_point >= 0).any() else 0
    leaf_points: list[list[int]] = [[] for _ in range(n_leaves)]
    parent_points: list[list[int]] = [[] for _ in range(n_parents)]
    for p, (leaf, parent) in enumerate(zip(leaf_of_point.tolist(), parent_of_point.tolist(), strict=True)):
        if leaf >= 0:
            leaf_points[leaf].append(p)
        if parent >= 0:
            parent_points[parent].append(p)
    kinds = sorted(set(pts.kinds))
    kind_points: dict[str, list[int]] = {k: [] for k in kinds}
    for p, kind in enumerate(pts.kinds):
        kind_points[kind].append(p)

    def describe(level: str, kind: str, points: list[int], split: dict[str, Any]) -> ClusterInfo:
        idx = np.asarray(points, dtype=np.int64)
        members = sorted(i for p in points for i in pts.members[p])
        weights = pts.counts[idx].astype(np.float64)
        center = unit((pts.vectors[idx].astype(np.float64) * weights[:, None]).sum(axis=0, keepdims=True))[0]
        picks = exemplars(pts.vectors[idx], center, s.exemplars)
        tools: Counter[str] = Counter()
        models: Counter[str] = Counter()
        severities: Counter[str] = Counter()
        for i in members:
            key = keys[i]
            for tool in key.get("tools") or ([key["tool"]] if key.get("tool") else []):
                tools[str(tool)] += 1
            for model in key.get("models") or ([key["model"]] if key.get("model") else []):
                models[str(model)] += 1
            if key.get("severity"):
                severities[str(key["severity"])] += 1
        medoid = pts.texts[points[picks[0]]] if picks else ""
        return ClusterInfo(
            id=f"{level[0].upper()}-{_digest(subject, kind, level, medoid)}", level=level, kind=kind,
            subject=subject, members=members, size=len(members), traces=len({trace_of[i] for i in members}),
            distinct_texts=len(points), exemplars=[pts.members[points[j]][0] for j in picks],
            exemplar_texts=[pts.texts[points[j]] for j in picks], tools=tools.most_common(5),
            models=models.most_common(5), severities=dict(sorted(severities.items())), split=split,
        )

    def split_of(point: int, with_group: bool) -> dict[str, Any]:
        _, split_values, group_values = pts.partitions[point]
        pairs = [*zip(s.split_keys, split_values, strict=True)]
        if with_group:
            pairs += [*zip(s.group_keys, group_values, strict=True)]
        return {k: v for k, v in pairs if v is not None}

    root = describe("root", "", list(range(len(pts.texts))), {})
    root.id = f"root:{subject}"
    kind_nodes = {}
    for kind in kinds:
        node = describe("kind", kind, kind_points[kind], {})
        node.id, node.parent = f"kind:{subject}:{kind}", root.id
        kind_nodes[kind] = node
    leaf_nodes = [describe("leaf", pts.kinds[pp[0]], pp, split_of(pp[0], True)) for pp in leaf_points]
    parent_nodes = [describe("parent", pts.kinds[pp[0]], pp, split_of(pp[0], False)) for pp in parent_points]
    _dedupe_ids(parent_nodes + leaf_nodes)
    for leaf, points in enumerate(leaf_points):
        parent = int(parent_of_point[points[0]])
        leaf_nodes[leaf].parent = parent_nodes[parent].id if parent >= 0 else f"kind:{subject}:{leaf_nodes[leaf].kind}"
    for node in parent_nodes:
        node.parent = f"kind:{subject}:{node.kind}"
    alone_by_owner: dict[str, list[int]] = {}
    for p in range(len(pts.texts)):
        if leaf_of_point[p] < 0:
            parent = int(parent_of_point[p])
            owner = parent_nodes[parent].id if parent >= 0 else f"kind:{subject}:{pts.kinds[p]}"
            alone_by_owner.setdefault(owner, []).append(p)
    alone_nodes = []
    for owner, points in alone_by_owner.items():
        node = describe("unclustered", pts.kinds[points[0]], points, {})
        node.id, node.parent = f"unclustered:{owner}", owner
        alone_nodes.append(node)
    nodes: dict[str, ClusterInfo] = {root.id: root}
    for node in kind_nodes.values():
        nodes[node.id] = node
    # children largest first; an unclustered node last among its siblings
    for node in sorted(parent_nodes, key=lambda c: (-c.size, c.id)) + sorted(leaf_nodes, key=lambda c: (-c.size, c.id)):
        nodes[node.id] = node
    for node in alone_nodes:
        nodes[node.id] = node
    for node in list(nodes.values())[1:]:
        nodes[node.parent].children.append(node.id)  # type: ignore[index]
    _keywords(nodes, pts, leaf_of_point, parent_of_point, leaf_nodes, parent_nodes, kinds, subject, s.keywords)
    leaf_of: list[str | None] = [None] * n
    group_of: list[str | None] = [None] * n
    for p in range(len(pts.texts)):
        leaf, parent = int(leaf_of_point[p]), int(parent_of_point[p])
        for i in pts.members[p]:
            leaf_of[i] = leaf_nodes[leaf].id if leaf >= 0 else None
            group_of[i] = parent_nodes[parent].id if parent >= 0 else None
    return ClusterResult(subject=subject, n_items=n, nodes=nodes, leaf_of=leaf_of, group_of=group_of,
                         item_ids=list(item_ids) if item_ids is not None else None)


def _dedupe_ids(nodes: list[ClusterInfo]) -> None:
    """Ids stay unique even if two nodes share a medoid text (then a counter is appended)."""
    seen: Counter[str] = Counter()
    for node in nodes:
        seen[node.id] += 1
        if seen[node.id] > 1:
            node.id = f"{node.id}.{seen[node.id] - 1}"


def _keywords(nodes: dict[str, ClusterInfo], pts: _Points, leaf_of_point: np.ndarray, parent_of_point: np.ndarray,
              leaf_nodes: list[ClusterInfo], parent_nodes: list[ClusterInfo], kinds: list[str], subject: str,
              top: int) -> None:
    """c-TF-IDF keywords: each leaf against the other leaves of its kind, each parent group against the
    other groups of its kind, each unclustered node against the rest of its kind, each kind against
    the other kinds; the root's from all texts."""
    counts = pts.counts.tolist()
    for kind in kinds:
        idx = [p for p, k in enumerate(pts.kinds) if k == kind]
        texts = [pts.texts[p] for p in idx]
        weights = [counts[p] for p in idx]
        for of_point, targets in ((leaf_of_point, leaf_nodes), (parent_of_point, parent_nodes)):
            ids = sorted({int(of_point[p]) for p in idx if of_point[p] >= 0})
            local = {x: j for j, x in enumerate(ids)}
            classes = [local.get(int(of_point[p]), -1) for p in idx]
            for x, words in zip(ids, ctfidf_keywords(texts, weights, classes, len(ids), top), strict=True):
                targets[x].keywords = words
        alone = [j for j, p in enumerate(idx) if leaf_of_point[p] < 0]
        if alone:
            words = ctfidf_keywords(texts, weights, [0 if leaf_of_point[p] < 0 else 1 for p in idx], 2, top)[0]
            for node in nodes.values():
                if node.level == "unclustered" and node.kind == kind:
                    node.keywords = words
    kind_index = {k: j for j, k in enumerate(kinds)}
    kind_words = ctfidf_keywords(pts.texts, counts, [kind_index[k] for k in pts.kinds], len(kinds), top)
    for node in nodes.values():
        if node.level == "kind":
            node.keywords = kind_words[kind_index[node.kind]]
        elif node.level == "root":
            node.keywords = ctfidf_keywords(pts.texts, counts, [0] * len(pts.texts), 1, top)[0] if pts.texts else []


def cluster_signals(
    signals: Sequence[Signal],
    vectors: np.ndarray,
    keys: Sequence[Mapping[str, Any]] | None = None,
    settings: ClusterSettings | Mapping[str, Any] | None = None,
    texts: Sequence[str] | None = None,
) -> ClusterResult:
    """Cluster signals within each signal kind. ``vectors[i]`` embeds ``texts[i]`` (by default
    :func:`tracemine.render.signal_text` of ``signals[i]``); ``keys`` default to
    :func:`tracemine.render.signal_keys`. Members are positions in ``signals``."""
    from tracemine.render import signal_keys, signal_text

    texts = list(texts) if texts is not None else [signal_text(sig) for sig in signals]
    keys = list(keys) if keys is not None else [signal_keys(sig) for sig in signals]
    if len(signals) != len(texts):
        raise ValueError("signals and texts must be aligned")
    return cluster_items(texts, vectors, keys, "signals", settings)


def cluster_trajectories(
    trace_ids: Sequence[str],
    texts: Sequence[str],
    vectors: np.ndarray,
    keys: Sequence[Mapping[str, Any]] | None = None,
    settings: ClusterSettings | Mapping[str, Any] | None = None,
) -> ClusterResult:
    """Cluster failing trajectories (see :func:`tracemine.render.render_trajectories`); one kind,
    ``trajectory``, and no split keys unless ``settings`` say otherwise. Members are positions in
    ``trace_ids``; ``result.item_ids`` keeps the trace ids."""
    base = ClusterSettings.from_settings(settings)
    if settings is None or (isinstance(settings, Mapping) and "split_keys" not in settings):
        base = ClusterSettings(**{**asdict(base), "split_keys": ()})
    keys = list(keys) if keys is not None else [{"kind": "trajectory", "trace_id": t} for t in trace_ids]
    keys = [{**k, "kind": k.get("kind") or "trajectory", "trace_id": k.get("trace_id") or t}
            for k, t in zip(keys, trace_ids, strict=True)]
    return cluster_items(list(texts), vectors, keys, "trajectories", base, item_ids=list(trace_ids))
