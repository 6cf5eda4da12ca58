"""report.md, findings.json and report.html writers: schema, ordering, escaping, links, caps, empty runs."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import jsonschema
import pytest

from tracemine.model import Exemplar, Finding, Impact
from tracemine.report.html import render_html, write_html
from tracemine.report.jsonout import (
    NO_FINDINGS,
    ReportContext,
    build_document,
    from_dict,
    load_schema,
    to_dict,
    validate_document,
    write_json,
)
from tracemine.report.markdown import (
    MAX_TRACE_IDS,
    md_code,
    md_fence,
    md_prose,
    render_markdown,
    write_markdown,
)

T0 = 1_793_534_400_000_000_000  # 2026-11-01T12:00:00Z
DAY = 86_400 * 10**9
EVIL = "<script>alert('x')</script>"
INJECT = "see [click me](https://evil.example/phish) ![pixel](https://evil.example/p.png) <img src=x onerror=alert(1)>"


def _findings() -> list[Finding]:
    weather = Finding(
        fingerprint="a1b2c3d4e5f60718",
        title="`lookup_weather` reports OK while returning `upstream timeout` (34 traces, 1.7 %)",
        summary="The weather tool returns status OK but its result says `upstream timeout`.\n\n"
                "The agent then answers from stale memory. " + INJECT,
        mechanism="The HTTP client swallows 504 responses and returns the body as a normal result.",
        recommended_fix="Raise on HTTP >= 400 in `lookup_weather` and mark the span as an error.",
        severity="high",
        kinds=["silent_failure"],
        impact=Impact(traces=34, window_traces=2000, signals=41, tokens_wasted=51_200,
                      latency_wasted_ms=83_000.5, cost_wasted_usd=0.42),
        trace_ids=[f"{i:032x}" for i in range(34)],
        span_ids=[f"{i:016x}" for i in range(41)],
        cluster_ids=["silent_failure:3"],
        tools=["lookup_weather"],
        agents=["travel-agent"],
        models=["gpt-4o-mini"],
        first_seen_ns=T0 - 6 * DAY,
        last_seen_ns=T0 - 3_600 * 10**9 + 123_456_789,
        exemplars=[
            Exemplar(f"{0:032x}", [f"{0:016x}"], 'result: {"error": "upstream timeout", "status": 504}'),
            Exemplar(f"{1:032x}", [f"{1:016x}", f"{2:016x}"], "``` closing fence?\n# heading\n" + EVIL),
        ],
        status="recurring",
        score=0.91,
        summariser="offline",
    )
    loop = Finding(
        fingerprint="ffee000011112222",
        title="Agent repeats `search_flights` with the same arguments " + EVIL,
        summary="Loops of 3–7 identical calls | pipes | and *stars*.",
        mechanism="No new information between calls.",
        recommended_fix="Cache results; cap repeated calls.",
        severity="critical",
        kinds=["loop", "duplicate_call"],
        impact=Impact(traces=500, window_traces=2000, signals=1500, tokens_wasted=2_000_000,
                      latency_wasted_ms=1_200_000.0, cost_wasted_usd=12.5),
        trace_ids=[f"t-{i:05d}" for i in range(500)],
        span_ids=[f"s-{i:05d}" for i in range(1500)],
        cluster_ids=["loop:1", "duplicate_call:4"],
        tools=["search_flights", "book|flight", "a", "b"],
        first_seen_ns=T0 - 7 * DAY,
        last_seen_ns=T0,
        exemplars=[Exemplar("t-00000", ["s-00000", "s-00001"], "search_flights(origin=SFO) ×7 " + EVIL)],
        status="regressed",
        score=0.91,
        summariser="llm",
    )
    minor = Finding(
        fingerprint="0000aaaa",
        title="Slow `summarise` calls",
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


def _ctx(**kw) -> ReportContext:
    base = dict(
        since_ns=T0 - 7 * DAY,
        until_ns=T0,
        generated_ns=T0 + 60 * 10**9,
        archive="tracemine.duckdb",
        traces=2000,
        spans=41_234,
        detectors=["loop", "duplicate_call", "silent_failure", "latency_outlier"],
        llm_usage={"calls": 7, "input_tokens": 12_000, "output_tokens": 1_500, "cost_usd": 0.0123},
    )
    base.update(kw)
    return ReportContext(**base)


# -- JSON ---------------------------------------------------------------------------------------------------


def test_schema_is_valid_draft_2020_12():
    schema = load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_json_validates_orders_and_round_trips(tmp_path):
    findings = _findings()
    history = {"a1b2c3d4e5f60718": [("2026-10-30", 0.02), ("2026-10-31", 0.017)]}
    path = write_json(findings, _ctx(history=history), tmp_path / "out" / "findings.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    validate_document(doc)
    # score desc, then fingerprint: the two 0.91 findings are ordered by fingerprint
    assert [f["fingerprint"] for f in doc["findings"]] == ["a1b2c3d4e5f60718", "ffee000011112222", "0000aaaa"]
    assert [f["rank"] for f in doc["findings"]] == [1, 2, 3]
    assert doc["window"] == {"since": "2026-10-25T12:00:00.000000Z", "since_ns": T0 - 7 * DAY,
                             "until": "2026-11-01T12:00:00.000000Z", "until_ns": T0}
    assert doc["totals"] == {"traces": 2000, "spans": 41_234, "findings": 3, "affected_traces": 535,
                             "detectors": ["loop", "duplicate_call", "silent_failure", "latency_outlier"]}
    assert doc["llm_usage"] == {"calls": 7, "input_tokens": 12_000, "output_tokens": 1_500, "cost_usd": 0.0123}
    first = doc["findings"][0]
    assert first["impact"]["trace_share"] == pytest.approx(34 / 2000)
    assert first["last_seen"] == "2026-11-01T11:00:00.123456Z"
    assert first["history"] == [{"run": "2026-10-30", "trace_share": 0.02},
                                {"run": "2026-10-31", "trace_share": 0.017}]
    by_fp = {f.fingerprint: f for f in findings}
    for item in doc["findings"]:
        assert from_dict(item) == by_fp[item["fingerprint"]]
    assert len(doc["findings"][1]["trace_ids"]) == 500  # JSON keeps every id, uncapped


def test_to_dict_matches_schema_item_and_schema_rejects_bad_values():
    doc = build_document(_findings(), _ctx(llm_usage=None))
    validate_document(doc)
    assert doc["llm_usage"] is None
    item = to_dict(_findings()[0])
    assert "rank" not in item and item["first_seen"] is None
    bad = json.loads(json.dumps(doc))
    bad["findings"][0]["severity"] = "catastrophic"
    with pytest.raises(jsonschema.ValidationError):
        validate_document(bad)
    bad = json.loads(json.dumps(doc))
    del bad["findings"][0]["impact"]["trace_share"]
    with pytest.raises(jsonschema.ValidationError):
        validate_document(bad)


def test_json_with_no_findings(tmp_path):
    doc = json.loads(write_json([], _ctx(since_ns=None), tmp_path / "findings.json").read_text())
    validate_document(doc)
    assert doc["findings"] == [] and doc["totals"]["findings"] == 0 and doc["window"]["since"] is None


# -- Markdown -----------------------------------------------------------------------------------------------


def test_markdown_has_header_table_sections_and_footer(tmp_path):
    path = write_markdown(_findings(), _ctx(), tmp_path / "report.md")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# tracemine report")
    assert "2026-10-25 12:00:00Z → 2026-11-01 12:00:00Z" in text
    assert "| # | severity | finding | traces affected | status | tools |" in text
    rows = [line for line in text.splitlines() if re.match(r"^\| [123] \|", line)]
    assert len(rows) == 3 and "34 (1.7%)" in rows[0] and "recurring" in rows[0]
    assert "+1" in rows[1]  # four tools: three shown
    assert "book\\|flight" in rows[1]  # pipe in a cell escaped
    for heading in ("### Summary", "### Mechanism", "### Recommended fix", "### Impact", "### Exemplars"):
        assert heading in text
    assert re.search(r"^## 1\. `lookup_weather` reports OK", text, re.MULTILINE)
    assert '<a id="f-a1b2c3d4e5f60718"></a>' in text and "(#f-a1b2c3d4e5f60718)" in text
    assert "12,000 input" in text and "a1b2c3d4e5f60718" in text.split("**Fingerprints.**")[1]
    # long lists collapse and are capped
    assert "<summary>All affected traces (500)</summary>" in text
    assert f"… and {500 - MAX_TRACE_IDS:,} more" in text
    assert "**Affected traces (1):**" in text  # short list stays open


def test_markdown_escapes_trace_text():
    text = render_markdown(_findings(), _ctx())
    outside_fences = re.sub(r"^ *(`{3,})text\n.*?^ *\1$", "", text, flags=re.DOTALL | re.MULTILINE)
    assert outside_fences.count("`" * 3) == 0  # every fence was matched and removed
    assert "<script>" not in outside_fences and "<img" not in outside_fences
    assert "&lt;script&gt;" in text
    assert "](https://evil" not in text
    # the excerpt with ``` inside is fenced by a longer fence
    assert "````text" in text
    markdown_it = pytest.importorskip("markdown_it")  # installed with rich

    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(text)
    assert "<script" not in rendered and "<img" not in rendered and "evil.example" not in re.sub(
        r"<code>.*?</code>|<pre>.*?</pre>|<p>.*?</p>|<td>.*?</td>", "", rendered, flags=re.DOTALL)
    assert 'href="https://evil' not in rendered
    assert "<h1>heading</h1>" not in rendered and "<h1>" in rendered  # only the report's own title
    assert "<table>" in rendered


def test_markdown_helpers():
    assert md_code("a`b") == "``a`b``"
    assert md_code("`x") == "`` `x ``"
    assert md_fence("````\nx").startswith("`````text\n")
    assert md_prose("# not a heading\n1. not a list") == "\\# not a heading  \n1\\. not a list"
    assert "https\\:" not in md_prose("visit https://x.example") and ":\\/\\/" in md_prose("https://x.example")


def test_markdown_links_when_trace_url_set():
    text = render_markdown(_findings(), _ctx(trace_url="https://phoenix.example/traces/{trace_id}?span={span_id}"))
    assert f"[`{0:032x}`](https://phoenix.example/traces/{0:032x}?span=)" in text
    assert f"[`{1:016x}`](https://phoenix.example/traces/{0:032x}?span={1:016x})" not in text
    assert f"[`{2:016x}`](https://phoenix.example/traces/{1:032x}?span={2:016x})" in text
    plain = render_markdown(_findings(), _ctx())
    assert "phoenix" not in plain and not re.search(r"(?<!\\)\]\(http", plain)


def test_markdown_with_no_findings(tmp_path):
    text = write_markdown([], _ctx(llm_usage=None), tmp_path / "report.md").read_text(encoding="utf-8")
    assert NO_FINDINGS in text and "no LLM used" in text and "| # |" not in text


# -- HTML ---------------------------------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Checker(HTMLParser):
    """Tracks open elements, every URL-bearing attribute and the text inside <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.urls: list[str] = []
        self.tags: list[str] = []
        self.scripts = 0
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        self.errors += [f"event handler {k} on <{tag}>" for k in attrs if k.startswith("on")]
        for name in ("href", "src", "action", "xlink:href", "srcset", "poster", "data"):
            if attrs.get(name):
                self.urls.append(attrs[name])
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "script":
            self.scripts += 1
            if "src" in attrs:
                self.errors.append("external script")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        for name in ("href", "src"):
            if dict(attrs).get(name):
                self.urls.append(dict(attrs)[name])

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
            return
        self.stack.pop()


