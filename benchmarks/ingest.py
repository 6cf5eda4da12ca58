"""Ingest throughput and memory: generate ~N spans with `tracemine synth`, ingest them, print figures.

    python benchmarks/ingest.py                 # 1,000,000 spans, both formats
    python benchmarks/ingest.py --spans 200000 --formats jsonl --workers 1

Peak memory is the largest sum of resident memory over the ingest process and its reader workers,
sampled every 50 ms (what the machine actually has to provide), plus the main process's own peak.
CPU is the user + system time of the ingest process and its readers: CPU-µs per span, and the spans/s
that CPU cost allows on the machine's cores if nothing else runs (wall-clock figures depend on the load;
this one does not, so it is the figure to compare runs by on a shared machine).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psutil

from _common import run_measured, synth_spans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--formats", default="jsonl,otlp", help="comma-separated: jsonl, otlp")
    parser.add_argument("--workers", type=int, default=0, help="reader processes (0 = one per core)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="keep the generated data and archive")
    args = parser.parse_args()

    tracemine = str(Path(sys.executable).with_name("tracemine"))
    print(f"machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; python {sys.version.split()[0]}")
    for fmt in [f.strip() for f in args.formats.split(",") if f.strip()]:
        root = Path(tempfile.mkdtemp(prefix=f"tracemine-bench-{fmt}-"))
        try:
            started = time.perf_counter()
            synth = synth_spans(root / "data", args.spans, args.seed, fmt)
            traces, spans, synth_s = synth.traces, synth.spans, time.perf_counter() - started
            size = sum(p.stat().st_size for p in (root / "data").glob("*") if p.is_file())
            db = root / "bench.duckdb"
            cmd = [tracemine, "ingest", str(root / "data"), "--db", str(db), "-q"]
            if args.workers:
                cmd += ["--workers", str(args.workers)]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            load = os.getloadavg()[0]
            seconds, peak_tree, peak_main, output = run_measured(cmd)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            db_size = db.stat().st_size
            print(
                f"{fmt:5s}: {spans:,} spans / {traces:,} traces, {size / 2**20:,.0f} MiB input "
                f"(synth {spans / synth_s:,.0f} spans/s) → ingest {seconds:.1f} s = {spans / seconds:,.0f} spans/s, "
                f"peak RSS {peak_tree / 2**20:,.0f} MiB (all processes), {peak_main / 2**20:,.0f} MiB (main), "
                f"archive {db_size / 2**20:,.0f} MiB"
            )
            print(
                f"       CPU {cpu:.1f} s = {cpu / spans * 1e6:.1f} CPU-µs/span → at most "
                f"{(os.cpu_count() or 1) * spans / cpu:,.0f} spans/s on {os.cpu_count()} idle cores; "
                f"load average {load:.2f} at start"
            )
            print("       " + " ".join(output.split()))
        finally:
            if args.keep:
                print(f"       kept {root}")
            else:
                shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
