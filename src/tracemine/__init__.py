"""tracemine: cross-run failure mining for LLM-agent traces."""

from tracemine.model import Finding, Signal, Span, Trace

__all__ = ["Finding", "Signal", "Span", "Trace", "__version__"]
__version__ = "0.1.0"
