"""In-memory components for tests (like the OpenTelemetry SDK's ``InMemorySpanExporter``): each implements
one of the protocols :func:`tracemine.mine` accepts and records what it was given.

>>> from tracemine import mine
>>> from tracemine.testing import HashEmbedder, InMemoryPublisher, KindClusterer, RecordingSummariser
>>> publisher = InMemoryPublisher()
>>> result = mine(["traces/"], db=":memory:", embedder=HashEmbedder(), clusterer=KindClusterer(),
...               summariser=RecordingSummariser(), publishers=[publisher])  # doctest: +SKIP
>>> [f.fingerprint for f, _ in publisher.received] == [f.fingerprint for f in result]  # doctest: +SKIP
True

None of them loads a model or opens a connection; all are deterministic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tracemine.cluster.result import ClusterInfo, ClusterResult
from tracemine.model import Finding, Signal
from tracemine.publish.base import PublishResult
from tracemine.publish.render import Rendered
from tracemine.summarise.base import Brief, Summary


@dataclass
class HashEmbedder:
    """:class:`~tracemine.embed.spec.TextEmbedder`: a unit vector from the SHA-256 of each text (equal texts,
    equal vectors; different texts, near-orthogonal ones). ``calls`` keeps each ``encode`` call's texts."""

    width: int = 32
    calls: list[list[str]] = field(default_factory=list)
    last_stats: Any = None

    @property
    def model_id(self) -> str:
        return f"tracemine.testing.hash-{self.width}"

    @property
    def dim(self) -> int:
        return self.width

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        rows = np.zeros((len(texts), self.width), dtype=np.float32)
        for i, text in enumerate(texts):
            digest = hashlib.sha256(text.encode("utf-8")).digest()
            while len(digest) < self.width:
                digest += hashlib.sha256(digest).digest()
            rows[i] = np.frombuffer(digest[:self.width], dtype=np.uint8).astype(np.float32) - 127.5
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return rows / np.where(norms == 0, 1.0, norms)

    @property
    def texts(self) -> list[str]:
        """Every text encoded, in order."""
        return [t for call in self.calls for t in call]


@dataclass
class KindClusterer:
    """:class:`~tracemine.cluster.clusterer.Clusterer`: one leaf per kind holding every item of that kind
    (root → kind → leaf), ignoring the vectors. ``signal_calls`` / ``trajectory_calls`` count the items
    of each call."""

    signal_calls: list[int] = field(default_factory=list)
    trajectory_calls: list[int] = field(default_factory=list)

    def cluster_signals(self, signals: Sequence[Signal], vectors: np.ndarray, keys: Sequence[Mapping[str, Any]],
                        texts: Sequence[str]) -> ClusterResult:
        self.signal_calls.append(len(signals))
        kinds = [str(k.get("kind") or s.kind) for s, k in zip(signals, keys, strict=True)]
        return _by_kind("signals", kinds, [s.trace_id for s in signals], list(texts), None)

    def cluster_trajectories(self, trace_ids: Sequence[str], texts: Sequence[str], vectors: np.ndarray,
                             keys: Sequence[Mapping[str, Any]]) -> ClusterResult:
        self.trajectory_calls.append(len(trace_ids))
        return _by_kind("trajectories", ["trajectory"] * len(trace_ids), list(trace_ids), list(texts),
                        list(trace_ids))


def _by_kind(subject: str, kinds: list[str], traces: list[str], texts: list[str],
             item_ids: list[str] | None) -> ClusterResult:
    root = ClusterInfo(id=f"root:{subject}", level="root", kind="", subject=subject,
                       members=list(range(len(kinds))), size=len(kinds), traces=len(set(traces)))
    nodes = {root.id: root}
    leaf_of: list[str | None] = [None] * len(kinds)
    for kind in sorted(set(kinds)):
        members = [i for i, k in enumerate(kinds) if k == kind]
        kind_node = ClusterInfo(id=f"kind:{subject}:{kind}", level="kind", kind=kind, subject=subject,
                                members=members, size=len(members), traces=len({traces[i] for i in members}),
                                parent=root.id)
        leaf = ClusterInfo(id=f"L-{subject}-{kind}", level="leaf", kind=kind, subject=subject, members=members,
                           size=len(members), traces=kind_node.traces, distinct_texts=len({texts[i] for i in members}),
                           exemplars=members[:3], exemplar_texts=[texts[i] for i in members[:3]],
                           parent=kind_node.id)
        kind_node.children.append(leaf.id)
        root.children.append(kind_node.id)
        nodes[kind_node.id] = kind_node
        nodes[leaf.id] = leaf
        for i in members:
            leaf_of[i] = leaf.id
    return ClusterResult(subject=subject, n_items=len(kinds), nodes=nodes, leaf_of=leaf_of, group_of=list(leaf_of),
                         item_ids=item_ids)


@dataclass
class RecordingSummariser:
    """:class:`~tracemine.summarise.base.Summariser`: words each brief from its level, kinds and counts and
    keeps the briefs it was given (``briefs``)."""

    name: str = "testing"
    briefs: list[Brief] = field(default_factory=list)

    def summarise(self, brief: Brief) -> Summary:
        self.briefs.append(brief)
        kinds = ", ".join(brief.kinds) or "nothing"
        return Summary(
            title=f"{brief.level} of {kinds}",
            summary=f"{brief.signals} signal(s) in {brief.traces} of {brief.window_traces} trace(s).",
            mechanism=f"{kinds} recurring",
            recommended_fix=f"Look at the {kinds} exemplars.",
            exemplar_refs=[e.ref for e in brief.exemplars[:1]],
            summariser=self.name,
        )


@dataclass
class InMemoryPublisher:
    """:class:`~tracemine.publish.spec.FindingPublisher`: keeps ``(finding, rendered)`` pairs in
    ``received`` and the run ids in ``runs``; ``fail_check`` makes :meth:`check` refuse."""

    name: str = "memory"
    fail_check: str | None = None
    received: list[tuple[Finding, Rendered]] = field(default_factory=list)
    runs: list[int] = field(default_factory=list)

    @property
    def target(self) -> str:
        return "in-memory"

    def check(self) -> None:
        if self.fail_check:
            from tracemine.publish.settings import PublishConfigError

            raise PublishConfigError(self.fail_check)

    def publish(self, finding: Finding, rendered: Rendered, run_id: int, store: Any) -> PublishResult:
        self.received.append((finding, rendered))
        self.runs.append(run_id)
        return PublishResult(self.name, self.target, finding.fingerprint, finding.status, finding.title,
                       actions=["created"], issue=str(len(self.received)))
