"""Research agent: web search, pages, papers, notes, reports."""

from __future__ import annotations

from typing import Any

from tracemine.synth.catalog import (
    AgentSpec,
    ToolSpec,
    array,
    email,
    enum,
    integer,
    obj,
    pattern,
    string,
)
from tracemine.synth.data import PAPER_WORDS, RESEARCH_TOPICS, WEB_DOMAINS, email_of, person, pick
from tracemine.synth.plan import TraceBuilder

URL_RE = r"^https?://[^\s]+$"
PAPER_RE = r"^arXiv:\d{4}\.\d{5}$"


def _slug(text: str) -> str:
    return text.lower().replace(" ", "-").replace(",", "")[:48]


def _web_search(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    q = a["query"]
    n = min(a.get("num_results", 5), rng.randint(3, 6))
    return {"results": [
        {"title": f"{q.title()} — {pick(rng, ('overview', 'latest data', 'explained', 'analysis', 'report'))}",
         "url": f"https://{pick(rng, WEB_DOMAINS)}/{_slug(q)}-{rng.randint(10, 9999)}",
         "snippet": f"New figures on {q} show a {rng.randint(3, 60)}% change since {rng.randint(2015, 2024)}."}
        for _ in range(n)
    ], "page": a.get("page", 1)}


def _open_url(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    topic = b.ctx.get("topic", "the topic")
    return {"url": a["url"], "status": 200, "title": f"{topic.capitalize()}: what we know",
            "text": (f"Researchers estimate that {topic} grew by {rng.randint(2, 45)}% between "
                     f"{rng.randint(2012, 2019)} and {rng.randint(2020, 2025)}. Costs fell by {rng.randint(5, 70)}%, "
                     f"while adoption varied strongly by region."), "word_count": rng.randint(400, 6000)}


def _paper_id(b: TraceBuilder) -> str:
    rng = b.rng
    return f"arXiv:{rng.randint(19, 25):02d}{rng.randint(1, 12):02d}.{rng.randint(1, 29999):05d}"


def _title(b: TraceBuilder) -> str:
    rng = b.rng
    return f"{pick(rng, PAPER_WORDS)} {pick(rng, PAPER_WORDS)} for {b.ctx.get('topic', 'Agents').title()}"


def _search_papers(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    return {"papers": [
        {"paper_id": _paper_id(b), "title": _title(b), "year": rng.randint(a.get("year_from", 2018), 2026),
         "citations": int(rng.paretovariate(1.2) * 5)}
        for _ in range(min(a.get("limit", 10), rng.randint(2, 5)))
    ]}


def _get_paper(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    authors = [" ".join(person(rng)) for _ in range(rng.randint(1, 5))]
    return {"paper_id": a["paper_id"], "title": _title(b), "authors": authors, "year": rng.randint(2018, 2026),
            "abstract": f"We study {b.ctx.get('topic', 'this problem')} and show a {rng.randint(3, 40)}% improvement "
                        f"over strong baselines on {rng.randint(2, 9)} benchmarks.",
            "sections": ["Introduction", "Related Work", "Method", "Experiments", "Conclusion"]}


def _get_citations(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    return {"paper_id": a["paper_id"], "cited_by": [
        {"paper_id": _paper_id(b), "title": _title(b)} for _ in range(min(a.get("limit", 10), rng.randint(1, 4)))
    ]}


def _save_note(b: TraceBuilder, a: dict[str, Any]) -> Any:
    return {"note_id": f"NOTE-{b.rng.randint(100000, 999999)}", "saved": True, "tags": a.get("tags", [])}


def _send_report(b: TraceBuilder, a: dict[str, Any]) -> Any:
    return {"report_id": f"RPT-{b.rng.randint(10000, 99999)}", "delivered_to": a["recipient"], "format": a["format"]}


TOOLS = {
    t.name: t
    for t in (
        ToolSpec(
            "web_search", "Search the web.",
            obj(["query"], query=string("Search query", minLength=2, maxLength=300),
                num_results=integer("Number of results", 1, 20), page=integer("Result page", 1, 10),
                recency=enum("Only results newer than", "day", "week", "month", "year", "any")),
            _web_search, latency_ms=600, empty={"results": [], "page": 1}, empty_rate=0.05,
            http=("GET", "https://search.example.com/v1/web"), intro="Let me search the web.",
        ),
        ToolSpec(
            "open_url", "Fetch a web page and return its main text.",
            obj(["url"], url=pattern("Absolute URL", URL_RE), max_chars=integer("Truncate text", 100, 100000)),
            _open_url, latency_ms=800, http=("GET", "https://fetch.example.com/v1/page"), intro="Opening the page.",
        ),
        ToolSpec(
            "search_papers", "Search scientific papers.",
            obj(["query"], query=string("Query", minLength=3), year_from=integer("Earliest year", 1990, 2026),
                limit=integer("Max papers", 1, 50)),
            _search_papers, latency_ms=700, empty={"papers": []}, empty_rate=0.12,
            http=("GET", "https://api.papers.example.org/search"), intro="Searching the literature.",
        ),
        ToolSpec(
            "get_paper", "Get a paper's metadata and abstract.",
            obj(["paper_id"], paper_id=pattern("arXiv id, e.g. arXiv:2403.01234", PAPER_RE)),
            _get_paper, latency_ms=300, intro="Reading the paper.",
        ),
        ToolSpec(
            "get_citations", "Papers citing a given paper.",
            obj(["paper_id"], paper_id=pattern("arXiv id", PAPER_RE), limit=integer("Max results", 1, 100)),
            _get_citations, latency_ms=450, empty={"cited_by": []}, empty_rate=0.1,
        ),
        ToolSpec(
            "save_note", "Save a research note.",
            obj(["title", "content"], title=string("Title", maxLength=200), content=string("Markdown content"),
                tags=array("Tags", string("Tag", maxLength=30), 0, 10)),
            _save_note, write=True, latency_ms=120, intro="Saving a note.",
        ),
        ToolSpec(
            "send_report", "E-mail a compiled report.",
            obj(["recipient", "subject", "format"], recipient=email("Recipient"), subject=string("Subject"),
                format=enum("Report format", "pdf", "markdown", "html")),
            _send_report, write=True, latency_ms=900, http=("POST", "https://mail.example.com/v3/send"),
            intro="Sending the report.",
        ),
    )
}


def web_research(b: TraceBuilder) -> None:
    rng = b.rng
    topic = b.ctx["topic"] = pick(rng, RESEARCH_TOPICS)
    b.user_text = f"Research {topic} and save a short note with the key numbers."
    args: dict[str, Any] = {"query": topic, "num_results": pick(rng, (5, 8, 10))}
    res = b.call("web_search", args)
    if not res["results"]:
        res = b.call("web_search", {"query": topic.split()[0] + " statistics", "num_results": 10})
    if res["results"] and rng.random() < 0.35:  # pagination
        more = b.call("web_search", {**args, "page": 2})
        res = {"results": res["results"] + more["results"]}
    urls = [r["url"] for r in res["results"]][: rng.randint(1, 4)]
    for u in urls:  # several fetches, different URLs
        b.call("open_url", {"url": u})
    if not urls:
        b.finish(f"I couldn't find recent sources on {topic}.")
        return
    note = b.call("save_note", {"title": f"Notes: {topic}", "content": f"- {len(urls)} sources reviewed\n- see {urls[0]}",
                                "tags": ["research", _slug(topic.split()[0])]})
    b.finish(f"I reviewed {len(urls)} sources on {topic} and saved the key figures in note {note['note_id']}.")


def literature_review(b: TraceBuilder) -> None:
    rng = b.rng
    topic = b.ctx["topic"] = pick(rng, RESEARCH_TOPICS)
    first, last = person(rng)
    to = email_of(rng, first, last)
    b.user_text = f"Do a quick literature review on {topic} since {rng.randint(2018, 2023)} and send it to {to}."
    res = b.call("search_papers", {"query": topic, "year_from": rng.randint(2018, 2023), "limit": 10})
    if not res["papers"]:
        res = b.call("search_papers", {"query": topic.split()[-1], "limit": 20})
    papers = res["papers"][: rng.randint(2, 4)]
    for p in papers:
        b.call("get_paper", {"paper_id": p["paper_id"]})
    if papers:
        b.call("get_citations", {"paper_id": papers[0]["paper_id"], "limit": 10})
    b.call("save_note", {"title": f"Review: {topic}", "content": "\n".join(f"- {p['title']}" for p in papers) or "- none"})
    b.call("send_report", {"recipient": to, "subject": f"Literature review: {topic}", "format": pick(rng, ("pdf", "markdown"))})
    b.finish(f"I summarised {len(papers)} papers on {topic} and sent the review to {to}.")


def quick_fact(b: TraceBuilder) -> None:
    rng = b.rng
    topic = b.ctx["topic"] = pick(rng, RESEARCH_TOPICS)
    b.user_text = f"Quick question: what's the latest headline number on {topic}?"
    res = b.call("web_search", {"query": f"{topic} latest", "recency": pick(rng, ("month", "year"))})
    if res["results"]:
        page = b.call("open_url", {"url": res["results"][0]["url"], "max_chars": 5000})
        b.finish(f"According to {page['url']}: {page['text'][:120]}")
    else:
        b.finish(f"I found no recent sources on {topic}.")


AGENT = AgentSpec(
    name="research-agent",
    service="research-assistant",
    domain="research",
    models=("gpt-4o", "claude-sonnet-4-5", "gemini-2.0-flash", "mistral-large"),
    tools=TOOLS,
    workflows=((0.4, web_research), (0.35, literature_review), (0.25, quick_fact)),
    fake_tools=("browse", "fetch_page", "search_arxiv", "write_note", "email_report"),
    system_tokens=800,
    ok_status=1,
)
