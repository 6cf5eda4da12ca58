"""report.html in a real browser: headless Chromium renders the findings, charts and sparklines, runs
only the page's own script (injected markup stays text), and the page makes no network request.

Chromium is driven from the command line (``--dump-dom`` for the DOM after load, ``--log-net-log`` for
every request the network stack saw), so no extra Python package is needed. Without a chromium binary
the test skips — except under CI (``CI=true``), where it fails: CI installs chromium (.ci/run).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tracemine.model import Exemplar, Finding, Impact
from tracemine.report.html import write_html
from tracemine.report.jsonout import ReportContext

T0 = 1_793_534_400_000_000_000  # 2026-11-01T12:00:00Z
DAY = 86_400 * 10**9
PWNED = "PWNED-by-injected-script"
# Each of these would change the title, or fetch from the network, if the report let it through.
EVIL_SCRIPT = f"<script>document.title='{PWNED}'</script>"
EVIL_IMG = f"<img src=\"http://127.0.0.1:9/leak.png\" onerror=\"document.title='{PWNED}'\">"
EVIL_ATTR = f"\"><script>document.title='{PWNED}'</script><x y=\""
EVIL_MD = "![pixel](http://127.0.0.1:9/pixel.png) <iframe src=\"http://127.0.0.1:9/frame\"></iframe>"
EVIL_CSS = "<style>@import url(http://127.0.0.1:9/x.css); body{background:url(http://127.0.0.1:9/bg.png)}</style>"
# Schemes a page may load from without touching the network.
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome:", "chrome-untrusted:", "devtools:")


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("no chromium binary on PATH under CI: .ci/run installs it (apt-get install chromium)")
    pytest.skip("no chromium binary on PATH (apt-get install chromium)")
    raise AssertionError("unreachable")


def _findings() -> list[Finding]:
    weather = Finding(
        fingerprint="a1b2c3d4e5f60718",
        title="`lookup_weather` reports OK while returning upstream timeout " + EVIL_IMG,
        summary="The weather tool returns status OK but its result says upstream timeout.\n\n" + EVIL_MD,
        mechanism="The HTTP client swallows 504 responses. " + EVIL_CSS,
        recommended_fix="Raise on HTTP >= 400 in `lookup_weather`.",
        severity="high",
        kinds=["silent_failure"],
        impact=Impact(traces=34, window_traces=2000, signals=41, tokens_wasted=51_200,
                      latency_wasted_ms=83_000.5, cost_wasted_usd=0.42),
        trace_ids=[f"{i:032x}" for i in range(34)],
        span_ids=[f"{i:016x}" for i in range(41)],
        cluster_ids=["silent_failure:3"],
        tools=["lookup_weather", EVIL_ATTR],
        agents=["travel-agent"],
        models=["gpt-4o-mini"],
        first_seen_ns=T0 - 6 * DAY,
        last_seen_ns=T0 - 3_600 * 10**9,
        exemplars=[
            Exemplar(f"{0:032x}", [f"{0:016x}"], 'result: {"error": "upstream timeout", "status": 504}'),
            Exemplar(f"{1:032x}", [f"{1:016x}", f"{2:016x}"], "excerpt with a script: " + EVIL_SCRIPT),
        ],
        status="recurring",
        score=0.91,
    )
    loop = Finding(
        fingerprint="ffee000011112222",
        title="Agent repeats search_flights with the same arguments " + EVIL_SCRIPT,
        summary="Loops of 3–7 identical calls.",
        mechanism="No new information between calls.",
        recommended_fix="Cache results; cap repeated calls.",
        severity="critical",
        kinds=["loop", "duplicate_call"],
        impact=Impact(traces=500, window_traces=2000, signals=1500, tokens_wasted=2_000_000,
                      latency_wasted_ms=1_200_000.0, cost_wasted_usd=12.5),
        trace_ids=[f"t-{i:05d}" for i in range(500)],
        span_ids=[f"s-{i:05d}" for i in range(1500)],
        cluster_ids=["loop:1"],
        tools=["search_flights"],
        first_seen_ns=T0 - 7 * DAY,
        last_seen_ns=T0,
        exemplars=[Exemplar("t-00000", ["s-00000"], "search_flights(origin=SFO) ×7")],
        status="regressed",
        score=0.97,
        summariser="llm",
    )
    minor = Finding(
        fingerprint="0000aaaa",
        title="Slow summarise calls",
        summary="",
        mechanism="",
        recommended_fix="",
        severity="low",
        kinds=["latency_outlier"],
        impact=Impact(traces=1, window_traces=2000),
        trace_ids=["t-x"],
        span_ids=[],
        cluster_ids=[],
        status="new",
        score=0.05,
    )
    return [minor, weather, loop]


def _context() -> ReportContext:
    return ReportContext(
        since_ns=T0 - 7 * DAY, until_ns=T0, generated_ns=T0 + 60 * 10**9, archive="tracemine.duckdb",
        traces=2000, spans=41_234, detectors=["loop", "duplicate_call", "silent_failure", "latency_outlier"],
        llm_usage={"calls": 7, "input_tokens": 12_000, "output_tokens": 1_500, "cost_usd": 0.0123},
        trace_url="https://phoenix.example/projects/p/traces/{trace_id}",  # links only: never fetched
        history={
            "a1b2c3d4e5f60718": [("run 1", 0.03), ("run 2", 0.021), ("run 3", 0.017)],
            "ffee000011112222": [("run 1", 0.1), ("run 2", 0.2), ("run 3", 0.25)],
        },
    )


def _open(binary: str, page: Path, work: Path, name: str) -> tuple[str, list[str]]:
    """Load ``page`` in headless Chromium: the DOM after load (and a short virtual-time budget for any
    timers), and the http(s)/ws(s) URLs the page itself requested."""
    net_log = work / f"{name}.netlog.json"
    cmd = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--disable-extensions", "--mute-audio",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing may leave the machine, even if a request is made
        f"--user-data-dir={work / (name + '-profile')}", f"--log-net-log={net_log}", "--net-log-capture-mode=Default",
        "--virtual-time-budget=3000", "--dump-dom", page.as_uri(),
    ]
    env = {**os.environ, "HOME": str(work)}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert proc.returncode == 0, f"chromium exited {proc.returncode}: {proc.stderr[-2000:]}"
    assert "<html" in proc.stdout, f"no DOM dumped; stderr: {proc.stderr[-2000:]}"
    return proc.stdout, _page_requests(net_log)


def _page_requests(net_log: Path) -> list[str]:
    """URLs of network requests started on behalf of a page (not the browser's own background calls,
    whose initiator is "not an origin"), excluding local schemes."""
    text = net_log.read_text(encoding="utf-8", errors="replace").rstrip()
    try:
        log = json.loads(text)
    except json.JSONDecodeError:  # a log cut short: close the events array and the object
        log = json.loads(text.rstrip(",") + "]}")
    types = log["constants"]["logEventTypes"]
    start_job = types["URL_REQUEST_START_JOB"]
    websocket = {v for k, v in types.items() if "WEBSOCKET" in k}
    urls: list[str] = []
    for event in log.get("events", []):
        params = event.get("params") or {}
        url = params.get("url")
        if not isinstance(url, str) or url.startswith(LOCAL_SCHEMES):
            continue
        page_request = event["type"] == start_job and params.get("initiator") != "not an origin"
        if page_request or event["type"] in websocket:
            urls.append(url)
    return urls


def test_report_renders_in_headless_chromium_without_network(tmp_path: Path) -> None:
    binary = _chromium()
    report = write_html(_findings(), _context(), tmp_path / "report.html")

    # Control: the same detector catches a page that does fetch, so "no requests" below means something.
    control = tmp_path / "control.html"
    control.write_text('<!DOCTYPE html><html><head><title>control</title></head><body>'
                       '<img src="http://127.0.0.1:9/control.png"></body></html>', encoding="utf-8")
    _, control_requests = _open(binary, control, tmp_path, "control")
    assert "http://127.0.0.1:9/control.png" in control_requests, control_requests

    dom, requests = _open(binary, report, tmp_path, "report")
    assert requests == [], f"report.html made network requests: {requests}"

    # the injected markup stayed text: no script ran but the page's own, nothing changed the title
    title = html.unescape(re.search(r"<title>(.*?)</title>", dom, re.DOTALL).group(1))
    assert title.startswith("tracemine report — 3 finding(s)") and PWNED not in title
    assert dom.count("<script") == 1 and "<img" not in dom and "<iframe" not in dom and "<x " not in dom
    assert dom.count("<style") == 1  # the injected stylesheet (and its @import / url()) stayed text
    assert "&lt;script&gt;document.title=" in dom  # shown as text
    # the page's own script ran (its CSP hash matches): it un-hides the filter bar
    assert re.search(r'<div class="filters" id="filters">', dom), "the page's filter script did not run"

    # findings, in rank order, with their cards
    text = html.unescape(re.sub(r"<[^>]+>", "", dom))
    for expected in ("Agent repeats search_flights with the same arguments",
                     "lookup_weather reports OK while returning upstream timeout", "Slow summarise calls"):
        assert expected in text, expected
    ids = re.findall(r'<section class="card[^"]*" id="(f-[^"]+)"', dom)
    assert ids == ["f-ffee000011112222", "f-a1b2c3d4e5f60718", "f-0000aaaa"]
    assert "<code>lookup_weather</code>" in dom
    # the bar chart (one bar per finding) and a sparkline for each finding with history
    chart = re.search(r'<svg class="chart".*?</svg>', dom, re.DOTALL)
    assert chart and chart.group(0).count("<rect") == 3
    assert dom.count('<svg class="spark"') == 2 and dom.count("<polyline") == 2
    assert "Ranked findings" in text and "All affected traces (500)" in text
