"""An independent generator of labelled agent traces, used only to score tracemine (never to tune it).

Two agents, two domains, two formats:

* ``claims``: a home-insurance claims assistant, written as LangSmith read-API runs (one run per line) under
  ``traces/claims_langsmith/``; outcome in the root run's ``feedback_stats.task_success``.
* ``oncall``: an IT-operations on-call assistant, written as an OpenAI Agents SDK trace/span export under
  ``traces/oncall_openai_agents/``; outcome in the trace's ``metadata.eval_score``.

``labels.jsonl`` holds one row per injected failure or look-alike, with trace and span ids as tracemine
stores them after ingest. Ingest ``OUT_DIR/traces`` (the labels file is not a trace file).

    generate(out_dir, traces=2000, seed=0, days=7.0) -> counts
    python -m holdout OUT_DIR --traces N --seed S [--days D]
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from holdout import catalog as cat
from holdout import claims, oncall
from holdout.episode import Episode
from holdout.writers import _traceback, label_rows, write_langsmith, write_openai_agents

END = datetime(2025, 9, 15, 0, 0, tzinfo=UTC)
END_NS = int(END.timestamp()) * 1_000_000_000
DAY_NS = 86_400 * 1_000_000_000
FAULT_RATE = 0.03
LOOKALIKE_RATE = 0.04
FAIL_WITH_FAULT = 0.85
FAIL_WITH_TERMINAL_FAULT = 0.97
FAIL_CLEAN = 0.06

AGENTS = {cat.CLAIMS: claims, cat.ONCALL: oncall}
LOOKALIKE_MODES = ("pagination", "polling", "empty_search", "handled_not_found", "transient_retry",
                   "error_article", "similar_reads")


def modes() -> dict[str, dict[str, Any]]:
    """Every injected failure mode: ``{mode: {"agent", "kind", "tool"}}``."""
    return {mode: {"agent": agent, "kind": kind, "tool": tool}
            for agent, module in AGENTS.items() for mode, (kind, tool, _) in module.FAULTS.items()}


def _pick(rng: random.Random, names: list[str], rate: float, cap: int) -> list[str]:
    chosen = [n for n in names if rng.random() < rate]
    rng.shuffle(chosen)
    return chosen[:cap]


def _episode(agent: str, index: int, seed: int, days: float) -> Episode:
    rng = random.Random(f"holdout:{seed}:{index}")
    module = AGENTS[agent]
    start_ns = END_NS - int(rng.random() * days * DAY_NS)
    ctx = claims.Ctx(rng, 2025) if agent == cat.CLAIMS else oncall.Ctx(rng, start_ns)
    models = cat.CLAIMS_MODELS if agent == cat.CLAIMS else cat.ONCALL_MODELS
    model = rng.choices([m for m, _ in models], [w for _, w in models])[0]
    ep = Episode(agent, index, rng, model, module.user_message(ctx), start_ns=start_ns)
    ep.session = (f"thr_{rng.getrandbits(64):016x}" if agent == cat.CLAIMS
                  else f"slack-C0{rng.randint(10**7, 10**8 - 1)}-{start_ns // 10**9}.{rng.randint(100000, 999999)}")
    ep.meta.update({
        "channel": rng.choice(["web", "adjuster-desk", "mobile"] if agent == cat.CLAIMS else ["slack", "pagerduty", "cli"]),
        "fingerprint": f"fp_{rng.getrandbits(40):010x}",
        "descriptions": {t["function"]["name"]: t["function"]["description"] for t in cat.CLAIMS_TOOLS},
        "guardrail": rng.random() < 0.35,
    })

    faults = _pick(rng, sorted(module.FAULTS), FAULT_RATE, 2)
    terminal = [f for f in faults if f in module.TERMINAL]
    if len(terminal) > 1:
        faults.remove(terminal[1])
    looks = _pick(rng, list(LOOKALIKE_MODES), LOOKALIKE_RATE, 2)
    if any(f in module.TERMINAL for f in faults):
        looks = [lk for lk in looks if lk not in module.TERMINAL_LOOKALIKES]
    segments: list[Any] = [module.FAULTS[f][2] for f in faults] + [module.LOOKALIKES[lk] for lk in looks]
    if not segments or rng.random() < 0.4:
        segments.extend(rng.sample(module.CLEAN, 1 if segments else rng.randint(1, 2)))
    last = [s for s in segments if s in {module.FAULTS[f][2] for f in module.TERMINAL}
            or s in {module.LOOKALIKES[lk] for lk in module.TERMINAL_LOOKALIKES}]
    middle = [s for s in segments if s not in last]
    rng.shuffle(middle)
    for segment in middle + last[:1]:
        segment(ep, ctx)

    terminal_fault = any(m in module.TERMINAL for m in ep.modes)
    if ep.modes:
        fail = rng.random() < (FAIL_WITH_TERMINAL_FAULT if terminal_fault else FAIL_WITH_FAULT)
    else:
        fail = rng.random() < FAIL_CLEAN
    ep.success = not fail
    # a claims payment failure sometimes raises out of the graph instead of ending in an apology
    if agent == cat.CLAIMS and "claims/payment_rejected_unrecovered" in ep.modes and rng.random() < 0.5:
        failed = ep.turns[-1].calls[-1]
        ep.meta.update({"aborted": True, "raise_after": ep.turns[-1], "raise_error": _traceback(failed.tool, failed.error or "")})
    return ep


def generate(out_dir: Path, traces: int = 2000, seed: int = 0, days: float = 7.0) -> dict[str, Any]:
    """Write ``traces`` labelled traces (half per agent) and ``labels.jsonl`` into ``out_dir``."""
    out_dir = Path(out_dir)
    dirs = {cat.CLAIMS: out_dir / "traces" / "claims_langsmith", cat.ONCALL: out_dir / "traces" / "oncall_openai_agents"}
    prefix = {cat.CLAIMS: "runs", cat.ONCALL: "trace-export"}
    files: dict[tuple[str, str], list[bytes]] = {}
    label_lines: list[bytes] = []
    counts: Counter[str] = Counter()
    by_mode: Counter[str] = Counter()
    episodes = []
    for index in range(traces):
        agent = cat.CLAIMS if index % 2 == 0 else cat.ONCALL
        episodes.append(_episode(agent, index, seed, days))
    episodes.sort(key=lambda e: (e.start_ns, e.index))
    for ep in episodes:
        ids = random.Random(f"holdout-ids:{seed}:{ep.index}")
        writer = write_langsmith if ep.agent == cat.CLAIMS else write_openai_agents
        trace_id, records = writer(ep, ids)
        day = datetime.fromtimestamp(ep.start_ns // 1_000_000_000, UTC).strftime("%Y-%m-%d")
        files.setdefault((ep.agent, day), []).extend(orjson.dumps(r) + b"\n" for r in records)
        rows = label_rows(ep, trace_id)
        label_lines.extend(orjson.dumps(r) + b"\n" for r in rows)
        counts[f"traces.{ep.agent}"] += 1
        counts[f"records.{ep.agent}"] += len(records)
        counts["failed_traces"] += not ep.success
        counts["traces_with_faults"] += bool(ep.modes)
        counts["traces_with_two_faults"] += len(ep.modes) > 1
        for row in rows:
            by_mode[row["mode"] if row["kind"] != "lookalike" else f"{ep.agent}/lookalike:{row['mode']}"] += 1
            counts["labels"] += 1
            counts[f"labels.{row['kind']}"] += 1
    for directory in dirs.values():
        directory.mkdir(parents=True, exist_ok=True)
    for (agent, day), lines in sorted(files.items()):
        (dirs[agent] / f"{prefix[agent]}-{day}.jsonl").write_bytes(b"".join(lines))
    (out_dir / "labels.jsonl").write_bytes(b"".join(label_lines))
    return {"traces": len(episodes), "files": len(files), **dict(sorted(counts.items())), "by_mode": dict(sorted(by_mode.items()))}


__all__ = ["END", "LOOKALIKE_MODES", "generate", "modes"]
