"""Ingest side by side with HALO's trace index builder on one flat span JSONL file.

    python benchmarks/vs_halo.py --halo-python /work/halo-venv/bin/python
    python benchmarks/vs_halo.py --halo-python /work/halo-venv/bin/python --spans 299000 --pairs 3 \\
        --before-src /tmp/before/src          # also time another tracemine tree (PYTHONPATH) in the same pairs

Generates ~``--spans`` synthetic spans (`tracemine synth --format jsonl`, the traces joined into one file),
then runs, as whole processes and alternating, ``tracemine ingest FILE --db NEW.duckdb -q`` and HALO's
index builder (``TraceIndexBuilder.ensure_index_exists`` with a fresh ``index_dir``, so every run builds
the index), ``--pairs`` times, and prints the medians of wall time and CPU (user + system of the process
and its workers, sampled) and the ratios. Wall figures depend on the load of a shared machine; CPU figures do not.

HALO (``halo-engine``) is a benchmark-only dependency and never one of tracemine's. It lives in its own
virtual environment outside the repository, made with the system Python (its ``ripgrep`` pin has no
wheel for every platform, so its pins go first and halo-engine itself without dependencies):

    python3 -m venv /work/halo-venv
    /work/halo-venv/bin/pip install openai==2.32.0 openai-agents==0.14.7 pydantic==2.13.3 numpy==2.2.6 \\
        pandas==2.2.3 deno==2.7.14 typer rich inference-catalyst-tracing==0.1.10
    /work/halo-venv/bin/pip install --no-deps halo-engine==0.3.5

Without that environment (``--halo-python`` missing or not a Python with ``engine.traces``), the script
says so and exits 0 without measuring anything.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from _common import synth_spans

# HALO's own entry point for building a sidecar index of a flat OTel JSONL file (engine/traces/trace_index_builder.py)
HALO_BUILD = """
import asyncio, sys
from pathlib import Path
from engine.traces.models.trace_index_config import TraceIndexConfig
from engine.traces.trace_index_builder import TraceIndexBuilder
asyncio.run(TraceIndexBuilder.ensure_index_exists(Path(sys.argv[1]), TraceIndexConfig(index_dir=Path(sys.argv[2]))))
"""
HALO_CHECK = "import engine.traces.trace_index_builder"


@dataclass
class Contestant:
    """One command measured in every pair: wall seconds, CPU seconds and peak RSS (bytes) per run."""

    label: str
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    peaks: list[int] = field(default_factory=list)

    def median_wall(self) -> float:
        return statistics.median(self.walls)

    def median_cpu(self) -> float:
        return statistics.median(self.cpus)


def halo_available(python: str | None) -> str | None:
    """Why HALO cannot be run with ``python`` (``None`` when it can)."""
    if not python:
        return "no --halo-python given"
    if not Path(python).exists():
        return f"{python} does not exist"
    check = subprocess.run([python, "-c", HALO_CHECK], capture_output=True, text=True)
    if check.returncode != 0:
        return f"{python} cannot import HALO's index builder: {check.stderr.strip().splitlines()[-1:]}"
    return None


def flat_file(root: Path, spans: int, seed: int) -> tuple[Path, int, int]:
    """One flat span JSONL file of about ``spans`` spans: ``(path, spans, traces)``."""
    data = root / "data"
    result = synth_spans(data, spans, seed, "jsonl")
    target = root / "spans.jsonl"
    with target.open("wb") as out:
        for part in result.files:
            with part.open("rb") as fh:
                shutil.copyfileobj(fh, out)
    shutil.rmtree(data, ignore_errors=True)
    return target, result.spans, result.traces


def run_sampled(cmd: list[str], env: dict[str, str] | None) -> tuple[float, float, int]:
    """Run ``cmd``: wall seconds, CPU seconds and peak summed RSS of its process tree, sampled every 20 ms.

    CPU is the last user + system time seen of every process of the tree (HALO's workers are children of
    a forkserver, which ``getrusage(RUSAGE_CHILDREN)`` never sees), so a process's last 20 ms may be missed
    whichever program it belongs to."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=None if env is None else {**os.environ, **env})
    cpu_by_pid: dict[int, float] = {}
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        with contextlib.suppress(psutil.NoSuchProcess):
            parent = psutil.Process(proc.pid)
            while not stop.is_set():
                rss = 0
                for member in [parent, *parent.children(recursive=True)]:
                    with contextlib.suppress(psutil.NoSuchProcess, psutil.ZombieProcess):
                        times = member.cpu_times()
                        cpu_by_pid[member.pid] = max(cpu_by_pid.get(member.pid, 0.0), times.user + times.system)
                        rss += member.memory_info().rss
                peak = max(peak, rss)
                time.sleep(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    _, errors = proc.communicate()
    seconds = time.perf_counter() - started
    stop.set()
    thread.join()
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{errors[-2000:]}")
    return seconds, sum(cpu_by_pid.values()), peak


def measure(contestant: Contestant, cmd: list[str], env: dict[str, str] | None = None) -> None:
    """Run ``cmd`` once as a whole process and record its figures."""
    seconds, cpu, peak = run_sampled(cmd, env)
    contestant.walls.append(seconds)
    contestant.cpus.append(cpu)
    contestant.peaks.append(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--halo-python", default=os.environ.get("HALO_PYTHON"),
                        help="the Python of HALO's virtual environment (default: $HALO_PYTHON)")
    parser.add_argument("--spans", type=int, default=299_000)
    parser.add_argument("--pairs", type=int, default=3, help="alternating runs of each (at least 3)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--before-src", help="another tracemine source tree (PYTHONPATH) to time in the same pairs")
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    args = parser.parse_args()
    if args.pairs < 3:
        parser.error("--pairs must be at least 3")
    problem = halo_available(args.halo_python)
    if problem is not None:
        print(f"skipped: HALO is not available ({problem}). Create its environment as this script's "
              "docstring says and pass --halo-python PATH.")
        return

    tracemine = str(Path(sys.executable).with_name("tracemine"))
    root = Path(tempfile.mkdtemp(prefix="tracemine-vs-halo-"))
    try:
        path, spans, traces = flat_file(root, args.spans, args.seed)
        print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at start")
        print(f"input: {path.stat().st_size / 2**20:,.0f} MiB, {spans:,} spans, {traces:,} traces (flat span JSONL)")
        ours = Contestant("tracemine ingest")
        halo = Contestant("HALO 0.3.5 index")
        before = Contestant(f"tracemine ingest ({args.before_src})") if args.before_src else None
        for pair in range(args.pairs):
            runs = [(ours, None, "after")] + ([(before, {"PYTHONPATH": args.before_src}, "before")] if before else [])
            for contestant, env, tag in runs:
                db = root / f"{tag}-{pair}.duckdb"
                measure(contestant, [tracemine, "ingest", str(path), "--db", str(db), "-q"], env)
                db.unlink(missing_ok=True)
            index_dir = root / f"halo-index-{pair}"
            measure(halo, [args.halo_python, "-c", HALO_BUILD, str(path), str(index_dir)])
            shutil.rmtree(index_dir, ignore_errors=True)
            time.sleep(0.5)
        contestants = [ours] + ([before] if before else []) + [halo]
        for c in contestants:
            print(f"{c.label:>45s}: wall {c.median_wall():6.2f} s (runs {', '.join(f'{w:.2f}' for w in c.walls)}), "
                  f"CPU {c.median_cpu():6.2f} s, {spans / c.median_wall():>9,.0f} spans/s, "
                  f"peak RSS {max(c.peaks) / 2**20:,.0f} MiB")
        for c in contestants[:-1]:
            print(f"{c.label}: {halo.median_wall() / c.median_wall():.2f}× HALO's speed (wall), "
                  f"{c.median_cpu() / halo.median_cpu():.2f}× its CPU")
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
