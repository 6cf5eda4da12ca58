"""Findings quality: does ``tracemine mine`` turn each injected bug into one finding that cites its traces,
and nothing else — on the generator the detectors were written against *and* on one they never saw?

    python benchmarks/findings_quality.py                          # both generators, 3 seeds × 3,000 traces
    python benchmarks/findings_quality.py --seeds 1 --traces 1000 --skip-real
    python benchmarks/findings_quality.py --generators holdout     # only the independent generator

Generators:

* ``synth`` — ``tracemine synth`` (OTLP for odd seeds, flat JSONL for even ones), the generator the
  detectors were written against;
* ``holdout`` — ``tests/holdout``, an independent generator (other domains, tool names, wordings, formats:
  LangSmith runs and OpenAI Agents spans, its own look-alikes). It is used only to score: no detector or
  finding rule is tuned on it;
* ``dev`` — ``tests/devgen``, a second independent generator (recruiting, warehouse, bookkeeping and
  facilities agents in OTLP GenAI, Langfuse, OpenInference, OpenAI Agents SDK and LangSmith exports, the
  format rotating with the seed, with look-alikes) used to *develop* general mechanisms, so that the
  holdout stays a pure score.

An injected *bug* is a failure mode at one site: (kind, mode, agent, tool) of the labels. For each bug:

* its finding: the finding citing most of the bug's traces, and that finding's rank;
* coverage: the share of the bug's traces that finding cites (target ≥ 0.95);
* contamination: the share of the finding's cited traces that do not carry the bug (target ≤ 0.05);
* merged: the finding is also the best finding of another bug; split: another finding is mostly made of
  this bug's traces.

Per kind: recall (labelled traces of the kind cited by a finding of that kind) and precision (traces cited
by findings of the kind that carry a label of the kind). Look-alikes and recovered errors are hard
negatives: any finding citing one of their spans is counted. A finding naming two agents or two tools
(outside one cycle) is counted as a one-fix violation. Outcome-derived findings (``contrast``,
``trajectory``: correlations with failed runs, not a claim about a span) are left out of these scores and
counted on their own: how many, and the share of their traces that carry an injected bug. Then, where ``../shared/datasets`` exists: the top
findings on τ-bench airline.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tracemine.config import load_settings
from tracemine.pipeline import mine
from tracemine.synth import SynthConfig, generate

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
NEGATIVE_KINDS = ("recovered_error", "lookalike")
OUTCOME_KINDS = ("contrast", "trajectory")

Bug = tuple[str, str, str, str]  # kind, mode, agent, tool


@dataclass
class Labels:
    bugs: dict[Bug, set[str]] = field(default_factory=lambda: defaultdict(set))
    kinds: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    negatives: list[tuple[str, str, set[str]]] = field(default_factory=list)  # mode, trace, spans


def read_labels(path: Path) -> Labels:
    out = Labels()
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        if item["kind"] in NEGATIVE_KINDS:
            out.negatives.append((f"{item['kind']}/{item['mode']}", item["trace_id"], set(item.get("span_ids") or ())))
            continue
        out.bugs[(item["kind"], item["mode"], item.get("agent") or "", item.get("tool") or "")].add(item["trace_id"])
        out.kinds[item["kind"]].add(item["trace_id"])
    return out


def score_bugs(findings: list, bugs: dict[Bug, set[str]]) -> list[dict]:
    cited = [set(f.trace_ids) for f in findings]

    def best_bug(i: int) -> Bug | None:
        overlaps = {b: len(t & cited[i]) for b, t in bugs.items()}
        b = max(overlaps, key=lambda k: (overlaps[k], k), default=None)
        return b if b is not None and overlaps[b] else None

    owner = [best_bug(i) for i in range(len(findings))]
    rows, best_of = [], {}
    for bug, traces in sorted(bugs.items()):
        overlaps = [len(traces & c) for c in cited]
        if not overlaps or max(overlaps) == 0:
            rows.append({"bug": bug, "traces": len(traces), "rank": None, "coverage": 0.0, "contamination": None,
                         "merged": False, "split": 0})
            continue
        i = max(range(len(findings)), key=lambda j: (overlaps[j], -j))
        best_of[bug] = i
        rows.append({"bug": bug, "traces": len(traces), "rank": i + 1, "coverage": overlaps[i] / len(traces),
                     "contamination": len(cited[i] - traces) / len(cited[i]),
                     "split": sum(1 for j in range(len(findings)) if j != i and owner[j] == bug),
                     "split_kinds": sorted({k for j in range(len(findings)) if j != i and owner[j] == bug
                                            for k in findings[j].kinds})})
    for row in rows:
        i = best_of.get(row["bug"])
        row["merged"] = i is not None and any(other != row["bug"] and j == i for other, j in best_of.items())
    return rows


def missed_signals(db: Path, findings: list, bugs: dict[Bug, set[str]], rows: list[dict]) -> None:
    """For a bug its finding covers below target: what the detectors said on the traces it misses (counts
    of detector/mechanism; ``none`` for traces without any signal), stored in ``row["missed"]``."""
    import duckdb

    cited_by_best = {}
    for row in rows:
        if row["rank"] is not None:
            cited_by_best[row["bug"]] = set(findings[row["rank"] - 1].trace_ids)
    con = duckdb.connect(str(db), read_only=True)
    try:
        for row in rows:
            if row["coverage"] >= 0.95:
                continue
            missed = sorted(bugs[row["bug"]] - cited_by_best.get(row["bug"], set()))
            said: Counter[str] = Counter()
            for trace in missed:
                found = con.execute("SELECT DISTINCT detector || '/' || coalesce(json_extract_string(evidence, "
                                    "'$.mechanism'), json_extract_string(evidence, '$.fix_mechanism'), '') FROM "
                                    "signals WHERE trace_id = ?", [trace]).fetchall()
                said.update(f[0] for f in found) if found else said.update(["none"])
            row["missed"] = f"missed {len(missed)}: " + ", ".join(f"{k} {n}" for k, n in said.most_common(6))
    finally:
        con.close()


def kind_scores(findings: list, labels: Labels) -> dict[str, tuple[float, float, int]]:
    """Per kind: (recall, precision, labelled traces)."""
    out = {}
    for kind in sorted(set(labels.kinds) | {k for f in findings for k in f.kinds}):
        truth = labels.kinds.get(kind, set())
        flagged = {t for f in findings if kind in f.kinds for t in f.trace_ids}
        recall = len(truth & flagged) / len(truth) if truth else float("nan")
        precision = len(truth & flagged) / len(flagged) if flagged else float("nan")
        out[kind] = (recall, precision, len(truth))
    return out


def one_fix_violations(findings: list) -> int:
    bad = 0
    for f in findings:
        subject = set((f.key or {}).get("subject", "").split(" ↔ ")) if f.key else set()
        if len(f.agents) > 1 or (f.tools and set(f.tools) != subject and len(f.tools) > 1):
            bad += 1
    return bad


def negatives_cited(findings: list, negatives: list[tuple[str, str, set[str]]]
                    ) -> dict[str, tuple[int, int, Counter[str]]]:
    """Per look-alike mode: instances cited by a finding, instances, and the kind/mechanism of the citing
    findings (which detector mistook it, and how: a score, not a look at the traces)."""
    citing: dict[tuple[str, str], set[str]] = defaultdict(set)
    for f in findings:
        for t in f.trace_ids:
            for s in f.span_ids:
                citing[(t, s)].add(f"{f.kinds[0]}/{f.key.get('mechanism') or '?'}" if f.key else f.kinds[0])
    out: dict[str, list] = defaultdict(lambda: [0, 0, Counter()])
    for mode, trace, spans in negatives:
        out[mode][1] += 1
        kinds = {k for s in spans for k in citing.get((trace, s), ())}
        if kinds:
            out[mode][0] += 1
            out[mode][2].update(kinds)
    return {m: (v[0], v[1], v[2]) for m, v in sorted(out.items())}


def make_synth(out: Path, traces: int, seed: int) -> str:
    fmt = "otlp" if seed % 2 else "jsonl"
    generate(SynthConfig(traces=traces, seed=seed, fmt=fmt, days=7), out)
    return fmt


def make_holdout(out: Path, traces: int, seed: int) -> str:
    sys.path.insert(0, str(REPO / "tests"))
    import holdout

    holdout.generate(out, traces=traces, seed=seed, days=7)
    return "langsmith + openai-agents"


def make_dev(out: Path, traces: int, seed: int) -> str:
    sys.path.insert(0, str(REPO / "tests"))
    import devgen

    devgen.generate(out, traces=traces, seed=seed, days=7)
    return "otlp genai, langfuse, openinference, openai-agents sdk, langsmith: rotating by seed"


GENERATORS: dict[str, Callable[[Path, int, int], str]] = {
    "synth": make_synth, "dev": make_dev, "holdout": make_holdout,
}


def quality(name: str, traces: int, seeds: list[int]) -> dict:
    settings = load_settings()
    summary: dict[tuple, list[dict]] = defaultdict(list)
    kinds: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    negatives: dict[str, list] = defaultdict(lambda: [0, 0, Counter()])
    violations = 0
    outcome_rows: list[tuple[int, int, int]] = []
    for seed in seeds:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "traces"
            fmt = GENERATORS[name](data, traces, seed)
            started = time.perf_counter()
            result = mine([str(data)], db=Path(tmp) / "q.duckdb", max_findings=10_000, config=settings)
            seconds = time.perf_counter() - started
            labels = read_labels(data / "labels.jsonl")
            derived = [f for f in result.all_findings if f.kinds[0] in OUTCOME_KINDS]
            findings = [f for f in result.all_findings if f.kinds[0] not in OUTCOME_KINDS]
            buggy = {t for traces in labels.bugs.values() for t in traces}
            derived_traces = {t for f in derived for t in f.trace_ids}
            outcome_rows.append((len(derived), len(derived_traces & buggy), len(derived_traces)))
            rows = score_bugs(findings, labels.bugs)
            missed_signals(Path(tmp) / "q.duckdb", findings, labels.bugs, rows)
            for kind, value in kind_scores(findings, labels).items():
                kinds[kind].append(value)
            for mode, (hit, total, by_kind) in negatives_cited(findings, labels.negatives).items():
                negatives[mode][0] += hit
                negatives[mode][1] += total
                negatives[mode][2].update(by_kind)
            violations += one_fix_violations(findings)
        print(f"\n== {name} seed {seed} ({fmt}, {traces:,} traces): {len(findings)} findings, "
              f"{len(result.themes)} themes in {seconds:.1f}s")
        print(f"{'kind/mode @ agent:tool':64s} {'traces':>6s} {'rank':>4s} {'cover':>6s} {'contam':>6s} merged split")
        for row in rows:
            summary[row["bug"]].append(row)
            kind, mode, agent, tool = row["bug"]
            label = f"{kind}/{mode} @ {agent}:{tool}"[:64]
            contam = "   n/a" if row["contamination"] is None else f"{row['contamination']:6.3f}"
            print(f"{label:64s} {row['traces']:6d} {row['rank'] or '-':>4} {row['coverage']:6.3f} {contam} "
                  f"{'MERGED' if row['merged'] else '     -'} {row['split'] or '-':>5}"
                  + (f" ({', '.join(row['split_kinds'])})" if row.get("split_kinds") else "")
                  + (f"\n{'':8s}{row['missed']}" if row.get("missed") else ""))
    return {"summary": summary, "kinds": kinds, "negatives": negatives, "violations": violations,
            "outcome": outcome_rows}


def report(name: str, scores: dict) -> None:
    summary, kinds = scores["summary"], scores["kinds"]
    print(f"\n== {name}: all seeds")
    def good(rows: list[dict]) -> bool:
        return all(r["coverage"] >= 0.95 and (r["contamination"] or 0) <= 0.05 and not r["merged"] and not r["split"]
                   for r in rows)

    meets = sum(good(rows) for rows in summary.values())
    big = [rows for rows in summary.values() if min(r["traces"] for r in rows) >= 5]
    meets_big = sum(good(rows) for rows in big)
    print(f"bugs (mode at one site) meeting every target in every seed: {meets} / {len(summary)} "
          f"({meets_big} / {len(big)} of those with ≥ 5 traces per seed)")
    print(f"{'kind':20s} {'recall':>7s} {'precision':>9s} {'labelled':>8s}")
    for kind, values in sorted(kinds.items()):
        print(f"{kind:20s} {_mean([v[0] for v in values]):>7s} {_mean([v[1] for v in values]):>9s} "
              f"{sum(v[2] for v in values):8d}")
    print("hard negatives whose spans a finding cites: " + (", ".join(
        f"{mode} {hit}/{total}" + (f" ({', '.join(f'{k} {n}' for k, n in by_kind.most_common())})" if hit else "")
        for mode, (hit, total, by_kind) in sorted(scores["negatives"].items())) or "none labelled"))
    print(f"findings naming two agents or two tools (outside one cycle): {scores['violations']}")
    rows = scores["outcome"]
    print(f"outcome-derived findings (contrast, trajectory): {sum(r[0] for r in rows)}; "
          f"{sum(r[1] for r in rows)} of their {sum(r[2] for r in rows)} traces carry an injected bug")


def _mean(values: list[float]) -> str:
    """Mean over seeds of the defined values (``n/a`` when none is: no labels, or no finding of the kind)."""
    defined = [v for v in values if v == v]
    return f"{sum(defined) / len(defined):.3f}" if defined else "n/a"


def tau_bench(top: int) -> None:
    path = SHARED / "datasets" / "tau-bench-airline"
    if not path.exists():
        print("\n(τ-bench airline data not found: skipped)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        result = mine([str(path)], db=Path(tmp) / "tau.duckdb", max_findings=top)
        print(f"\n== τ-bench airline: {result.context.traces} runs, {result.stats['signals']} signals, "
              f"{result.stats['findings']} findings, {len(result.themes)} themes; top {top}:")
        for rank, f in enumerate(result, 1):
            print(f"{rank:2d}. [{f.severity}] {f.title}")
            print(f"    fix: {f.recommended_fix[:200]}")
            print(f"    traces: {', '.join(f.trace_ids[:4])}{' …' if len(f.trace_ids) > 4 else ''}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=3000)
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--generators", default="synth,dev,holdout")
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s]
    results = {name: quality(name, args.traces, seeds) for name in args.generators.split(",") if name}
    for name, scores in results.items():
        report(name, scores)
    if not args.skip_real:
        tau_bench(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
