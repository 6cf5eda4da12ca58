"""Data-analytics agent: warehouse tables, async queries, charts, exports, Slack."""

from __future__ import annotations

from typing import Any

from tracemine.synth.catalog import AgentSpec, ToolSpec, enum, integer, obj, pattern, string
from tracemine.synth.data import REGIONS, SLACK_CHANNELS, TABLES, day, hexid, money, pick
from tracemine.synth.plan import TraceBuilder

TABLE_RE = r"^[a-z_]+\.[a-z_]+$"
QUERY_RE = r"^q_[0-9a-f]{12}$"
CHANNEL_RE = r"^#[a-z0-9_-]+$"
S3_RE = r"^s3://[a-z0-9.-]+/.+$"
_TABLE_NAMES = tuple(TABLES)

QUESTIONS = (
    ("weekly revenue by region", "sales.orders",
     "SELECT region, date_trunc('week', created_at) AS week, sum(amount) AS revenue FROM sales.orders "
     "WHERE created_at >= current_date - INTERVAL 90 DAY GROUP BY 1, 2 ORDER BY 2"),
    ("refund rate by reason", "sales.refunds",
     "SELECT reason, count(*) AS refunds, sum(amount) AS refunded FROM sales.refunds GROUP BY reason ORDER BY 2 DESC"),
    ("campaign spend by channel", "marketing.campaigns",
     "SELECT channel, sum(spend) AS spend FROM marketing.campaigns WHERE start_date >= '2026-01-01' GROUP BY channel"),
    ("conversion rate by country", "marketing.web_sessions",
     "SELECT country, avg(CASE WHEN converted THEN 1 ELSE 0 END) AS conversion FROM marketing.web_sessions GROUP BY country"),
    ("unpaid invoices by due month", "finance.invoices",
     "SELECT date_trunc('month', due_date) AS month, count(*) AS unpaid, sum(total) FROM finance.invoices WHERE NOT paid GROUP BY 1"),
    ("signups per plan", "public.users",
     "SELECT plan, count(*) AS users FROM public.users WHERE signup_date >= current_date - 30 GROUP BY plan"),
)


def _list_tables(b: TraceBuilder, a: dict[str, Any]) -> Any:
    schema = a.get("schema", "public")
    names = [t for t in _TABLE_NAMES if t.startswith(schema + ".")] or list(_TABLE_NAMES)
    return {"schema": schema, "tables": names}


def _describe_table(b: TraceBuilder, a: dict[str, Any]) -> Any:
    cols = TABLES.get(a["table"]) or TABLES[pick(b.rng, _TABLE_NAMES)]
    return {"table": a["table"], "columns": [{"name": n, "type": t} for n, t in cols],
            "row_count": b.rng.randint(2_000, 90_000_000)}


def _run_query(b: TraceBuilder, a: dict[str, Any]) -> Any:
    qid = b.ctx["query_id"] = f"q_{hexid(b.rng, 12)}"
    return {"query_id": qid, "status": "queued", "submitted_at": day(b.today)}


def _query_status(b: TraceBuilder, a: dict[str, Any]) -> Any:
    return {"query_id": a["query_id"], "state": "succeeded", "progress": 100, "rows": b.rng.randint(4, 400)}


