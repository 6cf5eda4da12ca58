"""Built-in report writers: ``findings.json`` (with its schema), ``report.md`` and ``report.html``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tracemine.hookspecs import hookimpl


def _json(findings: list[Any], context: Any, path: Path) -> None:
    from tracemine.report.jsonout import write_json

    write_json(findings, context, path)


def _markdown(findings: list[Any], context: Any, path: Path) -> None:
    from tracemine.report.markdown import write_markdown

    write_markdown(findings, context, path)


def _html(findings: list[Any], context: Any, path: Path) -> None:
    from tracemine.report.html import write_html

    write_html(findings, context, path)


@hookimpl
def register_report_writers() -> list[Any]:
    from tracemine.report.writers import ReportWriter

    return [ReportWriter("json", "findings.json", _json), ReportWriter("markdown", "report.md", _markdown),
            ReportWriter("html", "report.html", _html)]
