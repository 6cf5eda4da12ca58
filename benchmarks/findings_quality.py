"""Findings quality: does ``tracemine mine`` turn each injected failure mode into one finding that cites
its traces, and nothing else?

    python benchmarks/findings_quality.py                          # 3 seeds × 3,000 traces + τ-bench
    python benchmarks/findings_quality.py --seeds 1 --traces 1000 --skip-real

For each seed: ``tracemine synth`` (OTLP for odd seeds, flat JSONL for even ones) → ``tracemine.mine``
(offline, every finding kept: ``max_findings`` large) → for each injected (kind, mode) of the labels:

* its finding: the finding citing most of the mode's traces, and that finding's rank;
* coverage: the share of the mode's traces that finding cites (target ≥ 0.95);
* contamination: the share of the finding's cited traces that do not carry the mode (target ≤ 0.05);
* merged: the finding is also the best finding of another mode;
* split: another finding is mostly made of this mode's traces (its own best mode is this one).

``recovered_error`` labels are hard negatives (errors the agent recovered from): any finding citing
them is reported. Then, on the τ-bench airline runs in ../shared/datasets, the top findings are printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from tracemine.config import load_settings
from tracemine.pipeline import mine
from tracemine.synth import SynthConfig, generate

SHARED = Path(__file__).resolve().parents[2] / "shared"
NEGATIVE = "recovered_error"


def read_modes(labels: Path) -> tuple[dict[tuple[str, str], set[str]], list[tuple[str, set[str]]]]:
    """Traces per injected (kind, mode), and the (trace, spans) of each hard negative."""
    modes: dict[tuple[str, str], set[str]] = defaultdict(set)
    negatives: list[tuple[str, set[str]]] = []
    for line in labels.read_text().splitlines():
        if line.strip():
            item = json.loads(line)
            if item["kind"] == NEGATIVE:
                negatives.append((item["trace_id"], set(item.get("span_ids") or ())))
            else:
                modes[(item["kind"], item["mode"])].add(item["trace_id"])
    return modes, negatives


def negatives_cited(findings: list, negatives: list[tuple[str, set[str]]]) -> int:
    """Hard negatives (errors the agent recovered from) whose own spans a finding cites (span ids are
    random 64-bit ids: unique across traces here)."""
    cited = {s for f in findings for s in f.span_ids}
    return sum(1 for _trace, spans in negatives if spans & cited)


def score_seed(findings: list, modes: dict[tuple[str, str], set[str]]) -> list[dict]:
    cited = [set(f.trace_ids) for f in findings]
    positive = modes

    def best_mode(i: int) -> tuple[str, str] | None:
        overlaps = {m: len(t & cited[i]) for m, t in positive.items()}
        m = max(overlaps, key=lambda k: (overlaps[k], k), default=None)
        return m if m is not None and overlaps[m] else None

    owner = [best_mode(i) for i in range(len(findings))]
    rows = []
    best_of: dict[tuple[str, str], int] = {}
    for mode, traces in sorted(positive.items()):
        overlaps = [len(traces & c) for c in cited]
        if not overlaps or max(overlaps) == 0:
            rows.append({"mode": mode, "traces": len(traces), "rank": None, "coverage": 0.0, "contamination": None,
                         "merged": False, "split": 0})
            continue
        i = max(range(len(findings)), key=lambda j: (overlaps[j], -j))
        best_of[mode] = i
        rows.append({
            "mode": mode, "traces": len(traces), "rank": i + 1, "coverage": overlaps[i] / len(traces),
            "contamination": len(cited[i] - traces) / len(cited[i]),
            "split": sum(1 for j in range(len(findings)) if j != i and owner[j] == mode),
        })
    for row in rows:
        i = best_of.get(row["mode"])
        row["merged"] = i is not None and any(other != row["mode"] and j == i for other, j in best_of.items())
    return rows


def synth_quality(traces: int, seeds: list[int]) -> bool:
    settings = load_settings()
    ok = True
    summary: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for seed in seeds:
        fmt = "otlp" if seed % 2 else "jsonl"
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "traces"
            generate(SynthConfig(traces=traces, seed=seed, fmt=fmt, days=7), data)
            started = time.perf_counter()
            result = mine([str(data)], db=Path(tmp) / "q.duckdb", max_findings=10_000, config=settings)
            seconds = time.perf_counter() - started
            modes, negatives = read_modes(data / "labels.jsonl")
            rows = score_seed(list(result.all_findings), modes)
            hit = negatives_cited(list(result.all_findings), negatives)
        print(f"\n== seed {seed} ({fmt}, {traces:,} traces): {len(result.all_findings)} findings in {seconds:.1f}s")
        print(f"{'kind/mode':42s} {'traces':>6s} {'rank':>4s} {'cover':>6s} {'contam':>6s} merged split")
        for row in rows:
            mode = "/".join(row["mode"])
            summary[row["mode"]].append(row)
            contam = "   n/a" if row["contamination"] is None else f"{row['contamination']:6.3f}"
            print(f"{mode:42s} {row['traces']:6d} {row['rank'] or '-':>4} {row['coverage']:6.3f} {contam} "
                  f"{'MERGED' if row['merged'] else '     -'} {row['split'] or '-':>5}")
        print(f"hard negatives (errors the agent recovered from) whose spans a finding cites: {hit} of {len(negatives)}")
    print("\n== all seeds")
    meets = 0
    for mode, rows in sorted(summary.items()):
        good = all(r["coverage"] >= 0.95 and (r["contamination"] or 0) <= 0.05 and not r["merged"] and not r["split"]
                   for r in rows)
        meets += good
        if not good:
            ok = False
            worst = min(rows, key=lambda r: r["coverage"])
            print(f"  misses target: {'/'.join(mode)} (coverage {worst['coverage']:.3f}, "
                  f"contamination {max((r['contamination'] or 0) for r in rows):.3f}, "
                  f"merged {any(r['merged'] for r in rows)}, split {max(r['split'] for r in rows)})")
    print(f"modes meeting every target in every seed: {meets} / {len(summary)}")
    return ok


def tau_bench(top: int) -> None:
    path = SHARED / "datasets" / "tau-bench-airline"
    if not path.exists():
        print("\n(τ-bench airline data not found: skipped)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        result = mine([str(path)], db=Path(tmp) / "tau.duckdb", max_findings=top)
        print(f"\n== τ-bench airline: {result.context.traces} runs, {result.stats['signals']} signals, "
              f"{result.stats['findings']} findings; top {top}:")
        for rank, f in enumerate(result, 1):
            print(f"{rank:2d}. [{f.severity}] {f.title}")
            print(f"    {f.summary[:300]}")
            print(f"    fix: {f.recommended_fix[:200]}")
            print(f"    traces: {', '.join(f.trace_ids[:4])}{' …' if len(f.trace_ids) > 4 else ''}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=3000)
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args()
    ok = synth_quality(args.traces, [int(s) for s in args.seeds.split(",") if s])
    if not args.skip_real:
        tau_bench(args.top)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
