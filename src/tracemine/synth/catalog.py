"""Agents, tools (with JSON Schemas) and models the synthetic traces are made of."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from tracemine.synth.plan import TraceBuilder

ResultFn = Callable[["TraceBuilder", dict[str, Any]], Any]
Workflow = Callable[["TraceBuilder"], None]

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """An LLM: provider, versioned response name, USD per million tokens, decoding speed."""

    provider: str
    response_model: str
    usd_in: float
    usd_out: float
    ms_per_token: float
    ttft_ms: float


MODELS: dict[str, ModelSpec] = {
    "gpt-4o": ModelSpec("openai", "gpt-4o-2024-08-06", 2.5, 10.0, 9.0, 450.0),
    "gpt-4o-mini": ModelSpec("openai", "gpt-4o-mini-2024-07-18", 0.15, 0.6, 6.0, 350.0),
    "gpt-4.1": ModelSpec("openai", "gpt-4.1-2025-04-14", 2.0, 8.0, 8.0, 420.0),
    "claude-sonnet-4-5": ModelSpec("anthropic", "claude-sonnet-4-5-20250929", 3.0, 15.0, 11.0, 600.0),
    "claude-3-5-haiku": ModelSpec("anthropic", "claude-3-5-haiku-20241022", 0.8, 4.0, 7.0, 400.0),
    "gemini-2.0-flash": ModelSpec("gcp.gemini", "gemini-2.0-flash-001", 0.1, 0.4, 4.0, 300.0),
    "mistral-large": ModelSpec("mistral_ai", "mistral-large-2411", 2.0, 6.0, 10.0, 500.0),
}


@dataclass(slots=True)
class ToolSpec:
    """A tool an agent can call.

    ``result`` builds a realistic result from the arguments; ``empty``/``empty_rate`` describe a
    legitimately empty answer (a search with no hits) and how often clean traces see it; ``http`` is the
    (method, URL prefix) of the API the tool calls, shown as a child HTTP span; ``poll`` marks status
    tools that are called repeatedly with the same arguments while a job progresses.
    """

    name: str
    description: str
    parameters: dict[str, Any]
    result: ResultFn
    write: bool = False
    latency_ms: float = 150.0
    empty: Any = None
    empty_rate: float = 0.0
    http: tuple[str, str] | None = None
    poll: bool = False
    intro: str = ""

    def definition(self) -> dict[str, Any]:
        return {"type": "function", "name": self.name, "description": self.description, "parameters": self.parameters}


@dataclass(slots=True)
class AgentSpec:
    """An agent: its service, models, tools, workflows (weighted) and instrumentation habits.

    ``ok_status`` is the status its instrumentation writes on success (1 OK, or 0 UNSET);
    ``fake_tools`` are plausible tool names the model sometimes hallucinates.
    """

    name: str
    service: str
    domain: str
    models: tuple[str, ...]
    tools: dict[str, ToolSpec]
    workflows: tuple[tuple[float, Workflow], ...]
    fake_tools: tuple[str, ...]
    system_tokens: int = 900
    ok_status: int = 1
    max_turns: int = 12
    definitions_genai: str = field(init=False, default="")
    definitions_oi: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        defs = [t.definition() for t in self.tools.values()]
        self.definitions_genai = orjson.dumps(defs).decode()
        self.definitions_oi = tuple(
            orjson.dumps({"type": "function", "function": {k: v for k, v in d.items() if k != "type"}}).decode()
            for d in defs
        )


# --- JSON Schema helpers ---------------------------------------------------------------------------


def obj(required: list[str], **props: dict[str, Any]) -> dict[str, Any]:
    """An object schema without additional properties."""
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


def string(desc: str, **kw: Any) -> dict[str, Any]:
    return {"type": "string", "description": desc, **kw}


def pattern(desc: str, regex: str, **kw: Any) -> dict[str, Any]:
    return {"type": "string", "description": desc, "pattern": regex, **kw}


def date(desc: str) -> dict[str, Any]:
    return {"type": "string", "format": "date", "pattern": DATE_PATTERN, "description": desc}


def email(desc: str) -> dict[str, Any]:
    return {"type": "string", "format": "email", "pattern": EMAIL_PATTERN, "description": desc}


def integer(desc: str, lo: int | None = None, hi: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "integer", "description": desc}
    if lo is not None:
        out["minimum"] = lo
    if hi is not None:
        out["maximum"] = hi
    return out


def number(desc: str, lo: float | None = None, hi: float | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "number", "description": desc}
    if lo is not None:
        out["minimum"] = lo
    if hi is not None:
        out["maximum"] = hi
    return out


def enum(desc: str, *values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values), "description": desc}


def boolean(desc: str) -> dict[str, Any]:
    return {"type": "boolean", "description": desc}


def array(desc: str, items: dict[str, Any], lo: int | None = None, hi: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "array", "description": desc, "items": items}
    if lo is not None:
        out["minItems"] = lo
    if hi is not None:
        out["maxItems"] = hi
    return out
