"""Trajectory findings: clusters of failing runs whose path fails far more often than the window, named by
the steps that set them apart from successful runs; end to end through ``mine`` with real embeddings."""

from __future__ import annotations

import json
from pathlib import Path
from random import Random

import pytest

from tracemine.trajectories import distinguishing_steps, steps_of


def test_steps_and_distinguishing_steps() -> None:
    assert steps_of("find_room ok | find_room ok ×4 (results differ) | end ok, outcome failure") == {
        "find_room ok", "find_room ok ×n (results differ)"}
    cluster = [{"a ok", "b error"}, {"a ok", "b error", "c ok"}, {"a ok", "c ok"}]
    successes = [{"a ok", "c ok"}] * 8 + [{"a ok"}] * 2
    assert distinguishing_steps(cluster, successes) == ["b error"]  # in 2/3 of the cluster, never when it worked
    assert distinguishing_steps(cluster, [{"a ok", "b error", "c ok"}] * 4) == []  # successful runs do it too
    assert distinguishing_steps([], successes) == []


def _records(n: int = 160, seed: int = 4) -> list[dict]:
    """Room-booking runs: most search once; a quarter keep re-searching with new results, and mostly fail."""
    rng = Random(seed)
    out = []
    for i in range(n):
        wanders = i % 4 == 0
        failed = rng.random() < (0.9 if wanders else 0.15)
        traj: list[dict] = [{"role": "user", "content": "a room for two next friday"}]
        searches = 4 if wanders else 1
        for k in range(searches):
            cid = f"c{i}-{k}"
            traj.append({"role": "assistant", "content": None, "tool_calls": [{"id": cid, "type": "function", "function": {
                "name": "find_room", "arguments": json.dumps({"guests": 2, "day": f"friday+{k}"})}}]})
            traj.append({"role": "tool", "tool_call_id": cid, "name": "find_room",
                         "content": json.dumps({"rooms": [f"R{i}{k}{j}" for j in range(2)]})})
        cid = f"b{i}"
        traj.append({"role": "assistant", "content": None, "tool_calls": [{"id": cid, "type": "function", "function": {
            "name": "book_room", "arguments": json.dumps({"room": f"R{i}00"})}}]})
        traj.append({"role": "tool", "tool_call_id": cid, "name": "book_room", "content": f"booked R{i}00"})
        traj.append({"role": "assistant", "content": "Booked."})
        out.append({"task_id": i, "trial": 0, "reward": 0.0 if failed else 1.0, "info": {"task": {}}, "traj": traj})
    return out


@pytest.mark.slow
def test_mine_names_a_failing_path(tmp_path: Path) -> None:
    import tracemine

    (tmp_path / "runs.json").write_text(json.dumps(_records()))
    config = tmp_path / "c.yaml"
    config.write_text("mine:\n  trajectories: true\n")
    result = tracemine.mine([str(tmp_path / "runs.json")], db=tmp_path / "t.duckdb", max_findings=50,
                            config=config, out=tmp_path / "report")
    paths = [f for f in result.all_findings if f.kinds == ["trajectory"]]
    assert len(paths) == 1, [f.title for f in result.all_findings]
    f = paths[0]
    assert "find_room ok ×n (results differ)" in f.key["family"]
    assert f.outcome is not None and f.outcome["ci_low"] > 0.3
    wandering = {t for t in f.trace_ids}
    assert len(wandering) >= 30 and result.stats["citations"]["dropped"] == 0
    assert "Runs that go" in f.title
    document = json.loads((tmp_path / "report" / "findings.json").read_text())
    assert any(item["kinds"] == ["trajectory"] for item in document["findings"])
