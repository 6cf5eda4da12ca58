"""Failing LLM endpoints: preflight (unknown model, missing key → one line, exit 2), which errors are retried,
the circuit breaker, the per-call timeout and the overall deadline, and tokens counted for successful calls
only. Offline: litellm ``mock_response``, completion hooks, and a fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from llm_server import ANSWER, FakeLLM
from tracemine.cli import main
from tracemine.summarise.base import Brief, ExemplarBrief, Summary
from tracemine.summarise.llm import LLMCallError, LLMSummariser, import_litellm
from tracemine.summarise.preflight import PreflightError, preflight
from tracemine.summarise.recursive import summarise_tree

MODEL = "gpt-4o-mini"
GOOD = json.dumps(ANSWER)
PROVIDER_KEYS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "OLLAMA_API_BASE")


@pytest.fixture(autouse=True)
def _no_provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in PROVIDER_KEYS:
        monkeypatch.delenv(key, raising=False)


class Offline:
    name = "offline"

    def summarise(self, brief: Brief) -> Summary:
        return Summary(f"offline {brief.node_id}", "offline summary text", "m", "f")


def brief(node_id: str = "f1") -> Brief:
    return Brief(
        node_id=node_id, level="finding", kinds=["loop"], signals=10, traces=4, window_traces=100,
        severity="high", frame="Tool <tool> was called <value> times", tools=[("search", 10)],
        exemplars=[ExemplarBrief(ref="E1", trace_id="1" * 32, span_ids=["2" * 16], tool="search",
                                 text="search timed out; called again")],
    )


class Hook:
    """A completion function: answers from ``script`` in turn (an exception is raised, a string answered
    through litellm's mock_response, ``"block"`` never returns until ``release`` is set)."""

    def __init__(self, *script: Any) -> None:
        self.script = list(script)
        self.calls = 0
        self.release = threading.Event()

    def __call__(self, **kwargs: Any) -> Any:
        self.calls += 1
        item = self.script[min(self.calls, len(self.script)) - 1]
        if isinstance(item, BaseException):
            raise item
        if item == "block":
            self.release.wait()
            raise ConnectionError("released")
        return import_litellm().completion(**kwargs, mock_response=item)


def llm(completion: Callable[..., Any] | None = None, **settings: Any) -> LLMSummariser:
    return LLMSummariser({"model": MODEL, "retries": 2, **settings}, completion=completion,
                         sleep=lambda s: None, backoff_initial_s=0.001)


def run_bounded(fn: Callable[[], Any], limit_s: float) -> tuple[Any, float]:
    """``fn()`` in a daemon thread: a hang fails the test after ``limit_s`` instead of hanging pytest."""
    box: dict[str, Any] = {}
    started = time.monotonic()
    thread = threading.Thread(target=lambda: box.setdefault("result", fn()), daemon=True)
    thread.start()
    thread.join(limit_s)
    assert not thread.is_alive(), f"still running after {limit_s}s"
    return box["result"], time.monotonic() - started


# ----------------------------------------------------------------------------------------- preflight


def test_preflight_rejects_an_unknown_model_in_one_line() -> None:
    for model in ("no-such-model", "gpt-4o-mni"):
        with pytest.raises(PreflightError) as info:
            preflight({"model": model})
        message = str(info.value)
        assert "\n" not in message and model in message and "not known to litellm" in message


def test_preflight_rejects_missing_credentials_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for model, var in ((MODEL, "OPENAI_API_KEY"), ("anthropic/claude-3-5-haiku-latest", "ANTHROPIC_API_KEY")):
        with pytest.raises(PreflightError) as info:
            preflight({"model": model})
        assert var in str(info.value) and "\n" not in str(info.value)
        monkeypatch.setenv(var, "k-test")
        assert preflight({"model": model}).model == model  # type: ignore[union-attr]
    with pytest.raises(PreflightError, match=r"\$TM_TEST_KEY, which is not set"):
        preflight({"model": MODEL, "api_key_env": "TM_TEST_KEY"})
    monkeypatch.setenv("TM_TEST_KEY", "k-test")
    assert preflight({"model": MODEL, "api_key_env": "TM_TEST_KEY"}) is not None


def test_preflight_lets_local_endpoints_through() -> None:
    base = "http://127.0.0.1:9/v1"
    assert preflight({"model": "openai/my-local-model", "api_base": base}) is not None  # no key needed
    assert preflight({"model": "ollama/llama3.1"}) is not None  # OLLAMA_API_BASE is an endpoint, not a key
    with pytest.raises(PreflightError, match="name it with its provider"):
        preflight({"model": "my-local-model", "api_base": base})
    assert preflight({"model": None}) is None  # offline: nothing to check


def test_mine_with_unknown_model_fails_fast_with_one_line_and_exit_2(tmp_path: Path) -> None:
    traces = tmp_path / "t.jsonl"
    traces.write_text('{"trace_id": "x"}\n')
    db = tmp_path / "a.duckdb"
    started = time.monotonic()
    result = CliRunner().invoke(main, ["mine", str(traces), "--db", str(db), "--out", str(tmp_path / "o"),
                                       "-q", "--llm", "no-such-model"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "no-such-model" in lines[0] and "not known to litellm" in lines[0]
    assert not db.exists() and not (tmp_path / "o").exists()  # nothing ran
    assert time.monotonic() - started < 30

    missing = CliRunner().invoke(main, ["mine", str(traces), "--db", str(db), "-q", "--llm",
                                        "anthropic/claude-3-5-haiku-latest"])
    lines = [line for line in missing.output.splitlines() if line.strip()]
    assert missing.exit_code == 2 and len(lines) == 1 and "ANTHROPIC_API_KEY" in lines[0]
    assert not db.exists()


# ---------------------------------------------------------------------------------- classification


def test_missing_key_reported_as_a_server_error_is_not_retried() -> None:
    litellm = import_litellm()
    for exc in (
        litellm.InternalServerError(
            message="OpenAIException - Missing credentials. Please pass an `api_key`", llm_provider="openai",
            model=MODEL),
        litellm.APIConnectionError(message="Missing Gemini API key. Set the GEMINI_API_KEY", llm_provider="gemini",
                                   model="gemini/gemini-1.5-flash"),
    ):
        hook = Hook(exc)
        with pytest.raises(LLMCallError) as info:
            llm(hook, retries=4).summarise(brief())
        assert hook.calls == 1 and not info.value.retryable


@pytest.mark.parametrize(("status", "requests"), [(401, 1), (403, 1), (404, 1), (400, 1), (429, 3), (500, 3),
                                                  (503, 3)])
def test_http_errors_from_a_local_endpoint(status: int, requests: int) -> None:
    """A real litellm call to an OpenAI-compatible server without any key: permanent errors once, transient
    ones retried (``retries`` 2, so 3 attempts)."""
    with FakeLLM(status) as server:
        summariser = llm(model="openai/fake", api_base=server.url, max_consecutive_failures=None)
        with pytest.raises(LLMCallError):
            summariser.summarise(brief())
        assert server.requests == requests


def test_local_endpoint_without_a_key_answers() -> None:
    with FakeLLM("ok") as server:
        summary = llm(model="openai/fake", api_base=server.url).summarise(brief())
    assert summary.title == ANSWER["title"] and server.requests == 1


# ------------------------------------------------------------------------------- breaker and tokens


def test_circuit_breaker_sends_the_rest_offline_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    briefs = [brief(f"f{i}") for i in range(6)]
    with FakeLLM(500) as server, caplog.at_level(logging.WARNING):
        summariser = llm(model="openai/fake", api_base=server.url, retries=1, max_consecutive_failures=2)
        summaries, stats = summarise_tree(briefs, summariser, Offline())
    assert server.requests == 4  # two nodes, two attempts each; then the breaker is open
    assert stats.fallbacks == {"call failed": 2, "circuit open": 4}
    assert stats.budget_reached == "max_consecutive_failures"
    assert [s.summariser for s in summaries][2:] == ["offline (fallback: circuit open)"] * 4
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert sum("circuit breaker open" in w for w in warnings) == 1
    assert sum("summariser failed" in w for w in warnings) == 1  # the same failure is said once
    usage = summariser.usage
    assert usage["calls"] == 0 and usage["input_tokens"] == 0 and usage["cost_usd"] == 0
    assert usage["attempts"] == 4 and usage["failed_attempts"] == 4


def test_a_success_closes_the_breaker_again() -> None:
    litellm = import_litellm()
    err = litellm.AuthenticationError("bad key", llm_provider="openai", model=MODEL)
    hook = Hook(err, GOOD, err, GOOD, err, GOOD)
    _summaries, stats = summarise_tree([brief(f"f{i}") for i in range(6)], llm(hook, max_consecutive_failures=2),
                                       Offline())
    assert hook.calls == 6 and stats.llm == 3 and stats.fallbacks == {"call failed": 3}


def test_tokens_and_cost_count_only_successful_calls() -> None:
    litellm = import_litellm()
    hook = Hook(litellm.AuthenticationError("bad key", llm_provider="openai", model=MODEL), GOOD)
    summariser = llm(hook)
    tokens = summariser.build_prompt(brief()).tokens
    _summaries, stats = summarise_tree([brief("a"), brief("b")], summariser, Offline())
    usage = summariser.usage
    assert hook.calls == 2 and usage["calls"] == 1 and stats.calls == 1
    assert usage["input_tokens"] == stats.input_tokens <= tokens + 50  # one prompt, not two
    assert usage["attempts"] == 2 and usage["failed_attempts"] == 1


# ------------------------------------------------------------------------------ timeout and deadline


def test_a_blocked_call_is_abandoned_after_timeout_s() -> None:
    hook = Hook("block")
    summariser = llm(hook, timeout_s=0.2, retries=0, max_consecutive_failures=2, deadline_s=None)
    try:
        (_summaries, stats), elapsed = run_bounded(
            lambda: summarise_tree([brief(f"f{i}") for i in range(4)], summariser, Offline()), 60)
    finally:
        hook.release.set()
    assert hook.calls == 2 and stats.fallbacks == {"call failed": 2, "circuit open": 2}
    assert elapsed < 12 and "LLMTimeout" in stats.errors[0]  # blocked for good without the timeout


def test_the_deadline_bounds_the_whole_llm_stage(caplog: pytest.LogCaptureFixture) -> None:
    hook = Hook("block")
    summariser = llm(hook, timeout_s=600, retries=4, deadline_s=1, max_consecutive_failures=None)
    try:
        with caplog.at_level(logging.WARNING):
            (summaries, stats), elapsed = run_bounded(
                lambda: summarise_tree([brief(f"f{i}") for i in range(5)], summariser, Offline()), 60)
    finally:
        hook.release.set()
    assert elapsed < 1 + 12  # the deadline plus slack for a loaded machine (blocked for good without it)
    assert stats.fallbacks == {"deadline passed": 5} and stats.budget_reached == "deadline_s"
    assert all(s.summariser == "offline (fallback: deadline passed)" for s in summaries)
    assert sum("deadline passed" in r.getMessage() for r in caplog.records) == 1
    assert summariser.usage["calls"] == 0 and summariser.usage["input_tokens"] == 0


def test_the_deadline_with_an_endpoint_that_never_answers() -> None:
    with FakeLLM("hang") as server:
        summariser = llm(model="openai/fake", api_base=server.url, timeout_s=600, deadline_s=1,
                         max_consecutive_failures=None)
        (_summaries, stats), elapsed = run_bounded(
            lambda: summarise_tree([brief(f"f{i}") for i in range(3)], summariser, Offline()), 60)
    assert elapsed < 1 + 12 and server.requests == 1 and stats.fallbacks == {"deadline passed": 3}


# --------------------------------------------------------------------------------- end to end: mine


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mined archive of 60 synthetic traces (its embeddings cached, so later runs load no model)."""
    tmp = tmp_path_factory.mktemp("llmfail")
    runner = CliRunner()
    assert runner.invoke(main, ["synth", "--traces", "60", "--seed", "5", "--out", str(tmp / "t")]).exit_code == 0
    db = tmp / "a.duckdb"
    result = runner.invoke(main, ["mine", str(tmp / "t"), "--db", str(db), "--out", str(tmp / "o"), "-q"])
    assert result.exit_code == 0, result.output
    return db


def _config(path: Path, **llm: Any) -> Path:
    path.write_text(json.dumps({"summarise": {"llm": llm}}))  # JSON is YAML
    return path


def test_mine_breaker_falls_back_offline_and_counts_it(archive: Path, tmp_path: Path) -> None:
    import tracemine

    db = tmp_path / "a.duckdb"
    shutil.copy(archive, db)
    with FakeLLM(500) as server:
        config = _config(tmp_path / "c.yaml", model="openai/fake", api_base=server.url, retries=1,
                         max_consecutive_failures=2)
        result = tracemine.mine(db=db, config=config, max_findings=5, out=tmp_path / "out")
    assert server.requests == 4
    summaries = result.stats["summaries"]
    assert summaries["fallbacks"]["call failed"] == 2 and summaries["fallbacks"]["circuit open"] >= 4
    assert summaries["budget_reached"] == "max_consecutive_failures"
    usage = result.stats["llm_usage"]
    assert usage["calls"] == 0 and usage["input_tokens"] == 0 and usage["output_tokens"] == 0
    assert all(f.summariser.startswith("offline") for f in result)
    document = json.loads((tmp_path / "out" / "findings.json").read_text())
    assert document["llm_usage"]["input_tokens"] == 0
    with duckdb.connect(str(db), read_only=True) as con:  # the count stays in the run history
        stored = json.loads(con.execute("SELECT llm_usage FROM mine_runs ORDER BY run_id DESC LIMIT 1").fetchone()[0])
    assert stored["fallbacks"] == summaries["fallbacks"] and stored["budget_reached"] == "max_consecutive_failures"


def test_mine_with_an_endpoint_that_never_answers_ends_by_the_deadline(archive: Path, tmp_path: Path) -> None:
    """The real command in its own process: it ends soon after the deadline although the server never
    answers (the blocked call is abandoned), and the archive is free again at once."""
    db = tmp_path / "a.duckdb"
    shutil.copy(archive, db)
    deadline = 2.0
    with FakeLLM("hang") as server:
        config = _config(tmp_path / "c.yaml", model="openai/fake", api_base=server.url, timeout_s=600,
                         deadline_s=deadline)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
        proc = subprocess.run(
            [sys.executable, "-m", "tracemine.cli", "--config", str(config), "mine", "--db", str(db), "--out",
             str(tmp_path / "out"), "-q", "--max-findings", "3"],
            env=env, capture_output=True, text=True, timeout=180,
        )
        assert proc.returncode == 0, proc.stderr
        assert server.requests >= 1 and "deadline passed" in proc.stderr
        # the server still has not answered; the archive is nevertheless free
        duckdb.connect(str(db)).close()
    with duckdb.connect(str(db), read_only=True) as con:
        stages = json.loads(con.execute("SELECT stages FROM mine_runs ORDER BY run_id DESC LIMIT 1").fetchone()[0])
    assert stages["summarise"] < deadline + 30  # a blocked call alone would take timeout_s (600 s)
