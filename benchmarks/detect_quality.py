"""Detector quality: precision and recall against ground truth.

    python benchmarks/detect_quality.py                       # synth (3 seeds) + τ-bench + AgentRx
    python benchmarks/detect_quality.py --traces 2000 --seeds 1 --skip-real

1. Synthetic data (`tracemine synth`, several seeds, both formats): per kind, span-level precision and
   recall (a signal hits a label when it names at least half of the labelled spans of the same trace and
   kind; `recovered_error` traces are hard negatives), recall per failure mode, and examples of misses
   and false positives.
2. τ-bench airline (../shared/datasets/tau-bench-airline): tool results starting with "Error:" are
   failures reported as plain text (status unset) — what fraction do the detectors flag; failed runs
   whose write call matches a gold action by name but differs in kwargs — what fraction of those calls
   is flagged; exact duplicate calls; and how many flags fall on runs that succeeded.
3. AgentRx τ-retail (../shared/datasets/agentrx-tau-retail): human step labels of 29 failed runs — what
   fraction of labelled steps per failure category the detectors flag, and flags on successful runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson

from tracemine.detect.args import canonical
from tracemine.detect.runner import run_detection
from tracemine.evaluate import read_labels, score
from tracemine.ingest.loader import ingest_paths
from tracemine.model import Signal
from tracemine.store import Store
from tracemine.synth import SynthConfig, generate

KINDS = ["loop", "duplicate_call", "silent_failure", "argument_error", "unrecovered_error", "outlier"]
TARGET_KINDS = {"loop", "duplicate_call", "silent_failure", "argument_error"}
SHARED = Path(__file__).resolve().parents[2] / "shared"


def _fmt(x: float) -> str:
    return "  n/a" if x != x else f"{x:5.3f}"


def synth_quality(traces: int, seeds: list[int], show: int) -> bool:
    print(f"== synthetic data: {traces:,} traces per seed, seeds {seeds}")
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    modes: dict[str, Counter[str]] = defaultdict(Counter)
    examples_missed: dict[str, list[Any]] = defaultdict(list)
    examples_fp: dict[str, list[Signal]] = defaultdict(list)
    for seed in seeds:
        fmt = "otlp" if seed % 2 else "jsonl"
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "data"
            generate(SynthConfig(traces=traces, seed=seed, fmt=fmt, days=7), out)
            with Store(Path(tmp) / "q.duckdb") as store:
                ingest_paths([str(out)], store)
                started = time.perf_counter()
                report = run_detection(store, None, None, {}, save=False)
                seconds = time.perf_counter() - started
            labels = read_labels(out / "labels.jsonl")
        scores = score(report.signals, labels, kinds=KINDS)
        print(f"seed {seed} ({fmt}): {report.traces:,} traces, {report.spans:,} spans, "
              f"{len(report.signals):,} signals in {seconds:.1f}s ({report.spans / seconds:,.0f} spans/s)"
              + (f", detector errors {dict(report.errors)}" if report.errors else ""))
        for kind, s in scores.items():
            print(f"   {kind:18s} labels {s.labels:5d} recall {_fmt(s.recall)}  signals {s.signals:5d} "
                  f"precision {_fmt(s.precision)}  fully named {s.labels_fully_named}")
            t = totals[kind]
            t["labels"] += s.labels
            t["hit"] += s.labels_hit
            t["signals"] += s.signals
            t["correct"] += s.signals_correct
            for mode, (n, hit) in s.by_mode.items():
                modes[kind][f"{mode}:n"] += n
                modes[kind][f"{mode}:hit"] += hit
            examples_missed[kind].extend(s.missed[:show])
            examples_fp[kind].extend(s.false_positives[:show])
    print("\nall seeds")
    ok = True
    for kind in KINDS:
        t = totals[kind]
        recall = t["hit"] / t["labels"] if t["labels"] else float("nan")
        precision = t["correct"] / t["signals"] if t["signals"] else float("nan")
        target = kind in TARGET_KINDS
        meets = (recall >= 0.95 and precision >= 0.95) if target else True
        ok &= meets
        flag = "" if not target else ("  meets 0.95/0.95" if meets else "  BELOW 0.95/0.95 target")
        print(f"   {kind:18s} recall {_fmt(recall)} ({t['hit']}/{t['labels']})  "
              f"precision {_fmt(precision)} ({t['correct']}/{t['signals']}){flag}")
        per_mode = sorted({m.split(':')[0] for m in modes[kind]})
        print("      modes: " + ", ".join(
            f"{m} {modes[kind][m + ':hit']}/{modes[kind][m + ':n']}" for m in per_mode))
    if show:
        for kind in KINDS:
            for label in examples_missed[kind][:show]:
                print(f"   missed {kind}/{label.mode}: trace {label.trace_id} spans {sorted(label.span_ids)}")
            for signal in examples_fp[kind][:show]:
                print(f"   false positive {kind}: trace {signal.trace_id} {signal.text[:140]}")
    return ok


def _labels(store: Store) -> dict[str, dict[str, Any]]:
    rows = store.con.execute("SELECT trace_id, labels FROM traces WHERE labels IS NOT NULL").fetchall()
    return {trace_id: json.loads(labels) for trace_id, labels in rows}


def _span_index(store: Store) -> dict[str, dict[str, Any]]:
    rows = store.con.execute(
        "SELECT span_id, trace_id, kind, tool_name, tool_arguments, tool_result, status, attributes FROM spans"
    ).fetchall()
    out = {}
    for span_id, trace_id, kind, tool, args, result, status, attrs in rows:
        a = orjson.loads(attrs) if attrs else {}
        out[span_id] = {"trace_id": trace_id, "kind": kind, "tool": tool, "args": args, "result": result,
                        "status": status, "traj_index": a.get("tau.traj_index"),
                        "call_index": a.get("tau.call_traj_index"), "message_index": a.get("tau.message_index")}
    return out


def _flag_summary(signals: list[Signal], labels: dict[str, dict[str, Any]]) -> str:
    on_success = Counter(s.kind for s in signals if labels.get(s.trace_id, {}).get("reward") == 1)
    on_failure = Counter(s.kind for s in signals if labels.get(s.trace_id, {}).get("reward") == 0)
    runs_success = len({s.trace_id for s in signals if labels.get(s.trace_id, {}).get("reward") == 1})
    runs_failure = len({s.trace_id for s in signals if labels.get(s.trace_id, {}).get("reward") == 0})
    n_success = sum(1 for v in labels.values() if v.get("reward") == 1)
    n_failure = sum(1 for v in labels.values() if v.get("reward") == 0)
    return (f"signals on failed runs {dict(on_failure)} ({runs_failure}/{n_failure} runs flagged); "
            f"on successful runs {dict(on_success)} ({runs_success}/{n_success} runs flagged)")


def tau_airline(show: int) -> None:
    path = SHARED / "datasets" / "tau-bench-airline" / "gpt-4o-airline.json"
    if not path.exists():
        print("== τ-bench airline: dataset not found, skipped")
        return
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "tau.duckdb") as store:
        ingest_paths([str(path)], store)
        report = run_detection(store, None, None, {}, save=False)
        labels = _labels(store)
        spans = _span_index(store)
    print(f"\n== τ-bench airline: {report.traces} runs, {report.spans:,} spans, {len(report.signals)} signals")
    flagged_spans: dict[str, set[str]] = defaultdict(set)
    for s in report.signals:
        for span_id in s.span_ids:
            flagged_spans[span_id].add(s.kind)
    # 1. "Error:" results
    error_spans = [sid for sid, sp in spans.items() if sp["kind"] == "tool" and (sp["result"] or "").startswith("Error:")]
    hit = [sid for sid in error_spans if flagged_spans.get(sid)]
    by_kind = Counter(k for sid in hit for k in flagged_spans[sid])
    print(f"   tool results starting with 'Error:': {len(error_spans)}; flagged {len(hit)} "
          f"({len(hit) / max(1, len(error_spans)):.1%}) by {dict(by_kind)}")
    # 2. write calls that differ from gold kwargs on failed runs
    wrong: list[str] = []
    for sid, sp in spans.items():
        run = labels.get(sp["trace_id"], {})
        if sp["kind"] != "tool" or run.get("reward") != 0:
            continue
        gold = [g for g in run.get("gold_actions") or () if g.get("name") == sp["tool"]]
        if gold and all(canonical(sp["args"]) != canonical(json.dumps(g.get("kwargs"))) for g in gold):
            wrong.append(sid)
    runs_with_wrong = {spans[s]["trace_id"] for s in wrong}
    hit = [sid for sid in wrong if flagged_spans.get(sid)]
    print(f"   calls on failed runs matching a gold action by name with different kwargs: {len(wrong)} "
          f"in {len(runs_with_wrong)} runs; flagged {len(hit)} ({len(hit) / max(1, len(wrong)):.1%}) "
          f"by {dict(Counter(k for s in hit for k in flagged_spans[s]))}")
    # 3. exact duplicate calls
    seen: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for sid, sp in spans.items():
        if sp["kind"] == "tool":
            seen[(sp["trace_id"], sp["tool"], canonical(sp["args"]))].append(sid)
    dup_groups = [ids for ids in seen.values() if len(ids) > 1]
    dup_hit = [ids for ids in dup_groups if any("duplicate_call" in flagged_spans.get(i, ()) or "loop" in
                                                 flagged_spans.get(i, ()) for i in ids)]
    print(f"   groups of identical calls (same tool, same canonical arguments): {len(dup_groups)} in "
          f"{len({spans[g[0]]['trace_id'] for g in dup_groups})} runs; flagged as duplicate/loop {len(dup_hit)}")
    print("   " + _flag_summary(report.signals, labels))
    for s in report.signals[:show]:
        run = labels.get(s.trace_id, {})
        print(f"   e.g. task {run.get('task_id')} trial {run.get('trial')} reward {run.get('reward')}: {s.kind}: {s.text[:150]}")


def agentrx(show: int) -> None:
    root = SHARED / "datasets" / "agentrx-tau-retail"
    if not (root / "tau_dataset_full.json").exists():
        print("== AgentRx: dataset not found, skipped")
        return
    truth = json.loads((root / "tau_ground_truth.json").read_text())
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "rx.duckdb") as store:
        ingest_paths([str(root / "tau_dataset_full.json")], store)
        report = run_detection(store, None, None, {}, save=False)
        labels = _labels(store)
        spans = _span_index(store)
    print(f"\n== AgentRx τ-retail: {report.traces} runs, {report.spans:,} spans, {len(report.signals)} signals")
    trace_of_task = {v.get("task_id"): t for t, v in labels.items()}
    flagged: dict[tuple[str, int], set[str]] = defaultdict(set)
    for s in report.signals:
        for span_id in s.span_ids:
            sp = spans.get(span_id)
            if sp is None:
                continue
            for index in (sp["traj_index"], sp["call_index"], sp["message_index"]):
                if index is not None:
                    flagged[(sp["trace_id"], int(index))].add(s.kind)
    per_category: dict[str, Counter[str]] = defaultdict(Counter)
    for run in truth:
        trace_id = trace_of_task.get(run["trajectory_id"])
        for failure in run.get("failures", []):
            category = failure.get("failure_category", "?")
            per_category[category]["labelled"] += 1
            step = int(failure.get("step_number", 0)) - 1
            kinds = flagged.get((trace_id, step), set()) if trace_id else set()
            if kinds:
                per_category[category]["flagged"] += 1
                for k in kinds:
                    per_category[category][k] += 1
    for category, c in sorted(per_category.items(), key=lambda kv: -kv[1]["labelled"]):
        extra = {k: v for k, v in c.items() if k not in ("labelled", "flagged")}
        print(f"   {category:34s} labelled steps {c['labelled']:3d}, flagged at that step {c['flagged']:3d} {extra}")
    print("   " + _flag_summary(report.signals, labels))
    for s in report.signals[:show]:
        run = labels.get(s.trace_id, {})
        print(f"   e.g. task {run.get('task_id')} reward {run.get('reward')}: {s.kind}: {s.text[:150]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=3000)
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--show", type=int, default=3, help="examples of misses/false positives per kind")
    parser.add_argument("--skip-real", action="store_true")
    args = parser.parse_args()
    ok = synth_quality(args.traces, [int(s) for s in args.seeds.split(",")], args.show)
    if not args.skip_real:
        tau_airline(args.show)
        agentrx(args.show)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
