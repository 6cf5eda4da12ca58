"""Local vs Ray backend: spans/s and peak memory of the per-shard stages at 1 M and 5 M spans.

    python benchmarks/scale.py                          # 1 M and 5 M spans, local and ray, ingest + detect
    python benchmarks/scale.py --spans 1000000 --backends ray --embed --num-cpus 2

For each size, ~N synthetic spans (OTLP JSON-lines, seven days) are generated once; then, per backend, a
fresh archive is filled and mined in a child process: ``backend.ingest`` (files → DuckDB archive),
``detect_window`` (both detector passes, over trace shards for Ray) and, with ``--embed``, the
embedding of the signal texts (cold vector cache). Clustering, findings and summaries run on the driver
whatever the backend and depend on the number of signals, not spans, so they are left out.

Peak memory is the summed resident memory of the child's whole process tree (the Ray backend's raylet,
GCS, object store and workers included), sampled every 50 ms.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import run_measured, synth_spans


def child(args: argparse.Namespace) -> None:
    """Run the stages in this process and print their timings as one JSON line."""
    from tracemine.backends import get_backend
    from tracemine.config import load_settings
    from tracemine.detect.runner import detect_window
    from tracemine.store import Store

    settings = load_settings(None)
    options = {"num_cpus": args.num_cpus} if args.backend == "ray" and args.num_cpus else {}
    if args.shards:
        options["shards"] = args.shards
    out: dict[str, float | int] = {}
    started = time.perf_counter()
    backend = get_backend(args.backend, settings=options)
    backend.start()
    out["start_s"] = time.perf_counter() - started
    with Store(args.db) as store:
        began = time.perf_counter()
        report = backend.ingest([args.data], store, settings.ingest)
        out["ingest_s"] = time.perf_counter() - began
        out["spans"] = report.spans_inserted
        began = time.perf_counter()
        detect = detect_window(store, None, None, settings.detect, backend=backend)
        out["detect_s"] = time.perf_counter() - began
        out["signals"] = len(detect.signals)
        out["traces"] = detect.traces
        out["shards"] = backend.detect_shards(report.spans_inserted)
        if args.embed and detect.signals:
            from tracemine.embed import Embedder

            embedder = Embedder.from_settings(settings.embed)
            began = time.perf_counter()
            backend.embed_texts([s.text for s in detect.signals], store, embedder)
            out["embed_s"] = time.perf_counter() - began
            out["unique_texts"] = embedder.last_stats.unique if embedder.last_stats else 0
    backend.close()
    print("RESULT " + json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--backends", nargs="+", default=["local", "ray"], choices=["local", "ray"])
    parser.add_argument("--embed", action="store_true", help="Also embed the signal texts (cold cache).")
    parser.add_argument("--num-cpus", type=int, default=0, help="CPUs of the local Ray instance (default: all).")
    parser.add_argument("--shards", type=int, default=0, help="Trace shards for Ray (default: 2 per CPU, ≤ 500 k spans each).")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="Keep the generated data and archives in this folder.")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    root = args.keep or Path(tempfile.mkdtemp(prefix="tracemine-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"{'spans':>10} {'backend':7} {'shards':>6} {'ingest':>16} {'detect':>16} {'embed':>14} "
          f"{'ingest+detect':>16} {'peak RSS':>9} {'start':>6}")
    try:
        for size in args.spans:
            data = root / f"data-{size}"
            if not data.exists():
                synth_spans(data, size, args.seed)
            for name in args.backends:
                db = root / f"{name}-{size}.duckdb"
                db.unlink(missing_ok=True)
                cmd = [sys.executable, __file__, "--child", "--backend", name, "--data", str(data), "--db", str(db),
                       "--num-cpus", str(args.num_cpus), "--shards", str(args.shards)] + (["--embed"] if args.embed else [])
                _, peak_tree, _, output = run_measured(cmd)
                line = next(x for x in output.splitlines() if x.startswith("RESULT "))
                r = json.loads(line[len("RESULT "):])
                spans = r["spans"]
                embed = (f"{r['embed_s']:6.1f} s {r['unique_texts'] / r['embed_s']:4.0f}/s" if "embed_s" in r
                         else "-")
                both = r["ingest_s"] + r["detect_s"]
                print(f"{spans:>10,} {name:7} {r['shards']:>6} "
                      f"{r['ingest_s']:5.1f} s {spans / r['ingest_s']:6,.0f}/s "
                      f"{r['detect_s']:5.1f} s {spans / r['detect_s']:6,.0f}/s {embed:>14} "
                      f"{both:6.1f} s {spans / both:6,.0f}/s {peak_tree / 2**30:6.2f} GiB {r['start_s']:5.1f}s",
                      flush=True)
                if not args.keep:
                    db.unlink(missing_ok=True)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
