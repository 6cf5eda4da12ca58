"""Trace text on its way out of the commands that print or write it raw otherwise: detector signals
(``detect --out``), quarantined records (``ingest``, ``stats --quarantine``) and cluster exemplars.

Every function redacts with the given :class:`~tracemine.redact.Redactor` (the default rules
when ``None``) and never raises: a value the redactor cannot handle becomes a placeholder.
"""

from __future__ import annotations

from typing import Any

from tracemine.redact import Redactor, default_redactor, redact_cut

__all__ = ["QUARANTINE_EXCERPT_CHARS", "line", "quarantine_record", "signal_record"]

QUARANTINE_EXCERPT_CHARS = 300
"""Longest quarantine excerpt kept (after redaction)."""


def _r(redactor: Redactor | None) -> Redactor:
    return redactor if redactor is not None else default_redactor()


def signal_record(signal: Any, redactor: Redactor | None = None) -> dict[str, Any]:
    """The JSON-lines record of one signal (``detect --out``): ids as they are, every text redacted —
    ``text``, ``agent`` and every string anywhere in ``evidence`` (values under secret-named keys whole)."""
    r = _r(redactor)
    return {
        "detector": signal.detector, "kind": signal.kind, "trace_id": signal.trace_id,
        "span_ids": signal.span_ids, "severity": signal.severity,
        "evidence": r.redact_value(signal.evidence), "text": r.redact(signal.text),
        "cause_span_id": signal.cause_span_id,
        "agent": r.redact(signal.agent) if signal.agent is not None else None,
    }


def quarantine_record(record: Any, redactor: Redactor | None = None) -> dict[str, Any]:
    """A quarantined record as a dict with its ``reason`` and ``excerpt`` redacted (an excerpt stored
    before redaction happened at ingest is redacted here)."""
    r = _r(redactor)
    data = dict(record.__dict__) if hasattr(record, "__dict__") else dict(record)
    for key in ("reason", "locator"):
        if isinstance(data.get(key), str):
            data[key] = r.redact(data[key])
    if data.get("excerpt") is not None:
        data["excerpt"] = redact_cut(data["excerpt"], QUARANTINE_EXCERPT_CHARS, r)
    return data


def line(text: Any, limit: int | None = None, redactor: Redactor | None = None) -> str:
    """``text`` redacted, on one line, cut to ``limit`` characters after redaction."""
    r = _r(redactor)
    flat = " ".join(str(text if text is not None else "").split())
    return r.redact(flat) if limit is None else redact_cut(flat, limit, r)
