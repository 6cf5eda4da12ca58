"""Summarising clusters into findings (see ARCHITECTURE.md, 'Stages and data flow'), and the redaction
applied before any text leaves.

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