def _check(html_text: str) -> _Checker:
    checker = _Checker()
    checker.feed(html_text)
    checker.close()
    assert not checker.errors, checker.errors[:5]
    assert not checker.stack, f"unclosed: {checker.stack}"
    return checker


def test_html_is_well_formed_self_contained_and_escaped(tmp_path):
    history = {"a1b2c3d4e5f60718": [("run 1", 0.03), ("run 2", 0.021), ("run 3", 0.017)]}
    path = write_html(_findings(), _ctx(history=history), tmp_path / "report.html")
    text = path.read_text(encoding="utf-8")
    checker = _check(text)
    assert text.startswith("<!DOCTYPE html>")
    assert checker.scripts == 1  # only the page's own filter script
    assert text.count("<script>") == 1 and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
    assert "<img" not in text and 'href="https://evil' not in text
    assert all(u.startswith("#") for u in checker.urls), checker.urls
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", text)
    assert "@import" not in text and "url(" not in text
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    # chart, sparkline, table and cards
    assert 'class="chart"' in text and text.count("<rect") == 3
    assert 'class="spark"' in text and text.count("<polyline") == 1
    assert "<table>" in text and "Ranked findings" in text
    assert [i for i in checker.ids if i.startswith("f-a") or i.startswith("f-f") or i.startswith("f-0")] == [
        "f-a1b2c3d4e5f60718", "f-ffee000011112222", "f-0000aaaa"]
    assert "<code>lookup_weather</code>" in text
    assert "Raise on HTTP &gt;= 400" in text
    assert "All affected traces (500)" in text and f"… and {500 - MAX_TRACE_IDS:,} more" in text
    assert "7 LLM call(s)" in text and "Fingerprints." in text


