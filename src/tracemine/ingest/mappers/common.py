"""Helpers shared by the attribute-convention mappers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracemine.ingest.decode import as_text, decode_value
from tracemine.model import Span, SpanKind

_MISSING: Any = object()

FieldRule = tuple[str, str, Callable[[Any], Any]]
"""``(attribute key, Span field, converter)``; earlier rules win over later ones for the same field."""

KIND_WORDS: dict[str, SpanKind] = {
    "llm": SpanKind.LLM,
    "chat": SpanKind.LLM,
    "completion": SpanKind.LLM,
    "text_completion": SpanKind.LLM,
    "generate_content": SpanKind.LLM,
    "generation": SpanKind.LLM,
    "response": SpanKind.LLM,
    "call_llm": SpanKind.LLM,
    "tool": SpanKind.TOOL,
    "function": SpanKind.TOOL,
    "execute_tool": SpanKind.TOOL,
    "mcp_tools": SpanKind.TOOL,
    "agent": SpanKind.AGENT,
    "invoke_agent": SpanKind.AGENT,
    "create_agent": SpanKind.AGENT,
    "handoff": SpanKind.AGENT,
    "retriever": SpanKind.RETRIEVER,
    "retrieval": SpanKind.RETRIEVER,
    "reranker": SpanKind.RETRIEVER,
    "chain": SpanKind.CHAIN,
    "workflow": SpanKind.CHAIN,
    "task": SpanKind.CHAIN,
    "trace": SpanKind.CHAIN,
    "span": SpanKind.OTHER,
    "prompt": SpanKind.CHAIN,
    "parser": SpanKind.CHAIN,
    "embedding": SpanKind.EMBEDDING,
    "embeddings": SpanKind.EMBEDDING,
    "guardrail": SpanKind.GUARDRAIL,
    "evaluator": SpanKind.GUARDRAIL,
    "event": SpanKind.OTHER,
    "unknown": SpanKind.OTHER,
    "other": SpanKind.OTHER,
}


_KIND_CACHE: dict[str, SpanKind | None] = {}


def kind_from_word(word: Any) -> SpanKind | None:
    """Map a convention's kind word (``TOOL``, ``execute_tool``, ``generation``…) to a :class:`SpanKind`."""
    if type(word) is not str:
        return None
    found = _KIND_CACHE.get(word, _MISSING)
    if found is _MISSING:
        if len(_KIND_CACHE) > 10_000:
            _KIND_CACHE.clear()
        found = _KIND_CACHE[word] = KIND_WORDS.get(word.strip().lower())
    return found  # type: ignore[return-value]


def set_if_missing(span: Span, field_name: str, value: Any) -> None:
    if value is not None and getattr(span, field_name) is None:
        setattr(span, field_name, value)


def _definition(item: Any) -> dict[str, Any] | None:
    item = decode_value(item)
    if isinstance(item, str):
        return {"name": item} if item else None
    if not isinstance(item, dict):
        return None
    inner = item.get("function") if isinstance(item.get("function"), dict) else None
    if inner is None and isinstance(item.get("tool"), dict):
        inner = item["tool"]
    source = inner or item
    if "json_schema" in source and isinstance(decode_value(source["json_schema"]), dict):
        schema_wrapper = decode_value(source["json_schema"])
        inner_fn = schema_wrapper.get("function") if isinstance(schema_wrapper.get("function"), dict) else None
        source = inner_fn or schema_wrapper
    name = source.get("name")
    if not isinstance(name, str) or not name:
        return None
    out: dict[str, Any] = {"name": name}
    description = source.get("description")
    if isinstance(description, str) and description:
        out["description"] = description
    for key in ("parameters", "input_schema", "inputSchema", "params_json_schema", "args_schema", "schema"):
        params = decode_value(source.get(key))
        if isinstance(params, dict):
            out["parameters"] = params
            break
    return out


_DEFINITIONS_CACHE: dict[Any, list[dict[str, Any]] | None] = {}


def normalize_tool_definitions(value: Any) -> list[dict[str, Any]] | None:
    """:func:`normalize_tool_definitions_uncached`, cached for JSON text (agents repeat their tool lists
    on every run). Callers must not mutate the result."""
    if type(value) is list and value and all(type(v) is str for v in value):
        key: Any = tuple(value)
    elif type(value) is str:
        key = value
    else:
        return normalize_tool_definitions_uncached(value)
    cached = _DEFINITIONS_CACHE.get(key, _MISSING)
    if cached is not _MISSING:
        return cached  # type: ignore[return-value]
    if len(_DEFINITIONS_CACHE) > 2000:
        _DEFINITIONS_CACHE.clear()
    result = _DEFINITIONS_CACHE[key] = normalize_tool_definitions_uncached(value)
    return result


def normalize_tool_definitions_uncached(value: Any) -> list[dict[str, Any]] | None:
    """Tool definitions in any common shape → ``[{"name", "description"?, "parameters"?}]``.

    Accepts OpenAI ``{"type": "function", "function": {...}}`` items, bare ``{"name", "parameters"}``,
    Anthropic ``input_schema``, OpenInference ``{"tool": {"json_schema": ...}}`` and plain name lists.
    """
    value = decode_value(value)
    if isinstance(value, dict):
        value = [value] if "name" in value or "function" in value else list(value.values())
    if not isinstance(value, list):
        return None
    out = [d for d in (_definition(item) for item in value) if d is not None]
    return out or None


def merge_tool_definitions(span: Span, definitions: list[dict[str, Any]] | None) -> None:
    """Add ``definitions`` to the span's stored tool definitions (JSON text), by tool name."""
    if not definitions:
        return
    if span.tool_definitions is None:
        span.tool_definitions = _definitions_text(definitions)
        return
    existing = normalize_tool_definitions(span.tool_definitions) or []
    by_name = {d["name"]: d for d in existing}
    for d in definitions:
        current = by_name.get(d["name"])
        if current is None or (len(d) > len(current)):
            by_name[d["name"]] = d
    span.tool_definitions = as_text(list(by_name.values()))


_TEXT_CACHE: dict[int, tuple[list[dict[str, Any]], str | None]] = {}


def _definitions_text(definitions: list[dict[str, Any]]) -> str | None:
    """JSON text of a (cached, shared) definitions list, computed once per list object."""
    cached = _TEXT_CACHE.get(id(definitions))
    if cached is not None and cached[0] is definitions:
        return cached[1]
    if len(_TEXT_CACHE) > 2000:
        _TEXT_CACHE.clear()
    text = as_text(definitions)
    _TEXT_CACHE[id(definitions)] = (definitions, text)
    return text


def indexed_items(attrs: dict[str, Any], prefix: str) -> dict[int, dict[str, Any]]:
    """Group flattened attributes ``prefix.{i}.rest`` into ``{i: {rest: value}}``."""
    groups: dict[int, dict[str, Any]] = {}
    plen = len(prefix)
    for key, value in attrs.items():
        if not key.startswith(prefix):
            continue
        rest = key[plen:]
        index_text, _, tail = rest.partition(".")
        if not index_text.isdigit() or not tail:
            continue
        groups.setdefault(int(index_text), {})[tail] = value
    return groups
