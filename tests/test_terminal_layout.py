"""Reading a run at 80 columns: one line per finding and per run, hints that work when pasted, exact and
placeholder-free wording, an overview naming the top-ranked findings, and an HTML report whose bars, trace
ids and cited spans can be told apart and followed."""

from __future__ import annotations

import copy
import json
import re
import shlex
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from rich.cells import cell_len
from rich.console import Console

from tracemine.cli import main
from tracemine.formatting import short_ids
from tracemine.report.html import bar_labels, render_html, trace_anchor
from tracemine.report.jsonout import ReportContext, from_dict
from tracemine.report.terminal import print_findings, waste_figures
from tracemine.store import Store
from tracemine.summarise.base import Brief
from tracemine.summarise.offline import OfflineSummariser

PLACEHOLDERS = re.compile(r"(?:<|&lt;)(?:num|id|uuid|hex|time|email|url|tool|model|agent|host|arg|value)(?:>|&gt;)")


def _env(width: int) -> dict[str, str]:
    return {"COLUMNS": str(width), "LINES": "50", "TERM": "dumb", "HF_HUB_OFFLINE": "1"}


def _widest(text: str) -> int:
    return max((cell_len(line) for line in text.splitlines()), default=0)


@pytest.fixture(scope="module")
def mined(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``make demo`` on 500 traces (it has a theme with more than ten tools and masked stop messages), run
    from its folder like the Makefile, with an archive path that needs quoting."""
    tmp = tmp_path_factory.mktemp("layout")
    runner = CliRunner()
    (tmp / "my archive").mkdir()
    db = Path("my archive") / "t m.duckdb"  # relative to tmp, as a user types it
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp)
        assert runner.invoke(main, ["synth", "--traces", "500", "--days", "7", "--seed", "1", "--out",
                                    "traces"]).exit_code == 0
        result = runner.invoke(main, ["mine", "traces", "--db", str(db), "--window", "7d", "--out", "report"],
                               env=_env(80), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    document = json.loads((tmp / "report" / "findings.json").read_text())
    return {"tmp": tmp, "db": db, "out": tmp / "report", "output": result.output, "doc": document}


@pytest.fixture
def in_tmp(mined: dict, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.chdir(mined["tmp"])
    return mined


def test_mine_at_80_columns_one_line_per_finding(mined: dict) -> None:
    out, findings = mined["output"], mined["doc"]["findings"]
    assert _widest(out) <= 80, [line for line in out.splitlines() if cell_len(line) > 80]
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["#", "sev"])
    ids = short_ids([f["fingerprint"] for f in findings])
    for rank, f in enumerate(findings, 1):
        row = lines[header + rank]
        assert row.split()[0] == str(rank) and row.rstrip().endswith(ids[f["fingerprint"]]), row
        assert f["status"] in row.split() and f"{f['impact']['traces']:,}" in row.split()
        impact = from_dict(f).impact
        assert waste_figures(impact, every=False)[0] in row  # the key waste figure, never "…"
    assert not lines[header + len(findings) + 1].strip().startswith(str(len(findings) + 1))
    themes = next(i for i, line in enumerate(lines) if line.startswith("Themes"))
    assert themes < header and lines[themes + 2].startswith("T1 ")  # themes stay above the findings
    assert len([line for line in lines[themes:header] if re.match(r"T\d+ ", line)]) == len(mined["doc"]["themes"])
    assert findings[0]["fingerprint"] in out  # the way to its details


def test_wider_console_shows_more_columns(mined: dict) -> None:
    doc = mined["doc"]
    findings = [from_dict(f) for f in doc["findings"]]
    themes = [SimpleNamespace(theme_id=t["theme_id"], title=t["title"], traces=t["traces"], findings=t["findings"],
                              recommended_fix=t["recommended_fix"]) for t in doc["themes"]]
    ctx = ReportContext(archive=str(mined["db"]), traces=doc["totals"]["traces"], themes=themes)
    result = SimpleNamespace(context=ctx, findings=findings, resolved=[], outputs={},
                             stats={"signals": 1, "findings": len(findings), "reported": len(findings)})
    texts = {}
    for width in (80, 180):
        console = Console(width=width, record=True, file=open("/dev/null", "w"), highlight=False, soft_wrap=True)  # noqa: SIM115
        print_findings(console, result)
        texts[width] = console.export_text()
        assert _widest(texts[width]) <= width
    narrow, wide = texts[80], texts[180]
    assert "share" in wide.splitlines()[next(i for i, x in enumerate(wide.splitlines()) if " # severity" in x)]
    assert all(f.fingerprint in wide for f in findings)  # whole fingerprints when there is room
    assert " # sev " in narrow and "severity" not in narrow.split("Themes")[1].split("\n #")[1].splitlines()[0]
    longest = max(findings, key=lambda f: len(f.title))
    assert sum(len(line) for line in wide.splitlines() if longest.fingerprint in line) > 150


def test_details_on_demand(in_tmp: dict) -> None:
    mined = in_tmp
    runner = CliRunner()
    result = runner.invoke(main, ["mine", "--db", str(mined["db"]), "--window", "7d", "--out",
                                  str(mined["tmp"] / "r2"), "--details", "-q"], env=_env(80))
    assert result.exit_code == 0, result.output
    assert _widest(result.output) <= 80
    top = mined["doc"]["findings"][0]
    assert f"#1 {top['severity']} · " in result.output and top["title"].replace("`", "")[:60] in result.output
    assert "fix: " in result.output


def test_runs_fit_80_columns_and_use_more_when_wide(in_tmp: dict) -> None:
    mined = in_tmp
    runner = CliRunner()
    narrow = runner.invoke(main, ["runs", "--db", str(mined["db"])], env=_env(80))
    assert narrow.exit_code == 0, narrow.output
    lines = narrow.output.splitlines()
    assert _widest(narrow.output) <= 80 and lines[0].split()[:2] == ["run", "started"]
    runs = [line for line in lines[1:] if line.strip()]
    assert all(re.match(r"\s*\d+ \d{4}-\d\d-\d\d \d\d:\d\d ", line) for line in runs) and len(runs) >= 1
    wide = runner.invoke(main, ["runs", "--db", str(mined["db"])], env=_env(200))
    header = wide.output.splitlines()[0]
    assert "LLM calls" in header and "seconds" in header and "recurring" in header and "window" in header
    assert "LLM calls" not in lines[0]


def _pasted(output: str, prefix: str) -> list[list[str]]:
    return [shlex.split(line.strip())[1:] for line in output.splitlines() if line.strip().startswith(prefix)]


def test_printed_hints_work_when_pasted(in_tmp: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mined, runner = in_tmp, CliRunner()
    commands = _pasted(mined["output"], "tracemine show")
    assert commands and all(shlex.quote(str(mined["db"])) in shlex.join(c) for c in commands)
    for args in commands:  # the finding, then a trace it cites
        shown = runner.invoke(main, args, env=_env(80))
        assert shown.exit_code == 0, (args, shown.output)
        for inner in _pasted(shown.output, "tracemine show"):  # the finding's own hints too
            assert runner.invoke(main, inner).exit_code == 0, inner
    unknown = runner.invoke(main, ["diff", "1", "99", "--db", str(mined["db"])])
    assert unknown.exit_code == 2 and f"`tracemine runs --db {shlex.quote(str(mined['db']))}`" in unknown.output
    # a rejected record points to the quarantine of *this* archive
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"not": "a span"}\n')
    db = tmp_path / "q q.duckdb"
    ingested = runner.invoke(main, ["ingest", str(bad), "--db", str(db)], env=_env(80))
    [hint] = _pasted(ingested.output, "tracemine stats --quarantine")
    assert hint[-2:] == ["--db", str(db)], ingested.output
    listing = runner.invoke(main, hint)
    assert listing.exit_code == 0 and "bad.jsonl:line 1" in listing.output
    empty = runner.invoke(main, ["runs", "--db", str(db)])
    assert f"  tracemine mine PATH --db {shlex.quote(str(db))}\n" in empty.output
    # the default archive needs no --db
    monkeypatch.chdir(tmp_path)
    ingested = runner.invoke(main, ["ingest", str(bad)], env=_env(80))
    assert _pasted(ingested.output, "tracemine stats") == [["stats", "--quarantine"]], ingested.output


def test_titles_exact_counts_no_placeholders(mined: dict) -> None:
    doc, out = mined["doc"], mined["out"]
    for theme in doc["themes"]:
        m = re.search(r"in (\d+) agents?(?:, (\d+) tools?)?", theme["title"])
        assert m, theme["title"]
        assert int(m.group(1)) == len(theme["agents"])
        if m.group(2):
            assert int(m.group(2)) == len(theme["tools"])
    assert any(len(t["tools"]) > 10 for t in doc["themes"])  # the case a capped list got wrong
    for text in (mined["output"], *(p.read_text() for p in out.iterdir())):
        assert not PLACEHOLDERS.search(text), PLACEHOLDERS.search(text)
    top = doc["findings"]
    assert f"#1 {top[0]['title']}; #2 {top[1]['title']}" in doc["overview"]


def test_titles_clean_grammar() -> None:
    """A message fewer than half the members share is an example ("e.g."), never "with such as"."""
    facts = {"messages": [{"text": "POST: 500 Internal Server Error", "example": "POST: 500 Internal Server Error",
                           "count": 2, "variants": 1}], "distinct": {"tools": 17}}
    brief = Brief(node_id="x", level="finding", kinds=["silent_failure"], signals=6, traces=6, window_traces=500,
                  severity="high", mechanisms=[("swallowed_child_error", 6)],
                  tools=[(f"tool_{i:02d}", 17 - i) for i in range(10)], facts=facts)
    title = OfflineSummariser().summarise(brief).title
    assert "such as" not in title and ", e.g. with `POST: 500 Internal Server Error`" in title
    assert title.startswith("17 tools (most often `tool_00`)")
    brief.mechanisms = [("max_turns_exit", 6)]
    brief.agents = [("a1", 3), ("a2", 3)]
    brief.facts = {"messages": [{"text": "Stopped after <num> turns.", "count": 6, "variants": 3}]}
    title = OfflineSummariser().summarise(brief).title
    assert ": `Stopped after N turns.`" in title and "<" not in title


def test_html_bars_links_and_spans_by_trace(mined: dict) -> None:
    html = (mined["out"] / "report.html").read_text()
    doc = mined["doc"]
    labels = re.findall(r'<text x="\d+" y="\d+" text-anchor="end">\d+\. ([^<]*)</text>', html)
    assert len(labels) == len(doc["findings"]) and len(set(labels)) == len(labels)
    with Store(str(mined["tmp"] / mined["db"]), read_only=True) as store:
        for f in doc["findings"]:
            for ex in f["exemplars"]:
                anchor = trace_anchor(ex["trace_id"])
                assert f'href="#{anchor}"' in html and f'<article id="{anchor}">' in html
            section = html[html.index(f'id="f-{f["fingerprint"]}"'):]
            start = section.index("All cited spans")
            spans = section[start:section.index("</details>", start)]
            items = re.findall(r"<li>trace <a [^>]*><span class=\"id\">([^<]+)</span></a>: (.*?)</li>", spans)
            assert items and sum(len(re.findall(r'class="id"', rest)) for _, rest in items) == len(f["span_ids"])
            for trace_id, rest in items:
                for span_id in re.findall(r'class="id">([^<]+)<', rest):
                    held = store.con.execute("SELECT count(*) FROM spans WHERE trace_id = ? AND span_id = ?",
                                             [trace_id, span_id]).fetchone()[0]
                    assert held == 1, (trace_id, span_id)
    # a section is what `tracemine show` prints
    first = doc["findings"][0]["exemplars"][0]["trace_id"]
    article = html[html.index(f'<article id="{trace_anchor(first)}">'):]
    assert f"trace {first}" in article[:article.index("</article>")]


def test_html_trace_url_and_without_archive(mined: dict) -> None:
    findings = [from_dict(f) for f in mined["doc"]["findings"]]
    ctx = ReportContext(traces=500, trace_url="https://phoenix.example/traces/{trace_id}")
    html = render_html(findings, ctx)
    trace = findings[0].exemplars[0].trace_id
    assert f'href="https://phoenix.example/traces/{trace}"' in html
    assert "All cited spans" in html and "<li>trace " in html  # grouped by the exemplars' traces
    assert len(set(bar_labels(findings).values())) == len(findings)
    # findings whose titles read alike (same long start) still get bars that can be told apart
    twins = [copy.deepcopy(findings[0]) for _ in range(3)]
    for n, twin in enumerate(twins):
        twin.fingerprint = f"tm-{n:012x}"
    twins[1].key = dict(twins[1].key, agent="billing-agent")
    html = render_html(twins, ReportContext(traces=500))
    labels = re.findall(r'<text x="\d+" y="\d+" text-anchor="end">\d+\. ([^<]*)</text>', html)
    assert len(labels) == 3 and len(set(labels)) == 3 and all(len(label) <= 46 + 12 for label in labels)
