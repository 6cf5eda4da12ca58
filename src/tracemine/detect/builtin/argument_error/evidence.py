"""The evidence of an ``argument_error`` signal: a call whose arguments a schema, the tool or the agent's own
correction showed wrong, or a call of an undeclared tool; keys of one mechanism only are optional."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ArgumentConstraint(BaseModel):
    """The constraint the call broke (it keys findings)."""

    model_config = ConfigDict(extra="forbid")

    tool: str = Field(description="the tool")
    field: str = Field(description="the argument's path, e.g. items[].sku")
    keyword: str | None = Field(description="the schema keyword, or reported / corrected")


class ArgumentErrorEvidence(BaseModel):
    """``argument_error`` evidence (validated, never rewritten: the signal keeps the detector's dict)."""

    model_config = ConfigDict(extra="forbid")

    mechanism: str = Field(description="the first mechanism (schema_violation, unknown_tool, …)")
    mechanisms: list[str] = Field(description="every mechanism found, in the detector's order")
    tool: str = Field(description="the tool called")
    arguments: str = Field(description="the arguments as compact text (cut)")
    schema_source: str | None = Field(description="declared, config or inferred (None: no schema)")
    write: bool = Field(description="the tool writes")
    span_ids: list[str] = Field(description="the call")
    violations: list[dict[str, Any]] | None = Field(None, description="schema violations: path, field, validator, "
                                                    "keyword, expected, value, message…")
    constraint: ArgumentConstraint | None = Field(None, description="the broken constraint, when one is named")
    reason: str | None = Field(None, description="the rejection's text (cut)")
    changed_fields: list[str] | None = Field(None, description="corrections: the fields the agent changed")
    fix_mechanism: str = Field(description="rejected or the mechanism")
    failed: bool = Field(description="the call failed")
    accepted: bool = Field(description="the tool took the bad arguments without complaint")
    recovered: bool = Field(description="a later call corrected it")
    corrected_span_id: str | None = Field(None, description="recovered: the correcting call")
    attempts: int | None = Field(None, description="recovered: calls of the tool until the correction")
    wasted_ms: float | None = Field(None, description="recovered: milliseconds spent until it")
    wasted_tokens: int | None = Field(None, description="recovered: LLM tokens spent until it")
    closest_tool: str | None = Field(None, description="unknown tools: the closest declared name")
    declared_tools: list[str] | None = Field(None, description="unknown tools: the declared tools (first 50)")
