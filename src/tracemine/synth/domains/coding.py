"""Coding-assistant agent: code search, files, tests, commands, pull requests, CI."""

from __future__ import annotations

from typing import Any

from tracemine.synth.catalog import AgentSpec, ToolSpec, boolean, enum, integer, obj, pattern, string
from tracemine.synth.data import BUGS, SOURCE_FILES, SYMBOLS, TEST_FILES, hexid, pick
from tracemine.synth.plan import TraceBuilder

PATH_RE = r"^[A-Za-z0-9_./-]+$"
BRANCH_RE = r"^[a-z0-9._/-]+$"
REPO = "https://github.com/acme/storefront"


def _search_code(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    n = min(a.get("max_results", 20), rng.randint(1, 5))
    return {"matches": [
        {"path": pick(rng, SOURCE_FILES), "line": rng.randint(5, 400),
         "snippet": f"def {a['query'].split()[0]}(" if rng.random() < 0.5 else f"    return {a['query'].split()[0]}(ctx)"}
        for _ in range(n)
    ], "total": n}


def _read_file(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    sym = pick(rng, SYMBOLS)
    start = a.get("start_line", 1)
    body = (f"import logging\n\nlog = logging.getLogger(__name__)\n\n\ndef {sym}(items, *, retries=3):\n"
            f"    total = 0\n    for item in items[{rng.randint(0, 1)}:]:\n        total += item.price * item.qty\n"
            f"    return round(total, {rng.choice((0, 2))})\n")
    return {"path": a["path"], "start_line": start, "content": body, "total_lines": rng.randint(40, 900)}


def _list_directory(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    names = ("__init__.py", "models.py", "routes.py", "service.py", "utils.py", "config.py", "README.md", "tests")
    k = rng.randint(3, len(names))
    return {"path": a["path"], "entries": [{"name": n, "type": "dir" if n == "tests" else "file"} for n in names[:k]]}


def _run_tests(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    failed = b.ctx.pop("fail_next", 0)
    out: dict[str, Any] = {"passed": rng.randint(20, 400), "failed": failed, "skipped": rng.randint(0, 5),
                           "duration_s": round(rng.uniform(1.5, 40), 2), "errors": []}
    out["failures"] = [f"{pick(rng, TEST_FILES)}::test_{pick(rng, SYMBOLS)} - AssertionError: 41.99 != 42.0"] if failed else []
    return out


def _write_file(b: TraceBuilder, a: dict[str, Any]) -> Any:
    return {"path": a["path"], "bytes_written": len(a["content"].encode())}


def _run_command(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    cmd = a["command"]
    if cmd.startswith("ruff"):
        out = "All checks passed!"
    elif "outdated" in cmd:
        out = "Package    Version Latest\nrequests   2.31.0  2.32.3\nurllib3    2.0.7   2.2.3"
    else:
        out = f"{rng.randint(2, 40)} files checked, 0 problems"
    return {"exit_code": 0, "stdout": out, "stderr": ""}


def _create_pr(b: TraceBuilder, a: dict[str, Any]) -> Any:
    n = b.rng.randint(100, 4800)
    return {"number": n, "url": f"{REPO}/pull/{n}", "state": "open", "draft": a.get("draft", False)}


def _ci_status(b: TraceBuilder, a: dict[str, Any]) -> Any:
    return {"pr_number": a["pr_number"], "state": "success", "checks": [{"name": "tests", "conclusion": "success"}]}


TOOLS = {
    t.name: t
    for t in (
        ToolSpec(
            "search_code", "Search the repository for code matching a query.",
            obj(["query"], query=string("Identifier or text to search", minLength=2),
                path_glob=string("Optional glob, e.g. src/**/*.py"), max_results=integer("Max matches", 1, 100)),
            _search_code, latency_ms=320, empty={"matches": [], "total": 0}, empty_rate=0.18,
            intro="Let me search the codebase.",
        ),
        ToolSpec(
            "read_file", "Read a file (optionally a line range).",
            obj(["path"], path=pattern("Repository-relative path", PATH_RE), start_line=integer("First line", 1),
                end_line=integer("Last line", 1)),
            _read_file, latency_ms=40, intro="Reading the file.",
        ),
        ToolSpec(
            "list_directory", "List the entries of a directory.",
            obj(["path"], path=pattern("Directory path", PATH_RE), depth=integer("Recursion depth", 1, 5)),
            _list_directory, latency_ms=35,
        ),
        ToolSpec(
            "run_tests", "Run the test suite or a subset of it.",
            obj([], target=pattern("Test file or directory", PATH_RE), keyword=string("pytest -k expression")),
            _run_tests, latency_ms=950, intro="Running the tests.",
        ),
        ToolSpec(
            "write_file", "Write (overwrite) a file.",
            obj(["path", "content"], path=pattern("Repository-relative path", PATH_RE),
                content=string("Full new file content"), create_dirs=boolean("Create parent directories")),
            _write_file, write=True, latency_ms=45, intro="Applying the fix.",
        ),
        ToolSpec(
            "run_command", "Run a shell command in the repository.",
            obj(["command"], command=string("Shell command", minLength=1, maxLength=500),
                timeout_s=integer("Timeout in seconds", 1, 600)),
            _run_command, latency_ms=900,
        ),
        ToolSpec(
            "create_pull_request", "Open a pull request from a branch.",
            obj(["title", "head_branch", "base"], title=string("PR title", minLength=5, maxLength=120),
                head_branch=pattern("Branch with the changes", BRANCH_RE), base=enum("Target branch", "main", "develop"),
                body=string("Description"), draft=boolean("Open as draft")),
            _create_pr, write=True, latency_ms=700, http=("POST", "https://api.github.com/repos/acme/storefront/pulls"),
            intro="Opening a pull request.",
        ),
        ToolSpec(
            "get_ci_status", "Get the CI status of a pull request.",
            obj(["pr_number"], pr_number=integer("Pull request number", 1)),
            _ci_status, latency_ms=260, poll=True, http=("GET", "https://api.github.com/repos/acme/storefront/commits"),
            intro="Checking CI.",
        ),
    )
}


def bugfix(b: TraceBuilder) -> None:
    """A long but productive trace: search, read several files, fix, test, PR, poll CI."""
    rng = b.rng
    sym = pick(rng, SYMBOLS)
    bug = pick(rng, BUGS)
    b.user_text = f"Bug report: {bug}. It's probably near `{sym}`. Can you find and fix it, then open a PR?"
    res = b.call("search_code", {"query": sym, "max_results": 20})
    if not res["matches"]:
        res = b.call("search_code", {"query": sym.split("_")[-1], "path_glob": "src/**/*.py"})
    paths = sorted({m["path"] for m in res["matches"]}) or [pick(rng, SOURCE_FILES)]
    for p in paths[: rng.randint(1, 3)]:  # several reads, different files
        b.call("read_file", {"path": p})
    target = paths[0]
    b.call("read_file", {"path": target, "start_line": 1, "end_line": rng.randint(60, 200)})
    b.call("write_file", {"path": target, "content": f"# fixed: {bug}\n{hexid(rng, 8)}\n"})
    test = pick(rng, TEST_FILES)
    if rng.random() < 0.4:  # a failing run, another edit, a passing run (results change)
        b.ctx["fail_next"] = 1
        b.call("run_tests", {"target": test})
        b.call("write_file", {"path": target, "content": f"# fixed: {bug} (rounding)\n{hexid(rng, 8)}\n"})
    b.call("run_tests", {"target": test})
    branch = f"fix/{sym.replace('_', '-')}-{rng.randint(10, 999)}"
    pr = b.call("create_pull_request", {"title": f"Fix {bug} in {sym}", "head_branch": branch, "base": "main",
                                        "body": f"Fixes {bug}. Adds a regression test."})
    states = ("queued", "in_progress", "in_progress", "success")
    for k, state in enumerate(states[4 - rng.randint(2, 4):]):
        conclusion = "success" if state == "success" else None
        b.call("get_ci_status", {"pr_number": pr["number"]},
               result={"pr_number": pr["number"], "state": state, "completed_checks": k,
                       "checks": [{"name": "tests", "conclusion": conclusion}, {"name": "lint", "conclusion": "success"}]})
    b.finish(f"I fixed the issue ({bug}) in {target} near `{sym}` and opened PR #{pr['number']}; CI is green.")


def explain(b: TraceBuilder) -> None:
    rng = b.rng
    d = pick(rng, ("src/payments", "src/api/routes", "src/auth", "src/billing", "web/components"))
    b.user_text = f"How does the code in {d} work? Give me an overview."
    b.call("list_directory", {"path": d})
    for name in ("service.py", "models.py", "routes.py")[: rng.randint(1, 3)]:
        b.call("read_file", {"path": f"{d}/{name}"})
    sym = pick(rng, SYMBOLS)
    b.call("search_code", {"query": sym, "path_glob": f"{d}/**"})
    b.finish(f"{d} is organised around a service layer; `{sym}` is the main entry point and is called from the routes.")


def maintenance(b: TraceBuilder) -> None:
    rng = b.rng
    b.user_text = pick(rng, ("Upgrade our outdated dependencies and make sure nothing breaks.",
                             "Run the linter and fix whatever it finds."))
    b.call("run_command", {"command": pick(rng, ("pip list --outdated", "ruff check .")), "timeout_s": 120})
    b.call("read_file", {"path": pick(rng, ("pyproject.toml", "requirements.txt", "setup.cfg"))})
    b.call("write_file", {"path": "requirements.txt", "content": f"requests==2.32.3\nurllib3==2.2.3\n# {hexid(rng, 6)}\n"})
    b.call("run_command", {"command": "pip install -r requirements.txt", "timeout_s": 300})
    b.call("run_tests", {})
    b.finish("Dependencies are upgraded (requests 2.32.3, urllib3 2.2.3) and the test suite passes.")


AGENT = AgentSpec(
    name="code-assistant",
    service="code-assistant",
    domain="coding assistant",
    models=("claude-sonnet-4-5", "gpt-4.1", "gpt-4o"),
    tools=TOOLS,
    workflows=((0.5, bugfix), (0.3, explain), (0.2, maintenance)),
    fake_tools=("edit_file", "grep", "git_commit", "open_pr", "run_shell"),
    system_tokens=2200,
    ok_status=0,
)
