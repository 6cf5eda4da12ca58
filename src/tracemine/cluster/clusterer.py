"""The clusterer a run uses (see ARCHITECTURE.md, 'Plugins'): the :class:`Clusterer` protocol and the
default :class:`TreeClusterer` (root → kind → parent group → leaf, :mod:`tracemine.cluster.api`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from tracemine.cluster.api import cluster_signals, cluster_trajectories
from tracemine.cluster.result import ClusterResult
from tracemine.cluster.settings import ClusterSettings
from tracemine.model import Signal


@runtime_checkable
class Clusterer(Protocol):
    """Groups embedded items into a :class:`ClusterResult` (members are positions in the input)."""

    def cluster_signals(self, signals: Sequence[Signal], vectors: np.ndarray, keys: Sequence[Mapping[str, Any]],
                        texts: Sequence[str]) -> ClusterResult:
        """Signals: ``vectors[i]`` embeds ``texts[i]``; ``keys[i]`` are its exact grouping keys (kind, …)."""

    def cluster_trajectories(self, trace_ids: Sequence[str], texts: Sequence[str], vectors: np.ndarray,
                             keys: Sequence[Mapping[str, Any]]) -> ClusterResult:
        """Failing trajectories, one per trace id (``result.item_ids`` keeps the ids)."""


@dataclass(frozen=True)
class TreeClusterer:
    """The default: HDBSCAN or threshold agglomeration per kind and partition. ``settings`` are passed on
    as given (a mapping without ``split_keys`` leaves trajectories unsplit, see ``cluster_trajectories``)."""

    settings: ClusterSettings | Mapping[str, Any] | None = None

    def cluster_signals(self, signals: Sequence[Signal], vectors: np.ndarray, keys: Sequence[Mapping[str, Any]],
                        texts: Sequence[str]) -> ClusterResult:
        return cluster_signals(signals, vectors, keys, self.settings, texts=texts)

    def cluster_trajectories(self, trace_ids: Sequence[str], texts: Sequence[str], vectors: np.ndarray,
                             keys: Sequence[Mapping[str, Any]]) -> ClusterResult:
        return cluster_trajectories(trace_ids, texts, vectors, keys, self.settings)
