"""Redaction: secrets and personal data removed from every text before it reaches an LLM prompt, a report,
a tracker or the terminal (ARCHITECTURE.md, "Where concepts live").

``redactor`` holds the rules and :class:`Redactor`; ``plugins`` the rules backed by detect-secrets,
python-stdnum and phonenumbers (imported on first use).
"""

from tracemine.redact.redactor import (
    CUT_MARGIN,
    DEFAULT_RULES,
    Redactor,
    Rule,
    default_redactor,
    placeholder,
    redact,
    redact_cut,
    redact_value,
)

__all__ = ["CUT_MARGIN", "DEFAULT_RULES", "Redactor", "Rule", "default_redactor", "placeholder", "redact", "redact_cut",
           "redact_value"]
