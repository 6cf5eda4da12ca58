"""Helpers shared by the benchmark scripts: synthetic data of a given size, and running a command while
sampling the resident memory of its whole process tree."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
import time
from pathlib import Path

import psutil

from tracemine.synth import SynthConfig, SynthResult, generate


def synth_spans(out: Path, spans: int, seed: int, fmt: str = "otlp", days: int = 7) -> SynthResult:
    """About ``spans`` synthetic spans in ``out`` (the trace count comes from a 300-trace pilot)."""
    pilot_dir = out.parent / f".{out.name}-pilot"
    pilot = generate(SynthConfig(traces=300, seed=seed, fmt=fmt, days=days), pilot_dir)
    shutil.rmtree(pilot_dir, ignore_errors=True)
    traces = max(1, round(spans / (pilot.spans / pilot.traces)))
    return generate(SynthConfig(traces=traces, seed=seed, fmt=fmt, days=days), out)


def run_measured(cmd: list[str], merge_stderr: bool = True) -> tuple[float, int, int, str]:
    """Run ``cmd``; return wall seconds, peak summed RSS of its process tree, its own peak RSS (bytes,
    sampled every 50 ms) and its standard output (with standard error when ``merge_stderr``). Raises
    SystemExit when the command fails."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT if merge_stderr else None,
                            text=True)
    peak_tree = 0
    peak_main = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak_tree, peak_main
        with contextlib.suppress(psutil.NoSuchProcess):
            parent = psutil.Process(proc.pid)
            while not stop.is_set():
                main_rss = parent.memory_info().rss
                total = main_rss
                for child in parent.children(recursive=True):
                    with contextlib.suppress(psutil.NoSuchProcess):
                        total += child.memory_info().rss
                peak_tree = max(peak_tree, total)
                peak_main = max(peak_main, main_rss)
                time.sleep(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    output, _ = proc.communicate()
    stop.set()
    thread.join()
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{output[-2000:]}")
    return time.perf_counter() - started, peak_tree, peak_main, output