def _fetch_results(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    rows = [[pick(rng, REGIONS), day(b.today - 7 * k), money(rng, 1_000, 250_000)] for k in range(rng.randint(3, 6))]
    page = a.get("page", 1)
    last = b.ctx.get("pages", 1)
    return {"columns": ["region", "week", "value"], "rows": rows, "page": page,
            "next_page": page + 1 if page < last else None}


def _create_chart(b: TraceBuilder, a: dict[str, Any]) -> Any:
    cid = f"CH-{b.rng.randint(10000, 99999)}"
    return {"chart_id": cid, "url": f"https://bi.example.com/charts/{cid}", "type": a["chart_type"]}


def _export_csv(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    return {"destination": a["destination"], "rows": rng.randint(10, 500_000), "bytes": rng.randint(2_000, 90_000_000),
            "errors": []}


def _slack(b: TraceBuilder, a: dict[str, Any]) -> Any:
    rng = b.rng
    return {"ok": True, "channel": f"C0{hexid(rng, 8).upper()}", "ts": f"17{rng.randint(10**7, 10**8 - 1)}.{rng.randint(0, 999999):06d}"}


TOOLS = {
    t.name: t
    for t in (
        ToolSpec(
            "list_tables", "List tables in a warehouse schema.",
            obj(["schema"], schema=enum("Schema", "public", "sales", "marketing", "finance")),
            _list_tables, latency_ms=150, intro="Let me see which tables exist.",
        ),
        ToolSpec(
            "describe_table", "Columns, types and row count of a table.",
            obj(["table"], table=pattern("schema.table", TABLE_RE)),
            _describe_table, latency_ms=120, intro="Checking the table schema.",
        ),
        ToolSpec(
            "run_query", "Submit a read-only SQL query; returns a query id.",
            obj(["sql"], sql=string("SQL (SELECT only)", minLength=10, maxLength=10000),
                max_rows=integer("Row limit", 1, 100000), timeout_s=integer("Timeout in seconds", 1, 3600)),
            _run_query, latency_ms=220, http=("POST", "https://warehouse.example.com/api/2.0/sql/statements"),
            intro="Running the query.",
        ),
        ToolSpec(
            "get_query_status", "Status of a submitted query.",
            obj(["query_id"], query_id=pattern("Query id", QUERY_RE)),
            _query_status, latency_ms=90, poll=True, intro="Waiting for the query.",
        ),
        ToolSpec(
            "fetch_results", "Fetch a page of query results.",
            obj(["query_id"], query_id=pattern("Query id", QUERY_RE), page=integer("Page", 1),
                page_size=integer("Rows per page", 1, 1000)),
            _fetch_results, latency_ms=260, http=("GET", "https://warehouse.example.com/api/2.0/sql/results"),
            intro="Fetching the results.",
        ),
        ToolSpec(
            "create_chart", "Create a chart from a query's results.",
            obj(["query_id", "chart_type", "x", "y"], query_id=pattern("Query id", QUERY_RE),
                chart_type=enum("Chart type", "bar", "line", "pie", "scatter"), x=string("X column"),
                y=string("Y column"), title=string("Title", maxLength=120)),
            _create_chart, write=True, latency_ms=500, intro="Creating a chart.",
        ),
        ToolSpec(
            "export_csv", "Export query results to CSV in object storage.",
            obj(["query_id", "destination"], query_id=pattern("Query id", QUERY_RE),
                destination=pattern("s3:// URI", S3_RE)),
            _export_csv, write=True, latency_ms=750, intro="Exporting to CSV.",
        ),
        ToolSpec(
            "send_slack_message", "Post a message to a Slack channel.",
            obj(["channel", "text"], channel=pattern("Channel, e.g. #analytics", CHANNEL_RE),
                text=string("Message text", minLength=1, maxLength=4000)),
            _slack, write=True, latency_ms=280, http=("POST", "https://slack.com/api/chat.postMessage"),
            intro="Posting to Slack.",
        ),
    )
}


def _poll(b: TraceBuilder, qid: str, n: int) -> None:
    """A poll loop whose result changes every time (hard negative)."""
    rng = b.rng
    progress = 0
    for k in range(n - 1):
        progress = min(95, progress + rng.randint(10, 45))
        b.call("get_query_status", {"query_id": qid},
               result={"query_id": qid, "state": "queued" if k == 0 and rng.random() < 0.5 else "running",
                       "progress": progress, "rows": None})
    b.call("get_query_status", {"query_id": qid},
           result={"query_id": qid, "state": "succeeded", "progress": 100, "rows": rng.randint(4, 400)})


def report(b: TraceBuilder) -> None:
    rng = b.rng
    question, table, sql = pick(rng, QUESTIONS)
    channel = pick(rng, SLACK_CHANNELS)
    b.user_text = f"Build a chart of {question} and post it to {channel}."
    b.call("list_tables", {"schema": table.split(".")[0]})
    b.call("describe_table", {"table": table})
    if rng.random() < 0.4:
        b.call("describe_table", {"table": pick(rng, _TABLE_NAMES[:2]) if table not in _TABLE_NAMES[:2] else "public.users"})
    q = b.call("run_query", {"sql": sql, "max_rows": 5000, "timeout_s": 300})
    _poll(b, q["query_id"], rng.randint(2, 4))
    pages = b.ctx["pages"] = rng.randint(1, 3)
    for page in range(1, pages + 1):  # pagination: same tool, different page
        b.call("fetch_results", {"query_id": q["query_id"], "page": page, "page_size": 500})
    ch = b.call("create_chart", {"query_id": q["query_id"], "chart_type": pick(rng, ("bar", "line")), "x": "week",
                                 "y": "value", "title": question.capitalize()})
    b.call("send_slack_message", {"channel": channel, "text": f"{question.capitalize()}: {ch['url']}"})
    b.finish(f"Posted the {question} chart ({ch['url']}) to {channel}.")


def adhoc(b: TraceBuilder) -> None:
    rng = b.rng
    question, table, sql = pick(rng, QUESTIONS)
    b.user_text = f"Quick one: what's the {question}?"
    b.call("describe_table", {"table": table})
    q = b.call("run_query", {"sql": sql, "max_rows": 1000})
    _poll(b, q["query_id"], rng.randint(1, 2))
    res = b.call("fetch_results", {"query_id": q["query_id"], "page": 1, "page_size": 100})
    top = max(res["rows"], key=lambda r: r[2])
    b.finish(f"{question.capitalize()}: the largest value is {top[2]:,.2f} ({top[0]}, week of {top[1]}).")


def export(b: TraceBuilder) -> None:
    rng = b.rng
    question, table, sql = pick(rng, QUESTIONS)
    channel = pick(rng, SLACK_CHANNELS)
    dest = f"s3://acme-analytics-exports/{table.replace('.', '/')}/{day(b.today)}.csv"
    b.user_text = f"Export the {question} to S3 and let {channel} know."
    q = b.call("run_query", {"sql": sql, "timeout_s": 600})
    _poll(b, q["query_id"], rng.randint(1, 3))
    ex = b.call("export_csv", {"query_id": q["query_id"], "destination": dest})
    b.call("send_slack_message", {"channel": channel, "text": f"Export ready: {dest} ({ex['rows']} rows)"})
    b.finish(f"Exported {ex['rows']:,} rows to {dest} and notified {channel}.")


AGENT = AgentSpec(
    name="analytics-agent",
    service="data-analytics",
    domain="data analytics",
    models=("gpt-4o", "gpt-4o-mini", "gemini-2.0-flash"),
    tools=TOOLS,
    workflows=((0.45, report), (0.35, adhoc), (0.2, export)),
    fake_tools=("execute_sql", "query_database", "plot_chart", "post_to_slack", "get_table_schema"),
    system_tokens=1300,
    ok_status=1,
)
