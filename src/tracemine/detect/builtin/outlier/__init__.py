"""``outlier``: spans whose latency, tokens or cost are far above the usual for their tool or model.

The first pass collects, per group (``tool:<name>`` for tool spans, ``model:<name>`` for LLM spans) and
metric (``latency``, ``input_tokens``, ``output_tokens``, ``total_tokens``, ``cost``), the log of every
positive value in the window, as mergeable :class:`~tracemine.detect.stats.Sample`s. A span is an outlier
on a metric when the group has at least ``min_samples`` values, its robust z-score on the log scale
(distance from the median in units of 1.4826 × MAD) is at least ``min_robust_z`` *and* its value is at
least ``min_ratio`` times the median — the ratio keeps tight distributions (tiny MAD) from producing
noise. A value at least ``strong_ratio`` times the median needs a z-score of only ``strong_min_z``: usual
values spread over a wide range, or a window where many calls spiked, inflate the MAD. Only the high side is judged: the waste a team wants to find. One signal per span, the strongest
metric first.

LLM calls are judged within their model *and role*: calls after the run's last tool call (answers) and
the others (steps that lead to tool calls) are different workloads, an order of magnitude apart in output
length; a role with fewer than ``min_samples`` values falls back to the whole model. Tool calls with an
explicit error status, and calls without a result for a tool that normally records one (cut off, timed
out), are not judged on latency: they are slow because they failed, and the error detectors report them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from tracemine.detect.base import Detector
from tracemine.detect.builtin.outlier.evidence import OutlierEvidence
from tracemine.detect.stats import Sample
from tracemine.detect.view import TraceView
from tracemine.model import Signal, Span, SpanKind, Status

METRICS = ("latency", "input_tokens", "output_tokens", "total_tokens", "cost")
Metric = Literal["latency", "input_tokens", "output_tokens", "total_tokens", "cost"]


class OutlierParams(BaseModel):
    """``detect.outlier``: which metrics are judged, when a value is an outlier, and its severity."""

    model_config = ConfigDict(extra="forbid")

    metrics: tuple[Metric, ...] = Field(METRICS, description="what is judged, per tool/model (and role)")
    min_samples: int = Field(30, ge=1, description="spans per tool/model (and role) before judging")
    min_robust_z: float = Field(5.0, ge=0, description="robust z-score on log values…")
    min_ratio: float = Field(5.0, ge=1, description="…and at least this multiple of the median")
    strong_ratio: float = Field(20.0, ge=1, description="this multiple of the median is an outlier at a robust z "
                                "of only…")
    strong_min_z: float = Field(3.0, ge=0, description="…this much (widely spread usual values, or many spikes)")
    min_log_scale: float = Field(0.05, gt=0, description="least spread of log values (a constant metric)")
    judge_failed_latency: bool = Field(False, description="judge failed/cut-off calls' latency too (else the error "
                                       "detectors' business)")
    result_share: float = Field(0.9, ge=0, le=1, description="a tool usually has a result when this share of its "
                                "calls have one (a call without is then abandoned: its latency is not judged)")
    medium_ratio: float = Field(10.0, ge=1, description="severity medium from this multiple of the median")
    high_ratio: float = Field(20.0, ge=1, description="severity high from this multiple of the median")
    critical_ratio: float = Field(100.0, ge=1, description="severity critical from this multiple of the median")
_NS_PER_MS = 1_000_000


def span_group(span: Span, agent: str | None = None, run_model: str | None = None) -> tuple[str, str] | None:
    """``("tool:<name>", name)`` or ``("model:<name>", name)`` for spans that are judged, else ``None``. An
    LLM call whose model is not on record (OpenAI Agents SDK ``response`` spans) takes ``run_model`` — the
    one model the run's other LLM calls name, else the model the agent's calls name most often in the
    window — else is judged among the unnamed-model calls of its agent: ``("model:?<agent>", "<agent>'s
    model")``."""
    if span.kind == SpanKind.TOOL:
        name = span.tool_name or span.name
        return (f"tool:{name}", name) if name else None
    if span.kind == SpanKind.LLM:
        model = span.model or run_model
        if model:
            return f"model:{model}", model
        if agent:
            return f"model:?{agent}", f"{agent}'s model"
    return None


def llm_roles(view: TraceView) -> dict[str, str]:
    """``final`` for LLM calls after the run's last tool call (answers), ``step`` for the others (they lead to
    tool calls): two workloads whose output lengths and latencies differ by an order of magnitude."""
    last_tool = max((c.step for c in view.tool_calls), default=-1)
    return {turn.span.span_id: "final" if turn.step > last_tool else "step" for turn in view.llm_turns}


def span_metrics(span: Span) -> dict[str, float]:
    """Positive metric values of a span (latency in milliseconds, total tokens derived when missing)."""
    out: dict[str, float] = {}
    duration = span.duration_ns
    if duration is not None and duration > 0:
        out["latency"] = duration / _NS_PER_MS
    for metric in ("input_tokens", "output_tokens", "total_tokens"):
        value = getattr(span, metric)
        if value is not None and value > 0:
            out[metric] = float(value)
    if "total_tokens" not in out and ("input_tokens" in out or "output_tokens" in out):
        out["total_tokens"] = out.get("input_tokens", 0.0) + out.get("output_tokens", 0.0)
    if span.cost_usd is not None and span.cost_usd > 0:
        out["cost"] = float(span.cost_usd)
    return out


class OutlierDetector(Detector):
    """Latency, token and cost outliers per tool and per model, with robust statistics over the window."""

    name = "outlier"
    kinds = ("outlier",)
    wording = "wording.j2"
    facts_order = 20
    uses_window_stats = True
    explained_level = 1  # a run that loops or hits its turn limit is also slow and token-heavy
    params_model: ClassVar[type[OutlierParams]] = OutlierParams
    evidence_model: ClassVar[type[OutlierEvidence]] = OutlierEvidence
    params: OutlierParams

    @classmethod
    def facts(cls, evidences: list[Mapping[str, Any]], texts: Any, top: int) -> dict[str, Any]:
        """``metrics``: ``[{"metric", "unit", "count", "primary", "median_value", "median_baseline",
        "median_ratio", "max_ratio"}]`` over each member's metric hits (its top ``metric`` and its
        ``others``); ``primary`` counts members where it is the top metric."""
        from collections import Counter

        from tracemine.summarise.aggregate import median, number

        units = {"latency": "ms", "duration": "ms", "cost": "usd", "input_tokens": "tokens",
                 "output_tokens": "tokens", "total_tokens": "tokens"}
        per: dict[str, dict[str, list[float]]] = {}
        primary: Counter[str] = Counter()
        seen: Counter[str] = Counter()
        for ev in evidences:
            hits = [ev] if isinstance(ev.get("metric"), str) else []
            others = ev.get("others")
            hits += [o for o in (others if isinstance(others, list) else ())
                     if isinstance(o, Mapping) and isinstance(o.get("metric"), str)]
            if not hits:
                continue
            primary[texts.clean(hits[0]["metric"])] += 1
            done: set[str] = set()
            for hit in hits:
                metric = texts.clean(hit["metric"])
                if metric in done:
                    continue
                done.add(metric)
                seen[metric] += 1
                slot = per.setdefault(metric, {"value": [], "median": [], "ratio": []})
                for field in ("value", "median", "ratio"):
                    found = number(hit.get(field))
                    if found is not None:
                        slot[field].append(found)
        if not seen:
            return {}
        order = sorted(seen, key=lambda m: (-primary[m], -seen[m], m))[: max(top, 0)]
        return {"metrics": [
            {"metric": m, "unit": units.get(m, ""), "count": seen[m], "primary": primary[m],
             "median_value": median(per[m]["value"]), "median_baseline": median(per[m]["median"]),
             "median_ratio": median(per[m]["ratio"]),
             "max_ratio": round(max(per[m]["ratio"]), 4) if per[m]["ratio"] else None}
            for m in order
        ]}

    @classmethod
    def waste(cls, signal: Signal, spans: Mapping[tuple[str, str], Any]) -> tuple[int, float, float]:
        """The excess over the baseline, in the metric's unit (milliseconds, dollars or tokens)."""
        ev = signal.evidence or {}
        excess = max(float(ev.get("excess") or 0.0), 0.0)
        metric = str(ev.get("metric") or "")
        if metric == "latency":
            return 0, excess, 0.0
        if metric == "cost":
            return 0, 0.0, excess
        return (int(excess), 0.0, 0.0) if metric.endswith("tokens") else (0, 0.0, 0.0)

    @classmethod
    def fix_family(cls, signal: Signal) -> str:
        """The metric (signals stored before outliers declared their ``family``)."""
        metric = (signal.evidence or {}).get("metric")
        return metric if isinstance(metric, str) else ""

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.samples: dict[tuple[str, str], Sample] = {}
        self.results: dict[str, list[int]] = {}
        self.agent_models: dict[str, dict[str, int]] = {}
        """agent → model → named LLM calls: the model an agent's unnamed calls most likely went to"""
        self._finalized = False
        params = self.params
        self.metrics = params.metrics
        self.min_samples = params.min_samples
        self.min_robust_z = params.min_robust_z
        self.min_ratio = params.min_ratio
        self.min_log_scale = params.min_log_scale
        self.strong_ratio = params.strong_ratio
        self.strong_min_z = params.strong_min_z
        self.judge_failed_latency = params.judge_failed_latency

    def _judged(self, view: TraceView) -> Iterable[tuple[Span, str, str, str | None, dict[str, float]]]:
        """``(span, group, name, population, metrics)`` for every span of the trace that is judged."""
        roles = llm_roles(view)
        models = {t.span.model for t in view.llm_turns if t.span.model}
        run_model = next(iter(models)) if len(models) == 1 else None
        if run_model is None and not models and self._finalized:
            usual = self.agent_models.get(view.agent_name or "")
            run_model = max(usual, key=lambda m: (usual[m], m)) if usual else None
        for span in view.trace.spans:
            group = span_group(span, view.agent_name, run_model)
            if group is None:
                continue
            values = {m: v for m, v in span_metrics(span).items() if m in self.metrics}
            if span.kind == SpanKind.TOOL:
                if span.status == Status.ERROR and not self.judge_failed_latency:
                    values.pop("latency", None)  # failed calls are slow because they failed
                population = None
            else:
                population = f"{group[0]}|{roles.get(span.span_id, 'step')}"
            if values:
                yield span, group[0], group[1], population, values

    def _add(self, key: tuple[str, str], value: float) -> None:
        sample = self.samples.get(key)
        if sample is None:
            sample = self.samples[key] = Sample()
        sample.add(math.log(value))

    def observe(self, view: TraceView) -> None:
        counts = self.agent_models.setdefault(view.agent_name or "", {})
        for turn in view.llm_turns:
            if turn.span.model:
                counts[turn.span.model] = counts.get(turn.span.model, 0) + 1
        for span, group, _name, population, values in self._judged(view):
            if span.kind == SpanKind.TOOL:
                counts = self.results.setdefault(group, [0, 0])
                counts[0] += span.tool_result is not None
                counts[1] += 1
            for metric, value in values.items():
                self._add((group, metric), value)
                if population:
                    self._add((population, metric), value)

    def merge(self, other: Detector) -> None:
        if isinstance(other, OutlierDetector):
            for key, sample in other.samples.items():
                mine = self.samples.get(key)
                if mine is None:
                    self.samples[key] = Sample(list(sample.values))
                else:
                    mine.merge(sample)
            for group, (with_result, total) in other.results.items():
                counts = self.results.setdefault(group, [0, 0])
                counts[0] += with_result
                counts[1] += total
            for agent, models in other.agent_models.items():
                mine_models = self.agent_models.setdefault(agent, {})
                for model, n in models.items():
                    mine_models[model] = mine_models.get(model, 0) + n

    def finalize(self) -> None:
        for sample in self.samples.values():
            sample.finalize()
        self._finalized = True

    def detect(self, view: TraceView) -> Iterable[Signal]:
        out = []
        for span, group, name, population, values in self._judged(view):
            if span.kind == SpanKind.TOOL and span.tool_result is None and self._usually_has_result(group):
                values.pop("latency", None)  # an abandoned call (cut off, timed out): its own detectors report it
            hits = [hit for metric, value in values.items() if (hit := self._judge(group, population, metric, value))]
            if hits:
                out.append(self._signal(view, span, group, name, population, hits))
        return out

    def _usually_has_result(self, group: str) -> bool:
        with_result, total = self.results.get(group, (0, 0))
        return total >= self.min_samples and with_result >= self.params.result_share * total

    def _judge(self, group: str, population: str | None, metric: str, value: float) -> dict[str, Any] | None:
        sample = self.samples.get((population, metric)) if population else None
        if sample is None or len(sample) < self.min_samples:
            sample, population = self.samples.get((group, metric)), None
        if sample is None or len(sample) < self.min_samples or sample.median != sample.median:
            return None
        scale = max(sample.mad, self.min_log_scale)
        log_value = math.log(value)
        z = (log_value - sample.median) / scale
        median = math.exp(sample.median)
        ratio = value / median
        # a value this many times the median is an outlier even where the usual values are widely spread
        # (and a window with many such values widens the spread further)
        strong = ratio >= self.strong_ratio and z >= self.strong_min_z
        if (z < self.min_robust_z and not strong) or ratio < self.min_ratio:
            return None
        return {"metric": metric, "value": _round(value), "median": _round(median), "ratio": round(ratio, 2),
                "robust_z": round(z, 2), "log_scale": round(scale, 4), "samples": len(sample),
                "excess": _round(value - median), "population": population or group}

    def _severity(self, ratio: float) -> str:
        if ratio >= self.params.critical_ratio:
            return "critical"
        if ratio >= self.params.high_ratio:
            return "high"
        if ratio >= self.params.medium_ratio:
            return "medium"
        return "low"

    def _signal(self, view: TraceView, span: Span, group: str, name: str, population: str | None,
                hits: list[dict[str, Any]]) -> Signal:
        hits.sort(key=lambda h: (-h["robust_z"], -h["ratio"]))
        top = hits[0]
        is_tool = group.startswith("tool:")
        evidence: dict[str, Any] = {
            **top,
            "group": group,
            "tool" if is_tool else "model": name,
            "span_ids": [span.span_id],
            "metrics": [h["metric"] for h in hits],
            "others": hits[1:],
        }
        metric = top["metric"]
        measure = "latency" if metric == "latency" else "cost" if metric == "cost" and is_tool else "tokens"
        # input, output and total tokens (and an LLM call's cost) rise together: which one deviates most is
        # chance, the fix (what the call is given and asked) is one
        evidence["family"] = measure
        evidence["fix_mechanism"] = f"{'tool' if is_tool else 'llm'}_{measure}"  # one theme per kind of excess
        if not is_tool and measure != "latency":
            # how many tokens a call takes (and so its cost) is what the agent sends and asks for: the fix is
            # in the agent's context and prompts, whichever model served the call; latency is the model's
            evidence["fix_subject"] = ""
        subject = f"tool {name}" if is_tool else f"model {name} call"
        text = f"{subject} {top['metric'].replace('_', ' ')} far above its usual value"  # others: in evidence
        return self.signal(view, "outlier", [span.span_id], self._severity(top["ratio"]), evidence, text)


def _round(value: float) -> float:
    return round(value, 6) if abs(value) < 1 else round(value, 2)
