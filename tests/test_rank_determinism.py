"""Ranking is deterministic on identical data: the same traces, whatever order storage holds their spans in
(parallel readers, DuckDB's parallel scans), and the same archive mined twice give the same ordered top-N."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tracemine.cli import main

TOOLS = {"notify_customer": (12, "SMTP login rejected"), "charge_card": (8, "card processor unavailable"),
         "lookup_order": (5, "order service returned 500")}


def write_traces(path: Path, reverse: bool) -> None:
    """Traces whose tool call fails, each under two agent spans that start at the same instant (which one
    ran the tool the trace does not say); with ``reverse`` every trace's spans come in the opposite order."""
    lines: list[dict] = []
    n = 0
    for tool, (count, error) in TOOLS.items():
        for _ in range(count):
            n += 1
            trace_id, start = f"{n:032x}", f"2026-10-{10 + n % 9:02d}T10:00:{n % 60:02d}"
            base = {"trace_id": trace_id, "status": {"code": "STATUS_CODE_UNSET", "message": ""}, "events": []}
            spans = [{**base, "span_id": f"{name[0]}{n:015x}", "parent_span_id": "", "name": name,
                      "start_time": f"{start}.000000000Z", "end_time": f"{start}.900000000Z",
                      "attributes": {"openinference.span.kind": "AGENT"}} for name in ("alpha", "beta")]
            spans.append({**base, "span_id": f"c{n:015x}", "parent_span_id": "", "name": f"execute_tool {tool}",
                          "start_time": f"{start}.100000000Z", "end_time": f"{start}.800000000Z",
                          "attributes": {"openinference.span.kind": "TOOL", "tool.name": tool,
                                         "input.value": json.dumps({"id": n}),
                                         "output.value": json.dumps({"ok": False, "error": error})}})
            lines += spans[::-1] if reverse else spans
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def ranked(out: Path) -> list[str]:
    return [f["fingerprint"] for f in json.loads((out / "findings.json").read_text())["findings"]]


def test_same_data_same_ordered_top_n(tmp_path: Path) -> None:
    runner = CliRunner()
    write_traces(tmp_path / "forward.jsonl", reverse=False)
    write_traces(tmp_path / "reversed.jsonl", reverse=True)
    runs = []
    for name, source, db in (("a", "forward.jsonl", "a.duckdb"), ("b", "reversed.jsonl", "b.duckdb"),
                             ("a2", None, "a.duckdb")):
        args = ["mine", *([str(tmp_path / source)] if source else []), "--db", str(tmp_path / db),
                "--out", str(tmp_path / name), "--max-findings", "2", "-q"]
        result = runner.invoke(main, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        runs.append(ranked(tmp_path / name))
    assert len(runs[0]) == 2
    assert runs[0] == runs[1] == runs[2]
