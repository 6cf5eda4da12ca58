"""``generate()``: stream synthetic agent traces with injected, labelled failures to disk."""

from __future__ import annotations

import calendar
import datetime as dt
import operator
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from random import Random
from typing import Any

import orjson

from tracemine.synth.domains import AGENTS, AGENTS_BY_NAME
from tracemine.synth.materialize import materialize
from tracemine.synth.plan import TraceBuilder
from tracemine.synth.scenarios import DEFAULT_RATES, KINDS, BugSites, inject, run_workflow
from tracemine.synth.writers import TraceWriter

DEFAULT_END_TIME = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
FORMATS = ("otlp", "jsonl")
_NS = 1_000_000_000
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


@dataclass(slots=True)
class SynthConfig:
    """What to generate.

    ``rates`` maps label kinds (see :data:`KINDS`) to the probability that a trace's first injected label
    is of that kind; kinds left out keep their default (:data:`DEFAULT_RATES`), rates must sum to ≤ 1.
    ``second_failure_rate`` is the chance that a trace with a label gets a second one of another kind.
    Traces start uniformly over the ``days`` before ``end_time`` and all end by it.
    """

    traces: int = 1000
    seed: int = 0
    fmt: str = "otlp"
    days: float = 7.0
    rates: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES))
    end_time: dt.datetime | str = DEFAULT_END_TIME
    max_spans_per_file: int = 200_000
    second_failure_rate: float = 0.08
    agents: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        try:
            traces = operator.index(self.traces)
        except TypeError:
            traces = -1
        if isinstance(self.traces, bool) or traces < 0:
            raise ValueError(f"traces must be a non-negative integer, got {self.traces!r}")
        self.traces = traces
        if self.fmt not in FORMATS:
            raise ValueError(f"fmt must be one of {FORMATS}, got {self.fmt!r}")
        if not self.days > 0:
            raise ValueError(f"days must be positive, got {self.days!r}")
        if self.max_spans_per_file < 1:
            raise ValueError("max_spans_per_file must be at least 1")
        if not 0.0 <= self.second_failure_rate <= 1.0:
            raise ValueError("second_failure_rate must be within [0, 1]")
        unknown = set(self.rates) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown label kind(s) in rates: {sorted(unknown)}; known: {list(KINDS)}")
        rates = {**DEFAULT_RATES, **{k: float(v) for k, v in self.rates.items()}}
        bad = {k: v for k, v in rates.items() if not 0.0 <= v <= 1.0}
        if bad:
            raise ValueError(f"rates must be within [0, 1]: {bad}")
        if sum(rates.values()) > 1.0 + 1e-9:
            raise ValueError(f"rates sum to {sum(rates.values()):.3f} > 1")
        self.rates = rates
        if isinstance(self.end_time, str):
            self.end_time = dt.datetime.fromisoformat(self.end_time.replace("Z", "+00:00"))
        if self.end_time.tzinfo is None:
            self.end_time = self.end_time.replace(tzinfo=dt.UTC)
        if self.agents is not None:
            missing = [a for a in self.agents if a not in AGENTS_BY_NAME]
            if missing or not self.agents:
                raise ValueError(f"unknown agent(s) {missing}; known: {list(AGENTS_BY_NAME)}")

    @property
    def end_ns(self) -> int:
        end = self.end_time
        assert isinstance(end, dt.datetime)
        return calendar.timegm(end.utctimetuple()) * _NS + end.microsecond * 1000


@dataclass(frozen=True, slots=True)
class SynthResult:
    """What :func:`generate` wrote."""

    files: tuple[Path, ...]
    labels_file: Path
    traces: int
    spans: int
    labels: dict[str, dict[str, int]]
    seconds: float

    @property
    def label_counts(self) -> dict[str, int]:
        """Number of labels per kind."""
        return {kind: sum(modes.values()) for kind, modes in self.labels.items()}

    @property
    def spans_per_second(self) -> float:
        return self.spans / self.seconds if self.seconds > 0 else 0.0


def _uuid(rng: Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


_BY_END = attrgetter("end")


def generate(
    config: SynthConfig, out_dir: str | Path, progress: Callable[[int], None] | None = None
) -> SynthResult:
    """Write ``config.traces`` traces to ``out_dir`` (``traces.jsonl`` or ``traces-NNNNN.jsonl`` parts) and
    their labels to ``labels.jsonl``. The same config gives byte-identical files.

    ``progress``, if given, is called with the number of traces written so far every 1,000 traces and
    at the end.
    """
    began = time.perf_counter()
    out = Path(out_dir)
    rng = Random(config.seed)
    agents = [AGENTS_BY_NAME[a] for a in config.agents] if config.agents else list(AGENTS)
    end_ns = config.end_ns
    window = int(config.days * 86400 * _NS)
    window_start = end_ns - window
    n = config.traces
    rates = dict(config.rates)
    writer = TraceWriter(out, config.fmt, config.max_spans_per_file)
    counts: dict[str, dict[str, int]] = {}
    spans_total = 0
    labels_path = out / "labels.jsonl"
    sites = BugSites()
    try:
        with labels_path.open("wb") as lf:
            for i in range(n):
                agent = agents[rng.randrange(len(agents))]
                start = window_start + int((i + rng.random()) * window / n)
                b = TraceBuilder(agent, rng, _EPOCH_ORDINAL + start // (86400 * _NS))
                trace_id = f"{rng.getrandbits(128) or 1:032x}"
                conv_id = _uuid(rng)
                run_workflow(agent, b)
                injected = inject(b, rates, config.second_failure_rate, sites)
                spans = materialize(b, start, end_ns)
                spans.sort(key=_BY_END)
                writer.write(b, trace_id, conv_id, spans)
                spans_total += len(spans)
                for lab in injected:
                    record: dict[str, Any] = {
                        "trace_id": trace_id, "kind": lab.kind, "mode": lab.mode,
                        "span_ids": [s.span_id for s in lab.spans], "tool": lab.tool, "agent": agent.name,
                        "detail": lab.detail,
                    }
                    lf.write(orjson.dumps(record) + b"\n")
                    per_kind = counts.setdefault(lab.kind, {})
                    per_kind[lab.mode] = per_kind.get(lab.mode, 0) + 1
                if progress is not None and (i + 1) % 1000 == 0:
                    progress(i + 1)
        if progress is not None:
            progress(n)
    finally:
        files = writer.close()
    return SynthResult(
        files=tuple(files), labels_file=labels_path, traces=n, spans=spans_total,
        labels={k: dict(sorted(v.items())) for k, v in sorted(counts.items())},
        seconds=time.perf_counter() - began,
    )
