"""Cluster results: nodes of the hierarchy (root → kind → parent group → leaf), the networkx tree, JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import networkx as nx

LEVELS = ("root", "kind", "parent", "leaf", "unclustered")


@dataclass
class ClusterInfo:
    """One node of the hierarchy. ``members`` are item indices (signal positions in the detection run's
    signal order, or positions in the list of clustered trajectories); ``exemplars`` are members too."""

    id: str
    level: str
    kind: str
    subject: str
    members: list[int] = field(default_factory=list)
    size: int = 0
    traces: int = 0
    distinct_texts: int = 0
    exemplars: list[int] = field(default_factory=list)
    exemplar_texts: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    tools: list[tuple[str, int]] = field(default_factory=list)
    models: list[tuple[str, int]] = field(default_factory=list)
    severities: dict[str, int] = field(default_factory=dict)
    split: dict[str, Any] = field(default_factory=dict)
    parent: str | None = None
    children: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tools"] = [list(t) for t in self.tools]
        data["models"] = [list(m) for m in self.models]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClusterInfo:
        values = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        values["tools"] = [tuple(t) for t in values.get("tools", [])]
        values["models"] = [tuple(m) for m in values.get("models", [])]
        return cls(**values)


@dataclass
class ClusterResult:
    """Leaves, parent groups, kinds and the root of one clustering (``subject``: signals or trajectories).

    ``leaf_of[i]`` is the id of item i's leaf, or ``None`` when it is unclustered (then it is listed in
    ``unclustered`` and in an ``unclustered`` node under its parent group or its kind: no item is ever
    dropped). ``group_of[i]`` is the id of its parent group (``None`` when it has none).
    """

    subject: str
    n_items: int
    nodes: dict[str, ClusterInfo]
    leaf_of: list[str | None]
    group_of: list[str | None] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    item_ids: list[str] | None = None  # trajectories: the trace id of each item

    @property
    def root(self) -> ClusterInfo:
        return next(n for n in self.nodes.values() if n.level == "root")

    def level(self, name: str) -> list[ClusterInfo]:
        return [n for n in self.nodes.values() if n.level == name]

    @property
    def leaves(self) -> list[ClusterInfo]:
        return self.level("leaf")

    @property
    def parents(self) -> list[ClusterInfo]:
        return self.level("parent")

    @property
    def unclustered(self) -> list[int]:
        return [i for i, leaf in enumerate(self.leaf_of) if leaf is None]

    def labels(self, level: str = "leaf") -> np.ndarray:
        """An integer label per item at ``level`` (``leaf`` or ``parent``); items without a node at that
        level get labels of their own (each a singleton), so scores never treat them as one group."""
        ids: dict[str, int] = {}
        out = np.empty(self.n_items, dtype=np.int64)
        next_single = -1
        of = self.group_of if level == "parent" else self.leaf_of
        for i, leaf in enumerate(of):
            if leaf is None:
                out[i] = next_single
                next_single -= 1
                continue
            out[i] = ids.setdefault(leaf, len(ids))
        return out

    # -- tree and JSON --------------------------------------------------------------------------------

    def tree(self) -> nx.DiGraph:
        """The hierarchy as a ``networkx.DiGraph`` (edges point from parent to child); node attributes are
        the :class:`ClusterInfo` fields."""
        import networkx as nx

        graph = nx.DiGraph(subject=self.subject, n_items=self.n_items)
        for node in self.nodes.values():
            graph.add_node(node.id, **node.to_dict())
        for node in self.nodes.values():
            for child in node.children:
                graph.add_edge(node.id, child)
        return graph

    def to_json(self) -> dict[str, Any]:
        """JSON-ready data: node-link tree plus per-item leaf ids and stats."""
        import networkx as nx

        return {
            "subject": self.subject,
            "n_items": self.n_items,
            "leaf_of": self.leaf_of,
            "group_of": self.group_of,
            "item_ids": self.item_ids,
            "stats": self.stats,
            "tree": nx.node_link_data(self.tree(), edges="edges"),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClusterResult:
        import networkx as nx

        graph = nx.node_link_graph(data["tree"], edges="edges")
        nodes = {}
        for node_id, attrs in graph.nodes(data=True):
            info = ClusterInfo.from_dict({**attrs, "id": node_id})
            info.children = list(graph.successors(node_id)) if not info.children else info.children
            nodes[node_id] = info
        return cls(subject=data["subject"], n_items=int(data["n_items"]), nodes=nodes, leaf_of=list(data["leaf_of"]),
                   group_of=list(data.get("group_of") or []),
                   stats=data.get("stats") or {}, item_ids=data.get("item_ids"))
