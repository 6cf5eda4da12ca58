"""Ingest throughput and memory: generate ~N spans with `tracemine synth`, ingest them, print figures.

    python benchmarks/ingest.py                 # 1,000,000 spans, both formats
    python benchmarks/ingest.py --spans 200000 --formats jsonl --workers 1

Peak memory is the largest sum of resident memory over the ingest process and its reader workers,
sampled every 50 ms (what the machine actually has to provide), plus the main process's own peak.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from tracemine.synth import SynthConfig, generate


def _synth(out: Path, spans: int, fmt: str, seed: int) -> tuple[int, int, float]:
    pilot = generate(SynthConfig(traces=300, seed=seed, fmt=fmt, days=7), out / "pilot")
    per_trace = pilot.spans / pilot.traces
    shutil.rmtree(out / "pilot")
    traces = max(1, round(spans / per_trace))
    started = time.perf_counter()
    result = generate(SynthConfig(traces=traces, seed=seed, fmt=fmt, days=7), out / "data")
    return result.traces, result.spans, time.perf_counter() - started


def _measure(cmd: list[str]) -> tuple[float, int, int, str]:
    """Run ``cmd``; return wall seconds, peak summed RSS of the process tree, main peak RSS, stdout."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak_tree = 0
    peak_main = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak_tree, peak_main
        try:
            parent = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not stop.is_set():
            try:
                main_rss = parent.memory_info().rss
                total = main_rss
                for child in parent.children(recursive=True):
                    with contextlib.suppress(psutil.NoSuchProcess):
                        total += child.memory_info().rss
                peak_tree = max(peak_tree, total)
                peak_main = max(peak_main, main_rss)
            except psutil.NoSuchProcess:
                return
            time.sleep(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    output, _ = proc.communicate()
    stop.set()
    thread.join()
    if proc.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{output}")
    return time.perf_counter() - started, peak_tree, peak_main, output


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
            traces, spans, synth_s = _synth(root, args.spans, fmt, args.seed)
            size = sum(p.stat().st_size for p in (root / "data").glob("*") if p.is_file())
            db = root / "bench.duckdb"
            cmd = [tracemine, "ingest", str(root / "data"), "--db", str(db), "-q"]
            if args.workers:
                cmd += ["--workers", str(args.workers)]
            seconds, peak_tree, peak_main, output = _measure(cmd)
            db_size = db.stat().st_size
            print(
                f"{fmt:5s}: {spans:,} spans / {traces:,} traces, {size / 2**20:,.0f} MiB input "
                f"(synth {spans / synth_s:,.0f} spans/s) → ingest {seconds:.1f} s = {spans / seconds:,.0f} spans/s, "
                f"peak RSS {peak_tree / 2**20:,.0f} MiB (all processes), {peak_main / 2**20:,.0f} MiB (main), "
                f"archive {db_size / 2**20:,.0f} MiB"
            )
            print("       " + " ".join(output.split()))
        finally:
            if args.keep:
                print(f"       kept {root}")
            else:
                shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
