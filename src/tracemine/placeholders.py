"""Internal placeholders (``<num>``, ``<id>``, ``<tool>`` …) made readable before text reaches a reader.

Detectors mask volatile values so that signals of one failure read the same (:mod:`tracemine.detect.textmask`),
and grouping keys replace names by ``<tool>``/``<model>``. Those placeholders are for clustering, not for
people: :func:`unmask` puts the real spelling back where the signal's own evidence holds it, and
:func:`readable` words whatever is left (``max_turns=<num>`` → ``max_turns=N``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from tracemine.detect.textmask import mask

WORDS = {
    "num": "N", "id": "ID", "uuid": "UUID", "hex": "HEX", "time": "TIME", "email": "EMAIL", "url": "URL",
    "tool": "TOOL", "model": "MODEL", "agent": "AGENT", "host": "HOST", "arg": "ARG", "argument": "ARG",
    "value": "VALUE", "volatile": "…", "score": "SCORE",
}
"""Each internal placeholder and the word a reader sees instead."""
PLACEHOLDER = re.compile(r"<(" + "|".join(sorted(WORDS, key=len, reverse=True)) + r")>")
_LITERAL = re.compile(r"[A-Za-z0-9]")
MAX_HINT_CHARS = 400


def readable(text: str) -> str:
    """``text`` with every internal placeholder replaced by a readable word (``<num>`` → ``N``)."""
    if not text or "<" not in text:
        return text
    return PLACEHOLDER.sub(lambda m: WORDS[m.group(1)], text)


def unmask(text: str, evidence: Mapping[str, Any] | None = None) -> str:
    """``text`` (a masked detector sentence) with the values its ``evidence`` spells out put back, then
    the remaining placeholders worded by :func:`readable`.

    A string of the evidence is put back where its masked form occurs in ``text`` and carries literal
    text besides the placeholders (``claude-sonnet-<num>-<num>-<num>`` → ``claude-sonnet-4-5-20250929``);
    a bare number is never guessed into place."""
    if not text or "<" not in text:
        return text
    out = text
    for value in sorted(set(_strings(evidence)), key=len, reverse=True):
        masked = mask(value, MAX_HINT_CHARS + 1)
        if masked == value or masked not in out or not PLACEHOLDER.search(masked):
            continue
        if len(_LITERAL.findall(PLACEHOLDER.sub("", masked))) < 3:
            continue
        out = out.replace(masked, value)
        if "<" not in out:
            break
    return readable(out)


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    """Short strings in an evidence mapping (values of its keys, lists and nested mappings)."""
    if depth > 3:
        return
    if isinstance(value, str):
        if 0 < len(value) <= MAX_HINT_CHARS:
            yield " ".join(value.split())
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value[:50]:
            yield from _strings(item, depth + 1)
