"""Native JSON readers against tracemine's row path, per span, on one flat span JSONL file.

    python benchmarks/json_readers.py                    # ~100,000 synthetic flat spans
    python benchmarks/json_readers.py --spans 299000 --threads 1,2

What each line costs (CPU seconds per 10⁶ spans → µs/span), single process, the file in the page cache:

* ``orjson.loads`` of every line (the parse the Python readers start from);
* tracemine's read of the file into archive rows (``run_task`` on one process: parse, attribute
  conventions, rows, Arrow batches — everything the archive stores but the insert);
* DuckDB ``read_json`` of the file into typed columns (ids, name, kind, times and status as text,
  resource as JSON, attributes as ``MAP(VARCHAR, JSON)``): parsing only, none of the mapping;
* DuckDB ``json_transform`` of the lines (as a bulk path needs them: numbered, so a rejected record keeps
  its line) into the same columns;
* DuckDB ``read_json`` plus a SQL projection of the synthetic data's own attribute keys (model, tokens,
  cost, session, tool name and call id, input/output, the attributes re-serialised without the payload
  keys, ISO times to nanoseconds): a lower bound for mapping in SQL, since it has none of the checks a
  record must pass to be read as the Python readers read it, no kind inference and no outcomes;
* DuckDB checks a bulk path needs before it may map a line in SQL and still store what the Python
  readers store: the line's keys (no other reader may claim it, no duplicate key) and every attribute
  value of a form DuckDB writes back exactly as orjson does (``CHECKS``), on the numbered lines;
* ``pyarrow.json.read_json`` of the file with its inferred schema (attributes become one struct of every
  key seen, so key order and absent-vs-null are lost: what it gives is not what the archive stores).

DuckDB runs with ``--threads`` (comma-separated counts, each measured). These are the figures behind the
ingest notes in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.json as pa_json

from _common import synth_spans
from tracemine.config import IngestSettings
from tracemine.ingest.loader import run_task
from tracemine.ingest.tasks import Task

COLUMNS = {
    "trace_id": "VARCHAR", "span_id": "VARCHAR", "parent_span_id": "VARCHAR", "name": "VARCHAR", "kind": "VARCHAR",
    "start_time": "VARCHAR", "end_time": "VARCHAR", "status": "STRUCT(code VARCHAR, message VARCHAR)",
    "resource": "JSON", "attributes": "MAP(VARCHAR, JSON)",
}


# the SQL projection above (SYNTH_PROJECTION.format(source=...)): a lower bound, not tracemine's mapping
SYNTH_PROJECTION = """
SELECT trace_id, span_id, parent_span_id, name,
    coalesce(attributes['openinference.span.kind'] ->> '$', kind) AS kind,
    epoch_ns(CAST(start_time AS TIMESTAMP_NS)) AS start_ns, epoch_ns(CAST(end_time AS TIMESTAMP_NS)) AS end_ns,
    status.code AS status, nullif(status.message, '') AS message,
    coalesce(attributes['llm.model_name'], attributes['gen_ai.response.model']) ->> '$' AS model,
    CAST(coalesce(attributes['llm.token_count.prompt'], attributes['gen_ai.usage.input_tokens']) AS BIGINT)
        AS input_tokens,
    CAST(coalesce(attributes['llm.token_count.completion'], attributes['gen_ai.usage.output_tokens']) AS BIGINT)
        AS output_tokens,
    CAST(attributes['llm.cost.total'] AS DOUBLE) AS cost_usd,
    attributes['session.id'] ->> '$' AS session_id, attributes['tool.name'] ->> '$' AS tool_name,
    attributes['tool_call.id'] ->> '$' AS tool_call_id,
    attributes['input.value'] ->> '$' AS input, attributes['output.value'] ->> '$' AS output,
    to_json(map_from_entries(list_filter(map_entries(attributes),
        lambda e: e.key NOT IN ('input.value', 'output.value'))))::VARCHAR AS attributes,
    resource::VARCHAR AS resource
FROM {source}
"""


# what a bulk path must check per line, on top of the parse, before mapping it in SQL (see the docstring)
CHECKS = """
SELECT count(*) FROM (
    SELECT json_keys(line) AS keys, try_cast(json_transform(line, '{spec}').attributes AS MAP(VARCHAR, JSON)) AS attrs
    FROM numbered WHERE json_valid(line))
