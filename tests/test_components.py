"""`mine()` with component objects: the in-memory fakes of `tracemine.testing` replace the embedder,
clusterer, summariser and publishers, the run still produces findings, and each fake received what the
pipeline should give it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tracemine
from tracemine.cluster.clusterer import Clusterer
from tracemine.embed.spec import TextEmbedder
from tracemine.history import run_findings
from tracemine.publish.spec import FindingPublisher
from tracemine.render import signal_text
from tracemine.store import Store
from tracemine.summarise.base import Summariser
from tracemine.testing import HashEmbedder, InMemoryPublisher, KindClusterer, RecordingSummariser


def write_traces(path: Path, n: int = 8) -> None:
    """``n`` flat-JSONL traces whose notify_customer call reports OK while its result says it failed, and
    whose lookup_order call is repeated with the same arguments."""
    lines = []
    for i in range(n):
        trace_id, agent = f"{i + 1:032x}", f"a{i:015x}"
        start = f"2026-10-2{i % 7}T10:00:0{i % 9}"
        base = {"trace_id": trace_id, "status": {"code": "STATUS_CODE_UNSET", "message": ""}, "events": []}
        lines.append({**base, "span_id": agent, "parent_span_id": "", "name": "invoke_agent notifier",
                      "start_time": f"{start}.000000000Z", "end_time": f"{start}.900000000Z",
                      "attributes": {"openinference.span.kind": "AGENT", "agent.name": "notifier",
                                     "input.value": f"Tell customer {i} their order shipped",
                                     "output.value": "Done, the customer has been notified."}})
        lines.append({**base, "span_id": f"b{i:015x}", "parent_span_id": agent, "name": "execute_tool notify_customer",
                      "start_time": f"{start}.100000000Z", "end_time": f"{start}.800000000Z",
                      "attributes": {"openinference.span.kind": "TOOL", "tool.name": "notify_customer",
                                     "input.value": json.dumps({"to": f"customer {i}"}),
                                     "output.value": json.dumps({"ok": False, "error": "SMTP login rejected"})}})
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")


@pytest.fixture
def traces(tmp_path: Path) -> Path:
    path = tmp_path / "traces.jsonl"
    write_traces(path)
    return path


def test_the_fakes_implement_the_protocols() -> None:
    assert isinstance(HashEmbedder(), TextEmbedder)
    assert isinstance(KindClusterer(), Clusterer)
    assert isinstance(RecordingSummariser(), Summariser)
    assert isinstance(InMemoryPublisher(), FindingPublisher)


def test_hash_embedder_is_deterministic_and_unit_length() -> None:
    embedder = HashEmbedder(width=16)
    first = embedder.encode(["a", "b", "a"])
    assert first.shape == (3, 16) and np.allclose(np.linalg.norm(first, axis=1), 1.0)
    assert np.array_equal(first[0], first[2]) and not np.array_equal(first[0], first[1])
    assert np.array_equal(HashEmbedder(width=16).encode(["b"])[0], first[1])


def test_mine_with_in_memory_components(tmp_path: Path, traces: Path) -> None:
    embedder, clusterer = HashEmbedder(), KindClusterer()
    summariser, publisher = RecordingSummariser(), InMemoryPublisher()
    db = tmp_path / "fakes.duckdb"
    result = tracemine.mine([str(traces)], db=db, out=tmp_path / "report", embedder=embedder, clusterer=clusterer,
                            summariser=summariser, publishers=[publisher])
    assert len(result) >= 1
    with Store(db, read_only=True) as store:
        signals = store.signals(result.stats["detect_id"])
        stored = run_findings(store, result.run_id, reported_only=True)
        models = {row[0] for row in store.con.execute("SELECT DISTINCT model_id FROM embeddings").fetchall()}
    # the embedder was asked for exactly the signal texts (each distinct text once: the vector cache dedupes)
    assert sorted(embedder.texts) == sorted({signal_text(s) for s in signals})
    assert models == {embedder.model_id}
    # the clusterer got every signal of the run
    assert clusterer.signal_calls == [len(signals)]
    # the summariser worded every reported finding (and the overview), nothing else was an LLM
    levels = [b.level for b in summariser.briefs]
    assert levels.count("finding") == len(result) and levels[-1] == "overview"
    assert all(f.summariser == "testing" for f in result)
    assert result.findings[0].title.startswith("finding of ")
    # the publisher received the run's reported findings, once each
    assert sorted(f.fingerprint for f, _ in publisher.received) == sorted(f.fingerprint for f in stored)
    assert sorted(f.fingerprint for f in result) == sorted(f.fingerprint for f in stored)
    assert set(publisher.runs) == {result.run_id}
    assert all(rendered.title and f.fingerprint in rendered.markdown for f, rendered in publisher.received)
    assert result.published is not None and result.published.ok
    assert result.published.counts() == {"created": len(result)}
    assert set(result.outputs) == {"json", "markdown", "html"} and all(p.exists() for p in result.outputs.values())


def test_a_publisher_that_refuses_is_reported_not_raised(tmp_path: Path, traces: Path) -> None:
    refusing = InMemoryPublisher(name="refusing", fail_check="token missing")
    result = tracemine.mine([str(traces)], db=tmp_path / "refuse.duckdb", embedder=HashEmbedder(),
                            clusterer=KindClusterer(), publishers=[refusing])
    assert len(result) >= 1 and not refusing.received
    assert not result.published.ok
    [failure] = result.published.failed
    assert (failure.tracker, failure.reason) == ("refusing", "token missing")


def test_components_by_registered_name(tmp_path: Path, traces: Path) -> None:
    """A registered summariser may be named; the default (offline) words every finding."""
    named = tracemine.mine([str(traces)], db=tmp_path / "named.duckdb", embedder=HashEmbedder(),
                           clusterer=KindClusterer(), summariser="offline")
    default = tracemine.mine([str(traces)], db=tmp_path / "default.duckdb", embedder=HashEmbedder(),
                             clusterer=KindClusterer())
    assert [f.fingerprint for f in named] == [f.fingerprint for f in default]
    assert [f.title for f in named] == [f.title for f in default]
    assert all(f.summariser == "offline" for f in default)
    with pytest.raises(tracemine.pipeline.MineError, match="unknown summariser 'nope'"):
        tracemine.mine([str(traces)], db=tmp_path / "bad.duckdb", embedder=HashEmbedder(),
                       clusterer=KindClusterer(), summariser="nope")
