"""Clustering signals and failing trajectories into a hierarchy (see ARCHITECTURE.md, 'Stages and data flow').

``cluster_signals`` / ``cluster_trajectories`` take vectors (numpy, one unit row per item) and return a
:class:`ClusterResult`: leaves, parent groups, kinds and a root, as nodes and as a ``networkx`` tree;
``save_clusters`` / ``load_clusters`` keep results in the DuckDB store.
"""

from tracemine.cluster.api import cluster_items, cluster_signals, cluster_trajectories
from tracemine.cluster.clusterer import Clusterer, TreeClusterer
from tracemine.cluster.result import ClusterInfo, ClusterResult
from tracemine.cluster.settings import ClusterSettings
from tracemine.cluster.stage import StageResult, cluster_store
from tracemine.store.clusters import load_clusters, save_clusters

__all__ = [
    "ClusterInfo",
    "ClusterResult",
    "ClusterSettings",
    "Clusterer",
    "StageResult",
    "TreeClusterer",
    "cluster_items",
    "cluster_signals",
    "cluster_store",
    "cluster_trajectories",
    "load_clusters",
    "save_clusters",
]
