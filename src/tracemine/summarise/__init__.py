"""Summarising clusters into findings (DESIGN.md §2.6), and the redaction applied before any text leaves.

``redact`` removes secrets and personal data from every text before it reaches an LLM prompt or a report.
"""

from tracemine.summarise.redact import (
    DEFAULT_RULES,
    Redactor,
    Rule,
    placeholder,
    redact,
    redact_cut,
    redact_value,
)

__all__ = ["DEFAULT_RULES", "Redactor", "Rule", "placeholder", "redact", "redact_cut", "redact_value"]
