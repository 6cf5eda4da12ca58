"""Report writers as registered through the ``register_report_writers`` plugin hook: each writes one
file of a run's reports (see :func:`tracemine.pipeline.write_reports`: all of them or none)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracemine.plugins import components

WriteFn = Callable[[list[Any], Any, Path], None]
"""``write(findings, context, path)``: the reported findings, the run's ``ReportContext``, the file to write."""


@dataclass(frozen=True)
class ReportWriter:
    """``name`` keys ``MineResult.outputs``; ``filename`` is the file written in the report folder."""

    name: str
    filename: str
    write: WriteFn


def report_writers() -> list[ReportWriter]:
    """The registered report writers, built-ins first (``findings.json``, ``report.md``, ``report.html``)."""
    return list(components("register_report_writers"))
