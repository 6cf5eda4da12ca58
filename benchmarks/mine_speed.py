"""End-to-end ``tracemine mine`` time per stage, for one or more source trees side by side on the same data.

    python benchmarks/mine_speed.py --traces 3000                                 # this tree
    git worktree add /tmp/before <commit>
    python benchmarks/mine_speed.py --traces 3000 --src /tmp/before/src src       # before vs after, alternating

One synthetic data set (``tracemine synth`` of this tree, OTLP, seven days) is written once; each source tree
then mines it into a fresh archive in a child process (``PYTHONPATH=<src>``), ``--repeat`` times,
alternating trees so machine load hits both alike. Printed: seconds per stage (median over repeats),
signals, findings and spans per second of ingest + detect.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def child(data: str, db: str) -> None:
    from tracemine.pipeline import mine

    result = mine([data], db=db, max_findings=20)
    print(json.dumps({"stages": result.stats["stages"], "signals": result.stats["signals"],
                      "findings": result.stats["findings"], "spans": result.context.spans}))


def run(src: Path, data: Path, tmp: Path, n: int) -> dict:
    db = tmp / f"m{n}.duckdb"
    env = {**os.environ, "PYTHONPATH": str(src.resolve()), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, __file__, "--child", str(data), str(db)], env=env, check=True,
                         capture_output=True, text=True).stdout
    db.unlink(missing_ok=True)
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--src", nargs="+", default=[str(REPO / "src")])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    from tracemine.synth import SynthConfig, generate

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "traces"
        generate(SynthConfig(traces=args.traces, seed=11, fmt="otlp", days=7), data)
        results: dict[str, list[dict]] = {s: [] for s in args.src}
        n = 0
        for _ in range(args.repeat):
            for src in args.src:
                n += 1
                results[src].append(run(Path(src), data, Path(tmp), n))
        stages = sorted({k for rs in results.values() for r in rs for k in r["stages"]})
        print(f"{args.traces:,} traces, {results[args.src[0]][0]['spans']:,} spans; median of {args.repeat} runs")
        print(f"{'stage':12s}" + "".join(f" {Path(s).parent.name or s:>16s}" for s in args.src))
        for stage in stages:
            print(f"{stage:12s}" + "".join(
                f" {statistics.median(r['stages'].get(stage, 0.0) for r in results[s]):15.2f}s" for s in args.src))
        for label, key in (("signals", "signals"), ("findings", "findings")):
            print(f"{label:12s}" + "".join(f" {results[s][0][key]:16,}" for s in args.src))
        print(f"{'ingest+detect spans/s':12s}" + "".join(
            f" {results[s][0]['spans'] / statistics.median(r['stages']['ingest'] + r['stages']['detect'] for r in results[s]):16,.0f}"
            for s in args.src))
    return 0


if __name__ == "__main__":
    sys.exit(main())
