"""The evidence of a ``duplicate_call`` signal: a repeated group of identical calls, or a write repeated with
reworded free text (``reworded``); keys of the reworded case only are optional."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DuplicateCallEvidence(BaseModel):
    """``duplicate_call`` evidence (validated, never rewritten: the signal keeps the detector's dict)."""

    model_config = ConfigDict(extra="forbid")

    tool: str = Field(description="the repeated tool")
    calls: int = Field(description="calls from the first successful one on")
    span_ids: list[str] = Field(description="the reference call (unless inside a loop) and its repeats")
    reference_span_id: str = Field(description="the first successful call, which did the work")
    failed_before_span_ids: list[str] = Field(description="failed calls of the group before the reference")
    is_write: bool = Field(description="the tool writes (acted again each time)")
    first_result_excerpt: str = Field(description="the reference call's result (cut)")
    arguments: str = Field(description="the reference call's canonical arguments (cut)")
    second_arguments: str | None = Field(None, description="reworded writes: the second call's arguments (cut)")
    adjacent: bool = Field(description="two of the calls came back to back")
    exact_arguments: bool = Field(description="the arguments were spelled alike")
    reworded: bool | None = Field(None, description="reworded writes: always true")
    argument_similarity: float | None = Field(None, description="reworded writes: free-text similarity")
    steps: list[int] = Field(description="step index of each cited call")
    same_result: bool = Field(description="every call returned the same result")
    fix_mechanism: str = Field(description="write_repeat or read_repeat")
