"""Scoring detector signals against ground-truth labels (``labels.jsonl`` from ``tracemine synth`` or
labels derived from a dataset), at the span level: a signal hits a label when both name the same trace
and kind and the signal names at least half of the labelled spans."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from tracemine.model import Signal

MIN_COVERAGE = 0.5


@dataclass(frozen=True)
class Label:
    trace_id: str
    kind: str
    mode: str
    span_ids: frozenset[str]
    tool: str | None = None


@dataclass
class KindScore:
    kind: str
    labels: int = 0
    labels_hit: int = 0
    labels_fully_named: int = 0
    signals: int = 0
    signals_correct: int = 0
    missed: list[Label] = field(default_factory=list)
    false_positives: list[Signal] = field(default_factory=list)
    by_mode: dict[str, list[int]] = field(default_factory=dict)  # mode -> [labels, hit]

    @property
    def recall(self) -> float:
        return self.labels_hit / self.labels if self.labels else float("nan")

    @property
    def precision(self) -> float:
        return self.signals_correct / self.signals if self.signals else float("nan")


def read_labels(path: str | Path) -> list[Label]:
    labels = []
    for line in Path(path).read_bytes().splitlines():
        if line.strip():
            d = orjson.loads(line)
            labels.append(Label(d["trace_id"], d["kind"], d.get("mode", ""), frozenset(d.get("span_ids") or ()),
                                d.get("tool")))
    return labels


def _hits(signal: Signal, label: Label) -> tuple[bool, bool]:
    if signal.trace_id != label.trace_id or signal.kind != label.kind:
        return False, False
    if not label.span_ids:
        return True, True
    named = len(label.span_ids & set(signal.span_ids))
    return named >= MIN_COVERAGE * len(label.span_ids), named == len(label.span_ids)


def score(signals: Iterable[Signal], labels: Iterable[Label], kinds: Iterable[str] | None = None) -> dict[str, KindScore]:
    """Per-kind precision/recall. Labels of kinds not in ``kinds`` (e.g. ``recovered_error``) only ever
    make signals on their spans count as false positives."""
    labels = list(labels)
    signals = list(signals)
    wanted = set(kinds) if kinds is not None else {label.kind for label in labels} | {s.kind for s in signals}
    scores = {kind: KindScore(kind) for kind in sorted(wanted)}
    by_trace: dict[tuple[str, str], list[Label]] = defaultdict(list)
    for label in labels:
        by_trace[(label.trace_id, label.kind)].append(label)
    signals_by_trace: dict[tuple[str, str], list[Signal]] = defaultdict(list)
    for signal in signals:
        signals_by_trace[(signal.trace_id, signal.kind)].append(signal)
    for label in labels:
        if label.kind not in scores:
            continue
        entry = scores[label.kind]
        entry.labels += 1
        mode = entry.by_mode.setdefault(label.mode, [0, 0])
        mode[0] += 1
        results = [_hits(s, label) for s in signals_by_trace.get((label.trace_id, label.kind), ())]
        if any(hit for hit, _ in results):
            entry.labels_hit += 1
            mode[1] += 1
            if any(full for _, full in results):
                entry.labels_fully_named += 1
        else:
            entry.missed.append(label)
    for signal in signals:
        if signal.kind not in scores:
            continue
        entry = scores[signal.kind]
        entry.signals += 1
        if any(_hits(signal, label)[0] for label in by_trace.get((signal.trace_id, signal.kind), ())):
            entry.signals_correct += 1
        else:
            entry.false_positives.append(signal)
    return scores


def as_rows(scores: dict[str, KindScore]) -> list[dict[str, Any]]:
    return [
        {"kind": k, "labels": s.labels, "recall": s.recall, "signals": s.signals, "precision": s.precision,
         "fully_named": s.labels_fully_named}
        for k, s in scores.items()
    ]