WHERE len(keys) = len(list_distinct(keys)) AND list_bool_and(list_transform(map_entries(attrs), lambda e:
    (e.value IS NULL OR json_type(e.value) IN ('BIGINT', 'BOOLEAN')
     OR (json_type(e.value) = 'VARCHAR' AND NOT contains(e.value::VARCHAR, '\\u'))
     OR (json_type(e.value) = 'DOUBLE' AND NOT regexp_matches(e.value::VARCHAR, '[eE]|[0-9]{{16}}')))
    AND NOT regexp_matches(e.key, '["\\\\\\x00-\\x1f]')))
"""


def cpu_seconds(fn: object) -> float:
    """Process CPU time (user + system) of one call of ``fn``."""
    started = time.process_time()
    fn()  # type: ignore[operator]
    return time.process_time() - started


def wall_seconds(fn: object) -> float:
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--threads", default="1,2", help="DuckDB thread counts to measure")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="tracemine-json-readers-"))
    try:
        synth = synth_spans(root / "data", args.spans, args.seed, "jsonl")
        path = root / "spans.jsonl"
        with path.open("wb") as out:
            for part in synth.files:
                out.write(part.read_bytes())
        data = path.read_bytes()
        lines = data.split(b"\n")
        if not lines[-1]:
            lines.pop()
        spans = len(lines)
        print(f"input: {len(data) / 2**20:,.0f} MiB, {spans:,} flat spans; {os.cpu_count()} cores; "
              f"load average {os.getloadavg()[0]:.2f}")

        def report(label: str, cpu: float, wall: float) -> None:
            print(f"{label:>58s}: {cpu / spans * 1e6:6.1f} CPU-µs/span, wall {wall:5.2f} s = {spans / wall:>9,.0f} spans/s")

        def parse_all() -> None:
            loads = orjson.loads
            for line in lines:
                loads(line)

        started = time.perf_counter()
        report("orjson.loads of every line", cpu_seconds(parse_all), time.perf_counter() - started)

        settings = IngestSettings(workers=1)
        task = Task(str(path), None, 1, path.stat().st_size)
        started = time.perf_counter()
        report("tracemine rows (run_task, one process)",
               cpu_seconds(lambda: run_task(task, settings, 1, time.time_ns())), time.perf_counter() - started)

        columns = "{" + ", ".join(f"{k}: '{v}'" for k, v in COLUMNS.items()) + "}"
        numbered = pa.table({"n": pa.array(range(1, spans + 1), pa.int64()),
                             "line": pa.array(lines, pa.binary()).cast(pa.string())})
        spec = orjson.dumps({k: (v if k != "status" else {"code": "VARCHAR", "message": "VARCHAR"})
                             for k, v in COLUMNS.items()}).decode()
        for threads in [int(t) for t in args.threads.split(",") if t.strip()]:
            con = duckdb.connect()
            con.execute(f"SET threads = {threads}")
            con.execute("SET enable_progress_bar = false")
            con.register("numbered", numbered)
            read_json = f"SELECT * FROM read_json('{path}', format = 'newline_delimited', columns = {columns})"
            transform = f"SELECT n, json_transform(line, '{spec}') AS record FROM numbered"
            projection = SYNTH_PROJECTION.format(
                source=f"read_json('{path}', format = 'newline_delimited', columns = {columns})")
            for label, sql in ((f"DuckDB read_json, typed columns, {threads} thread(s)", read_json),
                               (f"DuckDB json_transform of numbered lines, {threads} thread(s)", transform),
                               (f"DuckDB read_json + SQL projection (lower bound), {threads} thread(s)", projection),
                               (f"DuckDB checks for exact bulk mapping, {threads} thread(s)", CHECKS.format(spec=spec))):
                started = time.perf_counter()
                cpu = cpu_seconds(lambda con=con, sql=sql: con.sql(sql).to_arrow_table())
                report(label, cpu, time.perf_counter() - started)
            con.close()
        options = pa_json.ReadOptions(block_size=8 << 20)
        started = time.perf_counter()
        report("pyarrow.json.read_json (inferred schema)",
               cpu_seconds(lambda: pa_json.read_json(str(path), read_options=options)), time.perf_counter() - started)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
