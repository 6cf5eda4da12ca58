"""The clustering stage over a store: the latest detection run's signals and its failing trajectories,
rendered, embedded by a caller-supplied function and clustered; results saved in the store.

The embedding is passed in (``encode(texts) -> unit float32 rows``, e.g.
``lambda texts: embed_texts(texts, store, embedder)``) so this module never loads a model itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from tracemine.cluster.clusterer import Clusterer, TreeClusterer
from tracemine.cluster.result import ClusterResult
from tracemine.cluster.settings import ClusterSettings
from tracemine.store.clusters import save_clusters

Encode = Callable[[list[str]], np.ndarray]


@dataclass
class StageResult:
    signals: ClusterResult
    trajectories: ClusterResult | None
    run_ids: dict[str, int]


def cluster_store(store: Any, encode: Encode, settings: ClusterSettings | Mapping[str, Any] | None = None,
                  detect_id: int | None = None, trajectories: bool = True, save: bool = True,
                  model: str | None = None, trajectory_args: str = "failing", clusterer: Clusterer | None = None,
                  ) -> StageResult:
    """Cluster the signals of detection run ``detect_id`` (the latest by default) and, when
    ``trajectories``, the traces they flag (plus those whose source records a failed outcome), with
    ``clusterer`` (default: :class:`~tracemine.cluster.clusterer.TreeClusterer` of ``settings``)."""
    from tracemine.render import failing_traces, render_trajectories, signal_keys, signal_text

    detect_id = detect_id if detect_id is not None else store.latest_detect_id()
    if clusterer is None:
        clusterer = TreeClusterer(settings)
    signals = store.signals(detect_id)
    texts = [signal_text(s) for s in signals]
    keys = [signal_keys(s) for s in signals]
    vectors = encode(texts) if texts else np.zeros((0, 0), dtype=np.float32)
    signal_result = clusterer.cluster_signals(signals, vectors, keys, texts)
    traj_result = None
    if trajectories:
        rendered = render_trajectories(failing_traces(store, signals), signals, args=trajectory_args)
        traj_vectors = encode(rendered.texts) if rendered.texts else np.zeros((0, 0), dtype=np.float32)
        traj_result = clusterer.cluster_trajectories(rendered.trace_ids, rendered.texts, traj_vectors,
                                                     rendered.keys)
    run_ids: dict[str, int] = {}
    if save:
        run_ids["signals"] = save_clusters(store, signal_result, detect_id, model)
        if traj_result is not None:
            run_ids["trajectories"] = save_clusters(store, traj_result, detect_id, model)
    return StageResult(signal_result, traj_result, run_ids)
