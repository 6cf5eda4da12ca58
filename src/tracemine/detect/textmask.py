"""Masking volatile values (ids, numbers, times, emails, paths) so that the same failure in different
traces reads the same — the text detectors attach to signals for embedding and clustering."""

from __future__ import annotations

import re

_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"), "<uuid>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"), "<time>"),
    (re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b"), "<time>"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<email>"),
    (re.compile(r"https?://[^\s\"'<>]+"), "<url>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"), "<hex>"),
    (re.compile(r"\b[A-Za-z]{1,6}[-_]?\d{3,}\b"), "<id>"),
    (re.compile(r"\b[A-Za-z]+_[A-Za-z0-9]*\d[A-Za-z0-9]{5,}\b"), "<id>"),
    (re.compile(r"(?<![\w<])-?\d+(?:[.,]\d+)*(?![\w>])"), "<num>"),
]
_SPACES = re.compile(r"\s+")


def mask(text: str, limit: int = 240) -> str:
    """``text`` with volatile tokens replaced by placeholders, whitespace collapsed, cut to ``limit``."""
    out = text
    for pattern, placeholder in _RULES:
        out = pattern.sub(placeholder, out)
    out = _SPACES.sub(" ", out).strip()
    return out if len(out) <= limit else out[: limit - 1] + "…"
