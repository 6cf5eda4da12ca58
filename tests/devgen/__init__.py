"""devgen: an independent *development* generator of labelled agent traces.

Four agents, none of them tracemine's own synthetic agents, each with its own model provider:

* ``talent-scheduler`` (recruiting / interview scheduling; OpenAI models), :mod:`devgen.recruiting`;
* ``stockroom-ops`` (warehouse / inventory; Anthropic models), :mod:`devgen.warehouse`;
* ``ledger-assistant`` (personal finance / bookkeeping; Gemini models), :mod:`devgen.bookkeeping`;
* ``facilities-desk`` (property maintenance; Mistral models), :mod:`devgen.facilities`.

**Formats** (:mod:`devgen.formats`): ``FORMATS = ("otlp", "langfuse", "flat", "openai-agents",
"langsmith")`` — OTLP JSON lines with OTel GenAI attributes, Langfuse trace exports (trace + observations,
scores), flat span-per-line OpenInference JSONL, OpenAI Agents SDK tracing export objects, and LangSmith
read-API run objects of a LangGraph agent (:mod:`devgen.langsmith`). By default the formats rotate with the
seed: agent ``i`` (in ``AGENTS`` order) is written in ``FORMATS[(i + seed) % 5]``, so seed 0 writes
recruiting as OTLP, warehouse as Langfuse, bookkeeping as flat spans and facilities as OpenAI Agents SDK
objects (LangSmith is first used by seed 1, for facilities), and any five consecutive seeds write every
agent in every format (four consecutive seeds leave each agent without one format). ``formats=``
overrides the rotation (one format name for all agents, one per agent in ``AGENTS`` order, or ``{agent NAME
or DIRNAME: format}``). Files are ``<DIRNAME>/<prefix>-NNN.jsonl`` with the format's prefix (``otlp``,
``langfuse``, ``spans``, ``agents-sdk``, ``langsmith``). The run outcome is written the way each format
carries one: ``eval.score`` on the OTLP root span, Langfuse ``scores``, ``feedback.rating`` on the flat root
span, in the OpenAI Agents SDK trace ``metadata`` one convention per agent (``feedback``, ``judge_verdict``
or ``eval_score``), and in the LangSmith root run's ``feedback_stats`` one feedback key per agent
(``user_score``, ``correctness`` or ``helpfulness``).

Each agent has injected bugs (``BUGS``; one bug = one site: agent + tool, a tool pair for a cycle, or the
agent's model/run) and hard-negative look-alikes (``LOOKS``), all labelled in ``labels.jsonl`` with span
ids exactly as tracemine stores them (:func:`devgen.formats.stored_id`). A label is
``{"trace_id", "kind", "mode", "span_ids", "tool", "tools"?, "agent", "detail", "format",
"trace_failed"}``; ``kind`` is the failure kind (``loop``, ``duplicate_call``, ``argument_error``,
``silent_failure``, ``unrecovered_error``, ``outlier``) or ``lookalike``. A bug mode carries no second,
unlabelled real defect. In the OpenAI Agents SDK format a run-level tag names both the trace record (the
stored root span) and the agent span; in the LangSmith format the root run *is* the agent span and
the trace id is its id. Use it to develop detectors; never tune on ``tests/holdout``.

    generate(out_dir, traces=2000, seed=0, days=7.0, formats=None) -> summary dict
    python -m devgen OUT_DIR --traces N --seed S [--days D] [--formats otlp,langfuse,flat,langsmith]
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from devgen import bookkeeping, facilities, recruiting, warehouse
from devgen.core import Run, Variant, hex_id, render, uuid_id
from devgen.formats import (
    FILE_PREFIX,
    FORMATS,
    flat_spans,
    langfuse_trace,
    openai_agents_ids,
    openai_agents_records,
    otlp_line,
    otlp_spans,
    stored_id,
)
from devgen.langsmith import feedback_stats, langsmith_runs

AGENTS: tuple[Any, ...] = (recruiting, warehouse, bookkeeping, facilities)
BUG_RATE = 0.27  # share of an agent's traces with a bug (spread over its ~10-11 bug modes: ~2.5-3 % each)
SECOND_BUG = 0.14  # share of bug traces with a second, different bug
LOOK_RATE = 0.24  # share of traces with a look-alike segment
TWO_SEGMENTS = 0.3
FILE_TRACES = 250
SDK_TURNS_FROM = 0.4  # OpenAI Agents SDK format: runs after this share of the window use SDK 0.14 (task/turn spans)
FormatsArg = str | Sequence[str] | Mapping[str, str] | None


def assign_formats(seed: int = 0, formats: FormatsArg = None) -> dict[str, str]:
    """``{agent NAME: format}``: the rotation by seed, or what ``formats`` asks for (module docstring)."""
    out = {module.NAME: FORMATS[(i + seed) % len(FORMATS)] for i, module in enumerate(AGENTS)}
    if formats is None:
        pass
    elif isinstance(formats, str):
        out = dict.fromkeys(out, formats)
    elif isinstance(formats, Mapping):
        names = {m.DIRNAME: m.NAME for m in AGENTS} | {m.NAME: m.NAME for m in AGENTS}
        for key, fmt in formats.items():
            if key not in names:
                raise ValueError(f"unknown agent {key!r}")
            out[names[key]] = fmt
    else:
        formats = list(formats)
        if len(formats) != len(AGENTS):
            raise ValueError(f"formats: one per agent ({len(AGENTS)}), got {len(formats)}")
        out = {m.NAME: fmt for m, fmt in zip(AGENTS, formats, strict=True)}
    unknown = set(out.values()) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown format(s) {sorted(unknown)}; known: {FORMATS}")
    return out


def modes(seed: int = 0, formats: FormatsArg = None) -> dict[str, dict[str, Any]]:
    """Every bug and look-alike mode: ``{mode: {"agent", "kind", "tool", "tools", "format"}}`` (the
    format its agent is written in for ``seed`` / ``formats``)."""
    assigned = assign_formats(seed, formats)
    out = {}
    for module in AGENTS:
        for v in [*module.BUGS, *module.LOOKS]:
            out[v.mode] = {"agent": module.NAME, "kind": v.kind, "tool": v.tool, "tools": list(v.tools),
                           "format": assigned[module.NAME]}
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
        meta["outcome_attrs"] = {"eval.score": score, "eval.rubric_id": f"{module.DIRNAME[:5]}-v3"}
        meta["status_ok"] = rng.random() < 0.5
    elif fmt == "langfuse":
        meta["scores"] = [
            {"id": uuid_id(rng), "name": "task_success", "value": 0.0 if failed else 1.0, "dataType": "BOOLEAN",
             "source": "ANNOTATION", "comment": rng.choice([None, "checked by ops lead", "auto-verified"])},
            {"id": uuid_id(rng), "name": "helpfulness", "value": float(rng.randint(1, 3) if failed else
                                                                       rng.randint(3, 5)),
             "dataType": "NUMERIC", "source": "EVAL", "comment": None}]
    elif fmt == "langsmith":  # feedback on the root run, one key per agent
        meta["feedback_stats"] = feedback_stats(module, failed, round(rng.uniform(0.0, 0.4) if failed else
                                                                       rng.uniform(0.62, 1.0), 2))
    elif fmt == "openai-agents":  # trace metadata: string values, one outcome convention per agent
        style = AGENTS.index(module) % 3
        tmeta = {"user_id": user, "channel": meta["channel"], "app_version": module.VERSION}
        if style == 0:
            tmeta["feedback"] = "thumbs_down" if failed else "thumbs_up"
        elif style == 1:
            tmeta["judge_verdict"] = "fail" if failed else "pass"
        else:
            tmeta["eval_score"] = f"{rng.uniform(0.0, 0.4) if failed else rng.uniform(0.62, 1.0):.2f}"
        meta["trace_metadata"] = tmeta
    else:
        meta["outcome_attrs"] = {"feedback.rating": -1 if failed else 1,
                                 "feedback.comment": rng.choice(["", "thanks", "not what I asked",
                                                                 "numbers look off", "perfect"])}
    return meta


def _response_turns(spans: list[Any], module: Any, rng: random.Random, issues: list[tuple[Variant, str]],
                    sdk_turns: bool) -> list[str]:
    """OpenAI Agents SDK: the model turns written as content-free ``response`` spans. Only OpenAI models
    run on the Responses API (others go through LiteLLM: ``generation`` spans); a run uses it for all,
    none or about half of its turns. A labelled model turn must keep its evidence: a content bug (a
    repeated reply) keeps ``generation`` spans; a latency or token outlier may be a ``response`` span only
    where the SDK exports its ``usage`` (0.14, ``sdk_turns``)."""
    llm = [s for s in spans if s.role == "llm"]
    share = rng.choice([0.0, 0.0, 1.0, 1.0, 0.5])
    kinds = {v.kind for v, _ in issues if any(v.mode in s.tags for s in llm)}
    if module.PROVIDER != "openai" or (kinds and (kinds != {"outlier"} or not sdk_turns)):
        return []
    return [s.sid for s in llm if share == 1.0 or (share and rng.random() < share)]


def generate(out_dir: Path, traces: int = 2000, seed: int = 0, days: float = 7.0,
             formats: FormatsArg = None) -> dict[str, Any]:
    """Write ``traces`` traces (agents in rotation, formats by :func:`assign_formats`) and
    ``labels.jsonl`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    assigned = assign_formats(seed, formats)
    master = random.Random(f"devgen/{seed}")
    span_ns = int(days * 86_400 * 1e9)
    starts = sorted(master.randrange(span_ns) for _ in range(traces))
    files: dict[str, list[bytes]] = {}
    labels: list[dict[str, Any]] = []
    kinds: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    base = 1_740_960_000 * 1_000_000_000 + master.randrange(86_400) * 1_000_000_000
    for index in range(traces):
        module = AGENTS[index % len(AGENTS)]
        fmt = assigned[module.NAME]
        rng = random.Random(f"devgen/{seed}/{index}")
        run, issues, failed = _build(module, rng)
        if fmt in ("langfuse", "langsmith"):
            trace_id = uuid_id(rng)  # langsmith: replaced by the root run's id below

            def new_id(rng: random.Random = rng) -> str:
                return uuid_id(rng)
        elif fmt == "openai-agents":
            trace_id, new_id = openai_agents_ids(rng)
        else:
            trace_id = hex_id(rng, 128)

            def new_id(rng: random.Random = rng) -> str:
                return hex_id(rng, 64)
        spans = render(run, trace_id, base + starts[index], new_id, module.MODELS, module.LAT, module.SYSTEM,
                       segment_spans=(fmt == "langfuse"))
        spans[0].error = run.root_error
        if fmt == "langsmith":
            trace_id = spans[0].sid
        meta = _meta(fmt, rng, failed, module)
        outcomes["failure" if failed else "success"] += 1
        name = f"{module.DIRNAME}/{FILE_PREFIX[fmt]}-{index // (FILE_TRACES * len(AGENTS)):03d}.jsonl"
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
        elif fmt == "openai-agents":
            meta["trace_metadata"].update({k: str(v) for k, v in spans[0].extra.items()})
            meta["sdk_turns"] = starts[index] >= SDK_TURNS_FROM * span_ns
            meta["response_turns"] = _response_turns(spans, module, rng, issues, meta["sdk_turns"])
            lines.extend(orjson.dumps(obj) for obj in openai_agents_records(spans, trace_id, module, meta, new_id))
        elif fmt == "langsmith":
            lines.extend(orjson.dumps(obj) for obj in langsmith_runs(spans, module, meta, new_id))
        else:
            lines.extend(orjson.dumps(obj) for obj in flat_spans(spans, trace_id, module, meta))
        stored_trace = stored_id(trace_id, fmt)
        for variant, detail in issues:
            ids = [stored_id(s.sid, fmt) for s in spans if variant.mode in s.tags]
            if not ids:
                raise AssertionError(f"{variant.mode}: no tagged span in trace {index}")
            if fmt == "openai-agents" and variant.mode in spans[0].tags:
                ids.insert(0, stored_trace)  # the trace record is the stored root; the agent span its child
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
            "outcomes": dict(outcomes), "modes": len({label["mode"] for label in labels}),
            "formats": assigned}


__all__ = ["AGENTS", "FORMATS", "assign_formats", "generate", "modes"]
