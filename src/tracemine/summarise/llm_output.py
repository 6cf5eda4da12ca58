"""LLM-written text is data: ids in it are checked against what the summarised node cites.

An LLM never sees real ids (prompts mask them, :func:`tracemine.summarise.prompts.mask_ids`), so an id in
its answer is made up or echoed from trace text. :func:`check_ids` keeps the ids the node really cites
(its exemplars' trace and span ids, its own and its children's node ids and fingerprints) and replaces
every other one by ``[id]``, counting them; :func:`check_summary` does that to all four texts of a
:class:`~tracemine.summarise.base.Summary` and records the count in ``Summary.ids_removed``.

What reads as an id: UUIDs and runs of 16+ hex characters with a digit (trace and span ids), finding
fingerprints ``tm-…``, prefixed ids (``trace_…``, ``span-…``, ``run_…``, ``call_…``, ``toolu_…``,
``chatcmpl-…``, ``msg_…``, ``resp_…``), and a token with a digit right after the words trace/span/finding
(``trace t-0042``, ``span_id=s17``). Numbers with units (``1200ms``) are not ids.

Mentions and links are neutralised where Markdown is written (:func:`tracemine.report.markdown.md_text`
and :func:`~tracemine.report.markdown.md_prose`), for every text, not only the LLM's.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from tracemine.summarise.base import Brief, Summary

__all__ = ["ID_PLACEHOLDER", "check_ids", "check_summary", "cited_ids"]

ID_PLACEHOLDER = "[id]"

_ID = re.compile(
    r"(?P<uuid>\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)"
    r"|(?P<fp>\btm-[0-9A-Za-z]{4,40}\b)"
    r"|(?P<prefixed>\b(?:trace|span|run|call|toolu|chatcmpl|msg|resp|req|sess|thread|step)[_-]"
    r"(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{6,64}\b)"
    r"|(?P<hex>\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{16,}\b)"
    r"|(?i:\b(?:trace|span|finding)s?(?:[ _-]?ids?)?\s{0,2}[:=#]?\s{0,2}`?)"
    r"(?P<named>(?=[A-Za-z0-9_.:-]*\d)[A-Za-z0-9][A-Za-z0-9_.:-]{2,63}\b)"
)
_MEASURE = re.compile(r"\d+(?:[.,]\d+)?(?:ms|s|m|h|d|x|k|%|kb|mb|gb|tokens?)?", re.IGNORECASE)


def cited_ids(brief: Brief) -> set[str]:
    """The ids ``brief`` may mention: its and its children's node ids and exemplar trace and span ids."""
    out: set[str] = set()
    stack = [brief]
    while stack:
        node = stack.pop()
        out.add(node.node_id)
        for exemplar in node.exemplars:
            out.add(exemplar.trace_id)
            out.update(exemplar.span_ids)
        stack.extend(node.children)
    return {i for i in out if i}


def _named_is_id(token: str) -> bool:
    if _MEASURE.fullmatch(token):
        return False
    if token.isdigit():
        return len(token) >= 6
    return any(c.isalpha() for c in token)


def check_ids(text: str, allowed: Iterable[str]) -> tuple[str, int]:
    """``text`` with every id not in ``allowed`` replaced by ``[id]``, and how many were replaced."""
    known = {a.lower() for a in allowed}
    removed = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal removed
        group = m.lastgroup or ""
        value = m.group(group)
        if group == "named" and not _named_is_id(value.rstrip(".:")):
            return m.group(0)
        value = value.rstrip(".:") if group == "named" else value
        if value.lower() in known or value.lower().removeprefix("tm-") in known:
            return m.group(0)
        removed += 1
        start, end = m.start(group) - m.start(), m.start(group) - m.start() + len(value)
        whole = m.group(0)
        return whole[:start] + ID_PLACEHOLDER + whole[end:]

    return _ID.sub(repl, text or ""), removed


def check_summary(summary: Summary, brief: Brief) -> Summary:
    """``summary`` with unknown ids replaced in its four texts; ``ids_removed`` counts them."""
    allowed = cited_ids(brief)
    texts = {}
    removed = 0
    for name in ("title", "summary", "mechanism", "recommended_fix"):
        texts[name], n = check_ids(getattr(summary, name), allowed)
        removed += n
    return dataclasses.replace(summary, **texts, ids_removed=summary.ids_removed + removed)
