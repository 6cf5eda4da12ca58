"""Leaf groups within one partition (one signal kind): distinct texts as points, HDBSCAN or threshold
agglomeration, then explicit noise handling. Heavy libraries are imported only when used."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tracemine.cluster.settings import ClusterSettings


@dataclass
class GroupStats:
    """How one partition was grouped."""

    method: str = ""
    points: int = 0
    hdbscan_min_size: int | None = None
    pca_dims: int | None = None
    noise: int = 0  # distinct texts HDBSCAN left out
    attached: int = 0  # …of which joined the nearest leaf
    regrouped: int = 0  # …of which formed leaves among themselves
    unclustered: int = 0  # distinct texts left alone
    seconds: dict[str, float] = field(default_factory=dict)


def unit(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1.0, norms)).astype(np.float32, copy=False)


def centroids(vectors: np.ndarray, weights: np.ndarray, labels: np.ndarray, n_groups: int) -> np.ndarray:
    """Weighted mean direction of each group (unit rows)."""
    out = np.zeros((n_groups, vectors.shape[1]), dtype=np.float64)
    mask = labels >= 0
    np.add.at(out, labels[mask], vectors[mask].astype(np.float64) * weights[mask, None])
    return unit(out)


def agglomerate(vectors: np.ndarray, threshold: float) -> np.ndarray:
    """Average-linkage groups of unit ``vectors`` whose cosine distance stays within ``threshold``."""
    n = len(vectors)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    distances = np.clip(pdist(vectors.astype(np.float64), metric="cosine"), 0.0, 2.0)
    tree = linkage(distances, method="average")
    return _renumber(fcluster(tree, t=threshold, criterion="distance").astype(np.int64) - 1)


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0.. in order of first appearance (``-1`` kept)."""
    mapping: dict[int, int] = {}
    out = np.full(len(labels), -1, dtype=np.int64)
    for i, label in enumerate(labels.tolist()):
        if label >= 0:
            out[i] = mapping.setdefault(label, len(mapping))
    return out


def _hdbscan(vectors: np.ndarray, settings: ClusterSettings, stats: GroupStats) -> np.ndarray:
    import time

    m, dims = vectors.shape
    points = vectors
    started = time.perf_counter()
    if m >= settings.pca_min_points and dims > settings.pca_dims:
        from sklearn.decomposition import PCA

        points = PCA(n_components=settings.pca_dims, random_state=settings.seed,
                     svd_solver="covariance_eigh").fit_transform(vectors)
        stats.pca_dims = settings.pca_dims
        stats.seconds["pca"] = time.perf_counter() - started
    size = round(m * settings.hdbscan_size_share)
    size = max(settings.hdbscan_min_size, min(settings.hdbscan_max_min_size, size))
    stats.hdbscan_min_size = size
    import hdbscan

    started = time.perf_counter()
    model = hdbscan.HDBSCAN(
        min_cluster_size=size,
        min_samples=settings.hdbscan_min_samples,
        metric="euclidean",
        cluster_selection_method=settings.hdbscan_selection,
        core_dist_n_jobs=1,
    )
    labels = model.fit_predict(points.astype(np.float64))
    stats.seconds["hdbscan"] = time.perf_counter() - started
    return np.asarray(labels, dtype=np.int64)


def leaf_labels(vectors: np.ndarray, counts: np.ndarray, settings: ClusterSettings) -> tuple[np.ndarray, GroupStats]:
    """A leaf label for each distinct text (``-1``: unclustered), and how they were found.

    ``vectors`` are unit rows, one per distinct text; ``counts`` how many items share each text.
    """
    m = len(vectors)
    stats = GroupStats(points=m)
    if m == 0:
        return np.zeros(0, dtype=np.int64), stats
    if m <= settings.small_n:
        stats.method = "agglomerative"
        labels = agglomerate(vectors, settings.merge_distance)
    else:
        stats.method = "hdbscan"
        labels = _trim(vectors, counts, _renumber(_hdbscan(vectors, settings, stats)), settings.trim_distance)
        labels = _handle_noise(vectors, counts, labels, settings, stats)
    # groups (or lone texts) with fewer items than min_cluster_size are unclustered
    totals = np.bincount(labels[labels >= 0], weights=counts[labels >= 0]) if (labels >= 0).any() else np.zeros(0)
    small = np.isin(labels, np.flatnonzero(totals < settings.min_cluster_size))
    labels = np.where(small, -1, labels)
    stats.unclustered = int((labels < 0).sum())
    return _renumber(labels), stats


def _trim(vectors: np.ndarray, counts: np.ndarray, labels: np.ndarray, distance: float) -> np.ndarray:
    """Members farther than ``distance`` from their cluster's centroid (in the original space: a reduced
    space can bring unrelated points together) become noise."""
    if not (labels >= 0).any():
        return labels
    centers = centroids(vectors, counts.astype(np.float64), labels, int(labels.max()) + 1)
    inside = labels >= 0
    far = np.zeros(len(labels), dtype=bool)
    far[inside] = 1.0 - np.einsum("ij,ij->i", vectors[inside], centers[labels[inside]]) > distance
    return _renumber(np.where(far, -1, labels))


def _handle_noise(vectors: np.ndarray, counts: np.ndarray, labels: np.ndarray, settings: ClusterSettings,
                  stats: GroupStats) -> np.ndarray:
    """Noise texts join the nearest leaf within ``attach_distance``; the others are grouped among themselves."""
    noise = np.flatnonzero(labels < 0)
    stats.noise = len(noise)
    if not len(noise):
        return labels
    labels = labels.copy()
    n_groups = int(labels.max()) + 1 if (labels >= 0).any() else 0
    if n_groups:
        centers = centroids(vectors, counts.astype(np.float64), labels, n_groups)
        distance = 1.0 - vectors[noise] @ centers.T
        nearest = distance.argmin(axis=1)
        close = distance[np.arange(len(noise)), nearest] <= settings.attach_distance
        labels[noise[close]] = nearest[close]
        stats.attached = int(close.sum())
        noise = noise[~close]
    if len(noise):
        regroup = agglomerate(vectors[noise], settings.merge_distance)
        labels[noise] = regroup + n_groups
        sizes = np.bincount(regroup)
        stats.regrouped = int((sizes[regroup] > 1).sum())
    return labels
