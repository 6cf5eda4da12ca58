"""Clustering settings (the ``cluster:`` section of the YAML configuration), validated early."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class ClusterSettings:
    """Thresholds are cosine distances between unit vectors (0 = same direction, 1 = orthogonal).

    * Leaves: within each kind (and each value of ``split_keys``), identical texts are one point; up to
      ``small_n`` distinct texts are grouped by average-linkage agglomeration at ``merge_distance``,
      more by HDBSCAN (on PCA-reduced vectors beyond ``pca_min_points`` texts) with a minimum cluster
      size adapted to the number of texts; members farther than ``trim_distance`` from their
      cluster's centroid are treated as noise.
    * Noise: a text HDBSCAN left out joins the nearest leaf within ``attach_distance``; the rest are
      grouped among themselves at ``merge_distance``; what is still alone and rarer than
      ``min_cluster_size`` items is reported as unclustered.
    * Parents: the leaves of one value of ``split_keys`` (by default the detector's sentence frame, see
      :func:`tracemine.render.signal_frame`) form one parent group. A kind whose items have more than
      ``split_max`` values and more than ``split_share`` of its distinct texts is not split (its frames
      say little); its leaves, and those of unsplit subjects such as trajectories, share a parent when
      their centroids lie within ``parent_distance`` (average linkage).
    """

    split_keys: tuple[str, ...] = ("frame",)
    group_keys: tuple[str, ...] = ("error_class",)
    frame_merge_distance: float = 0.05
    split_max: int = 12
    split_share: float = 0.25
    min_cluster_size: int = 2
    small_n: int = 60
    merge_distance: float = 0.12
    attach_distance: float = 0.2
    trim_distance: float = 0.5
    parent_distance: float = 0.3
    hdbscan_min_size: int = 3
    hdbscan_size_share: float = 0.01
    hdbscan_max_min_size: int = 25
    hdbscan_min_samples: int | None = None
    hdbscan_selection: str = "leaf"
    pca_dims: int = 32
    pca_min_points: int = 400
    exemplars: int = 5
    keywords: int = 8
    seed: int = 0
    blas_threads: int = 1

    @classmethod
    def from_settings(cls, settings: ClusterSettings | Mapping[str, Any] | None) -> ClusterSettings:
        """Settings from a mapping (unknown keys are an error, values are checked)."""
        if isinstance(settings, ClusterSettings):
            return settings
        values = dict(settings or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown cluster settings: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        for name in ("split_keys", "group_keys"):
            if name in values:
                values[name] = tuple(values[name] or ())
        made = cls(**values)
        made.validate()
        return made

    def validate(self) -> None:
        for name in ("merge_distance", "attach_distance", "trim_distance", "parent_distance", "frame_merge_distance"):
            value = getattr(self, name)
            if not 0.0 <= value <= 2.0:
                raise ValueError(f"cluster.{name} must be a cosine distance in [0, 2], got {value}")
        for name in ("blas_threads", "min_cluster_size", "small_n", "hdbscan_min_size", "hdbscan_max_min_size", "pca_dims",
                     "exemplars", "keywords"):
            if getattr(self, name) < 1:
                raise ValueError(f"cluster.{name} must be at least 1")
        if self.hdbscan_selection not in ("leaf", "eom"):
            raise ValueError("cluster.hdbscan_selection must be 'leaf' or 'eom'")
        if not 0.0 <= self.split_share <= 1.0:
            raise ValueError("cluster.split_share must be in [0, 1]")
        if not 0.0 <= self.hdbscan_size_share < 1.0:
            raise ValueError("cluster.hdbscan_size_share must be in [0, 1)")