def test_html_links_only_to_trace_url():
    ctx = _ctx(trace_url="https://phoenix.example/projects/p/traces/{trace_id}")
    text = render_html(_findings(), ctx)
    checker = _check(text)
    external = [u for u in checker.urls if not u.startswith("#")]
    assert external and all(u.startswith("https://phoenix.example/projects/p/traces/") for u in external)
    assert f"https://phoenix.example/projects/p/traces/{0:032x}" in external
    assert 'rel="noopener noreferrer"' in text


def test_trace_ids_cannot_break_links():
    finding = _findings()[2]
    finding.trace_ids = ['x" onmouseover="alert(1)', "a/../b?c#d"]
    ctx = _ctx(trace_url="https://phoenix.example/traces/{trace_id}")
    html_text = render_html([finding], ctx)
    _check(html_text)  # fails on any on* attribute
    assert "x&quot; onmouseover=&quot;alert(1)" in html_text
    assert "https://phoenix.example/traces/a%2F..%2Fb%3Fc%23d" in html_text
    md = render_markdown([finding], ctx)
    assert "(https://phoenix.example/traces/x%22%20onmouseover%3D%22alert%281%29)" in md


@pytest.mark.parametrize("template", ["javascript:alert(1)//{trace_id}", "https://x.example/traces/",
                                      "file:///tmp/{trace_id}", "https://x.example/{trace_id}\"><b>"])
def test_bad_trace_url_templates_are_rejected(template):
    with pytest.raises(ValueError):
        _ctx(trace_url=template)


def test_html_with_no_findings(tmp_path):
    text = write_html([], _ctx(), tmp_path / "report.html").read_text(encoding="utf-8")
    _check(text)
    assert NO_FINDINGS in text and "<svg" not in text


def test_every_writer_cites_the_same_order(tmp_path):
    findings = _findings()
    ctx = _ctx()
    doc = json.loads(write_json(findings, ctx, tmp_path / "findings.json").read_text())
    md = write_markdown(findings, ctx, tmp_path / "report.md").read_text(encoding="utf-8")
    page = write_html(findings, ctx, tmp_path / "report.html").read_text(encoding="utf-8")
    order = [f["fingerprint"] for f in doc["findings"]]
    assert sorted(order, key=md.index) == order
    assert sorted(order, key=lambda fp: page.index(f'id="f-{fp}"')) == order
