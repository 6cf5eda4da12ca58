"""tracemine: cross-run failure mining for LLM-agent traces.

``tracemine.mine(paths, window="7d")`` runs the whole pipeline and returns the ranked findings;
``tracemine.hookimpl`` marks a plugin's hook implementations (ARCHITECTURE.md, 'Plugins').
"""

from typing import Any

from tracemine.model import Finding, Signal, Span, Trace

__all__ = ["Finding", "Signal", "Span", "Trace", "__version__", "hookimpl", "mine"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # the pipeline pulls in DuckDB and Arrow: imported on first use, so `tracemine --help` stays fast
    if name in ("mine", "MineResult"):
        from tracemine import pipeline

        return getattr(pipeline, name)
    if name == "hookimpl":
        from tracemine.hookspecs import hookimpl

        return hookimpl
    raise AttributeError(f"module 'tracemine' has no attribute {name!r}")
