"""devgen: an independent *development* generator of labelled agent traces.

Three agents in three formats, none of them tracemine's own synthetic agents:

* ``talent-scheduler`` (recruiting / interview scheduling): OTLP JSON lines, OTel GenAI attributes;
* ``stockroom-ops`` (warehouse / inventory): Langfuse trace exports (trace + observations, scores);
* ``ledger-assistant`` (personal finance / bookkeeping): flat span-per-line JSONL, OpenInference.

Each agent has injected bugs (one bug = one site: agent + tool, a tool pair for a cycle, or the agent's
model/run) and hard-negative look-alikes, all labelled in ``labels.jsonl`` with span ids exactly as
tracemine stores them. Use it to develop detectors; never tune on ``tests/holdout``.

    generate(out_dir, traces=2000, seed=0, days=7.0) -> summary dict
    python -m devgen OUT_DIR --traces N --seed S [--days D]
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from devgen import bookkeeping, recruiting, warehouse
from devgen.core import Run, Variant, hex_id, render, uuid_id
from devgen.formats import flat_spans, langfuse_trace, otlp_line, otlp_spans, stored_id

AGENTS: list[tuple[Any, str]] = [(recruiting, "otlp"), (warehouse, "langfuse"), (bookkeeping, "flat")]
BUG_RATE = 0.27  # share of an agent's traces with a bug (spread over its ~9-10 bug modes: ~3 % each)
SECOND_BUG = 0.14  # share of bug traces with a second, different bug
LOOK_RATE = 0.24  # share of traces with a look-alike segment
TWO_SEGMENTS = 0.3
FILE_TRACES = 250


def modes() -> dict[str, dict[str, Any]]:
    """Every bug and look-alike mode: ``{mode: {"agent", "kind", "tool", "tools", "format"}}``."""
    out = {}
    for module, fmt in AGENTS:
        for v in [*module.BUGS, *module.LOOKS]:
            out[v.mode] = {"agent": module.NAME, "kind": v.kind, "tool": v.tool, "tools": list(v.tools),
                           "format": fmt}
    return out


def _build(module: Any, rng: random.Random) -> tuple[Run, list[tuple[Variant, str]], bool]:
    run = Run(rng, module)
    bugs: list[Variant] = []
    if rng.random() < BUG_RATE:
        bugs.append(rng.choice(module.BUGS))
        if rng.random() < SECOND_BUG:
            others = [b for b in module.BUGS if b is not bugs[0] and not (b.terminal and bugs[0].terminal)
                      and not (b.run_level and bugs[0].run_level)]
            bugs.append(rng.choice(others))
    look = rng.choice(module.LOOKS) if rng.random() < LOOK_RATE else None
    segment_bugs = [b for b in bugs if not b.run_level]
    planned: list[Any] = [b for b in segment_bugs if not b.terminal] + ([look] if look else [])
    want = 2 if rng.random() < TWO_SEGMENTS else 1
    while len(planned) + sum(b.terminal for b in segment_bugs) < want:
        planned.append(rng.choice(module.FLOWS))
    rng.shuffle(planned)
    planned += [b for b in segment_bugs if b.terminal]
    done: list[tuple[Variant, str]] = []
    for item in planned:
        if isinstance(item, Variant):
            done.append((item, item.fn(run)))
        else:
            item(run)
    for b in bugs:
        if b.run_level:
            done.append((b, b.fn(run)))
    failed = rng.random() < 0.88 if bugs else rng.random() < 0.06
    return run, done, failed


def _meta(fmt: str, rng: random.Random, failed: bool, module: Any) -> dict[str, Any]:
    user = f"u_{rng.randint(10000, 99999)}"
    meta: dict[str, Any] = {"user": user, "session": f"sess_{hex_id(rng, 48)}", "agent_id": f"asst_{hex_id(rng, 40)}",
                            "tags": [module.NAME, rng.choice(["web", "slack", "api"])],
                            "channel": rng.choice(["web", "slack", "mobile"]), "outcome_attrs": {}}
    if fmt == "otlp":
        score = round(rng.uniform(0.0, 0.4) if failed else rng.uniform(0.62, 1.0), 2)
        meta["outcome_attrs"] = {"eval.score": score, "eval.rubric_id": "sched-v3"}
        meta["status_ok"] = rng.random() < 0.5
    elif fmt == "langfuse":
        meta["scores"] = [
            {"id": uuid_id(rng), "name": "task_success", "value": 0.0 if failed else 1.0, "dataType": "BOOLEAN",
             "source": "ANNOTATION", "comment": rng.choice([None, "checked by ops lead", "auto-verified"])},
            {"id": uuid_id(rng), "name": "helpfulness", "value": float(rng.randint(1, 3) if failed else
                                                                       rng.randint(3, 5)),
             "dataType": "NUMERIC", "source": "EVAL", "comment": None}]
    else:
        meta["outcome_attrs"] = {"feedback.rating": -1 if failed else 1,
                                 "feedback.comment": rng.choice(["", "thanks", "not what I asked",
                                                                 "numbers look off", "perfect"])}
    return meta


def generate(out_dir: Path, traces: int = 2000, seed: int = 0, days: float = 7.0) -> dict[str, Any]:
    """Write ``traces`` traces (agents in rotation) and ``labels.jsonl`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    master = random.Random(f"devgen/{seed}")
    span_ns = int(days * 86_400 * 1e9)
    starts = sorted(master.randrange(span_ns) for _ in range(traces))
    files: dict[str, list[bytes]] = {}
    labels: list[dict[str, Any]] = []
    kinds: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    base = 1_740_960_000 * 1_000_000_000 + master.randrange(86_400) * 1_000_000_000
    for index in range(traces):
        module, fmt = AGENTS[index % len(AGENTS)]
        rng = random.Random(f"devgen/{seed}/{index}")
        run, issues, failed = _build(module, rng)
        if fmt == "langfuse":
            trace_id = uuid_id(rng)

            def new_id(rng: random.Random = rng) -> str:
                return uuid_id(rng)
        else:
            trace_id = hex_id(rng, 128)

            def new_id(rng: random.Random = rng) -> str:
                return hex_id(rng, 64)
        spans = render(run, trace_id, base + starts[index], new_id, module.MODELS, module.LAT, module.SYSTEM,
                       segment_spans=(fmt == "langfuse"))
        spans[0].error = run.root_error
        meta = _meta(fmt, rng, failed, module)
        outcomes["failure" if failed else "success"] += 1
        name = f"{module.DIRNAME}/{module.FILE_PREFIX}-{index // (FILE_TRACES * len(AGENTS)):03d}.jsonl"
        lines = files.setdefault(name, [])
        if fmt == "otlp":
            objs = otlp_spans(spans, trace_id, module, meta)
            if rng.random() < 0.25 and len(objs) > 3:  # the batch processor exported children first
                cut = rng.randint(2, len(objs) - 1)
                lines.append(orjson.dumps(otlp_line(objs[1:cut], module)))
                lines.append(orjson.dumps(otlp_line([objs[0], *objs[cut:]], module)))
            else:
                lines.append(orjson.dumps(otlp_line(objs, module)))
        elif fmt == "langfuse":
            lines.append(orjson.dumps(langfuse_trace(spans, trace_id, module, meta)))
        else:
            lines.extend(orjson.dumps(obj) for obj in flat_spans(spans, trace_id, module, meta))
        stored_trace = stored_id(trace_id, fmt)
        for variant, detail in issues:
            ids = [stored_id(s.sid, fmt) for s in spans if variant.mode in s.tags]
            if not ids:
                raise AssertionError(f"{variant.mode}: no tagged span in trace {index}")
            label = {"trace_id": stored_trace, "kind": variant.kind, "mode": variant.mode, "span_ids": ids,
                     "tool": variant.tool, "agent": module.NAME, "detail": detail, "format": fmt,
                     "trace_failed": failed}
            if variant.tools:
                label["tools"] = list(variant.tools)
            labels.append(label)
            kinds[variant.kind] += 1
    for name, lines in files.items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\n".join(lines) + b"\n")
    (out_dir / "labels.jsonl").write_bytes(b"".join(orjson.dumps(label) + b"\n" for label in labels))
    return {"traces": traces, "files": sorted(files), "labels": len(labels), "kinds": dict(sorted(kinds.items())),
            "outcomes": dict(outcomes), "modes": len({label["mode"] for label in labels})}


__all__ = ["AGENTS", "generate", "modes"]
