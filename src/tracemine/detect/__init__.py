"""Deterministic failure detectors (ARCHITECTURE.md, 'Adding a detector'): loops, duplicate tool calls, silent failures,
tool-argument errors, unrecovered errors and cost/latency outliers."""

from tracemine.detect.base import Detector
from tracemine.detect.view import LlmTurn, ToolCall, TraceView

__all__ = ["Detector", "LlmTurn", "ToolCall", "TraceView"]
